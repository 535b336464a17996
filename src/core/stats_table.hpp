#pragma once

// What the daemon's "stats" reply holds (core/control_protocol.hpp), one row per
// value, in the order an operator reads them: a neighbour's way into the table, a
// solicitation's way through the responder, upkeep and errors, the resource bounds hit
// (README "Reliability"), then the levels. The one list: the daemon's reply
// (core/control_replies.cpp), ndproxyctl's text and Prometheus output (ctl/render.cpp), and
// the unit test that ndproxyctl(8) documents every name all read it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ndproxy::stats {

enum class Kind : std::uint8_t {
    counter,  // a running total since the daemon started; Prometheus ndproxyd_NAME_total
    gauge,    // a level now; Prometheus ndproxyd_NAME
    drops,    // {REASON: count}; Prometheus ndproxyd_NAME_total{reason="REASON"}
};

// One per row, in the rows' order (checked below, up to the last Id). The daemon reads each
// value by its Id in a switch (core/control_replies.cpp), so an Id it cannot fill does not
// compile.
enum class Id : std::uint8_t {
    neighbours_seen,
    entries_added,
    entries_withdrawn,
    kernel_promotions,
    kernel_demotions,
    probes_sent,
    probe_answers,
    announcements_sent,
    announcements_delayed,
    announcements_dropped,
    address_conflicts,
    conflict_defences,
    defences_held_off,
    claims_held_off,
    ns_received,
    ns_filtered,
    ns_xdp,
    ns_answered,
    ns_dropped,
    ns_socket_drops,
    ns_backlogs,
    verifications,
    verified,
    verification_misses,
    negative_cache_evictions,
    resyncs,
    netlink_overflows,
    proxy_repairs,
    kernel_errors,
    send_errors,
    answer_errors,
    entries_limit,
    mac_address_limit,
    mac_rate_limit,
    interface_refused,
    routes_limit,
    groups_limit,
    control_clients_rejected,
    control_requests_refused,
    monitor_events_dropped,
    entries,
    kernel_entries,
    responder_entries,
    routed_blocks,
    verifications_in_flight,
    negative_cache,
    answer_budget,
    announcements_waiting,
};

struct Metric {
    Id id;
    std::string_view name;  // in the JSON, the text output and the Prometheus family
    Kind kind;
    std::string_view help;  // one sentence: Prometheus HELP
};

inline constexpr auto kTable = std::to_array<Metric>({
    {Id::neighbours_seen, "neighbours_seen", Kind::counter,
     "Neighbour events about eligible addresses on the internal interfaces."},
    {Id::entries_added, "entries_added", Kind::counter, "Proxy entries installed in the kernel."},
    {Id::entries_withdrawn, "entries_withdrawn", Kind::counter,
     "Proxy entries withdrawn after their address was confirmed gone."},
    {Id::kernel_promotions, "kernel_promotions", Kind::counter,
     "Addresses moved from the responder into a freed kernel slot."},
    {Id::kernel_demotions, "kernel_demotions", Kind::counter,
     "Addresses moved from the kernel to the responder (ceiling lowered)."},
    {Id::probes_sent, "probes_sent", Kind::counter,
     "Neighbor Solicitations sent on the internal side to confirm an address."},
    {Id::probe_answers, "probe_answers", Kind::counter, "Answers to those solicitations."},
    {Id::announcements_sent, "announcements_sent", Kind::counter,
     "Unsolicited Neighbor Advertisements sent on the external link."},
    // docs/design.md §Announcements.
    {Id::announcements_delayed, "announcements_delayed", Kind::counter,
     "Unsolicited advertisements that waited for their turn (--announce-rate) instead of "
     "leaving at once."},
    {Id::announcements_dropped, "announcements_dropped", Kind::counter,
     "Unsolicited advertisements not sent: a minute's worth at --announce-rate waited already."},
    // README "Address conflicts".
    {Id::address_conflicts, "address_conflicts", Kind::counter,
     "Address conflicts begun: another host claimed an address whose VM still answers here."},
    {Id::conflict_defences, "conflict_defences", Kind::counter,
     "Advertisements sent to defend an address in conflict."},
    {Id::defences_held_off, "defences_held_off", Kind::counter,
     "Conflicting claims not defended: the address was defended less than 10 s before."},
    {Id::claims_held_off, "claims_held_off", Kind::counter,
     "Claims by another host that probed no sooner: the VM had answered less than 1 s before."},
    {Id::ns_received, "ns_received", Kind::counter,
     "Neighbor Solicitations received by the responder."},
    {Id::ns_filtered, "ns_filtered", Kind::counter,
     "Of those, the ones the fast path dropped in the kernel before the daemon read them "
     "(--fast-path); each is also counted in ns_dropped."},
    {Id::ns_xdp, "ns_xdp", Kind::counter,
     "Of those, the ones the fast path's XDP responder answered, or refused by the same "
     "limits, in the kernel (--fast-path xdp); each is also counted in ns_answered or "
     "ns_dropped."},
    {Id::ns_answered, "ns_answered", Kind::counter,
     "Neighbor Solicitations the responder answered."},
    {Id::ns_dropped, "ns_dropped", Kind::drops, "Neighbor Solicitations dropped, by reason."},
    {Id::ns_socket_drops, "ns_socket_drops", Kind::counter,
     "Neighbor Solicitations the kernel dropped before the responder read them; each loss "
     "shrinks the answer budget for a while."},
    {Id::ns_backlogs, "ns_backlogs", Kind::counter,
     "Reads that left solicitations queued for the next turn (a busy reader, no loss)."},
    {Id::verifications, "verifications", Kind::counter,
     "Unknown targets solicited on the internal side before answering."},
    {Id::verified, "verified", Kind::counter,
     "Unknown targets that answered on the internal side, then answered and mirrored."},
    {Id::verification_misses, "verification_misses", Kind::counter,
     "Unknown targets that did not answer on the internal side."},
    {Id::negative_cache_evictions, "negative_cache_evictions", Kind::counter,
     "Misses dropped from the full negative cache before they expired."},
    {Id::resyncs, "resyncs", Kind::counter, "Full resynchronisations from a fresh kernel dump."},
    {Id::netlink_overflows, "netlink_overflows", Kind::counter,
     "Netlink event socket overflows (ENOBUFS), each followed by a resync."},
    {Id::proxy_repairs, "proxy_repairs", Kind::counter,
     "Owned proxy entries put back after they vanished from the kernel."},
    {Id::kernel_errors, "kernel_errors", Kind::counter, "Netlink requests the kernel refused."},
    {Id::send_errors, "send_errors", Kind::counter, "Packets that could not be sent."},
    {Id::answer_errors, "answer_errors", Kind::counter,
     "Responder answers that could not be sent."},
    // The resource bounds hit.
    {Id::entries_limit, "entries_limit", Kind::counter,
     "New addresses not proxied because the entry table was full."},
    {Id::mac_address_limit, "mac_address_limit", Kind::counter,
     "New addresses not proxied because their VM's MAC holds --max-addresses-per-mac already."},
    {Id::mac_rate_limit, "mac_rate_limit", Kind::counter,
     "New addresses not proxied (yet) because their VM's MAC added them faster than "
     "--new-addresses-per-minute."},
    {Id::interface_refused, "interface_refused", Kind::counter,
     "Addresses not proxied because they appeared behind an internal interface that no prefix "
     "containing them is bound to (prefix ... on)."},
    {Id::routes_limit, "routes_limit", Kind::counter,
     "Routes through internal interfaces not followed: 65,536 are already."},
    {Id::groups_limit, "groups_limit", Kind::counter,
     "Responder answers whose solicited-node group was not joined: too many groups already."},
    {Id::control_clients_rejected, "control_clients_rejected", Kind::counter,
     "Control-socket clients refused because too many were connected."},
    {Id::control_requests_refused, "control_requests_refused", Kind::counter,
     "Control requests that change state, refused to a client that is neither root nor the "
     "daemon's user."},
    {Id::monitor_events_dropped, "monitor_events_dropped", Kind::counter,
     "Events not sent to a monitor subscriber (ndproxyctl monitor) that read too slowly."},
    // Levels, not running totals.
    {Id::entries, "entries", Kind::gauge, "Addresses the daemon currently proxies."},
    {Id::kernel_entries, "kernel_entries", Kind::gauge,
     "Of those, the ones answered by a kernel proxy entry."},
    {Id::responder_entries, "responder_entries", Kind::gauge,
     "Of those, the ones answered by the responder (beyond the kernel's share)."},
    {Id::routed_blocks, "routed_blocks", Kind::gauge,
     "Routed blocks longer than /64 that the responder answers as a whole."},
    {Id::verifications_in_flight, "verifications_in_flight", Kind::gauge,
     "Unknown targets being solicited on the internal side now."},
    {Id::negative_cache, "negative_cache", Kind::gauge, "Unknown targets remembered as absent."},
    {Id::answer_budget, "answer_budget", Kind::gauge,
     "Responder answers per second allowed in all now (lost solicitations shrink it)."},
    {Id::announcements_waiting, "announcements_waiting", Kind::gauge,
     "Unsolicited advertisements waiting for their turn now, announce --all's included."},
});

namespace detail {
consteval bool rows_in_id_order() {
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (static_cast<std::size_t>(kTable[i].id) != i) {
            return false;
        }
    }
    return static_cast<std::size_t>(Id::announcements_waiting) + 1 == kTable.size();
}
}  // namespace detail
static_assert(detail::rows_in_id_order(), "one row per Id, in the Id's order");

}  // namespace ndproxy::stats
