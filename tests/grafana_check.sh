#!/usr/bin/env bash
# docs/grafana/kmsload.json against real pages: a real Prometheus scrapes `kmsload host
# --metrics`, `kmsload watch HOST --metrics` (its /metrics) and the same watcher's /probe for
# that host (job kms-probe, relabelled as docs/prometheus/kmsload-probe.yml does), then EVERY
# PromQL expression of the dashboard is run through Prometheus's API: each must succeed and
# return at least one series, so no panel of the dashboard is empty or broken.
#   tests/grafana_check.sh [PATH_TO_KMSLOAD]   (needs prometheus, curl and jq; skipped without)
# Loopback only; every wait bounded; every process this script started is stopped on exit.
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
check_need prometheus curl jq
check_tmp

dashboard="$check_here/docs/grafana/kmsload.json"
jq -e '.panels | length > 0' "$dashboard" >/dev/null || fail "$dashboard: not a dashboard"
check_host
host_metrics=$(echo "$host_url" | sed -E 's|^http://([^/]+)/metrics$|\1|')
check_watch --cmid-seed grafana-check
watch_metrics=$(echo "$watch_url" | sed -E 's|^http://([^/]+)/metrics$|\1|')

cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: kmsload-host
    static_configs: [{targets: ['$host_metrics']}]
  - job_name: kms-watch
    static_configs: [{targets: ['$watch_metrics']}]
  - job_name: kms-probe
    metrics_path: /probe
    params: {module: [default]}
    scrape_timeout: 1s
    static_configs: [{targets: ['$target']}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '$watch_metrics'}
YAML
check_prometheus "$tmp/prometheus.yml"
query_until "the three jobs are scraped" 'count(up == 1)' ',"3"]'

n=0
while IFS= read -r expr; do
    n=$((n + 1))
    query_until "dashboard query $n: $expr" "$expr" '"status":"success"' '"result":[{'
done < <(jq -r '.. | objects | select(has("expr")) | .expr' "$dashboard")
[ "$n" -gt 0 ] || fail "no PromQL expression found in $dashboard"
echo "ok   all $n dashboard queries return data"
