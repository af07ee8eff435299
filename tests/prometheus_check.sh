#!/usr/bin/env bash
# A real Prometheus server (Debian's prometheus package) scrapes `kmsload host --metrics` and
# `kmsload watch --interval 1s --metrics` every second and loads the README's alert rules; the
# script asks its HTTP API until the series arrive: the watcher's up and count, the host's count of
# the watcher's requests (one client per application however many rounds), and the rules loaded.
#   tests/prometheus_check.sh [PATH_TO_KMSLOAD]    (needs prometheus and curl: .ci/setup --metrics;
#   ctest runs it as shell/prometheus and reports it skipped when they are missing)
# Loopback only; the TSDB lives in a temporary directory; at most 30 s for Prometheus to start and
# 60 s for the series (about 8 s in all here); every process this script started is stopped on
# exit.
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
check_need prometheus curl
check_tmp

hostport() { echo "$1" | sed -E 's|^http://([^/]+)/metrics$|\1|'; }

check_host
host_metrics=$(hostport "$host_url")
check_watch --cmid-seed prometheus-check
watch_metrics=$(hostport "$watch_url")

check_alert_rules "$tmp/kms-alerts.yml"
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['$tmp/kms-alerts.yml']
scrape_configs:
  - job_name: kmsload-host
    static_configs:
      - targets: ['$host_metrics']
  - job_name: kms-watch
    static_configs:
      - targets: ['$watch_metrics']
YAML
check_prometheus "$tmp/prometheus.yml"

query_until "Prometheus scrapes both targets" 'sum(up{job=~"kmsload-host|kms-watch"})' '"result":[{"metric":{},"value":[' ',"2"]'
query_until "watch: the host answers every application" 'count(kmsload_watch_up == 1)' ',"2"]'
query_until "watch: the ePID and host build arrive as labels" 'kmsload_watch_answer_info{application="windows"}' '"host_build":"17763"' '"epid":"'
query_until "watch: count per application" 'kmsload_watch_clients{application="office2013"}' ',"1"]'
# Several rounds later the host still counts the watcher once per application.
query_until "host: several watch rounds answered" 'sum(kmsload_host_requests_total)' '"value":['
query_until "host: 3+ rounds, still one client per application" \
    'sum(kmsload_host_requests_total{application="windows"}) >= 3 and on() sum(kmsload_host_clients{application="windows"}) == 1' '"value":['
query_until "watch: probe latency histogram" 'histogram_quantile(0.5, sum by (le) (rate(kmsload_watch_probe_duration_seconds_bucket[10s])))' '"value":['
rules=$(curl -fsS --max-time 5 "$api/rules" || true)
for rule in KmsHostNotAnswering KmsCountBelowThreshold KmsHostSlow KmsWatchDown; do
    printf '%s' "$rules" | grep -q "\"name\":\"$rule\"" || fail "rule $rule not loaded: $rules"
done
echo "ok   the README's 4 alert rules are loaded"
# The watcher's Windows count (1) is below 25: the alert is pending (it fires after a day).
query_until "KmsCountBelowThreshold pending for windows" 'ALERTS{alertname="KmsCountBelowThreshold",application="windows"}' '"alertstate":"pending"'
