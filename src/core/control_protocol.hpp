#pragma once

// The control protocol: a Unix stream socket, one JSON request per line, one JSON reply per line.
//
// Request:  {"command": "list" | "stats" | "status" | "resync" | "monitor"}
//           {"command": "announce", "address": "2001:db8:1::10"}: re-sends the unsolicited
//           advertisements for an address the daemon proxies (failover scripts)
//           {"command": "announce", "all": true}: the same for every address, at the pace of
//           --announce-rate behind the announcements of changes (after maintenance)
// Who may ask what: list, stats, status and monitor are for any client that can connect to the
// socket
// (group ndproxy, mode 0660); resync, announce and every later command that changes anything
// only for uid 0 and the daemon's own uid (SO_PEERCRED). Others get
//           {"ok": false, "error": "permission denied: \"resync\" changes the daemon's state
//           and needs uid 0 or the daemon's own user"}, counted as control_requests_refused.
// A request line is at most kMaxRequestBytes (4,096) bytes before its newline; a longer one is
// answered {"ok": false, "error": "request line too long"} and the connection closed.
//
// Reply:    {"ok": true, "list": [ENTRY...]}            for "list", in address order (below)
//           {"ok": true, "stats": {COUNTERS}}           for "stats"
//           {"ok": true, "status": {STATUS}}            for "status"
//           {"ok": true}                                for "resync" and "announce"
//           {"ok": true, "addresses": N}                for "announce" with "all": how many
//           {"ok": true}, then EVENT lines               for "monitor" (below)
//           {"ok": false, "error": "2001:db8:1::10 is not proxied here"} for an address the
//           daemon holds no entry for (it never announces an address it does not answer for)
//           {"ok": false, "error": "unknown command \"x\""} for anything else
//
// ENTRY:    {"address": "2001:db8:1::10", "interface": "br0" | null, "lladdr": "02:00:..." | null,
//            "state": "reachable" | "stale" | "delay" | "probe" | "permanent" | "noarp" |
//                     "incomplete" | "failed" | "probing" | "confirmed" | "unknown",
//            "origin": "mirror" | "responder" | "verified" | "route" (a /128 route through an
//                      internal interface), "kernel": true | false,
//            "path": "kernel" | "responder" | "pending" (who answers: a kernel proxy entry,
//                    or the responder beyond the kernel's share; README "Scale"),
//            "age": SECONDS (number, since the daemon first saw the address),
//            "conflict": null | {"claimed_by": "02:00:..." | null, "last_claim": SECONDS,
//                                "last_defence": SECONDS | null} (another host claims the
//                    address while its VM answers here; seconds ago; README "Address
//                    conflicts"),
//            "uplink": "eth0.40" (only with several uplinks: the one that proxies it)}
//            "probing": the neighbour vanished and the daemon is confirming it is gone;
//            "confirmed": the kernel has no neighbour entry, but the VM answered our probe;
//            "unknown": neither (e.g. adopted from an earlier run, not yet probed).
// COUNTERS: flat object of unsigned integers, plus "ns_dropped": {REASON: count}: one member per
//           row of core/stats_table.hpp, which names each and says what it counts
//           (the resource bounds hit among them, README "Reliability").
// STATUS:   {"version": "0.1.0", "uptime": SECONDS,
//            "external": {"name": "eth0", "ifindex": 2 | null, "up": bool} (the first uplink),
//            "internal": [{"name": "br0", "ifindex": 3 | null, "up": bool,
//                          "pattern": "tap*" (only for a link a pattern matched)}],
//            "internal_patterns": ["tap*"],
//            "prefixes": ["2001:db8:1::/64"] (at least one),
//            "prefix_bindings": {"2001:db8:1::/64": ["br-a", "tap*"]} (bound ones only),
//            "routed_blocks": [{"prefix": "2001:db8:1::200/124", "interface": "wg0",
//                               "origin": "route"}] (answered whole, docs/design.md §Routed
//                               addresses),
//            "responder": "verify", "router": bool, "announce": bool, "dry_run": bool,
//            "manage_sysctls": bool, "entries": N, "kernel_entries": N (on the kernel path),
//            "responder_entries": N (answered by the responder), "kernel_ceiling": N (each
//            uplink's), "uplinks": [{"name": "eth0", "ifindex": 2 | null, "up": bool,
//            "prefixes": ["2001:db8:1::/64"], "entries": N, "kernel_entries": N,
//            "responder_entries": N, "solicitations": {"2001:db8:1::/64": SECONDS | null} |
//            null, "fast_path": "off" | "filter" | "xdp"}] (every uplink, in the order
//            configured; the entry counts above are their sums), "fast_path": the first
//            uplink's (xdp: the XDP responder is attached, docs/design.md §Fast path),
//            "state_file_pending": bool (a write of --state-file is due, within 10 s).
//            "solicitations": the seconds since a solicitation for an address of each prefix (not
//            one of the host's own) last reached the uplink, null for none since the start; null as
//            a whole while the responder reads none (responder off,
//            --dry-run, the uplink missing). `ndproxyctl doctor` reads it.
// COUNTERS and the entry counts of STATUS are sums over the uplinks (docs/design.md §Uplinks).
//
// "monitor" subscribes: after its {"ok": true} the connection carries one EVENT per line, as
// things happen, until the client hangs up; further request lines are ignored. A subscriber
// counts against --max-control-clients.
// EVENT:    {"event": KIND, "address": "2001:db8:1::10" (when it concerns one),
//            "time": 1700000000.123 (Unix seconds), ...the KIND's members,
//            "uplink": "eth0.40" (only with several uplinks: whose services raised it)}
//           KIND, its members and what it means: one row each in core/monitor_events.hpp
//           (kEvents): added {origin, path, interface, lladdr}, withdrawn {path}, promoted,
//           demoted, verified {interface}, verification_failed, bound {counter: the counter
//           or ns_dropped reason that counts the hit, and lladdr, interface or count},
//           conflict {claimed_by, interface}, conflict_over, reload {result: "applied" |
//           "rejected", error}, dropped {count}.
// A slow reader never slows the daemon: each subscriber has a queue of at most 4,096 events
// and 1 MiB; events that do not fit are dropped, counted in monitor_events_dropped, and once
// the subscriber has read the rest it gets {"event": "dropped", "count": N, "time": ...}.
//
// The "list" of a full table is one line of tens of MB, so the daemon writes it a slice at a
// time as the client reads (ListReply, src/core/control_list.hpp): the loop stays free for
// solicitations, and a lister holds a sorted copy of the addresses and one slice, not the
// whole reply. The walk is in address order; an address held for the whole reply appears
// exactly once, one added or withdrawn while it is written may or may not, and each entry is as
// it was when its slice was written.
// Its size is bounded (kMaxReplyBytes below), and that bound is what ndproxyctl reads up to.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/ipv6.hpp"

namespace ndproxy::control {

inline constexpr std::size_t kMaxRequestBytes = 4096;
// The longest ENTRY, with the comma before it: the longest address, a 15-byte interface name of
// \u-escaped bytes, an age with 17 significant digits and a conflict with both its times as
// long come to about 410 bytes (tests/unit/control_list_test.cpp builds that entry), and an
// uplink's name as long to about 510 (tests/unit/uplinks_test.cpp).
inline constexpr std::size_t kMaxListEntryBytes = 512;
// The longest reply: a "list" of the most entries --max-entries can allow on each of the most
// uplinks, about 128 GiB. A real one is far shorter (about 170 bytes an entry: 45 MB at the
// default 262,144 entries), but ndproxyctl reads up to what the daemon can send, not less.
inline constexpr std::uint64_t kMaxReplyBytes =
    std::uint64_t{kMaxUplinks} * kMaxEntriesCeiling * kMaxListEntryBytes + 4096;

enum class Command { list, stats, status, resync, announce, monitor };

// The command's name on the wire ("list", "resync", ...).
std::string_view to_string(Command command);

// Whether `command` changes anything, and so needs uid 0 or the daemon's own uid. Every
// command that is not a plain read belongs here.
[[nodiscard]] constexpr bool changes_state(Command command) {
    return command != Command::list && command != Command::stats && command != Command::status &&
           command != Command::monitor;
}

// The client, as SO_PEERCRED tells the server.
struct Peer {
    bool may_change = false;  // uid 0 or the daemon's own uid
};

struct Request {
    Command command;
    std::optional<Ipv6Address> address = std::nullopt;  // announce
    bool all = false;                                   // announce: every address
};

// Parses one request line. Returns the request, or an error message for the reply.
struct ParsedRequest {
    std::optional<Request> request;
    std::string error;
};
ParsedRequest parse_request(std::string_view line);

nlohmann::json error_reply(std::string_view message);

// A reply too long to build at once, produced a slice at a time as the client's socket drains.
class ReplySource {
public:
    virtual ~ReplySource() = default;
    // Appends the next slice of the reply line to `out` (possibly nothing, while it prepares).
    // Returns false once the line, with its newline, is complete.
    virtual bool append_slice(std::string& out) = 0;
};

// The handler's answer: a whole reply object, or a source for a long one.
struct Answer {
    Answer(nlohmann::json reply) : reply(std::move(reply)) {}  // NOLINT: implicit by design
    Answer(std::unique_ptr<ReplySource> source) : source(std::move(source)) {}  // NOLINT
    nlohmann::json reply;
    std::unique_ptr<ReplySource> source;
};

// The reply line (without its newline) the server sends for one request line: the handler's
// answer (or its source, for a long one, with `line` empty), an error for a line that is no
// request, or a refusal for a command `peer` may not give (the handler is not called). Text
// echoed from the request that is not UTF-8 is replaced, so no input makes it throw.
using RequestHandler = std::function<Answer(const Request&)>;
struct Reply {
    std::string line;      // empty when `source` writes the reply
    bool refused = false;  // a command that changes state, from a peer that may not
    std::unique_ptr<ReplySource> source = nullptr;
    bool subscribe = false;  // "monitor": events follow the reply (the handler is not called)
};
Reply reply_line(std::string_view line, const RequestHandler& handler, const Peer& peer);

}  // namespace ndproxy::control
