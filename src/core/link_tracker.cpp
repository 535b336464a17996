#include "core/link_tracker.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace ndproxy {
namespace {

void take_state(TrackedLink& link, const LinkUpdate& update) {
    link.up = update.up;
    link.lladdr = update.lladdr;
    link.without_discovery = update.without_discovery;
}

bool same_state(const TrackedLink& a, const TrackedLink& b) {
    return a.up == b.up && a.lladdr == b.lladdr && a.without_discovery == b.without_discovery;
}

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
        const TrackedLink before = link;
        take_state(link, update);
        return !same_state(before, link);
    }
    if (names_match && !update.deleted) {
        // Created, or renamed to the configured name, or recreated with a new index.
        vanished = link.present();
        link.ifindex = update.ifindex;
        take_state(link, update);
        return true;
    }
    return false;
}

TrackedLink member(const LinkUpdate& update, const std::string& pattern) {
    TrackedLink link{update.name};
    link.pattern = pattern;
    link.ifindex = update.ifindex;
    take_state(link, update);
    return link;
}

}  // namespace

bool is_interface_pattern(std::string_view name) {
    return name.find_first_of("*?[") != std::string_view::npos;
}

bool interface_matches(const std::string& item, const std::string& name) {
    return item == name ||
           (is_interface_pattern(item) && fnmatch(item.c_str(), name.c_str(), 0) == 0);
}

LinkTracker::LinkTracker(std::string external, const std::vector<std::string>& internal)
    : external_{std::move(external)} {
    for (const std::string& name : internal) {
        if (is_interface_pattern(name)) {
            patterns_.push_back(name);
        } else {
            internal_.push_back(TrackedLink{name});
        }
    }
    named_ = internal_.size();
}

const std::string* LinkTracker::matching_pattern(const std::string& name) const {
    if (name == external_.name) {
        return nullptr;
    }
    for (std::size_t i = 0; i < named_; ++i) {
        if (internal_[i].name == name) {
            return nullptr;
        }
    }
    auto found = std::find_if(patterns_.begin(), patterns_.end(), [&](const std::string& pattern) {
        return interface_matches(pattern, name);
    });
    return found == patterns_.end() ? nullptr : &*found;
}

void LinkTracker::follow_members(const LinkUpdate& update, Change& change) {
    const std::string* pattern = update.deleted ? nullptr : matching_pattern(update.name);
    auto found =
        std::find_if(internal_.begin() + static_cast<std::ptrdiff_t>(named_), internal_.end(),
                     [&](const TrackedLink& link) { return link.ifindex == update.ifindex; });
    if (found == internal_.end()) {
        if (pattern != nullptr) {
            internal_.push_back(member(update, *pattern));
            change.relevant = true;
        }
        return;
    }
    if (pattern == nullptr) {
        // Deleted, or renamed to a name no pattern matches: it leaves.
        change.internal_gone.push_back(found->ifindex);
        internal_.erase(found);
        change.relevant = true;
        return;
    }
    const TrackedLink updated = member(update, *pattern);
    if (updated.name != found->name || !same_state(updated, *found)) {
        change.relevant = true;
    }
    *found = updated;
}

LinkTracker::Change LinkTracker::apply(const LinkUpdate& update) {
    Change change;
    bool vanished = false;
    change.relevant = follow(external_, update, vanished);
    for (std::size_t i = 0; i < named_; ++i) {
        TrackedLink& link = internal_[i];
        const int before = link.ifindex;
        if (follow(link, update, vanished)) {
            change.relevant = true;
            if (vanished) {
                change.internal_gone.push_back(before);
            }
        }
    }
    if (!patterns_.empty()) {
        follow_members(update, change);
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
            take_state(link, *found);
        }
        if (before.ifindex != link.ifindex || !same_state(before, link)) {
            change.relevant = true;
        }
        if (internal && before.present() && before.ifindex != link.ifindex) {
            change.internal_gone.push_back(before.ifindex);
        }
    };
    refresh(external_, false);
    for (std::size_t i = 0; i < named_; ++i) {
        refresh(internal_[i], true);
    }
    // The pattern's members are what the dump shows, in its order; those no longer there leave.
    std::vector<TrackedLink> members;
    for (const LinkUpdate& update : links) {
        if (const std::string* pattern = matching_pattern(update.name)) {
            members.push_back(member(update, *pattern));
        }
    }
    for (auto it = internal_.begin() + static_cast<std::ptrdiff_t>(named_); it != internal_.end();
         ++it) {
        auto now = std::find_if(members.begin(), members.end(), [&](const TrackedLink& link) {
            return link.ifindex == it->ifindex;
        });
        if (now == members.end()) {
            change.internal_gone.push_back(it->ifindex);
            change.relevant = true;
        } else if (now->name != it->name || !same_state(*now, *it)) {
            change.relevant = true;
        }
    }
    for (const TrackedLink& link : members) {
        const bool known =
            std::any_of(internal_.begin() + static_cast<std::ptrdiff_t>(named_), internal_.end(),
                        [&](const TrackedLink& old) { return old.ifindex == link.ifindex; });
        change.relevant = change.relevant || !known;
    }
    internal_.resize(named_);
    internal_.insert(internal_.end(), members.begin(), members.end());
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
