// The upstream router's side of the responder benchmark (bench/responder): sends Neighbor
// Solicitations as whole frames on an AF_PACKET socket and times or counts the Neighbor
// Advertisements that come back. Standalone (no project library), so bench/responder can build
// it with a plain `c++` when the build tree has no copy.
//
//   ns_client latency IFACE TARGET COUNT [options]
//       One solicitation at a time, TARGET (or TARGET, TARGET+1, ... with --fresh), each timed
//       from just before send() to the kernel's receive timestamp of the matching answer (an NA
//       for the target with S set): the client's own scheduling is not in the figure.
//       Prints: count= answered= p50_us= p99_us= max_us= mean_us=
//   ns_client flood IFACE SECONDS PREFIX [options]
//       Sends solicitations for random targets in PREFIX (/64 or longer, e.g.
//       2001:db8:1:0:ffff::/80; a /128 is one target) as fast as the socket takes them (or at
//       --rate) for SECONDS, and counts the answers (NAs with S set, for a target in PREFIX; to
//       the sources' MAC unless --forged) that arrive until --drain-ms after the last send.
//       Prints: sent= seconds= sent_per_s= answered= answered_per_s= answered_pct=
//   ns_client sweep IFACE BASE SPAN SAMPLE [options]
//       Asks for SAMPLE targets spread evenly over BASE ... BASE+SPAN-1 (the first and the last
//       included) in rounds: each round solicits every target not answered yet, then collects
//       answers until the round ends (--round-ms). Stops when all are answered or after
//       --timeout-ms. Times are CLOCK_REALTIME seconds (kernel receive timestamps), so that a
//       script can subtract the moment it started a daemon.
//       Prints: sample= answered= started_at= first_at= last_at=
//   ns_client appear IFACE FIRST COUNT --netns PATH --internal IFACE [options]
//       Measures how long an address takes to become answerable on IFACE after its neighbour
//       appears: for FIRST, FIRST+1, ... (COUNT of them), adds a permanent neighbour entry on the
//       internal interface (in the network namespace at PATH, e.g. /run/netns/host, over
//       rtnetlink; lladdr 02:be:...) and then solicits the address every --resend-us until the
//       first answer, timed from just before the RTM_NEWNEIGH to the answer's kernel receive
//       timestamp. Prints: count= answered= p50_us= p99_us= max_us= mean_us=
//   options:
//       --sources N         rotate over N sources: SOURCE_BASE+1 ... SOURCE_BASE+N (default 1)
//       --source-base ADDR  link-local base of the sources (default fe80::e:0)
//       --forged            random link-local sources and random source MACs instead
//       --mac MAC           the sources' MAC (default: the interface's), e.g. another host
//                           forging the router's address
//       --rate N            flood: at most N solicitations per second (default: no pause)
//       --fresh             latency: a new target each time (TARGET + i)
//       --gap-us N          latency: pause between solicitations (default 1000)
//       --spread SPAN       latency: cycle over --points P targets spread evenly over TARGET ...
//                           TARGET+SPAN-1 (first and last included; the same ones sweep asks for)
//       --points P          (default 200)
//       --timeout-ms N      latency: give up on one solicitation after N ms (default 1500)
//       --drain-ms N        flood: keep counting this long after the last send (default 500)
//       --dump              latency: also print every sample to stderr (index, target, µs or -1)
//       --round-ms N        sweep: length of a round (default 20)
//       --resend-us N       appear: solicit again after this long without an answer (default 100)

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "icmpv6_filter.hpp"

namespace {

using Address = std::array<std::uint8_t, 16>;
using Mac = std::array<std::uint8_t, 6>;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "ns_client: %s (see the comment at the top of bench/ns_client.cpp)\n",
                 why);
    std::exit(2);
}

Address parse_address(const std::string& text) {
    Address address{};
    if (inet_pton(AF_INET6, text.c_str(), address.data()) != 1) {
        usage(("not an IPv6 address: " + text).c_str());
    }
    return address;
}

Address plus(Address base, std::uint64_t n) {
    for (int i = 15; i >= 8 && n != 0; --i) {
        const unsigned sum = base[i] + (n & 0xff);
        base[i] = static_cast<std::uint8_t>(sum);
        n = (n >> 8) + (sum >> 8);
    }
    return base;
}

std::uint16_t checksum(const Address& source, const Address& destination, const std::uint8_t* icmp,
                       std::size_t length) {
    std::uint32_t sum = 0;
    auto add = [&](const std::uint8_t* bytes, std::size_t n) {
        for (std::size_t i = 0; i + 1 < n; i += 2) {
            sum += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
        }
        if (n % 2) {
            sum += static_cast<std::uint32_t>(bytes[n - 1] << 8);
        }
    };
    add(source.data(), 16);
    add(destination.data(), 16);
    sum += static_cast<std::uint32_t>(length) + 58;
    add(icmp, length);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

// A valid multicast solicitation (RFC 4861 4.3) with a source link-layer option: 86 bytes.
std::vector<std::uint8_t> solicitation(const Mac& mac, const Address& source,
                                       const Address& target) {
    Address group{0xff, 0x02, 0, 0,    0,    0,          0,          0,
                  0,    0,    0, 0x01, 0xff, target[13], target[14], target[15]};
    std::vector<std::uint8_t> frame(14 + 40 + 32, 0);
    std::uint8_t* p = frame.data();
    const std::uint8_t ether_destination[6] = {0x33,      0x33,      group[12],
                                               group[13], group[14], group[15]};
    std::memcpy(p, ether_destination, 6);
    std::memcpy(p + 6, mac.data(), 6);
    p[12] = 0x86;
    p[13] = 0xdd;
    std::uint8_t* ip = p + 14;
    ip[0] = 0x60;
    ip[5] = 32;   // payload length
    ip[6] = 58;   // ICMPv6
    ip[7] = 255;  // hop limit
    std::memcpy(ip + 8, source.data(), 16);
    std::memcpy(ip + 24, group.data(), 16);
    std::uint8_t* icmp = ip + 40;
    icmp[0] = 135;
    std::memcpy(icmp + 8, target.data(), 16);
    icmp[24] = 1;  // source link-layer address option, 8 bytes
    icmp[25] = 1;
    std::memcpy(icmp + 26, mac.data(), 6);
    const std::uint16_t sum = checksum(source, group, icmp, 32);
    icmp[2] = static_cast<std::uint8_t>(sum >> 8);
    icmp[3] = static_cast<std::uint8_t>(sum);
    return frame;
}

struct Answer {
    Address target;
    bool solicited;
};

// A received frame as a Neighbor Advertisement, if it is one.
bool parse_answer(const std::uint8_t* frame, std::size_t length, Answer& answer) {
    if (length < 14 + 40 + 24 || frame[12] != 0x86 || frame[13] != 0xdd || frame[14 + 6] != 58 ||
        frame[14 + 40] != 136) {
        return false;
    }
    std::memcpy(answer.target.data(), frame + 14 + 40 + 8, 16);
    answer.solicited = (frame[14 + 40 + 4] & 0x40) != 0;
    return true;
}

struct Link {
    int ifindex = 0;
    Mac mac{};
};

Link look_up(const std::string& name) {
    Link link;
    link.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (link.ifindex == 0) {
        usage(("no such interface: " + name).c_str());
    }
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &request) < 0) {
        die("SIOCGIFHWADDR");
    }
    close(fd);
    std::memcpy(link.mac.data(), request.ifr_hwaddr.sa_data, 6);
    return link;
}

double realtime_us() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

// One frame from `fd`: a solicited Neighbor Advertisement, and when the kernel received it (µs,
// realtime; now if the socket gave no stamp). nullopt for anything else.
struct ReceivedAnswer {
    Answer answer;
    double received_at = 0;
};
std::optional<ReceivedAnswer> read_solicited_answer(int fd) {
    std::array<std::uint8_t, 2048> buffer;
    alignas(cmsghdr) std::array<std::uint8_t, 256> control;
    iovec vector{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t length = recvmsg(fd, &message, 0);
    ReceivedAnswer received;
    if (length <= 0 ||
        !parse_answer(buffer.data(), static_cast<std::size_t>(length), received.answer) ||
        !received.answer.solicited) {
        return std::nullopt;
    }
    received.received_at = realtime_us();
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec stamp;
            std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
            received.received_at =
                static_cast<double>(stamp.tv_sec) * 1e6 + static_cast<double>(stamp.tv_nsec) / 1e3;
        }
    }
    return received;
}

void print_samples(int count, std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    auto quantile = [&](double q) {
        return samples.empty() ? 0.0
                               : samples[std::min(samples.size() - 1,
                                                  static_cast<std::size_t>(q * samples.size()))];
    };
    double total = 0;
    for (const double s : samples) {
        total += s;
    }
    std::printf("count=%d answered=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f\n", count,
                samples.size(), quantile(0.50), quantile(0.99),
                samples.empty() ? 0.0 : samples.back(),
                samples.empty() ? 0.0 : total / static_cast<double>(samples.size()));
}

// A packet socket on `link` that receives only Neighbor Advertisements (none when `receive` is
// false), never our own frames, with kernel receive timestamps.
int open_socket(const Link& link, bool receive) {
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("AF_PACKET socket");
    }
    const int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    if (receive) {
        if (!attach_icmpv6_type_filter(fd, 136)) {
            die("SO_ATTACH_FILTER");
        }
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
        const int buffer = 32 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = receive ? htons(ETH_P_IPV6) : 0;
    address.sll_ifindex = link.ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
        die("bind");
    }
    return fd;
}

struct Options {
    int sources = 1;
    Address source_base = parse_address("fe80::e:0");
    bool forged = false;
    bool fresh = false;
    int gap_us = 1000;
    int timeout_ms = 1500;
    int drain_ms = 500;
    bool dump = false;
    int round_ms = 20;
    int resend_us = 100;
    std::uint64_t spread = 0;
    int points = 200;
    std::string netns;
    std::string internal;
    std::optional<Mac> mac;
    double rate = 0;
};

Mac parse_mac(const std::string& text) {
    Mac mac{};
    unsigned b[6];
    if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) !=
        6) {
        usage(("not a MAC address: " + text).c_str());
    }
    for (int i = 0; i < 6; ++i) {
        mac[i] = static_cast<std::uint8_t>(b[i]);
    }
    return mac;
}

struct Source {
    Mac mac;
    Address address;
};

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
            char text[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, target.data(), text, sizeof(text));
            const bool answered = samples.size() == answered_before + 1;
            std::fprintf(stderr, "%d %s %.0f\n", i, text, answered ? samples.back() : -1.0);
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
        constexpr unsigned kBatch = 64;
        std::vector<std::array<std::uint8_t, 256>> buffers(kBatch);
        std::array<iovec, kBatch> vectors;
        std::array<mmsghdr, kBatch> messages;
        for (;;) {
            pollfd waiting{receiver, POLLIN, 0};
            if (poll(&waiting, 1, 50) <= 0) {
                if (stop.load()) {
                    return;
                }
                continue;
            }
            for (unsigned i = 0; i < kBatch; ++i) {
                vectors[i] = {buffers[i].data(), buffers[i].size()};
                messages[i] = {};
                messages[i].msg_hdr.msg_iov = &vectors[i];
                messages[i].msg_hdr.msg_iovlen = 1;
            }
            const int got = recvmmsg(receiver, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
            for (int i = 0; i < got; ++i) {
                Answer answer;
                if (parse_answer(buffers[i].data(), messages[i].msg_len, answer) &&
                    answer.solicited && ours(buffers[i].data(), answer)) {
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

int sweep(const Link& link, const Address& base, std::uint64_t span, int sample_size,
          Options options) {
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
// (CLOCK_REALTIME); returns its kernel receive timestamp in µs, or 0.
double wait_answer(int fd, const Address& target, double deadline_us) {
    for (;;) {
        const double left_us = deadline_us - realtime_us();
        if (left_us <= 0) {
            return 0;
        }
        pollfd waiting{fd, POLLIN, 0};
        const timespec wait{0, static_cast<long>(left_us * 1000)};
        if (ppoll(&waiting, 1, &wait, nullptr) <= 0) {
            return 0;
        }
        const auto received = read_solicited_answer(fd);
        if (received && received->answer.target == target) {
            return received->received_at;
        }
    }
}

int appear(const Link& link, const Address& first, int count, const Options& options) {
    if (options.netns.empty() || options.internal.empty()) {
        usage("appear needs --netns PATH and --internal IFACE");
    }
    std::mt19937_64 rng(5);
    const std::vector<Source> sources = make_sources(options, link, rng);
    const int fd = open_socket(link, true);  // in our own namespace (the router's)
    const int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int other = open(options.netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (own < 0 || other < 0 || setns(other, CLONE_NEWNET) < 0) {
        die(options.netns.c_str());
    }
    const int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    const int internal = static_cast<int>(if_nametoindex(options.internal.c_str()));
    if (nl < 0 || internal == 0 || setns(own, CLONE_NEWNET) < 0) {
        die("netlink socket / internal interface");
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::vector<double> samples;
    std::size_t next_source = 0;
    for (int i = 0; i < count; ++i) {
        const Address target = plus(first, static_cast<std::uint64_t>(i));
        struct {
            nlmsghdr header;
            ndmsg neighbour;
            rtattr dst_attr;
            std::uint8_t dst[16];
            rtattr lladdr_attr;
            std::uint8_t lladdr[8];
        } request{};
        request.header.nlmsg_len = sizeof(request);
        request.header.nlmsg_type = RTM_NEWNEIGH;
        request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
        request.header.nlmsg_seq = static_cast<unsigned>(i + 1);
        request.neighbour.ndm_family = AF_INET6;
        request.neighbour.ndm_ifindex = internal;
        request.neighbour.ndm_state = NUD_PERMANENT;
        request.dst_attr.rta_type = NDA_DST;
        request.dst_attr.rta_len = RTA_LENGTH(16);
        std::memcpy(request.dst, target.data(), 16);
        request.lladdr_attr.rta_type = NDA_LLADDR;
        request.lladdr_attr.rta_len = RTA_LENGTH(6);
        const std::uint8_t mac[6] = {0x02, 0xbe, target[12], target[13], target[14], target[15]};
        std::memcpy(request.lladdr, mac, 6);
        const double start = realtime_us();
        if (sendto(nl, &request, sizeof(request), 0, reinterpret_cast<sockaddr*>(&kernel),
                   sizeof(kernel)) < 0) {
            die("RTM_NEWNEIGH");
        }
        std::array<std::uint8_t, 4096> reply;
        const ssize_t got = recv(nl, reply.data(), reply.size(), 0);
        const auto* header = reinterpret_cast<const nlmsghdr*>(reply.data());
        if (got < 0 || header->nlmsg_type != NLMSG_ERROR ||
            reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(header))->error != 0) {
            std::fprintf(stderr, "ns_client: adding neighbour %d failed\n", i);
            return 1;
        }
        const double deadline = start + options.timeout_ms * 1000.0;
        double answered_at = 0;
        while (answered_at == 0 && realtime_us() < deadline) {
            const Source& source = sources[next_source++ % sources.size()];
            const auto frame = solicitation(source.mac, source.address, target);
            if (send(fd, frame.data(), frame.size(), 0) < 0) {
                die("send");
            }
            answered_at =
                wait_answer(fd, target, std::min(deadline, realtime_us() + options.resend_us));
        }
        if (answered_at != 0) {
            samples.push_back(answered_at - start);
        }
        if (options.gap_us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(options.gap_us));
        }
    }
    close(nl);
    close(fd);
    print_samples(count, samples);
    return samples.size() == static_cast<std::size_t>(count) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> positional;
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(("missing value for " + std::string(arg)).c_str());
            }
            return argv[++i];
        };
        if (arg == "--sources") {
            options.sources = std::max(1, std::atoi(value().c_str()));
        } else if (arg == "--source-base") {
            options.source_base = parse_address(value());
        } else if (arg == "--mac") {
            options.mac = parse_mac(value());
        } else if (arg == "--rate") {
            options.rate = std::atof(value().c_str());
        } else if (arg == "--forged") {
            options.forged = true;
        } else if (arg == "--dump") {
            options.dump = true;
        } else if (arg == "--fresh") {
            options.fresh = true;
        } else if (arg == "--gap-us") {
            options.gap_us = std::atoi(value().c_str());
        } else if (arg == "--timeout-ms") {
            options.timeout_ms = std::atoi(value().c_str());
        } else if (arg == "--spread") {
            options.spread = std::strtoull(value().c_str(), nullptr, 0);
        } else if (arg == "--points") {
            options.points = std::atoi(value().c_str());
        } else if (arg == "--resend-us") {
            options.resend_us = std::max(10, std::atoi(value().c_str()));
        } else if (arg == "--netns") {
            options.netns = value();
        } else if (arg == "--internal") {
            options.internal = value();
        } else if (arg == "--round-ms") {
            options.round_ms = std::max(1, std::atoi(value().c_str()));
        } else if (arg == "--drain-ms") {
            options.drain_ms = std::atoi(value().c_str());
        } else {
            positional.emplace_back(arg);
        }
    }
    if (positional.size() == 4 && positional[0] == "latency") {
        return latency(look_up(positional[1]), parse_address(positional[2]),
                       std::atoi(positional[3].c_str()), options);
    }
    if (positional.size() == 4 && positional[0] == "flood") {
        return flood(look_up(positional[1]), std::atof(positional[2].c_str()), positional[3],
                     options);
    }
    if (positional.size() == 4 && positional[0] == "appear") {
        return appear(look_up(positional[1]), parse_address(positional[2]),
                      std::atoi(positional[3].c_str()), options);
    }
    if (positional.size() == 5 && positional[0] == "sweep") {
        return sweep(look_up(positional[1]), parse_address(positional[2]),
                     std::strtoull(positional[3].c_str(), nullptr, 0),
                     std::atoi(positional[4].c_str()), options);
    }
    usage(
        "usage: ns_client latency IFACE TARGET COUNT | flood IFACE SECONDS PREFIX | "
        "sweep IFACE BASE SPAN SAMPLE | appear IFACE FIRST COUNT [options]");
}
