// libFuzzer target for the control protocol: any bytes as what a client writes to the control
// socket. The socket is mode 0660, but ndproxyctl, scripts and monitoring agents all talk to it,
// and none of them may be able to take the daemon down.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/control_protocol.hpp"

using namespace ndproxy;

namespace {

void check_line(std::string_view line) {
    const control::ParsedRequest parsed = control::parse_request(line);
    if (parsed.request.has_value() == !parsed.error.empty()) {
        std::abort();  // exactly one of a request and an error
    }
    if (parsed.request) {
        // Accepted only as a JSON object whose "command" names exactly this request.
        const auto document = nlohmann::json::parse(line, nullptr, false);
        if (document.is_discarded() || !document.is_object() || !document.contains("command") ||
            document["command"] != control::to_string(parsed.request->command)) {
            std::abort();
        }
        // An address or "all": true exactly for announce, one of the two, as the request says.
        const bool announce = parsed.request->command == control::Command::announce;
        const bool address = parsed.request->address.has_value();
        if ((address || parsed.request->all) != announce ||
            (announce && address == parsed.request->all) ||
            (address && Ipv6Address::parse(document["address"].get<std::string>()) !=
                            parsed.request->address) ||
            (parsed.request->all && document["all"] != true)) {
            std::abort();
        }
    }
    // What the server sends back is one line of JSON, whatever the request held.
    for (const bool may_change : {true, false}) {
        bool handled = false;
        const control::Reply reply = control::reply_line(
            line,
            [&](const control::Request&) {
                handled = true;
                return nlohmann::json{{"ok", true}};
            },
            control::Peer{may_change});
        if (reply.line.find('\n') != std::string::npos ||
            nlohmann::json::parse(reply.line, nullptr, false).is_discarded()) {
            std::abort();
        }
        // A command that changes state reaches the handler only from a peer that may change.
        const bool gated = parsed.request && control::changes_state(parsed.request->command);
        const bool refused = gated && !may_change;
        if (reply.refused != refused || handled != (parsed.request.has_value() && !refused)) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Split into lines as the server splits its input. The server keeps an unfinished last line
    // until more arrives; it is checked here too, since any line may be finished later.
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    for (;;) {
        const std::size_t newline = rest.find('\n');
        check_line(rest.substr(0, newline));
        if (newline == std::string_view::npos) {
            return 0;
        }
        rest.remove_prefix(newline + 1);
    }
}
