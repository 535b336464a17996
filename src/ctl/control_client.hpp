#pragma once

// The client side of the control protocol (core/control_protocol.hpp).

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/control_protocol.hpp"

namespace ndproxy::ctl {

// What the daemon can send at the largest --max-entries (control::kMaxReplyBytes), and no less:
// a full list at the default 262,144 entries is about 45 MB.
inline constexpr std::uint64_t kMaxReplyBytes = control::kMaxReplyBytes;
inline constexpr std::chrono::milliseconds kReplyTimeout{5000};

// Anything that kept a command from getting its answer, worded for the operator, e.g.
// "cannot reach ndproxyd at /run/ndproxyd/control.sock: No such file or directory (is it
// running?)" or "ndproxyd: unknown command \"x\"" for a reply with ok=false.
class ControlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sends {"command": COMMAND} and returns the reply's payload: the "list" array, the "stats" or
// "status" object, or null for "resync". Connecting and sending must finish within `timeout`,
// and the reply must start and go on arriving without a pause that long: a list of any size
// completes, a daemon that stops answering does not hold the client.
nlohmann::json send_command(const std::string& socket_path, std::string_view command,
                            std::chrono::milliseconds timeout = kReplyTimeout);

// Sends one request object and checks the reply like send_command(); for commands that answer
// with {"ok": true} alone (resync, announce). Throws ControlError.
void send_request(const std::string& socket_path, const nlohmann::json& request,
                  std::chrono::milliseconds timeout = kReplyTimeout);

// `ndproxyctl monitor`: sends {"command": "monitor"}, checks the reply (within `timeout`), then
// hands each event line (without its newline) to `on_event` as it arrives, however long the
// wait. Returns once `stop` is set by a handler of one of `stop_signals`, which the caller has
// blocked: they are let through only while waiting, so none is missed. Throws ControlError,
// also when the daemon hangs up (it stopped).
void follow_events(const std::string& socket_path,
                   const std::function<void(std::string_view)>& on_event,
                   const volatile std::sig_atomic_t& stop, const sigset_t& stop_signals,
                   std::chrono::milliseconds timeout = kReplyTimeout);

// The payload of one reply line to `command`, checked against the protocol. Throws ControlError.
nlohmann::json payload_of_reply(std::string_view reply_line, std::string_view command);

}  // namespace ndproxy::ctl
