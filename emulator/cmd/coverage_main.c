#include "coverage_main.h"

#include "atomic_file.h"
#include "catalog.h"
#include "coverage_md.h"
#include "coverage_probe.h"
#include "hresult.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char coverage_usage[] =
    "Usage: kmsload coverage HOST[:PORT] [OPTIONS]\n"
    "\n"
    "Asks a KMS host once about every volume product group and answers in words: the host OS\n"
    "(the build in its ePID), the host keys (CSVLKs) its coverage matches, each group activated,\n"
    "refused (HRESULT and its meaning) or failed, and for every refused group what to install\n"
    "first. Each application is asked with one fixed CMID and N_Policy 1, so the host's counts\n"
    "grow by at most one per application and its cache capacity does not change.\n"
    "\n"
    "      --require GROUP,...  product groups that must be activated (catalogue KMS keys, e.g.\n"
    "                           ws2025,win10,office2021); exit 1 when one is not\n"
    "      --json               print the answer as JSON\n"
    "      --markdown FILE      also write it as Markdown ('-' for standard output)\n"
    "  -t, --target HOST[:PORT] the host (instead of the HOST argument)\n"
    "      --timeout DUR        per request (default 5s; -t DUR still works, deprecated)\n"
    "      --catalog FILE       product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 every --require group activated (or none given), 1 one was not, 2 usage,\n"
    "3 the host could not be reached.\n";

enum { OPT_JSON = 256, OPT_MARKDOWN, OPT_REQUIRE, OPT_CATALOG, OPT_TIMEOUT };

int coverage_options_parse(int argc, char **argv, struct coverage_options *o, char *err,
                           size_t err_len)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"markdown", required_argument, NULL, OPT_MARKDOWN},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"target", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->timeout_us = 5000000;
    optind = 1;
    opterr = 0;
    int c;
    char why[256];
    while ((c = getopt_long(argc, argv, ":t:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_MARKDOWN:
            o->markdown = optarg;
            break;
        case OPT_REQUIRE:
            o->require = optarg;
            break;
        case OPT_CATALOG:
            o->catalog_file = optarg;
            break;
        case 't':
            if (!usage_looks_like_duration(optarg)) {
                o->target = optarg;
                break;
            }
            o->deprecated = USAGE_NOTE_T_TIMEOUT; /* the old -t DURATION */
            /* fall through */
        case OPT_TIMEOUT:
            if (value_parse_duration(optarg, false, &o->timeout_us, why, sizeof why) ||
                o->timeout_us <= 0)
                return usage_set(err, err_len, "--timeout: %s",
                                 o->timeout_us <= 0 ? "must be positive" : why);
            break;
        case 'h':
            o->help = true;
            return 0;
        default:
            usage_getopt_error(c, argv, err, err_len);
            return usage_suggest_option(c, argv, longopts, err, err_len);
        }
    }
    if (optind >= argc && !o->target)
        return usage_set(err, err_len, "missing the target HOST[:PORT] (or -t HOST[:PORT])");
    if (optind < argc && o->target)
        return usage_set(err, err_len, "the target given twice: \"%s\" and -t \"%s\"", argv[optind],
                         o->target);
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    if (!o->target)
        o->target = argv[optind];
    if (net_parse_target(o->target, KMS_DEFAULT_PORT, o->host, sizeof o->host, &o->port, why,
                         sizeof why))
        return usage_set(err, err_len, "%s", why);
    return 0;
}

static void print_text(FILE *f, const struct coverage_options *o, const struct coverage *cv,
                       const struct catalog *cat)
{
    char host[200], keys[1024], result[400];
    coverage_host_text(cv, host, sizeof host);
    coverage_keys_text(cv, cat, keys, sizeof keys);
    fprintf(f, "kmsload coverage %s:%u\n", o->host, o->port);
    fprintf(f, "host OS:      %s\n", host);
    fprintf(f, "host keys:    %s\n", keys);
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
}

static json_t *to_json(const struct coverage_options *o, const struct coverage *cv,
                       const struct catalog *cat, int status)
{
    char host[200];
    coverage_host_text(cv, host, sizeof host);
    json_t *root = json_object(), *groups = json_array(), *keys = json_array();
    char target[NET_HOST_MAX + 8];
    snprintf(target, sizeof target, "%s:%u", o->host, o->port);
    json_object_set_new(root, "target", json_string(target));
    json_object_set_new(root, "build", json_integer(cv->build));
    json_object_set_new(root, "host_os", cv->os ? json_string(cv->os->name) : json_null());
    json_object_set_new(root, "host_os_text", json_string(host));
    for (size_t i = 0; i < cv->matched.n; i++) {
        const struct catalog_csvlk *k = &cat->csvlks[cv->matched.key[i]];
        json_t *key = json_object();
        json_object_set_new(key, "key", json_string(k->key));
        json_object_set_new(key, "name", json_string(k->name));
        json_array_append_new(keys, key);
    }
    json_object_set_new(root, "host_keys", keys);
    for (size_t i = 0; i < cv->n_groups; i++) {
        const struct coverage_group *g = &cv->groups[i];
        json_t *j = json_object();
        char hr[16];
        json_object_set_new(j, "group", json_string(cat->kms[g->kms].key));
        json_object_set_new(j, "name", json_string(cat->kms[g->kms].name));
        json_object_set_new(j, "result", json_string(coverage_state_name(g->state)));
        if (g->state == COVERAGE_ACTIVATED) {
            json_object_set_new(j, "count", json_integer(g->count));
            json_object_set_new(j, "epid", json_string(g->epid));
        } else if (g->state == COVERAGE_REFUSED) {
            snprintf(hr, sizeof hr, "0x%08X", g->hresult);
            json_object_set_new(j, "hresult", json_string(hr));
            json_object_set_new(j, "hresult_name", json_string(hresult_name(g->hresult)));
            json_object_set_new(j, "meaning", json_string(hresult_meaning(g->hresult)));
            json_object_set_new(j, "advice", json_string(g->advice));
        } else if (g->state == COVERAGE_ERROR) {
            json_object_set_new(j, "detail", json_string(g->detail));
        }
        json_array_append_new(groups, j);
    }
    json_object_set_new(root, "groups", groups);
    json_object_set_new(root, "exit_status", json_integer(status));
    return root;
}

static int write_markdown(const char *path, const struct coverage *cv, const struct catalog *cat)
{
    if (strcmp(path, "-") == 0)
        return coverage_md_print(stdout, cv, cat, "##");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return -1;
    int rc = coverage_md_print(mem, cv, cat, "##");
    if (fclose(mem) != 0)
        rc = -1;
    char err[512];
    if (rc == 0 && atomic_file_write(path, text, len, 0644, err, sizeof err)) {
        fprintf(stderr, "kmsload coverage: %s\n", err);
        rc = -1;
    }
    free(text);
    return rc;
}

int coverage_execute(const struct coverage_options *o)
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
        usage_error("coverage", "--require: %s", err);
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
    struct coverage_probe_options popt = {.addrs = &addrs, .timeout_us = o->timeout_us};
    client_session_options_default(&popt.exchange);
    if (net_resolve(o->host, o->port, false, &addrs, err, sizeof err) ||
        coverage_probe(&cat, &popt, cv, err, sizeof err)) {
        fprintf(stderr, "kmsload coverage: %s:%u: %s\n", o->host, o->port, err);
        free(cv);
        catalog_free(&cat);
        return COVERAGE_EXIT_UNREACHABLE;
    }
    coverage_judge(cv, &cat);
    for (size_t i = 0; i < n_required; i++) {
        const struct coverage_group *g = coverage_group_of(cv, required[i]);
        if (!g || g->state != COVERAGE_ACTIVATED) {
            status = COVERAGE_EXIT_MISSING;
            fprintf(stderr, "kmsload coverage: required product group %s is %s\n",
                    cat.kms[required[i]].name,
                    g ? coverage_state_name(g->state) : "retail (genuine hosts refuse it)");
        }
    }
    if (o->json) {
        json_t *root = to_json(o, cv, &cat, status);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
        json_decref(root);
    } else if (!o->markdown || strcmp(o->markdown, "-") != 0) {
        print_text(stdout, o, cv, &cat);
    }
    if (o->markdown && write_markdown(o->markdown, cv, &cat))
        status = status ? status : 1;
    fflush(stdout);
    free(cv);
    catalog_free(&cat);
    return status;
}

int coverage_main(int argc, char **argv)
{
    struct coverage_options o;
    char err[512];
    if (coverage_options_parse(argc, argv, &o, err, sizeof err)) {
        usage_error("coverage", "%s", err);
        return COVERAGE_EXIT_USAGE;
    }
    if (o.help) {
        fputs(coverage_usage, stdout);
        return 0;
    }
    usage_note("coverage", o.deprecated);
    return coverage_execute(&o);
}
