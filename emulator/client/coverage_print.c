#include "coverage_print.h"

#include "hresult.h"

#include <stdbool.h>

void coverage_print_text(FILE *f, const char *host_name, uint16_t port, const struct coverage *cv,
                         const struct catalog *cat)
{
    char host[200], keys[1024], result[400];
    coverage_host_text(cv, host, sizeof host);
    coverage_keys_text(cv, cat, keys, sizeof keys);
    fprintf(f, "kmsload coverage %s:%u\n", host_name, port);
    fprintf(f, "host OS:      %s\n", host);
    fprintf(f, "host keys:    %s\n", keys);
    if (cv->clock != COVERAGE_CLOCK_NOT_ASKED)
        fprintf(f, "clock:        %s\n", coverage_clock_text(cv->clock));
    if (cv->n_unexplained) {
        fprintf(f, "also:         activates");
        for (size_t i = 0; i < cv->n_unexplained; i++)
            fprintf(f, "%s %s", i ? "," : "", cat->kms[cv->unexplained[i]].name);
        fprintf(f, " (no single host key explains these)\n");
    }
    fputc('\n', f);
    uint32_t meanings[8];
    size_t n_meanings = 0;
    for (size_t i = 0; i < cv->n_groups; i++) {
        const struct coverage_group *g = &cv->groups[i];
        if (g->state == COVERAGE_REFUSED) {
            /* The HRESULT's meaning once, below the table, keeps each row on one line. */
            snprintf(result, sizeof result, "refused   0x%08X %s", g->hresult,
                     hresult_name(g->hresult));
            bool seen = false;
            for (size_t m = 0; m < n_meanings; m++)
                seen = seen || meanings[m] == g->hresult;
            if (!seen && n_meanings < 8)
                meanings[n_meanings++] = g->hresult;
        } else {
            coverage_result_text(g, result, sizeof result);
        }
        fprintf(f, "  %-50s %s\n", cat->kms[g->kms].name, result);
    }
    for (size_t m = 0; m < n_meanings; m++)
        fprintf(f, "  (0x%08X: %s)\n", meanings[m], hresult_meaning(meanings[m]));
    bool any = false;
    for (size_t i = 0; i < cv->n_groups; i++)
        if (cv->groups[i].state == COVERAGE_REFUSED) {
            if (!any)
                fprintf(f, "\nWhat to do:\n");
            any = true;
            fprintf(f, "  - %s\n", cv->groups[i].advice);
        }
    /* What a genuine host could not have answered: an emulator or a misconfigured host. */
    if (cv->n_findings) {
        fprintf(f, "\nNot what a genuine host answers (an emulator or a misconfigured host):\n");
        for (size_t i = 0; i < cv->n_findings; i++)
            fprintf(f, "  - %s\n", cv->findings[i].reason);
    }
}

enum coverage_verdict coverage_verdict(struct coverage *cv, const struct catalog *cat,
                                       const size_t *required, size_t n_required,
                                       const char *target, FILE *msg)
{
    enum coverage_verdict v = COVERAGE_ANSWERED;
    /* Not one KMS answer (faults, garbage, connections reset or closed mid-PDU): the host was
     * not reached as a KMS host, whatever was required of it, as probe says. */
    const struct coverage_group *first_error = NULL;
    bool answered = false;
    for (size_t i = 0; i < cv->n_groups; i++) {
        answered |=
            cv->groups[i].state == COVERAGE_ACTIVATED || cv->groups[i].state == COVERAGE_REFUSED;
        if (!first_error && cv->groups[i].state == COVERAGE_ERROR)
            first_error = &cv->groups[i];
    }
    if (!answered) {
        v = COVERAGE_UNANSWERED;
        fprintf(msg, "kmsload coverage: %s: no product group got a KMS answer%s%s%s\n", target,
                first_error ? " (first: " : "", first_error ? first_error->detail : "",
                first_error ? ")" : "");
    }
    for (size_t i = 0; i < n_required; i++) {
        const struct coverage_group *g = coverage_group_of(cv, required[i]);
        if (!g || g->state != COVERAGE_ACTIVATED) {
            v = v != COVERAGE_ANSWERED ? v : COVERAGE_MISSING;
            fprintf(msg, "kmsload coverage: required product group %s is %s\n",
                    cat->kms[required[i]].name,
                    g ? coverage_state_name(g->state) : "retail (genuine hosts refuse it)");
        }
    }
    return v;
}
