// What the fast path's programs (solicitation_filter.bpf.c, ns_responder.bpf.c) share with
// each other and with their loaders (linux/solicitation_filter.cpp, linux/xdp_responder.cpp):
// map keys and values, counters and the responder's settings. Plain C: both compilers read it.
#pragma once

#include <linux/types.h>

#define IPPROTO_ICMPV6_NUMBER 58
#define ND_MAX_PREFIXES 256
#define ND_MAX_ROUTED_BLOCKS 65536

enum nd_target_kind {
    ND_TARGET_OWN = 1,  // one of the host's addresses: always passed
    // A kernel proxy entry of ours: dropped by the socket filter and counted; answered by the XDP
    // responder where it runs, as the kernel would answer it.
    ND_TARGET_KERNEL = 2,
    // Held by the responder, whose first answer joins the target's solicited-node group
    // (RFC 4861 §7.2.8): passed until userspace has answered it once.
    ND_TARGET_HELD = 3,
    ND_TARGET_ANSWER = 4,   // held by the responder and answered by the XDP program
    ND_TARGET_FOREIGN = 5,  // the administrator's proxy entry: as KERNEL, but the kernel's alone
};

enum nd_counter {
    ND_COUNT_KERNEL_ANSWERS = 0,
    ND_COUNT_OUT_OF_SCOPE = 1,
    ND_COUNTERS = 2,
};

// The XDP responder's outcomes, as the userspace responder names them.
enum nd_answer_counter {
    ND_ANSWER_ANSWERED = 0,
    ND_ANSWER_RATE_LIMITED = 1,
    ND_ANSWER_TOTAL_RATE_LIMITED = 2,
    ND_ANSWER_COUNTERS = 3,
};

struct nd_target_key {
    __u8 address[16];
};

struct nd_prefix_key {
    __u32 prefixlen;
    __u8 address[16];
};

struct nd_prefix_value {
    __u64 last_seen_ns;  // CLOCK_MONOTONIC, of the last solicitation decided in the kernel
};

enum nd_answer_flags {
    ND_ANSWER_ENABLED = 1,
    ND_ANSWER_ROUTER = 2,       // R set (--router)
    ND_ANSWER_ALL = 4,          // --responder always: every target in scope
    ND_ANSWER_FROM_TARGET = 8,  // --answer-source target
};

// Written by the loader while the program runs; a torn read of a change costs one answer the
// old or the new way, both of them right a moment ago.
struct nd_answer_config {
    __u8 mac[6];  // the uplink's
    __u8 flags;   // enum nd_answer_flags
    __u8 padding;
    __u8 link_local[16];  // the uplink's; zero while unknown (the target answers for itself)
    __u32 per_source;     // answers per second to one source, in a burst of as many
    __u32 total;          // answers per second overall, spent in windows of 100 ms
    __u64 hash_key;
};

// core/source_limits.hpp, for the answers given in the kernel: a keyed hash of the source into
// a fixed table of buckets, and fair shares of the overall budget between the sources active
// in the last two seconds. One value, one lock: every answer's decision is made whole.
#define ND_BUCKETS 4096
#define ND_RECENT_WINDOWS 20
#define ND_RECENT_SLOTS 32  // a power of two above it
#define ND_WINDOW_NS 100000000ULL
#define ND_NANO 1000000000ULL

struct nd_bucket {
    __u64 nano_tokens;  // a billionth of an answer each
    __u64 refilled_ns;
    __u64 window;
    __u32 used;
    __u32 seen;
};

struct nd_recent {
    __u64 window;
    __u32 sources;
    __u32 padding;
};
