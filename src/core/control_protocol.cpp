#include "core/control_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

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
    constexpr Command kCommands[] = {Command::list,   Command::stats,    Command::status,
                                     Command::resync, Command::announce, Command::monitor};
    const auto* known = std::find_if(std::begin(kCommands), std::end(kCommands),
                                     [&](Command c) { return to_string(c) == name; });
    if (known == std::end(kCommands)) {
        return {std::nullopt, fmt::format("unknown command \"{}\"", name)};
    }
    if (*known != Command::announce) {
        return {Request{*known}, {}};
    }
    const auto address = document.find("address");
    const auto all = document.find("all");
    if (all != document.end() && address == document.end() && all->is_boolean() &&
        all->get<bool>()) {
        return {Request{Command::announce, std::nullopt, true}, {}};
    }
    if (address == document.end() || !address->is_string() || all != document.end()) {
        return {std::nullopt, "announce needs an \"address\" string or \"all\": true"};
    }
    const auto parsed = Ipv6Address::parse(address->get_ref<const std::string&>());
    if (!parsed) {
        return {std::nullopt,
                fmt::format("invalid IPv6 address \"{}\"", address->get_ref<const std::string&>())};
    }
    return {Request{Command::announce, parsed}, {}};
}

nlohmann::json error_reply(std::string_view message) {
    return {{"ok", false}, {"error", std::string(message)}};
}

std::string_view to_string(Command command) {
    switch (command) {
        case Command::list:
            return "list";
        case Command::stats:
            return "stats";
        case Command::status:
            return "status";
        case Command::resync:
            return "resync";
        case Command::announce:
            return "announce";
        case Command::monitor:
            return "monitor";
    }
    return "unknown";
}

namespace {

std::string dump(const nlohmann::json& reply) {
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Reply reply_line(std::string_view line, const RequestHandler& handler, const Peer& peer) {
    const ParsedRequest parsed = parse_request(line);
    if (!parsed.request) {
        return {dump(error_reply(parsed.error))};
    }
    if (changes_state(parsed.request->command) && !peer.may_change) {
        return {dump(error_reply(fmt::format(
                    "permission denied: \"{}\" changes the daemon's state and needs uid 0 or "
                    "the daemon's own user",
                    to_string(parsed.request->command)))),
                true};
    }
    if (parsed.request->command == Command::monitor) {
        return {dump({{"ok", true}}), false, nullptr, true};
    }
    Answer answer = handler(*parsed.request);
    if (answer.source) {
        return {{}, false, std::move(answer.source)};
    }
    return {dump(answer.reply)};
}

}  // namespace ndproxy::control
