#include "linux/bpf_maps.hpp"

#include <bpf/libbpf.h>

#include <algorithm>
#include <vector>

namespace ndproxy::bpf_maps {

nd_target_key target_key(const Ipv6Address& address) {
    nd_target_key key{};
    std::copy(address.bytes.begin(), address.bytes.end(), key.address);
    return key;
}

nd_prefix_key prefix_key(const Ipv6Prefix& prefix) {
    nd_prefix_key key{};
    key.prefixlen = prefix.length;
    std::copy(prefix.network.bytes.begin(), prefix.network.bytes.end(), key.address);
    return key;
}

std::uint64_t per_cpu_total(const bpf_map* map, std::uint32_t counter) {
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) {
        return 0;
    }
    std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus));
    if (bpf_map__lookup_elem(map, &counter, sizeof(counter), values.data(),
                             values.size() * sizeof(std::uint64_t), 0) != 0) {
        return 0;
    }
    std::uint64_t sum = 0;
    for (const std::uint64_t value : values) {
        sum += value;
    }
    return sum;
}

}  // namespace ndproxy::bpf_maps
