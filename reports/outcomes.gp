# Activation outcomes over time, stacked: activated, below threshold, host errors by HRESULT,
# RPC faults, protocol and network errors; a rate per time bin.
# Called by kmsload in RUN_DIR/charts/ with:
#   gnuplot -e "fmt='png'; outfile='outcomes.png'; datafile='outcomes.dat'; virtual=1; xmax=3;
#               ncat=2; binwidth=0.03; colors='#2ca02c #f2b701'" outcomes.gp
# outcomes.dat: t (middle of the bin), then one column per outcome category (requests per hour
# of simulated time on the virtual clock, per second on the real clock).
if (!exists("fmt")) fmt = 'png'
if (!exists("datafile")) datafile = 'outcomes.dat'
if (!exists("outfile")) outfile = 'outcomes.'.fmt
if (!exists("virtual")) virtual = 1
if (!exists("xunit")) xunit = virtual ? 'days' : 's'
if (!exists("ncat")) ncat = 1
if (!exists("binwidth")) binwidth = 1
if (!exists("colors")) colors = '#2ca02c #f2b701 #d62728 #9467bd #e377c2 #8c564b'
if (fmt eq 'svg') {
    set terminal svg size 1000,520 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,520 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
load here.'common.gp'

set title 'Answers over time, by outcome (stacked)' font ',14'
set xlabel (virtual ? 'simulated time ('.xunit.')' : 'wall time (s)').xlabel_gap
# The highest stacked rate chooses the unit (thousands or not) and the number format.
col_top = 0
stats [*:*] datafile skip 1 using (col_max(sum [c=2:ncat+1] column(c)), 0) nooutput
top = rate_axis(col_top * rate_per / rate_src)
set ylabel rate_label
set format y (top >= 10 ? '%.0f' : '%g')
set grid ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
@key_below
if (exists("xmax") && xmax > 0) { set xrange [0:xmax] } else { set xrange [0:*] }
set yrange [0:*]
set boxwidth binwidth absolute
set style fill solid 0.9 border lc rgb '#ffffff'

# Column i+1 stacked on the columns before it: the tallest (sum of all) first, so that each
# category's box covers the ones of the categories after it.
plot for [i=ncat:1:-1] datafile using 1:(rate(sum [c=2:i+1] column(c))) \
         with boxes lc rgb word(colors, i) title columnhead(i+1)
