// ndproxyctl: the operator's view of a running ndproxyd, over its control socket.
//
// Exit status: 0 success, 1 the daemon could not be asked or refused, 2 usage error.

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/monitor_events.hpp"
#include "ctl/control_client.hpp"
#include "ctl/doctor.hpp"
#include "ctl/kernel_table.hpp"
#include "ctl/kernel_view.hpp"
#include "ctl/render.hpp"

namespace {

namespace po = boost::program_options;
namespace ctl = ndproxy::ctl;

constexpr std::array<std::string_view, 7> kCommands{"list",     "stats",  "status", "resync",
                                                    "announce", "doctor", "monitor"};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Invocation {
    enum class Action { run, print_help, print_version };
    Action action = Action::run;
    std::string socket_path = ndproxy::kDefaultControlSocket;
    bool socket_given = false;
    std::string command;
    std::vector<std::string> addresses;  // announce
    bool all = false;                    // announce --all
    bool json = false;
    bool kernel = false;                     // list --kernel
    bool prometheus = false;                 // stats --prometheus
    std::optional<std::string> config_path;  // doctor -c
    std::optional<double> window;            // doctor --window
};

po::options_description visible_options() {
    po::options_description options("Options");
    // clang-format off
    options.add_options()
        ("socket", po::value<std::string>()->value_name("PATH"),
         "the daemon's control socket (default /run/ndproxyd/control.sock)")
        ("json", po::bool_switch(),
         "print the answer as one JSON document (list, stats, status), or each event as one "
         "JSON object per line (monitor)")
        ("kernel", po::bool_switch(),
         "list: read the kernel's proxy table directly instead of asking the daemon")
        ("all", po::bool_switch(),
         "announce: every address the daemon proxies, at the pace of its --announce-rate")
        ("prometheus", po::bool_switch(),
         "stats: print the counters in Prometheus text format (node_exporter textfile collector)")
        ("config,c", po::value<std::string>()->value_name("PATH"),
         "doctor: the daemon's configuration file (default /etc/ndproxy/ndproxyd.conf)")
        ("window", po::value<double>()->value_name("SECONDS"),
         "doctor: warn when no solicitation for a prefix came for this long (default 600)")
        ("help,h", po::bool_switch(), "print this help and exit")
        ("version,V", po::bool_switch(), "print the version and exit");
    // clang-format on
    return options;
}

std::string help_text() {
    std::ostringstream text;
    text << "Usage: ndproxyctl [--socket PATH] COMMAND [--json]\n"
            "       ndproxyctl [--socket PATH] list --kernel [--json]\n"
            "       ndproxyctl [--socket PATH] stats --prometheus\n"
            "       ndproxyctl [--socket PATH] announce ADDRESS... | --all\n"
            "       ndproxyctl [--socket PATH] doctor [-c PATH] [--window SECONDS] [--json]\n"
            "\n"
            "Commands:\n"
            "  list     proxy entries: address, internal interface, lladdr, state, origin,\n"
            "           who answers (kernel entry or responder), age, the MAC of another\n"
            "           host claiming the address while its VM answers here (conflict)\n"
            "           --kernel: the kernel's proxy table, read directly (no daemon needed),\n"
            "           ndproxyd's entries marked and cross-checked with the daemon if it runs\n"
            "  stats    counters: neighbours, entries, solicitations, drops by reason, errors\n"
            "  status   interfaces, prefixes, modes, uptime, entry count\n"
            "  resync   make the daemon re-read the kernel's tables now\n"
            "  announce send the unsolicited advertisements for proxied ADDRESSes again, so\n"
            "           that the upstream router points them at this host now (failover);\n"
            "           --all: every address, paced (after maintenance)\n"
            "  doctor   check the host (sysctls, routes, bridges, the daemon and the kernel's\n"
            "           proxy table) against the daemon's configuration; says what is wrong\n"
            "           and how to fix it. Exit status 0 all OK, 1 a warning, 2 a failure\n"
            "  monitor  print events as they happen, one a line, until interrupted: entries\n"
            "           added, withdrawn, moved, verifications, bounds hit, conflicts, reloads\n"
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
        invocation.socket_given = true;
    }
    if (values.count("config")) {
        invocation.config_path = values["config"].as<std::string>();
    }
    if (values.count("window")) {
        invocation.window = values["window"].as<double>();
    }
    invocation.json = values["json"].as<bool>();
    invocation.kernel = values["kernel"].as<bool>();
    invocation.prometheus = values["prometheus"].as<bool>();
    invocation.all = values["all"].as<bool>();
    if (!values.count("command")) {
        throw UsageError(
            "missing command (list, stats, status, resync, announce, doctor or monitor)");
    }
    const auto& words = values["command"].as<std::vector<std::string>>();
    invocation.command = words.front();
    if (std::find(kCommands.begin(), kCommands.end(), invocation.command) == kCommands.end()) {
        throw UsageError(
            fmt::format("unknown command \"{}\" (expected list, stats, status, resync, "
                        "announce, doctor or monitor)",
                        invocation.command));
    }
    if (invocation.command == "announce") {
        invocation.addresses.assign(words.begin() + 1, words.end());
        if (invocation.addresses.empty() && !invocation.all) {
            throw UsageError("announce needs at least one ADDRESS, or --all");
        }
        if (!invocation.addresses.empty() && invocation.all) {
            throw UsageError("announce takes ADDRESSes or --all, not both");
        }
        for (const std::string& address : invocation.addresses) {
            if (!ndproxy::Ipv6Address::parse(address)) {
                throw UsageError(fmt::format("invalid IPv6 address \"{}\"", address));
            }
        }
    } else if (words.size() > 1) {
        throw UsageError(fmt::format("unexpected argument \"{}\"", words[1]));
    }
    if (invocation.json && (invocation.command == "resync" || invocation.command == "announce")) {
        throw UsageError(fmt::format("--json does not apply to {}", invocation.command));
    }
    if (invocation.all && invocation.command != "announce") {
        throw UsageError("--all applies only to announce");
    }
    if (invocation.kernel && invocation.command != "list") {
        throw UsageError("--kernel applies only to list");
    }
    if (invocation.prometheus && invocation.command != "stats") {
        throw UsageError("--prometheus applies only to stats");
    }
    if ((invocation.config_path || invocation.window) && invocation.command != "doctor") {
        throw UsageError("-c and --window apply only to doctor");
    }
    if (invocation.window && !(*invocation.window > 0)) {
        throw UsageError("--window must be a positive number of seconds");
    }
    if (invocation.prometheus && invocation.json) {
        throw UsageError("--prometheus and --json exclude each other");
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
    if (invocation.prometheus) {
        return ctl::render_prometheus(payload);
    }
    if (invocation.command == "list") {
        return ctl::render_list(payload);
    }
    if (invocation.command == "stats") {
        return ctl::render_stats(payload);
    }
    return ctl::render_status(payload);
}

void write_stdout(const std::string& text) {
    fmt::print("{}", text);
    // A full disk or closed pipe must not look like success to a script.
    if (std::fflush(stdout) != 0) {
        throw std::runtime_error("cannot write the output");
    }
}

int list_kernel(const Invocation& invocation) {
    auto [view, daemon, why] = ctl::cross_check(invocation.socket_path);
    if (invocation.json) {
        if (!daemon) {
            view["daemon_error"] = why;
        }
        write_stdout(ctl::render_json(view));
        return 0;
    }
    write_stdout(ctl::render_kernel_list(view));
    if (!daemon) {
        fmt::print(stderr, "ndproxyctl: no cross-check with the daemon: {}\n", why);
    }
    for (const auto& warning : view["warnings"]) {
        fmt::print(stderr, "ndproxyctl: warning: {}\n", warning.get<std::string>());
    }
    return 0;
}

volatile std::sig_atomic_t interrupted = 0;

// Until SIGINT or SIGTERM, which end it with status 0: being stopped is how it ends.
int monitor(const Invocation& invocation) {
    struct sigaction action = {};
    action.sa_handler = [](int) { interrupted = 1; };
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (const int signal : {SIGINT, SIGTERM}) {
        ::sigaction(signal, &action, nullptr);
        sigaddset(&stop_signals, signal);
    }
    ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    ctl::follow_events(
        invocation.socket_path,
        [&](std::string_view line) {
            write_stdout(invocation.json ? std::string(line) + "\n"
                                         : ndproxy::monitor::text_line(line) + "\n");
        },
        interrupted, stop_signals);
    return 0;
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
    if (invocation.kernel) {
        return list_kernel(invocation);
    }
    if (invocation.command == "doctor") {
        ctl::DoctorOptions options;
        options.config_path = invocation.config_path.value_or(ndproxy::kDefaultConfigPath);
        if (invocation.socket_given) {
            options.socket_path = invocation.socket_path;
        }
        options.json = invocation.json;
        options.window = invocation.window.value_or(options.window);
        return ctl::run_doctor(options);
    }
    if (invocation.command == "monitor") {
        return monitor(invocation);
    }
    if (invocation.command == "announce") {
        if (invocation.all) {
            ctl::send_request(invocation.socket_path, {{"command", "announce"}, {"all", true}});
        }
        // One request each; the first address the daemon refuses stops the run (exit 1), so a
        // failover script notices.
        for (const std::string& address : invocation.addresses) {
            ctl::send_request(invocation.socket_path,
                              {{"command", "announce"}, {"address", address}});
        }
        return 0;
    }
    write_stdout(render(invocation, ctl::send_command(invocation.socket_path, invocation.command)));
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
