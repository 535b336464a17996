#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy {

enum class ResponderMode { off, known, verify, always };
enum class AnswerSource { self, target };
// docs/design.md §Fast path: `automatic` is "auto" (a keyword in C++).
enum class FastPath { off, filter, xdp, xdp_native, automatic };
enum class LogLevel { error, warn, info, debug };

inline constexpr const char* kDefaultConfigPath = "/etc/ndproxy/ndproxyd.conf";
inline constexpr const char* kDefaultControlSocket = "/run/ndproxyd/control.sock";
// In the packaged unit's StateDirectory=, kept across restarts and upgrades.
inline constexpr const char* kDefaultStateFile = "/var/lib/ndproxy/responder.state";
// The system user the Debian package creates; its group owns the control socket.
inline constexpr const char* kDefaultUser = "ndproxy";
// The largest --max-entries (and other per-address counts) accepted.
inline constexpr std::size_t kMaxEntriesCeiling = std::size_t{1} << 24;
// The default --max-entries: 2.5 times the 100,000 addresses we design for, so that a real host
// never meets it, while a VM answering for a whole /64 in verify mode stops at about 90 MiB of
// daemon memory (some 350 bytes an entry, measured at 100,000).
inline constexpr std::size_t kDefaultMaxEntries = 262144;
// The most uplinks (--external): each has its own --max-entries, and the control protocol's
// reply bound counts on this many.
inline constexpr std::size_t kMaxUplinks = 16;

// `prefix = P on IFACE,...`: the internal interfaces (names or patterns) P's addresses may
// appear behind. A prefix without one applies to every internal interface.
struct PrefixBinding {
    Ipv6Prefix prefix;
    std::vector<std::string> interfaces;
    auto operator<=>(const PrefixBinding&) const = default;
};

// Everything ndproxyd can be told, from the command line and the configuration file.
struct Config {
    std::string config_path = kDefaultConfigPath;
    std::vector<std::string> externals;  // every uplink, in the order given (at least one)
    std::string external;                // the first of them: the only one, usually
    std::vector<std::string> internal;
    std::vector<Ipv6Prefix> prefixes;     // at least one (required); empty: nothing
    std::vector<PrefixBinding> bindings;  // of the prefixes that name interfaces
    // `prefix = P via IFACE`: the uplink serving each prefix, for every prefix (the only
    // uplink when there is one and the line names none).
    std::map<Ipv6Prefix, std::string> via;
    ResponderMode responder = ResponderMode::verify;
    bool router = false;
    AnswerSource answer_source = AnswerSource::self;
    FastPath fast_path = FastPath::automatic;
    bool announce = true;
    bool manage_sysctls = true;
    std::string control_socket = kDefaultControlSocket;
    // The addresses the responder answers, so that a restart does not announce them again.
    std::string state_file = kDefaultStateFile;
    // Who a daemon started as root becomes (README "Security"). Unset: kDefaultUser if that
    // user exists, root with a warning otherwise; a user named here must exist.
    std::optional<std::string> user;
    bool flush_on_exit = false;
    bool dry_run = false;
    bool check_config = false;
    LogLevel log_level = LogLevel::info;

    // Tuning, also settable as long options and in the file.
    // How long a vanished address must stay silent to our probes before its entry is withdrawn.
    std::chrono::milliseconds withdraw_after{std::chrono::seconds(30)};
    // The kernel reports no proxy-table changes, so the table is re-read this often.
    std::chrono::milliseconds resync_interval{std::chrono::seconds(60)};
    unsigned announce_count = 3;  // RFC 4861 §7.2.6: MAX_NEIGHBOR_ADVERTISEMENT
    std::chrono::milliseconds announce_interval{std::chrono::seconds(1)};
    // Unsolicited advertisements a second at most, per uplink (docs/design.md §Announcements).
    unsigned announce_rate = 200;
    std::size_t netlink_buffer = 4u << 20;  // bytes; receive buffer of the event socket

    // Resource bounds: what hostile input or a runaway VM can make the daemon hold. Each one,
    // when hit, is counted in `ndproxyctl stats`.
    // Addresses the daemon proxies (in the kernel or by the responder). Counted as
    // entries_limit.
    std::size_t max_entries = kDefaultMaxEntries;
    // Addresses answered by kernel proxy entries; the responder answers the rest from its own
    // table (README "Scale" has the measurements behind the default).
    std::size_t kernel_entries = 1024;
    std::size_t max_verifications = 256;  // responder verifications in flight
    std::size_t negative_cache = 8192;    // targets remembered as verified absent
    unsigned answer_rate = 200000;        // responder answers per second per source (MAC + IPv6)
    unsigned answer_rate_total = 200000;  // and in all
    std::size_t max_control_clients = 64;
    // Per VM, by MAC (the hostile-tenants issue): counted as mac_address_limit and
    // mac_rate_limit.
    std::size_t max_addresses_per_mac = 256;
    unsigned new_addresses_per_minute = 60;
};

// A bad option or configuration line. The message names the culprit, e.g.
// `ndproxyd.conf:7: unknown key "prefx"`. Exit status 2.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct CommandLine {
    enum class Action { run, print_help, print_version };
    Action action = Action::run;
    std::string text;  // help or version text for print_*, ready to print (ends with a newline)
    Config config;
    // argv[1..] as given. A reload (SIGHUP) re-reads the file and applies these again on top,
    // so the command line keeps overriding the file for the daemon's whole life.
    std::vector<std::string> arguments;
};

// Parses argv and the configuration file (the named one, or the default if it exists) into a
// validated Config; command-line values override the file, and a repeatable option given on the
// command line replaces the file's list. Throws ConfigError.
CommandLine parse_command_line(int argc, const char* const argv[]);
// The same for arguments without the program name. `default_config_path` is read when no
// --config is given, and only if it exists.
CommandLine parse_command_line(const std::vector<std::string>& arguments,
                               const std::string& default_config_path = kDefaultConfigPath);

// The same for a configuration file's text that the caller has read: `path` only names it in
// error messages. Pure; the fuzz target for the file format calls it.
Config parse_config_text(std::string_view text, const std::string& path,
                         const std::vector<std::string>& arguments = {});

// Re-reads the configuration file on top of the command line remembered from startup (for
// SIGHUP). Throws ConfigError; the caller keeps its running Config on failure.
Config reload_config(const CommandLine& startup);

std::string_view to_string(ResponderMode mode);
std::string_view to_string(AnswerSource source);
std::string_view to_string(FastPath mode);
std::string_view to_string(LogLevel level);

}  // namespace ndproxy
