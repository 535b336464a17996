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
    if (name == "announce") {
        const auto address = document.find("address");
        if (address == document.end() || !address->is_string()) {
            return {std::nullopt, "announce needs an \"address\" string"};
        }
        const auto parsed = Ipv6Address::parse(address->get_ref<const std::string&>());
        if (!parsed) {
            return {std::nullopt, fmt::format("invalid IPv6 address \"{}\"",
                                              address->get_ref<const std::string&>())};
        }
        return {Request{Command::announce, parsed}, {}};
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
