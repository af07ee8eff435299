#!/usr/bin/env bash
# The /probe exporter under a real Prometheus server (Debian's prometheus package): two
# `kmsload host` on loopback ports, `kmsload watch --metrics` with no target (the exporter alone),
# and the scrape job of docs/prometheus/kmsload-probe.yml — its relabelling unchanged, only the
# hosts, the exporter's address and the intervals replaced. Prometheus's API must show
# kmsload_probe_success 1 for both hosts, each under its own instance label, and the module's
# per-application series.
#   tests/prometheus_probe_check.sh [PATH_TO_KMSLOAD]    (needs prometheus, promtool and curl;
#   ctest runs it as shell/prometheus_probe and reports it skipped when they are missing)
# Loopback only; every wait bounded (30 s for Prometheus to start, 60 s for the series); every
# process this script started is stopped on exit.
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
check_need prometheus promtool curl
check_tmp

# The hosts start here, not in a $(...) subshell, so that their pids reach the cleanup.
"$kmsload" host --listen 127.0.0.1:0 >"$tmp/host1.out" 2>"$tmp/host1.err" &
pids+=($!)
"$kmsload" host --listen 127.0.0.1:0 --host-key ws2019,office2016 >"$tmp/host2.out" 2>"$tmp/host2.err" &
pids+=($!)
kms1=$(wait_line "$tmp/host1.out" "kmsload host: listening on ")
kms2=$(wait_line "$tmp/host2.out" "kmsload host: listening on ")
"$kmsload" watch --metrics 127.0.0.1:0 --timeout 800ms --cmid-seed probe-check >"$tmp/watch.out" 2>"$tmp/watch.err" &
pids+=($!)
probe_url=$(wait_line "$tmp/watch.out" "kmsload watch: metrics on ")
exporter=$(echo "$probe_url" | sed -E 's|^http://([^/]+)/probe.*$|\1|')

# The page itself passes promtool, and a probe of a dead port says so without failing the scrape.
curl -fsS --max-time 5 "http://$exporter/probe?target=$kms1" >"$tmp/probe.txt"
promtool check metrics <"$tmp/probe.txt" || fail "promtool check metrics refused the /probe page"
echo "ok   promtool check metrics passes on /probe"
grep -qx 'kmsload_probe_success 1' "$tmp/probe.txt" || fail "no success in $(cat "$tmp/probe.txt")"

config="$check_here/docs/prometheus/kmsload-probe.yml"
[ -s "$config" ] || fail "no $config"
{
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    sed -e "s|kms1.corp.example:1688|$kms1|; s|kms2.corp.example:1688|$kms2|" \
        -e "s|watcher.corp.example:9466|$exporter|" \
        -e "s|scrape_interval: 1m|scrape_interval: 1s|; s|scrape_timeout: 15s|scrape_timeout: 1s|" \
        "$config"
} >"$tmp/prometheus.yml"
grep -q "$kms1" "$tmp/prometheus.yml" && grep -q "replacement: $exporter" "$tmp/prometheus.yml" ||
    fail "the docs' config no longer has the placeholders this check replaces"
check_prometheus "$tmp/prometheus.yml"

query_until "Prometheus scrapes the exporter once per host" 'count(up{job="kms-probe"} == 1)' ',"2"]'
query_until "host 1: kmsload_probe_success 1 under its instance" \
    "kmsload_probe_success{instance=\"$kms1\"}" "\"instance\":\"$kms1\"" ',"1"]'
query_until "host 2: kmsload_probe_success 1 under its instance" \
    "kmsload_probe_success{instance=\"$kms2\"}" "\"instance\":\"$kms2\"" ',"1"]'
query_until "both hosts: success 1" 'count(kmsload_probe_success{job="kms-probe"} == 1)' ',"2"]'
query_until "per application: the count (one client: this exporter)" \
    "kmsload_probe_clients{instance=\"$kms2\",application=\"office2013\"}" ',"1"]'
query_until "the ePID names each host's build" \
    "kmsload_probe_answer_info{instance=\"$kms2\",application=\"windows\"}" '"host_build":"17763"'
