"""What the responder puts on the wire, and what it refuses to answer: the fields of its Neighbor
Advertisements (RFC 4861 7.2.4, RFC 4389), the validation of solicitations (RFC 4861 7.1.1, each
drop counted by reason), and the answers to Duplicate Address Detection probes.

The solicitations are crafted with scapy in the router namespace (ndp_tool.py exchange), and every
advertisement that reaches the router is captured. Unsolicited announcements are turned off
(--no-announce) so that every advertisement on the wire is an answer."""

import unittest

import harness
import topology
from topology import DOWN0_MAC, EXT_MAC, HOST, ROUTER_LL, vm_addr

ALL_NODES = "ff02::1"


def summary(advertisements):
    return [(na["target"], na["destination"]) for na in advertisements]


class AnswerFieldsTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def check_answer(self, na, target, source, router):
        expected = {"target": target, "hop_limit": 255, "solicited": True, "override": False,
                    "router": router, "tlla": EXT_MAC, "source": source,
                    "destination": ROUTER_LL, "ether_source": EXT_MAC,
                    "ether_destination": DOWN0_MAC}
        self.assertEqual({key: na[key] for key in expected}, expected)

    def test_answer_fields(self):
        ext_link_local = topology.link_local(HOST, "ext")
        # A silent VM, verified: R clear without --router; the source is ext's link-local.
        d = self.daemon("--responder", "verify", "--no-announce")
        result = self.topo.router_exchange([{"target": vm_addr(2), "source": ROUTER_LL}])
        self.assertEqual(summary(result["advertisements"]), [(vm_addr(2), ROUTER_LL)])
        self.check_answer(result["advertisements"][0], vm_addr(2), ext_link_local, router=False)
        self.assertEqual(d.stats()["ns_answered"], 1, "that answer came from the responder")
        self.assertEqual(d.stop(), 0)
        # An always-mode address, with --router and --answer-source target.
        target = "2001:db8:1::a:1"
        d = self.daemon("--responder", "always", "--router", "--answer-source", "target",
                        "--no-announce", name="router")
        result = self.topo.router_exchange([{"target": target, "source": ROUTER_LL}])
        self.assertEqual(summary(result["advertisements"]), [(target, ROUTER_LL)])
        self.check_answer(result["advertisements"][0], target, target, router=True)
        self.assertEqual(d.stats()["ns_answered"], 1)


class ValidationTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def test_invalid_solicitations_dropped_by_reason(self):
        # Always mode answers every valid solicitation for the prefix, so only validation decides.
        d = self.daemon("--responder", "always", "--no-announce")
        solicitations = [
            {"target": "2001:db8:1::b:1", "source": ROUTER_LL, "hop_limit": 64},
            {"target": "2001:db8:1::b:2", "source": ROUTER_LL, "code": 1},
            {"target": "2001:db8:1::b:3", "source": ROUTER_LL, "zero_length_option": True},
            # A DAD probe (source ::) must not carry a source link-layer option.
            {"target": "2001:db8:1::b:4", "sllao": True},
            # The same kind of solicitation, valid: answered, so the silence above means something.
            {"target": "2001:db8:1::b:5", "source": ROUTER_LL},
        ]
        result = self.topo.router_exchange(solicitations)
        self.assertEqual(summary(result["advertisements"]), [("2001:db8:1::b:5", ROUTER_LL)])
        stats = d.stats()
        self.assertEqual(stats["ns_dropped"], {"hop_limit": 1, "bad_code": 1, "bad_option": 1,
                                               "dad_with_source_lladdr": 1})
        self.assertEqual((stats["ns_received"], stats["ns_answered"]), (5, 1), stats)


class ForgedFramesTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def test_frames_the_kernel_would_drop_are_dropped(self):
        """The hostile-tenants issue: a multicast IPv6 or Ethernet source, or a frame for
        another host's MAC on a promiscuous uplink (a bridge port), is never answered, and each
        is counted under its own reason. (A looped-back own frame, the fourth reason, never
        reaches the socket on this kernel: PACKET_IGNORE_OUTGOING; the unit tests cover it.)"""
        d = self.daemon("--responder", "always", "--no-announce")
        topology.ip(HOST, "link", "set", "ext", "promisc", "on")
        solicitations = [
            # As reported: answered, before, to the broadcast address.
            {"target": "2001:db8:1::c:1", "source": ALL_NODES,
             "ether_source": "ff:ff:ff:ff:ff:ff"},
            {"target": "2001:db8:1::c:2", "source": ALL_NODES},
            {"target": "2001:db8:1::c:3", "source": ROUTER_LL,
             "ether_source": "33:33:00:00:00:01"},
            # Unicast to another host's MAC: valid in every other respect.
            {"target": "2001:db8:1::c:4", "source": ROUTER_LL, "destination": "2001:db8:1::c:4",
             "ether_destination": "02:00:00:00:00:99"},
            # The same kind of solicitation, valid and to us: answered.
            {"target": "2001:db8:1::c:5", "source": ROUTER_LL, "destination": "2001:db8:1::c:5",
             "ether_destination": EXT_MAC},
        ]
        result = self.topo.router_exchange(solicitations)
        self.assertEqual(summary(result["advertisements"]), [("2001:db8:1::c:5", ROUTER_LL)])
        stats = d.stats()
        self.assertEqual(stats["ns_dropped"], {"multicast_ether_source": 2, "multicast_source": 1,
                                               "other_host": 1})
        self.assertEqual((stats["ns_received"], stats["ns_answered"]), (5, 1), stats)


class DadTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def test_dad_probe_answered_only_for_address_in_use(self):
        nobody = "2001:db8:1::dead"
        d = self.daemon("--responder", "verify", "--no-announce")
        result = self.topo.router_exchange([
            {"target": vm_addr(2)},                  # a DAD probe for silent vm2's address
            {"target": vm_addr(1), "sllao": True},   # for silent vm1's, but invalid: dropped
            {"target": nobody},                      # for an address nobody holds
        ], listen=1.2)                               # past the 900 ms verification of `nobody`
        answers = result["advertisements"]
        self.assertEqual(summary(answers), [(vm_addr(2), ALL_NODES)])
        na = answers[0]
        # RFC 4861 7.2.4: to all-nodes with S clear; O clear for a proxy (RFC 4389).
        self.assertEqual((na["solicited"], na["override"], na["tlla"], na["ether_destination"],
                          na["hop_limit"]), (False, False, EXT_MAC, "33:33:00:00:00:01", 255))
        self.assertLess(na["time"], 0.5, "the DAD answer came too late to stop the newcomer")
        topology.wait_until(lambda: d.stats()["verification_misses"] == 1, 2,
                            "the verification of the unused address to give up")
        stats = d.stats()
        self.assertEqual((stats["verifications"], stats["verified"], stats["ns_answered"]),
                         (2, 1, 1), stats)
        self.assertEqual(stats["ns_dropped"], {"dad_with_source_lladdr": 1})
        self.assertEqual(d.stop(), 0)
        # Always mode answers any address, but a DAD probe only for an address known in use.
        d = self.daemon("--responder", "always", "--no-announce", name="always")
        result = self.topo.router_exchange([{"target": nobody}])
        self.assertEqual(result["advertisements"], [])
        self.assertEqual(d.stats()["ns_dropped"], {"unknown_target": 1})


if __name__ == "__main__":
    unittest.main()
