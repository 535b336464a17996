#include "core/stats_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/control_replies.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

// The exposition format's rules (prometheus.io "Exposition formats", "Metric and label
// naming"): a name render_prometheus can use as it is, one family each, counters named
// without the _total it appends, and a HELP text that needs no escaping.
TEST(StatsTable, NamesAndHelpFitThePrometheusFormat) {
    std::set<std::string_view> names;
    for (const stats::Metric& metric : stats::kTable) {
        EXPECT_TRUE(std::regex_match(std::string(metric.name), std::regex("[a-z][a-z0-9_]*")))
            << metric.name;
        EXPECT_TRUE(names.insert(metric.name).second) << metric.name << " twice";
        EXPECT_FALSE(metric.name.ends_with("_total")) << metric.name;
        EXPECT_FALSE(metric.help.empty()) << metric.name;
        EXPECT_TRUE(metric.help.ends_with('.')) << metric.name;
        EXPECT_EQ(metric.help.find_first_of("\\\n"), std::string_view::npos) << metric.name;
    }
}

// ndproxyctl(8) names every value `ndproxyctl stats` can print.
TEST(StatsTable, TheManualDocumentsEveryName) {
    const std::string page_path = NDPROXY_SOURCE_DIR "/man/ndproxyctl.8";
    std::ifstream page(page_path);
    ASSERT_TRUE(page) << page_path;
    std::stringstream text;
    text << page.rdbuf();
    for (const stats::Metric& metric : stats::kTable) {
        const std::regex word("(^|[^a-z0-9_])" + std::string(metric.name) + "([^a-z0-9_]|$)");
        EXPECT_TRUE(std::regex_search(text.str(), word))
            << "ndproxyctl.8 does not mention " << metric.name;
    }
}

class StatsPayloadTest : public ::testing::Test {
protected:
    StatsPayloadTest() {
        kernel.add_link(2, "ext");
        kernel.add_link(3, "br0");
        mirror.full_resync(TimePoint{} + 1000s);
    }
    static ServiceSettings mirror_settings() {
        ServiceSettings s;
        s.external = "ext";
        s.internal = {"br0"};
        s.mirror.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        return s;
    }

    testing::FakeKernel kernel;
    testing::FakePackets packets;
    MirrorService mirror{mirror_settings(), kernel, packets};
    ResponderService responder{ResponderServiceSettings{}, mirror, packets};
};

TEST_F(StatsPayloadTest, HoldsExactlyTheTablesNames) {
    // A frame too short to be anything, so that ns_dropped has a reason in it.
    const std::vector<std::uint8_t> runt(10, 0);
    responder.handle_solicitation(ndp::parse_solicitation_frame(runt, ndp::Delivery::multicast),
                                  TimePoint{} + 1001s);
    const nlohmann::json stats = control::stats_payload(mirror, responder, {5, 6});

    std::set<std::string> expected;
    for (const stats::Metric& metric : stats::kTable) {
        expected.insert(std::string(metric.name));
        const nlohmann::json& value = stats.at(std::string(metric.name));
        if (metric.kind == stats::Kind::drops) {
            EXPECT_TRUE(value.is_object() && !value.empty()) << metric.name << ": " << value;
        } else {
            EXPECT_TRUE(value.is_number_unsigned()) << metric.name << ": " << value;
        }
    }
    std::set<std::string> sent;
    for (const auto& [name, value] : stats.items()) {
        sent.insert(name);
    }
    EXPECT_EQ(sent, expected);
    EXPECT_EQ(stats["control_clients_rejected"], 5u);
    EXPECT_EQ(stats["control_requests_refused"], 6u);
    EXPECT_EQ(stats["resyncs"], 1u);
}

}  // namespace
}  // namespace ndproxy
