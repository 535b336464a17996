// Several uplinks (docs/design.md §Uplinks): the configuration's `external` lines and `via`
// words, its mistakes, each uplink's settings, and the replies that sum or list over uplinks.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "core/control_list.hpp"
#include "core/control_replies.hpp"
#include "core/daemon_settings.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Ipv6Prefix prefix(const char* text) {
    return *Ipv6Prefix::parse(text);
}

class UplinkConfigTest : public ConfigTest {
protected:
    // The error of a file with two uplinks, eth0 and eth0.40, and `lines` after them.
    std::string error(const std::string& lines) {
        return error_of({"-c", write_file("ndproxyd.conf",
                                          "external = eth0\nexternal = eth0.40\n"
                                          "internal = br0\ninternal = tap*\n" +
                                              lines)});
    }
    std::string at(unsigned line) {
        return directory_ + "/ndproxyd.conf:" + std::to_string(line) + ": invalid prefix ";
    }
};

TEST_F(UplinkConfigTest, EachPrefixNamesItsUplink) {
    const std::string path = write_file("ndproxyd.conf",
                                        "external = eth0\n"
                                        "external = eth0.40\n"
                                        "internal = br0\n"
                                        "internal = tap*\n"
                                        "prefix = 2001:db8:10:20::/64 via eth0\n"
                                        "prefix = 2001:db8:10:21::/64 via eth0.40 on tap1,tap2*\n"
                                        "prefix = 2001:db8:10:22::/64 on br0 via eth0.40\n");
    const Config config = parse({"-c", path}).config;
    EXPECT_EQ(config.externals, (std::vector<std::string>{"eth0", "eth0.40"}));
    EXPECT_EQ(config.external, "eth0");
    EXPECT_EQ(config.via,
              (std::map<Ipv6Prefix, std::string>{{prefix("2001:db8:10:20::/64"), "eth0"},
                                                 {prefix("2001:db8:10:21::/64"), "eth0.40"},
                                                 {prefix("2001:db8:10:22::/64"), "eth0.40"}}));
    EXPECT_EQ(config.bindings,
              (std::vector<PrefixBinding>{{prefix("2001:db8:10:21::/64"), {"tap1", "tap2*"}},
                                          {prefix("2001:db8:10:22::/64"), {"br0"}}}));
    // The command line repeats -e the same way, and replaces the file's list.
    const Config line =
        parse({"-c", path, "-e", "eth1", "-e", "eth2", "-p", "2001:db8:1::/64 via eth2"}).config;
    EXPECT_EQ(line.externals, (std::vector<std::string>{"eth1", "eth2"}));
    EXPECT_EQ(line.via.at(prefix("2001:db8:1::/64")), "eth2");
}

TEST_F(UplinkConfigTest, OneUplinkNeedsNoVia) {
    const Config config = parse({"-e", "eth0", "-i", "br0", "-p", "2001:db8::/64"}).config;
    EXPECT_EQ(config.externals, std::vector<std::string>{"eth0"});
    EXPECT_EQ(config.via.at(prefix("2001:db8::/64")), "eth0");
}

TEST_F(UplinkConfigTest, MistakesAreNamed) {
    EXPECT_EQ(error("prefix = 2001:db8::/64\n"),
              at(5) +
                  "\"2001:db8::/64\" (several external interfaces: name this prefix's with "
                  "\"via IFACE\")");
    EXPECT_EQ(error("prefix = 2001:db8::/64 via br0\n"),
              at(5) + "\"2001:db8::/64 via br0\" (\"br0\" is not an external interface)");
    EXPECT_EQ(error("prefix = 2001:db8::/64 via eth0 via eth0\n"),
              at(5) +
                  "\"2001:db8::/64 via eth0 via eth0\" (expected PREFIX [on IFACE,...] "
                  "[via IFACE])");
    EXPECT_EQ(error("prefix = 2001:db8::/64 on br0 via eth0 on tap1\n"),
              at(5) +
                  "\"2001:db8::/64 on br0 via eth0 on tap1\" (expected PREFIX "
                  "[on IFACE,...] [via IFACE])");
}

TEST_F(UplinkConfigTest, OverlappingPrefixesOnTwoUplinksAreRefused) {
    // One contains the other, either way round, or they are equal.
    EXPECT_EQ(error("prefix = 2001:db8::/48 via eth0\nprefix = 2001:db8::/64 via eth0.40\n"),
              at(6) +
                  "\"2001:db8::/64 via eth0.40\" (overlaps 2001:db8::/48, which eth0 serves; a "
                  "prefix has one uplink)");
    EXPECT_EQ(error("prefix = 2001:db8:0:5::/64 via eth0\nprefix = 2001:db8::/48 via eth0.40\n"),
              at(6) +
                  "\"2001:db8::/48 via eth0.40\" (overlaps 2001:db8:0:5::/64, which eth0 serves; "
                  "a prefix has one uplink)");
    EXPECT_EQ(error("prefix = 2001:db8::/64 via eth0\nprefix = 2001:db8::/64 via eth0.40\n"),
              at(6) +
                  "\"2001:db8::/64 via eth0.40\" (overlaps 2001:db8::/64, which eth0 serves; a "
                  "prefix has one uplink)");
    // On the same uplink, or side by side, they are fine.
    EXPECT_EQ(error("prefix = 2001:db8::/48 via eth0\nprefix = 2001:db8::/64 via eth0\n"
                    "prefix = 2001:db8:1::/64 via eth0.40\n"),
              "");
}

TEST_F(UplinkConfigTest, AnUplinkIsNeitherInternalNorGivenTwice) {
    EXPECT_EQ(error_of({"-e", "eth0", "-e", "eth1", "-i", "eth1", "-p", "2001:db8::/64 via eth0"}),
              "--internal: \"eth1\" is an external interface, it cannot also be internal");
    EXPECT_EQ(error_of({"-e", "eth0", "-e", "vif1", "-i", "vif*", "-p", "2001:db8::/64 via eth0"}),
              "--internal: the pattern \"vif*\" matches the external interface \"vif1\"");
    const std::string path =
        write_file("twice.conf", "external = eth0\ninternal = br0\n\nexternal = eth0\n");
    EXPECT_EQ(error_of({"-c", path}), path + ":4: the external interface \"eth0\" is given twice");
}

TEST_F(UplinkConfigTest, EachUplinkGetsExactlyItsPrefixes) {
    const Config config =
        parse({"-e", "eth0", "-e", "eth0.40", "-i", "br0", "-i", "tap*", "-p",
               "2001:db8:1::/64 via eth0", "-p", "2001:db8:2::/64 on tap1 via eth0.40", "-p",
               "2001:db8:3::/64 via eth0", "--max-entries", "100"})
            .config;
    const ServiceSettings first = service_settings(config, "eth0");
    EXPECT_EQ(first.external, "eth0");
    EXPECT_EQ(first.mirror.prefixes,
              (std::vector<Ipv6Prefix>{prefix("2001:db8:1::/64"), prefix("2001:db8:3::/64")}));
    EXPECT_TRUE(first.bindings.empty());
    EXPECT_EQ(first.internal, config.internal);
    EXPECT_EQ(first.mirror.max_entries, 100u);  // each uplink's own bound
    const ServiceSettings second = service_settings(config, "eth0.40");
    EXPECT_EQ(second.external, "eth0.40");
    EXPECT_EQ(second.mirror.prefixes, std::vector<Ipv6Prefix>{prefix("2001:db8:2::/64")});
    EXPECT_EQ(second.bindings, (std::vector<PrefixBinding>{{prefix("2001:db8:2::/64"), {"tap1"}}}));
    EXPECT_EQ(second.mirror.max_entries, 100u);
    EXPECT_EQ(responder_settings(config, "eth0.40").policy.prefixes,
              std::vector<Ipv6Prefix>{prefix("2001:db8:2::/64")});
    EXPECT_EQ(responder_settings(config, "eth0").policy.prefixes, first.mirror.prefixes);
}

// Two uplinks' services over one kernel, as in the daemon: each installs its own prefix's
// addresses on its own uplink and nothing else; the replies sum and list over both.
class TwoUplinksTest : public ::testing::Test {
protected:
    static constexpr int kExt = 2;
    static constexpr int kBr0 = 3;
    static constexpr int kExt2 = 4;
    const TimePoint kNow = TimePoint{} + 1000s;

    TwoUplinksTest() {
        kernel.add_link(kExt, "ext");
        kernel.add_link(kBr0, "br0");
        kernel.add_link(kExt2, "ext2");
        for (const char* address : {"2001:db8:1::10", "2001:db8:2::20", "2001:db8:2::21"}) {
            kernel.neighbours.push_back({kBr0, *Ipv6Address::parse(address),
                                         MacAddress{{2, 0, 0, 0, 1, 1}}, nud::reachable, false});
        }
        kernel.queued.clear();
        first.full_resync(kNow);
        second.full_resync(kNow);
    }
    static ServiceSettings settings(const char* external, const char* prefix) {
        ServiceSettings settings;
        settings.external = external;
        settings.internal = {"br0"};
        settings.mirror.prefixes = {*Ipv6Prefix::parse(prefix)};
        return settings;
    }

    testing::FakeKernel kernel;
    testing::FakePackets packets;
    testing::FakePackets packets2;
    MirrorService first{settings("ext", "2001:db8:1::/64"), kernel, packets};
    MirrorService second{settings("ext2", "2001:db8:2::/64"), kernel, packets2};
    ResponderService responder{ResponderServiceSettings{}, first, packets};
    ResponderService responder2{ResponderServiceSettings{}, second, packets2};
};

TEST_F(TwoUplinksTest, EachUplinkHoldsOnlyItsPrefix) {
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol),
              std::vector<Ipv6Address>{*Ipv6Address::parse("2001:db8:1::10")});
    EXPECT_EQ(kernel.proxies_with(kExt2, kOwnProtocol),
              (std::vector<Ipv6Address>{*Ipv6Address::parse("2001:db8:2::20"),
                                        *Ipv6Address::parse("2001:db8:2::21")}));
    // A resync of one leaves the other's entries alone.
    first.full_resync(kNow + 1s);
    EXPECT_EQ(kernel.proxies_with(kExt2, kOwnProtocol).size(), 2u);
    EXPECT_TRUE(first.announce(*Ipv6Address::parse("2001:db8:1::10"), 1, kNow));
    EXPECT_FALSE(first.announce(*Ipv6Address::parse("2001:db8:2::20"), 1, kNow));
}

TEST_F(TwoUplinksTest, StatsSumAndStatusListsEachUplink) {
    const std::vector<control::UplinkView> views{{first, responder}, {second, responder2}};
    const json stats = control::stats_payload(views, {5, 6});
    EXPECT_EQ(stats["entries"], 3u);
    EXPECT_EQ(stats["resyncs"], 2u);
    EXPECT_EQ(stats["control_clients_rejected"], 5u);  // the daemon's, counted once
    EXPECT_EQ(stats["control_requests_refused"], 6u);

    Config config;
    config.externals = {"ext", "ext2"};
    config.external = "ext";
    const json status = control::status_payload(views, config, 1s, TimePoint{});
    EXPECT_EQ(status["external"]["name"], "ext");
    EXPECT_EQ(status["entries"], 3u);
    ASSERT_EQ(status["uplinks"].size(), 2u);
    EXPECT_EQ(status["uplinks"][1]["name"], "ext2");
    EXPECT_EQ(status["uplinks"][1]["ifindex"], kExt2);
    EXPECT_EQ(status["uplinks"][1]["prefixes"], json::array({"2001:db8:2::/64"}));
    EXPECT_EQ(status["uplinks"][1]["entries"], 2u);
    EXPECT_EQ(status["uplinks"][0]["entries"], 1u);
    EXPECT_EQ(control::status_line(views),
              "1 entry on ext, 1 in the kernel, 0 answered by the responder; 2 entries on ext2, 2 "
              "in the kernel, 0 answered by the responder");
}

TEST_F(TwoUplinksTest, TheListNamesEachRowsUplink) {
    control::ListReply reply(
        {std::shared_ptr<const MirrorService>(std::shared_ptr<void>(), &first),
         std::shared_ptr<const MirrorService>(std::shared_ptr<void>(), &second)},
        [this] { return kNow; });
    std::string line;
    while (reply.append_slice(line)) {
    }
    const json list = json::parse(line).at("list");
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0]["address"], "2001:db8:1::10");
    EXPECT_EQ(list[0]["uplink"], "ext");
    EXPECT_EQ(list[2]["address"], "2001:db8:2::21");
    EXPECT_EQ(list[2]["uplink"], "ext2");
}

// ndproxyctl reads up to kMaxReplyBytes, derived from kMaxListEntryBytes: the longest entry
// still fits with the longest uplink name (IFNAMSIZ - 1 bytes, each escaped to \u0001).
TEST(UplinkListEntry, TheLongestEntryWithItsUplinkFitsTheBound) {
    MirrorEntry entry;
    entry.address = *Ipv6Address::parse("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
    entry.lladdr = MacAddress{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};
    entry.nud_state = nud::incomplete;
    entry.first_seen = TimePoint::max();
    entry.claim.in_conflict = true;
    entry.claim.claimant = entry.lladdr;
    entry.claim.last_claim = TimePoint::max();
    entry.claim.last_defence = TimePoint::max();
    const TrackedLink link(std::string(15, '\x01'));
    const std::string uplink(15, '\x01');
    const std::string text = control::entry_json(entry, &link, TimePoint{}, &uplink)
                                 .dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_LE(text.size() + 1, control::kMaxListEntryBytes) << text;
    EXPECT_NE(text.find(R"("uplink":")"), std::string::npos);
}

TEST_F(UplinkConfigTest, AtMostSoManyUplinks) {
    Args arguments{"-i", "br0", "-p", "2001:db8::/64 via e0"};
    for (std::size_t i = 0; i <= kMaxUplinks; ++i) {
        arguments.push_back("-e");
        arguments.push_back("e" + std::to_string(i));
    }
    EXPECT_EQ(error_of(arguments), "--external: more than 16 external interfaces");
    arguments.resize(arguments.size() - 2);
    EXPECT_EQ(error_of(arguments), "");
}

}  // namespace
}  // namespace ndproxy
