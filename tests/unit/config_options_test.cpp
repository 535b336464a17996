#include "core/config_options.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "core/mirror_policy.hpp"

namespace ndproxy::config_options {
namespace {

// The least a Config needs, plus `key = value` from the command line.
Config with(const std::string& key, const std::string& value) {
    Settings settings;
    for (const auto& [name, given] : {std::pair{"external", "eth0"}, std::pair{"internal", "br0"},
                                      std::pair{"prefix", "2001:db8:1::/64"}}) {
        settings[name].push_back(Setting{name, given, {}, 0});
    }
    settings[key] = {Setting{key, value, {}, 0}};
    return build_config(settings, "test.conf");
}

TEST(OptionTable, EveryPlaceholderHasItsValue) {
    for (const OptionSpec& spec : options()) {
        const std::string help = spec.help;
        const Binding& binding = spec.binding;
        EXPECT_EQ(help.find("{default}") != std::string::npos, binding.shown_default != nullptr)
            << spec.name;
        EXPECT_EQ(help.find("{choices}") != std::string::npos, binding.choices != nullptr)
            << spec.name;
        if (help.find("{min}") != std::string::npos || help.find("{max}") != std::string::npos) {
            EXPECT_GT(binding.max, 0u) << spec.name;
        }
        EXPECT_EQ(help_of(spec).find_first_of("{}"), std::string::npos) << help_of(spec);
    }
}

// What --help shows as the default is a value the option accepts.
TEST(OptionTable, EveryShownDefaultIsAnAcceptedValue) {
    for (const OptionSpec& spec : options()) {
        if (spec.binding.apply != nullptr && spec.binding.shown_default != nullptr) {
            EXPECT_NO_THROW(with(spec.name, spec.binding.shown_default())) << spec.name;
        }
    }
}

TEST(OptionTable, WholeNumbersTakeExactlyTheirRange) {
    for (const OptionSpec& spec : options()) {
        const Binding& binding = spec.binding;
        if (binding.max == 0) {
            continue;
        }
        EXPECT_NO_THROW(with(spec.name, fmt::format("{}", binding.min))) << spec.name;
        EXPECT_NO_THROW(with(spec.name, fmt::format("{}", binding.max))) << spec.name;
        EXPECT_THROW(with(spec.name, fmt::format("{}", binding.max + 1)), ConfigError) << spec.name;
        if (binding.min > 0) {
            EXPECT_THROW(with(spec.name, fmt::format("{}", binding.min - 1)), ConfigError)
                << spec.name;
        }
    }
}

TEST(OptionTable, HelpShowsConfigsOwnDefaults) {
    const Config defaults;
    EXPECT_NE(help_of(*find_option("max-entries"))
                  .find(fmt::format("(default {})", defaults.max_entries)),
              std::string::npos);
    // Milliseconds in Config, seconds on the command line.
    EXPECT_NE(help_of(*find_option("withdraw-after")).find("(default 30)"), std::string::npos);
    EXPECT_EQ(help_of(*find_option("responder")), "off | known | verify | always (default verify)");
    // The mirror's own default is the same constant, not a second copy.
    EXPECT_EQ(MirrorSettings{}.max_entries, defaults.max_entries);
}

}  // namespace
}  // namespace ndproxy::config_options
