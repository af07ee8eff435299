# Shared by the chart scripts, loaded from their own directory: the plot-area and key markers,
# time and rate units, integer axes and the moments a count falls below a threshold.
# Expects fmt, virtual, xunit (and binwidth for the rates) to be set.

# A trailing empty line under the x-axis label: with the key below, gnuplot would otherwise
# start the key's box on the label's own line.
xlabel_gap = "\n"

# The plot area has an almost white background (#fffffe) and every key a #cccccc box, outside
# the plot area (below the x-axis label). tests/browser_check.sh finds both by these colours and
# checks in the rendered page that no key covers the plot area, a tick or an axis label.
set object 99 rectangle from graph 0, graph 0 to graph 1, graph 1 behind \
    fillcolor rgb '#fffffe' fillstyle solid 1.0 noborder
mark_ps = (fmt eq 'svg') ? 1.0 : 1.5
key_below = "set key below center horizontal Left reverse samplen 2 width 2 spacing 1.1 box lc rgb '#cccccc'"

# Seconds per x unit, and a moment on the x axis as a person reads it.
xsec = (xunit eq 'days') ? 86400 : (xunit eq 'hours') ? 3600 : 1
when(x) = (xunit eq 'days') ? sprintf('day %.1f', x) \
        : (xunit eq 'hours') ? sprintf('%.1f h', x) : sprintf('%.1f s', x)
# A duration in seconds: "43 min", "14.4 h", "2.5 days", "31 ms".
duration(s) = s >= 86400 ? sprintf('%.3g days', s / 86400.0) \
            : s >= 3600 ? sprintf('%.3g h', s / 3600.0) \
            : s >= 60 ? sprintf('%.3g min', s / 60.0) \
            : s >= 1 ? sprintf('%.3g s', s) : sprintf('%.3g ms', s * 1000.0)

# Rates: the data files hold requests per simulated hour (virtual clock) or per second (real
# clock). Shown per the largest of second, minute, hour and day that fits in one bin, so that a
# bar never shows more requests than it holds (25 requests in a 30 ms bin are 25, not "800/s");
# bins shorter than a second show the requests in the bin.
rate_src = virtual ? 3600.0 : 1.0
if (exists("binwidth")) {
    binsec = binwidth * xsec
    rate_per = binsec >= 86400 ? 86400.0 : binsec >= 3600 ? 3600.0 \
             : binsec >= 60 ? 60.0 : binsec >= 1 ? 1.0 : binsec
    rate_name = rate_per == 86400 ? 'day' : rate_per == 3600 ? 'hour' \
              : rate_per == 60 ? 'minute' : 'second'
    rate_label = binsec < 1 ? 'requests in each bar ('.duration(binsec).')' \
               : 'requests per '.(virtual ? 'simulated ' : '').rate_name
}
rate_scale = 1.0
rate(r) = r * rate_per / rate_src / rate_scale
# After the highest rate is known: thousands above 100,000, plain numbers (never 1.6e+06).
rate_axis(top) = (rate_scale = (top >= 100000 ? 1000.0 : 1.0), \
                  rate_label = (top >= 100000 ? 'thousand '.rate_label : rate_label), top / rate_scale)

# The highest value of a column expression over a data file (0 when there is none).
col_top = 0
col_max(v) = (col_top = (v == v && v > col_top) ? v : col_top, v)

# Counts that fall below a threshold (25: Windows clients; 5: servers and Office): the first
# bucket of a plot element where the count went from at least T to below T; NaN elsewhere.
# Name the file as fell_from(datafile) so that every plot element starts afresh (the file name
# is evaluated once per element, before its rows are read); the falls of one plot command are
# numbered 1, 2... in the same order in every pass (iterations "for [i=1:napps] for [k=...]").
fell_prev = NaN
fell_done = 0
fell_seq = 0
fell_from(f) = (fell_prev = NaN, fell_done = 0, (i == 1 && k == 1) ? (fell_seq = 0) : 0, f)
fell(c, T) = (fell_hit = (!fell_done && fell_prev >= T && c < T), \
              fell_done = fell_done || fell_hit, fell_prev = (c == c ? c : fell_prev), \
              fell_seq = fell_seq + fell_hit, fell_hit ? c : NaN)
nfalls = 0
fell_count(v) = (nfalls = nfalls + (v == v), v)
# Each fall is labelled in a band at the top of the plot area, kept free of data (fell_room
# makes the y range that much taller), one line per fall, joined to its marker by a dotted
# line: "windows count below 25, day 43.1" (column titles may be "windows: ...").
fell_room(top) = top * (1 + 0.07 * nfalls)
fell_y(v, top) = v == v ? top * (1 - 0.07 * (fell_seq - 0.45)) : NaN
fell_label(title, T, x) = sprintf('%s count below %d, %s', \
    strstrt(title, ':') > 0 ? title[1:strstrt(title, ':') - 1] : title, T, when(x))
# Plot elements (a macro: gnuplot has no procedures) for count column 3*i-1 of datafile with the
# y range's top in fell_top: the markers, the dotted lines up to the band and the labels, right
# of their line in the first half of the run and left of it in the second.
fell_plot = "for [i=1:napps] for [k=1:words(thresholds)] fell_from(datafile) using 1:(fell(column(3*i-1), thr(k))) with points pt 11 ps mark_ps lc rgb word(colors, i) notitle, \
    for [i=1:napps] for [k=1:words(thresholds)] fell_from(datafile) using 1:(fv = fell(column(3*i-1), thr(k))):(0):(fell_y(fv, fell_top) - fv) with vectors nohead dt 3 lw 1 lc rgb word(colors, i) notitle, \
    for [i=1:napps] for [k=1:words(thresholds)] fell_from(datafile) using 1:(fv = fell(column(3*i-1), thr(k)), $1 > fell_mid ? fell_y(fv, fell_top) : NaN):(fell_label(columnhead(3*i-1), thr(k), $1)) with labels right offset -0.6,0 font ',10' tc rgb word(colors, i) notitle, \
    for [i=1:napps] for [k=1:words(thresholds)] fell_from(datafile) using 1:(fv = fell(column(3*i-1), thr(k)), $1 <= fell_mid ? fell_y(fv, fell_top) : NaN):(fell_label(columnhead(3*i-1), thr(k), $1)) with labels left offset 0.6,0 font ',10' tc rgb word(colors, i) notitle, \
    for [j=1:(nfalls > 0 ? 1 : 0)] keyentry with points pt 11 ps mark_ps lc rgb '#444444' title 'count fell below a threshold'"
thresholds = '25 5'
thr(k) = word(thresholds, k) + 0

# Dashed threshold lines across the plot area with their names on the right.
threshold_lines = "set arrow 1 from graph 0, first 25 to graph 1, first 25 nohead lc rgb '#444444' dt 2 lw 1.5 back; \
set arrow 2 from graph 0, first 5 to graph 1, first 5 nohead lc rgb '#444444' dt 2 lw 1.5 back; \
set label 1 'threshold 25: Windows clients' at graph 0.99, first 25 offset 0,0.6 right tc rgb '#444444' front; \
set label 2 'threshold 5: servers, Office' at graph 0.99, first 5 offset 0,0.6 right tc rgb '#444444' front"
