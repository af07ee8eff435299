#!/usr/bin/env bash
# Runs a shipped scenario with kmsload (its report drawn) and opens the run's index.html in
# headless Chromium with tests/browser_check.sh: what ctest runs as shell/browser_NAME.
#   tests/browser_run_check.sh PATH_TO_KMSLOAD SCENARIO_NAME [RUN_ARGS...]  (e.g. threshold-climb)
# Needs chromium, gnuplot (the charts the check looks for) and python3: skipped (exit 77) when one
# is missing, a failure instead with KMSLOAD_CHECKS_REQUIRED=1 (.ci/run).
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
scenario=${2:?usage: tests/browser_run_check.sh PATH_TO_KMSLOAD SCENARIO_NAME [RUN_ARGS...]}
shift 2
check_need chromium gnuplot python3
check_tmp
status=0
"$kmsload" run "$check_here/scenarios/$scenario.ini" --out "$tmp/run" -q "$@" || status=$?
[ "$status" -eq 0 ] || fail "kmsload run scenarios/$scenario.ini: exit $status"
"$check_here/tests/browser_check.sh" "$tmp/run" || fail "browser_check.sh on the $scenario run"
echo "ok   $scenario: index.html renders with its charts in headless Chromium"
