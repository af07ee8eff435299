#include "coverage_run.h"

#include "catalog.h"
#include "coverage_json.h"
#include "coverage_md.h"
#include "coverage_print.h"
#include "coverage_probe.h"
#include "net.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *to_json(const struct coverage_run_options *o, const struct coverage *cv,
                       const struct catalog *cat, int status)
{
    json_t *root = json_object(), *answer = coverage_json_build(cv, cat);
    json_object_set_new(root, "target", json_sprintf("%s:%u", o->host, o->port));
    json_object_update(root, answer);
    json_decref(answer);
    json_object_set_new(root, "exit_status", json_integer(status));
    return root;
}

static int write_markdown(const char *path, const struct coverage *cv, const struct catalog *cat)
{
    char err[512];
    if (strcmp(path, "-") == 0)
        return coverage_md_print(stdout, cv, cat, "##");
    if (coverage_md_write(path, cv, cat, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "kmsload coverage: %s\n", err);
    return -1;
}

int coverage_run(const struct coverage_run_options *o)
{
    struct catalog cat;
    char err[512];
    if (catalog_load(&cat, o->catalog_file, err, sizeof err)) {
        fprintf(stderr, "kmsload coverage: %s\n", err);
        return COVERAGE_EXIT_USAGE;
    }
    size_t required[COVERAGE_MAX_GROUPS], n_required = 0;
    if (o->require && coverage_parse_groups(&cat, o->require, required, COVERAGE_MAX_GROUPS,
                                            &n_required, err, sizeof err)) {
        /* The same words as cmd's usage_error: a bad --require is a usage error. */
        fprintf(stderr, "kmsload coverage: --require: %s\nTry 'kmsload coverage --help'.\n", err);
        catalog_free(&cat);
        return COVERAGE_EXIT_USAGE;
    }
    struct coverage *cv = malloc(sizeof *cv);
    struct net_addrs addrs;
    int status = COVERAGE_EXIT_OK;
    if (!cv) {
        fprintf(stderr, "kmsload coverage: out of memory\n");
        catalog_free(&cat);
        return 1;
    }
    coverage_init(cv, &cat);
    struct coverage_probe_options popt = {
        .addrs = &addrs, .timeout_us = o->timeout_us, .check_clock = true};
    client_session_options_default(&popt.exchange);
    if (net_resolve(o->host, o->port, false, &addrs, err, sizeof err) ||
        coverage_probe(&cat, &popt, cv, err, sizeof err)) {
        fprintf(stderr, "kmsload coverage: %s:%u: %s\n", o->host, o->port, err);
        free(cv);
        catalog_free(&cat);
        return COVERAGE_EXIT_UNREACHABLE;
    }
    coverage_judge(cv, &cat);
    char target[300];
    snprintf(target, sizeof target, "%s:%u", o->host, o->port);
    enum coverage_verdict v = coverage_verdict(cv, &cat, required, n_required, target, stderr);
    status = v == COVERAGE_UNANSWERED ? COVERAGE_EXIT_UNREACHABLE
             : v == COVERAGE_MISSING  ? COVERAGE_EXIT_MISSING
                                      : COVERAGE_EXIT_OK;
    if (o->json) {
        json_t *root = to_json(o, cv, &cat, status);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
        json_decref(root);
    } else if (!o->markdown || strcmp(o->markdown, "-") != 0) {
        coverage_print_text(stdout, o->host, o->port, cv, &cat);
    }
    if (o->markdown && write_markdown(o->markdown, cv, &cat))
        status = status ? status : 1;
    fflush(stdout);
    free(cv);
    catalog_free(&cat);
    return status;
}
