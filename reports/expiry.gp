# 30-day window expiry: the count the host returned against the machines whose last counted
# contact is less than 30 days old (a host forgets a machine 30 days after its last contact),
# and, on the right axis, how many machines reach their last contact + 30 days per day (per hour,
# minute... for shorter runs), in the lower third of the plot.
# Called by kmsload in RUN_DIR/charts/ with:
#   gnuplot -e "fmt='png'; outfile='expiry.png'; datafile='expiry.dat'; virtual=1; xmax=60;
#               napps=1; colors='#1f77b4'" expiry.gp
# expiry.dat: t, then per application: count, machines in the window, expiries in the bucket.
if (!exists("fmt")) fmt = 'png'
if (!exists("datafile")) datafile = 'expiry.dat'
if (!exists("outfile")) outfile = 'expiry.'.fmt
if (!exists("virtual")) virtual = 1
if (!exists("xunit")) xunit = virtual ? 'days' : 's'
if (!exists("napps")) napps = 1
if (!exists("colors")) colors = '#1f77b4 #ff7f0e #2ca02c'
if (fmt eq 'svg') {
    set terminal svg size 1000,600 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,600 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
load here.'common.gp'
if (!exists("nexpiries")) nexpiries = 0

# The highest count or window size, the highest expiries per bucket and the bucket's width:
# integer axes (machines come in whole numbers) and a right-axis label that says per how long.
col_top = 0
do for [i=1:napps] {
    stats [*:*] datafile skip 1 using (col_max(column(3*i-1))) nooutput
    stats [*:*] datafile skip 1 using (col_max(column(3*i))) nooutput
}
left_top = col_top
stats [*:*] datafile skip 1 using 1 nooutput
bucket = STATS_records > 1 ? (STATS_max - STATS_min) / (STATS_records - 1) * xsec : 0
# The expiries are summed per a round span people read -- a second, 10 s, a minute, 5 or 15
# minutes, an hour, 6 hours, a day (or whole days) -- the smallest that holds a data bucket and a
# hundredth of the run, so the right axis reads "per day" or "per hour", never "per 1.14 h".
span = exists("xmax") && xmax > 0 ? xmax : STATS_max
want = span * xsec / 100.0 > bucket ? span * xsec / 100.0 : bucket
ebin_s = want > 86400 ? 86400 * ceil(want / 86400.0) : 86400
spans = '1 10 60 300 900 3600 21600 86400'
do for [k = words(spans):1:-1] { if (word(spans, k) + 0 >= want) { ebin_s = word(spans, k) + 0 } }
ebin = ebin_s * 1.0 / xsec
ebin_name = ebin_s == 1 ? 'second' : ebin_s == 10 ? '10 s' : ebin_s == 60 ? 'minute' \
          : ebin_s == 300 ? '5 min' : ebin_s == 900 ? '15 min' : ebin_s == 3600 ? 'hour' \
          : ebin_s == 21600 ? '6 h' : ebin_s == 86400 ? 'day' : sprintf('%d days', ebin_s / 86400)
ebin_x(x) = floor(x / ebin) * ebin + ebin / 2.0
right_top = 0
do for [i=1:napps] {
    eval sprintf('set table $binned%d', i)
    plot datafile skip 1 using (ebin_x($1)):(column(3*i+1)) smooth frequency
    unset table
    eval sprintf('stats [*:*] $binned%d using 2 nooutput', i)
    right_top = STATS_max > right_top ? STATS_max : right_top
}
nfalls = 0
do for [i=1:napps] {
    do for [k=1:words(thresholds)] {
        stats [*:*] fell_from(datafile) skip 1 using \
            (fell_count(fell(column(3*i-1), thr(k))), 0) nooutput
    }
}

set title '30-day window: count vs. machines contacted in the last 30 days' font ',14'
set xlabel (virtual ? 'simulated time ('.xunit.')' : 'wall time (s)').xlabel_gap
set ylabel 'count / machines'
set y2label 'machines leaving the 30-day window per '.ebin_name
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 11 lc rgb '#555555'
set tics nomirror
set format y '%.0f'
set format y2 '%.0f'
if (left_top <= 10) { set ytics 1 }
# The bars keep to the lower third of the plot, under the count lines: ticks only up to the
# highest bar.
y2step = right_top <= 10 ? 1 : right_top <= 50 ? 5 : right_top <= 200 ? 20 : 10 ** floor(log10(right_top))
set y2tics 0, y2step, (right_top > 0 ? right_top : 1)
@key_below
if (exists("xmax") && xmax > 0) { set xrange [0:xmax] } else { set xrange [0:*] }
fell_top = fell_room(left_top > 0 ? left_top * 1.1 : 1)
fell_mid = (exists("xmax") && xmax > 0) ? xmax / 2.0 : 0
set yrange [0:fell_top]
set y2range [0:(right_top > 0 ? fell_room(right_top * 3.0) : 1)]
if (nexpiries == 0) {
    set y2range [0:1]
    set y2tics 1
    set label 10 'no machine reached last contact + 30 days during the run' at graph 0.5, graph 0.5 center tc rgb '#777777'
}
# The thresholds the count is judged against (only those inside the range drawn).
if (left_top >= 25) { @threshold_lines } else { if (left_top >= 5) { @threshold_lines; unset arrow 1; unset label 1 } }

plot for [i=1:napps] datafile using (ebin_x($1)):(column(3*i+1)) smooth frequency axes x1y2 \
         with impulses lw 8 lc rgb ('#A0'.word(colors, i)[2:7]) title columnhead(3*i+1), \
     for [i=1:napps] datafile using 1:(column(3*i)) \
         with steps lw 2 dt 2 lc rgb word(colors, i) title columnhead(3*i), \
     for [i=1:napps] datafile using 1:(column(3*i-1)) \
         with steps lw 2.5 lc rgb word(colors, i) title columnhead(3*i-1), \
     @fell_plot
