#include "ctl/control_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/unique_fd.hpp"

namespace ndproxy::ctl {
namespace {

using Clock = std::chrono::steady_clock;

// An event line is a few hundred bytes; a subscriber's whole queue is at most 1 MiB.
constexpr std::size_t kMaxEventBytes = std::size_t{1} << 20;

std::string error_text(int error) {
    return std::system_category().message(error);
}

// One request/reply exchange: connecting and sending share one deadline, and the reply must not
// pause longer than the timeout.
class Exchange {
public:
    Exchange(std::string path, std::chrono::milliseconds timeout)
        : path_(std::move(path)), timeout_(timeout), deadline_(Clock::now() + timeout) {}

    void connect() {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path_.size() >= sizeof(address.sun_path)) {
            throw ControlError(
                fmt::format("cannot reach ndproxyd at {}: the path is longer than {} "
                            "bytes",
                            path_, sizeof(address.sun_path) - 1));
        }
        std::memcpy(address.sun_path, path_.data(), path_.size());
        fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd_) {
            throw ControlError(fmt::format("cannot create a Unix socket: {}", error_text(errno)));
        }
        // A Unix connect blocks only while the daemon's listen backlog is full (it is stuck);
        // the send timeout bounds that wait as well.
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout_);
        const timeval limit{static_cast<time_t>(seconds.count()),
                            static_cast<suseconds_t>((timeout_ - seconds).count() * 1000)};
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
        if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
            0) {
            const int error = errno;
            if (error == EAGAIN || error == EINPROGRESS) {
                throw timed_out();
            }
            const bool denied = error == EACCES || error == EPERM;
            throw ControlError(fmt::format(
                "cannot reach ndproxyd at {}: {} ({})", path_, error_text(error),
                denied ? "run as root or as a member of the socket's group" : "is it running?"));
        }
        // From here on poll() enforces the deadline.
        ::fcntl(fd_.get(), F_SETFL, ::fcntl(fd_.get(), F_GETFL) | O_NONBLOCK);
    }

    void send_all(std::string_view data) {
        while (!data.empty()) {
            const ssize_t sent = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
            if (sent >= 0) {
                data.remove_prefix(static_cast<std::size_t>(sent));
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_for(POLLOUT);
            } else if (errno == EPIPE || errno == ECONNRESET) {
                return;  // it refused us and hung up; its reply, if any, says why
            } else if (errno != EINTR) {
                throw lost_connection(errno);
            }
        }
    }

    std::string receive_line() {
        std::string line;
        char buffer[64 * 1024];
        for (;;) {
            const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
            if (got > 0) {
                deadline_ = Clock::now() + timeout_;  // a long list: a pause is what times out
                const std::string_view received(buffer, static_cast<std::size_t>(got));
                const std::size_t newline = received.find('\n');
                line.append(received.substr(0, newline));
                if (line.size() > kMaxReplyBytes) {
                    throw ControlError(
                        fmt::format("the reply of ndproxyd at {} is larger than {} "
                                    "bytes",
                                    path_, kMaxReplyBytes));
                }
                if (newline != std::string_view::npos) {
                    return line;
                }
            } else if (got == 0) {
                // Tolerate a daemon that closes instead of ending its reply with a newline.
                if (line.empty()) {
                    throw ControlError(fmt::format(
                        "ndproxyd at {} closed the connection without replying", path_));
                }
                return line;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_for(POLLIN);
            } else if (errno != EINTR) {
                throw lost_connection(errno);
            }
        }
    }

    // The reply, then event lines until `stop`. A wait ends early for a signal of `let_in`.
    void follow(const std::function<void(std::string_view)>& on_event,
                const volatile std::sig_atomic_t& stop, const sigset_t& let_in) {
        std::string pending;
        bool subscribed = false;
        char buffer[64 * 1024];
        while (!stop) {
            const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
            if (got > 0) {
                pending.append(buffer, static_cast<std::size_t>(got));
                std::size_t start = 0;
                for (std::size_t end = 0; (end = pending.find('\n', start)) != std::string::npos;
                     start = end + 1) {
                    const std::string_view line(pending.data() + start, end - start);
                    if (!subscribed) {
                        payload_of_reply(line, "monitor");
                        subscribed = true;
                    } else {
                        on_event(line);
                    }
                }
                pending.erase(0, start);
                if (pending.size() > kMaxEventBytes) {
                    throw ControlError(
                        fmt::format("ndproxyd at {} sent an event line longer than {} bytes", path_,
                                    kMaxEventBytes));
                }
            } else if (got == 0) {
                throw ControlError(fmt::format("ndproxyd at {} closed the connection", path_));
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                // Events come when they come; only the reply to the request has a deadline.
                const auto left =
                    std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
                if (!subscribed && left.count() <= 0) {
                    throw timed_out();
                }
                const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
                const timespec limit{static_cast<time_t>(seconds.count()),
                                     static_cast<long>((left - seconds).count() * 1000000)};
                pollfd watched{fd_.get(), POLLIN, 0};
                if (::ppoll(&watched, 1, subscribed ? nullptr : &limit, &let_in) < 0 &&
                    errno != EINTR) {
                    throw ControlError(fmt::format("poll: {}", error_text(errno)));
                }
            } else if (errno != EINTR) {
                throw lost_connection(errno);
            }
        }
    }

private:
    void wait_for(short events) {
        for (;;) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
            if (left.count() <= 0) {
                throw timed_out();
            }
            pollfd watched{fd_.get(), events, 0};
            const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
            if (ready > 0) {
                return;
            }
            if (ready < 0 && errno != EINTR) {
                throw ControlError(fmt::format("poll: {}", error_text(errno)));
            }
        }
    }

    [[nodiscard]] ControlError timed_out() const {
        return ControlError(fmt::format("ndproxyd at {} did not answer within {:.3g} s", path_,
                                        std::chrono::duration<double>(timeout_).count()));
    }

    [[nodiscard]] ControlError lost_connection(int error) const {
        return ControlError(
            fmt::format("lost the connection to ndproxyd at {}: {}", path_, error_text(error)));
    }

    std::string path_;
    std::chrono::milliseconds timeout_;
    Clock::time_point deadline_;
    UniqueFd fd_;
};

}  // namespace

nlohmann::json payload_of_reply(std::string_view reply_line, std::string_view command) {
    auto reply = nlohmann::json::parse(reply_line, nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.is_object()) {
        throw ControlError("ndproxyd sent a reply that is not a JSON object");
    }
    const auto ok = reply.find("ok");
    if (ok == reply.end() || !ok->is_boolean()) {
        throw ControlError("ndproxyd sent a reply without an \"ok\" field");
    }
    if (!ok->get<bool>()) {
        const auto error = reply.find("error");
        throw ControlError(
            fmt::format("ndproxyd: {}", error != reply.end() && error->is_string()
                                            ? error->get<std::string>()
                                            : std::string("the request failed, no reason given")));
    }
    if (command == "resync" || command == "announce" || command == "monitor") {
        return nullptr;
    }
    const bool wants_array = command == "list";
    const auto payload = reply.find(command);
    if (payload == reply.end() || (wants_array ? !payload->is_array() : !payload->is_object())) {
        throw ControlError(fmt::format("ndproxyd sent a reply without a \"{}\" {}", command,
                                       wants_array ? "array" : "object"));
    }
    return std::move(*payload);  // not a copy: a list can be 100,000 objects
}

namespace {

// One request out, one reply line back.
std::string round_trip(const std::string& socket_path, const nlohmann::json& request,
                       std::chrono::milliseconds timeout) {
    Exchange exchange(socket_path, timeout);
    exchange.connect();
    exchange.send_all(request.dump() + "\n");
    return exchange.receive_line();
}

}  // namespace

nlohmann::json send_command(const std::string& socket_path, std::string_view command,
                            std::chrono::milliseconds timeout) {
    const nlohmann::json request{{"command", std::string(command)}};
    return payload_of_reply(round_trip(socket_path, request, timeout), command);
}

void send_request(const std::string& socket_path, const nlohmann::json& request,
                  std::chrono::milliseconds timeout) {
    payload_of_reply(round_trip(socket_path, request, timeout), request.value("command", ""));
}

void follow_events(const std::string& socket_path,
                   const std::function<void(std::string_view)>& on_event,
                   const volatile std::sig_atomic_t& stop, const sigset_t& stop_signals,
                   std::chrono::milliseconds timeout) {
    Exchange exchange(socket_path, timeout);
    exchange.connect();
    exchange.send_all(nlohmann::json{{"command", "monitor"}}.dump() + "\n");
    // While waiting, every signal the caller blocked for stopping is let in.
    sigset_t let_in;
    ::sigprocmask(SIG_SETMASK, nullptr, &let_in);
    for (int signal = 1; signal < NSIG; ++signal) {
        if (::sigismember(&stop_signals, signal) == 1) {
            ::sigdelset(&let_in, signal);
        }
    }
    exchange.follow(on_event, stop, let_in);
}

}  // namespace ndproxy::ctl
