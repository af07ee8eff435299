/* What a person must know about a merged run, read back from its summary.json: each failed
 * expectation by name, shards that loaded different targets (their counts are not one host's),
 * and shards that each ran against their own embedded host. */
#ifndef KMSLOAD_MERGE_EXPLAIN_H
#define KMSLOAD_MERGE_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

/* Says it on msg, "kmsload merge: ..." (the failed expectations not when quiet); nothing when
 * out_dir/summary.json cannot be read. */
void merge_explain(const char *out_dir, bool quiet, FILE *msg);

#endif
