/*
 * A reference host's configuration from the settings whoever starts it has: `kmsload host`'s
 * flags or a scenario's [host] / [host NAME] section. The one place that reads a products list
 * (catalogue groups or KMS ID GUIDs) and the host keys into what the host covers.
 */
#ifndef KMSLOAD_HOST_SETTINGS_H
#define KMSLOAD_HOST_SETTINGS_H

#include "catalog.h"
#include "host.h"
#include "host_keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct host_settings {
    unsigned activation_interval, renewal_interval; /* minutes */
    enum host_clock_mode clock_mode;
    uint64_t max_clock_step, max_clock_ahead; /* FILETIME units (host_config); 0: unbounded */
    bool ndr64, btfn, strict_v4_mac;
    unsigned build; /* 0: chosen by NDR64 and the host keys */
    uint64_t seed;
    const char *products;  /* "GROUP,GROUP..." (commas and/or spaces); NULL or "": every group */
    const char *host_keys; /* "KEY,KEY..." host keys installed; NULL or "": none */
};

/* What a configuration built from settings points into: must outlive the host. */
struct host_coverage {
    struct guid *covered;
    struct host_keys keys;
};

enum host_settings_status {
    HOST_SETTINGS_OK,
    HOST_SETTINGS_BOTH,     /* products and host_keys both given: they both say what it covers */
    HOST_SETTINGS_PRODUCT,  /* a products item is neither a catalogue group nor a GUID: in what */
    HOST_SETTINGS_HOST_KEY, /* the host keys are wrong: why in what */
    HOST_SETTINGS_NO_MEMORY,
};

/* Fills cfg (on host_config_default) from s; cov holds what cfg points to. On an error, what
 * names the offending item or says why; the caller words the message for its own source. */
enum host_settings_status host_config_from_settings(const struct host_settings *s,
                                                    const struct catalog *cat,
                                                    struct host_config *cfg,
                                                    struct host_coverage *cov, char *what,
                                                    size_t what_len);
void host_coverage_free(struct host_coverage *cov);

#endif
