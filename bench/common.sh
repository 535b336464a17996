# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (sourced, not run).

wait_for() {  # wait_for SECONDS COMMAND...: polls a condition with a deadline
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.05
    done
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
switches() {  # voluntary + involuntary context switches: one per wake-up of a sleeping process
    awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {n += $2} END {print n}' "/proc/$1/status"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }   # field KEY "k=v k=v"
router() { ip netns exec router "$@"; }
stat() {  # stat median|max|min VALUES...: of the non-empty values
    local how=$1; shift
    printf '%s\n' "$@" | awk -v how="$how" 'NF {v[n++] = $1} END {
        if (n == 0) { print "n/a"; exit }
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        if (how == "median") x = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
        else if (how == "max") x = v[n - 1]; else x = v[0]
        print x }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt_int() {  # 12345.6 -> 12,346
    if [[ $1 =~ ^[0-9.]+$ ]]; then printf '%.0f\n' "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; else echo "$1"; fi
}
