#include "core/routed_blocks.hpp"

#include <climits>

namespace ndproxy {
void RoutedBlocks::add(const Ipv6Prefix& block, int ifindex) {
    if (++blocks_[{block, ifindex}] == 1) {
        ++per_length_[block.length];
    }
}

void RoutedBlocks::remove(const Ipv6Prefix& block, int ifindex) {
    const auto found = blocks_.find({block, ifindex});
    if (found == blocks_.end()) {
        return;
    }
    if (--found->second == 0) {
        blocks_.erase(found);
        --per_length_[block.length];
    }
}

void RoutedBlocks::clear() {
    blocks_.clear();
    per_length_.fill(0);
}

bool RoutedBlocks::contains(const Ipv6Address& address) const {
    if (blocks_.empty()) {
        return false;
    }
    for (unsigned length = 0; length <= 128; ++length) {
        if (per_length_[length] == 0) {
            continue;
        }
        const Ipv6Prefix block = Ipv6Prefix::covering(address, length);
        const auto candidate = blocks_.lower_bound({block, INT_MIN});
        if (candidate != blocks_.end() && candidate->first.first == block) {
            return true;
        }
    }
    return false;
}

}  // namespace ndproxy
