#pragma once

#include <fmt/format.h>

#include <string_view>

#include "core/config.hpp"

namespace ndproxy::log {

void set_level(LogLevel level);
bool enabled(LogLevel level);
void write(LogLevel level, std::string_view message);

// Lines go to stderr with a syslog priority prefix ("<3>") that journald understands.
template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::error, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::warn)) {
        write(LogLevel::warn, fmt::format(format, std::forward<Args>(args)...));
    }
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::info)) {
        write(LogLevel::info, fmt::format(format, std::forward<Args>(args)...));
    }
}
template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::debug)) {
        write(LogLevel::debug, fmt::format(format, std::forward<Args>(args)...));
    }
}

}  // namespace ndproxy::log
