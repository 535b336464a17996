// The control server against abusive clients, on a real Unix socket and the daemon's own event
// loop: garbage, an oversized line, a client that never reads, more clients than allowed. Each
// costs bounded memory, and the server keeps serving everyone else.

#include "daemon/control_server.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ctl/control_client.hpp"

namespace ndproxy {
namespace {

using nlohmann::json;

class ControlServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = ::testing::TempDir() + "ndproxyd-control-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory_ = pattern;
        path_ = directory_ + "/control.sock";
    }
    void TearDown() override {
        server_.reset();
        std::filesystem::remove_all(directory_);
    }

    void start(std::size_t max_clients) {
        server_.emplace(loop_, path_, max_clients, [this](const control::Request& request) {
            ++handled_;
            if (request.command == control::Command::list) {
                return json{{"ok", true}, {"list", json::array()}};
            }
            return json{{"ok", true}, {"stats", {{"handled", handled_}}}};
        });
    }

    UniqueFd connect_client() {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
        EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
            << std::strerror(errno);
        return fd;
    }

    // Runs the loop until nothing is ready.
    void settle() {
        for (int i = 0; i < 1000; ++i) {
            loop_.run_once(0);
        }
    }

    // Sends as much of `data` as the socket takes without blocking; returns how much.
    static std::size_t send_some(int fd, const std::string& data) {
        const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        return sent < 0 ? 0 : static_cast<std::size_t>(sent);
    }

    // What the server has sent so far, and whether it closed the connection.
    static std::pair<std::string, bool> received(int fd) {
        std::string text;
        char buffer[4096];
        for (;;) {
            const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
            if (got == 0) {
                return {text, true};
            }
            if (got < 0) {
                return {text, errno != EAGAIN};
            }
            text.append(buffer, static_cast<std::size_t>(got));
        }
    }

    static std::vector<json> replies(const std::string& text) {
        std::vector<json> out;
        std::size_t start = 0;
        for (std::size_t end; (end = text.find('\n', start)) != std::string::npos;
             start = end + 1) {
            out.push_back(json::parse(text.substr(start, end - start)));
        }
        return out;
    }

    // One ordinary request on a fresh connection; the first reply, or null.
    json serve_one_request() {
        UniqueFd fd = connect_client();
        EXPECT_EQ(send_some(fd.get(), "{\"command\":\"stats\"}\n"), 20u);
        settle();
        const auto lines = replies(received(fd.get()).first);
        return lines.empty() ? json() : lines.front();
    }

    // What ndproxyctl's client makes of `command`: it blocks, so the loop runs meanwhile.
    std::string ctl_error(const std::string& command) {
        std::atomic<bool> done = false;
        std::string error;
        std::thread client([&] {
            try {
                ctl::send_command(path_, command, std::chrono::seconds(5));
            } catch (const ctl::ControlError& e) {
                error = e.what();
            }
            done = true;
        });
        while (!done) {
            loop_.run_once(10);
        }
        client.join();
        return error;
    }

    std::string directory_;
    std::string path_;
    EventLoop loop_;
    std::optional<ControlServer> server_;
    int handled_ = 0;
};

TEST_F(ControlServerTest, GarbageGetsAnErrorAndTheConnectionStaysUsable) {
    start(4);
    UniqueFd client = connect_client();
    const std::string garbage = std::string("\x00\xff\xfe{]", 5) + "\n" + "not json\n" + "[1,2]\n" +
                                "{\"command\": 7}\n" + "{\"command\": \"\xc3\x28\"}\n" +
                                "{\"command\":\"list\"}\n";
    ASSERT_EQ(send_some(client.get(), garbage), garbage.size());
    settle();
    const auto [text, closed] = received(client.get());
    EXPECT_FALSE(closed);
    const auto lines = replies(text);
    ASSERT_EQ(lines.size(), 6u) << text;
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(lines[i]["ok"], false) << lines[i];
        EXPECT_TRUE(lines[i]["error"].is_string()) << lines[i];
    }
    EXPECT_EQ(lines[5], (json{{"ok", true}, {"list", json::array()}}));
    EXPECT_EQ(handled_, 1);
}

TEST_F(ControlServerTest, AnOversizedLineIsRefusedAndTheClientDropped) {
    start(4);
    UniqueFd client = connect_client();
    // Far more than a line may hold, sent while the server reads: it must not keep it all.
    const std::string chunk(16384, 'x');
    std::size_t sent = 0;
    for (int i = 0; i < 64 && sent < (1u << 20); ++i) {
        sent += send_some(client.get(), chunk);
        loop_.run_once(0);
    }
    settle();
    const auto [text, closed] = received(client.get());
    EXPECT_TRUE(closed);
    EXPECT_EQ(replies(text),
              (std::vector{json{{"ok", false}, {"error", "request line too long"}}}));
    EXPECT_EQ(server_->client_count(), 0u);
    EXPECT_EQ(serve_one_request()["ok"], true);
}

// The limit is exactly what control_protocol.hpp and README say: kMaxRequestBytes before the
// newline, however the line arrives. Both lines come in two writes, split inside the line.
TEST_F(ControlServerTest, TheLineLimitIsExactWhereverTheReadsSplitIt) {
    start(4);
    // {"command":"stats", padding, } is valid JSON of exactly the limit.
    const std::string head = "{\"command\":\"stats\",\"pad\":\"";
    const std::string tail = "\"}";
    const std::string longest =
        head + std::string(control::kMaxRequestBytes - head.size() - tail.size(), 'x') + tail;
    ASSERT_EQ(longest.size(), control::kMaxRequestBytes);
    for (const std::string& line : {longest, longest + " "}) {
        UniqueFd client = connect_client();
        ASSERT_EQ(send_some(client.get(), line.substr(0, 3000)), 3000u);
        settle();
        ASSERT_EQ(send_some(client.get(), line.substr(3000) + "\n"), line.size() - 3000 + 1);
        settle();
        const auto [text, closed] = received(client.get());
        if (line.size() == control::kMaxRequestBytes) {
            EXPECT_FALSE(closed);
            EXPECT_EQ(replies(text).at(0)["ok"], true) << text;
        } else {
            EXPECT_TRUE(closed);
            EXPECT_EQ(replies(text),
                      (std::vector{json{{"ok", false}, {"error", "request line too long"}}}));
        }
    }
}

TEST_F(ControlServerTest, AClientThatNeverReadsHoldsOneReplyAndBlocksNobody) {
    start(4);
    UniqueFd hog = connect_client();
    // Requests until its socket is full: the server stops reading it once a reply is pending.
    const std::string request = "{\"command\":\"stats\"}\n";
    std::size_t requests = 0;
    for (int i = 0; i < 100000; ++i) {
        if (send_some(hog.get(), request) != request.size()) {
            break;
        }
        ++requests;
        loop_.run_once(0);
    }
    settle();
    ASSERT_GT(requests, 100u) << "the test never filled the socket";
    // The server answered only what fit into the hog's socket, and holds at most one reply.
    EXPECT_LT(handled_, static_cast<int>(requests));
    const int handled_before = handled_;
    EXPECT_EQ(serve_one_request()["ok"], true);
    EXPECT_EQ(handled_, handled_before + 1);
    // Once the hog reads, it is served again.
    received(hog.get());
    settle();
    EXPECT_GT(handled_, handled_before + 1);
}

TEST_F(ControlServerTest, ClientsBeyondTheLimitAreToldAndCounted) {
    start(2);
    UniqueFd first = connect_client();
    UniqueFd second = connect_client();
    UniqueFd third = connect_client();
    settle();
    EXPECT_EQ(server_->client_count(), 2u);
    EXPECT_EQ(server_->rejected_clients(), 1u);
    const auto [text, closed] = received(third.get());
    EXPECT_TRUE(closed);
    EXPECT_EQ(replies(text),
              (std::vector{json{{"ok", false}, {"error", "too many control clients"}}}));
    // ndproxyctl reports the refusal, not a lost connection.
    EXPECT_EQ(ctl_error("stats"), "ndproxyd: too many control clients");
    EXPECT_EQ(server_->rejected_clients(), 2u);
    // A slot that frees up is taken by the next client.
    first.reset();
    settle();
    EXPECT_EQ(server_->client_count(), 1u);
    EXPECT_EQ(serve_one_request()["ok"], true);
    settle();  // that client has gone again
    // SIGHUP may raise the limit.
    server_->set_max_clients(3);
    UniqueFd fourth = connect_client();
    UniqueFd fifth = connect_client();
    settle();
    EXPECT_EQ(server_->client_count(), 3u);
    EXPECT_EQ(server_->rejected_clients(), 2u);
    EXPECT_EQ(ctl_error("stats"), "ndproxyd: too many control clients");
}

// A long reply (the list of a full table) is written a slice at a time: a lister that does not
// read holds what its socket takes and one slice, not the whole reply, and everyone else is
// served meanwhile.
class SlicedReply final : public control::ReplySource {
public:
    SlicedReply(int& made, int total) : made_(made), total_(total) {}
    bool append_slice(std::string& out) override {
        ++made_;
        out.append(kSliceBytes, 'x');
        if (made_ < total_) {
            return true;
        }
        out += '\n';
        return false;
    }
    static constexpr std::size_t kSliceBytes = 64 * 1024;

private:
    int& made_;
    int total_;
};

TEST_F(ControlServerTest, ALongReplyIsWrittenASliceAtATimeAsTheClientReads) {
    constexpr int kSlices = 500;  // 32 MiB
    int made = 0;
    server_.emplace(loop_, path_, 4, [&](const control::Request& request) -> control::Answer {
        if (request.command == control::Command::list) {
            return std::unique_ptr<control::ReplySource>(new SlicedReply(made, kSlices));
        }
        return json{{"ok", true}, {"stats", json::object()}};
    });
    UniqueFd lister = connect_client();
    ASSERT_EQ(send_some(lister.get(), "{\"command\":\"list\"}\n"), 19u);
    settle();
    EXPECT_GT(made, 0);
    EXPECT_LT(made, 20) << "slices made ahead of a client that does not read";
    EXPECT_EQ(serve_one_request()["ok"], true);
    std::size_t total = 0;
    bool complete = false;
    for (int round = 0; round < 100000 && !complete; ++round) {
        const auto [text, closed] = received(lister.get());
        ASSERT_FALSE(closed);
        total += text.size();
        complete = !text.empty() && text.back() == '\n';
        EXPECT_EQ(text.find('\n'), complete ? text.size() - 1 : std::string::npos);
        loop_.run_once(0);
    }
    EXPECT_TRUE(complete);
    EXPECT_EQ(made, kSlices);
    EXPECT_EQ(total, kSlices * SlicedReply::kSliceBytes + 1);
    // The connection serves the next request as before.
    ASSERT_EQ(send_some(lister.get(), "{\"command\":\"stats\"}\n"), 20u);
    settle();
    EXPECT_EQ(replies(received(lister.get()).first).size(), 1u);
}

// `monitor`: a subscriber gets every event while it keeps up; one that never reads costs its
// bounded queue, the events it misses are counted, and it learns how many once it reads again.
TEST_F(ControlServerTest, ASubscriberThatNeverReadsOnlyMissesEvents) {
    start(4);
    UniqueFd reader = connect_client();
    UniqueFd hog = connect_client();
    const std::string subscribe = "{\"command\":\"monitor\"}\n";
    ASSERT_EQ(send_some(reader.get(), subscribe), subscribe.size());
    ASSERT_EQ(send_some(hog.get(), subscribe), subscribe.size());
    settle();
    EXPECT_TRUE(server_->active());
    std::string seen = received(reader.get()).first;
    constexpr int kEvents = 20000;
    for (int i = 0; i < kEvents; ++i) {
        monitor::Event event{monitor::Kind::added, Ipv6Address::parse("2001:db8:1::10")};
        event.details["n"] = i;
        server_->publish(std::move(event));
        if (i % 500 == 499) {
            settle();
            seen += received(reader.get()).first;
        }
    }
    const auto lines = replies(seen);
    ASSERT_EQ(lines.size(), kEvents + 1u);
    EXPECT_EQ(lines.front(), (json{{"ok", true}}));
    EXPECT_EQ(lines.back()["n"], kEvents - 1);
    EXPECT_EQ(handled_, 0) << "monitor is the server's own";
    // The hog's queue filled and the rest went uncounted for it, while the server served others.
    const std::uint64_t dropped = server_->dropped_events();
    EXPECT_GT(dropped, kEvents / 2u);
    EXPECT_EQ(serve_one_request()["ok"], true);
    std::string hogged;
    for (int i = 0; i < 1000 && hogged.find("\"dropped\"") == std::string::npos; ++i) {
        settle();
        hogged += received(hog.get()).first;
    }
    const auto missed = replies(hogged);
    ASSERT_FALSE(missed.empty());
    EXPECT_EQ(missed.back()["event"], "dropped");
    EXPECT_EQ(missed.back()["count"], dropped);
    EXPECT_EQ(missed.size() - 2 + dropped, static_cast<std::uint64_t>(kEvents))
        << "every event either sent or counted";
    reader.reset();
    hog.reset();
    settle();
    EXPECT_FALSE(server_->active());
}

}  // namespace
}  // namespace ndproxy
