"""scripts/demo's narrated tour: the same throwaway network the tests use, ndproxyd in the host,
the router reaching both VMs. Runs only inside run-isolated (scripts/demo takes care of that)."""

import os
import sys
import tempfile
import textwrap

import harness
import topology
from topology import HOST, OFFLINK_SRC, PREFIX, ROUTER, vm_addr

SOCKET = "/tmp/ndproxy-demo.sock"


def say(text):
    print(f"\n--- {text}", flush=True)


def show(proc):
    print(textwrap.indent((proc.stdout + proc.stderr).rstrip() or "(nothing)", "    "), flush=True)


def main():
    if os.environ.get("NDPROXY_TEST_ISOLATED") != "1":
        sys.exit("demo.py runs only under tests/netns/run-isolated (use scripts/demo)")
    topo = topology.Topology()
    daemon = None
    workdir = tempfile.mkdtemp(prefix="ndproxy-demo-", dir="/run")
    try:
        say("Building the network, each machine its own namespace:\n"
            "    router  (down0 fe80::ff; routes 2001:db8:1::/64 straight onto the link; "
            f"pings from {OFFLINK_SRC})\n"
            "    host    (ext <-> router; bridge br0 with 2001:db8:1::1, the VMs' gateway)\n"
            f"    vm1 {vm_addr(1)}, vm2 {vm_addr(2)}  (bridged on br0)")
        topo.build(vms=(1, 2))

        say("Without ndproxyd, the router asks for vm1 on its link and nobody answers:")
        topo.vm_speak(1)
        print(f"    router -> {vm_addr(1)}: "
              f"{'answered' if topo.router_ping(vm_addr(1), wait=1) else 'no answer'}")

        args = ["-e", "ext", "-i", "br0", "-p", PREFIX]       # Daemon adds --control-socket
        say(f"Starting in the host: ndproxyd {' '.join(args)} --control-socket {SOCKET}")
        daemon = harness.Daemon(workdir, socket_path=SOCKET)
        daemon.start(*args)

        say("Both VMs send a packet to their gateway; the host learns their addresses on br0:")
        for n in (1, 2):
            topo.vm_speak(n)
        topology.wait_until(lambda: topology.owned(topology.proxy_table()) ==
                            [vm_addr(1), vm_addr(2)], 5, "both VMs' proxy entries")
        show(topology.ip(HOST, "-6", "neigh", "show", "dev", "br0"))

        say(f"The router pings both VMs from {OFFLINK_SRC}:")
        for n in (1, 2):
            show(topology.ns_exec(ROUTER, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2",
                                  "-I", OFFLINK_SRC, vm_addr(n), check=False))

        ctl = harness.binary("NDPROXYCTL", "ndproxyctl")
        for command in ("list", "status"):
            say(f"ndproxyctl --socket {SOCKET} {command}")
            show(topology.run(ctl, "--socket", SOCKET, command, check=False))

        say("The kernel's proxy table on the host (proto 71 marks ndproxyd's entries):")
        show(topology.ip(HOST, "-6", "neigh", "show", "proxy"))

        say("Stopping ndproxyd (SIGTERM); its entries stay, so a restart interrupts nothing.")
        rc = daemon.stop()
        print(f"    exit status {rc}")
        say("What ndproxyd logged:")
        print(textwrap.indent(daemon.log_text().rstrip(), "    "))
    finally:
        if daemon is not None:
            daemon.kill()
        say("Cleaning up: deleting the namespaces.")
        topo.teardown()
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)
        harness.shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
