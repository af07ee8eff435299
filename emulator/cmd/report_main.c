#include "report_main.h"

#include "report.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char report_usage[] =
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

int report_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(report_usage, stdout);
            return 0;
        default:
            usage_error("report", "unknown option \"%s\"", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        usage_error("report", "missing the RUN_DIR (the --out directory of a run)");
        return 2;
    }
    if (optind + 1 < argc) {
        usage_error("report", "unexpected argument \"%s\"", argv[optind + 1]);
        return 2;
    }
    const char *dir = argv[optind];
    char err[1024];
    int rc = report_write(dir, err, sizeof err);
    if (rc != REPORT_OK) {
        fprintf(stderr, "kmsload report: %s\n", err);
        return rc == REPORT_BAD_INPUT ? 2 : 1;
    }
    if (!quiet)
        printf("report: %s/index.html\n", dir);
    return 0;
}
