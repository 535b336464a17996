// What the fast path's two loaders (solicitation_filter.cpp, xdp_responder.cpp) write into and
// read from the programs' maps, in the programs' terms (src/bpf/fast_path.h).
#pragma once

#include <cstdint>

#include "core/ipv6.hpp"
#include "fast_path.h"

struct bpf_map;

namespace ndproxy::bpf_maps {

nd_target_key target_key(const Ipv6Address& address);
nd_prefix_key prefix_key(const Ipv6Prefix& prefix);

// A per-CPU array's `counter`, summed over the CPUs; 0 where it cannot be read.
std::uint64_t per_cpu_total(const bpf_map* map, std::uint32_t counter);

}  // namespace ndproxy::bpf_maps
