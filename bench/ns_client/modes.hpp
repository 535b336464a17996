#pragma once

// ns_client's four measurements (see main.cpp); each returns the process's exit status.

#include <cstdint>
#include <string>

#include "frames.hpp"
#include "link.hpp"
#include "options.hpp"

namespace ns_client {

int latency(const Link& link, const Address& first_target, int count, const Options& options);
int sweep(const Link& link, const Address& base, std::uint64_t span, int sample_size,
          const Options& options);
int flood(const Link& link, double seconds, const std::string& prefix_text, const Options& options);
int appear(const Link& link, const Address& first, int count, const Options& options);

}  // namespace ns_client
