#include <fmt/format.h>

#include <exception>

#include "core/config.hpp"
#include "core/log.hpp"
#include "daemon/daemon.hpp"
#include "daemon/privileges.hpp"
#include "daemon/uplink.hpp"

int main(int argc, char* argv[]) {
    using namespace ndproxy;
    CommandLine command_line;
    try {
        command_line = parse_command_line(argc, argv);
    } catch (const ConfigError& error) {
        fmt::print(stderr, "ndproxyd: {}\n", error.what());
        return 2;
    }
    switch (command_line.action) {
        case CommandLine::Action::print_help:
        case CommandLine::Action::print_version:
            fmt::print("{}", command_line.text);
            return 0;
        case CommandLine::Action::run:
            break;
    }
    if (command_line.config.check_config) {
        fmt::print("ndproxyd: configuration is valid\n");
        return 0;
    }
    log::set_level(command_line.config.log_level);
    FastPaths fast_paths;
    try {
        // The fast path first: loading it takes CAP_BPF, which drop_privileges() gives up.
        fast_paths = load_fast_paths(command_line.config);
        // Before anything touches the network, so that all of it runs as that user.
        drop_privileges(command_line.config);
    } catch (const ConfigError& error) {
        fmt::print(stderr, "ndproxyd: {}\n", error.what());
        return 2;
    } catch (const std::exception& error) {
        log::error("{}", error.what());
        return 1;
    }
    try {
        Daemon daemon(std::move(command_line), std::move(fast_paths));
        return daemon.run();
    } catch (const std::exception& error) {
        log::error("{}", error.what());
        return 1;
    }
}
