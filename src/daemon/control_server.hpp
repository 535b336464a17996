#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/control_protocol.hpp"
#include "core/monitor_events.hpp"
#include "core/unique_fd.hpp"
#include "daemon/event_loop.hpp"

namespace ndproxy {

// Serves the control protocol (core/control_protocol.hpp) on a Unix stream socket.
// Each client gets at most one reply in flight: while a reply is being written its input is not
// read. A long reply (the list) comes from a ReplySource one slice per wake-up of the loop, and
// only once the previous slice is in the socket: a client that never reads costs its source
// (the list's sorted addresses) and one slice, and blocks nobody.
// It is also the monitor's sink: each subscriber ("monitor") has a bounded queue of event lines,
// written as its socket drains; what does not fit is dropped and counted, never waited for.
class ControlServer final : public monitor::Sink {
public:
    using RequestHandler = control::RequestHandler;

    // Binds `path` (mode 0660), creating its directory if needed. Throws std::system_error.
    ControlServer(EventLoop& loop, std::string path, std::size_t max_clients,
                  RequestHandler handler);
    ~ControlServer() override;
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // SIGHUP: clients beyond a lowered limit stay until they leave.
    void set_max_clients(std::size_t max_clients) { max_clients_ = max_clients; }
    [[nodiscard]] std::size_t client_count() const { return clients_.size(); }
    [[nodiscard]] std::uint64_t rejected_clients() const { return rejected_clients_; }
    // Commands that change state, refused to a client without uid 0 or the daemon's uid.
    [[nodiscard]] std::uint64_t refused_requests() const { return refused_requests_; }
    // Events dropped because a subscriber's queue was full, all subscribers together.
    [[nodiscard]] std::uint64_t dropped_events() const { return dropped_events_; }

    [[nodiscard]] bool active() const override { return subscribers_ > 0; }
    void publish(monitor::Event event) override;

private:
    struct Client {
        UniqueFd fd;
        control::Peer peer;
        std::string input;
        std::string output;                            // written, not yet in the socket
        std::unique_ptr<control::ReplySource> source;  // the rest of a long reply
        std::unique_ptr<monitor::EventQueue> events;   // a subscriber's, from "monitor" on
        bool writing = false;                          // polled for EPOLLOUT, not EPOLLIN
        [[nodiscard]] bool replying() const {
            return !output.empty() || source != nullptr || (events && !events->empty());
        }
    };
    void accept_clients();
    void on_client_event(int fd, std::uint32_t events);
    void serve_lines(Client& client);
    bool flush(Client& client);
    void close_client(int fd);
    void watch(Client& client, bool writing);

    EventLoop& loop_;
    std::string path_;
    std::size_t max_clients_;
    RequestHandler handler_;
    UniqueFd listener_;
    std::unordered_map<int, Client> clients_;
    std::uint64_t rejected_clients_ = 0;
    std::uint64_t refused_requests_ = 0;
    std::size_t subscribers_ = 0;
    std::uint64_t dropped_events_ = 0;
};

}  // namespace ndproxy
