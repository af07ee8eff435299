/* Evaluates a scenario's expectations against what a run tallied. */
#ifndef KMSLOAD_EXPECT_H
#define KMSLOAD_EXPECT_H

#include "run_tally.h"
#include "scenario.h"

#include <stdbool.h>

struct expect_result {
    const struct scenario_expectation *expectation;
    bool passed;
    char observed[480]; /* what the run showed, for people: "first activation at count 25" */
    char rule[200];     /* the comparison made: "requests ≥ 48000", "max_count.windows ≤ 50" */
};

/* The comparison an expectation stands for, with its operator (≥, ≤ or =) and the value as
 * written: "activated.clients = 8000" is "activated.clients ≥ 8000". */
void expect_rule(const struct scenario_expectation *e, char *out, size_t cap);

/*
 * Fills results[i] for every expectation of sc (results has room for sc->n_expects). Returns the
 * number that failed. Expectations about an application or population the run never saw fail with
 * a message saying so.
 */
size_t expect_evaluate(const struct scenario *sc, const struct run_tally *t,
                       struct expect_result *results);

#endif
