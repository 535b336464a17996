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

#include "solicitation_filter.h"

#define PASS 0xffff
#define DROP 0

// Set by the loader before attaching: the uplink's ifindex (0: nothing passes).
__u32 listen_ifindex = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);  // the loader sizes it (--kernel-entries and the host's addresses)
    __uint(map_flags, BPF_F_NO_PREALLOC);  // filled from userspace only: allocate as it grows
    __type(key, struct nd_target_key);
    __type(value, __u8);  // enum nd_target_kind
} targets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, ND_MAX_PREFIXES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct nd_prefix_key);
    __type(value, struct nd_prefix_value);
} prefixes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, ND_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

// Ethernet, IPv6 and the fixed part of the solicitation, with room for one 8-octet option.
struct frame {
    __u8 ether_destination[6];
    __u8 ether_source[6];
    __be16 ethertype;
    __u8 version_class[4];
    __be16 payload_length;
    __u8 next_header;
    __u8 hop_limit;
    __u8 source[16];
    __u8 destination[16];
    __u8 type;
    __u8 code;
    __be16 checksum;
    __u8 reserved[4];
    __u8 target[16];
    __u8 option[8];
} __attribute__((packed));

#define FIXED_BYTES 78  // up to the end of the target
#define NS_BYTES 24

static __always_inline int drop_counted(__u32 which) {
    __u64* count = bpf_map_lookup_elem(&counters, &which);
    if (count) {
        *count += 1;  // per CPU: no other writer
    }
    return DROP;
}

static __always_inline int all_zero_but_last(const __u8* bytes) {
    __u8 any = 0;
#pragma unroll
    for (int i = 0; i < 15; ++i) {
        any |= bytes[i];
    }
    return any == 0;
}

// RFC 4291 §2.4, as Ipv6Address::is_global_unicast.
static __always_inline int global_unicast(const __u8* a) {
    if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)) {
        return 0;
    }
    return !(all_zero_but_last(a) && (a[15] == 0 || a[15] == 1));
}

static __always_inline __u32 add_words(__u32 sum, const __u8* bytes, int count) {
#pragma unroll
    for (int i = 0; i < count; i += 2) {
        sum += ((__u32)bytes[i] << 8) | bytes[i + 1];
    }
    return sum;
}

// RFC 4443 §2.3: the checksum over the pseudo-header and the message folds to 0xffff.
static __always_inline int checksum_ok(const struct frame* f, __u16 length) {
    __u32 sum = add_words(0, f->source, 32);
    sum += length + IPPROTO_ICMPV6_NUMBER;
    sum = add_words(sum, &f->type, NS_BYTES);  // type up to the end of the target
    if (length > NS_BYTES) {
        sum = add_words(sum, f->option, 8);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

// Whether codec/frame_codec.cpp would turn the frame into a solicitation that is not DAD.
// Forms it accepts but that are rare here (extension options, DAD) are not decided: they pass.
static __always_inline int plain_solicitation(struct __sk_buff* skb, struct frame* f) {
    if (skb->pkt_type != PACKET_HOST && skb->pkt_type != PACKET_MULTICAST &&
        skb->pkt_type != PACKET_BROADCAST) {
        return 0;
    }
    if (skb->len < FIXED_BYTES || bpf_skb_load_bytes(skb, 0, f, FIXED_BYTES) < 0) {
        return 0;
    }
    const __u16 length = bpf_ntohs(f->payload_length);
    if ((f->ether_source[0] & 0x01) || (f->version_class[0] >> 4) != 6 ||
        ETH_HLEN + 40 + length > skb->len) {
        return 0;
    }
    if (length == NS_BYTES + 8) {
        if (bpf_skb_load_bytes(skb, FIXED_BYTES, f->option, 8) < 0 || f->option[0] != 1 ||
            f->option[1] != 1) {
            return 0;
        }
    } else if (length != NS_BYTES) {
        return 0;
    }
    if (f->source[0] == 0xff || f->target[0] == 0xff || f->hop_limit != 255 || f->code != 0) {
        return 0;
    }
    if (all_zero_but_last(f->source) && f->source[15] == 0) {
        return 0;  // DAD: the destination checks are userspace's
    }
    return checksum_ok(f, length);
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
    if (!plain_solicitation(skb, &f)) {
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
    if (kind && *kind == ND_TARGET_KERNEL) {
        // ResponderService::last_solicitation: the router asked within the prefix.
        scope->last_seen_ns = bpf_ktime_get_ns();
        return drop_counted(ND_COUNT_KERNEL_ANSWERS);
    }
    return PASS;
}

char LICENSE[] SEC("license") = "GPL";
