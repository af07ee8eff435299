/*
 * The coverage a run measured (catalog/coverage.h) as coverage.json in the run directory, beside
 * coverage.md: the same answer in data, which the HTML report shows as a table. Shape: host_os,
 * host_os_text, build, host_keys [{key, name}], groups [{group, name, result, count, epid |
 * hresult, hresult_name, meaning, advice | detail}] (groups nobody asked are left out).
 */
#ifndef KMSLOAD_COVERAGE_JSON_H
#define KMSLOAD_COVERAGE_JSON_H

#include "coverage.h"

#include <jansson.h>

/* The coverage as a JSON object (NULL when out of memory). */
json_t *coverage_json_build(const struct coverage *cv, const struct catalog *cat);
/* Writes it to path atomically. Returns 0, or -1 with a message. */
int coverage_json_write(const char *path, const struct coverage *cv, const struct catalog *cat,
                        char *err, size_t err_len);

#endif
