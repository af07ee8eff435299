/* junit.xml (see junit_xml.h). */
#include "junit_xml.h"

#include "markup.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One expectation's test case: a failure with what was observed, or a pass. */
static void expectation_case(FILE *f, const char *name, const struct expect_result *r)
{
    const struct scenario_expectation *e = r->expectation;
    fputs("    <testcase classname=\"kmsload.", f);
    markup_text(f, name, SCENARIO_NAME_MAX);
    fputs("\" name=\"", f);
    /* The rule as the console writes it ("error_rate ≤ 0"). */
    if (r->rule[0])
        markup_text(f, r->rule, sizeof r->rule);
    else
        markup_text(f, e ? e->text : "", e ? sizeof e->text : 1);
    fputs("\" time=\"0\">\n", f);
    if (r->passed) {
        fputs("      <system-out>", f);
    } else {
        fputs("      <failure message=\"", f);
        markup_text(f, r->observed, sizeof r->observed);
        fputs("\"/>\n      <system-out>", f);
    }
    if (e)
        fprintf(f, "line %u: ", e->line);
    markup_text(f, r->observed, sizeof r->observed);
    fputs("</system-out>\n    </testcase>\n", f);
}

char *junit_xml_build(const struct run_info *info, const struct expect_result *results,
                      size_t n_results, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    const struct scenario *sc = info->scenario;
    const char *name = sc && sc->name[0] ? sc->name : "run";
    size_t failures = 0;
    for (size_t i = 0; i < n_results; i++)
        failures += !results[i].passed;
    size_t tests = n_results + (info->interrupted ? 1 : 0) + (info->write_error ? 1 : 0);
    failures += (info->interrupted ? 1 : 0) + (info->write_error ? 1 : 0);
    double secs = isfinite(info->wall_seconds) ? info->wall_seconds : 0.0;
    const char *reason = info->interrupt_reason ? info->interrupt_reason : "interrupted";

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", tests, failures,
            secs);
    fputs("  <testsuite name=\"kmsload: ", f);
    markup_text(f, name, SCENARIO_NAME_MAX);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
            tests, failures, secs);
    fputs("    <properties>\n", f);
    fputs("      <property name=\"target\" value=\"", f);
    markup_text(f, info->target, 512);
    fprintf(f, "\"/>\n      <property name=\"seed\" value=\"%" PRIu64 "\"/>\n", info->seed);
    if (info->run_id) {
        fputs("      <property name=\"run_id\" value=\"", f);
        markup_text(f, info->run_id, 64);
        fputs("\"/>\n", f);
    }
    if (info->recon && info->recon->done) {
        fputs("      <property name=\"reconnaissance\" value=\"", f);
        for (size_t a = 0; a < info->recon->n_apps; a++)
            if (info->recon->apps[a].used && info->recon->apps[a].counted)
                fprintf(f, "%s %u counted before the run; ", info->recon->apps[a].key,
                        info->recon->apps[a].count);
        markup_text(f, info->recon->host_os, sizeof info->recon->host_os);
        fputs("\"/>\n", f);
    }
    if (sc) {
        fputs("      <property name=\"scenario\" value=\"", f);
        markup_text(f, sc->path, sizeof sc->path);
        fputs("\"/>\n", f);
    }
    fputs("    </properties>\n", f);
    for (size_t i = 0; i < n_results; i++)
        expectation_case(f, name, &results[i]);
    if (info->interrupted) {
        fputs("    <testcase classname=\"kmsload.", f);
        markup_text(f, name, SCENARIO_NAME_MAX);
        fputs("\" name=\"run completed\" time=\"0\">\n      <failure message=\"interrupted: ", f);
        markup_text(f, reason, 256);
        if (info->advice) { /* what the console said to do, for the CI page too */
            fputs("\">", f);
            markup_text(f, info->advice, 1024);
            fputs("</failure>\n    </testcase>\n", f);
        } else {
            fputs("\"/>\n    </testcase>\n", f);
        }
        fputs("    <system-out>The run was interrupted (", f);
        markup_text(f, reason, 256);
        if (info->advice) { /* it stopped before it began: nothing was evaluated */
            fputs(") before it began: no expectation was evaluated. ", f);
            markup_text(f, info->advice, 1024);
        } else {
            fputs(") before its end: the expectations were evaluated on what it had done by then.",
                  f);
        }
        fputs("</system-out>\n", f);
    }
    if (info->write_error) {
        fputs("    <testcase classname=\"kmsload.", f);
        markup_text(f, name, SCENARIO_NAME_MAX);
        fputs("\" name=\"run files written\" time=\"0\">\n      <failure message=\"", f);
        markup_text(f, info->write_error, 1024);
        fputs("\"/>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
