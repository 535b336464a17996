// The monitor's events (core/monitor_events.hpp): their lines, the subscriber's bounded queue,
// and the events the mirror service raises as it executes the policy's actions.

#include "core/monitor_events.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/control_protocol.hpp"
#include "core/mirror_service.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

TEST(MonitorEvents, AJsonLineLeadsWithEventAddressAndTime) {
    monitor::Event event{monitor::Kind::added, addr("2001:db8:1::10")};
    event.details["origin"] = "mirror";
    event.details["lladdr"] = nullptr;
    const std::string line = monitor::json_line(event, 1700000000.25);
    EXPECT_EQ(line, R"({"event":"added","address":"2001:db8:1::10","time":1700000000.25,)"
                    R"("origin":"mirror","lladdr":null})"
                    "\n");
    // No address, no member; a name that is not UTF-8 cannot make it throw.
    monitor::Event reload{monitor::Kind::reload};
    reload.details["error"] = std::string("bad \xff byte");
    const json parsed = json::parse(monitor::json_line(reload, 1.5));
    EXPECT_FALSE(parsed.contains("address"));
    EXPECT_EQ(parsed["event"], "reload");
    EXPECT_EQ(parsed["time"], 1.5);
}

TEST(MonitorEvents, TheTextLineReadsLikeIpMonitor) {
    EXPECT_EQ(monitor::text_line(R"({"event":"added","address":"2001:db8:1::10","time":)"
                                 R"(1700000000.2506,"origin":"mirror","path":"kernel",)"
                                 R"("lladdr":null,"uplink":"eth0.40"})"),
              "2023-11-14T22:13:20.251Z added 2001:db8:1::10 origin=mirror path=kernel "
              "uplink=eth0.40");
    EXPECT_EQ(monitor::text_line(R"({"event":"dropped","time":0.9996,"count":12})"),
              "1970-01-01T00:00:01.000Z dropped - count=12");
    EXPECT_EQ(monitor::text_line("not json"), "not json");
}

// One name each, and ndproxyctl(8) explains each under MONITOR.
TEST(MonitorEvents, TheManualDocumentsEveryEvent) {
    std::ifstream page(NDPROXY_SOURCE_DIR "/man/ndproxyctl.8");
    ASSERT_TRUE(page);
    std::stringstream text;
    text << page.rdbuf();
    const std::string manual = text.str();
    const auto section = manual.find(".SH MONITOR");
    ASSERT_NE(section, std::string::npos);
    const std::string monitor_section =
        manual.substr(section, manual.find(".SH", section + 1) - section);
    std::set<std::string_view> names;
    for (const monitor::EventType& type : monitor::kEvents) {
        EXPECT_TRUE(names.insert(type.name).second) << type.name;
        EXPECT_NE(monitor_section.find(".B " + std::string(type.name) + "\n"), std::string::npos)
            << "ndproxyctl.8 does not explain " << type.name;
    }
}

TEST(EventQueue, AFullQueueDropsCountsAndSaysSoOnceTheReaderCatchesUp) {
    monitor::EventQueue queue(3, 1 << 20);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(queue.push(fmt::format("{}\n", i)), i < 3) << i;
    }
    EXPECT_TRUE(queue.full());
    std::string out;
    queue.take(out, 3, 42.5);  // the budget stops it after two lines, before the count
    EXPECT_EQ(out, "0\n1\n");
    EXPECT_TRUE(queue.push("5\n")) << "room again";
    out.clear();
    queue.take(out, 1024, 42.5);
    EXPECT_EQ(out, "2\n5\n{\"event\":\"dropped\",\"time\":42.5,\"count\":2}\n");
    EXPECT_TRUE(queue.empty());
    out.clear();
    queue.take(out, 1024, 43);
    EXPECT_EQ(out, "") << "the count went once";
}

TEST(EventQueue, BytesBoundItToo) {
    monitor::EventQueue queue(100, 10);
    EXPECT_TRUE(queue.push(std::string(6, 'a')));
    EXPECT_TRUE(queue.push(std::string(6, 'b')));  // the bound is reached, not exceeded first
    EXPECT_FALSE(queue.push("c"));
    EXPECT_EQ(queue.size(), 2u);
}

// Monitoring only reads: anyone who may connect may subscribe; the server, not the handler,
// does it.
TEST(MonitorEvents, AnyClientMaySubscribe) {
    bool called = false;
    const auto handler = [&](const control::Request&) -> control::Answer {
        called = true;
        return json{{"ok", true}};
    };
    const control::Reply reply =
        control::reply_line(R"({"command":"monitor"})", handler, control::Peer{false});
    EXPECT_TRUE(reply.subscribe);
    EXPECT_FALSE(reply.refused);
    EXPECT_EQ(reply.line, R"({"ok":true})");
    EXPECT_FALSE(called);
}

struct RecordingSink final : monitor::Sink {
    [[nodiscard]] bool active() const override { return true; }
    void publish(monitor::Event event) override { events.push_back(std::move(event)); }
    [[nodiscard]] std::vector<std::string> kinds() const {
        std::vector<std::string> out;
        for (const auto& event : events) {
            out.emplace_back(monitor::to_string(event.kind));
        }
        return out;
    }
    std::vector<monitor::Event> events;
};

class MirrorEventsTest : public ::testing::Test {
protected:
    static constexpr int kExt = 2;
    static constexpr int kBr0 = 3;
    MirrorEventsTest() {
        kernel.add_link(kExt, "ext");
        kernel.add_link(kBr0, "br0");
        kernel.queued.clear();
    }
    MirrorService make(std::size_t max_entries, std::size_t kernel_entries) {
        ServiceSettings settings;
        settings.external = "ext";
        settings.internal = {"br0"};
        settings.mirror.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        settings.mirror.withdraw_after = 4s;
        settings.mirror.max_entries = max_entries;
        settings.mirror.kernel_entries = kernel_entries;
        return MirrorService(settings, kernel, packets);
    }
    void neighbour(MirrorService& service, const char* address, std::uint8_t mac,
                   bool deleted = false) {
        kernel.add_neighbour(NeighbourUpdate{kBr0, addr(address), MacAddress{{2, 0, 0, 0, 0, mac}},
                                             deleted ? nud::none : nud::reachable, deleted});
        service.on_kernel_readable(t0);
    }

    testing::FakeKernel kernel;
    testing::FakePackets packets;
    RecordingSink sink;
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(MirrorEventsTest, AddedMovedWithdrawnAndTheFullTable) {
    MirrorService service = make(2, 1);
    service.set_monitor(&sink);
    service.full_resync(t0);
    neighbour(service, "2001:db8:1::10", 0x10);
    neighbour(service, "2001:db8:1::11", 0x11);  // beyond the kernel's share of one
    neighbour(service, "2001:db8:1::12", 0x12);  // beyond the table's two
    ASSERT_EQ(sink.kinds(), (std::vector<std::string>{"added", "added", "bound"}));
    const monitor::Event& first = sink.events[0];
    EXPECT_EQ(first.address, addr("2001:db8:1::10"));
    EXPECT_EQ(first.details, (nlohmann::ordered_json{{"origin", "mirror"},
                                                     {"path", "kernel"},
                                                     {"interface", "br0"},
                                                     {"lladdr", "02:00:00:00:00:10"}}));
    EXPECT_EQ(sink.events[1].details["path"], "responder");
    EXPECT_EQ(sink.events[2].address, addr("2001:db8:1::12"));
    EXPECT_EQ(sink.events[2].details["counter"], "entries_limit");

    // The first VM leaves: its entry goes once the probes stay unanswered, and the second
    // takes its kernel slot.
    sink.events.clear();
    neighbour(service, "2001:db8:1::10", 0x10, true);
    for (auto now = t0; now <= t0 + 5s; now += 250ms) {
        service.on_timer(now);
    }
    ASSERT_EQ(sink.kinds(), (std::vector<std::string>{"withdrawn", "promoted"}));
    EXPECT_EQ(sink.events[0].address, addr("2001:db8:1::10"));
    EXPECT_EQ(sink.events[0].details["path"], "kernel");
    EXPECT_EQ(sink.events[1].address, addr("2001:db8:1::11"));
}

TEST_F(MirrorEventsTest, OnlyWhatHappensAfterSubscribingIsPublished) {
    MirrorService service = make(2, 1);
    service.full_resync(t0);
    neighbour(service, "2001:db8:1::10", 0x10);
    service.set_monitor(&sink);
    neighbour(service, "2001:db8:1::11", 0x11);
    EXPECT_EQ(sink.kinds(), std::vector<std::string>{"added"}) << "only what came after";
}

}  // namespace
}  // namespace ndproxy
