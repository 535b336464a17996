#include "linux/solicitation_filter.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>

#include "core/log.hpp"
#include "fast_path.h"
#include "linux/bpf_maps.hpp"
#include "solicitation_filter.skel.h"

namespace ndproxy {
namespace {

// libbpf's own messages (the verifier's log among them) go to the debug log, not stderr.
int log_libbpf(libbpf_print_level level, const char* format, va_list arguments) {
    if (level == LIBBPF_DEBUG) {
        return 0;
    }
    std::array<char, 512> line{};
    const int length = std::vsnprintf(line.data(), line.size(), format, arguments);
    std::string_view text(line.data(), std::clamp(length, 0, int(line.size()) - 1));
    while (!text.empty() && text.back() == '\n') {
        text.remove_suffix(1);
    }
    log::debug("libbpf: {}", text);
    return length;
}

}  // namespace

SolicitationFilter::SolicitationFilter(std::size_t max_targets) : max_targets_(max_targets) {
    libbpf_set_print(log_libbpf);
    skeleton_ = solicitation_filter__open();
    if (skeleton_ == nullptr) {
        throw std::system_error(errno, std::generic_category(), "opening the BPF object");
    }
    bpf_map__set_max_entries(skeleton_->maps.targets,
                             static_cast<std::uint32_t>(std::max<std::size_t>(max_targets, 1)));
    if (const int error = solicitation_filter__load(skeleton_); error != 0) {
        solicitation_filter__destroy(skeleton_);
        throw std::system_error(-error, std::generic_category(), "loading the BPF socket filter");
    }
}

SolicitationFilter::~SolicitationFilter() {
    responder_.reset();  // it holds the maps too
    solicitation_filter__destroy(skeleton_);
}

void SolicitationFilter::enable_answers(XdpResponder::Attach attach) {
    responder_ = std::make_unique<XdpResponder>(bpf_map__fd(skeleton_->maps.targets),
                                                bpf_map__fd(skeleton_->maps.prefixes), attach);
}

int SolicitationFilter::program_fd() const {
    return bpf_program__fd(skeleton_->progs.solicitation_filter);
}

void SolicitationFilter::set_ifindex(int ifindex) {
    skeleton_->bss->listen_ifindex = static_cast<std::uint32_t>(ifindex);
    if (responder_) {
        responder_->attach(ifindex);
    }
}

bool SolicitationFilter::set_scope(const std::vector<Ipv6Prefix>& prefixes) {
    const int fd = bpf_map__fd(skeleton_->maps.prefixes);
    // New prefixes first: until the old go, the filter passes more, never less.
    for (const Ipv6Prefix& prefix : prefixes) {
        const nd_prefix_key key = bpf_maps::prefix_key(prefix);
        const nd_prefix_value value{};
        if (bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST) < 0 && errno != EEXIST) {
            log::error("fast path: cannot add prefix {}: {}", prefix.to_string(),
                       std::strerror(errno));
            return false;
        }
    }
    for (const Ipv6Prefix& old : scope_) {
        if (std::find(prefixes.begin(), prefixes.end(), old) == prefixes.end()) {
            const nd_prefix_key key = bpf_maps::prefix_key(old);
            bpf_map_delete_elem(fd, &key);
        }
    }
    scope_ = prefixes;
    return true;
}

bool SolicitationFilter::write(const Ipv6Address& address, FilterTarget target) {
    if (target != FilterTarget::answer) {
        answered_.erase(address);
    }
    switch (target) {
        case FilterTarget::own:
            return write_kind(address, target, ND_TARGET_OWN);
        case FilterTarget::kernel:
            return write_kind(address, target, ND_TARGET_KERNEL);
        case FilterTarget::foreign:
            return write_kind(address, target, ND_TARGET_FOREIGN);
        case FilterTarget::answer:
            // The filter passes these as it passes unknown targets: only the XDP responder
            // needs them.
            if (responder_) {
                return write_kind(address, target,
                                  answered_.contains(address) ? ND_TARGET_ANSWER : ND_TARGET_HELD);
            }
            [[fallthrough]];
        case FilterTarget::none:
            break;
    }
    const int fd = bpf_map__fd(skeleton_->maps.targets);
    const nd_target_key key = bpf_maps::target_key(address);
    // Before Linux 6.5, with kernel.unprivileged_bpf_disabled set (Debian 12's default), even
    // writes through the map's fd take CAP_BPF, which --user has dropped by now.
    if (bpf_map_delete_elem(fd, &key) < 0 && errno != ENOENT) {
        log::error("fast path: cannot take {} out of the filter: {}", address,
                   std::strerror(errno));
        return false;
    }
    held_.erase(address);
    return true;
}

bool SolicitationFilter::write_kind(const Ipv6Address& address, FilterTarget target,
                                    std::uint8_t kind) {
    const nd_target_key key = bpf_maps::target_key(address);
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.targets), &key, &kind, BPF_ANY) < 0) {
        // Missing, a kernel-held address is read and dropped by the responder as before; an
        // own address may be counted out_of_scope rather than own_address; a responder-held
        // one is answered by the responder's socket. Never unanswered.
        if (!full_logged_) {
            log::warn("fast path: cannot add {} to the filter ({} held): {}", address, held_.size(),
                      std::strerror(errno));
            full_logged_ = true;
        }
        held_.erase(address);
        return true;
    }
    held_[address] = target;
    return true;
}

bool SolicitationFilter::note_answered(const Ipv6Address& target) {
    const auto held = held_.find(target);
    if (!responder_ || held == held_.end() || held->second != FilterTarget::answer ||
        !answered_.insert(target).second) {
        return true;
    }
    return write_kind(target, FilterTarget::answer, ND_TARGET_ANSWER);
}

void SolicitationFilter::set_answers(const FastAnswerSettings& settings) {
    if (responder_) {
        responder_->set_answers(settings);
    }
}

void SolicitationFilter::set_uplink(const MacAddress& mac,
                                    const std::optional<Ipv6Address>& link_local) {
    if (responder_) {
        responder_->set_uplink(mac, link_local);
    }
}

bool SolicitationFilter::set_blocks(const std::vector<Ipv6Prefix>& blocks) {
    return !responder_ || responder_->set_routed_blocks(blocks);
}

FastAnswerCounts SolicitationFilter::answer_counts() const {
    return responder_ ? responder_->counts() : FastAnswerCounts{};
}

bool SolicitationFilter::set_targets(const FilterTargets& targets, bool replace) {
    if (replace) {
        std::unordered_map<Ipv6Address, FilterTarget> wanted(targets.begin(), targets.end());
        std::vector<Ipv6Address> stale;
        for (const auto& [address, target] : held_) {
            if (!wanted.contains(address)) {
                stale.push_back(address);
            }
        }
        for (const Ipv6Address& address : stale) {
            if (!write(address, FilterTarget::none)) {
                return false;
            }
        }
    }
    for (const auto& [address, wanted] : targets) {
        // Without the XDP responder nothing reads a responder-held address.
        const FilterTarget target =
            wanted == FilterTarget::answer && !responder_ ? FilterTarget::none : wanted;
        const auto held = held_.find(address);
        const bool changed =
            held == held_.end() ? target != FilterTarget::none : held->second != target;
        if (changed && !write(address, target)) {
            return false;
        }
    }
    return true;
}

FilterCounts SolicitationFilter::counts() const {
    const bpf_map* map = skeleton_->maps.counters;
    return {bpf_maps::per_cpu_total(map, ND_COUNT_KERNEL_ANSWERS),
            bpf_maps::per_cpu_total(map, ND_COUNT_OUT_OF_SCOPE)};
}

std::optional<TimePoint> SolicitationFilter::last_seen(const Ipv6Prefix& prefix) const {
    const nd_prefix_key key = bpf_maps::prefix_key(prefix);
    nd_prefix_value value{};
    // An exact match: a lookup in an LPM trie finds the longest prefix containing the key's.
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.prefixes), &key, &value) < 0 ||
        value.last_seen_ns == 0 ||
        std::find(scope_.begin(), scope_.end(), prefix) == scope_.end()) {
        return std::nullopt;
    }
    // bpf_ktime_get_ns() and steady_clock both read CLOCK_MONOTONIC.
    return TimePoint(
        std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(value.last_seen_ns)));
}

long SolicitationFilter::verdict(std::span<const std::uint8_t> frame) const {
    if (frame.size() < ETH_HLEN) {
        return -1;
    }
    // A packet socket's filter sees the frame from its Ethernet header, but the test run pulls
    // one Ethernet header before the program runs: it gets the frame's twice.
    std::vector<std::uint8_t> data(frame.begin(), frame.begin() + ETH_HLEN);
    data.insert(data.end(), frame.begin(), frame.end());
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = data.data(),
                .data_size_in = static_cast<std::uint32_t>(data.size()));
    if (bpf_prog_test_run_opts(program_fd(), &run) < 0) {
        return -1;
    }
    return static_cast<long>(run.retval);
}

}  // namespace ndproxy
