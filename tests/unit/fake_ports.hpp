#pragma once

// In-memory stand-ins for the kernel and the wire, for tests of the code between them and the
// policy. They model only what the daemon relies on: tables that dumps read, notifications that
// can be lost, and proxy entries that vanish silently. The packet fake turns the port's messages
// into bytes and back with the codec, as LinuxPacketPort does, so that tests see the wire.

#include <cerrno>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"
#include "core/kernel_port.hpp"
#include "core/packet_port.hpp"

namespace ndproxy::testing {

class FakeKernel final : public KernelPort {
public:
    std::map<int, LinkUpdate> links;
    std::vector<NeighbourUpdate> neighbours;
    std::vector<AddressUpdate> addresses;
    std::vector<RouteUpdate> routes;
    std::map<std::pair<int, Ipv6Address>, std::uint8_t> proxies;  // (ifindex, address) -> proto
    std::set<std::pair<int, Ipv6Address>> router_proxies;         // of those, with NTF_ROUTER
    std::vector<KernelEvent> queued;
    bool lose_notifications = false;
    bool refuse_proxy_writes = false;  // e.g. a kernel without IPv6 proxy support
    std::size_t proxy_writes = 0;

    void add_link(int ifindex, const std::string& name, bool up = true) {
        LinkUpdate link{ifindex, name, up, false,
                        MacAddress{{2, 0, 0, 0, 0, std::uint8_t(ifindex)}}};
        links[ifindex] = link;
        notify(link);
    }
    void remove_link(int ifindex) {
        LinkUpdate link = links.at(ifindex);
        links.erase(ifindex);
        link.deleted = true;
        std::erase_if(proxies, [&](const auto& item) { return item.first.first == ifindex; });
        notify(link);
        // The kernel deletes the link's routes with it, and says so (RTM_DELROUTE).
        for (const RouteUpdate& route : std::vector<RouteUpdate>(routes)) {
            if (route.ifindex == ifindex) {
                remove_route(route.destination);
            }
        }
    }
    void add_route(const RouteUpdate& route) {
        routes.push_back(route);
        notify(route);
    }
    void remove_route(const Ipv6Prefix& destination) {
        for (auto it = routes.begin(); it != routes.end(); ++it) {
            if (it->destination == destination) {
                RouteUpdate gone = *it;
                gone.deleted = true;
                routes.erase(it);
                notify(gone);
                return;
            }
        }
    }
    void set_link_up(int ifindex, bool up) {
        links.at(ifindex).up = up;
        if (!up) {
            // An administrative link-down flushes the proxy table, and tells nobody.
            std::erase_if(proxies, [&](const auto& item) { return item.first.first == ifindex; });
        }
        notify(links.at(ifindex));
    }
    void add_neighbour(const NeighbourUpdate& neighbour) {
        neighbours.push_back(neighbour);
        notify(neighbour);
    }
    void notify(KernelEvent event) {
        if (!lose_notifications) {
            queued.push_back(std::move(event));
        }
    }
    std::vector<Ipv6Address> proxies_with(int ifindex, std::uint8_t protocol) const {
        std::vector<Ipv6Address> out;
        for (const auto& [key, proto] : proxies) {
            if (key.first == ifindex && proto == protocol) {
                out.push_back(key.second);
            }
        }
        return out;
    }

    int event_fd() const override { return -1; }
    Drained read_events() override {
        Drained drained{std::exchange(queued, {}), lose_notifications};
        if (lose_notifications) {
            drained.events.clear();
            lose_notifications = false;
        }
        return drained;
    }
    std::vector<KernelEvent> dump(KernelTable kind) override {
        std::vector<KernelEvent> rows;
        switch (kind) {
            case KernelTable::links:
                for (const auto& [index, link] : links)
                    rows.emplace_back(link);
                break;
            case KernelTable::addresses:
                for (const auto& address : addresses)
                    rows.emplace_back(address);
                break;
            case KernelTable::neighbours:
                for (const auto& neighbour : neighbours)
                    rows.emplace_back(neighbour);
                break;
            case KernelTable::proxies:
                for (const auto& [key, proto] : proxies)
                    rows.emplace_back(
                        ProxyEntry{key.first, key.second, proto, router_proxies.contains(key)});
                break;
            case KernelTable::routes:
                for (const auto& route : routes)
                    rows.emplace_back(route);
                break;
        }
        return rows;
    }
    std::optional<std::uint8_t> proxy_protocol(int ifindex, const Ipv6Address& address) override {
        const auto found = proxies.find({ifindex, address});
        return found == proxies.end() ? std::nullopt : std::optional(found->second);
    }
    std::function<void(const ProxyWrite&)> on_proxy_write;  // sees each write before it is made
    std::vector<int> write_proxies(int ifindex, std::span<const ProxyWrite> writes) override {
        std::vector<int> results;
        for (const ProxyWrite& write : writes) {
            ++proxy_writes;
            if (on_proxy_write) {
                on_proxy_write(write);
            }
            if (!links.contains(ifindex)) {
                results.push_back(ENODEV);
            } else if (refuse_proxy_writes) {
                results.push_back(EOPNOTSUPP);
            } else if (write.op == ProxyOp::add) {
                // NLM_F_REPLACE: protocol and flags are overwritten in place.
                proxies[{ifindex, write.address}] = kOwnProtocol;
                if (write.router) {
                    router_proxies.insert({ifindex, write.address});
                } else {
                    router_proxies.erase({ifindex, write.address});
                }
                results.push_back(0);
            } else {
                router_proxies.erase({ifindex, write.address});
                results.push_back(proxies.erase({ifindex, write.address}) ? 0 : ENOENT);
            }
        }
        return results;
    }
};

struct SentPacket {
    int ifindex;
    Ipv6Address destination;
    std::vector<std::uint8_t> icmp;
};

class FakePackets final : public PacketPort {
public:
    std::vector<SentPacket> sent;
    std::vector<ReceivedAdvertisement> inbox;
    std::vector<std::pair<std::vector<std::uint8_t>, ndp::Delivery>> frames_in;
    std::vector<std::pair<int, std::vector<std::uint8_t>>> frames_out;
    int listening_on = 0;

    std::map<std::pair<int, Ipv6Address>, int> joined;  // (ifindex, group) -> joins

    bool join_group(int ifindex, const Ipv6Address& group) override {
        ++joined[{ifindex, group}];
        return true;
    }
    bool leave_group(int ifindex, const Ipv6Address& group) override {
        if (--joined[{ifindex, group}] == 0) {
            joined.erase({ifindex, group});
        }
        return true;
    }
    int frame_fd() const override { return -1; }
    // The fast path's filter, as set_filter_targets leaves it, and what it dropped.
    std::map<Ipv6Address, FilterTarget> filter;
    std::vector<Ipv6Prefix> filter_scope;
    FilterCounts filtered;
    void set_filter_scope(const std::vector<Ipv6Prefix>& prefixes) override {
        filter_scope = prefixes;
    }
    FilterCounts filter_counts() const override { return filtered; }
    void set_filter_targets(const FilterTargets& targets, bool replace) override {
        if (replace) {
            filter.clear();
        }
        for (const auto& [address, target] : targets) {
            if (target == FilterTarget::none) {
                filter.erase(address);
            } else {
                filter[address] = target;
            }
        }
    }
    bool backlogged = false;  // read_solicitations reports frames left queued
    void listen_for_solicitations(int ifindex) override { listening_on = ifindex; }
    bool read_solicitations(const SolicitationSink& sink) override {
        for (const auto& [frame, delivery] : std::exchange(frames_in, {})) {
            sink(ndp::parse_solicitation_frame(frame, delivery));
        }
        return !backlogged;
    }
    std::uint64_t frame_drops = 0;  // what the next take_frame_drops reports
    std::uint64_t take_frame_drops() override { return std::exchange(frame_drops, 0); }
    bool send_answer(int ifindex, const ndp::AnswerFrame& answer) override {
        const auto icmp = ndp::build_advertisement(answer.advert.target, answer.advert.flags,
                                                   answer.advert.target_lladdr);
        frames_out.emplace_back(
            ifindex, ndp::build_icmpv6_frame(answer.ether_source, answer.ether_destination,
                                             answer.source, answer.destination, icmp));
        return true;
    }

    int fd() const override { return -1; }
    bool send_solicitation(int ifindex, const Ipv6Address& destination, const Ipv6Address& target,
                           const std::optional<MacAddress>& source_lladdr) override {
        sent.push_back({ifindex, destination, ndp::build_solicitation(target, source_lladdr)});
        return true;
    }
    bool send_advertisement(int ifindex, const Ipv6Address& destination,
                            const ndp::Advertisement& advert) override {
        sent.push_back(
            {ifindex, destination,
             ndp::build_advertisement(advert.target, advert.flags, advert.target_lladdr)});
        return true;
    }
    std::vector<ReceivedAdvertisement> read_advertisements() override {
        return std::exchange(inbox, {});
    }
};

}  // namespace ndproxy::testing
