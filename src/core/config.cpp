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

#include "core/config_options.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {
namespace {

namespace po = boost::program_options;
using config_options::build_config;
using config_options::find_option;
using config_options::Kind;
using config_options::OptionSpec;
using config_options::Scope;
using config_values::reject;
using config_values::Setting;
using config_values::Settings;

constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

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
    for (const OptionSpec& spec : config_options::options()) {
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
        (spec.group == config_options::Group::general ? general : tuning)
            .add(boost::make_shared<po::option_description>(names.c_str(), semantic,
                                                            config_options::help_of(spec).c_str()));
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

std::string_view to_string(FastPath mode) {
    switch (mode) {
        case FastPath::off:
            return "off";
        case FastPath::filter:
            return "filter";
        case FastPath::xdp:
            return "xdp";
        case FastPath::xdp_native:
            return "xdp-native";
        case FastPath::automatic:
            return "auto";
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
