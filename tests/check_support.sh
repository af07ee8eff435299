# Start-up shared by the shell checks (tests/*_check.sh), sourced by bash:
#   . "$(dirname "$0")/check_support.sh"
#   check_kmsload "${1:-}"       # the program: the path given, else build/kmsload
#   check_need promtool curl     # the tools the check runs
#   check_tmp                    # $tmp, emptied on exit (kept and named when the check failed)
#   check_host [ARGS...]         # `kmsload host --metrics` on loopback: $target, $host_url
#   check_watch [ARGS...]        # `kmsload watch $target --interval 1s --metrics`: $watch_url
#   check_prometheus CONFIG      # a real Prometheus on a free loopback port: $api (its /api/v1)
#   query_until WHAT PROMQL PATTERN...  # asks until the answer holds every PATTERN (60 s budget)
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

# Prometheus (Debian's package) with CONFIG on a free loopback port: the first of a range nothing
# answers on, and the next one when another process took it meanwhile (Prometheus then exits at
# once). Sets $api to its HTTP API; its TSDB lives in $tmp.
check_prometheus() {
    local config=$1 p i prom_pid
    prom_port=""
    for p in $(seq 19090 19190); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        prometheus --config.file="$config" --storage.tsdb.path="$tmp/data" \
            --web.listen-address="127.0.0.1:$p" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
        prom_pid=$!
        for i in $(seq 300); do # ready within 30 s, or it exited (port taken)
            curl -fsS --max-time 1 "http://127.0.0.1:$p/-/ready" >/dev/null 2>&1 && prom_port=$p && break
            kill -0 "$prom_pid" 2>/dev/null || break
            sleep 0.1
        done
        if [ -n "$prom_port" ]; then
            pids+=("$prom_pid")
            break
        fi
        kill -0 "$prom_pid" 2>/dev/null && { kill "$prom_pid"; fail "Prometheus not ready after 30 s"; }
        wait "$prom_pid" 2>/dev/null || true
    done
    [ -n "$prom_port" ] || { tail -n 20 "$tmp/prometheus.log" >&2; fail "Prometheus did not start on any port of 19090..19190"; }
    api="http://127.0.0.1:$prom_port/api/v1"
    query_deadline=$((SECONDS + 60))
}

# Asks PROMQL until the answer contains every PATTERN (up to the 60 s budget from the start).
query_until() {
    local what=$1 promql=$2; shift 2
    local answer=""
    while [ "$SECONDS" -lt "$query_deadline" ]; do
        answer=$(curl -fsS --max-time 5 -G "$api/query" --data-urlencode "query=$promql" 2>/dev/null || true)
        local all=1 pat
        for pat in "$@"; do
            printf '%s' "$answer" | grep -qF -- "$pat" || all=0
        done
        if [ "$all" = 1 ]; then
            echo "ok   $what"
            return 0
        fi
        sleep 0.5
    done
    echo "last answer: $answer" >&2
    tail -n 20 "$tmp/prometheus.log" >&2
    fail "$what: Prometheus never answered $promql with $*"
}
