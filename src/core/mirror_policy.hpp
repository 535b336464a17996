#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/fast_path.hpp"
#include "core/ipv6.hpp"
#include "core/kernel_events.hpp"
#include "core/mac_quota.hpp"
#include "core/routed_blocks.hpp"

namespace ndproxy {

// What the mirror asks the outside world to do. The daemon executes these against the kernel
// and the wire; unit tests execute them against a fake.
namespace action {
struct Install {
    Ipv6Address address;
};
struct Withdraw {
    Ipv6Address address;
};
// Send a Neighbor Solicitation for `address` on an internal interface (0: on every one).
struct Probe {
    Ipv6Address address;
    int ifindex = 0;
};
// Send one unsolicited Neighbor Advertisement for `address` on the external interface;
// `repeat`: not the first since it changed (the pace sends those later).
struct Announce {
    Ipv6Address address;
    bool repeat = false;
};
// Another host (`claimant`, the MAC its advertisement named) claimed `address`, whose VM still
// answers here on `ifindex`: an address conflict (for the log; once until it is over).
struct Conflict {
    Ipv6Address address;
    std::optional<MacAddress> claimant;
    int ifindex = 0;
    TimePoint at{};  // for the log's own rate limit
};
// No claim on `address` for MirrorPolicy::kConflictOver: the conflict is over (for the log).
struct ConflictOver {
    Ipv6Address address;
    TimePoint at{};
};
// `address` appeared behind `ifindex`, which no prefix containing it is bound to (for the log).
struct InterfaceRefused {
    Ipv6Address address;
    int ifindex = 0;
};
// `address` was refused because `mac` is at one of its per-VM bounds (for the log).
struct MacRefused {
    Ipv6Address address;
    MacAddress mac;
    MacVerdict verdict;
};
}  // namespace action
using Action = std::variant<action::Install, action::Withdraw, action::Probe, action::Announce,
                            action::Conflict, action::ConflictOver, action::MacRefused,
                            action::InterfaceRefused>;
using Actions = std::vector<Action>;

// mirror: a neighbour entry; verified: a responder's probe was answered; responder: adopted
// from an earlier run; route: a /128 route through an internal link (docs/design.md §Routed
// addresses), which alone keeps it.
enum class Origin { mirror, responder, verified, route };
std::string_view to_string(Origin origin);

struct MirrorSettings {
    std::vector<Ipv6Prefix> prefixes;  // at least one (required); empty: nothing
    Duration withdraw_after = std::chrono::seconds(30);
    Duration first_probe_gap = std::chrono::seconds(1);
    unsigned announce_count = 3;
    Duration announce_interval = std::chrono::seconds(1);
    // Most entries held. When full, new addresses are refused (counted in entries_limit) and
    // the entries already held keep working.
    std::size_t max_entries = kDefaultMaxEntries;
    // Most entries written to the kernel; the rest are answered by the responder from this
    // table. Every kernel proxy entry lengthens a 16-chain hash walked for each solicitation
    // and joins a multicast group on the uplink, whose list is walked for each multicast packet
    // received: the kernel's answer takes about 30 µs more per 1,000 entries, and inserting
    // 16,000 takes 15 s. At 1,024 it answers as fast as the responder (README "Scale").
    std::size_t kernel_entries = 1024;
    // Per VM: most addresses one MAC may hold, and how fast it may add them.
    MacQuotaSettings mac_quota;
};

// Who answers solicitations for an entry on the external link.
enum class Path : std::uint8_t {
    pending,    // not yet made answerable
    kernel,     // a kernel proxy entry (one of settings.kernel_entries)
    responder,  // the responder, from the table, beyond the kernel's share
};
std::string_view to_string(Path path);

// Another host's override advertisements for an address we proxy (README "Address conflicts").
// Per entry, so bounded by --max-entries like the entries themselves: 40 bytes each.
struct ClaimState {
    std::optional<MacAddress> claimant;  // the MAC the latest claim named
    bool confirming = false;             // the running confirmation was started by a claim
    bool deferred = false;               // a claim came during the hold-off: confirm at its end
    bool in_conflict = false;            // the VM answered here after a claim, and claims go on
    TimePoint last_claim{};
    TimePoint hold_off_until{};
    TimePoint last_defence = TimePoint::min();  // min(): never defended
};

// One address the mirror proxies. `gone_since` marks the ones whose neighbour vanished and that
// are being probed.
struct MirrorEntry {
    Ipv6Address address;
    int ifindex = 0;  // internal interface it was last seen on; 0 when not known
    std::optional<MacAddress> lladdr;
    std::uint16_t nud_state = nud::none;  // the kernel's state; none when it has no entry
    bool answered = false;  // answered our solicitation since the kernel last reported on it
    Origin origin = Origin::mirror;
    Path path = Path::pending;
    bool in_kernel = false;  // our entry is in the kernel (path kernel, once written)
    TimePoint first_seen{};

    std::optional<TimePoint> gone_since;  // set while confirming that the address is gone
    TimePoint next_probe{};
    Duration probe_gap{};

    unsigned announcements_left = 0;
    TimePoint next_announcement{};
    // docs/design.md §Announcements: not found at the start, so announced once answerable.
    bool new_here = true;
    // Its neighbour went (deleted, FAILED, link gone): speaking again, it may come from elsewhere.
    bool vanished = false;

    ClaimState claim;

    TimePoint scheduled{TimePoint::max()};  // key in the wake-up queue
};

struct MirrorCounters {
    std::uint64_t neighbours_seen = 0;  // neighbour events about eligible addresses
    std::uint64_t entries_added = 0;
    std::uint64_t entries_withdrawn = 0;
    std::uint64_t probe_answers = 0;
    std::uint64_t proxy_repairs = 0;      // owned entries that had vanished from the kernel
    std::uint64_t entries_limit = 0;      // addresses refused because the table was full
    std::uint64_t mac_address_limit = 0;  // refused: their MAC holds max_addresses already
    std::uint64_t mac_rate_limit = 0;     // refused: their MAC adds new ones too fast
    std::uint64_t kernel_promotions = 0;  // responder entries moved into a freed kernel slot
    std::uint64_t kernel_demotions = 0;   // kernel entries handed to the responder (ceiling)
    std::uint64_t address_conflicts = 0;  // conflicts begun: claimed elsewhere, answered here
    std::uint64_t conflict_defences = 0;  // advertisements sent to defend such an address
    std::uint64_t defences_held_off = 0;  // conflicting claims not defended: one was, < 10 s ago
    std::uint64_t claims_held_off = 0;    // claims that probed no sooner: the VM answered < 1 s ago
    std::uint64_t interface_refused = 0;  // seen behind an interface none of its prefixes names
    std::uint64_t routes_limit = 0;       // routes not followed: kMaxRoutes are already
};

// What became of an entry, for the monitor (core/monitor_events.hpp): recorded only while
// record_changes() is on, taken by the service after each call.
struct TableChange {
    Ipv6Address address;
    Path from = Path::pending;
    Path to = Path::pending;  // pending: withdrawn
    bool refused = false;     // not admitted: the table was full (entries_limit)
};

// The external link's proxy table, split by ownership (docs/design.md §Ownership).
struct ProxyTable {
    std::vector<Ipv6Address> owned;    // carrying our protocol number
    std::vector<Ipv6Address> foreign;  // the administrator's: never touched, never shadowed
};

// Everything a full resynchronisation reads from the kernel.
struct KernelSnapshot {
    std::vector<NeighbourUpdate> neighbours;  // of the internal interfaces only
    ProxyTable proxies;
    std::vector<Ipv6Address> own_addresses;  // the host's addresses, on every interface
    std::vector<RouteUpdate> routes;         // through the internal interfaces only
};

// The mirror: decides which proxy entries should exist, from neighbour events. Pure: it owns no
// sockets and reads no clock; time comes in as arguments.
class MirrorPolicy {
public:
    // RFC 5227 §2.4 (b)'s DEFEND_INTERVAL, applied to ND: one defence per address this often.
    static constexpr Duration kDefendInterval = std::chrono::seconds(10);
    // After the VM answered a claim's probe, further claims wait this long before probing
    // again: a flood of forged claims probes each address at most once a second.
    static constexpr Duration kClaimHoldOff = std::chrono::seconds(1);
    // A conflict is over when no claim has come for this long; the next one is logged anew.
    static constexpr Duration kConflictOver = std::chrono::seconds(60);
    // Routes followed at most. Routes are the host's own (the hypervisor's scripts, a routing
    // daemon), not a tenant's, but a routing daemon fed by one could add them without end.
    static constexpr std::size_t kMaxRoutes = 65536;

    explicit MirrorPolicy(MirrorSettings settings)
        : settings_(std::move(settings)), quota_(settings_.mac_quota) {}

    Actions on_neighbour(const NeighbourUpdate& update, TimePoint now);
    // A Neighbor Advertisement for `target` arrived on internal interface `ifindex`.
    Actions on_advertisement(int ifindex, const Ipv6Address& target,
                             const std::optional<MacAddress>& lladdr, TimePoint now);
    Actions on_own_address(const AddressUpdate& update);
    // A route through an internal interface appeared or went (docs/design.md §Routed
    // addresses): a /128 is an entry for as long as the route exists; a longer-than-/64 block
    // behind a next hop, or on a link without Neighbor Discovery, is answered as a whole.
    Actions on_route(const RouteUpdate& route, TimePoint now);
    // Another host (`claimant`) advertised `address` on the external link with the override
    // flag: the VM may have migrated there, while our neighbour entry, idle and STALE, would
    // keep vouching for it for as long as the kernel keeps it. Our probes on the bridge decide:
    // silence withdraws the entry, an answer is an address conflict, which we defend.
    Actions on_claimed_elsewhere(const Ipv6Address& address,
                                 const std::optional<MacAddress>& claimant, TimePoint now);
    // The responder verified that a VM holds `address` behind internal interface `ifindex`.
    Actions on_verified(int ifindex, const Ipv6Address& address,
                        const std::optional<MacAddress>& lladdr, TimePoint now);
    // An internal interface vanished: its neighbours may be gone with it, or may come back on
    // a recreated bridge. Either way they are now unconfirmed.
    Actions on_interface_gone(int ifindex, TimePoint now);
    // Whether any internal interface exists to probe on. While none does, confirmations pause,
    // since a probe that cannot be sent proves nothing (a bridge being recreated); when one
    // appears, every confirmation starts over on it.
    Actions set_probing_possible(bool possible, TimePoint now);
    // Mark and sweep against a complete view of the kernel. The first is the start: the router
    // knows what it finds, and none of it is announced.
    Actions reconcile(const KernelSnapshot& snapshot, TimePoint now);
    // What the responder answered before a restart (the state file): the first reconcile adopts
    // and confirms it, as it does its own kernel entries (docs/design.md §Ownership).
    void remember(std::vector<Ipv6Address> addresses) { remembered_ = std::move(addresses); }
    // The slow timer: entries the kernel does not vouch for (no neighbour entry: learned by
    // verification, adopted after a restart, or garbage-collected) are confirmed again, so that
    // one whose VM left without a trace is withdrawn in the end too.
    Actions confirm_unvouched(TimePoint now);
    // A fresh dump of the proxy table alone: puts back what is missing.
    Actions sync_proxy_table(const ProxyTable& table, TimePoint now);
    void on_install_failed(const Ipv6Address& address);
    // The administrator put a proxy entry of their own at `address` since the last dump.
    void on_foreign_proxy(const Ipv6Address& address);
    Actions on_timer(TimePoint now);
    // `count` unsolicited advertisements for `address` again, `announce_interval` apart (an
    // operator's failover script); nullopt if the mirror holds no entry for it.
    std::optional<Actions> announce(const Ipv6Address& address, unsigned count, TimePoint now);
    // Withdraws everything this daemon owns (--flush-on-exit).
    Actions withdraw_all();
    // The internal links present now, and the prefixes bound to interfaces with the ifindexes of
    // the links they are bound to (the service recomputes both whenever the links change). A
    // prefix not listed applies to every internal link. An entry behind a present link that
    // none of its prefixes applies to is forgotten at the next reconcile.
    struct BoundPrefix {
        Ipv6Prefix prefix;
        std::vector<int> ifindexes;
    };
    // `without_discovery`: those of the internal links where Neighbor Discovery does not run.
    void set_links(std::vector<int> internal, std::vector<BoundPrefix> bound,
                   std::vector<int> without_discovery = {}) {
        internal_links_ = std::move(internal);
        bound_ = std::move(bound);
        without_discovery_ = std::move(without_discovery);
    }

    // New settings (SIGHUP). Entries outside the new prefixes are withdrawn; the rest, and
    // everything learned about them, is kept.
    Actions reconfigure(MirrorSettings settings);

    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;
    [[nodiscard]] const std::unordered_map<Ipv6Address, MirrorEntry>& entries() const {
        return entries_;
    }
    [[nodiscard]] const MirrorCounters& counters() const { return counters_; }
    // Entries whose proxy entry is in the kernel, as far as we know. Walks the table.
    [[nodiscard]] std::size_t kernel_entry_count() const;
    // Entries on the kernel path (written, or being written) and on the responder path.
    [[nodiscard]] std::size_t kernel_path_count() const { return kernel_path_; }
    [[nodiscard]] std::size_t responder_path_count() const { return responder_path_; }
    // Grows whenever an entry joins or leaves the responder path (the state file's contents).
    [[nodiscard]] std::uint64_t responder_changes() const { return responder_changes_; }
    [[nodiscard]] bool is_own_address(const Ipv6Address& address) const {
        return own_addresses_.contains(address);
    }
    [[nodiscard]] bool in_scope(const Ipv6Address& address) const;
    // Whether `address` may be proxied as seen behind internal link `ifindex`: some prefix that
    // contains it applies to every internal link, or is bound to this one.
    [[nodiscard]] bool allowed_on(const Ipv6Address& address, int ifindex) const;
    // The same for every address of `block`: a prefix containing it all applies there.
    [[nodiscard]] bool allowed_on(const Ipv6Prefix& block, int ifindex) const;
    // The blocks answered as a whole, and whether `address` is in one of them.
    [[nodiscard]] const RoutedBlocks& routed_blocks() const { return blocks_; }
    [[nodiscard]] std::size_t routes_followed() const { return routes_.size(); }
    // Whether the kernel answers solicitations for `address` on the external link: our entry
    // is in place, or the administrator's is.
    [[nodiscard]] bool kernel_answers(const Ipv6Address& address) const;
    // Whether an address was refused for want of room since the last reconcile(): only a full
    // resync finds it again (a permanent neighbour sends no further events).
    [[nodiscard]] bool refused_since_reconcile() const { return refused_since_reconcile_; }
    [[nodiscard]] const MirrorSettings& settings() const { return settings_; }
    // Entries made answerable, moved, withdrawn or refused since the last take, while on.
    void record_changes(bool on) { recording_ = on; }
    std::vector<TableChange> take_changes() { return std::exchange(changes_, {}); }
    // Addresses whose fast-path target (core/fast_path.hpp) may have changed since the last take.
    FastPathChanges take_fast_path_changes() { return fast_path_.take(); }
    [[nodiscard]] const std::unordered_set<Ipv6Address>& own_addresses() const {
        return own_addresses_;
    }
    [[nodiscard]] const std::unordered_set<Ipv6Address>& foreign_proxies() const {
        return foreign_proxies_;
    }

private:
    // False, counted and reported once, when `address` may not be proxied behind `ifindex`.
    bool admissible_on(const Ipv6Address& address, int ifindex, Actions& out);
    std::vector<BoundPrefix> bound_;
    std::vector<int> internal_links_;
    std::vector<int> without_discovery_;

    // Routes, by what the kernel tells them apart by (besides the source, which is never set).
    struct RouteKey {
        Ipv6Prefix destination;
        int ifindex = 0;
        std::uint32_t table = 0;
        std::uint32_t metric = 0;
        auto operator<=>(const RouteKey&) const = default;
    };
    static RouteKey key_of(const RouteUpdate& route) {
        return {route.destination, route.ifindex, route.table, route.metric};
    }
    // Whether `route` carries addresses this mirror proxies; `count` refusals by binding.
    bool routed_here(const RouteUpdate& route, bool count, Actions& out);
    void follow(const RouteKey& route, TimePoint now, Actions& out);
    void unfollow(const RouteKey& route, Actions& out);
    void reconcile_routes(const std::vector<RouteUpdate>& routes,
                          const std::vector<NeighbourUpdate>& neighbours, TimePoint now,
                          Actions& out);
    // A neighbour entry left behind by a /128 route that went: the host resolved the VM while
    // it routed the address there, and no longer does. It vouches for nothing until the
    // kernel drops it. True when `update` is (about) such an entry; forgets it when it goes.
    bool outlived_its_route(const NeighbourUpdate& update);
    std::set<RouteKey> routes_;
    RoutedBlocks blocks_;
    std::map<Ipv6Address, int> unrouted_;  // address -> the link its route went from

    // The entry for `address`, created if there is room and `lladdr` is within its per-VM
    // bounds; nullptr (counted, and a MacRefused action for the log) otherwise.
    MirrorEntry* admit(const Ipv6Address& address, const std::optional<MacAddress>& lladdr,
                       TimePoint now, Actions& out);
    void make_live(MirrorEntry& entry, int ifindex, const std::optional<MacAddress>& lladdr,
                   TimePoint now, Actions& out);
    void install(MirrorEntry& entry, TimePoint now, Actions& out);
    void start_confirming_gone(MirrorEntry& entry, TimePoint now, Actions& out);
    void start_announcing(MirrorEntry& entry, unsigned count, TimePoint now, Actions& out);
    void withdraw(const Ipv6Address& address, Actions& out);
    // Whether a neighbour report in `state` shows the VM alive, given what claims made of it.
    [[nodiscard]] static bool shows_alive(const MirrorEntry& entry, std::uint16_t state);
    // The VM answered while a claim's confirmation ran: log, count, defend (rate-limited).
    void note_conflict(MirrorEntry& entry, int ifindex, TimePoint now, Actions& out);
    void run_claim_timers(MirrorEntry& entry, TimePoint now, Actions& out);
    [[nodiscard]] static TimePoint claim_deadline(const MirrorEntry& entry);
    void adopt_or_withdraw(std::span<const Ipv6Address> owned_proxies, TimePoint now, Actions& out);
    void adopt_remembered(TimePoint now, Actions& out);
    void run_timers(MirrorEntry& entry, TimePoint now, Actions& out);
    void reschedule(MirrorEntry& entry);
    void set_path(MirrorEntry& entry, Path path);
    // Every change of in_kernel goes through here, for the fast path's journal.
    void set_in_kernel(MirrorEntry& entry, bool in_kernel);
    // Removes an entry from the table (no kernel write); the iterator after it.
    std::unordered_map<Ipv6Address, MirrorEntry>::iterator forget(
        std::unordered_map<Ipv6Address, MirrorEntry>::iterator entry);
    // Keeps the kernel's share at settings.kernel_entries: responder entries move into freed
    // kernel slots, oldest first, and kernel entries beyond a lowered ceiling move out.
    void rebalance(Actions& out);

    MirrorSettings settings_;
    MacQuota quota_;  // counts the entries whose MAC is known
    std::unordered_map<Ipv6Address, MirrorEntry> entries_;
    std::unordered_set<Ipv6Address> own_addresses_;
    std::unordered_set<Ipv6Address> foreign_proxies_;
    std::set<std::pair<TimePoint, Ipv6Address>> wakeups_;
    // Responder-path entries in the order they came, to be promoted when kernel slots free up.
    // Lazily cleaned: an address that left the responder path is skipped when reached.
    std::deque<Ipv6Address> promotion_queue_;
    std::size_t kernel_path_ = 0;
    std::size_t responder_path_ = 0;
    std::uint64_t responder_changes_ = 0;
    std::vector<Ipv6Address> remembered_;
    bool started_ = false;  // the first reconcile is done
    bool quiet_ = false;    // in the first reconcile: nothing admitted is new_here
    MirrorCounters counters_;
    bool probing_paused_ = false;
    bool refused_since_reconcile_ = false;
    bool recording_ = false;
    std::vector<TableChange> changes_;
    FastPathJournal fast_path_;
};

}  // namespace ndproxy
