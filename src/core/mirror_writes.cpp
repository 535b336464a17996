// The mirror service's side of the kernel's proxy table: reading it split by ownership, and
// writing it without ever touching an entry of the administrator's (docs/design.md §Ownership).

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "core/kernel_rows.hpp"
#include "core/log.hpp"
#include "core/mirror_service.hpp"

namespace ndproxy {
namespace {

// Up to this many proxy writes are checked one query each; more read the whole table once.
constexpr std::size_t kQueriesPerWrite = 64;

}  // namespace

ProxyTable MirrorService::read_proxy_table() {
    ProxyTable table;
    const int external = links_.external().ifindex;
    if (external == 0) {
        return table;
    }
    for (const ProxyEntry& entry : only<ProxyEntry>(kernel_.dump(KernelTable::proxies))) {
        if (entry.ifindex != external) {
            continue;
        }
        (entry.protocol == kOwnProtocol ? table.owned : table.foreign).push_back(entry.address);
        if (entry.protocol == kOwnProtocol && entry.router != settings_.router) {
            wrong_router_flag_.push_back(entry.address);
        }
    }
    return table;
}

// Our entries whose NTF_ROUTER disagrees with --router (a restart or reload that changed it):
// rewritten in place, so that the kernel's answers carry the R flag the responder's do.
void MirrorService::rewrite_router_flags() {
    std::vector<KernelPort::ProxyWrite> writes;
    for (const Ipv6Address& address : std::exchange(wrong_router_flag_, {})) {
        const auto found = policy_.entries().find(address);
        if (found != policy_.entries().end() && found->second.in_kernel) {
            writes.push_back({ProxyOp::add, address, settings_.router});
        }
    }
    const TrackedLink& external = links_.external();
    if (writes.empty() || !external.present()) {
        return;
    }
    log::info("{} {} proxy entries on {} with the router flag {}",
              settings_.dry_run ? "dry run: would rewrite" : "rewriting", writes.size(),
              external.name, settings_.router ? "set" : "clear");
    if (!settings_.dry_run) {
        // Not through only_ours(): the dump that found them ours was read this very turn, and
        // an add of an entry already ours is exactly the write it would skip.
        report_write_errors(external, writes, kernel_.write_proxies(external.ifindex, writes));
    }
}

void MirrorService::write_proxies(const std::vector<KernelPort::ProxyWrite>& writes) {
    if (writes.empty()) {
        return;
    }
    const TrackedLink& external = links_.external();
    for (const auto& write : writes) {
        log::info("{}{} proxy entry {} on {}", settings_.dry_run ? "dry run: would " : "",
                  write.op == ProxyOp::add ? "add" : "withdraw", write.address, external.name);
    }
    if (settings_.dry_run) {
        return;
    }
    if (!external.present()) {
        for (const auto& write : writes) {
            if (write.op == ProxyOp::add) {
                policy_.on_install_failed(write.address);
            }
        }
        return;
    }
    const std::vector<KernelPort::ProxyWrite> checked = only_ours(external, writes);
    const std::vector<int> results = kernel_.write_proxies(external.ifindex, checked);
    report_write_errors(external, checked, results);
}

std::vector<KernelPort::ProxyWrite> MirrorService::only_ours(
    const TrackedLink& external, const std::vector<KernelPort::ProxyWrite>& writes) {
    // docs/design.md §Ownership. The kernel overwrites an entry's protocol in place and deletes
    // proxy entries whatever their protocol, and it announces no proxy-table change: an entry
    // the administrator added since our last dump would be taken over or removed. So look first.
    // Many writes at once (a resync) read the whole table instead of asking one by one.
    std::unordered_map<Ipv6Address, std::uint8_t> table;
    const bool dumped = writes.size() > kQueriesPerWrite;
    if (dumped) {
        for (const ProxyEntry& entry : only<ProxyEntry>(kernel_.dump(KernelTable::proxies))) {
            if (entry.ifindex == external.ifindex) {
                table.emplace(entry.address, entry.protocol);
            }
        }
    }
    std::vector<KernelPort::ProxyWrite> checked;
    checked.reserve(writes.size());
    for (const auto& write : writes) {
        std::optional<std::uint8_t> protocol;
        if (dumped) {
            if (const auto found = table.find(write.address); found != table.end()) {
                protocol = found->second;
            }
        } else {
            protocol = kernel_.proxy_protocol(external.ifindex, write.address);
        }
        if (protocol && *protocol != kOwnProtocol) {
            log::info("left alone: the proxy entry for {} on {} is the administrator's",
                      write.address, external.name);
            if (write.op == ProxyOp::add) {
                policy_.on_foreign_proxy(write.address);
            }
            continue;
        }
        // Nothing to remove, or already ours: no write needed.
        if ((write.op == ProxyOp::remove && !protocol) || (write.op == ProxyOp::add && protocol)) {
            continue;
        }
        checked.push_back(write);
    }
    return checked;
}

void MirrorService::report_write_errors(const TrackedLink& external,
                                        const std::vector<KernelPort::ProxyWrite>& writes,
                                        const std::vector<int>& results) {
    for (std::size_t i = 0; i < writes.size(); ++i) {
        const int error = results[i];
        if (error == 0 || (writes[i].op == ProxyOp::remove && error == ENOENT)) {
            continue;
        }
        ++counters_.kernel_errors;
        log::warn("cannot {} proxy entry {} on {}: {}",
                  writes[i].op == ProxyOp::add ? "add" : "withdraw", writes[i].address,
                  external.name, std::strerror(error));
        if (writes[i].op == ProxyOp::add) {
            policy_.on_install_failed(writes[i].address);
        }
    }
}

}  // namespace ndproxy
