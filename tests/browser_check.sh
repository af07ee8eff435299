#!/usr/bin/env bash
# Opens RUN_DIR/index.html in headless Chromium (Debian's `chromium` package) from the file
# system, offline, and checks that the report renders with its charts: the DOM as rendered holds
# one inline <svg> per chart and the expectations table; no chart's key (legend) covers its plot
# area, a tick label or an axis label, measured on the page as Chromium lays it out; and a
# screenshot is not blank (many distinct colours). Usage: tests/browser_check.sh RUN_DIR [SCREENSHOT.png]
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
# What the page says: real-clock runs show no simulated time and no "(0/s)"; no axis reads per an
# odd duration ("machines expiring per 1.14 h").
python3 - "$dom" "$run_dir/summary.json" <<'PY' || fail=1
import html, json, re, sys
dom = open(sys.argv[1], encoding='utf-8').read()
try:
    clock = json.load(open(sys.argv[2], encoding='utf-8')).get('clock', 'virtual')
except (OSError, ValueError):
    clock = 'virtual'
texts = [html.unescape(t).strip() for t in re.findall(r'<text[^>]*>([^<]*)</text>', dom)]
page = html.unescape(re.sub(r'<[^>]+>', ' ', re.sub(r'<svg.*?</svg>', ' ', dom, flags=re.S)))
bad = []
if clock == 'real':
    bad += ['chart text "%s" on the real clock' % t for t in texts if 'simulated' in t]
    bad += ['page says "%s" on the real clock' % m for m in re.findall(r'[0-9.]+ simulated days', page)]
bad += ['page says "%s"' % m for m in re.findall(r'\(0/s\)', page)]
bad += ['axis reads per an odd duration: "%s"' % t for t in texts
        if re.search(r'per [0-9]+\.[0-9]+ ?(h|min|s|ms|days)$', t)]
for b in bad:
    print('browser_check: ' + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# 2. Geometry: a copy of the page with a script that measures every chart as laid out (the
# report itself has no scripts). The chart scripts (reports/common.gp) give the plot area an
# #fffffe background and each key a #cccccc box; the texts outside gnuplot's plot groups (ids
# ...gnuplot_plot_N, prefixed per chart by kmsload) are the
# title, tick labels, axis labels and threshold names. A key must not intersect any of them nor
# a plot area, and must lie inside its chart.
geo="$profile/geometry.html"
sed 's#</body>#<script src="geometry.js"></script></body>#' "$page" >"$geo"
cat >"$profile/geometry.js" <<'JS'
(function () {
  var lines = [];
  function colour(el, attr) { return (el.getAttribute(attr) || '').replace(/\s+/g, ''); }
  function box(r) { return '[' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(',') + ']'; }
  function meet(a, b) {
    return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  }
  document.querySelectorAll('[id^="chart-"]').forEach(function (fig) {
    var svg = fig.querySelector('svg');
    if (!svg) { lines.push('FAIL ' + fig.id + ': no svg'); return; }
    var frame = svg.getBoundingClientRect(), keys = [], areas = [], texts = [];
    svg.querySelectorAll('path').forEach(function (p) {
      if (colour(p, 'stroke') === 'rgb(204,204,204)') keys.push(p.getBoundingClientRect());
    });
    svg.querySelectorAll('polygon, path, rect').forEach(function (p) {
      if (colour(p, 'fill') === 'rgb(255,255,254)') areas.push(p.getBoundingClientRect());
    });
    svg.querySelectorAll('text').forEach(function (t) {
      if (!t.closest('g[id*="gnuplot_plot"]') && t.textContent.trim() !== '')
        texts.push({ r: t.getBoundingClientRect(), s: t.textContent.trim() });
    });
    var bad = 0;
    if (keys.length === 0) { lines.push('FAIL ' + fig.id + ': no key box found'); bad++; }
    if (areas.length === 0) { lines.push('FAIL ' + fig.id + ': no plot area found'); bad++; }
    keys.forEach(function (k) {
      areas.forEach(function (a) {
        if (meet(k, a)) { lines.push('FAIL ' + fig.id + ': key ' + box(k) + ' covers the plot area ' + box(a)); bad++; }
      });
      texts.forEach(function (t) {
        if (meet(k, t.r)) { lines.push('FAIL ' + fig.id + ': key ' + box(k) + ' covers "' + t.s + '" ' + box(t.r)); bad++; }
      });
      if (k.left < frame.left - 1 || k.right > frame.right + 1 || k.top < frame.top - 1 || k.bottom > frame.bottom + 1) {
        lines.push('FAIL ' + fig.id + ': key ' + box(k) + ' outside the chart ' + box(frame)); bad++;
      }
    });
    // The x-axis tick labels: texts just under a plot area, within its width. The largest tells
    // how far the axis reaches (every chart of a run spans the whole run).
    var xmax = null;
    areas.forEach(function (a) {
      texts.forEach(function (t) {
        var cx = (t.r.left + t.r.right) / 2, v = parseFloat(t.s);
        if (t.r.top >= a.bottom - 2 && t.r.top <= a.bottom + 25 && cx >= a.left - 8 && cx <= a.right + 8 &&
            /^-?[0-9.]+$/.test(t.s) && (xmax === null || v > xmax)) xmax = v;
      });
    });
    if (xmax !== null) lines.push('XMAX ' + fig.id + ' ' + xmax);
    // The expiry bars (the first plot element) stay in the lower part of the plot, under the
    // count lines: their highest point as a share of the plot area's height.
    if (fig.id === 'chart-expiry' && areas.length) {
      // In SVG user units: the plot area's box and the points of the bars' path (one path also
      // holds the key's sample, which lies outside the area).
      var area = null, g = svg.querySelector('g[id$="gnuplot_plot_1"]');
      svg.querySelectorAll('polygon, path, rect').forEach(function (p) {
        if (!area && colour(p, 'fill') === 'rgb(255,255,254)') area = p.getBBox();
      });
      var top = area ? area.y + area.height : 0;
      if (g && area) g.querySelectorAll('path').forEach(function (p) {
        var nums = (p.getAttribute('d') || '').match(/-?[0-9.]+/g) || [];
        for (var n = 0; n + 1 < nums.length; n += 2) {
          var x = +nums[n], y = +nums[n + 1];
          if (x >= area.x - 1 && x <= area.x + area.width + 1 && y >= area.y - 1 && y <= area.y + area.height + 1)
            top = Math.min(top, y);
        }
      });
      var share = area ? (area.y + area.height - top) / area.height : 0;
      lines.push('BARS ' + fig.id + ' ' + share.toFixed(3));
      if (share > 0.5) { lines.push('FAIL ' + fig.id + ': the expiry bars reach ' + Math.round(share * 100) + '% of the plot height (at most 50%)'); bad++; }
    }
    if (!bad)
      lines.push('ok ' + fig.id + ': ' + keys.length + ' key(s) clear of ' + areas.length + ' plot area(s) and ' + texts.length + ' axis texts');
  });
  var pre = document.createElement('pre');
  pre.id = 'geometry';
  pre.textContent = lines.join('\n');
  document.body.appendChild(pre);
})();
JS
timeout 120 "$browser" "${flags[@]}" --allow-file-access-from-files --window-size=1200,4000 \
    --dump-dom "file://$geo" >"$profile/geometry.dom" 2>"$profile/geometry.log" || {
    cat "$profile/geometry.log" >&2; echo "browser_check: chromium --dump-dom (geometry) failed" >&2; exit 1; }
python3 - "$profile/geometry.dom" <<'PY' || fail=1
import html, re, sys
dom = open(sys.argv[1], encoding='utf-8').read()
m = re.search(r'<pre id="geometry">(.*?)</pre>', dom, re.S)
if not m:
    sys.exit('browser_check: the geometry script did not run')
lines = html.unescape(m.group(1)).splitlines()
for line in lines:
    print('browser_check: geometry ' + line)
charts = [l for l in lines if l.startswith('ok ') or l.startswith('FAIL ')]
if len({l.split()[1].rstrip(':') for l in charts}) < 4:
    sys.exit('browser_check: geometry measured fewer than 4 charts')
xmax = {l.split()[1]: float(l.split()[2]) for l in lines if l.startswith('XMAX ')}
# The outcomes chart has one plot area spanning the run (the count chart has a close-up too).
if 'chart-hosts' in xmax and 'chart-outcomes' in xmax and xmax['chart-hosts'] != xmax['chart-outcomes']:
    print('browser_check: geometry FAIL chart-hosts: its x axis ends at %g, the outcomes chart\'s at %g'
          % (xmax['chart-hosts'], xmax['chart-outcomes']))
    lines.append('FAIL')
if any(l.startswith('FAIL') for l in lines):
    sys.exit('browser_check: a chart key covers its plot or an axis')
PY

# 3. A screenshot of the whole page: not blank.
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
echo "browser_check: $page renders with its 4 charts, keys clear of plots and axes (screenshot: $shot)"
