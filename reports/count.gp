# Count over time per application: the count the host returned (steps), the range a genuine host
# could have returned (band), the thresholds and caps, and each population's first activation.
# Called by kmsload in RUN_DIR/charts/ with:
#   gnuplot -e "fmt='png'; outfile='count.png'; datafile='count.dat'; virtual=1; xmax=3;
#               napps=1; ncross=1; ymax=30; colors='#1f77b4'" count.gp
# count.dat: t, then per application: count, expected low, expected high (NaN: not yet known).
if (!exists("fmt")) fmt = 'png'
if (!exists("datafile")) datafile = 'count.dat'
if (!exists("outfile")) outfile = 'count.'.fmt
if (!exists("virtual")) virtual = 1
if (!exists("xunit")) xunit = virtual ? 'days' : 's'
if (!exists("napps")) napps = 1
if (!exists("ncross")) ncross = 0
if (!exists("ymax")) ymax = 0
if (!exists("colors")) colors = '#1f77b4 #ff7f0e #2ca02c'
if (!exists("zoom")) zoom = 0
height = zoom > 0 ? 940 : 580
if (fmt eq 'svg') {
    set terminal svg size 1000,height dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,height noenhanced font 'Helvetica,11' background '#ffffff'
}
set output outfile
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
load here.'common.gp'

xl = virtual ? 'simulated time ('.xunit.')' : 'wall time (s)'
set ylabel 'count (distinct machines the host reports)'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
@key_below
# Where a count fell below a threshold (first time per application and threshold): counted
# first, so that the key names the marker only when there is one and the band of their labels
# at the top gets its room.
do for [i=1:napps] {
    do for [k=1:words(thresholds)] {
        stats [*:*] fell_from(datafile) skip 1 using \
            (fell_count(fell(column(3*i-1), thr(k))), 0) nooutput
    }
}
fell_top = fell_room(ymax > 50 ? ymax * 1.15 : 56)
fell_mid = (exists("xmax") && xmax > 0) ? xmax / 2.0 : 0
set yrange [0:fell_top]
set ytics 0,10,50
set ytics add (5, 25)
set lmargin 10

# Thresholds (a client activates when the count reaches its N_Policy) and caps (2 x N_Policy).
@threshold_lines
set arrow 3 from graph 0, first 50 to graph 1, first 50 nohead lc rgb '#999999' dt 3 lw 1.5 back
set arrow 4 from graph 0, first 10 to graph 1, first 10 nohead lc rgb '#999999' dt 3 lw 1.5 back
set label 3 'cap 50 (Windows)' at graph 0.99, first 50 offset 0,0.6 right tc rgb '#777777' front
set label 4 'cap 10 (Office)' at graph 0.99, first 10 offset 0,0.6 right tc rgb '#777777' front
set style fill transparent solid 0.22 noborder

# One panel for the whole run; a second one, a close-up of the start with every change of the
# count (count_detail.dat), when the thresholds were crossed early in a long run (x in hours there
# on the virtual clock).
if (zoom > 0) { set multiplot layout 2,1 }
set title 'Count returned by the host, per application' font ',14'
set xlabel xl.xlabel_gap
if (exists("xmax") && xmax > 0) { set xrange [0:xmax] } else { set xrange [0:*] }
plot for [i=1:napps] datafile using 1:(column(3*i+0)):(column(3*i+1)) \
         with filledcurves lc rgb word(colors, i) title columnhead(3*i+0), \
     for [i=1:napps] datafile using 1:(column(3*i-1)) \
         with steps lw 2.5 lc rgb word(colors, i) title columnhead(3*i-1), \
     for [j=1:(ncross > 0 ? 1 : 0)] 'crossings.dat' using 1:2 \
         with points pt 7 ps 1.6 lc rgb '#000000' title 'first activation (population)', \
     for [j=1:(ncross > 0 ? 1 : 0)] 'crossings.dat' using 1:4:3 \
         with labels left offset 1.2,0 font ',10' tc rgb '#000000' notitle, \
     @fell_plot
if (zoom > 0) {
    xs = (virtual && xunit eq 'days') ? 24 : 1
    # The crossing labels say "day 0.03" on the main panel; here the axis is in hours.
    closeup_label(s, h) = (xs == 24 && strstrt(s, ', day ') > 0) \
        ? s[1:strstrt(s, ', day ') - 1].', at '.duration(h * 3600) : s
    set title 'Close-up: the threshold crossings (every answer)' font ',13'
    set xlabel (virtual ? 'simulated time (hours)' : 'wall time (s)').xlabel_gap
    set xrange [0:zoom*xs]
    unset key
    plot for [i=1:napps] 'count_detail.dat' index (i-1) using ($1*xs):3:4 \
             with filledcurves lc rgb word(colors, i) notitle, \
         for [i=1:napps] 'count_detail.dat' index (i-1) using ($1*xs):2 \
             with steps lw 2.5 lc rgb word(colors, i) notitle, \
         'crossings.dat' using ($1*xs):2 with points pt 7 ps 1.6 lc rgb '#000000' notitle, \
         'crossings.dat' using ($1*xs):4:(closeup_label(strcol(3), $1*xs)) with labels left \
             offset 1.2,0 font ',10' tc rgb '#000000' notitle
    unset multiplot
}
