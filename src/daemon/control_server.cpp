#include "daemon/control_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/log.hpp"

namespace ndproxy {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

UniqueFd listen_on(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) {
        errno = ENAMETOOLONG;
        fail("control socket " + path);
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ignored;
        std::filesystem::create_directories(parent, ignored);
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        fail("control socket");
    }
    // A socket file left by a daemon that died is in the way and can go; one that still
    // answers belongs to a running ndproxyd, and two daemons must not fight over one host.
    struct stat existing = {};
    if (::lstat(path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode)) {
        UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address),
                               sizeof(address)) == 0) {
            errno = EADDRINUSE;
            fail("another ndproxyd answers on control socket " + path);
        }
        ::unlink(path.c_str());
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
        const int error = errno;
        std::string what = "cannot bind control socket " + path;
        if (error == EACCES) {
            // After the switch to the daemon's user (--user), a directory root made is in the way.
            what += fmt::format(" as uid {} (its directory must be writable by the daemon's user)",
                                ::geteuid());
        }
        errno = error;
        fail(what);
    }
    ::chmod(path.c_str(), 0660);
    if (::listen(fd.get(), 64) < 0) {
        fail("listen on control socket " + path);
    }
    return fd;
}

// SO_PEERCRED: the uid the client had when it connected, which it cannot forge. Reads are for
// anyone the socket's mode lets in; changes only for root and the daemon's own user.
control::Peer peer_of(int fd) {
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) {
        return {};  // unknown: may read, may not change
    }
    return {credentials.uid == 0 || credentials.uid == ::geteuid()};
}

// An event's time: the wall clock's, which the reader can set beside its own logs.
double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// What a subscriber's writer takes from its queue per turn: a few hundred events.
constexpr std::size_t kEventSliceBytes = 64 * 1024;

}  // namespace

ControlServer::ControlServer(EventLoop& loop, std::string path, std::size_t max_clients,
                             RequestHandler handler)
    : loop_(loop),
      path_(std::move(path)),
      max_clients_(max_clients),
      handler_(std::move(handler)),
      listener_(listen_on(path_)) {
    loop_.add(listener_.get(), EPOLLIN, [this](std::uint32_t) { accept_clients(); });
}

ControlServer::~ControlServer() {
    for (auto& [fd, client] : clients_) {
        loop_.remove(fd);
    }
    loop_.remove(listener_.get());
    ::unlink(path_.c_str());
}

void ControlServer::accept_clients() {
    for (;;) {
        UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            return;  // EAGAIN, or a client that hung up before we got to it
        }
        if (clients_.size() >= max_clients_) {
            ++rejected_clients_;
            // Say why before closing, so that ndproxyctl can tell the operator. The reply is
            // far smaller than a fresh socket's buffer; if it does not fit, EOF says enough.
            static const std::string refusal =
                control::error_reply("too many control clients").dump() + "\n";
            [[maybe_unused]] const ssize_t sent =
                ::send(fd.get(), refusal.data(), refusal.size(), MSG_NOSIGNAL);
            if (active()) {
                monitor::Event event{monitor::Kind::bound};
                event.details["counter"] = "control_clients_rejected";
                publish(std::move(event));
            }
            continue;  // closed on scope exit
        }
        const int key = fd.get();
        clients_.emplace(key, Client{std::move(fd), peer_of(key), {}, {}, nullptr, nullptr});
        loop_.add(key, EPOLLIN,
                  [this, key](std::uint32_t events) { on_client_event(key, events); });
    }
}

void ControlServer::on_client_event(int fd, std::uint32_t events) {
    auto found = clients_.find(fd);
    if (found == clients_.end()) {
        return;
    }
    Client& client = found->second;
    if (events & (EPOLLERR | EPOLLHUP)) {
        close_client(fd);
        return;
    }
    if (events & EPOLLOUT) {
        if (!flush(client)) {
            close_client(fd);
            return;
        }
        if (client.replying()) {
            return;  // EPOLLOUT is level-triggered: the next slice at the next wake-up
        }
        serve_lines(client);  // requests that arrived while the reply was pending
        if (clients_.contains(fd) && !client.replying()) {
            watch(client, false);
        }
        return;
    }
    char buffer[4096];
    const ssize_t received = ::read(fd, buffer, sizeof(buffer));
    if (received <= 0) {
        if (received < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        close_client(fd);
        return;
    }
    client.input.append(buffer, static_cast<std::size_t>(received));
    serve_lines(client);
}

void ControlServer::serve_lines(Client& client) {
    const int fd = client.fd.get();
    while (!client.replying()) {
        if (client.events) {
            client.input.clear();  // a subscriber only listens; EOF is what it may still say
            return;
        }
        const auto newline = client.input.find('\n');
        // Exactly kMaxRequestBytes before the newline, wherever the reads happened to split it.
        const std::size_t line_bytes = newline == std::string::npos ? client.input.size() : newline;
        if (line_bytes > control::kMaxRequestBytes) {
            client.output = control::error_reply("request line too long").dump() + "\n";
            client.input.clear();
            flush(client);
            close_client(fd);  // its framing is lost; a fresh connection is cheap
            return;
        }
        if (newline == std::string::npos) {
            return;
        }
        const std::string line = client.input.substr(0, newline);
        client.input.erase(0, newline + 1);
        control::Reply reply = control::reply_line(line, handler_, client.peer);
        refused_requests_ += reply.refused ? 1 : 0;
        if (reply.subscribe) {
            client.events = std::make_unique<monitor::EventQueue>();
            ++subscribers_;
        }
        client.source = std::move(reply.source);
        if (!client.source) {
            client.output = std::move(reply.line);
            client.output.push_back('\n');
        }
        if (!flush(client)) {
            close_client(fd);
            return;
        }
        if (client.replying()) {
            watch(client, true);
            return;
        }
    }
}

bool ControlServer::flush(Client& client) {
    // One slice per call: the loop gets back to the packets between two slices.
    if (client.output.empty() && client.source && !client.source->append_slice(client.output)) {
        client.source.reset();
    }
    if (client.output.empty() && !client.source && client.events && !client.events->empty()) {
        client.events->take(client.output, kEventSliceBytes, unix_now());
    }
    while (!client.output.empty()) {
        const ssize_t sent =
            ::send(client.fd.get(), client.output.data(), client.output.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            return errno == EAGAIN || errno == EINTR;
        }
        client.output.erase(0, static_cast<std::size_t>(sent));
    }
    return true;
}

void ControlServer::close_client(int fd) {
    const auto found = clients_.find(fd);
    if (found != clients_.end() && found->second.events) {
        --subscribers_;
    }
    loop_.remove(fd);
    clients_.erase(fd);
}

void ControlServer::watch(Client& client, bool writing) {
    if (client.writing != writing) {
        client.writing = writing;
        loop_.modify(client.fd.get(), writing ? EPOLLOUT : EPOLLIN);
    }
}

void ControlServer::publish(monitor::Event event) {
    // Formatted once, and only if some subscriber has room: a flood into full queues costs a
    // count each.
    std::string line;
    for (auto& [fd, client] : clients_) {
        if (!client.events) {
            continue;
        }
        if (line.empty() && !client.events->full()) {
            line = monitor::json_line(event, unix_now());
        }
        if (!client.events->push(line)) {
            ++dropped_events_;
            continue;
        }
        // Written from the loop, never from here: a service is in the middle of its work.
        watch(client, true);
    }
}

}  // namespace ndproxy
