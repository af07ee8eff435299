/*
 * The reference KMS host's decisions (spec §8-§10): which requests it refuses and with what
 * HRESULT, the per-application CMID counts it reports, its ePIDs and HwId, and its clock. No I/O:
 * host_session.c speaks RPC over it and host_server.c puts it on the network.
 */
#ifndef KMSLOAD_HOST_H
#define KMSLOAD_HOST_H

#include "catalog.h"
#include "client_cache.h"
#include "host_keys.h"
#include "kms_message.h"
#include "pcg32.h"
#include "rpc.h"

#include <stdbool.h>
#include <stdint.h>

#define HOST_MAX_APPS 8
#define HOST_TIME_TOLERANCE (4ULL * 3600ULL * FILETIME_PER_SECOND) /* ±4 h, genuine hosts */
#define HOST_MAX_N_POLICY 1000
/* Client mode: the furthest ahead of the system clock a client clock may get (scenarios last at
 * most 3650 days); a --state file with a clock further ahead is not loaded. */
#define HOST_CLIENT_CLOCK_HORIZON (3660ULL * 86400ULL * FILETIME_PER_SECOND)
#define HOST_MAX_CSVLKS 64
#define HOST_NDR64_MIN_BUILD 9200 /* NDR64 support <=> build >= 9200 (spec §9.1) */

enum host_clock_mode {
    HOST_CLOCK_REAL,   /* system clock; requests more than 4 h off are refused */
    HOST_CLOCK_CLIENT, /* follows the latest client time seen (monotonic), within the bounds of
                        * max_clock_step / max_clock_ahead; no ±4 h check */
};

/* Returns the current FILETIME; injectable so tests control the host clock. */
typedef uint64_t (*host_clock_fn)(void *arg);

struct host_config {
    const struct catalog *catalog; /* must outlive the host */
    unsigned activation_interval;  /* minutes, 15..43200 (default 120) */
    unsigned renewal_interval;     /* minutes, 15..43200 (default 10080) */
    enum host_clock_mode clock_mode;
    host_clock_fn clock; /* NULL: the system clock */
    void *clock_arg;
    struct rpc_host_caps rpc; /* NDR64 and BTFN support (default both on) */
    bool strict_v4_mac;       /* answer 0x8007000D to V4 requests with a wrong MAC */
    /* KMS IDs the host key covers; NULL/0: every non-retail group in the catalogue. */
    const struct guid *covered_kms;
    size_t n_covered_kms;
    /* Installed host keys (CSVLKs): when set, the host covers exactly what they activate and
     * answers each group with the ePID of the key that activates it (spec §12.5). */
    const struct host_keys *host_keys;
    unsigned host_build; /* OS build shown in ePIDs; 0: 17763 (7601 without NDR64), or the newest
                            OS that can carry the host keys */
    unsigned lcid;       /* language shown in ePIDs (default 1033) */
    uint8_t hwid[8];
    uint64_t seed; /* ePIDs and response randomness */
    /* HOST_CLOCK_CLIENT: how far (FILETIME units) one request may move the clock past the later
     * of the client clock and the real clock, and how far ahead of the real clock it may ever
     * get; 0: unbounded (the default: the embedded host trusts its own run). A request beyond
     * either is refused with 0xC004F06C and leaves the clock alone. */
    uint64_t max_clock_step;
    uint64_t max_clock_ahead;
};

void host_config_default(struct host_config *cfg, const struct catalog *catalog);

struct host_app_stats {
    uint64_t requests;
    uint64_t activated; /* answered with count >= the client's N_Policy */
    uint64_t below;     /* answered with a lower count */
    uint64_t refused;   /* answered with an HRESULT */
};

struct host_stats {
    uint64_t requests; /* KMS requests decoded or not */
    uint64_t answered; /* full responses sent */
    uint64_t errors;   /* HRESULT answers */
    uint64_t faults;   /* RPC faults sent */
    uint64_t connections;
    uint64_t connections_rejected; /* closed to make room: the host was full or out of fds */
    uint64_t pdu_timeouts;         /* closed because a PDU was not whole within pdu_timeout */
    uint64_t accept_pauses;        /* accept() failed (e.g. EMFILE) and accepting paused */
    uint64_t clock_refused;        /* client mode: refused for moving the clock too far */
    struct host_app_stats apps[HOST_MAX_APPS];
};

struct kms_host {
    struct host_config cfg;
    struct client_cache caches[HOST_MAX_APPS];        /* index = catalogue application index */
    char epid[HOST_MAX_APPS][KMS_EPID_MAX_BYTES / 2]; /* per application, without host keys */
    char key_epid[HOST_MAX_CSVLKS][KMS_EPID_MAX_BYTES / 2]; /* per catalogue CSVLK */
    uint64_t client_clock; /* HOST_CLOCK_CLIENT: latest client time */
    struct pcg32 rng;
    struct host_stats stats;
};

/* What one request did, for the event-12290-style log. */
struct host_request_record {
    uint64_t host_time; /* FILETIME */
    uint32_t hresult;   /* 0 = full response */
    bool decoded;       /* request fields below are valid */
    struct kms_request request;
    int app;            /* catalogue application index, -1 if unknown */
    unsigned count;     /* count sent (full responses) */
    bool clock_refused; /* client mode: its time was beyond the bounds, the clock stayed */
    /* A refusal that follows vlmcsd, not a documented Microsoft rule (the log's note), or NULL. */
    const char *convention;
};

/* Refusals the reference host makes as vlmcsd does; Microsoft documents neither (spec §3.1 and
 * §8.1 take them from vlmcsd), so the host's log labels them. */
#define HOST_CONVENTION_N_POLICY                                                                   \
    "vlmcsd convention, no Microsoft source: N_Policy above 1000 refused with 0x8007000D"
#define HOST_CONVENTION_MINOR                                                                      \
    "vlmcsd convention, no Microsoft source: minor version other than 0 refused with 0x8007000D"

/* Initialises a host (allocate it: the caches are large). Returns 0 or -1 with a message. */
int host_init(struct kms_host *host, const struct host_config *cfg, char *err, size_t err_len);
/* Current host time (FILETIME) per the clock mode. */
uint64_t host_now(const struct kms_host *host);
/* The real clock (the injected one, or the system's), whatever the mode. */
uint64_t host_real_now(const struct kms_host *host);

/*
 * Handles one KMS request payload: decode, decide, encode. Returns 0 with the response in out,
 * or the HRESULT the host answers instead. rec (optional) describes the request for the log.
 */
uint32_t host_handle_payload(struct kms_host *host, const uint8_t *kms, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len, struct host_request_record *rec);

/* The ePID the host answers product group kms (index into the catalogue's kms) with. */
const char *host_epid_for(const struct kms_host *host, size_t kms);

/* Count of an application cache at the current host time. */
unsigned host_app_count(struct kms_host *host, size_t app);

/* Builds an ePID text (§9.1) for a CSVLK on a host build. */
void host_epid_format(char *out, size_t cap, unsigned build, unsigned group, unsigned long key_id,
                      unsigned lcid, unsigned day, unsigned year);

#endif
