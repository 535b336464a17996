// ns_client latency and sweep: one solicitation at a time, timed; a sample of targets in rounds.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "modes.hpp"

namespace ns_client {

int latency(const Link& link, const Address& first_target, int count, const Options& options) {
    std::mt19937_64 rng(1);
    const std::vector<Source> sources = make_sources(options, link, rng);
    const int fd = open_socket(link, true);
    std::vector<double> samples;
    for (int i = 0; i < count; ++i) {
        Address target =
            options.fresh ? plus(first_target, static_cast<std::uint64_t>(i)) : first_target;
        if (options.spread >
            0) {  // point i % P of P spread evenly over SPAN (first, last included)
            const std::uint64_t points = static_cast<std::uint64_t>(std::max(1, options.points));
            const std::uint64_t k = static_cast<std::uint64_t>(i) % points;
            target = plus(first_target, points == 1 ? options.spread - 1
                                                    : k * (options.spread - 1) / (points - 1));
        }
        if (!options.targets.empty()) {
            target = options.targets[static_cast<std::size_t>(i) % options.targets.size()];
        }
        const Source& source = sources[static_cast<std::size_t>(i) % sources.size()];
        const auto frame = solicitation(source.mac, source.address, target);
        const double sent_at = realtime_us();
        if (send(fd, frame.data(), frame.size(), 0) < 0) {
            die("send");
        }
        const auto answered_before = samples.size();
        const double deadline = sent_at + options.timeout_ms * 1000.0;
        for (;;) {
            const double left_ms = (deadline - realtime_us()) / 1000.0;
            pollfd waiting{fd, POLLIN, 0};
            if (left_ms <= 0 || poll(&waiting, 1, static_cast<int>(left_ms) + 1) <= 0) {
                break;  // unanswered
            }
            const auto received = read_solicited_answer(fd);
            if (!received || received->answer.target != target) {
                continue;
            }
            const double received_at = received->received_at;
            samples.push_back(received_at - sent_at);
            break;
        }
        if (options.dump) {
            const bool answered = samples.size() == answered_before + 1;
            std::fprintf(stderr, "%d %s %.0f\n", i, to_string(target).c_str(),
                         answered ? samples.back() : -1.0);
        }
        if (options.gap_us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(options.gap_us));
        }
    }
    close(fd);
    const bool none = samples.empty();
    print_samples(count, std::move(samples));
    return none ? 1 : 0;
}

int sweep(const Link& link, const Address& base, std::uint64_t span, int sample_size,
          const Options& options) {
    std::mt19937_64 rng(3);
    const std::vector<Source> sources = make_sources(options, link, rng);
    std::vector<Address> targets;
    for (int k = 0; k < sample_size; ++k) {
        const std::uint64_t offset = sample_size == 1
                                         ? span - 1
                                         : static_cast<std::uint64_t>(k) * (span - 1) /
                                               static_cast<std::uint64_t>(sample_size - 1);
        targets.push_back(plus(base, offset));
    }
    std::vector<bool> answered(targets.size(), false);
    std::size_t answered_count = 0;
    double first_at = 0;
    double last_at = 0;
    const int fd = open_socket(link, true);
    const double started_at = realtime_us();
    const double deadline = started_at + options.timeout_ms * 1000.0;
    std::size_t next_source = 0;
    while (answered_count < targets.size() && realtime_us() < deadline) {
        for (std::size_t i = 0; i < targets.size(); ++i) {
            if (answered[i]) {
                continue;
            }
            const Source& source = sources[next_source++ % sources.size()];
            const auto frame = solicitation(source.mac, source.address, targets[i]);
            if (send(fd, frame.data(), frame.size(), 0) < 0) {
                die("send");
            }
        }
        const double round_end = realtime_us() + options.round_ms * 1000.0;
        for (;;) {
            const double left_ms = (round_end - realtime_us()) / 1000.0;
            pollfd waiting{fd, POLLIN, 0};
            if (left_ms <= 0 || poll(&waiting, 1, static_cast<int>(left_ms) + 1) <= 0) {
                break;
            }
            const auto received = read_solicited_answer(fd);
            if (!received) {
                continue;
            }
            const Answer& answer = received->answer;
            const double received_at = received->received_at;
            for (std::size_t i = 0; i < targets.size(); ++i) {
                if (!answered[i] && targets[i] == answer.target) {
                    answered[i] = true;
                    ++answered_count;
                    if (first_at == 0) {
                        first_at = received_at;
                    }
                    last_at = std::max(last_at, received_at);
                }
            }
        }
    }
    close(fd);
    std::printf("sample=%zu answered=%zu started_at=%.6f first_at=%.6f last_at=%.6f\n",
                targets.size(), answered_count, started_at / 1e6, first_at / 1e6, last_at / 1e6);
    return answered_count == targets.size() ? 0 : 1;
}

// Receives the first matching solicited answer for `target` on `fd` until `deadline_us`

}  // namespace ns_client
