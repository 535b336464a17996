"""Figures as the benchmark tools print them ("key=value ..."), the statistics over them, and the
way the reports format them."""

import re

_NUMBER = re.compile(r"^[0-9.]+$")


def field(key, text):
    """The value of KEY in a "k=v k=v" line, or "" (a missing figure)."""
    for token in (text or "").split():
        name, _, value = token.partition("=")
        if name == key:
            return value
    return ""


def is_number(value):
    return bool(_NUMBER.match(str(value)))


def _shown(x):
    """A computed number as awk prints it: integers whole, the rest to 6 significant digits."""
    return str(int(x)) if x == int(x) else f"{x:.6g}"


def stat(how, values):
    """median, max or min of the non-empty values; a value picked is returned as it was
    printed, an average of two as a number; "n/a" without values."""
    ordered = sorted((v for v in values if str(v).strip() != ""), key=float)
    if not ordered:
        return "n/a"
    n = len(ordered)
    if how == "max":
        return str(ordered[-1])
    if how == "min":
        return str(ordered[0])
    if n % 2:
        return str(ordered[n // 2])
    return _shown((float(ordered[n // 2 - 1]) + float(ordered[n // 2])) / 2)


def ratio(a, b):
    if is_number(a) and is_number(b) and float(b) > 0:
        return f"{float(a) / float(b):.2f}"
    return "n/a"


def fmt_int(value):
    """12345.6 -> 12,346; anything else (n/a, "") as it is."""
    return f"{float(value):,.0f}" if is_number(value) else str(value)


def num(value, otherwise=1e18):
    """A figure as a number for a check, or `otherwise` when it is missing."""
    return float(value) if is_number(value) else otherwise


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def _status(pid, key):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == key:
                return int(value.split()[0])
    raise AssertionError(f"no {key} for pid {pid}")


def hwm_kib(pid):
    """Peak resident set size (VmHWM), KiB."""
    return _status(pid, "VmHWM")


def switches(pid):
    """Voluntary + involuntary context switches: one per wake-up of a sleeping process."""
    return _status(pid, "voluntary_ctxt_switches") + _status(pid, "nonvoluntary_ctxt_switches")


def cpu_ticks(pid):
    """utime + stime, in clock ticks (os.sysconf("SC_CLK_TCK") a second)."""
    with open(f"/proc/{pid}/stat") as stat_file:
        fields = stat_file.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # fields 14 and 15 of proc(5)
