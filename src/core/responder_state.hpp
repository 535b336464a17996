#pragma once

// The state file (--state-file, docs/design.md §Announcements): the addresses the responder
// answers, which no kernel entry carries across a restart. A restarted daemon adopts them as
// it adopts its own kernel entries, so that it neither announces them again nor leaves them
// unanswered. Text, one address a line under a header, so that an operator can read it:
//
//   ndproxyd-state 1
//   2001:db8:1::10
//
// Pure: the daemon reads and writes the file (src/daemon/state_store.cpp).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ipv6.hpp"
#include "core/mirror_policy.hpp"

namespace ndproxy::responder_state {

inline constexpr std::string_view kHeader = "ndproxyd-state 1";
// Most addresses read: every uplink full.
inline constexpr std::size_t kMaxAddresses = kMaxUplinks * kMaxEntriesCeiling;

// The addresses of a state file's text, or nullopt if it is not one (the caller treats it as
// empty: a corrupt file is no error, only a restart that announces more).
std::optional<std::vector<Ipv6Address>> parse(std::string_view text);
std::string format(const std::vector<Ipv6Address>& addresses);
// What `policy` answers on the responder path, in address order. Routed addresses come back
// with their routes.
void add_responder_held(const MirrorPolicy& policy, std::vector<Ipv6Address>& out);

}  // namespace ndproxy::responder_state
