/* The embedded reference host of `kmsload run` (see embedded_host.h). */
#include "embedded_host.h"

#include "net_socket.h"

#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *embedded_host_loop(void *arg)
{
    struct embedded_host *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct embedded_host *h = arg;
    (void)fd, (void)what;
    event_base_loopbreak(h->base);
}

/* What one embedded host is set up from: the [host] section, or a [host NAME] section. */
struct embedded_settings {
    const char *label; /* "[host]" or "[host NAME]", for messages */
    unsigned activation_interval, renewal_interval;
    const char *products, *faults, *host_key;
    uint64_t seed;
};

/* The host's configuration from its section; a message names the section when it is wrong. */
static int configure(struct embedded_host *h, struct host_config *cfg, const struct scenario *sc,
                     const struct embedded_settings *set, const struct catalog *cat, char *err,
                     size_t err_len)
{
    struct host_settings hs = {
        .activation_interval = set->activation_interval,
        .renewal_interval = set->renewal_interval,
        .clock_mode = sc->clock == SCENARIO_CLOCK_VIRTUAL ? HOST_CLOCK_CLIENT : HOST_CLOCK_REAL,
        .ndr64 = sc->host_ndr64,
        .btfn = true,
        .seed = set->seed,
        .products = set->products,
        .host_keys = set->host_key,
    };
    char what[256];
    switch (host_config_from_settings(&hs, cat, cfg, &h->coverage, what, sizeof what)) {
    case HOST_SETTINGS_OK:
        return 0;
    case HOST_SETTINGS_BOTH:
        snprintf(err, err_len,
                 "%s: %s host_key and products both say what the host covers: give one", sc->path,
                 set->label);
        return -1;
    case HOST_SETTINGS_HOST_KEY:
        snprintf(err, err_len, "%s: %s host_key: %s", sc->path, set->label, what);
        return -1;
    case HOST_SETTINGS_PRODUCT:
        snprintf(err, err_len, "%s: %s products: \"%s\" is not a product group", sc->path,
                 set->label, what);
        return -1;
    default:
        snprintf(err, err_len, "out of memory");
        return -1;
    }
}

static int start_from_settings(struct embedded_host *h, const struct scenario *sc,
                               const struct embedded_settings *set, const struct catalog *cat,
                               struct net_addrs *target, char *err, size_t err_len)
{
    memset(h, 0, sizeof *h);
    evthread_use_pthreads(); /* embedded_host_stop breaks the loop from another thread */
    struct host_config cfg;
    if (configure(h, &cfg, sc, set, cat, err, err_len))
        return -1;
    struct host_server_config scfg;
    host_server_config_default(&scfg);
    /* The engine opens a new connection as soon as it has closed one, before the host has read
     * the close: the cap must leave room for connections that are over but not yet reaped. */
    scfg.max_connections = 2 * sc->concurrency + 1024;
    if (set->faults[0] && host_faults_parse(set->faults, &scfg.faults, err, err_len))
        return -1;
    if (net_resolve("127.0.0.1", 0, true, &scfg.listen, err, err_len))
        return -1;
    h->host = malloc(sizeof *h->host);
    h->base = net_event_base_new();
    if (!h->host || !h->base) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (host_init(h->host, &cfg, err, err_len))
        return -1;
    h->server = host_server_start(h->base, h->host, &scfg, err, err_len);
    if (!h->server)
        return -1;
    if (net_resolve("127.0.0.1", host_server_port(h->server), false, target, err, err_len))
        return -1;
    /* A loopbreak issued before the thread reaches its loop would be forgotten (the loop clears
     * the flag when it starts); an activated event is not. */
    h->stop = event_new(h->base, -1, 0, on_stop, h);
    if (!h->stop) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (pthread_create(&h->thread, NULL, embedded_host_loop, h) != 0) {
        snprintf(err, err_len, "cannot start the embedded host thread");
        return -1;
    }
    h->running = true;
    return 0;
}

int embedded_host_start(struct embedded_host *h, const struct scenario *sc,
                        const struct catalog *cat, struct net_addrs *target, char *err,
                        size_t err_len)
{
    struct embedded_settings set = {
        .label = "[host]",
        .activation_interval = sc->host_activation_interval,
        .renewal_interval = sc->host_renewal_interval,
        .products = sc->host_products,
        .faults = sc->host_faults,
        .host_key = sc->host_key,
        .seed = sc->seed,
    };
    return start_from_settings(h, sc, &set, cat, target, err, err_len);
}

int embedded_host_start_named(struct embedded_host *h, const struct scenario *sc, size_t index,
                              const struct catalog *cat, struct net_addrs *target, char *err,
                              size_t err_len)
{
    const struct scenario_kms_host *kh = &sc->kms_hosts[index];
    char label[SCENARIO_NAME_MAX + 16];
    snprintf(label, sizeof label, "[host %s]", kh->name);
    struct embedded_settings set = {
        .label = label,
        .activation_interval =
            kh->activation_interval ? kh->activation_interval : sc->host_activation_interval,
        .renewal_interval = kh->renewal_interval ? kh->renewal_interval : sc->host_renewal_interval,
        .products = kh->products,
        .faults = kh->faults[0] ? kh->faults : sc->host_faults,
        .host_key = kh->host_key,
        /* Each host its own ePIDs and answers. */
        .seed = sc->seed + 0x9E3779B97F4A7C15ULL * (index + 1),
    };
    return start_from_settings(h, sc, &set, cat, target, err, err_len);
}

void embedded_host_stop(struct embedded_host *h)
{
    if (h->running) {
        event_active(h->stop, EV_TIMEOUT, 0);
        pthread_join(h->thread, NULL);
    }
    if (h->server)
        host_server_stop(h->server);
    if (h->stop)
        event_free(h->stop);
    if (h->base)
        event_base_free(h->base);
    free(h->host);
    host_coverage_free(&h->coverage);
}
