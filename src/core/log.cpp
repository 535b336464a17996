#include "core/log.hpp"

#include <cstdio>
#include <cstdlib>

namespace ndproxy::log {
namespace {
LogLevel current_level = LogLevel::info;
// journald sets JOURNAL_STREAM for services whose stderr it reads; it then understands the
// "<N>" syslog priority prefix, while a terminal gets a readable level word instead.
const bool to_journal = std::getenv("JOURNAL_STREAM") != nullptr;

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return 3;
        case LogLevel::warn:
            return 4;
        case LogLevel::info:
            return 6;
        case LogLevel::debug:
            return 7;
    }
    return 6;
}
}  // namespace

void set_level(LogLevel level) {
    current_level = level;
}

bool enabled(LogLevel level) {
    return static_cast<int>(level) <= static_cast<int>(current_level);
}

void write(LogLevel level, std::string_view message) {
    if (to_journal) {
        fmt::print(stderr, "<{}>{}\n", syslog_priority(level), message);
    } else {
        fmt::print(stderr, "ndproxyd: {}: {}\n", to_string(level), message);
    }
    std::fflush(stderr);
}

}  // namespace ndproxy::log
