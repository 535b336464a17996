// The "list" reply written a slice at a time (core/control_list.hpp): the slices join into one
// valid reply line in address order, entries withdrawn meanwhile are left out, and no entry is
// longer than the bound ndproxyctl's reply cap is derived from.

#include "core/control_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kExt = 2;
constexpr int kBr0 = 3;
const TimePoint kNow = TimePoint{} + 1000s;

Ipv6Address in_prefix(int prefix, int i) {
    return *Ipv6Address::parse(fmt::format("2001:db8:{}::{:x}:{:x}", prefix, i >> 16, i & 0xffff));
}

class ListReplyTest : public ::testing::Test {
protected:
    ListReplyTest() {
        kernel.add_link(kExt, "ext");
        kernel.add_link(kBr0, "br0");
        kernel.queued.clear();
    }

    static ServiceSettings settings(std::vector<const char*> prefixes) {
        ServiceSettings settings;
        settings.external = "ext";
        settings.internal = {"br0"};
        for (const char* prefix : prefixes) {
            settings.mirror.prefixes.push_back(*Ipv6Prefix::parse(prefix));
        }
        return settings;
    }

    // Neighbours `from` to `to` - 1 of 2001:db8:PREFIX::/64, one MAC each, last first (not in the
    // addresses' order).
    void add_neighbours(int prefix, int from, int to) {
        for (int i = to - 1; i >= from; --i) {
            const auto byte = [&](int shift) { return static_cast<std::uint8_t>(i >> shift); };
            kernel.neighbours.push_back(NeighbourUpdate{
                kBr0, in_prefix(prefix, i),
                MacAddress{{2, static_cast<std::uint8_t>(prefix), 0, byte(16), byte(8), byte(0)}},
                nud::reachable, false});
        }
    }

    // `count` neighbours in each of 2001:db8:1::/64 and 2001:db8:2::/64.
    MirrorService holding(int count) {
        add_neighbours(2, 0, count);
        add_neighbours(1, 0, count);
        MirrorService service(settings({"2001:db8:1::/64", "2001:db8:2::/64"}), kernel, packets,
                              [](const TrackedLink&) {});
        service.full_resync(kNow);
        return service;
    }

    testing::FakeKernel kernel;
    testing::FakePackets packets;
};

// Calls append_slice() until the reply is complete; returns how many calls wrote something.
int drain(control::ListReply& reply, std::string& line) {
    int writing = 0;
    for (bool more = true; more;) {
        const std::size_t before = line.size();
        more = reply.append_slice(line);
        writing += line.size() > before ? 1 : 0;
    }
    return writing;
}

std::vector<std::string> addresses_of(const json& reply) {
    std::vector<std::string> addresses;
    for (const json& entry : reply.at("list")) {
        addresses.push_back(entry.at("address").get<std::string>());
    }
    return addresses;
}

TEST_F(ListReplyTest, SlicesMakeOneReplyLineInAddressOrder) {
    constexpr int kCount = 1500;  // 3,000 entries: three slices
    MirrorService service = holding(kCount);
    ASSERT_EQ(service.policy().entries().size(), 2u * kCount);
    control::ListReply reply(service, [] { return kNow + 5s; });
    std::string line;
    EXPECT_EQ(drain(reply, line), 3);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    const json parsed = json::parse(line);
    EXPECT_EQ(parsed.at("ok"), true);
    std::vector<std::string> expected;
    for (int prefix : {1, 2}) {
        for (int i = 0; i < kCount; ++i) {
            expected.push_back(in_prefix(prefix, i).to_string());
        }
    }
    EXPECT_EQ(addresses_of(parsed), expected);
    json first = parsed["list"][0];
    EXPECT_TRUE(first.at("kernel").is_boolean());
    EXPECT_TRUE(first.at("path").is_string());  // which share is the kernel's: not this test's
    first.erase("kernel");
    first.erase("path");
    EXPECT_EQ(first, (json{{"address", "2001:db8:1::"},
                           {"interface", "br0"},
                           {"lladdr", "02:01:00:00:00:00"},
                           {"state", "reachable"},
                           {"origin", "mirror"},
                           {"age", 5.0},
                           {"conflict", nullptr}}));
}

TEST_F(ListReplyTest, EntriesWithdrawnWhileTheListIsWrittenAreLeftOut) {
    constexpr int kCount = 1500;
    MirrorService service = holding(kCount);
    control::ListReply reply(service, [] { return kNow; });
    std::string line;
    ASSERT_TRUE(reply.append_slice(line));  // the addresses copied
    ASSERT_TRUE(reply.append_slice(line));  // 1,024 entries of 2001:db8:1::/64
    // SIGHUP drops 2001:db8:2::/64: its entries are withdrawn before their slices.
    service.reconfigure(settings({"2001:db8:1::/64"}), kNow);
    drain(reply, line);
    const std::vector<std::string> listed = addresses_of(json::parse(line));
    ASSERT_EQ(listed.size(), static_cast<std::size_t>(kCount));
    EXPECT_EQ(listed.back(), in_prefix(1, kCount - 1).to_string());
}

TEST_F(ListReplyTest, AnEmptyTableIsAnEmptyList) {
    MirrorService service = holding(0);
    control::ListReply reply(service, [] { return kNow; });
    std::string line;
    EXPECT_EQ(drain(reply, line), 1);
    EXPECT_EQ(line, "{\"ok\":true,\"list\":[]}\n");
}

// The addresses are copied over several turns of the loop; entries withdrawn, or added so many
// that the table is rehashed, meanwhile do not make the list repeat or lose what it holds.
TEST_F(ListReplyTest, TheTableChangingWhileTheAddressesAreCopied) {
    constexpr int kCount = 10'000;  // 20,000 entries: two turns of copying
    MirrorService service = holding(kCount);
    control::ListReply reply(service, [] { return kNow; });
    std::string line;
    ASSERT_TRUE(reply.append_slice(line));
    ASSERT_TRUE(line.empty()) << "the copy is not done in one turn";
    const std::size_t buckets = service.policy().entries().bucket_count();
    add_neighbours(1, kCount, 5 * kCount);  // 40,000 more
    service.full_resync(kNow);
    ASSERT_EQ(service.policy().entries().size(), 6u * kCount);
    ASSERT_NE(service.policy().entries().bucket_count(), buckets) << "no rehash happened";
    service.reconfigure(settings({"2001:db8:1::/64"}), kNow);  // and 10,000 withdrawn
    drain(reply, line);
    const std::vector<std::string> listed = addresses_of(json::parse(line));
    std::vector<std::string> expected;
    for (int i = 0; i < 5 * kCount; ++i) {
        expected.push_back(in_prefix(1, i).to_string());
    }
    EXPECT_EQ(listed, expected);
}

// ndproxyctl reads up to kMaxReplyBytes, derived from this bound: the longest entry must fit.
TEST(ListEntry, TheLongestEntryFitsTheBound) {
    MirrorEntry entry;
    entry.address = *Ipv6Address::parse("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
    entry.lladdr = MacAddress{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};
    entry.nud_state = nud::incomplete;
    entry.origin = Origin::responder;
    entry.path = Path::responder;
    entry.in_kernel = false;
    TrackedLink link(std::string(15, '\x01'));  // IFNAMSIZ - 1 bytes, each escaped to \u0001
    // The longest age: the most seconds a TimePoint holds, 17 significant digits, negative
    // (a clock that went backwards).
    const TimePoint now{};
    entry.first_seen = TimePoint::max();
    entry.claim.in_conflict = true;
    entry.claim.claimant = MacAddress{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};
    entry.claim.last_claim = TimePoint::max();
    entry.claim.last_defence = TimePoint::max();
    const std::string text =
        control::entry_json(entry, &link, now).dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_LE(text.size() + 1, control::kMaxListEntryBytes) << text;  // with its comma
    std::printf("the longest entry: %zu bytes with its comma\n", text.size() + 1);
    entry.gone_since = now;  // "probing"
    EXPECT_LE(control::entry_json(entry, &link, now).dump().size() + 1,
              control::kMaxListEntryBytes);
    static_assert(control::kMaxReplyBytes >=
                  std::uint64_t{kMaxEntriesCeiling} * control::kMaxListEntryBytes);
}

}  // namespace
}  // namespace ndproxy
