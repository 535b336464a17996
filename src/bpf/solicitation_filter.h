// The maps shared by the socket filter (solicitation_filter.bpf.c) and its loader
// (linux/solicitation_filter.cpp). Plain C: both compilers read it.
#pragma once

#include <linux/types.h>

#define IPPROTO_ICMPV6_NUMBER 58
#define ND_MAX_PREFIXES 256

enum nd_target_kind {
    ND_TARGET_OWN = 1,     // one of the host's addresses: always passed
    ND_TARGET_KERNEL = 2,  // answered by a kernel proxy entry of ours: dropped, counted
};

enum nd_counter {
    ND_COUNT_KERNEL_ANSWERS = 0,
    ND_COUNT_OUT_OF_SCOPE = 1,
    ND_COUNTERS = 2,
};

struct nd_target_key {
    __u8 address[16];
};

struct nd_prefix_key {
    __u32 prefixlen;
    __u8 address[16];
};

struct nd_prefix_value {
    __u64 last_seen_ns;  // CLOCK_MONOTONIC, of the last solicitation dropped as kernel-held
};
