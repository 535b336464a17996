#include "core/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config_test_support.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

TEST_F(ConfigTest, MinimalCommandLineGetsDefaults) {
    const CommandLine line = parse({"-e", "eth0", "-i", "br0", "-p", "2001:db8:1::/64"});
    EXPECT_EQ(line.action, CommandLine::Action::run);
    const Config& config = line.config;
    EXPECT_EQ(config.config_path, absent_default_);
    EXPECT_EQ(config.external, "eth0");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br0"}));
    ASSERT_EQ(config.prefixes.size(), 1u);
    EXPECT_EQ(config.responder, ResponderMode::verify);
    EXPECT_FALSE(config.router);
    EXPECT_EQ(config.answer_source, AnswerSource::self);
    EXPECT_TRUE(config.announce);
    EXPECT_TRUE(config.manage_sysctls);
    EXPECT_EQ(config.control_socket, "/run/ndproxyd/control.sock");
    EXPECT_EQ(config.user, std::nullopt);  // ndproxy if it exists: decided at start
    EXPECT_FALSE(config.flush_on_exit);
    EXPECT_FALSE(config.dry_run);
    EXPECT_FALSE(config.check_config);
    EXPECT_EQ(config.log_level, LogLevel::info);
    EXPECT_EQ(config.withdraw_after, 30s);
    EXPECT_EQ(config.resync_interval, 60s);
    EXPECT_EQ(config.announce_count, 3u);
    EXPECT_EQ(config.announce_interval, 1s);
    EXPECT_EQ(config.netlink_buffer, 4194304u);
    EXPECT_EQ(line.arguments, (Args{"-e", "eth0", "-i", "br0", "-p", "2001:db8:1::/64"}));
}

TEST_F(ConfigTest, EveryLongOption) {
    const std::string socket = directory_ + "/ctl.sock";
    const Config config = parse({"--external",
                                 "eth1",
                                 "--internal",
                                 "br0",
                                 "--internal=virbr0",
                                 "--prefix",
                                 "2001:db8:1::/64",
                                 "--prefix",
                                 "2001:db8:2::/48",
                                 "--responder",
                                 "always",
                                 "--router",
                                 "--answer-source",
                                 "target",
                                 "--no-announce",
                                 "--no-sysctl",
                                 "--control-socket",
                                 socket,
                                 "--user",
                                 "alice",
                                 "--flush-on-exit",
                                 "--dry-run",
                                 "--check-config",
                                 "--log-level",
                                 "debug",
                                 "--withdraw-after",
                                 "2.5",
                                 "--resync-interval",
                                 "10",
                                 "--announce-count",
                                 "0",
                                 "--announce-interval",
                                 "0.5",
                                 "--netlink-buffer",
                                 "4096"})
                              .config;
    EXPECT_EQ(config.external, "eth1");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br0", "virbr0"}));
    ASSERT_EQ(config.prefixes.size(), 2u);
    EXPECT_EQ(config.prefixes[0].to_string(), "2001:db8:1::/64");
    EXPECT_EQ(config.prefixes[1].to_string(), "2001:db8:2::/48");
    EXPECT_EQ(config.responder, ResponderMode::always);
    EXPECT_TRUE(config.router);
    EXPECT_EQ(config.answer_source, AnswerSource::target);
    EXPECT_FALSE(config.announce);
    EXPECT_FALSE(config.manage_sysctls);
    EXPECT_EQ(config.control_socket, socket);
    EXPECT_EQ(config.user, "alice");
    EXPECT_TRUE(config.flush_on_exit);
    EXPECT_TRUE(config.dry_run);
    EXPECT_TRUE(config.check_config);
    EXPECT_EQ(config.log_level, LogLevel::debug);
    EXPECT_EQ(config.withdraw_after, 2500ms);
    EXPECT_EQ(config.resync_interval, 10s);
    EXPECT_EQ(config.announce_count, 0u);
    EXPECT_EQ(config.announce_interval, 500ms);
    EXPECT_EQ(config.netlink_buffer, 4096u);
}

TEST_F(ConfigTest, ShortOptions) {
    const std::string path = write_file("empty.conf", "");
    const Config config =
        parse({"-c", path, "-eeth0", "-i", "br0", "-i", "br1", "-p", "2001:db8::/32"}).config;
    EXPECT_EQ(config.config_path, path);
    EXPECT_EQ(config.external, "eth0");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br0", "br1"}));
    ASSERT_EQ(config.prefixes.size(), 1u);
    EXPECT_EQ(config.prefixes[0].to_string(), "2001:db8::/32");
}

TEST_F(ConfigTest, EveryChoiceOfEveryEnum) {
    for (ResponderMode mode :
         {ResponderMode::off, ResponderMode::known, ResponderMode::verify, ResponderMode::always}) {
        const Args args{"-e", "eth0",          "-i",          "br0",
                        "-p", "2001:db8::/64", "--responder", std::string(to_string(mode))};
        EXPECT_EQ(parse(args).config.responder, mode);
    }
    for (AnswerSource source : {AnswerSource::self, AnswerSource::target}) {
        const Args args{"-e",
                        "eth0",
                        "-i",
                        "br0",
                        "-p",
                        "2001:db8::/64",
                        "--answer-source",
                        std::string(to_string(source))};
        EXPECT_EQ(parse(args).config.answer_source, source);
    }
    for (LogLevel level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
        const Args args{"-e", "eth0",          "-i",          "br0",
                        "-p", "2001:db8::/64", "--log-level", std::string(to_string(level))};
        EXPECT_EQ(parse(args).config.log_level, level);
    }
}

TEST_F(ConfigTest, DuplicateInterfacesAndPrefixesCollapse) {
    const Config config = parse({"-e", "eth0", "-i", "br0", "-i", "br0", "-p", "2001:db8::/64",
                                 "-p", "2001:db8::/64"})
                              .config;
    EXPECT_EQ(config.internal.size(), 1u);
    EXPECT_EQ(config.prefixes.size(), 1u);
}

TEST_F(ConfigTest, FileWithCommentsBlankLinesAndRepeats) {
    const std::string path = write_file("ndproxyd.conf",
                                        "# ndproxyd configuration\n"
                                        "\n"
                                        "external = eth0\n"
                                        "   internal=br0   # the VMs\n"
                                        "internal = virbr0\r\n"
                                        "prefix = 2001:db8:1::/64\n"
                                        "prefix = 2001:db8:2::/64\n"
                                        "responder = known\n"
                                        "router = yes\n"
                                        "answer-source = target\n"
                                        "no-announce = true\n"
                                        "no-sysctl = 1\n"
                                        "control-socket = \"/tmp/x.sock\"\n"
                                        "flush-on-exit = no\n"
                                        "dry-run = 0\n"
                                        "log-level = warn\n"
                                        "withdraw-after = 12.25\n"
                                        "resync-interval = 5\n"
                                        "announce-count = 10\n"
                                        "announce-interval = 2\n"
                                        "netlink-buffer = 65536");  // no final newline
    const Config config = parse({"-c", path}).config;
    EXPECT_EQ(config.external, "eth0");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br0", "virbr0"}));
    ASSERT_EQ(config.prefixes.size(), 2u);
    EXPECT_EQ(config.prefixes[1].to_string(), "2001:db8:2::/64");
    EXPECT_EQ(config.responder, ResponderMode::known);
    EXPECT_TRUE(config.router);
    EXPECT_EQ(config.answer_source, AnswerSource::target);
    EXPECT_FALSE(config.announce);
    EXPECT_FALSE(config.manage_sysctls);
    EXPECT_EQ(config.control_socket, "/tmp/x.sock");
    EXPECT_FALSE(config.flush_on_exit);
    EXPECT_FALSE(config.dry_run);
    EXPECT_EQ(config.log_level, LogLevel::warn);
    EXPECT_EQ(config.withdraw_after, 12250ms);
    EXPECT_EQ(config.resync_interval, 5s);
    EXPECT_EQ(config.announce_count, 10u);
    EXPECT_EQ(config.announce_interval, 2s);
    EXPECT_EQ(config.netlink_buffer, 65536u);
}

TEST_F(ConfigTest, BooleanSpellingsInFile) {
    for (const char* yes : {"true", "yes", "1", "YES", "True"}) {
        const std::string path = write_file("b.conf", std::string("router = ") + yes + "\n");
        EXPECT_TRUE(
            parse({"-c", path, "-e", "eth0", "-i", "br0", "-p", "2001:db8::/64"}).config.router)
            << yes;
    }
    for (const char* no : {"false", "no", "0"}) {
        const std::string path = write_file("b.conf", std::string("no-announce = ") + no + "\n");
        EXPECT_TRUE(
            parse({"-c", path, "-e", "eth0", "-i", "br0", "-p", "2001:db8::/64"}).config.announce)
            << no;
    }
}

TEST_F(ConfigTest, CommandLineOverridesFile) {
    const std::string path = write_file("ndproxyd.conf",
                                        "external = eth0\n"
                                        "internal = br0\n"
                                        "internal = br1\n"
                                        "prefix = 2001:db8:1::/64\n"
                                        "responder = off\n"
                                        "router = yes\n");
    const Config config =
        parse({"-c", path, "-e", "eth9", "-i", "br7", "--responder", "always"}).config;
    EXPECT_EQ(config.external, "eth9");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br7"}));  // replaced, not appended
    ASSERT_EQ(config.prefixes.size(), 1u);                          // kept from the file
    EXPECT_EQ(config.responder, ResponderMode::always);
    EXPECT_TRUE(config.router);

    const Config prefixes = parse({"-c", path, "-p", "2001:db8:9::/64"}).config;
    ASSERT_EQ(prefixes.prefixes.size(), 1u);
    EXPECT_EQ(prefixes.prefixes[0].to_string(), "2001:db8:9::/64");
    EXPECT_EQ(prefixes.internal.size(), 2u);
}

TEST_F(ConfigTest, DefaultFileIsReadWhenPresent) {
    const std::string path =
        write_file("default.conf", "external = eth0\ninternal = br0\nprefix = 2001:db8::/64\n");
    const CommandLine line = parse_command_line(Args{}, path);
    EXPECT_EQ(line.config.external, "eth0");
    EXPECT_EQ(line.config.config_path, path);
}

TEST_F(ConfigTest, MissingDefaultFileIsFine) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "-p", "2001:db8::/64"}), "");
}

TEST_F(ConfigTest, HelpAndVersion) {
    for (const char* flag : {"-h", "--help"}) {
        const CommandLine line = parse({flag});  // no --external needed
        EXPECT_EQ(line.action, CommandLine::Action::print_help);
        EXPECT_EQ(line.text.rfind("Usage: ndproxyd [options]\n", 0), 0u);
        for (const char* option :
             {"--config",          "--external",       "--internal",          "--prefix",
              "--responder",       "--router",         "--answer-source",     "--no-announce",
              "--no-sysctl",       "--control-socket", "--flush-on-exit",     "--dry-run",
              "--check-config",    "--log-level",      "--version",           "--withdraw-after",
              "--resync-interval", "--announce-count", "--announce-interval", "--netlink-buffer"}) {
            EXPECT_NE(line.text.find(option), std::string::npos) << option;
        }
    }
    for (const char* flag : {"-V", "--version"}) {
        const CommandLine line = parse({flag});
        EXPECT_EQ(line.action, CommandLine::Action::print_version);
        EXPECT_EQ(line.text, std::string("ndproxyd ") + NDPROXY_VERSION + "\n");
    }
}

TEST_F(ConfigTest, ArgvOverloadSkipsProgramName) {
    const char* argv[] = {"ndproxyd", "--version", nullptr};
    const CommandLine line = parse_command_line(2, argv);
    EXPECT_EQ(line.action, CommandLine::Action::print_version);
    EXPECT_EQ(line.arguments, (Args{"--version"}));
}

TEST_F(ConfigTest, ReloadAppliesGoodFileAndKeepsCommandLine) {
    const std::string path =
        write_file("ndproxyd.conf",
                   "external = eth0\ninternal = br0\nprefix = 2001:db8::/64\nresponder = off\n");
    const CommandLine startup = parse({"-c", path, "--log-level", "debug"});
    EXPECT_EQ(startup.config.responder, ResponderMode::off);

    write_file("ndproxyd.conf",
               "external = eth0\ninternal = br0\ninternal = br1\nprefix = 2001:db8::/64\n"
               "responder = always\n"
               "log-level = error\n");
    const Config reloaded = reload_config(startup);
    EXPECT_EQ(reloaded.internal, (std::vector<std::string>{"br0", "br1"}));
    EXPECT_EQ(reloaded.responder, ResponderMode::always);
    EXPECT_EQ(reloaded.log_level, LogLevel::debug);  // the command line still wins
}

TEST_F(ConfigTest, ReloadRejectsBadFile) {
    const std::string path =
        write_file("ndproxyd.conf", "external = eth0\ninternal = br0\nprefix = 2001:db8::/64\n");
    const CommandLine startup = parse({"-c", path});
    write_file("ndproxyd.conf",
               "external = eth0\ninternal = br0\nprefix = 2001:db8::/64\nresponder = loud\n");
    try {
        reload_config(startup);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_EQ(std::string(error.what()),
                  path + ":4: invalid responder \"loud\" (expected off, known, verify or always)");
    }
    std::filesystem::remove(path);
    EXPECT_THROW(reload_config(startup), ConfigError);  // a named file must stay
}

TEST_F(ConfigTest, ReloadReadsDefaultFileCreatedAfterStartup) {
    const CommandLine startup = parse({"-e", "eth0", "-i", "br0", "-p", "2001:db8:5::/64"});
    write_file("absent-default.conf", "responder = always\n");
    const Config reloaded = reload_config(startup);
    EXPECT_EQ(reloaded.responder, ResponderMode::always);
}

}  // namespace
}  // namespace ndproxy
