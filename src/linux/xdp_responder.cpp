#include "linux/xdp_responder.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.hpp"
#include "fast_path.h"
#include "linux/bpf_maps.hpp"
#include "ns_responder.skel.h"

namespace ndproxy {

XdpResponder::XdpResponder(int targets_fd, int prefixes_fd, Attach attach) : attach_(attach) {
    skeleton_ = ns_responder__open();
    if (skeleton_ == nullptr) {
        throw std::system_error(errno, std::generic_category(), "opening the XDP object");
    }
    int error = bpf_map__reuse_fd(skeleton_->maps.targets, targets_fd);
    if (error == 0) {
        error = bpf_map__reuse_fd(skeleton_->maps.prefixes, prefixes_fd);
    }
    if (error == 0) {
        error = ns_responder__load(skeleton_);
    }
    if (error != 0) {
        ns_responder__destroy(skeleton_);
        throw std::system_error(-error, std::generic_category(), "loading the XDP responder");
    }
}

XdpResponder::~XdpResponder() {
    link_.reset();  // detached before the program goes
    ns_responder__destroy(skeleton_);
}

int XdpResponder::program_fd() const {
    return bpf_program__fd(skeleton_->progs.ns_responder);
}

bool XdpResponder::attach(int ifindex) {
    if (ifindex == ifindex_ && (ifindex == 0 || link_)) {
        return true;
    }
    link_.reset();
    ifindex_ = ifindex;
    if (ifindex == 0) {
        return true;
    }
    // A BPF link rather than the netlink attachment: it goes with the last fd to it, so a
    // crashed daemon leaves no program answering for addresses nobody keeps (docs/design.md
    // §Fast path).
    LIBBPF_OPTS(bpf_link_create_opts, options);
    options.flags = attach_ == Attach::generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    const int fd = bpf_link_create(program_fd(), ifindex, BPF_XDP, &options);
    if (fd < 0) {
        log::warn(
            "fast path: cannot attach the XDP responder to interface {}: {} (the "
            "responder's socket answers)",
            ifindex, std::strerror(errno));
        return false;
    }
    link_ = UniqueFd(fd);
    return true;
}

void XdpResponder::set_answers(const FastAnswerSettings& settings) {
    settings_ = settings;
    publish();
}

void XdpResponder::set_uplink(const MacAddress& mac, const std::optional<Ipv6Address>& link_local) {
    nd_answer_config& config = skeleton_->bss->answer_config;
    std::copy(mac.bytes.begin(), mac.bytes.end(), config.mac);
    std::fill(std::begin(config.link_local), std::end(config.link_local), 0);
    if (link_local) {
        std::copy(link_local->bytes.begin(), link_local->bytes.end(), config.link_local);
    }
    uplink_known_ = true;
    publish();
}

void XdpResponder::publish() {
    nd_answer_config& config = skeleton_->bss->answer_config;
    config.per_source = settings_.per_source;
    config.total = settings_.total;
    config.hash_key = settings_.hash_key;
    unsigned flags = 0;
    flags |= settings_.answer_all ? ND_ANSWER_ALL : 0;
    flags |= settings_.router ? ND_ANSWER_ROUTER : 0;
    flags |= settings_.from_target ? ND_ANSWER_FROM_TARGET : 0;
    // Without the uplink's MAC an answer could not name it: nothing is answered until then.
    flags |= uplink_known_ ? ND_ANSWER_ENABLED : 0;
    config.flags = static_cast<std::uint8_t>(flags);
}

bool XdpResponder::set_routed_blocks(const std::vector<Ipv6Prefix>& blocks) {
    const int fd = bpf_map__fd(skeleton_->maps.routed);
    bool complete = true;
    // The new first: a block that stays is answered throughout.
    for (const Ipv6Prefix& block : blocks) {
        const nd_prefix_key key = bpf_maps::prefix_key(block);
        const std::uint8_t present = 1;
        if (bpf_map_update_elem(fd, &key, &present, BPF_ANY) < 0) {
            complete = false;
        }
    }
    for (const Ipv6Prefix& old : blocks_) {
        if (std::find(blocks.begin(), blocks.end(), old) == blocks.end()) {
            const nd_prefix_key key = bpf_maps::prefix_key(old);
            if (bpf_map_delete_elem(fd, &key) < 0 && errno != ENOENT) {
                log::error("fast path: cannot take block {} out of the XDP responder: {}",
                           old.to_string(), std::strerror(errno));
                return false;
            }
        }
    }
    blocks_ = blocks;
    if (!complete) {
        log::warn(
            "fast path: not every routed block fits the XDP responder; the responder's "
            "socket answers the rest");
    }
    return true;
}

FastAnswerCounts XdpResponder::counts() const {
    bpf_map* map = skeleton_->maps.answer_counters;
    return {bpf_maps::per_cpu_total(map, ND_ANSWER_ANSWERED),
            bpf_maps::per_cpu_total(map, ND_ANSWER_RATE_LIMITED),
            bpf_maps::per_cpu_total(map, ND_ANSWER_TOTAL_RATE_LIMITED)};
}

long XdpResponder::run(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out,
                       int repeat, std::uint32_t* nanoseconds) const {
    std::vector<std::uint8_t> in(frame.begin(), frame.end());
    out.assign(frame.size() + 256, 0);
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = in.data(), .data_out = out.data(),
                .data_size_in = static_cast<std::uint32_t>(in.size()),
                .data_size_out = static_cast<std::uint32_t>(out.size()), .repeat = repeat);
    if (bpf_prog_test_run_opts(program_fd(), &run) < 0) {
        return -1;
    }
    if (nanoseconds != nullptr) {
        *nanoseconds = run.duration;
    }
    out.resize(run.data_size_out);
    return static_cast<long>(run.retval);
}

}  // namespace ndproxy
