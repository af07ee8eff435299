#include "run_plan_text.h"

#include "value_parse.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

/* What the synthetic CMIDs leave behind: whether real clients activate because of them (a
 * licensing team must be told when a run lifts a host over its thresholds). */
static void print_plan_after(FILE *f, const struct scenario *sc, const struct run_plan *plan)
{
    bool from_host = strcmp(sc->products, "from-host") == 0;
    if (from_host)
        fprintf(f, "  products:         from the host: one request per product group first (one "
                   "CMID per application), then what its keys cover\n");
    bool lifted = false;
    for (size_t a = 0; a < plan->n_apps; a++) {
        bool windows = strcmp(plan->apps[a].key, "windows") == 0;
        uint64_t n = plan->apps[a].cmids + (from_host ? 1 : 0), cap = windows ? 50 : 10;
        n = n > cap ? cap : n; /* the host's cache holds 2 x the largest N_Policy (spec §10) */
        if (!plan->apps[a].cmids || n < 5)
            continue;
        fprintf(f,
                "  afterwards:       the host counts %llu %s machines of this run for 30 days: "
                "%s activate at once from then on, without reaching the threshold themselves\n",
                (unsigned long long)n, plan->apps[a].key,
                !windows  ? "real clients of it"
                : n >= 25 ? "real Windows clients and servers"
                          : "real Windows servers (clients still need 25)");
        lifted = true;
    }
    if (!lifted && plan->cmids)
        fprintf(f, "  afterwards:       every count stays below 5: no real client activates "
                   "because of this run\n");
}

/* The plan: what the run will send and what it leaves in the host's counts. */
void run_plan_print(FILE *f, const struct scenario *sc, const struct run_plan *plan,
                    const char *target_desc, bool loopback, bool clock_check, bool recon)
{
    char duration[32], wall[32];
    value_format_duration(sc->duration_us, duration, sizeof duration);
    value_format_duration(scenario_max_wall(sc), wall, sizeof wall);
    fprintf(f, "kmsload run: plan for %s against %s%s\n", sc->name, target_desc,
            loopback ? "" : " (not a loopback address)");
    if (sc->clock == SCENARIO_CLOCK_REAL)
        fprintf(f, "  clock:            real, %s of wall time (stops at %s)\n", duration, wall);
    else
        fprintf(f,
                "  clock:            virtual, %s simulated as fast as the host answers (stops at "
                "%s of wall time)\n",
                duration, wall);
    fprintf(f, "  machines:         %llu\n", (unsigned long long)plan->machines);
    fprintf(f,
            "  requests:         %s%llu against a host that counts nobody else (fewer when it "
            "already counts machines)\n",
            plan->requests_more ? "more than " : "", (unsigned long long)plan->requests);
    fprintf(f, "  synthetic CMIDs:  %llu", (unsigned long long)plan->cmids);
    const char *sep = " (";
    for (size_t a = 0; a < plan->n_apps; a++)
        if (plan->apps[a].cmids) {
            fprintf(f, "%s%s %llu", sep, plan->apps[a].key,
                    (unsigned long long)plan->apps[a].cmids);
            sep = ", ";
        }
    fprintf(f, "%s; each stays in the host's count for 30 days after its last request\n",
            plan->cmids ? ")" : "");
    print_plan_after(f, sc, plan);
    if (plan->peak_rate > 0)
        fprintf(f, "  peak rate:        %.0f requests/s%s; at most %u in flight\n",
                ceil(plan->peak_rate),
                sc->max_rate > 0 && plan->peak_rate >= sc->max_rate ? " (the max_rate cap)" : "",
                plan->concurrency);
    else
        fprintf(f,
                "  peak rate:        as fast as the host answers (no --max-rate); at most %u in "
                "flight\n",
                plan->concurrency);
    if (clock_check)
        fprintf(
            f,
            "  clock check:      one request more, first: the run's first machine, dated 5 hours "
            "ago (a host that refuses it checks client time, and the run stops there)\n");
    if (recon)
        fprintf(f, "  reconnaissance:   one request per product group first, one fixed CMID per "
                   "application (counted once ever): the host's counts, build and keys\n");
    if (!loopback)
        fprintf(f, "  N_Policy:         capped at the products' documented values\n");
}

/* Moved from cmd/run_main.c (issue 18): asking for the plan's go-ahead belongs with the plan. */
bool run_plan_confirmed_on_terminal(const char *target)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return false;
    fprintf(stderr, "Send these requests to %s? Type yes to go on: ", target);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "yes") == 0;
}
