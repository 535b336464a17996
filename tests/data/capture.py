#!/usr/bin/python3
"""Regenerates the captured test data in this directory (needs root, strace, tcpdump, scapy).

    sudo tests/data/capture.py [--only=netlink|routes|ndp|frames] [OUTDIR]   (default: all, here)

Everything runs inside a network and mount namespace of its own (the script re-executes itself
under `unshare`), so no link of the machine is created, moved or configured.

Netlink: the capture kernel has no nlmon driver (CONFIG_NLMON unset), so the bytes are taken
where they cross the socket boundary instead: requests iproute2 sent and the replies it
received from `strace -e write=all -e read=all`, and kernel notifications from an rtnetlink
socket of our own bound to RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV6_IFADDR (| RTMGRP_IPV6_ROUTE
for the routes, captured separately: nl-*route*.hex). These are exactly
the bytes a netlink socket reads, i.e. what nlmon would show after its cooked header.

ICMPv6: two namespaces on a veth pair, tcpdump on one end, the ICMPv6 part of each packet (after
the 40-byte IPv6 header) stored; the IPv6 header's fields go into the comment.

Frames (frame-*.hex): forged solicitations that a host on the uplink could send, written by
scapy in one namespace and captured whole (Ethernet header included) by tcpdump on the other
end of the veth pair: what the responder's AF_PACKET socket reads.
"""

import datetime
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

OUT = os.path.abspath(sys.argv[-1] if len(sys.argv) > 1 and not sys.argv[-1].startswith("-") else
                      os.path.dirname(os.path.abspath(__file__)))
TMP = ""  # scratch directory, made once inside the namespace
RTMGRP = 0x1 | 0x4 | 0x100  # RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV6_IFADDR
RTMGRP_IPV6_ROUTE = 0x400
NAMES = {24: "RTM_NEWROUTE", 25: "RTM_DELROUTE", 26: "RTM_GETROUTE", 2: "NLMSG_ERROR", 3: "NLMSG_DONE", 16: "RTM_NEWLINK", 17: "RTM_DELLINK",
         18: "RTM_GETLINK", 20: "RTM_NEWADDR", 21: "RTM_DELADDR", 28: "RTM_NEWNEIGH",
         29: "RTM_DELNEIGH", 30: "RTM_GETNEIGH"}


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True,
                          **kw).stdout.strip()


def provenance():
    return (f"kernel {os.uname().release}, {sh('ip -V')}, captured "
            f"{datetime.date.today().isoformat()} by tests/data/capture.py")


def write_hex(name, data, comments):
    with open(os.path.join(OUT, name), "w") as f:
        for line in comments:
            f.write(f"# {line}\n")
        for i in range(0, len(data), 16):
            f.write(" ".join(f"{b:02x}" for b in data[i:i + 16]) + "\n")
    print(f"wrote {name} ({len(data)} bytes)")


# --- netlink -------------------------------------------------------------------------------

def messages(data):
    """Splits a datagram into (type, bytes) pairs, NLMSG_ALIGN'ed as the kernel lays them out."""
    out, off = [], 0
    while off + 16 <= len(data):
        length, mtype = struct.unpack_from("<IH", data, off)
        if length < 16:
            break
        out.append((mtype, data[off:off + length]))
        off += (length + 3) & ~3
    return out


def attrs(msg, fixed):
    out, off = {}, 16 + fixed
    while off + 4 <= len(msg):
        length, atype = struct.unpack_from("<HH", msg, off)
        if length < 4:
            break
        out[atype & 0x3fff] = msg[off + 4:off + length]
        off += (length + 3) & ~3
    return out


def describe(msg):
    mtype = struct.unpack_from("<H", msg, 4)[0]
    text = NAMES.get(mtype, str(mtype))
    if mtype in (16, 17):
        fam, idx, flags = struct.unpack_from("<BxxxiI", msg, 16)
        name = attrs(msg, 16).get(3, b"").rstrip(b"\0").decode()
        text += f" family={fam} ifindex={idx} name={name} up={bool(flags & 1)}"
    elif mtype in (20, 21):
        fam, _, _, _, idx = struct.unpack_from("<BBBBi", msg, 16)
        a = attrs(msg, 8).get(1)
        text += f" family={fam} ifindex={idx} address={socket.inet_ntop(10, a) if a else None}"
    elif mtype in (28, 29):
        fam, idx, state, flags = struct.unpack_from("<BxxxiHB", msg, 16)
        a = attrs(msg, 12)
        dst = socket.inet_ntop(10, a[1]) if len(a.get(1, b"")) == 16 else None
        mac = ":".join(f"{b:02x}" for b in a[2]) if 2 in a else None
        proto = a[12][0] if 12 in a else None
        text += (f" family={fam} ifindex={idx} dst={dst} lladdr={mac} state={state:#x} "
                 f"flags={flags:#x} protocol={proto}")
    elif mtype in (24, 25):
        fam, dst_len, _, _, table, proto, _, rtype, flags = struct.unpack_from("<BBBBBBBBI", msg, 16)
        a = attrs(msg, 12)
        dst = socket.inet_ntop(10, a[1]) if len(a.get(1, b"")) == 16 else None
        oif = struct.unpack("<I", a[4])[0] if 4 in a else None
        gw = socket.inet_ntop(10, a[5]) if len(a.get(5, b"")) == 16 else None
        text += (f" family={fam} dst={dst}/{dst_len} oif={oif} gateway={gw} table={table} "
                 f"protocol={proto} type={rtype} flags={flags:#x}")
    elif mtype == 2:
        text += f" error={struct.unpack_from('<i', msg, 16)[0]}"
    return text


STRACE_CALL = re.compile(r"^\d+\s+(sendmsg|sendto|recvmsg|recvfrom)\(")


def strace_io(path):
    """(direction, bytes) for every netlink buffer in an `strace -e write=all -e read=all` log."""
    recs = []
    with open(path) as f:
        for line in f:
            m = STRACE_CALL.match(line)
            if m:
                recs.append(["sent" if m.group(1).startswith("send") else "received", ""])
            elif line.startswith(" | ") and recs:
                recs[-1][1] += "".join(line[10:58].split())
    return [(d, bytes.fromhex(h)) for d, h in recs if h]


class Netlink:
    def __init__(self, groups=RTMGRP):
        self.mon = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.mon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.mon.bind((0, groups))
        self.groups = groups
        self.steps = {}

    def drain(self):
        out = []
        while select.select([self.mon], [], [], 0.3)[0]:
            out.append(("notification", self.mon.recv(65536)))
        return out

    def run(self, cmd):
        self.drain()
        log = os.path.join(TMP, "strace.log")
        subprocess.run(["strace", "-f", "-o", log, "-e", "trace=sendmsg,recvmsg,sendto,recvfrom",
                        "-e", "write=all", "-e", "read=all"] + cmd.split(), check=False)
        io = strace_io(log)
        time.sleep(0.2)
        self.steps[cmd] = io + self.drain()

    def save(self, name, cmd, direction, match, what, whole_datagram=False):
        for d, datagram in self.steps[cmd]:
            if d != direction:
                continue
            for _, msg in messages(datagram):
                if match in describe(msg):
                    data = datagram if whole_datagram else msg
                    source = {"sent": "request iproute2 sent (strace -e write=all)",
                              "received": "reply iproute2 received (strace -e read=all)",
                              "notification": "kernel notification read from an rtnetlink "
                                              "socket bound to RTMGRP_LINK|NEIGH|IPV6_IFADDR"
                                              + ("|IPV6_ROUTE" if self.groups & RTMGRP_IPV6_ROUTE
                                                 else "")}
                    notes = [what, f"source: {source[direction]} (no nlmon: CONFIG_NLMON "
                                   "is unset on the capture kernel)", f"command: {cmd}",
                             f"namespace ifindex: {self.ifindexes}", provenance()]
                    notes += [f"decoded: {describe(m)}" for _, m in messages(data)]
                    write_hex(name, data, notes)
                    return
        sys.exit(f"{name}: no {direction} message matching {match!r} for {cmd!r}")


def capture_netlink():
    nl = Netlink()
    sh("ip link set lo up")
    veth = ("ip link add veth0 address 02:00:00:00:00:a0 type veth "
            "peer name veth1 address 02:00:00:00:00:a1")
    cmds = [veth, "ip link set veth0 up", "ip link set veth1 up",
            "ip -6 addr add 2001:db8:1::1/64 dev veth0 nodad",
            "ip -6 neigh add 2001:db8:1::10 lladdr 02:00:00:00:00:10 dev veth0 nud reachable",
            "ip -6 neigh add 2001:db8:1::11 lladdr 02:00:00:00:00:11 dev veth0 nud permanent",
            "ip -6 neigh add 2001:db8:1::12 lladdr 02:00:00:00:00:12 dev veth0 nud stale",
            "ip -6 neigh del 2001:db8:1::12 dev veth0",
            "ip -6 neigh add proxy 2001:db8:2::1 dev veth0",
            "ip -6 neigh add proxy 2001:db8:2::2 dev veth0 proto 71",
            "ip -6 neigh replace proxy 2001:db8:2::2 dev veth0 proto 71",
            "ip -6 neigh show proxy",
            "ip -6 neigh del proxy 2001:db8:2::1 dev veth0",
            "ip -6 neigh del proxy 2001:db8:2::99 dev veth0",
            "ip -6 neigh replace proxy 2001:db8:2::3 dev veth0 router proto 71",
            "ip -6 neigh show proxy dev veth0",   # distinct: steps are keyed by command
            "ip link add br0 address 02:00:00:00:00:b0 type bridge",
            "ip link set veth1 master br0", "ip link set veth1 nomaster",
            "ip -6 addr del 2001:db8:1::1/64 dev veth0", "ip link del br0", "ip link del veth0"]
    nl.ifindexes = "lo=1"
    for cmd in cmds:
        nl.run(cmd)
        if cmd == cmds[0]:
            nl.ifindexes = ", ".join(f"{n}={socket.if_nametoindex(n)}"
                                     for n in ("lo", "veth0", "veth1"))
        elif cmd.startswith("ip link add br0"):
            nl.ifindexes += f", br0={socket.if_nametoindex('br0')}"
    c = dict(enumerate(cmds))
    n = "notification"
    nl.save("nl-newlink-veth0-created.hex", c[0], n, "name=veth0 up=False",
            "RTM_NEWLINK for veth0 just created (down)")
    nl.save("nl-newlink-veth0-up.hex", c[1], n, "name=veth0 up=True",
            "RTM_NEWLINK for veth0 set administratively up")
    nl.save("nl-newaddr.hex", c[3], n, "address=2001:db8:1::1", "RTM_NEWADDR 2001:db8:1::1/64")
    for i, state in ((4, "reachable"), (5, "permanent"), (6, "stale")):
        nl.save(f"nl-newneigh-{state}.hex", c[i], n, "RTM_NEWNEIGH",
                f"RTM_NEWNEIGH for a neighbour added with lladdr, nud {state}")
    nl.save("nl-newneigh-failed-before-delete.hex", c[7], n, "RTM_NEWNEIGH",
            "RTM_NEWNEIGH (state FAILED, no lladdr) the kernel sends before the deletion")
    nl.save("nl-delneigh.hex", c[7], n, "RTM_DELNEIGH", "RTM_DELNEIGH for 2001:db8:1::12")
    nl.save("nl-req-newneigh-proxy.hex", c[8], "sent", "RTM_NEWNEIGH",
            "iproute2's request to add a proxy entry without NDA_PROTOCOL")
    nl.save("nl-ack.hex", c[8], "received", "error=0", "the kernel's acknowledgement")
    nl.save("nl-req-newneigh-proxy-proto71.hex", c[9], "sent", "RTM_NEWNEIGH",
            "iproute2's request to add a proxy entry with NDA_PROTOCOL 71 (NLM_F_EXCL)")
    nl.save("nl-req-replace-proxy-proto71.hex", c[10], "sent", "RTM_NEWNEIGH",
            "iproute2's request to replace a proxy entry with NDA_PROTOCOL 71 (NLM_F_REPLACE)")
    nl.save("nl-req-getneigh-proxy-dump.hex", c[11], "sent", "RTM_GETNEIGH",
            "iproute2's proxy table dump request (its send buffer is longer; the message is "
            "nlmsg_len bytes)")
    nl.save("nl-dump-proxy.hex", c[11], "received", "flags=0x8", "the proxy table dump: one "
            "datagram with both entries and NLMSG_DONE", whole_datagram=True)
    nl.save("nl-req-delneigh-proxy.hex", c[12], "sent", "RTM_DELNEIGH",
            "iproute2's request to delete a proxy entry")
    nl.save("nl-error-enoent.hex", c[13], "received", "error=-2",
            "NLMSG_ERROR -ENOENT for deleting a proxy entry that does not exist")
    nl.save("nl-req-replace-proxy-router.hex", c[14], "sent", "RTM_NEWNEIGH",
            "iproute2's request to replace a proxy entry with NTF_ROUTER and NDA_PROTOCOL 71")
    nl.save("nl-dump-proxy-router.hex", c[15], "received", "flags=0x8", "the proxy table dump "
            "with 2001:db8:2::2 (proto 71) and 2001:db8:2::3 (router, proto 71)",
            whole_datagram=True)
    nl.save("nl-newneigh-bridge-fdb.hex", c[16], n, "RTM_NEWNEIGH family=7",
            "AF_BRIDGE RTM_NEWNEIGH (fdb entry of the new bridge)")
    nl.save("nl-newlink-br0-created.hex", c[16], n, "name=br0", "RTM_NEWLINK for br0 created")
    nl.save("nl-newlink-bridge-port.hex", c[17], n, "RTM_NEWLINK family=7",
            "AF_BRIDGE RTM_NEWLINK: veth1 became a port of br0")
    nl.save("nl-dellink-bridge-port.hex", c[18], n, "RTM_DELLINK family=7",
            "AF_BRIDGE RTM_DELLINK: veth1 left br0 (the link still exists)")
    nl.save("nl-deladdr.hex", c[19], n, "address=2001:db8:1::1", "RTM_DELADDR 2001:db8:1::1/64")
    nl.save("nl-dellink-br0.hex", c[20], n, "RTM_DELLINK family=0", "RTM_DELLINK for br0")
    nl.save("nl-dellink-veth0.hex", c[21], n, "RTM_DELLINK family=0 ifindex=3",
            "RTM_DELLINK for veth0")


def capture_routes():
    """Routes through an internal link: a tap's /128, a tunnel peer's /124 behind a next hop,
    their deletion, and a dump. Only the routes are taken from this run."""
    nl = Netlink(RTMGRP | RTMGRP_IPV6_ROUTE)
    sh("ip link set lo up")
    sh("ip link add tap1 address 02:00:00:00:00:c0 type veth peer name tap1p "
       "address 02:00:00:00:00:c1")
    sh("ip link set tap1 up")
    sh("ip link set tap1p up")
    nl.ifindexes = ", ".join(f"{n}={socket.if_nametoindex(n)}" for n in ("lo", "tap1", "tap1p"))
    cmds = ["ip -6 route add 2001:db8:1::20/128 dev tap1 proto static",
            "ip -6 route add 2001:db8:1::100/124 via fe80::2 dev tap1",
            "ip -6 route show table all",
            "ip -6 route del 2001:db8:1::20/128 dev tap1"]
    for cmd in cmds:
        nl.run(cmd)
    n = "notification"
    nl.save("nl-newroute-128.hex", cmds[0], n, "RTM_NEWROUTE family=10 dst=2001:db8:1::20/128",
            "RTM_NEWROUTE for a tap's /128 (proto static), as Proxmox routed or vif-route add")
    nl.save("nl-newroute-block-gateway.hex", cmds[1], n, "dst=2001:db8:1::100/124",
            "RTM_NEWROUTE for a /124 behind a next hop on the link")
    nl.save("nl-dump-routes.hex", cmds[2], "received", "dst=2001:db8:1::20/128",
            "a datagram of the route dump (every table) holding the /128 and the /124",
            whole_datagram=True)
    nl.save("nl-delroute-128.hex", cmds[3], n, "RTM_DELROUTE", "RTM_DELROUTE for the /128")


# --- ICMPv6 --------------------------------------------------------------------------------

def capture_ndp():
    a, b = "ip netns exec a ", "ip netns exec b "
    sh("ip netns add a; ip netns add b")
    sh("ip link add va address 02:00:00:00:00:0a type veth peer name vb "
       "address 02:00:00:00:00:0b; ip link set va netns a; ip link set vb netns b")
    sh(f"{a}ip link set lo up; {b}ip link set lo up")
    sh(f"{a}ip -6 addr add 2001:db8:1::a/64 dev va nodad")
    sh(f"{b}ip -6 addr add 2001:db8:1::b/64 dev vb nodad")
    sh(f"{a}sysctl -qw net.ipv6.neigh.va.delay_first_probe_time=1")
    sh(f"{b}sysctl -qw net.ipv6.conf.vb.ndisc_notify=1")
    sh(f"{a}ip link set va up")
    pcap = os.path.join(TMP, "ndp.pcap")
    tcpdump = subprocess.Popen((a + "tcpdump -i va -U -w " + pcap +
                                " icmp6 and (ip6[40] == 135 or ip6[40] == 136)").split(),
                               stderr=subprocess.DEVNULL)
    time.sleep(1)
    sh(f"{b}ip link set vb up")
    time.sleep(3)
    steps = [("ping", f"{a}ping -c1 -W2 2001:db8:1::b"),
             ("probe", f"{a}ip -6 neigh change 2001:db8:1::b dev va lladdr 02:00:00:00:00:0b "
                       f"nud stale; {a}ping -c1 -W2 2001:db8:1::b; sleep 3"),
             ("dad", f"{b}ip -6 addr add 2001:db8:1::c/64 dev vb; sleep 3"),
             ("router", f"{b}sysctl -qw net.ipv6.conf.vb.forwarding=1; {a}ip -6 neigh flush "
                        f"dev va; {a}ping -c1 -W2 2001:db8:1::b; sleep 1")]
    marks = []
    for label, cmd in steps:
        marks.append((time.time(), label, cmd))
        sh(cmd)
    tcpdump.terminate()
    tcpdump.wait()
    sh("ip netns del a; ip netns del b")

    from scapy.all import IPv6, rdpcap  # noqa: E402 (slow import, only needed here)
    packets = []
    for p in rdpcap(pcap):
        ip = p[IPv6]
        step = [m for m in marks if m[0] <= float(p.time)]
        packets.append((step[-1] if step else (0, "link up", f"{b}ip link set vb up"),
                        ip, bytes(ip.payload)))

    def save(name, label, icmp_type, src, dst, what):
        for (_, step, cmd), ip, icmp in packets:
            if step == label and icmp[0] == icmp_type and ip.src == src and ip.dst == dst:
                write_hex(name, icmp, [what, f"during: {cmd}",
                                       f"IPv6: src {ip.src} dst {ip.dst} hop limit {ip.hlim}; "
                                       f"Ethernet: {ip.underlayer.src} -> {ip.underlayer.dst}",
                                       "source: tcpdump -i va in namespace a; hosts a "
                                       "(va 02:00:00:00:00:0a, 2001:db8:1::a) and b (vb "
                                       "02:00:00:00:00:0b, 2001:db8:1::b) on a veth pair",
                                       "bytes: the ICMPv6 message after the IPv6 header, "
                                       "checksum as sent", provenance()])
                return
        sys.exit(f"{name}: no type {icmp_type} {src} -> {dst} during {label}")

    save("ndp-ns-multicast.hex", "ping", 135, "2001:db8:1::a", "ff02::1:ff00:b",
         "multicast NS from the kernel resolving 2001:db8:1::b, with source link-layer option")
    save("ndp-na-solicited.hex", "ping", 136, "2001:db8:1::b", "2001:db8:1::a",
         "solicited NA answering it: S and O set, target link-layer option")
    save("ndp-ns-unicast.hex", "probe", 135, "fe80::ff:fe00:a", "2001:db8:1::b",
         "unicast NS (NUD probe from PROBE state) for 2001:db8:1::b")
    save("ndp-na-unicast-reply.hex", "probe", 136, "2001:db8:1::b", "fe80::ff:fe00:a",
         "NA answering a unicast NS: S set, O clear, no target link-layer option (Linux "
         "includes the option only for multicast solicitations)")
    save("ndp-ns-dad.hex", "dad", 135, "::", "ff02::1:ff00:c",
         "DAD NS for 2001:db8:1::c from the unspecified address, with a nonce option (RFC 7527)")
    save("ndp-na-unsolicited.hex", "dad", 136, "2001:db8:1::c", "ff02::1",
         "unsolicited NA (ndisc_notify=1) after DAD for 2001:db8:1::c: O set, S clear")
    save("ndp-na-router.hex", "router", 136, "2001:db8:1::b", "2001:db8:1::a",
         "solicited NA from a host with forwarding=1: R, S and O set")


def capture_frames():
    a, b = "ip netns exec a ", "ip netns exec b "
    sh("ip netns add a; ip netns add b")
    sh("ip link add va address 02:00:00:00:00:0a type veth peer name vb "
       "address 02:00:00:00:00:0b; ip link set va netns a; ip link set vb netns b")
    sh(f"{a}ip link set lo up; {b}ip link set lo up; {a}ip link set va up; {b}ip link set vb up")
    pcap = os.path.join(TMP, "frames.pcap")
    # Promiscuous (tcpdump's default), so the frame to another host's MAC is captured too.
    tcpdump = subprocess.Popen((b + "tcpdump -i vb -U -w " + pcap +
                                " icmp6 and ip6[40] == 135").split(), stderr=subprocess.DEVNULL)
    time.sleep(1)
    # (file, what, Ethernet source, Ethernet destination, IPv6 source, IPv6 destination, target)
    forged = [
        ("frame-ns-broadcast-sources.hex",
         "NS from IPv6 ff02::1 and Ethernet ff:ff:ff:ff:ff:ff (answered by ndproxyd 0.1.0 before "
         "the hostile-tenants issue, to the broadcast address)",
         "ff:ff:ff:ff:ff:ff", "33:33:ff:00:00:10", "ff02::1", "ff02::1:ff00:10",
         "2001:db8:1::10"),
        ("frame-ns-multicast-source.hex", "NS from the IPv6 multicast source ff02::1",
         "02:00:00:00:00:0a", "33:33:ff:00:00:11", "ff02::1", "ff02::1:ff00:11", "2001:db8:1::11"),
        ("frame-ns-multicast-ether-source.hex",
         "NS from a valid IPv6 source but the Ethernet group address 33:33:00:00:00:01",
         "33:33:00:00:00:01", "33:33:ff:00:00:12", "fe80::ff:fe00:a", "ff02::1:ff00:12",
         "2001:db8:1::12"),
        ("frame-ns-other-host.hex",
         "valid unicast NS to another host's MAC 02:00:00:00:00:99 (PACKET_OTHERHOST on vb)",
         "02:00:00:00:00:0a", "02:00:00:00:00:99", "fe80::ff:fe00:a", "2001:db8:1::13",
         "2001:db8:1::13"),
    ]
    script = ["from scapy.all import Ether, IPv6, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, sendp"]
    for _, _, esrc, edst, src, dst, target in forged:
        script.append(f"sendp(Ether(src='{esrc}', dst='{edst}') / IPv6(src='{src}', dst='{dst}', "
                      f"hlim=255) / ICMPv6ND_NS(tgt='{target}') / "
                      f"ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:0a'), iface='va', "
                      f"verbose=False)")
    script_path = os.path.join(TMP, "forge.py")
    with open(script_path, "w") as f:
        f.write("\n".join(script) + "\n")
    sh(f"{a}/usr/bin/python3 {script_path}")
    time.sleep(1)
    tcpdump.terminate()
    tcpdump.wait()
    sh("ip netns del a; ip netns del b")

    from scapy.all import ICMPv6ND_NS, rdpcap  # noqa: E402 (slow import, only needed here)
    frames = {str(p[ICMPv6ND_NS].tgt): bytes(p) for p in rdpcap(pcap) if ICMPv6ND_NS in p}
    for name, what, esrc, edst, src, dst, target in forged:
        if target not in frames:
            sys.exit(f"{name}: no solicitation for {target} captured")
        write_hex(name, frames[target], [
            what,
            f"Ethernet: {esrc} -> {edst}; IPv6: src {src} dst {dst} hop limit 255; target "
            f"{target}, source link-layer option 02:00:00:00:00:0a",
            "source: scapy sendp on va in namespace a, tcpdump -i vb (promiscuous) in namespace "
            "b; va 02:00:00:00:00:0a and vb 02:00:00:00:00:0b on a veth pair",
            "bytes: the whole Ethernet frame as the AF_PACKET socket reads it", provenance()])


def main():
    if os.geteuid() != 0:
        sys.exit("capture.py needs root (namespaces, strace of ip, tcpdump)")
    outer = os.readlink("/proc/self/ns/net")
    if not any(arg.startswith("--outer=") for arg in sys.argv):
        os.execvp("unshare", ["unshare", "--net", "--mount", "--propagation", "private", "--fork",
                              sys.executable, os.path.abspath(__file__), f"--outer={outer}",
                              *[arg for arg in sys.argv[1:] if arg.startswith("--only=")], OUT])
    # Refuse to touch links unless we really are in a namespace of our own.
    if f"--outer={outer}" in sys.argv:
        sys.exit("not in an isolated network namespace; refusing")
    sh("mount -t tmpfs tmpfs /run")
    global TMP
    TMP = tempfile.mkdtemp(prefix="ndproxy-capture-")
    only = next((arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--only=")), None)
    try:
        for name, capture in (("netlink", capture_netlink), ("routes", capture_routes),
                              ("ndp", capture_ndp), ("frames", capture_frames)):
            if only in (None, name):
                capture()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
