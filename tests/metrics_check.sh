#!/usr/bin/env bash
# Validates what kmsload serves at /metrics with Prometheus's own tool: `promtool check metrics`
# (the text format and the naming conventions) on the pages of `kmsload host --metrics`,
# `kmsload run --metrics` and `kmsload watch --metrics`, each with live data; then
# `promtool check rules` on the alert rules the README gives users to copy.
#   tests/metrics_check.sh [PATH_TO_KMSLOAD]      (needs promtool and curl: .ci/setup --metrics;
#   ctest runs it as shell/metrics and reports it skipped when they are missing)
# Everything listens on loopback ports the kernel picks; every wait is bounded; every process this
# script started is stopped on exit.
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
check_need promtool curl
check_tmp

# Fetches URL into FILE until it contains PATTERN (up to 15 s), then runs promtool on it.
check_page() {
    local what=$1 url=$2 file=$3 pattern=$4 i
    for i in $(seq 150); do
        curl -fsS --max-time 5 "$url" >"$file" 2>/dev/null && grep -q "$pattern" "$file" && break
        sleep 0.1
    done
    grep -q "$pattern" "$file" || fail "$what: /metrics never showed $pattern"
    if ! promtool check metrics <"$file" >"$file.promtool" 2>&1; then
        cat "$file.promtool" >&2
        fail "$what: promtool check metrics"
    fi
    echo "ok   $what: $(grep -vc '^#' "$file") samples in $(grep -c '^# TYPE' "$file") families pass promtool check metrics"
}

# host, with faults so every family has data, loaded by a few probes
check_host --fault latency=2ms@0.3 --state "$tmp/state.json"
for product in win10-pro ws2022-std office2021-proplus office2010; do
    "$kmsload" probe --cmid random -p "$product" "$target" >/dev/null || true
done
"$kmsload" probe --kms 11111111-2222-3333-4444-555555555555 "$target" >/dev/null || true
check_page "kmsload host --metrics" "$host_url" "$tmp/host.prom" 'hresult="0xC004F042"'

# watch against that host: every round one probe per application
check_watch
check_page "kmsload watch --metrics" "$watch_url" "$tmp/watch.prom" 'kmsload_watch_answer_info{'

# run: a real-clock soak (its own embedded host) scraped while it goes on, then interrupted
(cd "$tmp" && exec "$kmsload" run "$check_here/scenarios/smoke.ini" --set clock=real --set duration=2m \
    --set 'population clients.join_over=2s' --set 'population office.join_over=2s' \
    --metrics 127.0.0.1:0 --out "$tmp/run" --no-report -q) >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=($run_pid)
run_url=$(wait_line "$tmp/run.err" "kmsload run: metrics on ")
check_page "kmsload run --metrics" "$run_url" "$tmp/run.prom" 'kmsload_run_requests_total{'
kill -INT "$run_pid"
status=0
wait "$run_pid" || status=$?
[ "$status" -eq 1 ] || fail "kmsload run after SIGINT: exit $status (1 expected: interrupted)"
[ -s "$tmp/run/summary.json" ] || fail "the interrupted run left no summary.json"

# The README's alert rules, extracted from the block after its "alert-rules" marker.
check_alert_rules "$tmp/rules.yml"
if ! promtool check rules "$tmp/rules.yml" >"$tmp/rules.promtool" 2>&1; then
    cat "$tmp/rules.promtool" >&2
    fail "promtool check rules on the README's alert rules"
fi
echo "ok   README alert rules: $(grep -c -- '- alert:' "$tmp/rules.yml") rules pass promtool check rules"
