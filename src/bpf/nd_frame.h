// SPDX-License-Identifier: GPL-2.0-only
// The solicitation checks both fast-path programs make, on a copy of the frame's first bytes:
// exactly those of codec/frame_codec.cpp (RFC 4861 §7.1.1), for the one form the programs
// decide: a solicitation that is not DAD, with no option or one source link-layer option.
// Every other form is left to userspace.
#pragma once

#include <linux/types.h>

#include <bpf/bpf_endian.h>

#include "fast_path.h"

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
    __u8 flags[4];  // reserved in a solicitation
    __u8 target[16];
    __u8 option[8];
} __attribute__((packed));

#define ETHER_BYTES 14
#define FIXED_BYTES 78  // up to the end of the target
#define FRAME_BYTES 86  // with one option
#define NS_BYTES 24
#define TYPE_SOLICITATION 135
#define TYPE_ADVERTISEMENT 136

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

// RFC 4443 §2.3: the one's complement sum of the pseudo-header and the message, folded.
static __always_inline __u16 icmp_sum(const struct frame* f, __u16 length) {
    __u32 sum = add_words(0, f->source, 32);
    sum += length + IPPROTO_ICMPV6_NUMBER;
    sum = add_words(sum, &f->type, NS_BYTES);  // type up to the end of the target
    if (length > NS_BYTES) {
        sum = add_words(sum, f->option, 8);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)sum;
}

// The ICMPv6 length of a solicitation the programs decide (24 or 32), or 0: leave it to
// userspace. `f` holds the frame's first FIXED_BYTES, and its option if the caller could read
// FRAME_BYTES; `frame_length` is the frame's.
static __always_inline __u16 plain_solicitation(const struct frame* f, __u32 frame_length,
                                                int option_read) {
    const __u16 length = bpf_ntohs(f->payload_length);
    if (f->ethertype != bpf_htons(0x86dd) || f->next_header != IPPROTO_ICMPV6_NUMBER ||
        f->type != TYPE_SOLICITATION) {
        return 0;
    }
    if ((f->ether_source[0] & 0x01) || (f->version_class[0] >> 4) != 6 ||
        ETHER_BYTES + 40 + (__u32)length > frame_length) {
        return 0;
    }
    if (length == NS_BYTES + 8) {
        if (!option_read || f->option[0] != 1 || f->option[1] != 1) {
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
    return icmp_sum(f, length) == 0xffff ? length : 0;
}
