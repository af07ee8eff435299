# The charts of `kmsload fleet`'s report (DIR/index.html), in the look of the run reports.
# Called by kmsload in DIR/charts/ with:
#   gnuplot -e "fmt='svg'; chart='count'; napps=3; from='2026-01-01'" fleet.gp
# chart: count    fleet_count.dat: day, then each application's count (the host's, rebuilt)
#        requests fleet_requests.dat: day, activated, below threshold, refused
#        products fleet_products.dat: index, machines, "product name"
#        expiry   fleet_expiry.dat: days until the activation lapses (week bins), machines
if (!exists("fmt")) fmt = 'png'
if (!exists("chart")) chart = 'count'
if (!exists("napps")) napps = 1
if (!exists("from")) from = 'the first event'
if (!exists("colors")) colors = '#1f77b4 #ff7f0e #2ca02c'
if (fmt eq 'svg') {
    set terminal svg size 1000,520 dynamic noenhanced font 'Helvetica,13' background '#ffffff'
} else {
    set terminal pngcairo size 1000,520 noenhanced font 'Helvetica,11' background '#ffffff'
}
set output 'fleet-'.chart.'.'.fmt
here = ''
if (exists("ARG0")) { do for [k = strlen(ARG0):1:-1] { if (here eq '' && ARG0[k:k] eq '/') { here = ARG0[1:k] } } }
virtual = 1
xunit = 'days'
load here.'common.gp'
set grid ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
@key_below
set yrange [0:*]

if (chart eq 'count') {
    set title 'The host''s count per application, rebuilt from the log (30-day window, genuine cap)' font ',14'
    set xlabel 'days since '.from.xlabel_gap
    set ylabel 'count (distinct machines the host held)'
    set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
    @threshold_lines
    set yrange [0:*]
    plot for [i=1:napps] 'fleet_count.dat' using 1:(column(i+1)) with steps lw 2 \
        lc rgb word(colors, i) title columnhead(i+1)
}
if (chart eq 'requests') {
    set title 'Requests per day, by what the host answered (stacked)' font ',14'
    set xlabel 'days since '.from.xlabel_gap
    set ylabel 'requests per day'
    set boxwidth 1 absolute
    set style fill solid 0.9 border lc rgb '#ffffff'
    oc = '#2ca02c #f2b701 #d62728'
    plot for [i=3:1:-1] 'fleet_requests.dat' using ($1 + 0.5):(sum [c=2:i+1] column(c)) \
        with boxes lc rgb word(oc, i) title columnhead(i+1)
}
if (chart eq 'products') {
    set title 'Machines per product' font ',14'
    set ylabel 'machines'
    set boxwidth 0.7 relative
    set style fill solid 0.9 border lc rgb '#ffffff'
    set xtics rotate by -30 left font ',10'
    set xrange [-0.6:*]
    plot 'fleet_products.dat' using 1:2:xtic(3) with boxes lc rgb '#1f77b4' title 'machines'
}
if (chart eq 'expiry') {
    set title 'Expiry horizon: when each machine''s activation lapses if the host disappears today' font ',14'
    set xlabel 'days from the end of the log (weeks)'.xlabel_gap
    set ylabel 'machines'
    set boxwidth 7 absolute
    set style fill solid 0.9 border lc rgb '#ffffff'
    set arrow 3 from 30, graph 0 to 30, graph 1 nohead lc rgb '#c62828' dt 2 lw 1.5 back
    set label 3 'near expiry: within 30 days' at 31, graph 0.95 left tc rgb '#c62828' front
    set xrange [-7:*]
    plot 'fleet_expiry.dat' using ($1 + 3.5):2 with boxes lc rgb '#9467bd' title 'machines lapsing that week (already lapsed: left of 0)'
}
