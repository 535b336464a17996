#pragma once

// ns_client's command line (see main.cpp) and the sources its solicitations come from.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "frames.hpp"
#include "link.hpp"

namespace ns_client {

struct Options {
    int sources = 1;
    Address source_base = parse_address("fe80::e:0");
    bool forged = false;
    bool fresh = false;
    int gap_us = 1000;
    int timeout_ms = 1500;
    int drain_ms = 500;
    bool dump = false;
    int round_ms = 20;
    int resend_us = 100;
    std::uint64_t spread = 0;
    int points = 200;
    std::vector<Address> targets;  // --targets FILE: latency cycles over these instead
    std::string netns;
    std::string internal;
    std::optional<Mac> mac;
    double rate = 0;
};

// Parses the options out of argv; the rest are the positional arguments, in order.
Options parse_options(int argc, char** argv, std::vector<std::string>& positional);

struct Source {
    Mac mac;
    Address address;
};

// SOURCE_BASE+1 ... +N from the interface's MAC (or --mac); --forged: random ones.
std::vector<Source> make_sources(const Options& options, const Link& link, std::mt19937_64& rng);

}  // namespace ns_client
