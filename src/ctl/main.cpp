// ndproxyctl: the operator's view of a running ndproxyd, over its control socket.
//
// Exit status: 0 success, 1 the daemon could not be asked or refused, 2 usage error.

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/control_client.hpp"
#include "ctl/render.hpp"
#include "ndproxy/config.hpp"

namespace {

namespace po = boost::program_options;
namespace ctl = ndproxy::ctl;

constexpr std::array<std::string_view, 4> kCommands{"list", "stats", "status", "resync"};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Invocation {
    enum class Action { run, print_help, print_version };
    Action action = Action::run;
    std::string socket_path = ndproxy::kDefaultControlSocket;
    std::string command;
    bool json = false;
};

po::options_description visible_options() {
    po::options_description options("Options");
    // clang-format off
    options.add_options()
        ("socket", po::value<std::string>()->value_name("PATH"),
         "the daemon's control socket (default /run/ndproxyd/control.sock)")
        ("json", po::bool_switch(), "print the answer as one JSON document (list, stats, status)")
        ("help,h", po::bool_switch(), "print this help and exit")
        ("version,V", po::bool_switch(), "print the version and exit");
    // clang-format on
    return options;
}

std::string help_text() {
    std::ostringstream text;
    text << "Usage: ndproxyctl [--socket PATH] COMMAND [--json]\n"
            "\n"
            "Commands:\n"
            "  list     proxy entries: address, internal interface, lladdr, state, origin,\n"
            "           kernel entry present, age\n"
            "  stats    counters: neighbours, entries, solicitations, drops by reason, errors\n"
            "  status   interfaces, prefixes, modes, uptime, entry count\n"
            "  resync   make the daemon re-read the kernel's tables now\n"
            "\n"
         << visible_options();
    return text.str();
}

Invocation parse_invocation(int argc, const char* const argv[]) {
    po::options_description all_options = visible_options();
    all_options.add_options()("command", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("command", -1);
    po::variables_map values;
    try {
        constexpr int style =
            po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(argc, argv)
                      .options(all_options)
                      .positional(positional)
                      .style(style)
                      .run(),
                  values);
    } catch (const po::error& error) {
        throw UsageError(error.what());
    }
    Invocation invocation;
    if (values["help"].as<bool>()) {
        invocation.action = Invocation::Action::print_help;
        return invocation;
    }
    if (values["version"].as<bool>()) {
        invocation.action = Invocation::Action::print_version;
        return invocation;
    }
    if (values.count("socket")) {
        invocation.socket_path = values["socket"].as<std::string>();
    }
    invocation.json = values["json"].as<bool>();
    if (!values.count("command")) {
        throw UsageError("missing command (list, stats, status or resync)");
    }
    const auto& words = values["command"].as<std::vector<std::string>>();
    if (words.size() > 1) {
        throw UsageError(fmt::format("unexpected argument \"{}\"", words[1]));
    }
    invocation.command = words.front();
    if (std::find(kCommands.begin(), kCommands.end(), invocation.command) == kCommands.end()) {
        throw UsageError(
            fmt::format("unknown command \"{}\" (expected list, stats, status or "
                        "resync)",
                        invocation.command));
    }
    if (invocation.json && invocation.command == "resync") {
        throw UsageError("--json does not apply to resync");
    }
    return invocation;
}

std::string render(const Invocation& invocation, const nlohmann::json& payload) {
    if (invocation.command == "resync") {
        return {};  // success is silent, like other Unix tools
    }
    if (invocation.json) {
        return ctl::render_json(payload);
    }
    if (invocation.command == "list") {
        return ctl::render_list(payload);
    }
    if (invocation.command == "stats") {
        return ctl::render_stats(payload);
    }
    return ctl::render_status(payload);
}

int run(int argc, const char* const argv[]) {
    const Invocation invocation = parse_invocation(argc, argv);
    switch (invocation.action) {
        case Invocation::Action::print_help:
            fmt::print("{}", help_text());
            return 0;
        case Invocation::Action::print_version:
            fmt::print("ndproxyctl {}\n", NDPROXY_VERSION);
            return 0;
        case Invocation::Action::run:
            break;
    }
    const nlohmann::json payload = ctl::send_command(invocation.socket_path, invocation.command);
    fmt::print("{}", render(invocation, payload));
    // A full disk or closed pipe must not look like success to a script.
    if (std::fflush(stdout) != 0) {
        throw std::runtime_error("cannot write the output");
    }
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    try {
        return run(argc, argv);
    } catch (const UsageError& error) {
        fmt::print(stderr, "ndproxyctl: {}\nTry 'ndproxyctl --help'.\n", error.what());
        return 2;
    } catch (const std::exception& error) {
        fmt::print(stderr, "ndproxyctl: {}\n", error.what());
        return 1;
    }
}
