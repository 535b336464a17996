#pragma once

#include <memory>
#include <optional>

#include <vector>

#include "core/config.hpp"
#include "core/control_replies.hpp"
#include "daemon/control_server.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/state_store.hpp"
#include "daemon/uplink.hpp"

namespace ndproxy {

// ndproxyd: wires each uplink's services to one epoll loop with timerfds, a signalfd and the
// control socket, and talks to systemd. It is the sink of every uplink's events, which go to the
// control socket's subscribers once it is open.
class Daemon final : private monitor::Sink {
public:
    // `fast_paths`: one filter per uplink in --external's order, or none (load_fast_paths).
    explicit Daemon(CommandLine startup, FastPaths fast_paths = {});
    // Runs until SIGTERM or SIGINT. Returns the exit status.
    int run();

private:
    void arm_wakeup();
    void on_signal();
    void reload();
    // SIGHUP: uplinks no longer configured withdraw and go, new ones start.
    void replace_uplinks(TimePoint now);
    [[nodiscard]] std::vector<control::UplinkView> views() const;
    [[nodiscard]] std::size_t entry_count() const;
    nlohmann::json answer(const control::Request& request);
    [[nodiscard]] bool active() const override { return control_ && control_->active(); }
    void publish(monitor::Event event) override;
    void publish_reload(const char* error);
    monitor::Sink& events() { return *this; }
    void notify_status();
    // The state file: a write scheduled when the responder's addresses changed, or made now.
    void note_state_changes(TimePoint now);
    void write_state();

    CommandLine startup_;
    Config config_;
    EventLoop loop_;
    SignalChannel signals_;
    // In the order of --external; shared with a list being written, which a reload must not
    // cut short.
    std::vector<std::shared_ptr<Uplink>> uplinks_;
    Timer wakeup_;
    Timer proxy_refresh_;
    Timer watchdog_;
    std::optional<ControlServer> control_;
    StateStore state_;
    TimePoint started_;
    std::string fast_path_note_;
    bool running_ = true;
};

}  // namespace ndproxy
