# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: install what building and testing ndproxy needs (on
# Debian 12 or 13), then configure and build into build/. Source it; it defines functions only.

NDPROXY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NDPROXY_BUILD=${NDPROXY_BUILD:-$NDPROXY_ROOT/build}

# What the package build needs comes from debian/control's Build-Depends (apt-get build-dep
# reads it, and brings build-essential, which dpkg-buildpackage always requires), so the two
# lists cannot drift apart. These are the rest: clang for the sanitizer and fuzzing build, the
# package test's tools, and what the namespace tests run (iproute2, ping, scapy, ...).
NDPROXY_PACKAGES=(
    clang libclang-rt-dev clang-format
    dpkg-dev lintian man-db systemd
    iproute2 iputils-ping ndisc6 tcpdump python3 python3-scapy jq procps
    # README "Security": its nftables bridge example runs in tests/netns/test_security_example.py.
    nftables
    # The Pacemaker resource agent's test (tests/netns/test_ocf.py): ocf-shellfuncs and
    # ocf-tester, and xmllint, which ocf-tester needs and resource-agents only recommends.
    resource-agents libxml2-utils
)

say() { printf '\n==> %s\n' "$*"; }

# Runs a command with its output kept back, shown only if it fails.
quietly() {
    local log rc=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        cat "$log" >&2
        echo "failed (exit $rc): $*" >&2
    fi
    rm -f "$log"
    return "$rc"
}

missing_packages() {
    local pkg
    for pkg in "${NDPROXY_PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
            echo "$pkg"
        fi
    done
}

# dpkg-checkbuilddeps (dpkg-dev) checks Build-Depends and build-essential exactly as
# dpkg-buildpackage will.
build_dependencies_met() {
    command -v dpkg-checkbuilddeps >/dev/null &&
        (cd "$NDPROXY_ROOT" && dpkg-checkbuilddeps) >/dev/null 2>&1
}

install_dependencies() {
    local missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)) && build_dependencies_met; then
        say "debian/control's Build-Depends and all ${#NDPROXY_PACKAGES[@]} test packages are installed"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing packages, and installing them needs root:" \
            "${missing[*]:-} (and debian/control's Build-Depends)" >&2
        return 1
    fi
    say "Installing debian/control's Build-Depends${missing:+ and ${missing[*]}}"
    export DEBIAN_FRONTEND=noninteractive
    # Always refresh the package lists first: on a fresh machine they may be empty or stale.
    quietly apt-get update
    quietly apt-get build-dep -y --no-install-recommends "$NDPROXY_ROOT"
    if ((${#missing[@]} > 0)); then
        quietly apt-get install -y --no-install-recommends "${missing[@]}"
    fi
    build_dependencies_met || {
        (cd "$NDPROXY_ROOT" && dpkg-checkbuilddeps) >&2
        return 1
    }
}

build_ndproxy() {
    say "Configuring into ${NDPROXY_BUILD}"
    cmake -S "$NDPROXY_ROOT" -B "$NDPROXY_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    say "Building"
    cmake --build "$NDPROXY_BUILD"
}

# The CMakePresets.json "sanitize" tree: clang, AddressSanitizer + UndefinedBehaviorSanitizer,
# and the libFuzzer targets. Everything is built: the test suite runs again under it.
build_sanitized() {
    say "Configuring the sanitizer build into $NDPROXY_ROOT/build-sanitize"
    (cd "$NDPROXY_ROOT" && cmake --preset sanitize)
    say "Building it"
    (cd "$NDPROXY_ROOT" && cmake --build --preset sanitize)
}
