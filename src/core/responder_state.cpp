#include "core/responder_state.hpp"

#include <algorithm>

namespace ndproxy::responder_state {

std::optional<std::vector<Ipv6Address>> parse(std::string_view text) {
    std::vector<Ipv6Address> addresses;
    bool header = true;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (header) {
            if (line != kHeader) {
                return std::nullopt;
            }
            header = false;
            continue;
        }
        // Ipv6Address::parse() would stop at a NUL (inet_pton reads a C string).
        const auto address =
            line.find('\0') == std::string_view::npos ? Ipv6Address::parse(line) : std::nullopt;
        if (!address || addresses.size() == kMaxAddresses) {
            return std::nullopt;
        }
        addresses.push_back(*address);
    }
    if (header) {
        return std::nullopt;  // empty: not even the header
    }
    return addresses;
}

std::string format(const std::vector<Ipv6Address>& addresses) {
    std::string text(kHeader);
    text += '\n';
    for (const Ipv6Address& address : addresses) {
        text += address.to_string();
        text += '\n';
    }
    return text;
}

void add_responder_held(const MirrorPolicy& policy, std::vector<Ipv6Address>& out) {
    const std::size_t start = out.size();
    for (const auto& [address, entry] : policy.entries()) {
        if (entry.path == Path::responder && entry.origin != Origin::route) {
            out.push_back(address);
        }
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
}

}  // namespace ndproxy::responder_state
