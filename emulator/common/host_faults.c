#include "host_faults.h"

#include "value_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[HOST_FAULT__COUNT] = {
    [HOST_FAULT_NONE] = "none",
    [HOST_FAULT_DROP] = "drop",
    [HOST_FAULT_RESET] = "reset",
    [HOST_FAULT_GARBLE] = "garble",
    [HOST_FAULT_TRUNCATE] = "truncate",
    [HOST_FAULT_STALL] = "stall",
    [HOST_FAULT_WRONG_CALL_ID] = "wrong-call-id",
};

const char *host_fault_name(enum host_fault fault)
{
    return (unsigned)fault < HOST_FAULT__COUNT ? fault_names[fault] : "unknown";
}

static int parse_probability(const char *text, double *p)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return -1;
    *p = v;
    return 0;
}

int host_faults_parse(const char *spec, struct host_faults *faults, char *err, size_t err_len)
{
    char buf[512];
    memset(faults, 0, sizeof *faults);
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, err_len, "--fault: specification longer than %zu characters", sizeof buf - 1);
        return -1;
    }
    strcpy(buf, spec);
    double total = 0;
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            snprintf(err, err_len, "--fault: \"%s\" is not NAME=VALUE", item);
            return -1;
        }
        *eq = '\0';
        const char *value = eq + 1;
        if (strcmp(item, "latency") == 0) {
            char dur[64];
            const char *at = strchr(value, '@');
            size_t dlen = at ? (size_t)(at - value) : strlen(value);
            if (dlen >= sizeof dur)
                dlen = sizeof dur - 1;
            memcpy(dur, value, dlen);
            dur[dlen] = '\0';
            char derr[160];
            if (value_parse_duration(dur, false, &faults->latency_us, derr, sizeof derr)) {
                snprintf(err, err_len, "--fault latency: %s", derr);
                return -1;
            }
            faults->latency_probability = 1.0;
            if (at && parse_probability(at + 1, &faults->latency_probability)) {
                snprintf(err, err_len, "--fault latency: probability \"%s\" is not in 0..1",
                         at + 1);
                return -1;
            }
            continue;
        }
        int found = -1;
        for (int f = HOST_FAULT_DROP; f < HOST_FAULT__COUNT; f++)
            if (strcmp(item, fault_names[f]) == 0)
                found = f;
        if (found < 0) {
            snprintf(err, err_len,
                     "--fault: unknown fault \"%s\" (latency, drop, reset, garble, truncate, "
                     "stall, wrong-call-id)",
                     item);
            return -1;
        }
        if (parse_probability(value, &faults->probability[found])) {
            snprintf(err, err_len, "--fault %s: probability \"%s\" is not in 0..1", item, value);
            return -1;
        }
        total += faults->probability[found];
    }
    if (total > 1.0) {
        snprintf(err, err_len, "--fault: probabilities add up to %.3g, more than 1", total);
        return -1;
    }
    return 0;
}

enum host_fault host_faults_draw(const struct host_faults *faults, struct pcg32 *rng)
{
    double any = 0;
    for (int f = HOST_FAULT_DROP; f < HOST_FAULT__COUNT; f++)
        any += faults->probability[f];
    if (any <= 0)
        return HOST_FAULT_NONE;
    double u = pcg32_unit(rng), acc = 0;
    for (int f = HOST_FAULT_DROP; f < HOST_FAULT__COUNT; f++) {
        acc += faults->probability[f];
        if (u < acc)
            return (enum host_fault)f;
    }
    return HOST_FAULT_NONE;
}

int64_t host_faults_latency(const struct host_faults *faults, struct pcg32 *rng)
{
    if (faults->latency_us <= 0 || faults->latency_probability <= 0)
        return 0;
    if (faults->latency_probability >= 1.0 || pcg32_unit(rng) < faults->latency_probability)
        return faults->latency_us;
    return 0;
}
