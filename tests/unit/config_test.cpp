#include "ndproxy/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using Args = std::vector<std::string>;

class ConfigTest : public testing::Test {
protected:
    void SetUp() override {
        std::string pattern = testing::TempDir() + "ndproxy-config-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory_ = pattern;
        absent_default_ = directory_ + "/absent-default.conf";
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    std::string write_file(const std::string& name, const std::string& content) {
        const std::string path = directory_ + "/" + name;
        std::ofstream(path, std::ios::trunc) << content;
        return path;
    }

    // Parses with a default configuration file that does not exist, so the machine's own
    // /etc/ndproxy/ndproxyd.conf cannot leak into a test.
    CommandLine parse(const Args& arguments) {
        return parse_command_line(arguments, absent_default_);
    }

    // The ConfigError message of parsing `arguments`, or "" if it succeeded.
    std::string error_of(const Args& arguments) {
        try {
            parse(arguments);
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "";
    }

    // The error of a file holding `content` with a valid command line around it.
    std::string file_error(const std::string& content) {
        return error_of({"-c", write_file("ndproxyd.conf", content), "-e", "eth0", "-i", "br0"});
    }

    std::string directory_;
    std::string absent_default_;
};

TEST_F(ConfigTest, MinimalCommandLineGetsDefaults) {
    const CommandLine line = parse({"-e", "eth0", "-i", "br0"});
    EXPECT_EQ(line.action, CommandLine::Action::run);
    const Config& config = line.config;
    EXPECT_EQ(config.config_path, absent_default_);
    EXPECT_EQ(config.external, "eth0");
    EXPECT_EQ(config.internal, (std::vector<std::string>{"br0"}));
    EXPECT_TRUE(config.prefixes.empty());
    EXPECT_EQ(config.responder, ResponderMode::verify);
    EXPECT_FALSE(config.router);
    EXPECT_EQ(config.answer_source, AnswerSource::self);
    EXPECT_TRUE(config.announce);
    EXPECT_TRUE(config.manage_sysctls);
    EXPECT_EQ(config.control_socket, "/run/ndproxyd/control.sock");
    EXPECT_FALSE(config.flush_on_exit);
    EXPECT_FALSE(config.dry_run);
    EXPECT_FALSE(config.check_config);
    EXPECT_EQ(config.log_level, LogLevel::info);
    EXPECT_EQ(config.withdraw_after, 30s);
    EXPECT_EQ(config.resync_interval, 60s);
    EXPECT_EQ(config.announce_count, 3u);
    EXPECT_EQ(config.announce_interval, 1s);
    EXPECT_EQ(config.netlink_buffer, 4194304u);
    EXPECT_EQ(line.arguments, (Args{"-e", "eth0", "-i", "br0"}));
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
        const Args args{"-e", "eth0", "-i", "br0", "--responder", std::string(to_string(mode))};
        EXPECT_EQ(parse(args).config.responder, mode);
    }
    for (AnswerSource source : {AnswerSource::self, AnswerSource::target}) {
        const Args args{
            "-e", "eth0", "-i", "br0", "--answer-source", std::string(to_string(source))};
        EXPECT_EQ(parse(args).config.answer_source, source);
    }
    for (LogLevel level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
        const Args args{"-e", "eth0", "-i", "br0", "--log-level", std::string(to_string(level))};
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
        EXPECT_TRUE(parse({"-c", path, "-e", "eth0", "-i", "br0"}).config.router) << yes;
    }
    for (const char* no : {"false", "no", "0"}) {
        const std::string path = write_file("b.conf", std::string("no-announce = ") + no + "\n");
        EXPECT_TRUE(parse({"-c", path, "-e", "eth0", "-i", "br0"}).config.announce) << no;
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
    const std::string path = write_file("default.conf", "external = eth0\ninternal = br0\n");
    const CommandLine line = parse_command_line(Args{}, path);
    EXPECT_EQ(line.config.external, "eth0");
    EXPECT_EQ(line.config.config_path, path);
}

TEST_F(ConfigTest, MissingDefaultFileIsFine) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0"}), "");
}

TEST_F(ConfigTest, MissingNamedFileIsAnError) {
    const std::string path = directory_ + "/nope.conf";
    EXPECT_EQ(error_of({"-c", path, "-e", "eth0", "-i", "br0"}),
              "cannot read configuration file " + path + ": No such file or directory");
    EXPECT_EQ(error_of({"-c", directory_, "-e", "eth0", "-i", "br0"}),
              "cannot read configuration file " + directory_ + ": Is a directory");
}

TEST_F(ConfigTest, FileErrorsNameFileLineAndKey) {
    const std::string path = directory_ + "/ndproxyd.conf";
    EXPECT_EQ(file_error("# c\n\nexternal = eth0\nprefx = 2001:db8::/64\n"),
              path + ":4: unknown key \"prefx\"");
    EXPECT_EQ(file_error("external eth0\n"),
              path + ":1: expected \"key = value\", got \"external eth0\"");
    EXPECT_EQ(file_error("= eth0\n"), path + ":1: expected \"key = value\", got \"= eth0\"");
    EXPECT_EQ(file_error("\nexternal =   \n"), path + ":2: empty value for \"external\"");
    EXPECT_EQ(file_error("external = eth0\n\nexternal = eth1\n"),
              path + ":3: duplicate key \"external\" (first set on line 1)");
    EXPECT_EQ(file_error("router = yes\nrouter = no\n"),
              path + ":2: duplicate key \"router\" (first set on line 1)");
    EXPECT_EQ(file_error("\n\nprefix = 2001:db8::1/64\n"),
              path +
                  ":3: invalid prefix \"2001:db8::1/64\" (host bits set; did you mean "
                  "2001:db8::/64?)");
    EXPECT_EQ(file_error("prefix = 2001:db8::\n"),
              path +
                  ":1: invalid prefix \"2001:db8::\" (expected ADDRESS/LENGTH, e.g. "
                  "2001:db8:1::/64)");
    EXPECT_EQ(file_error("prefix = fe80::/64\n"),
              path + ":1: invalid prefix \"fe80::/64\" (link-local addresses are never proxied)");
    EXPECT_EQ(file_error("prefix = ff02::/16\n"),
              path + ":1: invalid prefix \"ff02::/16\" (multicast addresses are never proxied)");
    EXPECT_EQ(file_error("responder = sometimes\n"),
              path + ":1: invalid responder \"sometimes\" (expected off, known, verify or always)");
    EXPECT_EQ(file_error("router = maybe\n"),
              path + ":1: invalid router \"maybe\" (expected true, false, yes, no, 1 or 0)");
    EXPECT_EQ(file_error("announce-count = 11\n"),
              path + ":1: invalid announce-count \"11\" (expected a whole number from 0 to 10)");
    for (const char* key : {"config", "check-config", "help", "version"}) {
        EXPECT_EQ(file_error(std::string(key) + " = 1\n"),
                  path + ":1: \"" + key + "\" is only valid on the command line");
    }
}

TEST_F(ConfigTest, ValueErrorsOnCommandLineNameTheOption) {
    const Args base{"-e", "eth0", "-i", "br0"};
    const auto with = [&](Args extra) {
        extra.insert(extra.begin(), base.begin(), base.end());
        return error_of(extra);
    };
    EXPECT_EQ(with({"--responder", "sometimes"}),
              "--responder: invalid value \"sometimes\" (expected off, known, verify or always)");
    EXPECT_EQ(with({"--answer-source", "peer"}),
              "--answer-source: invalid value \"peer\" (expected self or target)");
    EXPECT_EQ(with({"--log-level", "trace"}),
              "--log-level: invalid value \"trace\" (expected error, warn, info or debug)");
    EXPECT_EQ(with({"-p", "2001:db8::1/64"}),
              "--prefix: invalid value \"2001:db8::1/64\" (host bits set; did you mean "
              "2001:db8::/64?)");
    EXPECT_EQ(with({"-p", "2001:db8::/129"}),
              "--prefix: invalid value \"2001:db8::/129\" (expected ADDRESS/LENGTH, e.g. "
              "2001:db8:1::/64)");
    for (const char* bad : {"abc", "0", "0.05", "-1", "1e3", "86401", "nan", ""}) {
        EXPECT_EQ(with({"--withdraw-after", bad}),
                  std::string("--withdraw-after: invalid value \"") + bad +
                      "\" (expected seconds from 0.1 to 86400)");
    }
    EXPECT_EQ(with({"--announce-count", "11"}),
              "--announce-count: invalid value \"11\" (expected a whole number from 0 to 10)");
    EXPECT_EQ(with({"--announce-count", "-1"}),
              "--announce-count: invalid value \"-1\" (expected a whole number from 0 to 10)");
    EXPECT_EQ(with({"--netlink-buffer", "4095"}),
              "--netlink-buffer: invalid value \"4095\" (expected a whole number from 4096 to "
              "1073741824)");
    EXPECT_EQ(with({"--control-socket", ""}),
              "--control-socket: invalid value \"\" (expected a path)");
}

TEST_F(ConfigTest, InterfaceNamesFollowKernelRules) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "a23456789012345"}), "");
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "a234567890123456"}),
              "--internal: invalid value \"a234567890123456\" (interface names are 1 to 15 "
              "characters)");
    EXPECT_EQ(error_of({"-e", "", "-i", "br0"}),
              "--external: invalid value \"\" (interface names are 1 to 15 characters)");
    for (const char* bad : {"br/0", "br 0", "eth0:1", ".", ".."}) {
        EXPECT_EQ(error_of({"-e", bad, "-i", "br0"}), std::string("--external: invalid value \"") +
                                                          bad + "\" (not a valid interface name)");
    }
}

TEST_F(ConfigTest, RequiredAndConflictingInterfaces) {
    EXPECT_EQ(error_of({"-i", "br0"}), "missing --external");
    EXPECT_EQ(error_of({"-e", "eth0"}), "missing --internal");
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "-i", "eth0"}),
              "--internal: \"eth0\" is the external interface, it cannot also be internal");
    const std::string path = write_file("ndproxyd.conf", "external = eth0\ninternal = eth0\n");
    EXPECT_EQ(error_of({"-c", path}),
              path + ":2: \"eth0\" is the external interface, it cannot also be internal");
}

TEST_F(ConfigTest, CommandLineSyntaxErrors) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "stray"}), "unexpected argument \"stray\"");
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "--prefx", "x"}),
              "unrecognised option '--prefx'");
    EXPECT_EQ(error_of({"-e"}), "the required argument for option '--external' is missing");
    EXPECT_EQ(error_of({"-e", "eth0", "-e", "eth1", "-i", "br0"}),
              "--external given more than once");
    // Abbreviations are refused so that scripts keep working when options are added.
    EXPECT_EQ(error_of({"--ext", "eth0", "-i", "br0"}), "unrecognised option '--ext'");
    EXPECT_NE(error_of({"-e", "eth0", "-i", "br0", "--router=yes"}), "");
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
        write_file("ndproxyd.conf", "external = eth0\ninternal = br0\nresponder = off\n");
    const CommandLine startup = parse({"-c", path, "--log-level", "debug"});
    EXPECT_EQ(startup.config.responder, ResponderMode::off);

    write_file("ndproxyd.conf",
               "external = eth0\ninternal = br0\ninternal = br1\nresponder = always\n"
               "log-level = error\n");
    const Config reloaded = reload_config(startup);
    EXPECT_EQ(reloaded.internal, (std::vector<std::string>{"br0", "br1"}));
    EXPECT_EQ(reloaded.responder, ResponderMode::always);
    EXPECT_EQ(reloaded.log_level, LogLevel::debug);  // the command line still wins
}

TEST_F(ConfigTest, ReloadRejectsBadFile) {
    const std::string path = write_file("ndproxyd.conf", "external = eth0\ninternal = br0\n");
    const CommandLine startup = parse({"-c", path});
    write_file("ndproxyd.conf", "external = eth0\ninternal = br0\nresponder = loud\n");
    try {
        reload_config(startup);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_EQ(std::string(error.what()),
                  path + ":3: invalid responder \"loud\" (expected off, known, verify or always)");
    }
    std::filesystem::remove(path);
    EXPECT_THROW(reload_config(startup), ConfigError);  // a named file must stay
}

TEST_F(ConfigTest, ReloadReadsDefaultFileCreatedAfterStartup) {
    const CommandLine startup = parse({"-e", "eth0", "-i", "br0"});
    write_file("absent-default.conf", "prefix = 2001:db8:5::/64\n");
    const Config reloaded = reload_config(startup);
    ASSERT_EQ(reloaded.prefixes.size(), 1u);
    EXPECT_EQ(reloaded.prefixes[0].to_string(), "2001:db8:5::/64");
}

}  // namespace
}  // namespace ndproxy
