/* kmsload: the command-line entry point, one table of subcommands. Only this file decides the
 * process exit status. */
#include "check.h"
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

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
    "                      its answers as Prometheus metrics (and /probe, an exporter)\n"
    "  check HOST[:PORT]   check a host as a Nagios/Icinga plugin: one status line with\n"
    "                      performance data, exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help ('kmsload COMMAND --help' for a command)\n"
    "  -V, --version       show the version\n";

/* One subcommand: its --help, its options parsed (argv[0] is its name) and executed. The typed
 * functions of each command sit behind these untyped ones (ADAPT below). */
struct subcommand {
    const char *name;
    const char *usage;
    size_t options_size;
    int (*parse)(int argc, char **argv, void *options, char *err, size_t err_len);
    bool (*help)(const void *options);
    /* Old spellings the command line used: the notes for stderr (NULL: never any). */
    size_t (*notes)(const void *options, const char **notes, size_t cap);
    int (*execute)(const void *options);
    /* A command that still reads its own command line (the steps above are its own). */
    int (*main)(int argc, char **argv);
};

#define ADAPT(cmd, type)                                                                           \
    static int cmd##_parse_any(int argc, char **argv, void *o, char *err, size_t err_len)          \
    {                                                                                              \
        return cmd##_options_parse(argc, argv, (type *)o, err, err_len);                           \
    }                                                                                              \
    static bool cmd##_help_any(const void *o)                                                      \
    {                                                                                              \
        return ((const type *)o)->help;                                                            \
    }                                                                                              \
    static int cmd##_execute_any(const void *o)                                                    \
    {                                                                                              \
        return cmd##_execute((const type *)o);                                                     \
    }

ADAPT(probe, struct probe_options)
ADAPT(run, struct run_options)
ADAPT(host, struct host_options)
ADAPT(report, struct report_options)
ADAPT(coverage, struct coverage_options)
ADAPT(discover, struct discover_options)
ADAPT(merge, struct merge_command_options)
ADAPT(scenarios, struct scenarios_options)
ADAPT(watch, struct watch_options)

static size_t probe_notes(const void *o, const char **notes, size_t cap)
{
    notes[0] = ((const struct probe_options *)o)->deprecated;
    return cap && notes[0] ? 1 : 0;
}

static size_t coverage_notes(const void *o, const char **notes, size_t cap)
{
    notes[0] = ((const struct coverage_options *)o)->deprecated;
    return cap && notes[0] ? 1 : 0;
}

static size_t discover_notes(const void *o, const char **notes, size_t cap)
{
    const struct discover_options *d = o;
    size_t n = 0;
    for (; n < d->n_notes && n < cap; n++)
        notes[n] = d->notes[n];
    return n;
}

static size_t watch_notes(const void *o, const char **notes, size_t cap)
{
    notes[0] = ((const struct watch_options *)o)->deprecated;
    return cap && notes[0] ? 1 : 0;
}

#define COMMAND(cmd, type, notes)                                                                  \
    {                                                                                              \
#cmd, cmd##_usage, sizeof(type), cmd##_parse_any, cmd##_help_any, notes,                   \
            cmd##_execute_any, NULL                                                                \
    }

static const struct subcommand commands[] = {
    COMMAND(probe, struct probe_options, probe_notes),
    COMMAND(run, struct run_options, NULL),
    COMMAND(host, struct host_options, NULL),
    COMMAND(report, struct report_options, NULL),
    COMMAND(coverage, struct coverage_options, coverage_notes),
    COMMAND(discover, struct discover_options, discover_notes),
    COMMAND(merge, struct merge_command_options, NULL),
    COMMAND(scenarios, struct scenarios_options, NULL),
    {"fleet", NULL, 0, NULL, NULL, NULL, NULL, fleet_main},
    COMMAND(watch, struct watch_options, watch_notes),
    {"check", check_usage, 0, NULL, NULL, NULL, NULL, check_main},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The five steps every subcommand takes: parse, a usage error (2), --help (0), the notes, and
 * the execution, whose status is the process's. */
static int run_subcommand(const struct subcommand *c, int argc, char **argv)
{
    if (c->main)
        return c->main(argc, argv);
    void *options = calloc(1, c->options_size);
    if (!options)
        return 1;
    char err[4096];
    int status = 0;
    if (c->parse(argc, argv, options, err, sizeof err)) {
        usage_error(c->name, "%s", err);
        status = 2;
    } else if (c->help(options)) {
        fputs(c->usage, stdout);
    } else {
        const char *notes[8];
        size_t n = c->notes ? c->notes(options, notes, 8) : 0;
        for (size_t i = 0; i < n; i++)
            usage_note(c->name, notes[i]);
        status = c->execute(options);
    }
    free(options);
    return status;
}

static void unknown_command(const char *cmd)
{
    const char *names[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    const char *near = usage_nearest(cmd, names, N_COMMANDS);
    if (near)
        fprintf(stderr, "kmsload: unknown command \"%s\" (did you mean \"%s\"?)\n", cmd, near);
    else
        fprintf(stderr, "kmsload: unknown command \"%s\"\n", cmd);
    fputs("Try 'kmsload --help'.\n", stderr);
}

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
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return run_subcommand(&commands[i], argc - 1, argv + 1);
    unknown_command(cmd);
    return 2;
}
