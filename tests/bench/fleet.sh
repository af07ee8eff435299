#!/usr/bin/env bash
# The `kmsload fleet` import benchmark: a year of a 20,000-machine estate (about 1 M events 12290)
# in each format, imported by a Release build; prints wall time and peak memory. Then the same
# estate over two years (twice the events) and a 5,000-machine estate, to show that memory
# follows machines, not events. Not a timed test: the figures go to the README.
#   tests/bench/fleet.sh [MACHINES [DAYS]]      (default 20000 365)
set -euo pipefail
cd "$(dirname "$0")/../.."
machines=${1:-20000}
days=${2:-365}
build=build-release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKMSLOAD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target kmsload kmsload-bench-fleet-log >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/kmsload-fleet-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

import() { # LABEL MACHINES DAYS FORMAT
    local log="$work/log.$4"
    "$build/kmsload-bench-fleet-log" "$2" "$3" "$4" "$log" >"$work/gen.txt"
    local size
    size=$(du -m "$log" | cut -f1)
    printf '%-28s %s, %s MB %s: ' "$1" "$(cat "$work/gen.txt")" "$size" "$4"
    /usr/bin/time -f "%e s wall, %U s user, %M KB max resident" \
        "$build/kmsload" fleet "$log" --out "$work/out" --quiet 2>&1 | tail -1
    rm -f "$log"
}

for format in xml csv json hostlog; do
    import "year, $machines machines" "$machines" "$days" "$format"
done
import "two years, $machines machines" "$machines" $((days * 2)) csv
import "year, $((machines / 4)) machines" $((machines / 4)) "$days" csv
