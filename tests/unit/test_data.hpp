#pragma once

// Helpers shared by the codec tests: loading the captured bytes in tests/data, and placing bytes
// so that reading one byte past them faults.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ndproxy::test {

// Reads tests/data/NAME: lines starting with '#' say where the bytes came from, everything else
// is hex digits with any whitespace between them. Throws on anything else, so a damaged file
// fails its test instead of silently yielding fewer bytes.
inline std::vector<std::uint8_t> load_hex(const std::string& name) {
    const std::string path = std::string(NDPROXY_TEST_DATA) + "/" + name;
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    std::vector<std::uint8_t> bytes;
    std::string digits;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '#') {
            continue;
        }
        for (const char c : line) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                continue;
            }
            if (!std::isxdigit(static_cast<unsigned char>(c))) {
                throw std::runtime_error(path + ": not a hex digit: " + std::string(1, c));
            }
            digits += c;
        }
    }
    if (digits.size() % 2 != 0) {
        throw std::runtime_error(path + ": odd number of hex digits");
    }
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        bytes.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return bytes;
}

// Host-order fields of netlink headers, for checking and corrupting captured messages.
inline std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t offset) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}
inline void write_u32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}
inline void write_u16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// A copy of some bytes that ends exactly where an inaccessible page begins, so a parser that
// reads past the end of its input crashes the test. This also catches reads inside libmnl,
// which AddressSanitizer cannot see (the system library is not instrumented).
//
// The start of the copy is therefore only 4-byte aligned when the length is a multiple of 4.
// That is harmless on x86 and arm64. Strict-alignment CPUs may trap, so there the copy starts
// aligned and ends up to 3 bytes before the guard page. Sanitizer builds (UBSan would report the
// misaligned header access) use an exactly sized heap copy instead: ASan then checks the
// codec's own reads byte for byte, and the plain build's guard page covers libmnl.
class FencedBytes {
public:
    FencedBytes() {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        void* map =
            mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED ||
            mprotect(static_cast<std::uint8_t*>(map) + page_, page_, PROT_NONE) != 0) {
            throw std::runtime_error("cannot map a guard page");
        }
        base_ = static_cast<std::uint8_t*>(map);
    }
    FencedBytes(const FencedBytes&) = delete;
    FencedBytes& operator=(const FencedBytes&) = delete;
    ~FencedBytes() { munmap(base_, 2 * page_); }

    // Copies `bytes` in front of the guard page and returns the copy (valid until next place()).
    std::span<const std::uint8_t> place(std::span<const std::uint8_t> bytes) {
        if (bytes.size() > page_) {
            throw std::runtime_error("FencedBytes: input larger than a page");
        }
        if constexpr (kSanitized) {
            // Exactly sized, so ASan flags a read one byte past it.
            heap_ = std::make_unique<std::uint8_t[]>(bytes.size());
            std::copy(bytes.begin(), bytes.end(), heap_.get());
            return {heap_.get(), bytes.size()};
        }
        std::size_t offset = page_ - bytes.size();
        if constexpr (!kUnalignedLoadsOk) {
            offset &= ~std::size_t{3};
        }
        std::uint8_t* start = base_ + offset;
        std::memset(base_, 0xa5, page_);
        if (!bytes.empty()) {
            std::memcpy(start, bytes.data(), bytes.size());
        }
        return {start, bytes.size()};
    }

private:
#if defined(__SANITIZE_ADDRESS__)  // GCC: NDPROXY_SANITIZE enables ASan and UBSan together
    static constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
    static constexpr bool kSanitized = true;
#else
    static constexpr bool kSanitized = false;
#endif
#else
    static constexpr bool kSanitized = false;
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
    static constexpr bool kUnalignedLoadsOk = true;
#else
    static constexpr bool kUnalignedLoadsOk = false;
#endif

    std::size_t page_ = 0;
    std::uint8_t* base_ = nullptr;
    std::unique_ptr<std::uint8_t[]> heap_;
};

}  // namespace ndproxy::test
