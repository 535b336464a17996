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
      solicited, override, router, tlla (target link-layer address option or null), and
      target, hop_limit, ether_source, ether_destination.

  ndp_tool.py count IFACE SECONDS
      Prints "ready" once capturing, then after SECONDS every Neighbor Advertisement received on
      IFACE, at any rate (a raw packet socket, no scapy): {"solicited": N, "unsolicited": [{time
      (Unix seconds, the clock every namespace shares), target, ether_source}, ...]}.

  ndp_tool.py exchange IFACE SECONDS SPEC
      Sends the Neighbor Solicitations SPEC describes (a JSON list, see solicitation_frame()),
      in order, each `delay` seconds after the one before; then keeps capturing for SECONDS
      more and prints {"sent": [seconds since the first send, ...], "advertisements": [...]}:
      every NA received on IFACE not sent by us, described as by `sniff`, with `time` in
      seconds since the first send. For packets the kernel would not build: a wrong hop limit
      or code, a zero-length option, a DAD probe with a source link-layer option.

  ndp_tool.py ask IFACE SECONDS RATE SOURCE SOURCE_MAC TARGET
      Solicits TARGET from SOURCE (IPv6) and SOURCE_MAC, RATE times a second (0: as fast as the
      socket allows) for SECONDS, in batches of at most 64, and counts the solicited NAs for
      TARGET addressed to SOURCE_MAC until 0.5 s after the last send: another process on the
      link, forging the same IPv6 source from another MAC, does not count as us.
      Prints {"sent", "answered", "seconds"}.

  ndp_tool.py advertise IFACE TARGET MAC SECONDS INTERVAL
      Claims TARGET as another host would: unsolicited Neighbor Advertisements with the override
      flag, to all-nodes, from MAC (Ethernet source and target link-layer option) and a
      link-local source derived from it, one every INTERVAL seconds for SECONDS. Forged, e.g.:
      MAC need not be the interface's. Prints {"sent"}.

  ndp_tool.py flood IFACE SECONDS PREFIX SOURCES [FRAMES]
      Sends solicitations for random targets in PREFIX (a /64) as fast as a raw AF_PACKET
      socket allows, for SECONDS, from SOURCES random link-local sources with random MACs
      (1: one fixed source, as a single misbehaving host would), cycling through FRAMES
      (default 8192) pre-built frames whose targets change every round (never the same target
      twice in 65534 rounds). No scapy on the hot path. Prints {"sent", "seconds"}.
"""

import ipaddress
import json
import logging
import random
import socket
import struct
import sys
import threading
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AsyncSniffer, Ether, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, Raw,
                       get_if_hwaddr, sendp)


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
    return {"time": round(float(pkt.time) - t0, 4), "source": pkt[IPv6].src,
            "destination": pkt[IPv6].dst, "solicited": bool(na.S), "override": bool(na.O),
            "router": bool(na.R), "tlla": tlla, "target": canonical(na.tgt),
            "hop_limit": pkt[IPv6].hlim, "ether_source": pkt[Ether].src,
            "ether_destination": pkt[Ether].dst}


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


def solicited_node(address):
    """ff02::1:ffXX:XXXX for `address` (RFC 4291 2.7.1)."""
    low = ipaddress.IPv6Address(address).packed[13:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff02" + "00" * 9 + "01ff") + low))


def multicast_mac(group):
    return "33:33:" + ":".join(f"{b:02x}" for b in ipaddress.IPv6Address(group).packed[12:])


def solicitation_frame(spec, mac):
    """One NS frame from a dict: target (required); source (default "::", a DAD probe);
    destination (default the target's solicited-node group); ether_destination (default the
    destination's multicast MAC); ether_source (default our MAC; forged, e.g. the broadcast
    address); hop_limit (255); code (0); sllao (default: unless the source is "::"), the source
    link-layer option with our MAC; zero_length_option (false): append an option whose length
    field is 0, which RFC 4861 4.6 forbids."""
    target = canonical(spec["target"])
    source = canonical(spec.get("source", "::"))
    destination = canonical(spec.get("destination", solicited_node(target)))
    ether_destination = spec.get("ether_destination")
    if ether_destination is None:
        if not ipaddress.IPv6Address(destination).is_multicast:
            sys.exit(f"a unicast solicitation needs an ether_destination: {spec}")
        ether_destination = multicast_mac(destination)
    ns = ICMPv6ND_NS(tgt=target, code=spec.get("code", 0))
    if spec.get("sllao", source != "::"):
        ns = ns / ICMPv6NDOptSrcLLAddr(lladdr=mac)
    if spec.get("zero_length_option"):
        ns = ns / Raw(bytes([14, 0, 0, 0, 0, 0, 0, 0]))      # type 14 (nonce), length 0
    return (Ether(src=spec.get("ether_source", mac), dst=ether_destination)
            / IPv6(src=source, dst=destination, hlim=spec.get("hop_limit", 255)) / ns)


def exchange(iface, seconds, spec):
    specs = json.loads(spec)
    mac = get_if_hwaddr(iface)
    frames = [solicitation_frame(s, mac) for s in specs]

    def is_answer(pkt):
        return ICMPv6ND_NA in pkt and pkt[Ether].src != mac

    started = threading.Event()
    sniffer = AsyncSniffer(iface=iface, lfilter=is_answer, started_callback=started.set)
    sniffer.start()
    if not started.wait(5):
        sys.exit("sniffer did not start")
    sent = []
    # Frames built beforehand and sent on a plain packet socket: back-to-back solicitations
    # leave microseconds apart (scapy's own send takes a millisecond to build each one).
    frames = [bytes(frame) for frame in frames]
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as out:
        out.bind((iface, 0))
        for s, frame in zip(specs, frames):
            if s.get("delay"):
                time.sleep(float(s["delay"]))
            sent.append(time.time())
            out.send(frame)
    time.sleep(float(seconds))      # the capture window: answers may come this late
    sniffer.stop()
    t0 = sent[0] if sent else time.time()
    print(json.dumps({"sent": [round(t - t0, 4) for t in sent],
                      "advertisements": [describe(p, t0) for p in sniffer.results or []]}))


def checksum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


TARGET_MIDDLE = 14 + 40 + 8 + 8    # frame offset of bytes 8-11 of an NS's target


def raw_solicitation(ether_source, source, target):
    """A valid multicast NS with a source link-layer option, as bytes (no scapy: fast)."""
    group = ipaddress.IPv6Address(solicited_node(str(ipaddress.IPv6Address(target)))).packed
    icmp = bytearray(struct.pack("!BBHI", 135, 0, 0, 0) + target + bytes([1, 1]) + ether_source)
    pseudo = source + group + struct.pack("!I3xB", len(icmp), 58)
    struct.pack_into("!H", icmp, 2, checksum16(pseudo + bytes(icmp)))
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + source + group
    return b"\x33\x33" + group[12:] + ether_source + b"\x86\xdd" + ip6 + bytes(icmp)


def advertise(iface, target, mac, seconds, interval):
    octets = mac.split(":")
    # RFC 4291 appendix A: the modified EUI-64 interface identifier of MAC.
    source = canonical("fe80::{:02x}{}:{}ff:fe{}:{}{}".format(int(octets[0], 16) ^ 2, *octets[1:]))
    # RFC 4861 7.2.6: unsolicited, to all-nodes, S clear, O set; hop limit 255 (7.1.2).
    frame = (Ether(src=mac, dst="33:33:00:00:00:01")
             / IPv6(src=source, dst="ff02::1", hlim=255)
             / ICMPv6ND_NA(tgt=canonical(target), R=0, S=0, O=1)
             / ICMPv6NDOptDstLLAddr(lladdr=mac))
    raw = bytes(frame)
    sent = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            s.send(raw)
            sent += 1
            time.sleep(float(interval))
    print(json.dumps({"sent": sent}))


def flood(iface, seconds, prefix, sources, count="8192"):
    network = ipaddress.IPv6Network(prefix)
    rng = random.Random(7)
    fixed_mac = bytes.fromhex(get_if_hwaddr(iface).replace(":", ""))
    senders = []
    for _ in range(int(sources)):
        if int(sources) == 1:
            mac = fixed_mac
        else:
            mac = bytes([0x02]) + rng.randbytes(5)
        senders.append((mac, ipaddress.IPv6Address("fe80::" + ":".join(
            f"{rng.getrandbits(16):x}" for _ in range(4))).packed))
    frames, words = [], []
    for i in range(int(count)):
        mac, source = senders[i % len(senders)]
        target = (int(network.network_address) | rng.getrandbits(64)).to_bytes(16, "big")
        frames.append(bytearray(raw_solicitation(mac, source, target)))
        words.append(struct.unpack_from("!HH", frames[-1], TARGET_MIDDLE))
    pack = struct.pack_into
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        send = s.send
        sent, n, round_ = 0, len(frames), 0
        start = time.monotonic()
        deadline = start + float(seconds)
        while True:
            i = sent % n
            if i == 0:
                round_ = round_ % 65534 + 1
            # Each round through the frames changes bytes 8-11 of every target so that the
            # ones'-complement sum, hence the checksum, stays the same: a fresh target each
            # time, and the solicited-node group (the last 3 bytes) unchanged.
            a, b = words[i]
            frame = frames[i]
            pack("!HH", frame, TARGET_MIDDLE, (a + round_) % 0xffff, (b - round_) % 0xffff)
            try:
                send(frame)
            except OSError:             # ENOBUFS: the queue is full, which is the point
                pass
            sent += 1
            if sent & 255 == 0 and time.monotonic() >= deadline:
                break
        elapsed = time.monotonic() - start
    print(json.dumps({"sent": sent, "seconds": round(elapsed, 3)}))


def ask(iface, seconds, rate, source, source_mac, target):
    mac = bytes.fromhex(source_mac.replace(":", ""))
    wanted = ipaddress.IPv6Address(target).packed
    frame = raw_solicitation(mac, ipaddress.IPv6Address(source).packed, wanted)
    rate, answered, sent = float(rate), 0, 0

    def is_ours(answer):
        # Ethernet destination, IPv6 next header, ICMPv6 type, S flag, target.
        return (len(answer) >= 78 and answer[:6] == mac and answer[12:14] == b"\x86\xdd" and
                answer[20] == 58 and answer[54] == 136 and answer[58] & 0x40 and
                answer[62:78] == wanted)

    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s, \
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd)) as r:
        r.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)      # SO_RCVBUFFORCE: keep every answer
        r.bind((iface, 0x86dd))
        r.setblocking(False)
        s.bind((iface, 0))

        def drain():
            nonlocal answered
            while True:
                try:
                    answered += is_ours(r.recv(256))
                except BlockingIOError:
                    return

        start = time.monotonic()
        deadline = start + float(seconds)
        while (now := time.monotonic()) < deadline:
            batch = 64 if rate <= 0 else min(64, int((now - start) * rate) - sent)
            if batch <= 0:
                time.sleep(0.001)
            for _ in range(batch):
                try:
                    s.send(frame)
                    sent += 1
                except OSError:             # ENOBUFS: our own queue is full; not sent
                    break
            drain()
        elapsed = time.monotonic() - start
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            drain()
            time.sleep(0.01)
    print(json.dumps({"sent": sent, "answered": answered, "seconds": round(elapsed, 3)}))


def count(iface, seconds):
    eth_p_ipv6, packet_outgoing = 0x86DD, 4
    solicited, unsolicited = 0, []
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(eth_p_ipv6)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((iface, eth_p_ipv6))
        s.settimeout(0.1)
        print("ready", flush=True)
        deadline = time.time() + float(seconds)
        while time.time() < deadline:
            try:
                frame, address = s.recvfrom(2048)
            except socket.timeout:
                continue
            if time.time() > deadline:
                break
            # Ethernet (14), IPv6 (40) with next header ICMPv6 (58), NA (type 136): flags, target.
            if (address[2] == packet_outgoing or len(frame) < 78 or frame[20] != 58
                    or frame[54] != 136):
                continue
            if frame[58] & 0x40:
                solicited += 1
            else:
                unsolicited.append({"time": time.time(),
                                    "target": str(ipaddress.IPv6Address(frame[62:78])),
                                    "ether_source": frame[6:12].hex(":")})
    print(json.dumps({"solicited": solicited, "unsolicited": unsolicited}))


if __name__ == "__main__":
    commands = {"probe": probe, "sniff": sniff, "exchange": exchange, "advertise": advertise,
                "flood": flood, "ask": ask, "count": count}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
