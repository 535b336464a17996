#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/announcement_pacer.hpp"
#include "core/config.hpp"
#include "core/kernel_port.hpp"
#include "core/link_tracker.hpp"
#include "core/mirror_policy.hpp"
#include "core/monitor_events.hpp"
#include "core/packet_port.hpp"

namespace ndproxy {

struct ServiceSettings {
    std::string external;
    std::vector<std::string> internal;
    std::vector<PrefixBinding> bindings;  // prefixes bound to internal interfaces
    MirrorSettings mirror;
    bool router = false;           // R flag in our advertisements
    bool dry_run = false;          // log kernel writes and announcements instead of doing them
    unsigned announce_rate = 200;  // unsolicited advertisements a second (--announce-rate)
};

struct ServiceCounters {
    std::uint64_t probes_sent = 0;
    std::uint64_t announcements_sent = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t netlink_overflows = 0;
    std::uint64_t kernel_errors = 0;
    std::uint64_t send_errors = 0;
};

// Connects the mirror policy to the kernel and the wire: turns what the ports report into
// policy events, and the policy's actions into kernel writes and packets.
class MirrorService {
public:
    // Called whenever the external link appears, disappears or changes its index, e.g. to set
    // its sysctls and point the responder at it.
    using ExternalHook = std::function<void(const TrackedLink&)>;

    MirrorService(ServiceSettings settings, KernelPort& kernel, PacketPort& packets,
                  ExternalHook on_external = {});

    // docs/design.md §Mirror and §Netlink: dump everything and reconcile (mark and sweep).
    void full_resync(TimePoint now);
    void on_kernel_readable(TimePoint now);
    void on_advertisement(const ReceivedAdvertisement& received, TimePoint now);
    // The responder verified that a VM holds `address`: mirror it like a neighbour.
    void adopt_verified(int ifindex, const Ipv6Address& address,
                        const std::optional<MacAddress>& lladdr, TimePoint now);
    // Solicits `address` on every internal link (RFC 4861 §7.2.2).
    void probe(const Ipv6Address& address);
    // The external link's link-local address, the source of our answers (RFC 4861 §7.2.4).
    [[nodiscard]] std::optional<Ipv6Address> external_link_local() const;
    void on_timer(TimePoint now);
    // The slow timer: the kernel reports no proxy-table changes, so look.
    void refresh_proxy_table(TimePoint now);
    // `ndproxyctl announce`: false if the address is not proxied here.
    bool announce(const Ipv6Address& address, unsigned count, TimePoint now);
    // `ndproxyctl announce --all`: `count` paced passes over every answered address, behind
    // the announcements of changes. Returns the addresses.
    std::size_t announce_all(unsigned count, TimePoint now);
    // Before the first resync: what the responder answered before a restart (the state file).
    void remember(std::vector<Ipv6Address> addresses) { policy_.remember(std::move(addresses)); }
    // --flush-on-exit.
    void withdraw_all();
    // SIGHUP: new interfaces, prefixes or modes; learned state is kept.
    void reconfigure(ServiceSettings settings, TimePoint now);

    // Where the table's changes, bound hits and conflicts go as events (`ndproxyctl monitor`);
    // nullptr: nowhere. `sink` must outlive the service's activity.
    void set_monitor(monitor::Sink* sink);

    // The policy's next deadline, or when the pace lets the next announcements go.
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;
    [[nodiscard]] const MirrorPolicy& policy() const { return policy_; }
    [[nodiscard]] const LinkTracker& links() const { return links_; }
    [[nodiscard]] const ServiceCounters& counters() const { return counters_; }
    [[nodiscard]] const AnnouncementPacer& pacer() const { return pacer_; }
    [[nodiscard]] const ServiceSettings& settings() const { return settings_; }

private:
    ProxyTable read_proxy_table();
    void rewrite_router_flags();
    void handle_link_changes(const LinkTracker::Change& change, TimePoint now);
    void execute(const Actions& actions, TimePoint now);
    // The monitor's events for what the policy did in the call whose `actions` these are.
    void publish_events(const Actions& actions);
    void write_proxies(const std::vector<KernelPort::ProxyWrite>& writes);
    std::vector<KernelPort::ProxyWrite> only_ours(
        const TrackedLink& external, const std::vector<KernelPort::ProxyWrite>& writes);
    void report_write_errors(const TrackedLink& external,
                             const std::vector<KernelPort::ProxyWrite>& writes,
                             const std::vector<int>& results);
    void send_probe(const action::Probe& probe);
    void note_address(const AddressUpdate& update);
    // Whether `ifindex` is an internal link where Neighbor Discovery runs.
    [[nodiscard]] bool resolves_neighbours(int ifindex) const;
    void log_presence(const TrackedLink& link, std::string_view role);
    void forget_departed_links();
    // Tells the policy which links are internal now and which prefixes apply behind which.
    void bind_prefixes();
    void log_interface_refusal(const action::InterfaceRefused& refused);
    void tell_fast_path_uplink();
    void send_announcement(const Ipv6Address& address);
    void send_due_announcements(TimePoint now);
    void announce_new_uplink_mac(TimePoint now);
    void note_table_full();
    void log_mac_refusal(const action::MacRefused& refused);
    void log_conflict(const action::Conflict& conflict);
    bool may_log_conflict(TimePoint now);

    ServiceSettings settings_;
    KernelPort& kernel_;
    PacketPort& packets_;
    ExternalHook on_external_;
    LinkTracker links_;
    MirrorPolicy policy_;
    ServiceCounters counters_;
    int external_hooked_ifindex_ = 0;
    std::set<std::pair<int, Ipv6Address>> addresses_;  // the host's own, by interface
    std::map<std::string, int> logged_ifindex_;        // what the log last said of each link
    // docs/design.md §Announcements: per uplink, since each is a segment of its own.
    AnnouncementPacer pacer_;
    static constexpr unsigned kBacklogSeconds = 10;  // a longer backlog is logged, once
    bool backlog_logged_ = false;
    std::optional<MacAddress> uplink_mac_;  // the uplink's MAC when last seen
    TimePoint last_now_{};                  // for withdraw_all(), which announces nothing
    struct FastPathUplink {
        MacAddress mac;
        std::optional<Ipv6Address> link_local;
        bool operator==(const FastPathUplink&) const = default;
    };
    std::optional<FastPathUplink> fast_path_uplink_;  // as last told to the packet port
    std::vector<Ipv6Address> wrong_router_flag_;      // owned, seen by read_proxy_table()
    static constexpr std::size_t kLoggedMacs = 4096;
    std::set<std::pair<MacAddress, MacVerdict>> logged_macs_;          // refusals the log told of
    std::set<std::pair<Ipv6Address, int>> logged_interface_refusals_;  // likewise, kLoggedMacs
    static constexpr std::size_t kConflictLinesPerMinute = 64;
    TimePoint conflict_log_window_{};
    std::size_t conflict_lines_ = 0;  // conflict lines logged since conflict_log_window_
    bool table_full_logged_ = false;
    std::uint64_t refusals_logged_ = 0;  // entries_limit when the log last spoke of it
    monitor::Sink* monitor_ = nullptr;
    std::uint64_t routes_limit_published_ = 0;  // routes_limit when the monitor last heard
};

}  // namespace ndproxy
