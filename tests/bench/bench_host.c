/*
 * Reference host benchmark: activations per second on loopback, V6, one new TCP connection per
 * activation (as a real client contacts a host). The host runs on its own thread and event loop;
 * the client keeps --concurrency exchanges in flight on the main thread for --seconds.
 *
 *   build-release/kmsload-bench-host [--seconds N] [--concurrency N]
 */
#include "catalog.h"
#include "host_server.h"
#include "netclient.h"
#include "pcg32.h"

#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench {
    struct event_base *base;
    struct net_addrs target;
    struct net_client_params params;
    struct catalog *cat;
    struct pcg32 rng;
    struct timespec start, end_at;
    unsigned in_flight;
    uint64_t started, outcomes[KMS_OUTCOME__COUNT];
    uint64_t *latency_us;
    size_t n_latency, cap_latency;
    bool stopping;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start_one(struct bench *b);

static void on_done(struct net_client *client, const struct client_session_result *res, void *arg)
{
    struct bench *b = arg;
    b->outcomes[res->outcome]++;
    if (b->n_latency < b->cap_latency)
        b->latency_us[b->n_latency++] = net_client_elapsed_us(client);
    net_client_free(client);
    b->in_flight--;
    start_one(b);
    if (b->in_flight == 0)
        event_base_loopbreak(b->base);
}

static void start_one(struct bench *b)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > b->end_at.tv_sec ||
        (now.tv_sec == b->end_at.tv_sec && now.tv_nsec >= b->end_at.tv_nsec))
        return;
    const struct catalog_sku *sku = catalog_find_sku(b->cat, "win10-pro");
    const struct catalog_kms *kms = &b->cat->kms[sku->kms];
    struct kms_request req;
    memset(&req, 0, sizeof req);
    req.major = 6;
    req.app_id = b->cat->apps[kms->app].id;
    req.kms_id = kms->id;
    req.sku_id = sku->id;
    req.n_policy = 25;
    req.license_status = 2;
    req.binding_expiration = 43200;
    pcg32_fill(&b->rng, req.cmid.b, 16);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    req.client_time = filetime_from_unix(rt.tv_sec, (uint32_t)rt.tv_nsec);
    kms_request_set_workstation(&req, "bench.example.test");
    uint8_t w_req[16];
    pcg32_fill(&b->rng, w_req, 16);
    if (net_client_start(b->base, &b->params, &req, w_req, on_done, b)) {
        b->in_flight++;
        b->started++;
    }
}

struct host_thread {
    struct event_base *base;
    struct host_server *server;
};

static void *run_host(void *arg)
{
    struct host_thread *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    unsigned concurrency = 64;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
            concurrency = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--seconds N] [--concurrency N]\n", argv[0]);
            return 2;
        }
    }
    if (seconds <= 0 || concurrency == 0) {
        fprintf(stderr, "seconds and concurrency must be positive\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads(); /* the main thread stops the host thread's loop */
    char err[256];
    static struct catalog cat;
    if (catalog_parse(&cat, catalog_builtin_ini, "built-in", err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct host_config hcfg;
    host_config_default(&hcfg, &cat);
    struct kms_host *host = malloc(sizeof *host);
    if (!host || host_init(host, &hcfg, err, sizeof err)) {
        fprintf(stderr, "host: %s\n", err);
        return 1;
    }
    struct host_thread ht = {.base = net_event_base_new()};
    struct host_server_config scfg;
    host_server_config_default(&scfg);
    net_resolve("127.0.0.1", 0, true, &scfg.listen, err, sizeof err);
    ht.server = host_server_start(ht.base, host, &scfg, err, sizeof err);
    if (!ht.server) {
        fprintf(stderr, "host: %s\n", err);
        return 1;
    }
    struct bench b = {0};
    b.base = net_event_base_new();
    b.cat = &cat;
    pcg32_seed(&b.rng, 2026, 11);
    net_resolve("127.0.0.1", host_server_port(ht.server), false, &b.target, err, sizeof err);
    b.params.addrs = &b.target;
    b.params.timeout.tv_sec = 5;
    /* Close with RST, as the generator and the null exchange do: a graceful close leaves each
     * client port in TIME_WAIT, and near 28,000 connections/s (the ephemeral range over
     * tcp_tw_reuse_delay) connect() spends most of its time searching for a free port, so the
     * rate measured the machine's TIME_WAIT table instead of the host. */
    b.params.abortive_close = true;
    client_session_options_default(&b.params.options);
    b.cap_latency = 20000000;
    b.latency_us = malloc(b.cap_latency * sizeof *b.latency_us);
    pthread_t tid;
    pthread_create(&tid, NULL, run_host, &ht);

    double t0 = now_s();
    clock_gettime(CLOCK_MONOTONIC, &b.start);
    b.end_at = b.start;
    b.end_at.tv_sec += (time_t)seconds;
    b.end_at.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (b.end_at.tv_nsec >= 1000000000L) {
        b.end_at.tv_sec++;
        b.end_at.tv_nsec -= 1000000000L;
    }
    for (unsigned i = 0; i < concurrency; i++)
        start_one(&b);
    event_base_dispatch(b.base);
    double elapsed = now_s() - t0;

    event_base_loopbreak(ht.base);
    pthread_join(tid, NULL);
    uint64_t ok = b.outcomes[KMS_OUTCOME_ACTIVATED] + b.outcomes[KMS_OUTCOME_BELOW_THRESHOLD];
    uint64_t failed = b.started - ok;
    qsort(b.latency_us, b.n_latency, sizeof *b.latency_us, compare_u64);
#define PCT(p) (b.n_latency ? b.latency_us[(size_t)((double)(b.n_latency - 1) * (p))] : 0)
    printf("reference host, loopback, V6, new TCP connection per activation, %u in flight\n",
           concurrency);
    printf("  activations      %llu in %.2f s\n", (unsigned long long)ok, elapsed);
    printf("  failures         %llu", (unsigned long long)failed);
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (o != KMS_OUTCOME_ACTIVATED && o != KMS_OUTCOME_BELOW_THRESHOLD && b.outcomes[o])
            printf(" %s=%llu", kms_outcome_name((enum kms_outcome)o),
                   (unsigned long long)b.outcomes[o]);
    printf("\n  latency          p50 %llu us, p99 %llu us, max %llu us\n",
           (unsigned long long)PCT(0.50), (unsigned long long)PCT(0.99),
           (unsigned long long)PCT(1.0));
    printf("host activations/s: %.0f\n", (double)ok / elapsed);
    host_server_stop(ht.server);
    event_base_free(ht.base);
    event_base_free(b.base);
    free(b.latency_us);
    free(host);
    catalog_free(&cat);
    return failed ? 1 : 0;
}
