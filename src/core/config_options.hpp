#pragma once

// Internal to the configuration parser: the one table of ndproxyd's options. Each row gives an
// option's name, where it may be set, its help, and its binding: where its value goes in
// Config, how it is parsed, its range and its default. The command-line parser, the file reader,
// --help and build_config all derive from it.

#include <cstdint>
#include <span>
#include <string>

#include "core/config.hpp"
#include "core/config_values.hpp"

namespace ndproxy::config_options {

using config_values::Setting;
using config_values::Settings;

enum class Kind { flag, value, repeatable };
enum class Scope { command_line_only, anywhere };
enum class Group { general, tuning };
enum class Need {
    optional,
    required,  // missing: an error, reported at the option's turn
    // Missing: an error reported after every value was parsed. For --prefix: a file written
    // before prefixes were required gets its value errors first.
    required_last,
};

// How an option's value reaches Config.
struct Binding {
    // Parses the option's settings (one, or several for a repeatable option) into `config`;
    // null for the options read before a Config is built (--config, --help, --version).
    void (*apply)(Config& config, std::span<const Setting> settings) = nullptr;
    // The default as --help shows it ({default} in the help); null: none shown.
    std::string (*shown_default)() = nullptr;
    // The names a choice accepts, "a | b | c" ({choices} in the help).
    std::string (*choices)() = nullptr;
    std::uint64_t min = 0;  // a whole number's range ({min} and {max} in the help)
    std::uint64_t max = 0;
};

struct OptionSpec {
    const char* name;
    char short_name;  // '\0': long name only
    Kind kind;
    Scope scope;
    Group group;
    Need need;
    const char* value_name;
    const char* help;  // a format: {default}, {choices}, {min} and {max} come from the binding
    Binding binding;
};

std::span<const OptionSpec> options();
const OptionSpec* find_option(std::string_view name);  // by long name; null if none

// The option's help for --help, its placeholders filled in.
std::string help_of(const OptionSpec& spec);

// The validated Config for the merged settings; config_path is the file they came from.
Config build_config(const Settings& settings, const std::string& config_path);

}  // namespace ndproxy::config_options
