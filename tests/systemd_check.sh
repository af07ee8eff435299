#!/usr/bin/env bash
# docs/systemd/kmsload-watch.service: `systemd-analyze verify` accepts it (with ExecStart pointing
# at the kmsload under test), it keeps its hardening, and the command it runs starts and serves
# /probe (the same arguments, on a free loopback port).
#   tests/systemd_check.sh [PATH_TO_KMSLOAD]   (needs systemd-analyze and curl; skipped without)
set -euo pipefail
. "$(dirname "$0")/check_support.sh"
check_kmsload "${1:-}"
check_need systemd-analyze curl
check_tmp

unit="$check_here/docs/systemd/kmsload-watch.service"
sed "s|/usr/bin/kmsload|$kmsload|g" "$unit" >"$tmp/kmsload-watch.service"
systemd-analyze verify --man=no "$tmp/kmsload-watch.service" 2>"$tmp/verify.err" ||
    fail "systemd-analyze verify: $(cat "$tmp/verify.err")"
[ ! -s "$tmp/verify.err" ] || fail "systemd-analyze verify warned: $(cat "$tmp/verify.err")"
echo "ok   systemd-analyze verify"
for d in DynamicUser=yes ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
    CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=@system-service; do
    grep -q "^$d" "$unit" || fail "the unit lost $d"
done
echo "ok   hardened (DynamicUser, ProtectSystem=strict, no capabilities, syscall filter)"
# The ExecStart line's arguments, on port 0, run for real: it announces /probe and answers it.
args=$(sed -n 's|^ExecStart=/usr/bin/kmsload ||p' "$unit" | sed 's|127.0.0.1:9466|127.0.0.1:0|; s|%H|test|')
# shellcheck disable=SC2086 # the unit's arguments, split as systemd splits them (no quotes there)
"$kmsload" $args >"$tmp/watch.out" 2>"$tmp/watch.err" &
pids+=($!)
url=$(wait_line "$tmp/watch.out" "kmsload watch: metrics on ")
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${url%%\?*}") || true
[ "$code" = 400 ] || fail "/probe without a target answered $code, expected 400"
echo "ok   the unit's command serves /probe"
