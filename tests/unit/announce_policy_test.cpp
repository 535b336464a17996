// docs/design.md §Announcements: the mirror announces changes, not state. What the start finds
// (the neighbour table, its own kernel entries, the state file's addresses) is not announced; an
// address that arrives while the daemon runs, or returns after its neighbour went, is; a
// resynchronisation announces only what is new.

#include <gtest/gtest.h>

#include "core/mirror_policy.hpp"
#include "core/responder_state.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::addresses_of;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

constexpr int kBr0 = 3;
const MacAddress kMac{{2, 0, 0, 0, 0, 0x10}};

NeighbourUpdate neighbour(const char* address, std::uint16_t state = nud::reachable) {
    return NeighbourUpdate{kBr0, addr(address), kMac, state, false};
}

class AnnounceChangesTest : public ::testing::Test {
protected:
    static MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        s.kernel_entries = 1;  // the rest on the responder path
        return s;
    }
    std::vector<Ipv6Address> announced(const Actions& actions) {
        return addresses_of<action::Announce>(actions);
    }
    MirrorPolicy policy{settings()};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(AnnounceChangesTest, TheStartIsNotAnnouncedWhatArrivesLaterIs) {
    KernelSnapshot start;
    start.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::20")};
    start.proxies.owned = {addr("2001:db8:1::30")};  // an earlier run's, without a neighbour
    const Actions actions = policy.reconcile(start, t0);
    EXPECT_EQ(policy.entries().size(), 3u);
    EXPECT_TRUE(announced(actions).empty());
    for (const auto& [address, entry] : policy.entries()) {
        EXPECT_EQ(entry.announcements_left, 0u) << address.to_string();
    }

    // Arrives while the daemon runs: announced, the first one at once, the repeats flagged.
    const Actions arrival = policy.on_neighbour(neighbour("2001:db8:1::40"), t0 + 1s);
    ASSERT_EQ(announced(arrival), std::vector{addr("2001:db8:1::40")});
    EXPECT_FALSE(std::get<action::Announce>(arrival.back()).repeat);
    const Actions repeat = policy.on_timer(t0 + 2s);
    ASSERT_EQ(announced(repeat), std::vector{addr("2001:db8:1::40")});
    EXPECT_TRUE(std::get<action::Announce>(repeat.back()).repeat);

    // A resync (a netlink overflow) announces only what it finds new.
    KernelSnapshot later = start;
    later.neighbours.push_back(neighbour("2001:db8:1::40"));
    later.neighbours.push_back(neighbour("2001:db8:1::50"));
    EXPECT_EQ(announced(policy.reconcile(later, t0 + 5s)), std::vector{addr("2001:db8:1::50")});
}

TEST_F(AnnounceChangesTest, AVmThatReturnsIsAnnouncedOneNeverGoneIsNot) {
    KernelSnapshot start;
    start.neighbours = {neighbour("2001:db8:1::10")};
    start.proxies.owned = {addr("2001:db8:1::20")};
    policy.reconcile(start, t0);
    // The adopted entry is being confirmed: its VM speaking up is no return.
    ASSERT_TRUE(policy.entries().at(addr("2001:db8:1::20")).gone_since);
    EXPECT_TRUE(announced(policy.on_neighbour(neighbour("2001:db8:1::20"), t0 + 1s)).empty());
    // Nor is a VM the slow timer confirms because no neighbour vouches for it any more.
    policy.on_neighbour(neighbour("2001:db8:1::20", nud::none), t0 + 2s);  // no state: none
    EXPECT_TRUE(announced(policy.confirm_unvouched(t0 + 2s)).empty());
    EXPECT_TRUE(announced(policy.on_neighbour(neighbour("2001:db8:1::20"), t0 + 3s)).empty());
    // Its neighbour deleted, then back: it may have been behind another host meanwhile.
    NeighbourUpdate gone = neighbour("2001:db8:1::10");
    gone.deleted = true;
    policy.on_neighbour(gone, t0 + 4s);
    EXPECT_EQ(announced(policy.on_neighbour(neighbour("2001:db8:1::10"), t0 + 5s)),
              std::vector{addr("2001:db8:1::10")});
}

TEST_F(AnnounceChangesTest, AKernelEntryPutBackIsNotAnnouncedAgain) {
    KernelSnapshot start;
    start.neighbours = {neighbour("2001:db8:1::10")};
    policy.reconcile(start, t0);
    const Actions repaired = policy.sync_proxy_table({}, t0 + 60s);
    EXPECT_EQ(addresses_of<action::Install>(repaired), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(announced(repaired).empty());
}

TEST_F(AnnounceChangesTest, TheStateFileIsAdoptedAndConfirmedNotAnnounced) {
    policy.remember({addr("2001:db8:1::10"), addr("2001:db8:1::20"), addr("2001:db8:9::1")});
    KernelSnapshot start;
    start.neighbours = {neighbour("2001:db8:1::10")};
    const Actions actions = policy.reconcile(start, t0);
    EXPECT_TRUE(announced(actions).empty());
    EXPECT_EQ(policy.entries().size(), 2u) << "out of scope: not adopted";
    const MirrorEntry& adopted = policy.entries().at(addr("2001:db8:1::20"));
    EXPECT_TRUE(adopted.gone_since) << "confirmed like an adopted kernel entry";
    EXPECT_NE(adopted.path, Path::pending) << "answered meanwhile";
    EXPECT_EQ(addresses_of<action::Probe>(actions), std::vector{addr("2001:db8:1::20")});
    // The VM answers: live, and still not announced.
    EXPECT_TRUE(
        announced(policy.on_advertisement(kBr0, addr("2001:db8:1::20"), kMac, t0 + 1s)).empty());
    EXPECT_FALSE(policy.entries().at(addr("2001:db8:1::20")).gone_since);
    // Only the first reconcile reads it.
    policy.remember({addr("2001:db8:1::30")});
    policy.reconcile(start, t0 + 2s);
    EXPECT_FALSE(policy.entries().contains(addr("2001:db8:1::30")));
}

TEST_F(AnnounceChangesTest, TheResponderPathIsWhatTheStateFileHolds) {
    const std::uint64_t before = policy.responder_changes();
    KernelSnapshot start;
    start.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::30"),
                        neighbour("2001:db8:1::20")};
    policy.reconcile(start, t0);
    EXPECT_EQ(policy.responder_changes(), before + 2);
    std::vector<Ipv6Address> held;
    responder_state::add_responder_held(policy, held);
    ASSERT_EQ(held.size(), 2u) << "one of the three is in the kernel";
    EXPECT_LT(held[0], held[1]) << "in address order";
    const auto round_trip = responder_state::parse(responder_state::format(held));
    ASSERT_TRUE(round_trip);
    EXPECT_EQ(*round_trip, held);
}

TEST(ResponderState, ACorruptFileReadsAsNothing) {
    EXPECT_EQ(responder_state::parse("ndproxyd-state 1\n"), std::vector<Ipv6Address>{});
    EXPECT_EQ(responder_state::parse("ndproxyd-state 1\n2001:db8::1"),
              std::vector{addr("2001:db8::1")})
        << "a last line without its newline is still whole";
    EXPECT_FALSE(responder_state::parse(""));
    EXPECT_FALSE(responder_state::parse("ndproxyd-state 2\n2001:db8::1\n"));
    EXPECT_FALSE(responder_state::parse("ndproxyd-state 1\n2001:db8::1\ngarbage\n"));
    EXPECT_FALSE(responder_state::parse("ndproxyd-state 1\n\n"));
    EXPECT_FALSE(responder_state::parse(std::string("ndproxyd-state 1\n2001:db8::1\0\n", 30)));
}

}  // namespace
}  // namespace ndproxy
