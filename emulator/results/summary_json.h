/*
 * summary.json, the one builder: from the run's facts (struct run_info) and its tally, for a run,
 * a merge and a report made from events.csv alone. Key order is part of the format.
 */
#ifndef KMSLOAD_SUMMARY_JSON_H
#define KMSLOAD_SUMMARY_JSON_H

#include "expect.h"
#include "run_dir.h"
#include "run_tally.h"

#include <jansson.h>

/* The summary as a JSON object (NULL when out of memory). */
json_t *summary_json_build(const struct run_info *info, const struct run_tally *t,
                           const struct expect_result *results, size_t n_results);

/* The verdict every file of the run states: every expectation met and the run not interrupted. */
bool summary_json_passed(const struct run_info *info, const struct expect_result *results,
                         size_t n_results);

/* The largest summary.json a reader accepts: far beyond any run's, far below a memory limit. */
#define SUMMARY_JSON_MAX (64u << 20)

/* Loads path as summary.json: at most SUMMARY_JSON_MAX bytes, a JSON object. Returns it, or NULL
 * with "PATH:LINE: why" in err. */
json_t *summary_json_load(const char *path, char *err, size_t err_len);

#endif
