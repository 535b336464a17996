#pragma once

#include <memory>
#include <optional>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"
#include "daemon/control_server.hpp"
#include "daemon/event_loop.hpp"
#include "linux/linux_packet_port.hpp"
#include "linux/netlink_kernel.hpp"

namespace ndproxy {

// ndproxyd: wires the mirror to one epoll loop with timerfds, a signalfd and the control
// socket, and talks to systemd.
class Daemon {
public:
    explicit Daemon(CommandLine startup);
    // Runs until SIGTERM or SIGINT. Returns the exit status.
    int run();

private:
    void arm_wakeup();
    void on_advertisements();
    void on_external_link(const TrackedLink& external);
    void on_signal();
    void reload();
    nlohmann::json answer(const control::Request& request);
    void notify_status();

    CommandLine startup_;
    Config config_;
    EventLoop loop_;
    SignalChannel signals_;
    NetlinkKernel kernel_;
    LinuxPacketPort packets_;
    MirrorService service_;
    ResponderService responder_;
    Timer wakeup_;
    Timer proxy_refresh_;
    Timer watchdog_;
    std::optional<ControlServer> control_;
    TimePoint started_;
    bool running_ = true;
};

}  // namespace ndproxy
