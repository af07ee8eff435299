# Latency percentiles (p50, p99 per time bin) and throughput over time, one above the other.
# Called by kmsload in RUN_DIR/charts/ with:
#   gnuplot -e "fmt='png'; outfile='latency.png'; datafile='latency.dat'; virtual=1; xmax=3;
#               binwidth=0.03" latency.gp
# latency.dat: t (middle of the bin), p50 (ms), p99 (ms), throughput (requests per simulated
# hour on the virtual clock, per second on the real clock), requests in the bin.
if (!exists("fmt")) fmt = 'png'
if (!exists("datafile")) datafile = 'latency.dat'
if (!exists("outfile")) outfile = 'latency.'.fmt
if (!exists("virtual")) virtual = 1
if (!exists("xunit")) xunit = virtual ? 'days' : 's'
if (!exists("binwidth")) binwidth = 1
if (fmt eq 'svg') {
    set terminal svg size 1000,700 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,700 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
load here.'common.gp'

xl = virtual ? 'simulated time ('.xunit.')' : 'wall time (s)'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
@key_below
if (exists("xmax") && xmax > 0) { set xrange [0:xmax] } else { set xrange [0:*] }
set lmargin 12
set rmargin 4

set multiplot layout 2,1 title 'Latency and throughput over time' font ',14'
set xlabel xl.xlabel_gap
set ylabel 'latency (ms, log scale)'
set logscale y
plot datafile using 1:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#d62728' title 'p99', \
     datafile using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#1f77b4' title 'p50'
unset logscale y
col_top = 0
stats [*:*] datafile skip 1 using (col_max(column(4)), 0) nooutput
top = rate_axis(col_top * rate_per / rate_src)
set ylabel rate_label
set format y (top >= 10 ? '%.0f' : '%g')
unset key
set yrange [0:*]
set boxwidth binwidth absolute
set style fill solid 0.6 border lc rgb '#ffffff'
plot datafile using 1:(rate(column(4))) with boxes lc rgb '#4c78a8' notitle
unset multiplot
