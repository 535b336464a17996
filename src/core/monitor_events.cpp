#include "core/monitor_events.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace ndproxy::monitor {

std::string json_line(const Event& event, double time) {
    nlohmann::ordered_json line{{"event", to_string(event.kind)}};
    if (event.address) {
        line["address"] = event.address->to_string();
    }
    line["time"] = time;
    for (const auto& [name, value] : event.details.items()) {
        line[name] = value;
    }
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

std::string utc_time(double time) {
    const double whole = std::floor(time);
    auto millis = static_cast<int>(std::lround((time - whole) * 1000));
    auto seconds = static_cast<std::time_t>(whole);
    if (millis == 1000) {
        millis = 0;
        ++seconds;
    }
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(seconds), millis);
}

std::string text_of(const nlohmann::ordered_json& value) {
    return value.is_string()
               ? value.get<std::string>()
               : value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string text_line(std::string_view json_line) {
    const auto event = nlohmann::ordered_json::parse(json_line, nullptr, false);
    if (event.is_discarded() || !event.is_object() || !event.contains("event")) {
        return std::string(json_line);  // not ours to judge: shown as it came
    }
    const auto time = event.find("time");
    std::string text =
        time != event.end() && time->is_number() ? utc_time(time->get<double>()) : std::string("-");
    text += ' ' + text_of(event["event"]);
    const auto address = event.find("address");
    text += ' ' + (address != event.end() ? text_of(*address) : std::string("-"));
    for (const auto& [name, value] : event.items()) {
        if (name == "event" || name == "time" || name == "address" || value.is_null()) {
            continue;
        }
        text += fmt::format(" {}={}", name, text_of(value));
    }
    return text;
}

bool EventQueue::push(const std::string& line) {
    if (full()) {
        ++dropped_;
        return false;
    }
    bytes_ += line.size();
    lines_.push_back(line);
    return true;
}

void EventQueue::take(std::string& out, std::size_t budget, double time) {
    const std::size_t goal = out.size() + budget;
    while (!lines_.empty() && (out.empty() || out.size() < goal)) {
        bytes_ -= lines_.front().size();
        out += lines_.front();
        lines_.pop_front();
    }
    if (lines_.empty() && dropped_ > 0) {
        Event missed{Kind::dropped};
        missed.details["count"] = dropped_;
        out += json_line(missed, time);
        dropped_ = 0;
    }
}

}  // namespace ndproxy::monitor
