#pragma once

// The fixture shared by the configuration tests: a private temporary directory for files, and a
// default configuration path inside it that does not exist, so that the machine's own
// /etc/ndproxy/ndproxyd.conf cannot leak into a test.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace ndproxy {

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

}  // namespace ndproxy
