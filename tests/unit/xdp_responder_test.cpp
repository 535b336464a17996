// The XDP responder (docs/design.md §Fast path), the real program run by the kernel
// (BPF_PROG_TEST_RUN): for a responder-held address or a kernel entry it sends back, byte for
// byte, the frame the userspace responder would send (ResponderService::answer through the
// codec); it refuses
// by the same limits; everything it cannot decide passes unchanged. Needs CAP_BPF: skipped
// without.
#include "linux/solicitation_filter.hpp"

#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"

namespace ndproxy {
namespace {

constexpr long kDrop = XDP_DROP;
constexpr long kPass = XDP_PASS;
constexpr long kAnswer = XDP_TX;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

const MacAddress kRouterMac{{0x02, 0, 0, 0, 0x0e, 0xff}};
const MacAddress kUplinkMac{{0x02, 0, 0, 0, 0x0e, 0x01}};
const Ipv6Address kRouter = addr("fe80::ff");
const Ipv6Address kUplinkLinkLocal = addr("fe80::1");
const Ipv6Address kHeld = addr("2001:db8:1::20");
const Ipv6Address kKernelHeld = addr("2001:db8:1::10");

std::vector<std::uint8_t> solicitation(const Ipv6Address& target,
                                       const Ipv6Address& source = kRouter,
                                       std::optional<MacAddress> lladdr = kRouterMac,
                                       const MacAddress& ether_source = kRouterMac) {
    const Ipv6Address group = target.solicited_node();
    return ndp::build_icmpv6_frame(ether_source, ndp::multicast_mac(group), source, group,
                                   ndp::build_solicitation(target, lladdr));
}

// What ResponderService::answer sends for `target` to `to`.
std::vector<std::uint8_t> userspace_answer(const Ipv6Address& target, const Ipv6Address& to,
                                           const Ipv6Address& source = kUplinkLinkLocal,
                                           const MacAddress& ether_to = kRouterMac,
                                           bool router = false) {
    return ndp::build_icmpv6_frame(
        kUplinkMac, ether_to, source, to,
        ndp::build_advertisement(target, {router, true, false}, kUplinkMac));
}

class XdpResponderTest : public ::testing::Test {
protected:
    void SetUp() override {
        try {
            filter.emplace(64);
            filter->enable_answers(XdpResponder::Attach::generic);
        } catch (const std::system_error& error) {
            // Only for want of privilege: a program the verifier rejects is a failure.
            if (error.code().value() != EPERM && error.code().value() != EACCES) {
                throw;
            }
            GTEST_SKIP() << "cannot load BPF programs here: " << error.what();
        }
        ASSERT_TRUE(filter->set_scope({*Ipv6Prefix::parse("2001:db8:1::/64")}));
        ASSERT_TRUE(filter->set_targets({{kKernelHeld, FilterTarget::kernel},
                                         {addr("2001:db8:1::1"), FilterTarget::own},
                                         {kHeld, FilterTarget::answer}},
                                        false));
        settings.per_source = 1000;
        settings.total = 100000;
        filter->set_answers(settings);
        filter->set_uplink(kUplinkMac, kUplinkLinkLocal);
        ASSERT_TRUE(filter->note_answered(kHeld));
    }
    long run(const std::vector<std::uint8_t>& frame) {
        out.clear();
        const long verdict = filter->responder()->run(frame, out);
        EXPECT_GE(verdict, 0) << "BPF_PROG_TEST_RUN failed";
        if (verdict == kPass) {
            EXPECT_EQ(out, frame) << "a passed frame must go on unchanged";
        }
        return verdict;
    }
    std::optional<SolicitationFilter> filter;
    FastAnswerSettings settings;
    std::vector<std::uint8_t> out;
};

TEST_F(XdpResponderTest, AnswersAHeldAddressExactlyAsUserspaceWould) {
    ASSERT_EQ(run(solicitation(kHeld)), kAnswer);
    EXPECT_EQ(out, userspace_answer(kHeld, kRouter));
    // A unicast solicitation without a source link-layer option grows by the answer's option.
    const Ipv6Address vm = addr("2001:db8:1::99");
    const auto unicast = ndp::build_icmpv6_frame(kRouterMac, kUplinkMac, vm, kHeld,
                                                 ndp::build_solicitation(kHeld, std::nullopt));
    ASSERT_EQ(run(unicast), kAnswer);
    EXPECT_EQ(out, userspace_answer(kHeld, vm));
    EXPECT_EQ(filter->answer_counts().answered, 2u);
    EXPECT_TRUE(filter->last_seen(*Ipv6Prefix::parse("2001:db8:1::/64")).has_value());
}

TEST_F(XdpResponderTest, AnswersWithTheConfiguredFlagsAndSource) {
    settings.router = true;
    settings.from_target = true;
    filter->set_answers(settings);
    ASSERT_EQ(run(solicitation(kHeld)), kAnswer);
    EXPECT_EQ(out, userspace_answer(kHeld, kRouter, kHeld, kRouterMac, true));
    // Until the uplink's link-local address is known, the target answers for itself, as in
    // ResponderService::answer.
    settings.from_target = false;
    filter->set_answers(settings);
    filter->set_uplink(kUplinkMac, std::nullopt);
    ASSERT_EQ(run(solicitation(kHeld)), kAnswer);
    EXPECT_EQ(out, userspace_answer(kHeld, kRouter, kHeld, kRouterMac, true));
}

TEST_F(XdpResponderTest, PassesWhatItCannotDecide) {
    const Ipv6Address unknown = addr("2001:db8:1::30");
    EXPECT_EQ(run(solicitation(unknown)), kPass);                             // a verification's
    EXPECT_EQ(run(solicitation(addr("2001:db8:1::1"))), kPass);               // the host's own
    EXPECT_EQ(run(solicitation(addr("2001:db8:2::20"))), kPass);              // out of scope
    EXPECT_EQ(run(solicitation(kHeld, Ipv6Address{}, std::nullopt)), kPass);  // DAD
    auto frame = solicitation(kHeld);
    frame[21] = 254;  // RFC 4861 §7.1.1: hop limit 255
    EXPECT_EQ(run(frame), kPass);
    frame = solicitation(kHeld);
    frame.back() ^= 1;  // checksum
    EXPECT_EQ(run(frame), kPass);
    frame = solicitation(kHeld);
    frame[55] = 1;  // code
    EXPECT_EQ(run(frame), kPass);
    // Addressed to another host's MAC: the packet socket's PACKET_OTHERHOST.
    frame = ndp::build_icmpv6_frame(kRouterMac, kRouterMac, kRouter, kHeld,
                                    ndp::build_solicitation(kHeld, kRouterMac));
    EXPECT_EQ(run(frame), kPass);
    // A multicast Ethernet source.
    EXPECT_EQ(run(solicitation(kHeld, kRouter, kRouterMac, MacAddress{{0x03, 0, 0, 0, 0, 1}})),
              kPass);
    // Not yet answered by the responder's socket, whose first answer joins the group.
    const Ipv6Address fresh = addr("2001:db8:1::40");
    ASSERT_TRUE(filter->set_targets({{fresh, FilterTarget::answer}}, false));
    EXPECT_EQ(run(solicitation(fresh)), kPass);
    ASSERT_TRUE(filter->note_answered(fresh));
    EXPECT_EQ(run(solicitation(fresh)), kAnswer);
    // Withdrawn: passed again at once.
    ASSERT_TRUE(filter->set_targets({{fresh, FilterTarget::none}}, false));
    EXPECT_EQ(run(solicitation(fresh)), kPass);
    EXPECT_EQ(filter->answer_counts().answered, 1u);
}

TEST_F(XdpResponderTest, AnswersEveryTargetInScopeInAlwaysModeAndRoutedBlocks) {
    const Ipv6Address unknown = addr("2001:db8:1::30");
    ASSERT_TRUE(filter->set_blocks({*Ipv6Prefix::parse("2001:db8:1:0:1::/80")}));
    EXPECT_EQ(run(solicitation(addr("2001:db8:1:0:1::7"))), kAnswer);
    EXPECT_EQ(run(solicitation(unknown)), kPass);
    ASSERT_TRUE(filter->set_blocks({}));
    EXPECT_EQ(run(solicitation(addr("2001:db8:1:0:1::7"))), kPass);
    settings.answer_all = true;
    filter->set_answers(settings);
    EXPECT_EQ(run(solicitation(unknown)), kAnswer);
    EXPECT_EQ(run(solicitation(kKernelHeld)), kAnswer);          // as before, as the kernel would
    EXPECT_EQ(run(solicitation(addr("2001:db8:2::1"))), kPass);  // still out of scope
}

// A kernel entry's solicited-node group is joined with the entry, and the kernel's own answer
// (ndisc_send_na for a proxy entry: S set, O clear, R from NTF_ROUTER, which follows --router,
// from the uplink's link-local address) has no per-source limit: the program gives the same
// answer, first time and every time, without the kernel's walk of the uplink's groups.
TEST_F(XdpResponderTest, AnswersAKernelEntryAsTheKernelWouldWithoutTheLimits) {
    settings.per_source = 1;
    settings.router = true;
    filter->set_answers(settings);
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(run(solicitation(kKernelHeld)), kAnswer) << i;
        EXPECT_EQ(out, userspace_answer(kKernelHeld, kRouter, kUplinkLinkLocal, kRouterMac, true));
    }
    EXPECT_EQ(run(solicitation(kHeld)), kAnswer);  // the limits still hold for the responder's
    EXPECT_EQ(run(solicitation(kHeld)), kDrop);
    const FastAnswerCounts counts = filter->answer_counts();
    EXPECT_EQ(counts.answered, 6u);
    EXPECT_EQ(counts.rate_limited, 1u);
    // The administrator's entry stays the kernel's: its R flag is its own.
    const Ipv6Address administrators = addr("2001:db8:1::50");
    ASSERT_TRUE(filter->set_targets({{administrators, FilterTarget::foreign}}, false));
    EXPECT_EQ(run(solicitation(administrators)), kPass);
    settings.answer_all = true;
    filter->set_answers(settings);
    EXPECT_EQ(run(solicitation(administrators)), kPass) << "--responder always";
    // DAD for it is the kernel's (RFC 4861 §7.2.4 answers to all-nodes; ndisc_recv_ns).
    EXPECT_EQ(run(solicitation(kKernelHeld, Ipv6Address{}, std::nullopt)), kPass);
}

TEST_F(XdpResponderTest, RefusesBeyondASourcesRateAndCountsIt) {
    settings.per_source = 3;
    filter->set_answers(settings);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(run(solicitation(kHeld)), kAnswer) << i;
    }
    EXPECT_EQ(run(solicitation(kHeld)), kDrop);
    // The same IPv6 source from another MAC is another source (core/source_limits.hpp).
    const MacAddress forger{{0x02, 0, 0, 0, 0x66, 0x66}};
    EXPECT_EQ(run(solicitation(kHeld, kRouter, forger, forger)), kAnswer);
    const FastAnswerCounts counts = filter->answer_counts();
    EXPECT_EQ(counts.answered, 4u);
    EXPECT_EQ(counts.rate_limited, 1u);
    EXPECT_EQ(counts.total_rate_limited, 0u);
}

TEST_F(XdpResponderTest, RefusesBeyondTheOverallCap) {
    settings.total = 20;  // two answers in each 100 ms window
    filter->set_answers(settings);
    int answered = 0;
    for (int i = 0; i < 10; ++i) {
        answered += run(solicitation(kHeld)) == kAnswer ? 1 : 0;
    }
    // Ten solicitations within a few windows at most (a test run takes microseconds).
    EXPECT_GE(answered, 2);
    EXPECT_LE(answered, 4);
    EXPECT_EQ(filter->answer_counts().total_rate_limited,
              static_cast<std::uint64_t>(10 - answered));
}

// The unit's drop-in grants CAP_BPF, not CAP_PERFMON or CAP_SYS_ADMIN (README "How it works"):
// without them the verifier refuses pointer subtraction and masks map-value offsets
// (speculative execution), and a program that needs more would be refused EACCES in the field,
// which SetUp above takes for want of privilege. A child keeps only what the daemon holds with
// the drop-in and loads both programs.
TEST(XdpResponderPrivileges, LoadsWithCapBpfAloneAsTheUnitGrantsIt) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct current[2] = {};
    ASSERT_EQ(::syscall(SYS_capget, &header, current), 0);
    const std::uint64_t held = current[0].effective | std::uint64_t{current[1].effective} << 32;
    const std::uint64_t needed = std::uint64_t{1} << CAP_BPF;
    if ((held & needed) == 0) {
        GTEST_SKIP() << "this process has no CAP_BPF to keep";
    }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const std::uint64_t kept =
            needed | std::uint64_t{1} << CAP_NET_ADMIN | std::uint64_t{1} << CAP_NET_RAW;
        const auto low = static_cast<std::uint32_t>(kept);
        const auto high = static_cast<std::uint32_t>(kept >> 32);
        __user_cap_data_struct reduced[2] = {{low, low, 0}, {high, high, 0}};
        if (::syscall(SYS_capset, &header, reduced) != 0) {
            ::_exit(2);
        }
        try {
            SolicitationFilter filter(64);
            filter.enable_answers(XdpResponder::Attach::generic);
        } catch (const std::exception& error) {
            std::fprintf(stderr, "with CAP_BPF alone: %s\n", error.what());
            ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the programs do not load with CAP_BPF alone (1), or "
                                         "the capabilities could not be reduced (2)";
}

}  // namespace
}  // namespace ndproxy
