#!/usr/bin/python3
"""Sends one *unicast* Neighbor Solicitation, as an upstream router does to confirm a neighbour is
still reachable (RFC 4861 7.3.1: IPv6 destination = the target itself, Ethernet destination = the
MAC the router has cached), and prints the matching Neighbor Advertisement as JSON.

ping cannot send these: once resolved, the kernel probes only after REACHABLE times out. The
kernel answers them for a proxied target only with net.ipv6.conf.all.proxy_ndp on: they arrive
addressed to a foreign IPv6 address, so they take the forwarding path, which checks only `all`.

Usage (inside the router namespace): send_unicast_ns.py IFACE SRC_IP DST_MAC TARGET [TIMEOUT]
Prints {"answered": bool, "source": ..., "solicited": bool, "override": bool, "router": bool}.
"""

import ipaddress
import json
import logging
import sys
import threading

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AsyncSniffer, Ether, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                       ICMPv6NDOptSrcLLAddr, IPv6, get_if_hwaddr, sendp)


def main():
    iface, source, dst_mac, target = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    target = str(ipaddress.IPv6Address(target))
    mac = get_if_hwaddr(iface)

    def is_answer(pkt):
        return (ICMPv6ND_NA in pkt and pkt[Ether].src != mac
                and str(ipaddress.IPv6Address(pkt[ICMPv6ND_NA].tgt)) == target)

    started = threading.Event()
    sniffer = AsyncSniffer(iface=iface, lfilter=is_answer, count=1, timeout=timeout,
                           started_callback=started.set)
    sniffer.start()
    if not started.wait(5):
        sys.exit("sniffer did not start")
    probe = (Ether(src=mac, dst=dst_mac)
             / IPv6(src=source, dst=target, hlim=255)
             / ICMPv6ND_NS(tgt=target)
             / ICMPv6NDOptSrcLLAddr(lladdr=mac))
    sendp(probe, iface=iface, verbose=False)
    sniffer.join()
    answers = sniffer.results or []
    result = {"answered": bool(answers)}
    if answers:
        na = answers[0][ICMPv6ND_NA]
        result.update(source=answers[0][IPv6].src, destination=answers[0][IPv6].dst,
                      solicited=bool(na.S), override=bool(na.O), router=bool(na.R))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
