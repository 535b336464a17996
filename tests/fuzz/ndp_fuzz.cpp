// libFuzzer target for the Neighbor Discovery codec: any bytes as the ICMPv6 part of a received
// Neighbor Advertisement. libFuzzer hands over an exactly sized heap copy, so AddressSanitizer
// catches any read past it (the codec is instrumented and uses no uninstrumented library).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "codec/ndp_codec.hpp"

using namespace ndproxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto advert = ndp::parse_advertisement({data, size});
    if (!advert) {
        return 0;
    }
    // What RFC 4861 §7.1.2 requires of the message itself holds for whatever was accepted.
    if (size < 24 || data[0] != ndp::kNeighborAdvertisement || data[1] != 0 ||
        advert->target.is_multicast()) {
        std::abort();
    }
    // Building the same advertisement and parsing it again gives it back.
    const auto again = ndp::parse_advertisement(
        ndp::build_advertisement(advert->target, advert->flags, advert->target_lladdr));
    if (!again || again->target != advert->target || again->flags.router != advert->flags.router ||
        again->flags.solicited != advert->flags.solicited ||
        again->flags.override_flag != advert->flags.override_flag ||
        again->target_lladdr != advert->target_lladdr) {
        std::abort();
    }
    return 0;
}
