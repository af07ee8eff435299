# Several KMS hosts: each host's count per application over time (steps), with the DNS changes
# (SRV records added and removed) and hosts switched on and off as vertical lines.
# Called by kmsload in RUN_DIR/charts/ with:
#   gnuplot -e "fmt='png'; outfile='hosts.png'; datafile='hosts.dat'; marksfile='hosts_marks.dat';
#               nseries=4; nmarks=3; xmax=60; xunit='days'; virtual=1" hosts.gp
# hosts.dat: one block per host and application ("HOST APP" title line, then t count);
# hosts_marks.dat: t "label".
if (!exists("fmt")) fmt = 'png'
if (!exists("datafile")) datafile = 'hosts.dat'
if (!exists("marksfile")) marksfile = 'hosts_marks.dat'
if (!exists("outfile")) outfile = 'hosts.'.fmt
if (!exists("nseries")) nseries = 1
if (!exists("nmarks")) nmarks = 0
if (!exists("xmax")) xmax = 1
if (!exists("virtual")) virtual = 1
if (!exists("xunit")) xunit = virtual ? 'days' : 's'
if (fmt eq 'svg') {
    set terminal svg size 1000,560 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,560 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
load here.'common.gp'
set title 'Count per KMS host and application'
# The key goes below the x-axis label, in its box (common.gp), never over the label.
set xlabel (virtual ? 'simulated time ('.xunit.')' : 'wall time (s)').xlabel_gap
set ylabel 'count the host returned'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
@key_below
set xrange [0:xmax]
set yrange [0:56]
set ytics 0,10,50
set ytics add (5, 25)
# Thresholds: 25 Windows clients, 5 servers and Office.
set arrow from graph 0, first 25 to graph 1, first 25 nohead dt 2 lc rgb '#999999'
set arrow from graph 0, first 5 to graph 1, first 5 nohead dt 2 lc rgb '#999999'
if (nmarks > 0) {
    do for [k=1:nmarks] {
        stats marksfile every ::k-1::k-1 using 1 nooutput
        t = STATS_min
        set arrow from first t, graph 0 to first t, graph 1 nohead lc rgb '#d62728' dt 3
    }
    plot for [i=0:nseries-1] datafile index i using 1:2 with steps lw 2 title columnhead(1), \
         marksfile using 1:(54 - 4 * ($0 - 4 * floor($0 / 4))):2 with labels left offset 0.3,0 \
             font ',9' tc rgb '#d62728' notitle
} else {
    plot for [i=0:nseries-1] datafile index i using 1:2 with steps lw 2 title columnhead(1)
}
