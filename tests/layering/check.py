#!/usr/bin/python3
"""Proves that the libraries' dependencies point inward (docs/design.md §Layout).

For every library and every folder it must not reach, one of the library's own source files is
compiled again, with exactly its build command, after an added `#include "FOLDER/..."`: the
compiler must fail to find the header. The same file with an include it may make must compile,
so that a broken command cannot pass for a refused include. Then no core file may include a
kernel, socket or netlink header.

Usage: check.py BUILD_DIR SOURCE_DIR (BUILD_DIR/compile_commands.json must exist: the project
sets CMAKE_EXPORT_COMPILE_COMMANDS).
"""
import json
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

# Which folders each library may include from, itself included.
ALLOWED = {
    "core": {"core"},
    "codec": {"codec", "core"},
    "linux": {"linux", "codec", "core"},
    "daemon": {"daemon", "linux", "core"},
    "ctl": {"ctl", "codec", "core"},
}
# A header of each folder to include.
HEADER = {
    "core": "core/ipv6.hpp",
    "codec": "codec/netlink_codec.hpp",
    "linux": "linux/netlink_kernel.hpp",
    "daemon": "daemon/event_loop.hpp",
    "ctl": "ctl/render.hpp",
}
# What the core must not include: the kernel's and the sockets' types live in linux/.
FORBIDDEN_IN_CORE = re.compile(
    r'#\s*include\s*<(linux/|sys/socket\.h|netinet/|netpacket/|net/|libmnl/|netlink/|systemd/)')


def compile_with(command, source, probe_dir, include):
    """Runs `command` (the build's, for `source`) on a copy of `source` with `include` added."""
    probe = probe_dir / source.name
    probe.write_text(f'#include "{include}"\n' + source.read_text())
    argv = shlex.split(command)
    out = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        out.append(str(probe) if arg == str(source) else arg)
    out += ["-fsyntax-only"]
    return subprocess.run(out, capture_output=True, text=True)


def main():
    build, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    entries = json.loads((build / "compile_commands.json").read_text())
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        probe_dir = pathlib.Path(tmp)
        for library, allowed in ALLOWED.items():
            folder = (root / "src" / library).resolve()
            entry = next((e for e in entries
                          if pathlib.Path(e["file"]).resolve().parent == folder
                          and not e["file"].endswith("main.cpp")), None)
            if entry is None:
                failures.append(f"{library}: no compile command in {build}")
                continue
            source = pathlib.Path(entry["file"])
            control = compile_with(entry["command"], source, probe_dir, HEADER[library])
            if control.returncode != 0:
                failures.append(f"{library}: {source.name} does not compile even with an allowed "
                                f"include:\n{control.stderr}")
                continue
            for other, header in HEADER.items():
                if other in allowed:
                    continue
                checked += 1
                result = compile_with(entry["command"], source, probe_dir, header)
                missing = re.search(re.escape(header) + r"'?:? (No such file|file not found)",
                                    result.stderr)
                if result.returncode == 0 or not missing:
                    failures.append(f"{library} can include {header} ({source.name}):\n"
                                    f"{result.stderr[:2000]}")
    for path in sorted((root / "src" / "core").glob("*.[ch]pp")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN_IN_CORE.search(line):
                failures.append(f"{path.relative_to(root)}:{number}: the core includes a "
                                f"kernel or socket header: {line.strip()}")
    for failure in failures:
        print("layering:", failure, file=sys.stderr)
    if failures:
        return 1
    print(f"layering: {checked} includes that run the wrong way are refused; the core includes "
          "no kernel or socket header")
    return 0


if __name__ == "__main__":
    sys.exit(main())
