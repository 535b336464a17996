// SPDX-License-Identifier: GPL-2.0-only
// The responder's socket filter (docs/design.md §Fast path): passes the Neighbor Solicitations
// arriving on the uplink, as the classic filter in linux/frame_socket.cpp does, except those
// the daemon would read only to drop: a target the kernel answers (a proxy entry of ours), or
// one outside every prefix. Those it counts and drops before the copy to userspace.
//
// The invariant: nothing is dropped here that userspace would answer or count otherwise. So
// only a solicitation that codec/frame_codec.cpp would accept is decided here (RFC 4861
// §7.1.1, checksum included), in the order core/responder_policy.cpp decides: the host's own
// address, then the scope, then the kernel's entries. Anything else goes up unchanged.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fast_path.h"
#include "nd_frame.h"
#include "nd_maps.h"

#define PASS 0xffff
#define DROP 0

// Set by the loader before attaching: the uplink's ifindex (0: nothing passes).
__u32 listen_ifindex = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, ND_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

static __always_inline int drop_counted(__u32 which) {
    __u64* count = bpf_map_lookup_elem(&counters, &which);
    if (count) {
        *count += 1;  // per CPU: no other writer
    }
    return DROP;
}

// Whether codec/frame_codec.cpp would turn the frame into a solicitation that is not DAD.
// Forms it accepts but that are rare here (extension options, DAD) are not decided: they pass.
static __always_inline int decided_here(struct __sk_buff* skb, struct frame* f) {
    if (skb->pkt_type != PACKET_HOST && skb->pkt_type != PACKET_MULTICAST &&
        skb->pkt_type != PACKET_BROADCAST) {
        return 0;
    }
    if (skb->len < FIXED_BYTES || bpf_skb_load_bytes(skb, 0, f, FIXED_BYTES) < 0) {
        return 0;
    }
    const int option_read =
        skb->len >= FRAME_BYTES && bpf_skb_load_bytes(skb, FIXED_BYTES, f->option, 8) == 0;
    return plain_solicitation(f, skb->len, option_read) != 0;
}

SEC("socket")
int solicitation_filter(struct __sk_buff* skb) {
    // What the classic filter does (linux/frame_socket.cpp): solicitations on the uplink only.
    __u8 type = 0;
    __u8 next_header = 0;
    if (listen_ifindex == 0 || skb->ifindex != listen_ifindex ||
        skb->protocol != bpf_htons(ETH_P_IPV6) ||
        bpf_skb_load_bytes(skb, ETH_HLEN + 6, &next_header, 1) < 0 ||
        next_header != IPPROTO_ICMPV6_NUMBER ||
        bpf_skb_load_bytes(skb, ETH_HLEN + 40, &type, 1) < 0 || type != 135) {
        return DROP;
    }
    struct frame f = {};
    if (!decided_here(skb, &f)) {
        return PASS;
    }
    struct nd_target_key key = {};
    __builtin_memcpy(key.address, f.target, 16);
    const __u8* kind = bpf_map_lookup_elem(&targets, &key);
    if (kind && *kind == ND_TARGET_OWN) {
        return PASS;  // the host answers; userspace counts it as own_address
    }
    if (!global_unicast(f.target)) {
        return drop_counted(ND_COUNT_OUT_OF_SCOPE);
    }
    struct nd_prefix_key prefix = {.prefixlen = 128};
    __builtin_memcpy(prefix.address, f.target, 16);
    struct nd_prefix_value* scope = bpf_map_lookup_elem(&prefixes, &prefix);
    if (!scope) {
        return drop_counted(ND_COUNT_OUT_OF_SCOPE);
    }
    if (kind && (*kind == ND_TARGET_KERNEL || *kind == ND_TARGET_FOREIGN)) {
        // ResponderService::last_solicitation: the router asked within the prefix.
        scope->last_seen_ns = bpf_ktime_get_ns();
        return drop_counted(ND_COUNT_KERNEL_ANSWERS);
    }
    return PASS;
}

char LICENSE[] SEC("license") = "GPL";
