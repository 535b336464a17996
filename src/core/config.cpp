#include "core/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/make_shared.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <optional>
#include <sstream>
#include <system_error>

#include "core/config_values.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {
namespace {

namespace po = boost::program_options;
using config_values::build_config;
using config_values::reject;
using config_values::Setting;
using config_values::Settings;

enum class Kind { flag, value, repeatable };
enum class Scope { command_line_only, anywhere };
enum class Group { general, tuning };

struct OptionSpec {
    const char* name;
    char short_name;  // '\0': long name only
    Kind kind;
    Scope scope;
    Group group;
    const char* value_name;
    const char* help;
};

// The one list of options: the command-line parser, the file reader and --help all derive from it.
constexpr auto kOptions = std::to_array<OptionSpec>({
    {"config", 'c', Kind::value, Scope::command_line_only, Group::general, "PATH",
     "configuration file (default /etc/ndproxy/ndproxyd.conf; a missing default file is fine)"},
    {"external", 'e', Kind::value, Scope::anywhere, Group::general, "IFACE",
     "the uplink (required)"},
    {"internal", 'i', Kind::repeatable, Scope::anywhere, Group::general, "IFACE",
     "an interface the VMs sit behind; repeat for several (required)"},
    {"prefix", 'p', Kind::repeatable, Scope::anywhere, Group::general, "PREFIX",
     "proxy only inside PREFIX (at least one, /32 or longer; required); repeat for several"},
    {"responder", 0, Kind::value, Scope::anywhere, Group::general, "MODE",
     "off | known | verify | always (default verify)"},
    {"router", 0, Kind::flag, Scope::anywhere, Group::general, "",
     "set the router flag in answers"},
    {"answer-source", 0, Kind::value, Scope::anywhere, Group::general, "SRC",
     "self | target: IPv6 source of the responder's answers (default self)"},
    {"no-announce", 0, Kind::flag, Scope::anywhere, Group::general, "",
     "do not send unsolicited advertisements for new entries"},
    {"no-sysctl", 0, Kind::flag, Scope::anywhere, Group::general, "",
     "do not change sysctls, only warn"},
    {"control-socket", 0, Kind::value, Scope::anywhere, Group::general, "PATH",
     "default /run/ndproxyd/control.sock"},
    {"user", 0, Kind::value, Scope::anywhere, Group::general, "NAME",
     "started as root, run as NAME with only CAP_NET_ADMIN and CAP_NET_RAW; root: stay root "
     "(default ndproxy, if that user exists)"},
    {"flush-on-exit", 0, Kind::flag, Scope::anywhere, Group::general, "",
     "withdraw owned entries at exit"},
    {"dry-run", 0, Kind::flag, Scope::anywhere, Group::general, "",
     "log what would change, change nothing"},
    {"check-config", 0, Kind::flag, Scope::command_line_only, Group::general, "",
     "validate the configuration and exit"},
    {"log-level", 0, Kind::value, Scope::anywhere, Group::general, "LEVEL",
     "error | warn | info | debug (default info)"},
    {"version", 'V', Kind::flag, Scope::command_line_only, Group::general, "",
     "print the version and exit"},
    {"help", 'h', Kind::flag, Scope::command_line_only, Group::general, "",
     "print this help and exit"},
    {"withdraw-after", 0, Kind::value, Scope::anywhere, Group::tuning, "SECONDS",
     "how long a vanished address must stay silent to our probes before its entry is withdrawn "
     "(default 30)"},
    {"resync-interval", 0, Kind::value, Scope::anywhere, Group::tuning, "SECONDS",
     "re-read the kernel's proxy table this often (default 60)"},
    {"announce-count", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "unsolicited advertisements per new entry, 0 to 10 (default 3)"},
    {"announce-interval", 0, Kind::value, Scope::anywhere, Group::tuning, "SECONDS",
     "time between those advertisements (default 1)"},
    {"netlink-buffer", 0, Kind::value, Scope::anywhere, Group::tuning, "BYTES",
     "receive buffer of the netlink event socket, at least 4096 (default 4194304)"},
    {"max-entries", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most proxy entries the daemon keeps; new addresses beyond it are not proxied "
     "(default 262144)"},
    {"kernel-entries", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most addresses answered by kernel proxy entries; the responder answers the rest, "
     "0 for none (default 1024; unlimited with --responder off)"},
    {"max-verifications", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most responder verifications in flight (default 256)"},
    {"negative-cache", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most targets remembered as verified absent (default 8192)"},
    {"answer-rate", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most responder answers per second to one source, told apart by its Ethernet and IPv6 "
     "addresses (default 200000)"},
    {"answer-rate-total", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most responder answers per second in all, shared fairly between sources "
     "(default 200000)"},
    {"max-control-clients", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most control-socket clients at once (default 64)"},
    {"max-addresses-per-mac", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most addresses one VM (MAC) may have proxied (default 256)"},
    {"new-addresses-per-minute", 0, Kind::value, Scope::anywhere, Group::tuning, "N",
     "most new addresses one VM (MAC) may add per minute, in a burst of as many (default 60)"},
});

constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

const OptionSpec* find_option(std::string_view name) {
    const auto found = std::find_if(kOptions.begin(), kOptions.end(),
                                    [&](const OptionSpec& spec) { return spec.name == name; });
    return found == kOptions.end() ? nullptr : &*found;
}

void add_setting(Settings& settings, const OptionSpec& spec, Setting setting) {
    auto& values = settings[spec.name];
    if (!values.empty() && spec.kind != Kind::repeatable) {
        if (setting.from_file()) {
            throw ConfigError(fmt::format("{}: duplicate key \"{}\" (first set on line {})",
                                          setting.where(), spec.name, values.front().line));
        }
        throw ConfigError(fmt::format("--{} given more than once", spec.name));
    }
    values.push_back(std::move(setting));
}

po::options_description describe_options() {
    po::options_description general("Options");
    po::options_description tuning("Tuning");
    for (const OptionSpec& spec : kOptions) {
        const std::string names = spec.short_name != 0
                                      ? fmt::format("{},{}", spec.name, spec.short_name)
                                      : std::string(spec.name);
        po::value_semantic* semantic = nullptr;
        switch (spec.kind) {
            case Kind::flag:
                semantic = po::bool_switch();
                break;
            case Kind::value:
                semantic = po::value<std::string>()->value_name(spec.value_name);
                break;
            case Kind::repeatable:
                semantic = po::value<std::vector<std::string>>()->value_name(spec.value_name);
                break;
        }
        (spec.group == Group::general ? general : tuning)
            .add(boost::make_shared<po::option_description>(names.c_str(), semantic, spec.help));
    }
    general.add(tuning);
    return general;
}

std::string help_text(const po::options_description& options) {
    std::ostringstream text;
    text << "Usage: ndproxyd [options]\n"
            "Proxies IPv6 Neighbor Discovery on the external interface for the VMs behind the\n"
            "internal ones. Every option but -c, -h, -V and --check-config can also be set in\n"
            "the configuration file, as \"name = value\" with the long name.\n\n"
         << options;
    return text.str();
}

Settings read_command_line(const std::vector<std::string>& arguments,
                           const po::options_description& options) {
    // No abbreviations: a script written against "--no-a" would break when an option is added.
    constexpr int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    const po::parsed_options parsed = [&] {
        try {
            return po::command_line_parser(arguments).options(options).style(style).run();
        } catch (const po::error& error) {
            throw ConfigError(error.what());
        }
    }();
    Settings settings;
    for (const po::option& option : parsed.options) {
        if (option.position_key >= 0 || option.string_key.empty()) {
            throw ConfigError(
                fmt::format("unexpected argument \"{}\"", fmt::join(option.original_tokens, " ")));
        }
        const OptionSpec* spec = find_option(option.string_key);
        if (spec == nullptr) {  // Boost knows only our options; this guards the invariant.
            throw ConfigError(fmt::format("unknown option \"{}\"", option.string_key));
        }
        std::string value =
            spec->kind == Kind::flag || option.value.empty() ? "true" : option.value.front();
        add_setting(settings, *spec, Setting{spec->name, std::move(value), {}, 0});
    }
    return settings;
}

// Returns nullopt only for a missing file that was not asked for by name.
std::optional<std::string> read_file(const std::string& path, bool named) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const auto fail = [&](int error) {
        throw ConfigError(fmt::format("cannot read configuration file {}: {}", path,
                                      std::system_category().message(error)));
    };
    if (!fd) {
        if (errno == ENOENT && !named) {
            return std::nullopt;
        }
        fail(errno);
    }
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fail(errno);
        }
        if (got == 0) {
            return content;
        }
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > kMaxConfigFileBytes) {
            throw ConfigError(fmt::format("configuration file {} is larger than {} bytes", path,
                                          kMaxConfigFileBytes));
        }
    }
}

std::string_view trim(std::string_view text) {
    const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

Settings read_config_text(std::string_view text, const std::string& path) {
    Settings settings;
    unsigned line_number = 0;
    while (!text.empty()) {
        const std::size_t newline = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(std::min(newline + 1, text.size()));
        ++line_number;
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) {
            continue;
        }
        const std::size_t equals = line.find('=');
        const std::string_view key = trim(line.substr(0, equals));
        if (equals == std::string_view::npos || key.empty()) {
            throw ConfigError(fmt::format("{}:{}: expected \"key = value\", got \"{}\"", path,
                                          line_number, line));
        }
        std::string_view value = trim(line.substr(equals + 1));
        // Quoting is not needed, but operators used to shell-style files write it anyway.
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        const OptionSpec* spec = find_option(key);
        if (spec == nullptr) {
            throw ConfigError(fmt::format("{}:{}: unknown key \"{}\"", path, line_number, key));
        }
        if (spec->scope == Scope::command_line_only) {
            throw ConfigError(fmt::format("{}:{}: \"{}\" is only valid on the command line", path,
                                          line_number, key));
        }
        if (value.empty()) {
            throw ConfigError(fmt::format("{}:{}: empty value for \"{}\"", path, line_number, key));
        }
        add_setting(settings, *spec, Setting{spec->name, std::string(value), path, line_number});
    }
    return settings;
}

// The file's settings with the command line's on top, validated.
Config merge(Settings settings, const Settings& given, const std::string& path) {
    for (const auto& [key, values] : given) {
        settings[key] = values;  // replaces, so "-i br1" drops the file's internal list
    }
    return build_config(settings, path);
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& arguments,
                               const std::string& default_config_path) {
    const po::options_description options = describe_options();
    const Settings given = read_command_line(arguments, options);
    CommandLine result;
    result.arguments = arguments;
    if (given.contains("help")) {
        result.action = CommandLine::Action::print_help;
        result.text = help_text(options);
        return result;
    }
    if (given.contains("version")) {
        result.action = CommandLine::Action::print_version;
        result.text = fmt::format("ndproxyd {}\n", NDPROXY_VERSION);
        return result;
    }
    const auto named = given.find("config");
    const std::string& path =
        named == given.end() ? default_config_path : named->second.front().value;
    if (named != given.end() && path.empty()) {
        reject(named->second.front(), "expected a path");
    }
    const auto text = read_file(path, named != given.end());
    result.config = merge(text ? read_config_text(*text, path) : Settings{}, given, path);
    return result;
}

Config parse_config_text(std::string_view text, const std::string& path,
                         const std::vector<std::string>& arguments) {
    return merge(read_config_text(text, path), read_command_line(arguments, describe_options()),
                 path);
}

CommandLine parse_command_line(int argc, const char* const argv[]) {
    return parse_command_line(std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
}

Config reload_config(const CommandLine& startup) {
    // The startup path is the default: a -c among the arguments names the same file again.
    return parse_command_line(startup.arguments, startup.config.config_path).config;
}

std::string_view to_string(ResponderMode mode) {
    switch (mode) {
        case ResponderMode::off:
            return "off";
        case ResponderMode::known:
            return "known";
        case ResponderMode::verify:
            return "verify";
        case ResponderMode::always:
            return "always";
    }
    return "unknown";
}

std::string_view to_string(AnswerSource source) {
    switch (source) {
        case AnswerSource::self:
            return "self";
        case AnswerSource::target:
            return "target";
    }
    return "unknown";
}

std::string_view to_string(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return "error";
        case LogLevel::warn:
            return "warn";
        case LogLevel::info:
            return "info";
        case LogLevel::debug:
            return "debug";
    }
    return "unknown";
}

}  // namespace ndproxy
