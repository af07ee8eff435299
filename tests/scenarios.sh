#!/bin/sh
# Runs every scenario of scenarios/*.ini against the embedded reference host and checks that each
# meets its expectations (kmsload run exits 0).
#   tests/scenarios.sh [PATH_TO_KMSLOAD]     (default: build/kmsload)
# Prints one line per scenario (name, exit status, requests, wall time) and "N passed, N failed";
# exits 1 if any scenario failed. The scenarios for real hosts (real-host-smoke, new-host-acceptance,
# real-host-soak) take minutes to hours of real time: here they run on the virtual clock without
# their rate cap (--set clock=virtual --set max_rate=0), which keeps their counts and expectations
# and takes seconds; tests/e2e/test_run_safety.c runs the first two on the real clock against
# `kmsload host`, compressed. Every other scenario is short already (at most ~5 s, clock-skew 3 s
# of real time). Results go to a temporary directory, kept (and named) when something failed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
kmsload=${1:-"$here/build/kmsload"}
case $kmsload in /*) ;; *) kmsload="$(pwd)/$kmsload" ;; esac
if [ ! -x "$kmsload" ]; then
    echo "scenarios.sh: $kmsload is not an executable (build it, or pass its path)" >&2
    exit 2
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/kmsload-scenarios.XXXXXX")
passed=0
failed=0
now() { date +%s.%N; }
# Overrides for short settings, per scenario name.
for ini in "$here"/scenarios/*.ini; do
    name=$(basename "$ini" .ini)
    set --
    case $name in
        real-host-smoke | new-host-acceptance | new-host-check | real-host-soak)
            set -- --set clock=virtual --set max_rate=0
            ;;
        *) ;;
    esac
    start=$(now)
    (cd "$here" && "$kmsload" run "$ini" --out "$out/$name" "$@") >"$out/$name.log" 2>&1
    rc=$?
    end=$(now)
    requests=$(sed -n 's/^ *"requests": \([0-9][0-9]*\),*$/\1/p' "$out/$name/summary.json" 2>/dev/null | head -n 1)
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        verdict=ok
    else
        failed=$((failed + 1))
        verdict=FAILED
    fi
    printf '%-20s exit %d  %8s requests  %6s s  %s\n' "$name" "$rc" "${requests:-?}" "$wall" "$verdict"
    if [ "$rc" -ne 0 ]; then
        { grep -F '[FAIL]' "$out/$name.log" || tail -n 3 "$out/$name.log"; } | head -n 5 | sed 's/^/    /'
    fi
done
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    echo "runs and logs kept in $out"
    exit 1
fi
rm -rf "$out"
exit 0
