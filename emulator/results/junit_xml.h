/* junit.xml: one test case per expectation (and one for an interrupted run), for CI. */
#ifndef KMSLOAD_JUNIT_XML_H
#define KMSLOAD_JUNIT_XML_H

#include "expect.h"
#include "run_dir.h"

#include <stddef.h>

/* The document (malloc'ed, *len bytes), or NULL when out of memory. */
char *junit_xml_build(const struct run_info *info, const struct expect_result *results,
                      size_t n_results, size_t *len);

#endif
