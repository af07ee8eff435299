#!/bin/sh
# Writes kmsload's man pages into OUT_DIR from the program's own --help texts (kmsload(1) and
# kmsload-COMMAND(1) for every command `kmsload --help` lists) and from scenarios/README.md
# (kmsload-scenario(5)), so the pages cannot say something --help does not.
#   docs/man/gen-man.sh KMSLOAD SOURCE_DIR OUT_DIR VERSION
set -eu
bin=$1 src=$2 out=$3 version=$4
here=$src/docs/man
date=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%d)
mkdir -p "$out"
rm -f "$out"/*.1 "$out"/*.5

# "NAME<TAB>summary" for each command of the main help's Commands: list.
commands=$("$bin" --help | awk '
    /^Commands:/ { on = 1; next }
    on && /^ *$/ { on = 0 }
    on && /^  [a-z]/ {
        if (name != "") print name "\t" text
        line = $0; sub(/^  /, "", line)
        name = line; sub(/ .*/, "", name)
        text = ""
        if (match(line, /   *[^ ]/)) text = substr(line, RSTART + RLENGTH - 1)
        else if (match(line, /  [^ ]/)) text = substr(line, RSTART + 2)
        next
    }
    on { line = $0; sub(/^ +/, "", line); text = text (text == "" ? "" : " ") line }
    END { if (name != "") print name "\t" text }')
[ -n "$commands" ] || { echo "gen-man.sh: no Commands: list in '$bin --help'" >&2; exit 1; }

see_also=".BR kmsload (1),"
for name in $(printf '%s\n' "$commands" | cut -f1); do
    see_also="$see_also
.BR kmsload\\-$name (1),"
done
see_also="$see_also
.BR kmsload\\-scenario (5)"

"$bin" --help | awk -v page=kmsload -v section=1 -v version="$version" -v date="$date" \
    -v summary="KMS client emulator and load tester" -v see_also="$see_also" \
    -v extra="$here/kmsload.1.extra" -f "$here/help2man.awk" >"$out/kmsload.1"

printf '%s\n' "$commands" | while IFS="$(printf '\t')" read -r name summary; do
    "$bin" "$name" --help | awk -v page="kmsload-$name" -v section=1 -v version="$version" \
        -v date="$date" -v summary="$summary" -v see_also="$see_also" \
        -f "$here/help2man.awk" >"$out/kmsload-$name.1"
done

awk -v page=kmsload-scenario -v section=5 -v version="$version" -v date="$date" \
    -v summary="the scenario files of kmsload run" -v source=scenarios/README.md \
    -v see_also=".BR kmsload (1), .BR kmsload\\-run (1)" \
    -f "$here/md2man.awk" "$src/scenarios/README.md" >"$out/kmsload-scenario.5"
