#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/ndp_types.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {

// An AF_PACKET socket that sees the Neighbor Solicitations on one link, whatever their
// destination group. A raw ICMPv6 socket only sees solicitations for groups the host has
// joined, which for targets the host knows nothing about it has not; hence frames.
class FrameSocket {
public:
    FrameSocket();  // throws std::system_error (needs CAP_NET_RAW)

    [[nodiscard]] int fd() const { return socket_.get(); }
    void listen(int ifindex);
    // An eBPF socket filter to use in place of the classic one (the fast path); -1: the
    // classic one. The caller keeps it loaded and sets its link.
    void use_program(int program_fd);
    // Hands each queued frame, with how the link delivered it, to `sink` (bounded per call).
    // False if frames were left queued after the bounded number of batches.
    bool read(const std::function<void(std::span<const std::uint8_t>, ndp::Delivery)>& sink);
    bool send(int ifindex, std::span<const std::uint8_t> frame);
    // Frames the kernel dropped because the receive queue was full, since the last call.
    std::uint64_t take_drops();

private:
    static constexpr std::size_t kBatch = 32;
    static constexpr std::size_t kBatchesPerRead = 8;
    static constexpr std::size_t kFrameBytes = 1600;

    void attach_filter(int ifindex);

    UniqueFd socket_;
    int ifindex_ = 0;
    int program_fd_ = -1;
    std::vector<std::array<std::uint8_t, kFrameBytes>> buffers_;
};

}  // namespace ndproxy
