// libFuzzer target for the state file (--state-file, core/responder_state.hpp): any bytes as its
// text. The daemon wrote it, but a disk that filled, an operator's editor or a file of another
// version must read as a state file or as nothing, never crash the start.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/responder_state.hpp"

using namespace ndproxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto addresses = responder_state::parse(text);
    if (!addresses) {
        return 0;
    }
    // Accepted only under the header, at most one address a line...
    if (!text.starts_with(responder_state::kHeader) ||
        addresses->size() > static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'))) {
        std::abort();
    }
    // ...and what the daemon would write of it reads back the same.
    if (responder_state::parse(responder_state::format(*addresses)) != addresses) {
        std::abort();
    }
    return 0;
}
