#!/usr/bin/env bash
# Opens RUN_DIR/index.html in headless Chromium (Debian's `chromium` package) from the file
# system, offline, and checks that the report renders with its charts: the DOM as rendered holds
# one inline <svg> per chart and the expectations table, and a screenshot is not blank (many
# distinct colours). Usage: tests/browser_check.sh RUN_DIR [SCREENSHOT.png]
set -euo pipefail
run_dir=${1:?usage: tests/browser_check.sh RUN_DIR [SCREENSHOT.png]}
page="$(cd "$run_dir" && pwd)/index.html"
shot=${2:-$run_dir/screenshot.png}
[ -f "$page" ] || { echo "browser_check: $page: no such file" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "browser_check: chromium not found (.ci/setup --browser installs it)" >&2; exit 2; }

profile=$(mktemp -d /tmp/kmsload-chromium-XXXXXX)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --disable-extensions
       --disable-default-apps --hide-scrollbars --user-data-dir="$profile")

# 1. The DOM after rendering: the charts are inline SVG, the tables are there.
dom="$profile/dom.html"
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" >"$dom" 2>"$profile/dom.log" || {
    cat "$profile/dom.log" >&2; echo "browser_check: chromium --dump-dom failed" >&2; exit 1; }
fail=0
for chart in count expiry outcomes latency; do
    if ! grep -q "id=\"chart-$chart\"" "$dom"; then
        echo "browser_check: chart $chart missing from the rendered page" >&2; fail=1
    fi
done
svgs=$(grep -o '<svg' "$dom" | wc -l)
[ "$svgs" -ge 4 ] || { echo "browser_check: $svgs inline <svg> elements, 4 expected" >&2; fail=1; }
grep -q '<h2>Expectations</h2>' "$dom" || { echo "browser_check: no expectations section" >&2; fail=1; }
if grep -q '<script' "$dom"; then echo "browser_check: the report holds a script" >&2; fail=1; fi

# 2. A screenshot of the whole page: not blank.
timeout 120 "$browser" "${flags[@]}" --window-size=1200,4000 --screenshot="$shot" \
    "file://$page" >"$profile/shot.log" 2>&1 || {
    cat "$profile/shot.log" >&2; echo "browser_check: chromium --screenshot failed" >&2; exit 1; }
[ -s "$shot" ] || { echo "browser_check: no screenshot" >&2; exit 1; }
python3 - "$shot" <<'PY' || fail=1
import struct, sys, zlib
# Decodes the PNG (8-bit RGB or RGBA, as Chromium writes it) and counts distinct colours.
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w = 8, b'', 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite, i = set(), 0, 0
for y in range(h):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, stride, bpp * 2):
            px = bytes(line[x:x + 3])
            colours.add(px)
            nonwhite += px != b'\xff\xff\xff'
print(f'browser_check: screenshot {w}x{h}, {len(colours)} distinct colours, {nonwhite} non-white samples')
if len(colours) < 16 or nonwhite < 1000:
    sys.exit('browser_check: the screenshot looks blank')
PY
[ "$fail" -eq 0 ] || exit 1
echo "browser_check: $page renders with its 4 charts (screenshot: $shot)"
