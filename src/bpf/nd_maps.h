// SPDX-License-Identifier: GPL-2.0-only
// The maps both fast-path programs read. The filter's object creates them; the XDP responder's
// loader hands it the same maps (bpf_map__reuse_fd), so one write serves both.
#pragma once

#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#include "fast_path.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);  // the loader sizes it (the entries and the host's addresses)
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
