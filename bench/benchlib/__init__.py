"""Helpers shared by the benchmark scripts in bench/ (suite, responder, sources, mirror, migration).

The scripts stand on the namespace tests' harness: importing this package puts tests/netns on
sys.path, so that they build their networks with topology.py and run ndproxyd with harness.py.
"""

import os
import sys

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
NETNS_TESTS = os.path.join(REPO, "tests", "netns")

if NETNS_TESTS not in sys.path:
    sys.path.insert(0, NETNS_TESTS)
