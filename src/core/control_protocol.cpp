#include "ndproxy/control_protocol.hpp"

#include <fmt/format.h>

namespace ndproxy::control {

ParsedRequest parse_request(std::string_view line) {
    const auto document = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) {
        return {std::nullopt, "request is not a JSON object"};
    }
    const auto command = document.find("command");
    if (command == document.end() || !command->is_string()) {
        return {std::nullopt, "request has no \"command\" string"};
    }
    const auto& name = command->get_ref<const std::string&>();
    if (name == "list") {
        return {Request{Command::list}, {}};
    }
    if (name == "stats") {
        return {Request{Command::stats}, {}};
    }
    if (name == "status") {
        return {Request{Command::status}, {}};
    }
    if (name == "resync") {
        return {Request{Command::resync}, {}};
    }
    return {std::nullopt, fmt::format("unknown command \"{}\"", name)};
}

nlohmann::json error_reply(std::string_view message) {
    return {{"ok", false}, {"error", std::string(message)}};
}

std::string reply_line(std::string_view line, const RequestHandler& handler) {
    const ParsedRequest parsed = parse_request(line);
    const nlohmann::json reply =
        parsed.request ? handler(*parsed.request) : error_reply(parsed.error);
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ndproxy::control
