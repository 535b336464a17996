// The mirror's side of address conflicts (README "Address conflicts"): another host's override
// advertisement claims an address we proxy. If our VM no longer answers, it migrated and the
// entry is withdrawn as for any vanished address; if it still answers here, the claim is a
// conflict: logged once, counted, shown by `ndproxyctl list`, and defended at most once per
// kDefendInterval. Every piece of state is in the entry's ClaimState, so --max-entries bounds it.

#include <algorithm>

#include "core/mirror_policy.hpp"

namespace ndproxy {

Actions MirrorPolicy::on_claimed_elsewhere(const Ipv6Address& address,
                                           const std::optional<MacAddress>& claimant,
                                           TimePoint now) {
    Actions out;
    auto found = entries_.find(address);
    // A routed address is where its route points, and no probe could say otherwise.
    if (found == entries_.end() || found->second.origin == Origin::route) {
        return out;
    }
    MirrorEntry& entry = found->second;
    entry.claim.claimant = claimant;
    entry.claim.last_claim = now;
    if (entry.gone_since) {
        // Already confirming: the answer, or the silence, decides for this claim too. Not
        // marked as the claim's confirmation: a VM that vanished from here first and comes
        // back is a migration back, announced as such (on_neighbour()).
    } else if (now < entry.claim.hold_off_until) {
        // The VM answered a claim's probe less than kClaimHoldOff ago: a flood of forged
        // claims must not turn into a flood of probes on the bridge. Probe when it ends, so a
        // VM that really migrated meanwhile is still withdrawn, kClaimHoldOff later at most.
        ++counters_.claims_held_off;
        entry.claim.deferred = true;
    } else {
        entry.claim.deferred = false;
        start_confirming_gone(entry, now, out);
        entry.claim.confirming = true;
    }
    reschedule(entry);  // the conflict's end moved
    return out;
}

bool MirrorPolicy::shows_alive(const MirrorEntry& entry, std::uint16_t state) {
    if (!entry.claim.confirming) {
        return true;
    }
    // A claim called the kernel's entry into question. Only REACHABLE (RFC 4861 §7.3.3: a
    // solicited advertisement from the VM, or upper-layer confirmation) or an administrator's
    // static entry answers it; STALE, DELAY and PROBE are the kernel's timers running on what it
    // learned before the claim, and would otherwise pass a departed VM off as a conflict.
    return (state & (nud::reachable | nud::permanent | nud::noarp)) != 0;
}

void MirrorPolicy::note_conflict(MirrorEntry& entry, int ifindex, TimePoint now, Actions& out) {
    ClaimState& claim = entry.claim;
    if (!claim.in_conflict) {
        claim.in_conflict = true;
        ++counters_.address_conflicts;
        out.push_back(action::Conflict{entry.address, claim.claimant, ifindex, now});
    }
    // RFC 5227 §2.4 (b), applied to ND: defend with one advertisement (RFC 4861 §7.2.6,
    // unsolicited, O set) unless we defended within DEFEND_INTERVAL. Unlike (b) we keep the
    // address after a second conflict, as (c) does: the VM demonstrably is here, and giving it
    // up would hand any address to whoever forges advertisements on the uplink.
    if (entry.path == Path::pending) {
        // Not answered by us (the administrator's entry): not ours to advertise either.
    } else if (claim.last_defence == TimePoint::min() ||
               now - claim.last_defence >= kDefendInterval) {
        claim.last_defence = now;
        ++counters_.conflict_defences;
        out.push_back(action::Announce{entry.address});
    } else {
        ++counters_.defences_held_off;
    }
    claim.hold_off_until = now + kClaimHoldOff;
}

void MirrorPolicy::run_claim_timers(MirrorEntry& entry, TimePoint now, Actions& out) {
    ClaimState& claim = entry.claim;
    if (claim.deferred && claim.hold_off_until <= now) {
        claim.deferred = false;
        start_confirming_gone(entry, now, out);
        claim.confirming = true;
    }
    if (claim.in_conflict && claim.last_claim + kConflictOver <= now) {
        claim.in_conflict = false;
        out.push_back(action::ConflictOver{entry.address, now});
    }
}

TimePoint MirrorPolicy::claim_deadline(const MirrorEntry& entry) {
    const ClaimState& claim = entry.claim;
    return std::min(claim.deferred ? claim.hold_off_until : TimePoint::max(),
                    claim.in_conflict ? claim.last_claim + kConflictOver : TimePoint::max());
}

}  // namespace ndproxy
