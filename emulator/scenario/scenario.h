/*
 * Scenario files: what a run simulates (populations of machines, arrivals, clock, duration), the
 * embedded host's settings, and the expectations a CI job gates on. INI format parsed with inih;
 * the format is documented in scenarios/README.md. Every error names the file, line and key.
 */
#ifndef KMSLOAD_SCENARIO_H
#define KMSLOAD_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCENARIO_NAME_MAX 64
#define SCENARIO_TEXT_MAX 512
#define SCENARIO_MAX_POPULATIONS 16
#define SCENARIO_MAX_STAGES 16
#define SCENARIO_MAX_EXPECTATIONS 32
#define SCENARIO_MAX_HRESULTS 16
#define SCENARIO_NEVER INT64_MAX

enum scenario_clock {
    SCENARIO_CLOCK_VIRTUAL, /* simulated time runs as fast as the host answers */
    SCENARIO_CLOCK_REAL,    /* requests carry the real time; the run lasts its duration */
};

/* What the target's clock does with the client times a run sends (the virtual clock sends times
 * days ahead of the real one, which only a host that follows client time accepts). */
enum scenario_target_clock {
    SCENARIO_TARGET_CLOCK_DETECT, /* ask the target once, with a time more than 4 h in the past */
    SCENARIO_TARGET_CLOCK_CLIENT, /* it follows client time (kmsload host --clock client) */
    SCENARIO_TARGET_CLOCK_REAL,   /* it checks client time against its own clock (genuine hosts) */
};

/* One ramp stage of an open workload: arrivals per second from rate_from to rate_to. */
struct scenario_stage {
    int64_t duration_us;
    double rate_from, rate_to;
};

struct scenario_population {
    char name[SCENARIO_NAME_MAX]; /* from [population NAME] */
    char product[96];             /* catalogue SKU (key or name) */
    unsigned protocol;            /* 0: the product's */
    unsigned n_policy;            /* 0: the product's */
    bool ndr64;                   /* offer NDR64 as Windows does (default on) */
    bool alter_context;           /* Windows' ALTER_CONTEXT sequence (default off) */
    double vm_share;              /* share of machines that report VMInfo = 1 */
    unsigned license_status;      /* default 2 (initial grace) */
    double cloned_share;          /* share reusing another machine's CMID (no sysprep) */
    int64_t clock_skew_us;        /* the machines' clocks run this far ahead (negative: behind) */
    char kms_host[256]; /* a fixed KMS host (slmgr /skms): a host of the run; "": discover */
    /* Closed model: a fleet of `machines` joining over [join_at, join_at + join_over). */
    uint32_t machines;
    int64_t join_at_us, join_over_us;
    /* A share of the fleet leaves (stops contacting) over [leave_at, leave_at + leave_over). */
    double leave_share;
    int64_t leave_at_us, leave_over_us;
    /* Open model (arrivals instead of a fleet): machines arrive per the ramp stages, at most
     * `machines` of them; each then lives like a fleet machine. */
    bool open;
    struct scenario_stage stages[SCENARIO_MAX_STAGES];
    size_t n_stages;
    unsigned line; /* where the section starts, for messages */
};

#define SCENARIO_MAX_HOSTS 8 /* = HOST_SET_MAX */

/*
 * [host NAME]: one of several embedded reference hosts, each published in the run's own DNS (an
 * SRV record with priority and weight) during [publish_at, withdraw_at) and answering during
 * [start_at, stop_at) of simulated time. Machines choose among them as Windows clients do.
 */
struct scenario_kms_host {
    char name[SCENARIO_NAME_MAX];
    char host_key[256];           /* host keys (CSVLKs) as for kmsload host --host-key */
    char products[256];           /* or the KMS IDs it covers (--products); both empty: all */
    char faults[256];             /* --fault */
    unsigned activation_interval; /* minutes; 0: the [host] section's */
    unsigned renewal_interval;
    unsigned priority, weight;
    int64_t publish_at_us, withdraw_at_us; /* SCENARIO_NEVER: never withdrawn */
    int64_t start_at_us, stop_at_us;       /* SCENARIO_NEVER: never switched off */
    unsigned line;
};

enum expect_kind {
    EXPECT_MODEL_MISMATCHES, /* model_mismatches = N: at most N responses disagree with the model */
    EXPECT_FIRST_ACTIVATION, /* first_activation.POP = N: POP's first activation has count N */
    EXPECT_MAX_COUNT,        /* max_count.APP = N: no response for APP carries a count above N */
    EXPECT_FINAL_COUNT,      /* final_count.APP = N: the last response for APP carries N */
    EXPECT_ACTIVATED,        /* activated.POP = N: at least N of POP's machines are activated */
    EXPECT_ERROR_RATE,       /* error_rate = X: failed contacts / contacts at most X */
    EXPECT_UNEXPECTED_HRESULTS, /* unexpected_hresults = N: at most N HRESULTs outside
                                   allowed_hresults */
    EXPECT_LATENCY,      /* latency_p50/p90/p99/p999/max = DUR: that percentile at most DUR */
    EXPECT_MIN_REQUESTS, /* requests = N: at least N requests were made */
    /* Several hosts (subject "HOST.APP" or "HOST"): */
    EXPECT_HOST_REACHES_5,  /* host_reaches_5.HOST.APP = DUR: HOST's APP count reaches 5 by DUR */
    EXPECT_HOST_REACHES_25, /* host_reaches_25.HOST.APP = DUR: ... reaches 25 by DUR */
    EXPECT_HOST_MACHINES_AT_END, /* host_machines_at_end.HOST = N: at most N machines cache HOST
                                    at the last day's sample */
    EXPECT_HOST_REFUSED,         /* host_refused.HOST = N: HOST refused at least N requests for
                                    products its key does not cover (0xC004F042) */
    EXPECT_MAX_UNACTIVATED,      /* max_unactivated = DUR: no machine stayed unactivated longer */
    EXPECT_UNANSWERED,           /* unanswered = N: at most N contacts got no answer from any host
                                    (connection refused, timed out, reset, closed, protocol error) */
    EXPECT_FAILOVERS,            /* failovers = N: at most N attempts failed over to the next
                                    host (0: every contact answered by the first host it tried) */
};

struct scenario_expectation {
    enum expect_kind kind;
    char subject[SCENARIO_NAME_MAX]; /* population or application key, or the percentile "p99" */
    double value;                    /* number, share, or microseconds for EXPECT_LATENCY */
    char text[160];                  /* the line as written: "first_activation.clients = 25" */
    unsigned line;
};

struct scenario {
    char path[512];
    char name[SCENARIO_NAME_MAX];
    char description[SCENARIO_TEXT_MAX];
    enum scenario_clock clock;
    int64_t duration_us; /* simulated (virtual) or wall (real) length of the run */
    int64_t tick_us;     /* virtual clock: contacts are aligned to this granularity */
    uint64_t seed;
    unsigned concurrency;   /* requests in flight at most */
    int64_t timeout_us;     /* per contact: connect, bind, request */
    bool reuse_connections; /* send contacts over bound connections (default: one per contact) */
    bool coverage;          /* the run measures host-key coverage: report it in words */
    bool baseline;          /* the target already serves real machines: check count deltas */
    bool reconnaissance;    /* against --target: learn the host's counts first (load/recon.h) */
    bool host_caching;      /* several hosts: a machine keeps the host that activated it (on) */
    /* "from-host": before the run, ask the target which product groups its keys cover and test
     * those (each population the newest covered product of its kind), naming what was skipped;
     * "" : the populations' own products. */
    char products[16];
    bool live_host;   /* real machines use the target during the run: judge counts from below */
    unsigned threads; /* 0: one per core */
    enum scenario_target_clock target_clock;
    /* Stop early (exit 3) when the target stops answering: after this many consecutive contacts
     * without an answer (0: never), or when contacts have failed without one answered for this
     * much wall time (0: never). */
    unsigned stop_after_failures;
    int64_t stop_after_silence_us;
    int64_t max_wall_us; /* wall-clock limit of the run; 0: the default (see scenario_max_wall) */
    double max_rate;     /* requests per second at most, over all threads; 0: no cap */
    /* [host]: the embedded reference host, when no --target is given. */
    unsigned host_activation_interval; /* minutes (default 120) */
    unsigned host_renewal_interval;    /* minutes (default 10080) */
    char host_products[256];           /* --products of the host; empty: all volume products */
    char host_key[256];                /* --host-key of the host; empty: none (see products) */
    char host_faults[256];             /* --fault of the host; empty: none */
    bool host_ndr64;
    struct scenario_population pops[SCENARIO_MAX_POPULATIONS];
    size_t n_pops;
    struct scenario_kms_host kms_hosts[SCENARIO_MAX_HOSTS]; /* [host NAME] sections */
    size_t n_kms_hosts;
    struct scenario_expectation expects[SCENARIO_MAX_EXPECTATIONS];
    size_t n_expects;
    uint32_t allowed_hresults[SCENARIO_MAX_HRESULTS];
    size_t n_allowed_hresults;
};

/*
 * Loads a scenario file, then applies overrides ("key=value" for [scenario] keys,
 * "SECTION.key=value" otherwise, e.g. "population clients.machines=100" or
 * "host.renewal_interval=1d"). Returns 0, or -1 with "FILE:LINE: [section] key: problem" in err.
 */
int scenario_load(struct scenario *sc, const char *path, const char *const *overrides,
                  size_t n_overrides, char *err, size_t err_len);
/* The run's wall-clock limit: max_wall, or by default 1 h on the virtual clock and the duration
 * plus 5 minutes on the real clock. */
int64_t scenario_max_wall(const struct scenario *sc);
/* A virtual-clock run whose simulated time may drift more than 3 hours ahead of the real
 * clock: only a host that follows client time accepts it (a genuine host refuses client times
 * more than 4 hours off its own). Shorter virtual runs stay within any host's tolerance. */
bool scenario_needs_client_clock(const struct scenario *sc);
/* The same from text (origin names it in messages). */
int scenario_parse(struct scenario *sc, const char *text, const char *origin,
                   const char *const *overrides, size_t n_overrides, char *err, size_t err_len);

#endif
