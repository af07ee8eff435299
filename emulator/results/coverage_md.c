#include "coverage_md.h"

#include "atomic_file.h"
#include "events_csv.h"
#include "hresult.h"

#include <stdlib.h>

#include <string.h>

/* Table cells must not contain '|' or line breaks. */
static void cell(FILE *f, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
}

int coverage_md_print(FILE *f, const struct coverage *cv, const struct catalog *cat,
                      const char *heading)
{
    char host[200], keys[1024], result[400];
    coverage_host_text(cv, host, sizeof host);
    coverage_keys_text(cv, cat, keys, sizeof keys);
    size_t counts[4] = {0};
    for (size_t i = 0; i < cv->n_groups; i++)
        counts[cv->groups[i].state]++;
    fprintf(f, "%s Host key coverage\n\n", heading);
    fprintf(f, "- Host OS: %s\n", host);
    fprintf(f, "- Coverage matches the host keys: %s\n", keys);
    fprintf(f, "- %zu product groups: %zu activated, %zu refused, %zu errors\n\n",
            counts[COVERAGE_ACTIVATED] + counts[COVERAGE_REFUSED] + counts[COVERAGE_ERROR],
            counts[COVERAGE_ACTIVATED], counts[COVERAGE_REFUSED], counts[COVERAGE_ERROR]);
    fprintf(f, "| Product group | Result |\n|---|---|\n");
    for (size_t i = 0; i < cv->n_groups; i++) {
        const struct coverage_group *g = &cv->groups[i];
        if (g->state == COVERAGE_NOT_ASKED)
            continue;
        coverage_result_text(g, result, sizeof result);
        fputs("| ", f);
        cell(f, cat->kms[g->kms].name);
        fputs(" | ", f);
        cell(f, result);
        fputs(" |\n", f);
    }
    if (counts[COVERAGE_REFUSED]) {
        fprintf(f, "\nWhat to do:\n\n");
        for (size_t i = 0; i < cv->n_groups; i++)
            if (cv->groups[i].state == COVERAGE_REFUSED) {
                fputs("- ", f);
                cell(f, cv->groups[i].advice);
                fputc('\n', f);
            }
    }
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

int coverage_from_events(const char *events_path, const struct catalog *cat, struct coverage *cv,
                         char *err, size_t err_len)
{
    coverage_init(cv, cat);
    struct events_csv_reader *r = events_csv_open(events_path, err, err_len);
    if (!r)
        return -1;
    struct events_row *row = malloc(sizeof *row);
    int got = row ? 0 : -1;
    if (!row)
        snprintf(err, err_len, "out of memory");
    while (row && (got = events_csv_next(r, row, err, err_len)) > 0) {
        const struct catalog_sku *sku = catalog_find_sku(cat, row->product);
        if (!sku)
            continue;
        const struct run_event *ev = &row->ev;
        coverage_note(cv, sku->kms, kms_outcome_has_count(ev->outcome),
                      ev->outcome == KMS_OUTCOME_HOST_ERROR, ev->hresult,
                      ev->count < 0 ? 0 : (unsigned)ev->count, ev->epid,
                      kms_outcome_name(ev->outcome));
    }
    free(row);
    events_csv_close(r);
    if (got < 0)
        return -1;
    coverage_judge(cv, cat);
    return 0;
}

int coverage_md_write(const char *path, const struct coverage *cv, const struct catalog *cat,
                      char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        snprintf(err, err_len, "cannot build %s: out of memory", path);
        return -1;
    }
    int rc = coverage_md_print(mem, cv, cat, "##");
    if (fclose(mem) != 0 || rc != 0) {
        snprintf(err, err_len, "cannot build %s: out of memory", path);
        free(text);
        return -1;
    }
    rc = atomic_file_write(path, text, len, 0644, err, err_len);
    free(text);
    return rc;
}
