#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {

// The daemon's single epoll loop. Handlers are keyed by fd; a handler may remove itself or others.
class EventLoop {
public:
    using Handler = std::function<void(std::uint32_t events)>;

    EventLoop();
    void add(int fd, std::uint32_t events, Handler handler);
    void modify(int fd, std::uint32_t events);
    void remove(int fd);
    // Waits up to `timeout_ms` (-1: forever) and dispatches what is ready.
    void run_once(int timeout_ms);

private:
    UniqueFd epoll_;
    std::unordered_map<int, std::shared_ptr<Handler>> handlers_;
};

// A timerfd on CLOCK_MONOTONIC, the clock behind std::chrono::steady_clock.
class Timer {
public:
    Timer();
    [[nodiscard]] int fd() const { return timer_.get(); }
    void arm_at(TimePoint when);
    void arm_every(Duration period);
    void disarm();
    // Reads the expiration count so that the fd stops being readable.
    void acknowledge();

private:
    UniqueFd timer_;
};

// Blocks `signals` and delivers them through an fd instead.
class SignalChannel {
public:
    explicit SignalChannel(std::initializer_list<int> signals);
    [[nodiscard]] int fd() const { return signal_fd_.get(); }
    // The next pending signal, or 0 when none is left.
    int next();

private:
    UniqueFd signal_fd_;
};

}  // namespace ndproxy
