#include "coverage_json.h"

#include "atomic_file.h"
#include "hresult.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *group_json(const struct coverage_group *g, const struct catalog *cat)
{
    json_t *j = json_object();
    char hr[16];
    json_object_set_new(j, "group", json_string(cat->kms[g->kms].key));
    json_object_set_new(j, "name", json_string(cat->kms[g->kms].name));
    json_object_set_new(j, "result", json_string(coverage_state_name(g->state)));
    if (g->state == COVERAGE_ACTIVATED) {
        json_object_set_new(j, "count", json_integer(g->count));
        json_object_set_new(j, "epid", json_stringn(g->epid, strnlen(g->epid, sizeof g->epid)));
    } else if (g->state == COVERAGE_REFUSED) {
        snprintf(hr, sizeof hr, "0x%08X", g->hresult);
        json_object_set_new(j, "hresult", json_string(hr));
        json_object_set_new(j, "hresult_name", json_string(hresult_name(g->hresult)));
        json_object_set_new(j, "meaning", json_string(hresult_meaning(g->hresult)));
        json_object_set_new(j, "advice", json_string(g->advice));
    } else if (g->state == COVERAGE_ERROR) {
        json_object_set_new(j, "detail", json_string(g->detail));
    }
    return j;
}

json_t *coverage_json_build(const struct coverage *cv, const struct catalog *cat)
{
    char host[200];
    coverage_host_text(cv, host, sizeof host);
    json_t *root = json_object(), *groups = json_array(), *keys = json_array();
    if (!root || !groups || !keys) {
        json_decref(root);
        json_decref(groups);
        json_decref(keys);
        return NULL;
    }
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
    for (size_t i = 0; i < cv->n_groups; i++)
        if (cv->groups[i].state != COVERAGE_NOT_ASKED)
            json_array_append_new(groups, group_json(&cv->groups[i], cat));
    json_object_set_new(root, "groups", groups);
    /* Whether a genuine host could have answered so, and if not, why (each with its reason). */
    json_object_set_new(root, "clock",
                        cv->clock == COVERAGE_CLOCK_NOT_ASKED
                            ? json_null()
                            : json_string(coverage_clock_text(cv->clock)));
    json_object_set_new(root, "genuine", json_boolean(cv->genuine));
    json_t *findings = json_array();
    for (size_t i = 0; findings && i < cv->n_findings; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "kind", json_string(cv->findings[i].kind));
        json_object_set_new(f, "reason", json_string(cv->findings[i].reason));
        json_array_append_new(findings, f);
    }
    json_object_set_new(root, "findings", findings ? findings : json_array());
    return root;
}

int coverage_json_write(const char *path, const struct coverage *cv, const struct catalog *cat,
                        char *err, size_t err_len)
{
    json_t *root = coverage_json_build(cv, cat);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!text) {
        snprintf(err, err_len, "cannot build %s: out of memory", path);
        return -1;
    }
    size_t len = strlen(text);
    /* A trailing newline, as the run directory's other JSON has. */
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        snprintf(err, err_len, "cannot build %s: out of memory", path);
        return -1;
    }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    int rc = atomic_file_write(path, with_nl, len + 1, 0644, err, err_len);
    free(with_nl);
    return rc;
}
