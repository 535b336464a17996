"""Puts a benchmark script into a throwaway sandbox, and prepares what it runs before that.

The sandbox is tests/netns/run-isolated's: new network, mount and PID namespaces, a private tmpfs
on /run (where `ip netns add` keeps its namespaces) and /proc for this PID namespace. Whatever
happens to the script, its daemons and namespaces die with it, and the machine's own network
namespace is never touched.
"""

import os
import shutil
import subprocess
import sys
import time

from . import NETNS_TESTS, REPO

RUN_ISOLATED = os.path.join(NETNS_TESTS, "run-isolated")
_MARK = "NDPROXY_BENCH_ISOLATED"


def isolated():
    """Whether this process already runs inside the sandbox."""
    return os.environ.get(_MARK) == "1"


def require_root(name):
    if os.getuid() != 0:
        sys.exit(f"{name}: needs root (network namespaces)")


def use_build(build):
    """Points harness.py at the build tree's daemon and ndproxyctl (as ctest does)."""
    os.environ["NDPROXYD"] = os.path.join(build, "src", "ndproxyd")
    os.environ["NDPROXYCTL"] = os.path.join(build, "src", "ndproxyctl")


def build_targets(name, build, programs):
    """Builds the CMake targets whose programs (paths relative to BUILD) are missing: a no-op
    when the build tree has them all."""
    if all(os.access(os.path.join(build, p), os.X_OK) for p in programs):
        return
    print(f"{name}: building {' '.join(programs)}", file=sys.stderr, flush=True)
    targets = [os.path.basename(p) for p in programs]
    subprocess.run(["cmake", "--build", build, "--target", *targets], check=True,
                   stdout=sys.stderr)


def install_missing(name, packages):
    """apt-get installs the Debian packages of `packages` ({command: package}) whose command is
    missing (after apt-get update)."""
    missing = [package for command, package in packages.items() if shutil.which(command) is None]
    if not missing:
        return
    print(f"{name}: installing {' '.join(missing)}", file=sys.stderr, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, stdout=sys.stderr, env=env)


def build_project(build):
    """A fresh machine: the project's own packages and a build first, as scripts/test does."""
    script = '. "$1/scripts/lib.sh" && install_dependencies && build_ndproxy'
    subprocess.run(["bash", "-c", script, "bash", REPO], check=True,
                   env=dict(os.environ, NDPROXY_BUILD=build))


def enter(script, argv, run_size="64m"):
    """Runs `script` ARGV again inside the sandbox, unless already there; returns only there.
    `run_size`: the size of the private /run, where the scripts keep their logs."""
    if isolated():
        os.environ.setdefault("NDPROXY_BENCH_STARTED", str(time.time()))
        return
    env = dict(os.environ, NDPROXY_ISOLATED_RUN_SIZE=run_size, **{_MARK: "1"})
    env.setdefault("NDPROXY_BENCH_STARTED", str(time.time()))
    os.execve(RUN_ISOLATED, [RUN_ISOLATED, "--exec", "/usr/bin/python3", "-B",
                             os.path.abspath(script), *argv], env)
