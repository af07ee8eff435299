#!/usr/bin/env bash
# kmsload's benchmarks: builds a Release tree (build-release/) and prints the figures the README
# quotes. Everything runs on loopback against the reference host. Usage:
#   tests/bench/run.sh [codec|host|engine|metrics|ceiling|all]        (default: all)
# ceiling: the loopback ceiling for this workload (tests/bench/null-exchange.c: the packet pattern
# of one V6 activation over a fresh TCP connection, no KMS work) and, in the same run, the
# reference host's and the generator's rates as a share of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
build=build-release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKMSLOAD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
kms="$build/kmsload"
work=$(mktemp -d "${TMPDIR:-/tmp}/kmsload-bench.XXXXXX")
host_pid=""
null_pid=""
cleanup() {
    [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null || true
    [ -n "$null_pid" ] && kill "$null_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Prints "requests, wall seconds, rate, errors, model disagreements, p99" from a summary.json.
figures() {
    python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["outcomes"]["activated"] + s["outcomes"]["below-threshold"]
print(f'  {s["requests"]} requests in {s["wall_seconds"]:.2f} s = {s["requests"]/s["wall_seconds"]:.0f}/s, '
      f'errors {s["requests"] - ok}, model disagreements {s["model"]["mismatches"]}, '
      f'latency p50 {s["latency_us"]["p50"]/1000:.2f} ms p99 {s["latency_us"]["p99"]/1000:.2f} ms')
PY
}

# Runs kmsload and reports its wall time and peak resident memory.
timed_run() {
    /usr/bin/time -f "  process: %e s wall, %U s user, %S s system, %M KB max resident" "$kms" "$@"
}

scenario() { # NAME BODY...
    local file="$work/$1.ini"
    shift
    printf '%s\n' "$@" >"$file"
    echo "$file"
}

# The engine's sustained-throughput scenario: 330,000 machines joining over a simulated day, 128
# in flight, a new TCP connection per activation, against the embedded host.
throughput_scenario() {
    scenario tp "[scenario]" "name = throughput" "clock = virtual" "duration = 1d" "tick = 10m" \
        "concurrency = 128" "[population clients]" "product = win10-pro" "machines = 330000" \
        "join_over = 1d" "[expect]" "error_rate = 0"
}

# null-exchange's rate (exchanges/s) over SECONDS with 128 in flight, server and client on
# loopback, each one epoll thread (as kmsload's host and generator).
null_rate() {
    local port
    for port in $(seq 19290 19390); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        "$build/kmsload-null-exchange" server "$port" >"$work/null-server.log" 2>&1 &
        null_pid=$!
        sleep 0.3
        if kill -0 "$null_pid" 2>/dev/null; then break; fi
        null_pid=""
    done
    [ -n "$null_pid" ] || { echo "null-exchange: no free port in 19290..19390" >&2; exit 1; }
    "$build/kmsload-null-exchange" client "$port" 128 "$1" | sed -n 's|.*: \([0-9.]*\)/s$|\1|p'
    kill "$null_pid" 2>/dev/null || true
    wait "$null_pid" 2>/dev/null || true
    null_pid=""
}

if [ "$what" = ceiling ] || [ "$what" = all ]; then
    echo "== kmsload against the loopback ceiling (null-exchange: same packets, fresh connections,"
    echo "   no KMS work), one run, at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    before=$(null_rate 10)
    "$build/kmsload-bench-host" --seconds 10 --concurrency 32 >"$work/bench-host.out" || true
    host=$(sed -n 's|^host activations/s: ||p' "$work/bench-host.out")
    host_failures=$(sed -n 's|^  failures *\([0-9]*\).*|\1|p' "$work/bench-host.out")
    f=$(throughput_scenario)
    "$kms" run "$f" --out "$work/ceiling-tp" -q || true
    generator=$(python3 - "$work/ceiling-tp/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["outcomes"]["activated"] + s["outcomes"]["below-threshold"]
print(f'{s["requests"] / s["wall_seconds"]:.0f} {s["requests"] - ok}')
PY
)
    after=$(null_rate 10)
    python3 - "$before" "$after" "${host:-0}" "${host_failures:-?}" $generator <<'PY'
import sys
before, after, host = (float(v) for v in sys.argv[1:4])
host_failures = sys.argv[4]
gen, gen_errors = (float(v) for v in sys.argv[5:7])
ceiling = (before + after) / 2
print(f"  null exchange (ceiling):       {ceiling:8.0f}/s  (before {before:.0f}/s, after {after:.0f}/s; 128 in flight)")
print(f"  reference host (bench-host):   {host:8.0f}/s  = {100 * host / ceiling:3.0f} % of the ceiling "
      f"(32 in flight, {host_failures} failures)")
print(f"  generator + embedded host:     {gen:8.0f}/s  = {100 * gen / ceiling:3.0f} % of the ceiling "
      f"(kmsload run, 128 in flight, {gen_errors:.0f} errors)")
PY
    rm -rf "$work/ceiling-tp"
fi

if [ "$what" = codec ] || [ "$what" = all ]; then
    echo "== codec: one V6 request built + its response verified"
    "$build/kmsload-bench" --seconds 2 | tail -n 1
fi

if [ "$what" = host ] || [ "$what" = all ]; then
    echo "== reference host: activations/s, V6, a new TCP connection per activation"
    "$build/kmsload-bench-host" --seconds 10 --concurrency 32 | tail -n 3
fi

if [ "$what" = metrics ] || [ "$what" = all ]; then
    echo "== metrics: CPU per request recorded by the run and host collectors, per /metrics page"
    "$build/kmsload-bench-metrics"
fi

if [ "$what" = engine ] || [ "$what" = all ]; then
    echo "== engine + embedded host: sustained throughput, new TCP connection per activation (~30 s)"
    f=$(throughput_scenario)
    timed_run run "$f" --out "$work/tp" -q || true
    figures "$work/tp/summary.json"

    echo "== engine + embedded host: the same with reuse_connections = on"
    timed_run run "$f" --out "$work/tpr" -q --set reuse_connections=on || true
    figures "$work/tpr/summary.json"

    echo "== 10,000-machine fleet, 90 simulated days, half leaves at day 40 (30-day expiry)"
    f=$(scenario expiry "[scenario]" "name = expiry-90d" "clock = virtual" "duration = 90d" \
        "tick = 10m" "concurrency = 256" "[population clients]" "product = win10-pro" \
        "machines = 10000" "join_over = 1d" "leave = 0.5" "leave_at = 40d" "[expect]" \
        "model_mismatches = 0" "final_count.windows = 50")
    timed_run run "$f" --out "$work/expiry" -q || true
    figures "$work/expiry/summary.json"

    echo "== 1,000,000-machine virtual-clock fleet (every machine activates once in a simulated day)"
    f=$(scenario million "[scenario]" "name = million" "clock = virtual" "duration = 1d" \
        "tick = 10m" "concurrency = 256" "reuse_connections = on" "[population clients]" \
        "product = win10-pro" "machines = 1000000" "join_over = 1d" "[expect]" \
        "model_mismatches = 0")
    timed_run run "$f" --out "$work/million" -q || true
    figures "$work/million/summary.json"
    rm -f "$work/million/events.csv"

    echo "== 10,000 concurrent connections held (host answers after 3 s; separate host process)"
    "$kms" host --listen 127.0.0.1:0 --fault latency=3s --max-connections 12000 \
        --idle-timeout 60s >"$work/host.out" 2>&1 &
    host_pid=$!
    for _ in $(seq 50); do grep -q "listening on" "$work/host.out" && break; sleep 0.1; done
    target=$(sed -n 's/^kmsload host: listening on //p' "$work/host.out" | head -n 1)
    f=$(scenario held "[scenario]" "name = held" "clock = real" "duration = 20s" \
        "concurrency = 10000" "timeout = 15s" "[population clients]" "product = win10-pro" \
        "machines = 10000" "join_over = 0" "[expect]" "error_rate = 0" "requests = 10000")
    timed_run run "$f" --target "$target" --out "$work/held" -q || true
    figures "$work/held/summary.json"
    kill -INT "$host_pid"
    wait "$host_pid" 2>/dev/null || true
    host_pid=""
fi
