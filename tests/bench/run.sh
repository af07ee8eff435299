#!/usr/bin/env bash
# kmsload's benchmarks: builds a Release tree (build-release/) and prints the figures the README
# quotes. Everything runs on loopback against the reference host. Usage:
#   tests/bench/run.sh [codec|host|engine|metrics|all]        (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
build=build-release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKMSLOAD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
kms="$build/kmsload"
work=$(mktemp -d "${TMPDIR:-/tmp}/kmsload-bench.XXXXXX")
host_pid=""
cleanup() {
    [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null || true
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
    f=$(scenario tp "[scenario]" "name = throughput" "clock = virtual" "duration = 1d" "tick = 10m" \
        "concurrency = 128" "[population clients]" "product = win10-pro" "machines = 330000" \
        "join_over = 1d" "[expect]" "error_rate = 0")
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
