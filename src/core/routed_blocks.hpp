#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <utility>

#include "core/ipv6.hpp"

namespace ndproxy {

// Blocks of addresses routed behind internal links and answered as a whole by the responder
// (docs/design.md §Routed addresses). Pure. A lookup tests only the prefix lengths present, so
// it costs at most one map search per length in use, whatever the number of blocks.
class RoutedBlocks {
public:
    // Counted: the same block may be routed twice (two tables, two metrics).
    void add(const Ipv6Prefix& block, int ifindex);
    void remove(const Ipv6Prefix& block, int ifindex);
    void clear();

    [[nodiscard]] bool contains(const Ipv6Address& address) const;
    [[nodiscard]] std::size_t size() const { return blocks_.size(); }
    // (block, internal link) -> routes to it.
    [[nodiscard]] const std::map<std::pair<Ipv6Prefix, int>, unsigned>& blocks() const {
        return blocks_;
    }

private:
    std::map<std::pair<Ipv6Prefix, int>, unsigned> blocks_;
    std::array<std::size_t, 129> per_length_{};  // blocks of each prefix length
};

}  // namespace ndproxy
