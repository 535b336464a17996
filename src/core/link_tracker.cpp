#include "core/link_tracker.hpp"

#include <algorithm>

namespace ndproxy {
namespace {

// Returns true when `link` changed in a way that invalidates what the daemon derived from it.
bool follow(TrackedLink& link, const LinkUpdate& update, bool& vanished) {
    vanished = false;
    const bool names_match = update.name == link.name;
    if (link.ifindex == update.ifindex && link.present()) {
        if (update.deleted || !names_match) {
            // Deleted, or renamed away from the configured name: for us it is gone.
            link = TrackedLink{link.name};
            vanished = true;
            return true;
        }
        const bool changed = link.up != update.up || link.lladdr != update.lladdr;
        link.up = update.up;
        link.lladdr = update.lladdr;
        return changed;
    }
    if (names_match && !update.deleted) {
        // Created, or renamed to the configured name, or recreated with a new index.
        vanished = link.present();
        link.ifindex = update.ifindex;
        link.up = update.up;
        link.lladdr = update.lladdr;
        return true;
    }
    return false;
}

}  // namespace

LinkTracker::LinkTracker(std::string external, const std::vector<std::string>& internal)
    : external_{std::move(external)} {
    for (const std::string& name : internal) {
        internal_.push_back(TrackedLink{name});
    }
}

LinkTracker::Change LinkTracker::apply(const LinkUpdate& update) {
    Change change;
    bool vanished = false;
    change.relevant = follow(external_, update, vanished);
    for (TrackedLink& link : internal_) {
        const int before = link.ifindex;
        if (follow(link, update, vanished)) {
            change.relevant = true;
            if (vanished) {
                change.internal_gone.push_back(before);
            }
        }
    }
    return change;
}

LinkTracker::Change LinkTracker::rebuild(const std::vector<LinkUpdate>& links) {
    Change change;
    auto refresh = [&](TrackedLink& link, bool internal) {
        const TrackedLink before = link;
        auto found = std::find_if(links.begin(), links.end(),
                                  [&](const LinkUpdate& l) { return l.name == link.name; });
        link = TrackedLink{link.name};
        if (found != links.end()) {
            link.ifindex = found->ifindex;
            link.up = found->up;
            link.lladdr = found->lladdr;
        }
        if (before.ifindex != link.ifindex || before.up != link.up ||
            before.lladdr != link.lladdr) {
            change.relevant = true;
        }
        if (internal && before.present() && before.ifindex != link.ifindex) {
            change.internal_gone.push_back(before.ifindex);
        }
    };
    refresh(external_, false);
    for (TrackedLink& link : internal_) {
        refresh(link, true);
    }
    return change;
}

bool LinkTracker::is_internal(int ifindex) const {
    return internal_by_index(ifindex) != nullptr;
}

const TrackedLink* LinkTracker::internal_by_index(int ifindex) const {
    if (ifindex <= 0) {
        return nullptr;
    }
    auto found = std::find_if(internal_.begin(), internal_.end(),
                              [&](const TrackedLink& link) { return link.ifindex == ifindex; });
    return found == internal_.end() ? nullptr : &*found;
}

}  // namespace ndproxy
