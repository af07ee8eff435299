/*
 * The embedded reference host of `kmsload run`: the reference host on its own thread and event
 * loop, on a free loopback port, set up from a scenario's [host] section. Used by run_main.c when
 * no --target is given, and by the end-to-end tests.
 */
#ifndef KMSLOAD_EMBEDDED_HOST_H
#define KMSLOAD_EMBEDDED_HOST_H

#include "catalog.h"
#include "host.h"
#include "host_server.h"
#include "host_settings.h"
#include "net.h"
#include "scenario.h"
#include "wintypes.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct embedded_host {
    struct event_base *base;
    struct kms_host *host;
    struct host_server *server;
    struct host_coverage coverage; /* what its configuration points to */
    struct event *stop; /* activated from the caller's thread; breaks the loop from inside */
    pthread_t thread;
    bool running;
};

/*
 * Starts the host (client clock with a virtual-clock scenario, real clock otherwise) and fills
 * target with its address. Enables libevent's pthreads support (the loop is stopped from another
 * thread). Returns 0, or -1 with a message; embedded_host_stop must be called in both cases.
 */
int embedded_host_start(struct embedded_host *h, const struct scenario *sc,
                        const struct catalog *cat, struct net_addrs *target, char *err,
                        size_t err_len);
/* The same for the scenario's [host NAME] section index (its key, products, intervals, faults). */
int embedded_host_start_named(struct embedded_host *h, const struct scenario *sc, size_t index,
                              const struct catalog *cat, struct net_addrs *target, char *err,
                              size_t err_len);
/* Stops the loop, joins the thread and frees everything; safe on a zeroed or failed host. */
void embedded_host_stop(struct embedded_host *h);

#endif
