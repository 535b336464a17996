#pragma once

// The packet socket ns_client sends and receives whole frames on, and the clock it times them by.

#include <optional>
#include <string>
#include <vector>

#include "frames.hpp"

namespace ns_client {

struct Link {
    int ifindex = 0;
    Mac mac{};
};

Link look_up(const std::string& name);

// CLOCK_REALTIME in µs: the clock of the kernel's receive timestamps.
double realtime_us();

// A packet socket on `link` that receives only Neighbor Advertisements (none when `receive` is
// false), never our own frames, with kernel receive timestamps.
int open_socket(const Link& link, bool receive);

// One frame from `fd`: a solicited Neighbor Advertisement, and when the kernel received it (µs,
// realtime; now if the socket gave no stamp). nullopt for anything else.
struct ReceivedAnswer {
    Answer answer;
    double received_at = 0;
};
std::optional<ReceivedAnswer> read_solicited_answer(int fd);

// Receives the first solicited answer for `target` on `fd` until `deadline_us` (realtime);
// returns its kernel receive timestamp in µs, or 0.
double wait_answer(int fd, const Address& target, double deadline_us);

// "count= answered= p50_us= p99_us= max_us= mean_us=" on stdout.
void print_samples(int count, std::vector<double> samples);

}  // namespace ns_client
