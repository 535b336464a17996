#!/usr/bin/python3
"""Neighbor Discovery packets that iproute2 and ping cannot make or show, for the router namespace.

  ndp_tool.py probe IFACE SRC_IP DST_MAC TARGET [TIMEOUT]
      Sends one *unicast* Neighbor Solicitation, as an upstream router does to confirm a
      neighbour is still reachable (RFC 4861 7.3.1: IPv6 destination = the target itself,
      Ethernet destination = the MAC it has cached), and prints the answer as JSON:
      {"answered": bool, "source", "destination", "solicited", "override", "router"}.
      ping cannot send these: the kernel probes only after REACHABLE times out. The kernel
      answers them for a proxied target only with net.ipv6.conf.all.proxy_ndp on: they arrive
      addressed to a foreign IPv6 address, so they take the forwarding path, which checks `all`.

  ndp_tool.py sniff IFACE TARGET SECONDS
      Prints "ready" once capturing, then after SECONDS a JSON list of the Neighbor
      Advertisements for TARGET received on IFACE: time (s since ready), source, destination,
      solicited, override, router, tlla (target link-layer address option or null).
"""

import ipaddress
import json
import logging
import sys
import threading
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AsyncSniffer, Ether, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, get_if_hwaddr, sendp)


def canonical(address):
    return str(ipaddress.IPv6Address(address))


def start_sniffer(iface, target, destination=None, **kwargs):
    """Captures NAs for `target` not sent by us (and only those sent to `destination`, if
    given); returns once the capture is really running."""
    mac = get_if_hwaddr(iface)

    def is_answer(pkt):
        return (ICMPv6ND_NA in pkt and pkt[Ether].src != mac
                and canonical(pkt[ICMPv6ND_NA].tgt) == target
                and (destination is None or canonical(pkt[IPv6].dst) == destination))

    started = threading.Event()
    sniffer = AsyncSniffer(iface=iface, lfilter=is_answer, started_callback=started.set, **kwargs)
    sniffer.start()
    if not started.wait(5):
        sys.exit("sniffer did not start")
    return sniffer


def describe(pkt, t0):
    na = pkt[ICMPv6ND_NA]
    tlla = pkt[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in pkt else None
    return {"time": round(float(pkt.time) - t0, 3), "source": pkt[IPv6].src,
            "destination": pkt[IPv6].dst, "solicited": bool(na.S), "override": bool(na.O),
            "router": bool(na.R), "tlla": tlla}


def probe(iface, source, dst_mac, target, timeout="2"):
    target = canonical(target)
    mac = get_if_hwaddr(iface)
    # Only an answer to us counts: unsolicited advertisements for the target (to ff02::1) may be
    # on the wire at the same time.
    sniffer = start_sniffer(iface, target, destination=canonical(source), count=1,
                            timeout=float(timeout))
    t0 = time.time()
    sendp(Ether(src=mac, dst=dst_mac)
          / IPv6(src=source, dst=target, hlim=255)
          / ICMPv6ND_NS(tgt=target)
          / ICMPv6NDOptSrcLLAddr(lladdr=mac), iface=iface, verbose=False)
    sniffer.join()
    answers = sniffer.results or []
    result = {"answered": bool(answers)}
    if answers:
        result.update(describe(answers[0], t0))
    print(json.dumps(result))


def sniff(iface, target, seconds):
    sniffer = start_sniffer(iface, canonical(target), timeout=float(seconds))
    t0 = time.time()
    print("ready", flush=True)
    sniffer.join()
    print(json.dumps([describe(pkt, t0) for pkt in sniffer.results or []]))


if __name__ == "__main__":
    commands = {"probe": probe, "sniff": sniff}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
