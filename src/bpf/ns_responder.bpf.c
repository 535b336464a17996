// SPDX-License-Identifier: GPL-2.0-only
// The fast path's in-kernel responder (docs/design.md §Fast path, --fast-path xdp): on the
// uplink's XDP hook, answers a valid solicitation for an address the host proxies, where the
// frame arrives, with the answer userspace would send: the responder's addresses, and the
// kernel's entries too, whose answer it gives as the kernel would, without the kernel's walk of
// the uplink's multicast list (docs/design.md §The XDP responder). Everything it cannot decide
// goes on unchanged (XDP_PASS) to the stack and the responder's socket: DAD, options other
// than one source link-layer address, a target it does not hold (a verification), the host's
// own addresses.
//
// The invariant: it answers only what userspace or the kernel would answer, as they would,
// within the responder's limits for the responder's addresses (core/source_limits.cpp,
// repeated below over a map). The checks are nd_frame.h's.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fast_path.h"
#include "nd_frame.h"
#include "nd_maps.h"

// Set by the loader; see fast_path.h.
struct nd_answer_config answer_config = {};

// Blocks routed behind internal links, answered whole (docs/design.md §Routed addresses).
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, ND_MAX_ROUTED_BLOCKS);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct nd_prefix_key);
    __type(value, __u8);
} routed SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, ND_ANSWER_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} answer_counters SEC(".maps");

struct nd_limiter {
    struct bpf_spin_lock lock;
    __u32 window_used;
    __u64 window;
    struct nd_recent recent[ND_RECENT_SLOTS];  // the first ND_RECENT_WINDOWS used
    struct nd_bucket buckets[ND_BUCKETS];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct nd_limiter);
} limiter SEC(".maps");

enum verdict { GRANTED, SOURCE_RATE, TOTAL_RATE };

static __always_inline void count(__u32 which) {
    __u64* counter = bpf_map_lookup_elem(&answer_counters, &which);
    if (counter) {
        *counter += 1;  // per CPU: no other writer
    }
}

// splitmix64's finaliser, as SourceLimits::bucket_of: the same source, the same bucket.
static __always_inline __u64 mix(__u64 value) {
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

static __always_inline __u32 bucket_of(const struct frame* f, __u64 key) {
    __u64 words[3] = {};
    __builtin_memcpy(&words[0], f->source, 8);
    __builtin_memcpy(&words[1], f->source + 8, 8);
    __builtin_memcpy(&words[2], f->ether_source, 6);
    __u64 hash = key;
#pragma unroll
    for (int i = 0; i < 3; ++i) {
        hash = mix(hash ^ words[i]);
    }
    return (__u32)(hash % ND_BUCKETS);
}

// Without CAP_PERFMON the verifier masks a variable offset into a map value against the room
// left after the pointer's constant offset, and refuses one added at the value's very start
// (retrieve_ptr_limit). The barrier keeps the array's own address as the base the index is
// added to, where the compiler would add it to the value's start.
#define ARRAY_BASE(array)                        \
    ({                                           \
        __typeof__(&(array)[0]) base_ = (array); \
        asm volatile("" : "+r"(base_));          \
        base_;                                   \
    })

// The verifier sees no bound through the remainder the compiler computes as a - a / n * n.
// A mask it does see; the ring has room for it (ND_RECENT_SLOTS).
static __always_inline __u32 recent_slot(__u64 window) {
    __u32 slot = (__u32)(window % ND_RECENT_WINDOWS);
    asm volatile("" : "+r"(slot));  // keeps the mask below
    return slot & (ND_RECENT_SLOTS - 1);
}

// SourceLimits::take_answer, with the overall budget never scaled down: answering here costs
// no socket whose losses would call for it.
static __always_inline enum verdict take_answer(struct nd_limiter* l, __u32 index, __u64 now,
                                                __u32 per_source, __u32 total) {
    struct nd_bucket* b = &ARRAY_BASE(l->buckets)[index & (ND_BUCKETS - 1)];
    const __u64 window = now / ND_WINDOW_NS;
    if (window != l->window) {
        l->window = window;
        l->window_used = 0;
    }
    // It moves from the window it last asked in (if that is still remembered) to this one.
    if (!b->seen || b->window != window) {
        if (b->seen) {
            struct nd_recent* before = &ARRAY_BASE(l->recent)[recent_slot(b->window)];
            if (before->window == b->window && before->sources > 0) {
                before->sources -= 1;
            }
        }
        struct nd_recent* current = &ARRAY_BASE(l->recent)[recent_slot(window)];
        if (current->window != window) {
            current->window = window;
            current->sources = 0;
        }
        current->sources += 1;
        b->seen = 1;
        b->window = window;
        b->used = 0;
    }
    __u64 elapsed = now - b->refilled_ns;
    if (elapsed > ND_NANO) {
        elapsed = ND_NANO;  // a full bucket: its burst is one second's rate
    }
    const __u64 ceiling = (__u64)per_source * ND_NANO;
    b->nano_tokens += elapsed * per_source;
    if (b->nano_tokens > ceiling) {
        b->nano_tokens = ceiling;
    }
    b->refilled_ns = now;
    if (b->nano_tokens < ND_NANO) {
        return SOURCE_RATE;
    }
    __u32 active = 0;
#pragma unroll
    for (int i = 0; i < ND_RECENT_WINDOWS; ++i) {
        if (l->recent[i].window + ND_RECENT_WINDOWS > window) {
            active += l->recent[i].sources;
        }
    }
    if (active == 0) {
        active = 1;
    }
    __u32 budget = total / 10;  // one window's
    if (budget == 0) {
        budget = 1;
    }
    if (l->window_used >= budget) {
        return TOTAL_RATE;
    }
    __u32 share = budget / active;
    if (share == 0) {
        share = 1;
    }
    if (b->used >= share && l->window_used >= share) {
        return TOTAL_RATE;
    }
    b->nano_tokens -= ND_NANO;
    b->used += 1;
    l->window_used += 1;
    return GRANTED;
}

enum decision { PASS, ANSWER_LIMITED, ANSWER_AS_KERNEL };

// The limiter's decision for one answer to `f`'s source; TOTAL_RATE where the map is missing.
static __noinline enum verdict take_answer_locked(const struct frame* f,
                                                  const struct nd_answer_config* config,
                                                  __u64 now) {
    const __u32 zero = 0;
    struct nd_limiter* limits = bpf_map_lookup_elem(&limiter, &zero);
    if (!limits) {
        return TOTAL_RATE;
    }
    const __u32 bucket = bucket_of(f, config->hash_key);
    bpf_spin_lock(&limits->lock);
    const enum verdict verdict =
        take_answer(limits, bucket, now, config->per_source, config->total);
    bpf_spin_unlock(&limits->lock);
    return verdict;
}

// Whether `f` is answered here: ANSWER_LIMITED where userspace would answer it at once
// (ResponderPolicy::on_solicitation: a target it holds, or any in scope with --responder always
// or in a routed block), ANSWER_AS_KERNEL for a kernel entry of ours, whose solicited-node group
// the kernel joined with the entry (RFC 4861 §7.2.8) and whose answers the kernel does not
// limit either; never the host's own or the administrator's entries. Updates the prefix's
// last solicitation, as the filter does.
static __noinline enum decision answerable(const struct frame* f, __u8 flags, __u64 now) {
    struct nd_target_key key = {};
    __builtin_memcpy(key.address, f->target, 16);
    const __u8* kind = bpf_map_lookup_elem(&targets, &key);
    if ((kind &&
         (*kind == ND_TARGET_OWN || *kind == ND_TARGET_HELD || *kind == ND_TARGET_FOREIGN)) ||
        !global_unicast(f->target)) {
        return PASS;
    }
    struct nd_prefix_key prefix = {.prefixlen = 128};
    __builtin_memcpy(prefix.address, f->target, 16);
    struct nd_prefix_value* scope = bpf_map_lookup_elem(&prefixes, &prefix);
    if (!scope) {
        return PASS;
    }
    const int kernel = kind && *kind == ND_TARGET_KERNEL;
    if (!kernel && !(kind && *kind == ND_TARGET_ANSWER) && !(flags & ND_ANSWER_ALL) &&
        !bpf_map_lookup_elem(&routed, &prefix)) {
        return PASS;
    }
    scope->last_seen_ns = now;
    return kernel ? ANSWER_AS_KERNEL : ANSWER_LIMITED;
}

// The answer in place of the solicitation: RFC 4861 §7.2.4 and RFC 4389, as
// ResponderService::answer sends it: to the asker's addresses, S set, O clear, R as configured,
// our link-layer address as the target's, from our link-local address (or the target).
static __noinline void make_answer(struct frame* f, const struct nd_answer_config* config) {
    __builtin_memcpy(f->ether_destination, f->ether_source, 6);
    __builtin_memcpy(f->ether_source, config->mac, 6);
    __builtin_memcpy(f->destination, f->source, 16);
    if ((config->flags & ND_ANSWER_FROM_TARGET) || all_zero_but_last(config->link_local)) {
        __builtin_memcpy(f->source, f->target, 16);
    } else {
        __builtin_memcpy(f->source, config->link_local, 16);
    }
    f->version_class[0] = 0x60;
    f->version_class[1] = 0;
    f->version_class[2] = 0;
    f->version_class[3] = 0;
    f->payload_length = bpf_htons(NS_BYTES + 8);
    f->hop_limit = 255;
    f->type = TYPE_ADVERTISEMENT;
    f->code = 0;
    f->checksum = 0;
    f->flags[0] = (config->flags & ND_ANSWER_ROUTER ? 0x80 : 0) | 0x40;
    f->flags[1] = 0;
    f->flags[2] = 0;
    f->flags[3] = 0;
    f->option[0] = 2;  // RFC 4861 §4.6.1: target link-layer address, 8 octets
    f->option[1] = 1;
    __builtin_memcpy(f->option + 2, config->mac, 6);
    f->checksum = bpf_htons((__u16)~icmp_sum(f, NS_BYTES + 8));
}

SEC("xdp")
int ns_responder(struct xdp_md* ctx) {
    const struct nd_answer_config* config = &answer_config;
    if (!(config->flags & ND_ANSWER_ENABLED)) {
        return XDP_PASS;
    }
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    if (data + FIXED_BYTES > data_end) {
        return XDP_PASS;
    }
    struct frame f = {};
    __builtin_memcpy(&f, data, FIXED_BYTES);
    const int option_read = data + FRAME_BYTES <= data_end;
    if (option_read) {
        __builtin_memcpy(f.option, data + FIXED_BYTES, 8);
    }
    // What a packet socket would see as PACKET_OTHERHOST is userspace's to count.
    __u8 differs = 0;
#pragma unroll
    for (int i = 0; i < 6; ++i) {
        differs |= f.ether_destination[i] ^ config->mac[i];
    }
    const int to_us = (f.ether_destination[0] & 0x01) || differs == 0;
    // The helper, not data_end - data: subtracting packet pointers takes CAP_PERFMON, which
    // the unit's drop-in does not grant (the program must load with CAP_BPF alone). The frame
    // is linear (no xdp.frags), so its length is the buffer's.
    const __u32 frame_length = (__u32)bpf_xdp_get_buff_len(ctx);
    if (!to_us || plain_solicitation(&f, frame_length, option_read) == 0) {
        return XDP_PASS;
    }
    const __u64 now = bpf_ktime_get_ns();
    const enum decision decision = answerable(&f, config->flags, now);
    if (decision == PASS) {
        return XDP_PASS;
    }
    // The answer carries one option: a solicitation without one grows by 8 octets (and, where
    // the driver has no room for that, is answered by userspace after all).
    if (frame_length < FRAME_BYTES &&
        bpf_xdp_adjust_tail(ctx, (int)(FRAME_BYTES - frame_length)) < 0) {
        return XDP_PASS;
    }
    if (decision == ANSWER_LIMITED) {
        const enum verdict verdict = take_answer_locked(&f, config, now);
        if (verdict != GRANTED) {
            count(verdict == SOURCE_RATE ? ND_ANSWER_RATE_LIMITED : ND_ANSWER_TOTAL_RATE_LIMITED);
            return XDP_DROP;
        }
    }
    data = (void*)(long)ctx->data;
    data_end = (void*)(long)ctx->data_end;
    if (data + FRAME_BYTES > data_end) {
        return XDP_PASS;
    }
    make_answer(&f, config);
    __builtin_memcpy(data, &f, FRAME_BYTES);
    // Ethernet pads short frames: what followed the solicitation goes with the frame's end.
    const __u32 excess = (__u32)bpf_xdp_get_buff_len(ctx) - FRAME_BYTES;
    if (excess > 0 && excess < 1500) {
        bpf_xdp_adjust_tail(ctx, -(int)excess);
    }
    count(ND_ANSWER_ANSWERED);
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
