// ns_client flood: solicitations for random targets as fast as the socket takes them (or paced),
// the answers counted by a second thread.

#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "modes.hpp"
#include "packet.hpp"

namespace ns_client {

int flood(const Link& link, double seconds, const std::string& prefix_text,
          const Options& options) {
    const auto slash = prefix_text.find('/');
    if (slash == std::string::npos) {
        usage("the flood's prefix needs a length");
    }
    const Address prefix = parse_address(prefix_text.substr(0, slash));
    const int length = std::atoi(prefix_text.c_str() + slash + 1);
    if (length < 64 || length > 128) {
        usage("the flood's prefix length must be 64 ... 128");
    }
    std::mt19937_64 rng(7);
    const std::vector<Source> sources = make_sources(options, link, rng);
    // Pre-built frames, so the send loop does nothing else.
    constexpr std::size_t kFrames = 65536;
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(kFrames);
    const int random_bits = 128 - length;
    for (std::size_t i = 0; i < kFrames; ++i) {
        const std::uint64_t low = random_bits >= 64  ? rng()
                                  : random_bits == 0 ? 0
                                                     : rng() & ((1ULL << random_bits) - 1);
        Address target = prefix;
        for (int b = 0; b < 8; ++b) {
            target[15 - b] |= static_cast<std::uint8_t>(low >> (8 * b));
        }
        const Source& source = sources[i % sources.size()];
        frames.push_back(solicitation(source.mac, source.address, target));
    }

    // Another process on the same link (another host forging our address, say) sees every
    // answer too: only those to our MAC, for our targets, are ours.
    const Mac own_mac = options.mac.value_or(link.mac);
    auto ours = [&](const std::uint8_t* frame, const Answer& answer) {
        if (!options.forged && std::memcmp(frame, own_mac.data(), 6) != 0) {
            return false;
        }
        for (int bit = 0; bit < length; bit += 8) {
            const int bits = std::min(8, length - bit);
            const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
            if ((answer.target[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    };
    const int receiver = open_socket(link, true);
    std::atomic<bool> stop{false};
    std::uint64_t answered = 0;
    std::thread counting([&] {
        auto batch = std::make_unique<ReceiveBatch<64, 256>>();
        for (;;) {
            pollfd waiting{receiver, POLLIN, 0};
            if (poll(&waiting, 1, 50) <= 0) {
                if (stop.load()) {
                    return;
                }
                continue;
            }
            const int got = batch->receive(receiver);
            for (int i = 0; i < got; ++i) {
                Answer answer;
                if (parse_answer(batch->frame(i), batch->length(i), answer) && answer.solicited &&
                    ours(batch->frame(i), answer)) {
                    ++answered;
                }
            }
        }
    });

    const int sender = open_socket(link, false);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = link.ifindex;
    to.sll_halen = 6;
    constexpr unsigned kBatch = 64;
    std::array<iovec, kBatch> vectors;
    std::array<mmsghdr, kBatch> messages{};
    std::uint64_t sent = 0;
    std::size_t next = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        unsigned batch = kBatch;
        if (options.rate > 0) {
            // Paced: never ahead of the rate, in batches of up to kBatch.
            const double due =
                options.rate *
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (static_cast<double>(sent) >= due) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                continue;
            }
            batch = static_cast<unsigned>(
                std::min<double>(kBatch, due - static_cast<double>(sent) + 1));
        }
        for (unsigned i = 0; i < batch; ++i) {
            auto& frame = frames[(next + i) % kFrames];
            vectors[i] = {frame.data(), frame.size()};
            messages[i] = {};
            messages[i].msg_hdr.msg_name = &to;
            messages[i].msg_hdr.msg_namelen = sizeof(to);
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        const int done = sendmmsg(sender, messages.data(), batch, 0);
        if (done > 0) {
            sent += static_cast<unsigned>(done);
            next += static_cast<unsigned>(done);
        }
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(options.drain_ms));
    stop = true;
    counting.join();
    close(sender);
    close(receiver);
    std::printf(
        "sent=%llu seconds=%.2f sent_per_s=%.0f answered=%llu answered_per_s=%.0f "
        "answered_pct=%.2f\n",
        static_cast<unsigned long long>(sent), elapsed, static_cast<double>(sent) / elapsed,
        static_cast<unsigned long long>(answered), static_cast<double>(answered) / elapsed,
        sent > 0 ? 100.0 * static_cast<double>(answered) / static_cast<double>(sent) : 0.0);
    return 0;
}

}  // namespace ns_client
