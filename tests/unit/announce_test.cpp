// `ndproxyctl announce`: the request, the policy's answer to it and the client's exchange.

#include <gtest/gtest.h>

#include <variant>

#include "core/control_protocol.hpp"
#include "core/mirror_policy.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

const Ipv6Address kVm = *Ipv6Address::parse("2001:db8:1::10");

// Reads are for anyone who can connect; what changes the daemon's state needs uid 0 or the
// daemon's own uid, and the handler never sees a refused request.
TEST(ControlRequest, ChangingCommandsNeedAPeerThatMayChange) {
    int handled = 0;
    const control::RequestHandler handler = [&](const control::Request&) {
        ++handled;
        return nlohmann::json{{"ok", true}};
    };
    for (const char* line :
         {R"({"command": "list"})", R"({"command": "stats"})", R"({"command": "status"})"}) {
        const control::Reply reply = control::reply_line(line, handler, control::Peer{false});
        EXPECT_FALSE(reply.refused) << line;
        EXPECT_EQ(reply.line, R"({"ok":true})") << line;
    }
    EXPECT_EQ(handled, 3);
    const control::Reply resync =
        control::reply_line(R"({"command": "resync"})", handler, control::Peer{false});
    EXPECT_TRUE(resync.refused);
    EXPECT_EQ(nlohmann::json::parse(resync.line)["error"],
              "permission denied: \"resync\" changes the daemon's state and needs uid 0 or the "
              "daemon's own user");
    const control::Reply announce = control::reply_line(
        R"({"command": "announce", "address": "2001:db8:1::10"})", handler, control::Peer{false});
    EXPECT_TRUE(announce.refused);
    EXPECT_EQ(handled, 3);
    EXPECT_FALSE(
        control::reply_line(R"({"command": "resync"})", handler, control::Peer{true}).refused);
    EXPECT_EQ(handled, 4);
}

TEST(AnnounceRequest, NeedsAValidAddress) {
    const auto good =
        control::parse_request(R"({"command": "announce", "address": "2001:db8:1::10"})");
    ASSERT_TRUE(good.request);
    EXPECT_EQ(good.request->command, control::Command::announce);
    EXPECT_EQ(good.request->address, kVm);
    const std::string needs = "announce needs an \"address\" string or \"all\": true";
    EXPECT_EQ(control::parse_request(R"({"command": "announce"})").error, needs);
    EXPECT_EQ(control::parse_request(R"({"command": "announce", "address": 7})").error, needs);
    EXPECT_EQ(control::parse_request(R"({"command": "announce", "all": false})").error, needs);
    EXPECT_EQ(
        control::parse_request(R"({"command": "announce", "all": true, "address": "::1"})").error,
        needs);
    const auto all = control::parse_request(R"({"command": "announce", "all": true})");
    ASSERT_TRUE(all.request);
    EXPECT_TRUE(all.request->all);
    EXPECT_FALSE(all.request->address);
    EXPECT_EQ(control::parse_request(R"({"command": "announce", "address": "vm1"})").error,
              "invalid IPv6 address \"vm1\"");
    // The other commands carry none.
    EXPECT_FALSE(control::parse_request(R"({"command": "status"})").request->address);
}

class AnnouncePolicyTest : public ::testing::Test {
protected:
    MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        s.announce_count = 0;  // --no-announce: the request still sends what it asks for
        s.announce_interval = 1s;
        return s;
    }
    static std::size_t announcements(const Actions& actions) {
        std::size_t count = 0;
        for (const Action& action : actions) {
            count += std::holds_alternative<action::Announce>(action) ? 1 : 0;
        }
        return count;
    }
    MirrorPolicy policy{settings()};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(AnnouncePolicyTest, SendsTheRequestedCountIntervalApart) {
    const Actions installed = policy.on_neighbour(
        NeighbourUpdate{3, kVm, MacAddress{{2, 0, 0, 0, 0, 1}}, nud::reachable, false}, t0);
    EXPECT_EQ(announcements(installed), 0u);
    const auto now = policy.announce(kVm, 3, t0 + 10s);
    ASSERT_TRUE(now);
    EXPECT_EQ(announcements(*now), 1u);
    EXPECT_EQ(policy.next_wakeup(), t0 + 11s);
    EXPECT_EQ(announcements(policy.on_timer(t0 + 11s)), 1u);
    EXPECT_EQ(announcements(policy.on_timer(t0 + 12s)), 1u);
    EXPECT_EQ(announcements(policy.on_timer(t0 + 13s)), 0u);
    EXPECT_FALSE(policy.next_wakeup());
}

TEST_F(AnnouncePolicyTest, AnAddressNotProxiedHereIsRefused) {
    EXPECT_FALSE(policy.announce(kVm, 3, t0));
}

}  // namespace
}  // namespace ndproxy
