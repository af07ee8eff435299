/*
 * kmsload-bench: cost of the codec work per activation, client and host side.
 *
 * The headline figure is one V6 "pair": building a request (kms_request_encode +
 * rpc_request_encode) plus verifying its response (rpc_reply_decode + kms_response_decode +
 * kms_response_verify). The responses are produced beforehand by the host encoder
 * (kms_response_encode + rpc_response_encode) for a ring of PCG32-drawn W_req values, so every
 * iteration works on a different IV and nothing can be cached between iterations. Every result is
 * checked (a failed verification aborts) and folded into a volatile sink.
 *
 * Each row runs for --seconds of wall time (default 2, CLOCK_MONOTONIC) after a short warm-up;
 * its figure is the median of SLICES equal slices, so that a neighbour stealing the CPU for a
 * moment does not skew it. Rows: V6 pair (the headline), V6 request build alone, V6 response
 * verification alone, the host side of V6 (kms_request_decode + kms_response_encode +
 * rpc_response_encode), V5 and V4 pairs. --only TEXT runs the matching rows (for profiling).
 *
 * Build and run (Release):
 *   cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
 *   cmake --build build-release --target kmsload-bench && build-release/kmsload-bench
 */
#include "kms_message.h"
#include "pcg32.h"
#include "rpc.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 1024        /* distinct W_req values (and prepared responses) per version */
#define CLOCK_EVERY 64   /* iterations between clock reads */
#define SLICES 5         /* a measurement is the median of this many equal slices */
#define TARGET_NS 5000.0 /* budget for one V6 request+verify pair */
#define PDU_CAP 512      /* RPC header + NDR stub + the largest KMS message, rounded up */
#define CALL_ID 2
#define CONTEXT_ID 0

static volatile uint32_t sink;

struct prepared {
    uint8_t w_req[16];
    uint8_t request_pdu[PDU_CAP]; /* for the host-side benchmark */
    size_t request_len;
    uint8_t response_pdu[PDU_CAP];
    size_t response_len;
};

struct version_set {
    unsigned major;
    struct kms_request req;
    struct kms_response resp; /* host's answer fields */
    struct prepared *ring;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Noreturn static void die(const char *what, const struct proto_err *err)
{
    fprintf(stderr, "kmsload-bench: %s failed: %s\n", what, err ? err->detail : "");
    exit(1);
}

static void guid_or_die(const char *text, struct guid *g)
{
    if (guid_parse(text, g) != 0) {
        fprintf(stderr, "kmsload-bench: bad GUID %s\n", text);
        exit(1);
    }
}

static void version_set_init(struct version_set *vs, unsigned major, struct pcg32 *rng)
{
    memset(vs, 0, sizeof *vs);
    vs->major = major;
    struct kms_request *req = &vs->req;
    req->major = (uint16_t)major;
    req->minor = 0;
    req->vm_info = 0;
    req->license_status = 2;
    req->binding_expiration = 43200;
    guid_or_die("55c92734-d682-4d71-983e-d6ec3f16059f", &req->app_id);
    guid_or_die("2de67392-b7a7-462a-b1ca-108dd189f588", &req->sku_id);
    guid_or_die("58e2134f-8e11-4d17-9cb2-91069c151148", &req->kms_id);
    pcg32_fill(rng, req->cmid.b, sizeof req->cmid.b);
    req->n_policy = 25;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    req->client_time = filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
    if (kms_request_set_workstation(req, "bench-ws.example.test") != 0)
        die("kms_request_set_workstation", NULL);

    struct kms_response *resp = &vs->resp;
    resp->major = req->major;
    resp->minor = req->minor;
    snprintf(resp->epid, sizeof resp->epid, "%s",
             "03612-00206-565-823180-03-1033-17763.0000-0022026");
    resp->cmid = req->cmid;
    resp->client_time = req->client_time;
    resp->count = 25;
    resp->activation_interval = 120;
    resp->renewal_interval = 10080;
    static const uint8_t hwid[8] = {0x3A, 0x1C, 0x04, 0x96, 0x00, 0xB6, 0x00, 0x76};
    memcpy(resp->hwid, hwid, sizeof hwid);

    vs->ring = calloc(RING, sizeof *vs->ring);
    if (!vs->ring) {
        perror("kmsload-bench");
        exit(1);
    }
    for (size_t i = 0; i < RING; i++) {
        struct prepared *p = &vs->ring[i];
        struct proto_err err;
        uint8_t kms[KMS_REQUEST_MAX], answer[KMS_RESPONSE_MAX];
        size_t kms_len, answer_len;
        pcg32_fill(rng, p->w_req, sizeof p->w_req);
        if (kms_request_encode(req, p->w_req, kms, sizeof kms, &kms_len, &err) ||
            rpc_request_encode(CALL_ID, CONTEXT_ID, RPC_NDR32, kms, kms_len, p->request_pdu,
                               sizeof p->request_pdu, &p->request_len, &err))
            die("request encoding", &err);
        struct kms_response_random rnd;
        pcg32_fill(rng, rnd.r, sizeof rnd.r);
        do {
            pcg32_fill(rng, rnd.w_resp, sizeof rnd.w_resp);
        } while (memcmp(rnd.w_resp, p->w_req, 16) == 0);
        if (kms_response_encode(resp, p->w_req, &rnd, answer, sizeof answer, &answer_len, &err) ||
            rpc_response_encode(CALL_ID, CONTEXT_ID, RPC_NDR32, answer, answer_len, 0,
                                p->response_pdu, sizeof p->response_pdu, &p->response_len, &err))
            die("response encoding", &err);
    }
}

/* ---- the measured operations (one iteration each; i selects the ring entry) ---- */

static uint32_t op_build(struct version_set *vs, size_t i)
{
    const struct prepared *p = &vs->ring[i];
    uint8_t kms[KMS_REQUEST_MAX], pdu[RPC_MAX_PDU];
    size_t kms_len, pdu_len;
    struct proto_err err;
    if (kms_request_encode(&vs->req, p->w_req, kms, sizeof kms, &kms_len, &err) ||
        rpc_request_encode(CALL_ID, CONTEXT_ID, RPC_NDR32, kms, kms_len, pdu, sizeof pdu, &pdu_len,
                           &err))
        die("request build", &err);
    return pdu[pdu_len - 1] ^ (uint32_t)pdu_len;
}

static uint32_t op_verify(struct version_set *vs, size_t i)
{
    const struct prepared *p = &vs->ring[i];
    struct rpc_reply reply;
    struct kms_response resp;
    struct kms_checks checks;
    struct proto_err err;
    if (rpc_reply_decode(p->response_pdu, p->response_len, RPC_NDR32, CALL_ID, CONTEXT_ID, &reply,
                         &err))
        die("rpc_reply_decode", &err);
    if (!reply.kms)
        die("rpc_reply_decode (no KMS payload)", NULL);
    if (kms_response_decode(reply.kms, reply.kms_len, &resp, &checks, &err) ||
        kms_response_verify(&resp, &vs->req, p->w_req, &checks, &err))
        die("response verification", &err);
    return resp.count ^ checks.passed ^ resp.hmac[0];
}

static uint32_t op_pair(struct version_set *vs, size_t i)
{
    return op_build(vs, i) ^ op_verify(vs, i);
}

/* Host side: decode the KMS request, encode the response and its RESPONSE PDU. */
static uint32_t op_host(struct version_set *vs, size_t i, struct pcg32 *rng)
{
    const struct prepared *p = &vs->ring[i];
    const uint8_t *kms = p->request_pdu + 24 + 8; /* NDR32 stub prefix */
    size_t kms_len = p->request_len - 24 - 8;
    struct kms_request req;
    struct kms_request_frame frame;
    struct proto_err err;
    if (kms_request_decode(kms, kms_len, &req, &frame, &err))
        die("kms_request_decode", &err);
    struct kms_response resp = vs->resp;
    resp.cmid = req.cmid;
    resp.client_time = req.client_time;
    struct kms_response_random rnd;
    pcg32_fill(rng, rnd.r, sizeof rnd.r);
    pcg32_fill(rng, rnd.w_resp, sizeof rnd.w_resp);
    uint8_t answer[KMS_RESPONSE_MAX], pdu[RPC_MAX_PDU];
    size_t answer_len, pdu_len;
    if (kms_response_encode(&resp, frame.w_req, &rnd, answer, sizeof answer, &answer_len, &err) ||
        rpc_response_encode(CALL_ID, CONTEXT_ID, RPC_NDR32, answer, answer_len, 0, pdu, sizeof pdu,
                            &pdu_len, &err))
        die("host response encoding", &err);
    return pdu[pdu_len - 5] ^ (uint32_t)pdu_len;
}

enum op_kind { OP_PAIR, OP_BUILD, OP_VERIFY, OP_HOST };

struct result {
    double ns_per_op; /* median over the slices */
    double best_ns;   /* fastest slice */
    double ops_per_s; /* from the median */
    unsigned long long iterations;
};

static uint32_t op_run(enum op_kind kind, struct version_set *vs, size_t i, struct pcg32 *rng)
{
    switch (kind) {
    case OP_PAIR:
        return op_pair(vs, i);
    case OP_BUILD:
        return op_build(vs, i);
    case OP_VERIFY:
        return op_verify(vs, i);
    case OP_HOST:
        return op_host(vs, i, rng);
    }
    return 0;
}

/* Runs kind for `seconds` (clock checked every CLOCK_EVERY iterations); returns ns per op. */
static double timed_slice(enum op_kind kind, struct version_set *vs, double seconds,
                          struct pcg32 *rng, size_t *i, uint32_t *acc, unsigned long long *n_out)
{
    unsigned long long n = 0;
    double start = now_seconds(), elapsed;
    do {
        for (unsigned k = 0; k < CLOCK_EVERY; k++) {
            *acc ^= op_run(kind, vs, *i, rng);
            *i = (*i + 1) % RING;
        }
        n += CLOCK_EVERY;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    *n_out += n;
    return elapsed * 1e9 / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Measures kind over `seconds` of wall time, cut into SLICES slices; the median slice is the
 * figure (robust against other processes stealing the CPU now and then on a shared machine).
 */
static struct result run(enum op_kind kind, struct version_set *vs, double seconds,
                         struct pcg32 *rng)
{
    uint32_t acc = 0;
    size_t i = pcg32_bounded(rng, RING);
    unsigned long long n = 0;
    /* Warm-up: caches, page faults, CPU frequency. Not counted. */
    timed_slice(kind, vs, seconds / 20, rng, &i, &acc, &n);
    n = 0;
    double slice[SLICES];
    for (int s = 0; s < SLICES; s++)
        slice[s] = timed_slice(kind, vs, seconds / SLICES, rng, &i, &acc, &n);
    sink ^= acc;
    qsort(slice, SLICES, sizeof slice[0], cmp_double);
    struct result r = {.ns_per_op = slice[SLICES / 2],
                       .best_ns = slice[0],
                       .ops_per_s = 1e9 / slice[SLICES / 2],
                       .iterations = n};
    return r;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: kmsload-bench [--seconds N] [--only TEXT]\n"
                 "  --seconds N   wall time per measurement (default 2)\n"
                 "  --only TEXT   run only the rows whose name contains TEXT (for profiling)\n");
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    const char *only = NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) {
            char *end;
            seconds = strtod(argv[++a], &end);
            if (*end != '\0' || !(seconds > 0.0) || seconds > 3600.0) {
                fprintf(stderr, "kmsload-bench: --seconds wants a number in (0, 3600]\n");
                return 2;
            }
        } else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc) {
            only = argv[++a];
        } else if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    struct pcg32 rng;
    pcg32_seed(&rng, (uint64_t)time(NULL), 0xbe4c);
    static struct version_set v4, v5, v6;
    version_set_init(&v4, 4, &rng);
    version_set_init(&v5, 5, &rng);
    version_set_init(&v6, 6, &rng);

    struct row {
        const char *name;
        const char *what;
        enum op_kind kind;
        struct version_set *vs;
    } rows[] = {
        {"v6 request+verify", "build request + verify response", OP_PAIR, &v6},
        {"v6 request build", "kms_request_encode + rpc_request_encode", OP_BUILD, &v6},
        {"v6 response verify", "rpc_reply_decode + kms_response_decode/verify", OP_VERIFY, &v6},
        {"v6 host handle", "kms_request_decode + kms/rpc_response_encode", OP_HOST, &v6},
        {"v5 request+verify", "build request + verify response", OP_PAIR, &v5},
        {"v4 request+verify", "build request + verify response", OP_PAIR, &v4},
    };
    size_t n_rows = sizeof rows / sizeof rows[0];
    struct result v6_pair = {0};
    bool have_pair = false;

    printf("kmsload-bench: %.3g s per measurement (median of %d slices; best = fastest slice), "
           "%d distinct W_req per version\n\n",
           seconds, SLICES, RING);
    printf("%-20s %8s %8s %10s %10s  %s\n", "operation", "ns/op", "best", "ops/s", "iterations",
           "covers");
    for (size_t r = 0; r < n_rows; r++) {
        if (only && !strstr(rows[r].name, only))
            continue;
        struct result res = run(rows[r].kind, rows[r].vs, seconds, &rng);
        if (r == 0) {
            v6_pair = res;
            have_pair = true;
        }
        printf("%-20s %8.0f %8.0f %10.0f %10llu  %s\n", rows[r].name, res.ns_per_op, res.best_ns,
               res.ops_per_s, res.iterations, rows[r].what);
        fflush(stdout);
    }
    if (have_pair)
        printf("\nv6 request+verify: %.0f ns/pair (target < %.0f ns)\n", v6_pair.ns_per_op,
               TARGET_NS);
    free(v4.ring);
    free(v5.ring);
    free(v6.ring);
    return 0;
}
