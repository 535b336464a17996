#include "daemon/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace ndproxy {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

timespec to_timespec(Duration duration) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
    return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) {
        fail("epoll_create1");
    }
}

void EventLoop::add(int fd, std::uint32_t events, Handler handler) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) < 0) {
        fail("epoll_ctl add");
    }
    handlers_[fd] = std::make_shared<Handler>(std::move(handler));
}

void EventLoop::modify(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) < 0) {
        fail("epoll_ctl modify");
    }
}

void EventLoop::remove(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    handlers_.erase(fd);
}

void EventLoop::run_once(int timeout_ms) {
    std::array<epoll_event, 64> ready;
    const int count = ::epoll_wait(epoll_.get(), ready.data(), ready.size(), timeout_ms);
    if (count < 0) {
        if (errno == EINTR) {
            return;
        }
        fail("epoll_wait");
    }
    for (int i = 0; i < count; ++i) {
        auto found = handlers_.find(ready[i].data.fd);
        if (found == handlers_.end()) {
            continue;  // removed by an earlier handler in this round
        }
        const std::shared_ptr<Handler> handler = found->second;  // survives self-removal
        (*handler)(ready[i].events);
    }
}

Timer::Timer() : timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
    if (!timer_) {
        fail("timerfd_create");
    }
}

void Timer::arm_at(TimePoint when) {
    itimerspec spec{};
    spec.it_value = to_timespec(when.time_since_epoch());
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
        spec.it_value.tv_nsec = 1;  // zero would disarm
    }
    if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) < 0) {
        fail("timerfd_settime");
    }
}

void Timer::arm_every(Duration period) {
    itimerspec spec{};
    spec.it_value = to_timespec(period);
    spec.it_interval = spec.it_value;
    if (::timerfd_settime(timer_.get(), 0, &spec, nullptr) < 0) {
        fail("timerfd_settime");
    }
}

void Timer::disarm() {
    itimerspec spec{};
    ::timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

void Timer::acknowledge() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const auto ignored = ::read(timer_.get(), &expirations, sizeof(expirations));
}

SignalChannel::SignalChannel(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (const int signal : signals) {
        sigaddset(&set, signal);
    }
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) {
        fail("sigprocmask");
    }
    signal_fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd_) {
        fail("signalfd");
    }
}

int SignalChannel::next() {
    signalfd_siginfo info{};
    if (::read(signal_fd_.get(), &info, sizeof(info)) != sizeof(info)) {
        return 0;
    }
    return static_cast<int>(info.ssi_signo);
}

}  // namespace ndproxy
