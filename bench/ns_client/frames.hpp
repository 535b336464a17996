#pragma once

// Addresses and the two frames ns_client deals in: the solicitations it sends and the
// advertisements it counts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ns_client {

using Address = std::array<std::uint8_t, 16>;
using Mac = std::array<std::uint8_t, 6>;

// Exits with status 1 (errno's text) or 2 (a usage error).
[[noreturn]] void die(const char* what);
[[noreturn]] void usage(const std::string& why);

Address parse_address(const std::string& text);
Mac parse_mac(const std::string& text);
std::string to_string(const Address& address);

// BASE + N in the low 64 bits.
Address plus(Address base, std::uint64_t n);

// A valid multicast solicitation (RFC 4861 4.3) with a source link-layer option: 86 bytes.
std::vector<std::uint8_t> solicitation(const Mac& mac, const Address& source,
                                       const Address& target);

struct Answer {
    Address target;
    bool solicited;
};

// A received frame as a Neighbor Advertisement, if it is one.
bool parse_answer(const std::uint8_t* frame, std::size_t length, Answer& answer);

}  // namespace ns_client
