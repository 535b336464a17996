#include "ctl/control_client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "core/unique_fd.hpp"

namespace ndproxy::ctl {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const ControlError& error) {
        return error.what();
    }
    return "";
}

// A daemon stand-in on a real Unix socket: accepts one connection, reads the request line and
// hands it to `respond`, which writes whatever it likes back.
class FakeDaemon {
public:
    using Responder = std::function<void(int fd, const std::string& request)>;

    FakeDaemon(const std::string& path, Responder respond) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const bool listening =
            ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
            ::listen(listener_.get(), 1) == 0;
        if (!listening) {
            ADD_FAILURE() << "cannot listen on " << path << ": " << std::strerror(errno);
            return;  // without a thread that would wait in accept() forever
        }
        thread_ = std::thread([this, respond = std::move(respond)] {
            UniqueFd client(::accept(listener_.get(), nullptr, nullptr));
            std::string request;
            char c = 0;
            while (::recv(client.get(), &c, 1, 0) == 1 && c != '\n') {
                request += c;
            }
            respond(client.get(), request);
        });
    }
    ~FakeDaemon() {
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    static void send_text(int fd, const std::string& text) {
        ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    }

private:
    UniqueFd listener_;
    std::thread thread_;
};

class ControlClientTest : public testing::Test {
protected:
    void SetUp() override {
        std::string pattern = testing::TempDir() + "ndproxyctl-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory_ = pattern;
        socket_ = directory_ + "/control.sock";
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    std::string directory_;
    std::string socket_;
};

TEST_F(ControlClientTest, SendsOneLineAndReturnsThePayload) {
    std::string seen;
    json payload;
    {
        FakeDaemon daemon(socket_, [&](int fd, const std::string& request) {
            seen = request;
            FakeDaemon::send_text(fd, R"({"ok": true, "list": [{"address": "2001:db8::1"}]})"
                                      "\n");
        });
        payload = send_command(socket_, "list");
    }
    EXPECT_EQ(json::parse(seen), (json{{"command", "list"}}));
    EXPECT_EQ(payload, json::parse(R"([{"address": "2001:db8::1"}])"));
}

TEST_F(ControlClientTest, RefusalNamesTheDaemon) {
    FakeDaemon daemon(socket_, [](int fd, const std::string&) {
        FakeDaemon::send_text(fd, "{\"ok\": false, \"error\": \"unknown command \\\"x\\\"\"}\n");
    });
    EXPECT_EQ(error_of([&] { send_command(socket_, "stats"); }), "ndproxyd: unknown command \"x\"");
}

TEST_F(ControlClientTest, NoDaemon) {
    EXPECT_EQ(
        error_of([&] { send_command(socket_, "list"); }),
        "cannot reach ndproxyd at " + socket_ + ": No such file or directory (is it running?)");
}

TEST_F(ControlClientTest, SilentDaemonTimesOut) {
    FakeDaemon daemon(socket_, [](int fd, const std::string&) {
        char c = 0;
        ::recv(fd, &c, 1, 0);  // until the client gives up and closes
    });
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(error_of([&] { send_command(socket_, "status", 200ms); }),
              "ndproxyd at " + socket_ + " did not answer within 0.2 s");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// A list longer than the old 16 MiB cap, and longer in coming than the timeout: the client
// reads it whole as long as the daemon does not pause for the timeout.
TEST_F(ControlClientTest, ALongListArrivingInPiecesIsReadWhole) {
    constexpr int kPieces = 10;
    constexpr std::size_t kEntriesPerPiece = 2'000;  // 2 MB a piece, 20 MB in all
    const std::string entry =
        R"({"address":"2001:db8::1","padding":")" + std::string(1000, 'x') + "\"}";
    FakeDaemon daemon(socket_, [&](int fd, const std::string&) {
        std::string piece;
        for (int i = 0; i < kPieces; ++i) {
            piece = i == 0 ? R"({"ok":true,"list":[)" : ",";
            for (std::size_t j = 0; j < kEntriesPerPiece; ++j) {
                piece += j == 0 ? entry : "," + entry;
            }
            if (i == kPieces - 1) {
                piece += "]}\n";
            }
            for (std::string_view rest = piece; !rest.empty();) {
                const ssize_t sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
                if (sent <= 0) {
                    return;
                }
                rest.remove_prefix(static_cast<std::size_t>(sent));
            }
            std::this_thread::sleep_for(60ms);  // 0.6 s in all, pauses far below the timeout
        }
    });
    const json list = send_command(socket_, "list", 300ms);
    ASSERT_TRUE(list.is_array());
    EXPECT_EQ(list.size(), kPieces * kEntriesPerPiece);
    static_assert(kMaxReplyBytes > std::size_t{16} << 20);
}

TEST_F(ControlClientTest, ClosedWithoutReply) {
    FakeDaemon daemon(socket_, [](int, const std::string&) {});
    EXPECT_EQ(error_of([&] { send_command(socket_, "list"); }),
              "ndproxyd at " + socket_ + " closed the connection without replying");
}

TEST_F(ControlClientTest, ReplyWithoutNewlineBeforeCloseIsAccepted) {
    FakeDaemon daemon(
        socket_, [](int fd, const std::string&) { FakeDaemon::send_text(fd, R"({"ok": true})"); });
    EXPECT_EQ(send_command(socket_, "resync"), json());
}

TEST_F(ControlClientTest, AnnounceSendsTheAddressAndReportsARefusal) {
    std::string received;
    {
        FakeDaemon daemon(socket_, [&](int fd, const std::string& line) {
            received = line;
            FakeDaemon::send_text(fd,
                                  R"({"ok": false, "error": "2001:db8:1::10 is not proxied here"})"
                                  "\n");
        });
        const auto announce = [&] {
            send_request(socket_, {{"command", "announce"}, {"address", "2001:db8:1::10"}});
        };
        EXPECT_EQ(error_of(announce), "ndproxyd: 2001:db8:1::10 is not proxied here");
    }  // the fake daemon's thread is joined: `received` is settled
    EXPECT_EQ(json::parse(received),
              (json{{"command", "announce"}, {"address", "2001:db8:1::10"}}));
}

TEST(PayloadOfReply, ChecksTheProtocol) {
    EXPECT_EQ(payload_of_reply(R"({"ok": true, "stats": {"resyncs": 1}})", "stats"),
              (json{{"resyncs", 1}}));
    EXPECT_EQ(payload_of_reply(R"({"ok": true})", "resync"), json());
    EXPECT_EQ(error_of([] { payload_of_reply("garbage", "list"); }),
              "ndproxyd sent a reply that is not a JSON object");
    EXPECT_EQ(error_of([] { payload_of_reply("[1]", "list"); }),
              "ndproxyd sent a reply that is not a JSON object");
    EXPECT_EQ(error_of([] { payload_of_reply(R"({"list": []})", "list"); }),
              "ndproxyd sent a reply without an \"ok\" field");
    EXPECT_EQ(error_of([] { payload_of_reply(R"({"ok": true, "list": {}})", "list"); }),
              "ndproxyd sent a reply without a \"list\" array");
    EXPECT_EQ(error_of([] { payload_of_reply(R"({"ok": true})", "status"); }),
              "ndproxyd sent a reply without a \"status\" object");
    EXPECT_EQ(error_of([] { payload_of_reply(R"({"ok": false})", "status"); }),
              "ndproxyd: the request failed, no reason given");
}

}  // namespace
}  // namespace ndproxy::ctl
