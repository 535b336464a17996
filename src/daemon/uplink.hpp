#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/monitor_events.hpp"
#include "core/responder_service.hpp"
#include "daemon/event_loop.hpp"
#include "linux/linux_packet_port.hpp"
#include "linux/netlink_kernel.hpp"

namespace ndproxy {

// One fast-path filter per uplink (docs/design.md §Fast path), loaded while the process may
// still (CAP_BPF), that is before drop_privileges(); `note` is the line to log once the daemon
// runs (not before: a configuration error must stay the only line). None under --fast-path
// off, or under auto where the kernel refuses; throws std::runtime_error where filter is.
struct FastPaths {
    std::vector<std::unique_ptr<SolicitationFilter>> filters;
    std::string note;
};
FastPaths load_fast_paths(const Config& config);

// One external interface and everything that serves it: exactly a one-uplink daemon's sockets
// and services, for the prefixes `via` it (docs/design.md §Uplinks). Its fds join the daemon's
// loop while it is active.
class Uplink {
public:
    // `config` is the daemon's, read again whenever the external link changes; it must outlive
    // the uplink's activity (retire() ends it), as must `events`, where the services' events go.
    // `filter`: its fast path, if one was loaded for it (load_fast_paths).
    Uplink(EventLoop& loop, const Config& config, const std::string& name, monitor::Sink& events,
           std::unique_ptr<SolicitationFilter> filter = nullptr);
    ~Uplink();
    Uplink(const Uplink&) = delete;
    Uplink& operator=(const Uplink&) = delete;

    // SIGHUP: the uplink's prefixes and the modes may have changed.
    void reconfigure(TimePoint now);
    // Leaves the loop and stops answering. A retired uplink is only read (a list in progress).
    void retire();

    void on_timer(TimePoint now);
    void refresh(TimePoint now);
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] MirrorService& service() { return service_; }
    [[nodiscard]] const MirrorService& service() const { return service_; }
    [[nodiscard]] const ResponderService& responder() const { return responder_; }

private:
    // Names the uplink in its services' events while there are several (control_protocol.hpp).
    class NamedEvents final : public monitor::Sink {
    public:
        NamedEvents(monitor::Sink& next, const Config& config, const std::string& name)
            : next_(next), config_(config), name_(name) {}
        [[nodiscard]] bool active() const override { return next_.active(); }
        void publish(monitor::Event event) override;

    private:
        monitor::Sink& next_;
        const Config& config_;
        const std::string& name_;
    };

    void on_advertisements();
    void on_external_link(const TrackedLink& external);

    EventLoop& loop_;
    const Config& config_;
    std::string name_;
    NamedEvents events_;
    // Subscribed before anything is dumped (docs/design.md §Netlink).
    NetlinkKernel kernel_;
    LinuxPacketPort packets_;
    MirrorService service_;
    ResponderService responder_;
    bool active_ = true;
};

}  // namespace ndproxy
