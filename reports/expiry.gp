# 30-day window expiry: the count the host returned against the machines whose last counted
# contact is less than 30 days old (a host forgets a machine 30 days after its last contact),
# and, on the right axis, how many machines reach their last contact + 30 days in each bucket.
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
    set terminal svg size 1000,520 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,520 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile

set title '30-day window: count vs. machines contacted in the last 30 days' font ',14'
set xlabel (virtual ? 'simulated time ('.xunit.')' : 'wall time (s)')
set ylabel 'count / machines'
set y2label 'machines expiring (last contact + 30 days) per bucket'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 11 lc rgb '#555555'
set tics nomirror
set y2tics
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse samplen 2 width 2 maxrows 3 box lc rgb '#cccccc'
set bmargin 7
if (exists("xmax") && xmax > 0) { set xrange [0:xmax] } else { set xrange [0:*] }
set yrange [0:*]
set y2range [0:*]
if (!exists("nexpiries")) nexpiries = 0
if (nexpiries == 0) {
    set y2range [0:1]
    set y2tics 1
    set label 10 'no machine reached last contact + 30 days during the run' at graph 0.5, graph 0.5 center tc rgb '#777777'
}

plot for [i=1:napps] datafile using 1:(column(3*i+1)) axes x1y2 \
         with impulses lw 8 lc rgb ('#A0'.word(colors, i)[2:7]) title columnhead(3*i+1), \
     for [i=1:napps] datafile using 1:(column(3*i)) \
         with steps lw 2 dt 2 lc rgb word(colors, i) title columnhead(3*i), \
     for [i=1:napps] datafile using 1:(column(3*i-1)) \
         with steps lw 2.5 lc rgb word(colors, i) title columnhead(3*i-1)
