#include "options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <fstream>
#include <string>

namespace ns_client {

namespace po = boost::program_options;

Options parse_options(int argc, char** argv, std::vector<std::string>& positional) {
    Options options;
    std::string source_base;
    std::string mac;
    std::string targets;
    po::options_description described("ns_client options (see main.cpp)");
    described.add_options()                                                             //
        ("sources", po::value(&options.sources), "rotate over N sources")               //
        ("source-base", po::value(&source_base), "link-local base of the sources")      //
        ("forged", po::bool_switch(&options.forged), "random sources and MACs")         //
        ("mac", po::value(&mac), "the sources' MAC")                                    //
        ("rate", po::value(&options.rate), "flood: at most N a second")                 //
        ("fresh", po::bool_switch(&options.fresh), "latency: a new target each time")   //
        ("gap-us", po::value(&options.gap_us), "latency: pause between solicitations")  //
        ("spread", po::value(&options.spread), "latency: cycle over a sample of SPAN")  //
        ("points", po::value(&options.points), "latency: the sample's size")            //
        ("targets", po::value(&targets), "latency: cycle over a file's addresses")      //
        ("timeout-ms", po::value(&options.timeout_ms), "give up after N ms")            //
        ("drain-ms", po::value(&options.drain_ms), "flood: count this long after")      //
        ("dump", po::bool_switch(&options.dump), "latency: every sample on stderr")     //
        ("round-ms", po::value(&options.round_ms), "sweep: length of a round")          //
        ("resend-us", po::value(&options.resend_us), "appear: solicit again after")     //
        ("netns", po::value(&options.netns), "appear: the host's namespace")            //
        ("internal", po::value(&options.internal), "appear: its internal interface")    //
        ("positional", po::value(&positional));
    po::positional_options_description rest;
    rest.add("positional", -1);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(described).positional(rest).run(),
                  values);
        po::notify(values);
    } catch (const po::error& e) {
        usage(e.what());
    }
    if (!source_base.empty()) {
        options.source_base = parse_address(source_base);
    }
    if (!mac.empty()) {
        options.mac = parse_mac(mac);
    }
    if (!targets.empty()) {
        std::ifstream file(targets);
        if (!file) {
            usage("cannot read the --targets file");
        }
        for (std::string line; std::getline(file, line);) {
            if (!line.empty()) {
                options.targets.push_back(parse_address(line));
            }
        }
        if (options.targets.empty()) {
            usage("the --targets file names no address");
        }
    }
    options.sources = std::max(1, options.sources);
    options.round_ms = std::max(1, options.round_ms);
    options.resend_us = std::max(10, options.resend_us);
    return options;
}

std::vector<Source> make_sources(const Options& options, const Link& link, std::mt19937_64& rng) {
    std::vector<Source> sources;
    for (int i = 1; i <= options.sources; ++i) {
        Source source{options.mac.value_or(link.mac),
                      plus(options.source_base, static_cast<std::uint64_t>(i))};
        if (options.forged) {
            const std::uint64_t r = rng();
            source.mac = {0x02,
                          static_cast<std::uint8_t>(r >> 8),
                          static_cast<std::uint8_t>(r >> 16),
                          static_cast<std::uint8_t>(r >> 24),
                          static_cast<std::uint8_t>(r >> 32),
                          static_cast<std::uint8_t>(r >> 40)};
            source.address = plus(parse_address("fe80::"), rng());
        }
        sources.push_back(source);
    }
    return sources;
}

}  // namespace ns_client
