#include "report_main.h"

#include "report.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char report_usage[] =
    "Usage: kmsload report RUN_DIR [OPTIONS]\n"
    "\n"
    "Re-renders the charts and the HTML report of an earlier run (also of an interrupted one)\n"
    "from RUN_DIR/events.csv and RUN_DIR/summary.json: the gnuplot data files and the charts\n"
    "(PNG and SVG) go to RUN_DIR/charts/, the report to RUN_DIR/index.html (charts inline, works\n"
    "offline). Without gnuplot on PATH, the data files and index.html are written without the\n"
    "charts. `kmsload run` does the same at the end of every run unless --no-report is given.\n"
    "\n"
    "  -q, --quiet   do not print where the report is\n"
    "  -h, --help    show this help\n"
    "\n"
    "Environment:\n"
    "  KMSLOAD_REPORTS  the directory of the gnuplot scripts and report.html (default: the\n"
    "                   installed share/kmsload/reports, then the source tree's reports/)\n"
    "\n"
    "Exit status:\n"
    "  0  the report is written\n"
    "  1  it could not be written\n"
    "  2  bad usage, or RUN_DIR is missing or not a valid run directory\n";

int report_options_parse(int argc, char **argv, struct report_options *opt, char *err,
                         size_t err_len)
{
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(opt, 0, sizeof *opt);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        if (c == 'q')
            opt->quiet = true;
        else if (c == 'h') {
            opt->help = true;
            return 0;
        } else {
            usage_getopt_error(c, argv, err, err_len);
            return usage_suggest_option(c, argv, longopts, err, err_len);
        }
    }
    if (optind >= argc)
        return usage_set(err, err_len, "missing the RUN_DIR (the --out directory of a run)");
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    opt->run_dir = argv[optind];
    return 0;
}

int report_execute(const struct report_options *opt)
{
    char err[1024];
    int rc = report_write(opt->run_dir, err, sizeof err);
    if (rc != REPORT_OK) {
        fprintf(stderr, "kmsload report: %s\n", err);
        return rc == REPORT_BAD_INPUT ? 2 : 1;
    }
    if (!opt->quiet)
        printf("report: %s/index.html\n", opt->run_dir);
    return 0;
}
