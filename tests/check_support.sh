# Start-up shared by the shell checks (tests/*_check.sh), sourced by bash:
#   . "$(dirname "$0")/check_support.sh"
#   check_kmsload "${1:-}"       # the program: the path given, else build/kmsload
#   check_need promtool curl     # the tools the check runs
#   check_tmp                    # $tmp, emptied on exit (kept and named when the check failed)
#   check_host [ARGS...]         # `kmsload host --metrics` on loopback: $target, $host_url
#   check_watch [ARGS...]        # `kmsload watch $target --interval 1s --metrics`: $watch_url
# A tool that is missing ends the check with exit 77, which ctest reports as skipped (the tests
# are registered with SKIP_RETURN_CODE 77); with KMSLOAD_CHECKS_REQUIRED=1, as .ci/run sets, it is
# a failure (exit 2) instead, so CI never passes a check it did not run. Every process started
# with check_bg is stopped on exit; every wait is bounded; everything listens on loopback.
check_name=$(basename "$0" .sh)
check_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pids=()
tmp=""
check_keep=0

fail() {
    check_keep=1
    echo "$check_name: FAIL: $*" >&2
    exit 1
}

check_kmsload() {
    kmsload=${1:-}
    if [ -z "$kmsload" ]; then
        for k in "$check_here/build/kmsload" "$check_here/build/emulator/cmd/kmsload"; do
            [ -x "$k" ] && kmsload=$k && break
        done
    fi
    case $kmsload in /*) ;; *) kmsload="$(pwd)/$kmsload" ;; esac
    [ -x "$kmsload" ] || { echo "$check_name: no kmsload binary (build it, or pass its path)" >&2; exit 2; }
}

check_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null && continue
        if [ "${KMSLOAD_CHECKS_REQUIRED:-0}" = 1 ]; then
            echo "$check_name: $tool is missing and KMSLOAD_CHECKS_REQUIRED=1 (.ci/setup --metrics --browser installs the tools)" >&2
            exit 2
        fi
        echo "$check_name: skipped: $tool is missing (.ci/setup --metrics --browser installs it)" >&2
        exit 77
    done
}

check_cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -n "$tmp" ] || return 0
    if [ "$check_keep" = 1 ]; then echo "$check_name: logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}

check_tmp() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmsload-$check_name.XXXXXX")
    trap check_cleanup EXIT
}

# The text after PREFIX on the first line of FILE that has it, waiting up to 10 s.
wait_line() {
    local file=$1 prefix=$2 i
    for i in $(seq 100); do
        if grep -q "^$prefix" "$file" 2>/dev/null; then
            grep -m1 "^$prefix" "$file" | sed "s|^$prefix||"
            return 0
        fi
        sleep 0.1
    done
    fail "no line \"$prefix\" in $file within 10 s: $(cat "$file" 2>/dev/null)"
}

check_host() {
    "$kmsload" host --listen 127.0.0.1:0 --metrics 127.0.0.1:0 "$@" >"$tmp/host.out" 2>"$tmp/host.err" &
    pids+=($!)
    target=$(wait_line "$tmp/host.out" "kmsload host: listening on ")
    host_url=$(wait_line "$tmp/host.out" "kmsload host: metrics on ")
}

check_watch() {
    "$kmsload" watch "$target" --interval 1s --metrics 127.0.0.1:0 "$@" >"$tmp/watch.out" 2>"$tmp/watch.err" &
    pids+=($!)
    watch_url=$(wait_line "$tmp/watch.out" "kmsload watch: metrics on ")
}

# The README's alert rules, from the yaml block after its "alert-rules" marker, into FILE.
check_alert_rules() {
    awk '/<!-- alert-rules -->/{on=1; next} on && /^```yaml/{inblock=1; next} inblock && /^```/{exit} inblock' \
        "$check_here/README.md" >"$1"
    [ -s "$1" ] || fail "README.md has no yaml block after <!-- alert-rules -->"
}
