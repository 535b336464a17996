#pragma once

#include <memory>

#include "kernel/kernel_port.hpp"

struct mnl_socket;

namespace ndproxy {

struct MnlSocketCloser {
    void operator()(mnl_socket* socket) const;
};
// The owner of a netlink socket (and so of its fd).
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

class NetlinkKernel final : public KernelPort {
public:
    // Subscribes to neighbour, link and IPv6 address notifications before anything is dumped,
    // so that no change can fall between a dump and the first notification. Throws
    // std::system_error on failure.
    explicit NetlinkKernel(std::size_t event_buffer_bytes);

    [[nodiscard]] int event_fd() const override;

    Drained read_events() override;
    std::vector<KernelEvent> dump(netlink::DumpKind kind) override;
    std::vector<int> write_proxies(int ifindex, std::span<const ProxyWrite> writes) override;
    std::optional<std::uint8_t> proxy_protocol(int ifindex, const Ipv6Address& address) override;

private:
    std::vector<KernelEvent> dump_once(netlink::DumpKind kind);

    MnlSocket events_;
    MnlSocket requests_;
    std::uint32_t next_seq_ = 1;
};

}  // namespace ndproxy
