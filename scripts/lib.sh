# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: install what building and testing ndproxy needs (on
# Debian 12 or 13), then configure and build into build/. Source it; it defines functions only.

NDPROXY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NDPROXY_BUILD=${NDPROXY_BUILD:-$NDPROXY_ROOT/build}

# What the package build needs comes from debian/control's Build-Depends (apt-get build-dep
# reads it, and brings build-essential, which dpkg-buildpackage always requires), so the two
# lists cannot drift apart. These are the rest: clang for the sanitizer and fuzzing build, the
# package test's tools, the style check's (check_style below), and what the namespace tests run
# (iproute2, ping, scapy, ...).
NDPROXY_PACKAGES=(
    clang libclang-rt-dev
    # The fast path's BPF program (src/bpf): also Build-Depends, listed so that a tree
    # configured without build-dep finds them.
    bpftool libbpf-dev linux-libc-dev
    # clang-format is 14 on Debian 12 and 19 on Debian 13, and the two disagree on a few
    # constructs; both releases have clang-format-19, so the tree is checked against both.
    clang-format clang-format-19 shellcheck
    dpkg-dev lintian man-db systemd
    iproute2 iputils-ping ndisc6 tcpdump python3 python3-scapy jq procps
    # README "Security": its nftables bridge example runs in tests/netns/test_security_example.py.
    nftables
    # The Pacemaker resource agent's test (tests/netns/test_ocf.py): ocf-shellfuncs and
    # ocf-tester, and xmllint, which ocf-tester needs and resource-agents only recommends.
    resource-agents libxml2-utils
    # tests/packaging/test-systemd: a Debian system made with debootstrap and booted with
    # systemd-nspawn, for the package under a real systemd.
    debootstrap systemd-container
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

# The repository's files, tracked or new, without what .gitignore excludes (the build trees);
# a copy without git (an unpacked source package) is walked instead, build trees left out.
repository_files() {
    if git -C "$NDPROXY_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$NDPROXY_ROOT" ls-files --cached --others --exclude-standard
    else
        (cd "$NDPROXY_ROOT" && find . \( -path './build*' -o -path './obj-*' -o -name .git \) \
            -prune -o -type f -print | sed 's|^\./||')
    fi
}

# Shell scripts, told by their first line rather than listed, so that a new one is checked
# without anyone remembering to add it: a #! naming sh, bash, dash or ksh, or the
# "# shellcheck shell=" directive of a sourced library (scripts/lib.sh).
shell_scripts() {
    local file first
    while IFS= read -r file; do
        [[ -f $NDPROXY_ROOT/$file ]] || continue
        first=
        IFS= read -r -n 200 first <"$NDPROXY_ROOT/$file" || [[ -n $first ]] || continue
        if [[ $first =~ ^#!.*[/[:space:]](sh|bash|dash|ksh)([[:space:]]|$) ||
            $first =~ ^#[[:space:]]*shellcheck[[:space:]]+shell= || $file == *.sh ]]; then
            echo "$file"
        fi
    done < <(repository_files)
}

cxx_files() {
    repository_files | grep -E '\.(c|cc|cpp|cxx|h|hh|hpp)$' || true
}

# Style, before anything is built: every C++ file as .clang-format says, with each clang-format
# of the supported releases that is installed (14 on Debian 12, 19 on both; they differ on a
# few constructs, docs/design.md §Style), and every shell script clean under shellcheck.
check_style() {
    local -a cxx scripts formatters=() failed=()
    local formatter version
    mapfile -t cxx < <(cxx_files)
    mapfile -t scripts < <(shell_scripts)
    if ((${#cxx[@]} == 0 || ${#scripts[@]} == 0)); then
        echo "style check: found no C++ files or no shell scripts in $NDPROXY_ROOT" >&2
        return 1
    fi
    for formatter in clang-format clang-format-19; do
        command -v "$formatter" >/dev/null || continue
        version=unknown
        [[ $("$formatter" --version) =~ [0-9]+\.[0-9.]+ ]] && version=${BASH_REMATCH[0]}
        # clang-format on Debian 13 is clang-format-19 itself: check each version once.
        [[ " ${formatters[*]} " == *" $version "* ]] && continue
        formatters+=("$version")
        say "Style: clang-format $version over ${#cxx[@]} C++ files"
        if ! (cd "$NDPROXY_ROOT" && "$formatter" --dry-run -Werror "${cxx[@]}"); then
            failed+=("clang-format $version: reformat the files named above with '$formatter -i FILE'; where the versions disagree, write the code so that they agree (docs/design.md §Style)")
        fi
    done
    ((${#formatters[@]} > 0)) || failed+=("no clang-format installed")
    say "Style: shellcheck over ${#scripts[@]} shell scripts"
    if ! command -v shellcheck >/dev/null; then
        failed+=("shellcheck is not installed")
    elif ! (cd "$NDPROXY_ROOT" && shellcheck -x "${scripts[@]}"); then
        failed+=("shellcheck: fix the findings above, or disable one with a '# shellcheck disable=SCnnnn' line that says why")
    fi
    if ((${#failed[@]} > 0)); then
        printf 'style check failed: %s\n' "${failed[@]}" >&2
        return 1
    fi
}
