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
# Prometheus on a free loopback port: the first of a range nothing answers on, and the next one
# when another process took it meanwhile (Prometheus then exits at once).
prom_port=""
for p in $(seq 19090 19190); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
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

# Asks PROMQL until the answer contains every PATTERN (up to the 60 s budget).
deadline=$((SECONDS + 60))
query_until() {
    local what=$1 promql=$2; shift 2
    local answer=""
    while [ "$SECONDS" -lt "$deadline" ]; do
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
