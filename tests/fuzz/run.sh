#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, sanitizers on) and runs each for a bounded
# time on a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/ stays untouched).
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     SECONDS per target, default 60; default all targets
#
# Prints one summary line per target and exits non-zero if any target found a crash, a timeout
# (> 5 s for one input) or an out-of-memory. Findings are kept under build-fuzz/findings/<target>/
# (reproduce with: build-fuzz/<target> <file>); the log of each run next to them.
set -euo pipefail

T="${1:-60}"
shift || true
if ! [[ "$T" =~ ^[0-9]+$ ]] || [ "$T" -lt 1 ]; then
    echo "usage: $0 [SECONDS [TARGET...]]" >&2
    exit 2
fi
ALL_TARGETS=(fuzz_bind_ack fuzz_response_pdu fuzz_kms_response fuzz_request fuzz_run_dir
    fuzz_scenario fuzz_catalog fuzz_host_state fuzz_eventlog)
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=("${ALL_TARGETS[@]}")
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD=build-fuzz

echo "== building fuzz targets (clang, $BUILD/)"
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DKMSLOAD_FUZZ=ON -DKMSLOAD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/fuzz-configure.log" 2>&1 ||
    { cat "$BUILD/fuzz-configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" >"$BUILD/fuzz-build.log" 2>&1 ||
    { tail -50 "$BUILD/fuzz-build.log" >&2; exit 1; }

max_len() {
    case "$1" in
    fuzz_bind_ack | fuzz_kms_response) echo 512 ;;
    fuzz_run_dir) echo 16384 ;; # events.csv rows and a summary.json
    fuzz_catalog) echo 65536 ;; # products.ini is 36 KB
    fuzz_eventlog) echo 16384 ;; # a few events of one export
    fuzz_scenario | fuzz_host_state) echo 16384 ;;
    *) echo 4096 ;; # streams of several PDUs
    esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/kmsload-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

failed=0
echo "== running each target for ${T}s"
for t in "${TARGETS[@]}"; do
    bin="$BUILD/$t"
    seeds="tests/fuzz/corpus/$t"
    if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
        echo "$t: MISSING (no $bin or no $seeds)"
        failed=1
        continue
    fi
    work="$scratch/$t"
    findings="$BUILD/findings/$t"
    mkdir -p "$work" "$findings"
    cp -R "$seeds/." "$work/"
    log="$findings/run.log"
    status=0
    "$bin" -max_total_time="$T" -timeout=5 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$findings/" "$work" >"$log" 2>&1 || status=$?

    last="$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    [ -n "$runs" ] || runs="$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
    speed="$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")"
    summary="runs=${runs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} exec/s=${speed:-?}"
    if [ "$status" -eq 0 ]; then
        echo "$t: OK $summary"
    else
        failed=1
        kind="crash"
        grep -q 'ERROR: libFuzzer: timeout' "$log" && kind="timeout"
        grep -q 'ERROR: libFuzzer: out-of-memory' "$log" && kind="out-of-memory"
        artifact="$(sed -n 's/^artifact_prefix=.*; Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
        echo "$t: FAILED ($kind, exit $status) $summary artifact=${artifact:-none} log=$log"
        grep -E 'ERROR: |runtime error|fuzz invariant failed|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    fi
done
exit "$failed"
