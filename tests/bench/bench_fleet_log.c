/*
 * Writes a KMS event 12290 log of a large estate for the `kmsload fleet` import benchmark
 * (tests/bench/fleet.sh): MACHINES machines (60 % Windows 10/11 Enterprise desktops, 8 % Windows
 * Server 2019 VMs, 27 % Office LTSC 2021, 5 % Office 2010) joining over the first 30 days and
 * renewing every 7 days, for DAYS days, through the same generator as the import tests.
 *
 *   kmsload-bench-fleet-log MACHINES DAYS xml|csv|json|hostlog FILE
 */
#include "kms_log_gen.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s MACHINES DAYS xml|csv|json|hostlog FILE\n", argv[0]);
        return 2;
    }
    long machines = atol(argv[1]), days = atol(argv[2]);
    const char *formats[GEN_FORMATS] = {"xml", "csv", "json", "hostlog"};
    int format = -1;
    for (int i = 0; i < GEN_FORMATS; i++)
        if (strcmp(argv[3], formats[i]) == 0)
            format = i;
    if (machines < 1 || machines > 10000000 || days < 1 || days > 3650 || format < 0) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }
    struct gen *g = calloc(1, sizeof *g);
    FILE *f = fopen(argv[4], "w");
    if (!g || !f) {
        perror(argv[4]);
        return 1;
    }
    const int64_t t0 = 1767225600; /* 2026-01-01 */
    for (long i = 0; i < machines; i++) {
        char cmid[37], name[64];
        gen_cmid((uint64_t)i + 1, cmid);
        long r = i % 100;
        int64_t join = t0 + (int64_t)((double)i / (double)machines * 30 * GEN_DAY);
        if (r < 60) {
            snprintf(name, sizeof name, "desk%06ld.corp.example", i);
            gen_add(g, name, cmid, "73111121-5638-40f6-bc11-f1d7b0d64300", 0, 25, 0, 0, join, 0, 2,
                    30 * 24 * 60);
        } else if (r < 68) {
            snprintf(name, sizeof name, "srv%06ld.corp.example", i);
            gen_add(g, name, cmid, "34e1ae55-27f8-4950-8877-7a03be5fb181", 0, 5, 1, 0, join, 0, 2,
                    30 * 24 * 60);
        } else if (r < 95) {
            snprintf(name, sizeof name, "desk%06ld.corp.example", i);
            gen_add(g, name, cmid, "fbdb3e18-a8ef-4fb3-9183-dffd60bd0984", 2, 5, 0, 0, join, 0, 2,
                    30 * 24 * 60);
        } else {
            snprintf(name, sizeof name, "desk%06ld.corp.example", i);
            gen_add(g, name, cmid, "6f327760-8c5c-417c-9b61-836a98287e0c", 1, 5, 0, 0, join, 0, 2,
                    30 * 24 * 60);
        }
    }
    g->end = t0 + days * GEN_DAY;
    g->out[format] = f;
    gen_run(g);
    if (fclose(f) != 0) {
        perror(argv[4]);
        return 1;
    }
    printf("%llu events, %ld machines, %ld days\n", (unsigned long long)g->tally.requests, machines,
           days);
    gen_free(g);
    free(g);
    return 0;
}
