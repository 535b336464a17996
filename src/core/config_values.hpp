#pragma once

// Internal to the configuration parser: one option value with its origin, and the typed parsers
// that turn it into a Config field or a ConfigError naming that origin (the option table,
// core/config_options.hpp, says which parser each option takes).

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/ipv6.hpp"

namespace ndproxy::config_values {

// One value with where it came from, so that every error can point at the culprit.
struct Setting {
    std::string key;
    std::string value;
    std::string file;  // empty: the command line
    unsigned line = 0;

    [[nodiscard]] bool from_file() const { return !file.empty(); }
    // "ndproxyd.conf:7" or "--prefix"
    [[nodiscard]] std::string where() const {
        return from_file() ? fmt::format("{}:{}", file, line) : fmt::format("--{}", key);
    }
};

// By long option name; repeatable options hold several values, the others exactly one.
using Settings = std::map<std::string, std::vector<Setting>, std::less<>>;

// Throws ConfigError: `ndproxyd.conf:3: invalid prefix "x" (why)` or `--prefix: invalid value
// "x" (why)`.
[[noreturn]] void reject(const Setting& setting, std::string_view reason);

bool parse_bool(const Setting& setting);  // true/false/yes/no/1/0
// Decimal seconds ("2.5"), millisecond resolution, from 0.1 s to one day.
std::chrono::milliseconds parse_seconds(const Setting& setting);
std::uint64_t parse_unsigned(const Setting& setting, std::uint64_t min, std::uint64_t max);
std::string parse_interface(const Setting& setting);
Ipv6Prefix parse_prefix(const Setting& setting);

// One of `choices`, matched by to_string(choice).
template <typename Enum, std::size_t N>
Enum parse_choice(const Setting& setting, const std::array<Enum, N>& choices) {
    std::string expected;
    for (std::size_t i = 0; i < N; ++i) {
        if (to_string(choices[i]) == setting.value) {
            return choices[i];
        }
        expected +=
            fmt::format("{}{}", i == 0 ? "" : (i + 1 == N ? " or " : ", "), to_string(choices[i]));
    }
    reject(setting, fmt::format("expected {}", expected));
}

}  // namespace ndproxy::config_values
