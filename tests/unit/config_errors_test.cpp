#include "core/config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"

namespace ndproxy {
namespace {

// Every error names the culprit and where it is: the file and line, or the option.
class ConfigErrorTest : public ConfigTest {};

TEST_F(ConfigErrorTest, MissingNamedFileIsAnError) {
    const std::string path = directory_ + "/nope.conf";
    EXPECT_EQ(error_of({"-c", path, "-e", "eth0", "-i", "br0"}),
              "cannot read configuration file " + path + ": No such file or directory");
    EXPECT_EQ(error_of({"-c", directory_, "-e", "eth0", "-i", "br0"}),
              "cannot read configuration file " + directory_ + ": Is a directory");
}

TEST_F(ConfigErrorTest, FileErrorsNameFileLineAndKey) {
    const std::string path = directory_ + "/ndproxyd.conf";
    EXPECT_EQ(file_error("# c\n\nexternal = eth0\nprefx = 2001:db8::/64\n"),
              path + ":4: unknown key \"prefx\"");
    EXPECT_EQ(file_error("external eth0\n"),
              path + ":1: expected \"key = value\", got \"external eth0\"");
    EXPECT_EQ(file_error("= eth0\n"), path + ":1: expected \"key = value\", got \"= eth0\"");
    EXPECT_EQ(file_error("\nexternal =   \n"), path + ":2: empty value for \"external\"");
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
    EXPECT_EQ(file_error("prefix = 2001:db8::/31\n"),
              path +
                  ":1: invalid prefix \"2001:db8::/31\" (shorter than /32; no host is routed "
                  "more)");
    EXPECT_EQ(file_error("prefix = ::/0\n"),
              path + ":1: invalid prefix \"::/0\" (shorter than /32; no host is routed more)");
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

TEST_F(ConfigErrorTest, ValueErrorsOnCommandLineNameTheOption) {
    const Args base{"-e", "eth0", "-i", "br0", "-p", "2001:db8:1::/64"};
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

TEST_F(ConfigErrorTest, InterfaceNamesFollowKernelRules) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "a23456789012345", "-p", "2001:db8::/64"}), "");
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

TEST_F(ConfigErrorTest, RequiredAndConflictingInterfaces) {
    EXPECT_EQ(error_of({"-i", "br0"}), "missing --external");
    EXPECT_EQ(error_of({"-e", "eth0"}), "missing --internal");
    // Scope is explicit (the hostile-tenants issue): no prefix is a usage error.
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0"}), "missing --prefix");
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "-i", "eth0"}),
              "--internal: \"eth0\" is the external interface, it cannot also be internal");
    const std::string path = write_file("ndproxyd.conf", "external = eth0\ninternal = eth0\n");
    EXPECT_EQ(error_of({"-c", path}),
              path + ":2: \"eth0\" is the external interface, it cannot also be internal");
}

TEST_F(ConfigErrorTest, APatternMustNotMatchTheUplink) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "eth*", "-p", "2001:db8::/64"}),
              "--internal: the pattern \"eth*\" matches the external interface \"eth0\"");
    const std::string path = write_file(
        "ndproxyd.conf",
        "external = vif0.0\ninternal = br0\ninternal = vif*.0\nprefix = 2001:db8::/64\n");
    EXPECT_EQ(error_of({"-c", path}),
              path + ":3: the pattern \"vif*.0\" matches the external interface \"vif0.0\"");
}

TEST_F(ConfigErrorTest, CommandLineSyntaxErrors) {
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "stray"}), "unexpected argument \"stray\"");
    EXPECT_EQ(error_of({"-e", "eth0", "-i", "br0", "--prefx", "x"}),
              "unrecognised option '--prefx'");
    EXPECT_EQ(error_of({"-e"}), "the required argument for option '--external' is missing");
    EXPECT_EQ(error_of({"-e", "eth0", "-e", "eth0", "-i", "br0"}),
              "--external: the external interface \"eth0\" is given twice");
    // Abbreviations are refused so that scripts keep working when options are added.
    EXPECT_EQ(error_of({"--ext", "eth0", "-i", "br0"}), "unrecognised option '--ext'");
    EXPECT_NE(error_of({"-e", "eth0", "-i", "br0", "--router=yes"}), "");
}

}  // namespace
}  // namespace ndproxy
