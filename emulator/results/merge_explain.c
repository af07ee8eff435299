#include "merge_explain.h"

#include <jansson.h>
#include <string.h>

/*
 * What a person must know about the merged run, read back from its summary.json: each failed
 * expectation by name, shards that loaded different targets (their counts are not one host's),
 * and shards that each ran against their own embedded host.
 */
void merge_explain(const char *out_dir, bool quiet, FILE *msg)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", out_dir);
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return;
    const json_t *shards = json_object_get(json_object_get(root, "merge"), "shards");
    size_t i;
    const json_t *s;
    const char *first = NULL;
    bool differ = false;
    json_array_foreach(shards, i, s)
    {
        const char *t = json_string_value(json_object_get(s, "target"));
        if (!first)
            first = t ? t : "";
        else if (strcmp(first, t ? t : "") != 0)
            differ = true;
    }
    if (json_is_true(json_object_get(root, "embedded_host")))
        fprintf(msg,
                "kmsload merge: note: each shard ran against its own embedded reference host: "
                "every host counted only its shard's machines, so the merged counts are not one "
                "host's (the expectations about populations still judge the whole fleet)\n");
    else if (differ) {
        fprintf(msg, "kmsload merge: warning: the shards ran against different targets:");
        json_array_foreach(shards, i, s)
        {
            const char *t = json_string_value(json_object_get(s, "target"));
            fprintf(msg, "%s shard %lld %s", i ? "," : "",
                    (long long)json_integer_value(json_object_get(s, "index")), t ? t : "?");
        }
        fprintf(msg, "; their counts are not one host's\n");
    }
    const json_t *ex = json_object_get(root, "expectations"), *e;
    json_array_foreach(ex, i, e)
    {
        if (json_is_true(json_object_get(e, "passed")) || quiet)
            continue;
        const char *rule = json_string_value(json_object_get(e, "rule"));
        if (!rule || !rule[0])
            rule = json_string_value(json_object_get(e, "expectation"));
        const char *observed = json_string_value(json_object_get(e, "observed"));
        fprintf(msg, "kmsload merge: [FAIL] %s — %s\n", rule ? rule : "?",
                observed ? observed : "");
    }
    json_decref(root);
}
