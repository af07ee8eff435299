/* kmsload: the command-line entry point. Only this file decides the process exit status. */
#include "coverage_main.h"
#include "discover.h"
#include "fleet_main.h"
#include "host_main.h"
#include "merge_main.h"
#include "probe.h"
#include "report_main.h"
#include "run_main.h"
#include "scenarios_main.h"
#include "usage.h"
#include "watch.h"

#include <stdio.h>
#include <string.h>

static const char main_usage[] =
    "Usage: kmsload COMMAND [OPTIONS]\n"
    "\n"
    "A KMS (Key Management Service) client emulator and load tester.\n"
    "\n"
    "Commands:\n"
    "  probe HOST[:PORT]   send one activation request and print the decoded answer\n"
    "  run SCENARIO        run a scenario: a simulated fleet against a host (default: the\n"
    "                      embedded reference host), checked against a model of genuine counting\n"
    "                      (SCENARIO: a file, a shipped scenario's name, or - for standard input)\n"
    "  scenarios           list the shipped scenarios and what each shows\n"
    "  host                run the reference KMS host (loopback by default)\n"
    "  report RUN_DIR      re-render the charts and index.html of an earlier run\n"
    "  merge OUT RUN...    merge the output directories of a sharded run into one\n"
    "  coverage HOST[:PORT]  which products a host's keys activate, and what to install for the\n"
    "                      refused ones\n"
    "  discover DOMAIN     list and probe the KMS hosts published in DNS (_vlmcs._tcp SRV)\n"
    "  fleet LOG...        import a KMS host's event 12290 log: the fleet, its findings\n"
    "  watch HOST|dns:DOM  probe production hosts at an interval (a stable CMID) and export\n"
    "                      its answers as Prometheus metrics\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help ('kmsload COMMAND --help' for a command)\n"
    "  -V, --version       show the version\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("kmsload %s\n", KMSLOAD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "probe") == 0)
        return probe_main(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "host") == 0)
        return host_main(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return report_main(argc - 1, argv + 1);
    if (strcmp(cmd, "coverage") == 0)
        return coverage_main(argc - 1, argv + 1);
    if (strcmp(cmd, "discover") == 0)
        return discover_main(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return merge_main(argc - 1, argv + 1);
    if (strcmp(cmd, "scenarios") == 0)
        return scenarios_main(argc - 1, argv + 1);
    if (strcmp(cmd, "fleet") == 0)
        return fleet_main(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return watch_main(argc - 1, argv + 1);
    static const char *const commands[] = {"probe",    "run",   "host",      "report", "coverage",
                                           "discover", "merge", "scenarios", "fleet",  "watch"};
    const char *near = usage_nearest(cmd, commands, sizeof commands / sizeof commands[0]);
    if (near)
        fprintf(stderr, "kmsload: unknown command \"%s\" (did you mean \"%s\"?)\n", cmd, near);
    else
        fprintf(stderr, "kmsload: unknown command \"%s\"\n", cmd);
    fputs("Try 'kmsload --help'.\n", stderr);
    return 2;
}
