/*
 * The golden vectors (tests/vectors, real vlmcs ↔ vlmcsd captures) against the codec, byte for
 * byte: every PDU is decoded and checked, every KMS message is checked against vlmcs's verbose
 * output, and everything is re-encoded — client side (BIND, ALTER_CONTEXT, REQUEST) and host
 * side (BIND_ACK, ALTER_CONTEXT_RESP, KMS response, RESPONSE) — and compared with the capture.
 */
#include "bytes.h"
#include "cipher.h"
#include "digest.h"
#include "hex.h"
#include "kms_message.h"
#include "proto_error.h"
#include "rpc.h"
#include "vector_file.h"
#include "wintypes.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef KMSLOAD_TEST_DIR
#error "KMSLOAD_TEST_DIR must name the tests directory"
#endif
#define VECTOR_DIR KMSLOAD_TEST_DIR "/vectors"

#define HOST_SEC_ADDR "11688" /* the captures' host port */
#define VLMCS_MAX_FRAG 5840
#define VLMCSD_REFERENT 0x00020000u
#define MAX_EXCHANGES 3
#define MAX_STREAMS 6
#define MAX_CONTEXT_ID 16

/* ---- expectations per vector (from tests/vectors/README.md) ---- */

struct exchange_spec {
    uint32_t call_id;
    uint16_t context_id;
    enum rpc_ndr ndr;
    uint16_t major, minor;
    uint32_t hresult; /* 0: a KMS response came back */
    uint32_t count;
    size_t kms_len; /* KMS response bytes */
};

struct stream_spec {
    uint8_t bind_flags;
    unsigned bind_items;
    bool alter_context;
    int ndr32_context, ndr64_context; /* what the client ends up with; -1 = none */
    bool btfn_acked;
    size_t n_exchanges;
    struct exchange_spec ex[MAX_EXCHANGES];
};

struct vector_spec {
    const char *name;
    bool host_ndr64; /* vlmcsd -N: every host had BTFN on */
    size_t n_streams;
    struct stream_spec streams[MAX_STREAMS];
};

/* BIND [NDR32, NDR64, BTFN] to an NDR64 host → NDR64 only → ALTER_CONTEXT NDR32 as context 0. */
#define DANCE                                                                                      \
    .bind_flags = 0x13, .bind_items = 3, .alter_context = true, .ndr32_context = 0,                \
    .ndr64_context = 1, .btfn_acked = true
/* BIND [NDR32] only, flags 0x03 (no CONC_MPX), accepted directly. */
#define MINIMAL_BIND                                                                               \
    .bind_flags = 0x03, .bind_items = 1, .alter_context = false, .ndr32_context = 0,               \
    .ndr64_context = -1, .btfn_acked = false
/* BIND [NDR32, NDR64, BTFN] to a host without NDR64: NDR32 accepted, no ALTER_CONTEXT. */
#define NDR32_HOST                                                                                 \
    .bind_flags = 0x13, .bind_items = 3, .alter_context = false, .ndr32_context = 0,               \
    .ndr64_context = -1, .btfn_acked = true
#define OK32(id, maj, cnt, len)                                                                    \
    {                                                                                              \
        .call_id = id, .context_id = 0, .ndr = RPC_NDR32, .major = maj, .count = cnt,              \
        .kms_len = len                                                                             \
    }
#define OK64(id, maj, cnt, len)                                                                    \
    {                                                                                              \
        .call_id = id, .context_id = 1, .ndr = RPC_NDR64, .major = maj, .count = cnt,              \
        .kms_len = len                                                                             \
    }
#define ERR32(id, maj, hr)                                                                         \
    {                                                                                              \
        .call_id = id, .context_id = 0, .ndr = RPC_NDR32, .major = maj, .hresult = hr              \
    }
#define ERR64(id, maj, hr)                                                                         \
    {                                                                                              \
        .call_id = id, .context_id = 1, .ndr = RPC_NDR64, .major = maj, .hresult = hr              \
    }

#define E_INVALID_DATA 0x8007000Du
#define E_KMS_ID_MISMATCH 0xC004F042u

/* ---- failure messages name the vector, stream and line ---- */

static char where[160];

static const char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *msgf(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

#define CHECK(cond, ...) cr_assert((cond), "%s: %s", where, msgf(__VA_ARGS__))

static void where_set(const char *vec, int stream, int line, const char *what)
{
    snprintf(where, sizeof where, "%s stream %d, %s.hex line %d (%s)", vec, stream, vec, line,
             what);
}

static void check_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
                        const char *what)
{
    CHECK(got_len == want_len, "%s: %zu bytes, the capture has %zu", what, got_len, want_len);
    size_t i = 0;
    while (i < want_len && got[i] == want[i])
        i++;
    CHECK(i == want_len, "%s: first difference at byte %zu: %02x, the capture has %02x", what, i,
          i < want_len ? got[i] : 0, i < want_len ? want[i] : 0);
}

static const char *ptype_text(uint8_t ptype)
{
    switch (ptype) {
    case RPC_REQUEST:
        return "REQUEST";
    case RPC_RESPONSE:
        return "RESPONSE";
    case RPC_FAULT:
        return "FAULT";
    case RPC_BIND:
        return "BIND";
    case RPC_BIND_ACK:
        return "BIND_ACK";
    case RPC_BIND_NAK:
        return "BIND_NAK";
    case RPC_ALTER_CONTEXT:
        return "ALTER_CONTEXT";
    case RPC_ALTER_CONTEXT_RESP:
        return "ALTER_CONTEXT_RESP";
    default:
        return "?";
    }
}

/* ---- .txt fields ---- */

/* Parses a decimal u32 at the start of s; *rest gets what follows. */
static bool parse_u32(const char *s, uint32_t *out, const char **rest)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    if (rest)
        *rest = end;
    return true;
}

static void check_u32_field(const char *key, const char *value, uint32_t want, const char *suffix)
{
    uint32_t v;
    const char *rest;
    CHECK(parse_u32(value, &v, &rest), "\"%s\" value \"%s\" is not a number", key, value);
    CHECK(v == want, "\"%s\": vlmcs shows %u, decoded %u", key, v, want);
    CHECK(strcmp(rest, suffix) == 0, "\"%s\": unexpected text \"%s\" after the number", key, rest);
}

/* A GUID field: "xxxxxxxx-…" optionally followed by " (name)". */
static void check_guid_field(const char *key, const char *value, const struct guid *want)
{
    char text[GUID_TEXT_LEN + 1];
    struct guid parsed;
    CHECK(strlen(value) >= GUID_TEXT_LEN, "\"%s\" value \"%s\" is too short", key, value);
    memcpy(text, value, GUID_TEXT_LEN);
    text[GUID_TEXT_LEN] = '\0';
    CHECK(value[GUID_TEXT_LEN] == '\0' || value[GUID_TEXT_LEN] == ' ',
          "\"%s\" value \"%s\" does not start with a GUID", key, value);
    CHECK(guid_parse(text, &parsed) == 0, "\"%s\": guid_parse(\"%s\") failed", key, text);
    CHECK(guid_equal(&parsed, want), "\"%s\": vlmcs shows %s, the wire bytes differ", key, text);
    char formatted[GUID_TEXT_LEN + 1];
    guid_format(want, formatted);
    CHECK(strcmp(formatted, text) == 0, "\"%s\": vlmcs shows %s, guid_format gives %s", key, text,
          formatted);
}

static void check_version_field(const char *key, const char *value, uint16_t major, uint16_t minor)
{
    char text[16];
    snprintf(text, sizeof text, "%u.%u", major, minor);
    CHECK(strcmp(value, text) == 0, "\"%s\": vlmcs shows %s, decoded %s", key, value, text);
}

static void check_time_field(const char *key, const char *value, uint64_t filetime)
{
    char text[20];
    filetime_format(filetime, text);
    CHECK(strcmp(value, text) == 0, "\"%s\": vlmcs shows %s, decoded %s", key, value, text);
}

static const char *const request_keys[] = {
    "Protocol version",
    "Client is a virtual machine",
    "Licensing status",
    "Remaining time (0 = forever)",
    "Application ID",
    "SKU ID (aka Activation ID)",
    "KMS ID (aka KMS counted ID)",
    "Client machine ID",
    "Previous client machine ID",
    "Client request timestamp (UTC)",
    "Workstation name",
    "N count policy (minimum clients)",
};

/* Every field of a "Request Parameters" block against the decoded request. */
static void check_request_fields(const struct vf_block *block, const struct kms_request *req)
{
    for (size_t i = 0; i < sizeof request_keys / sizeof request_keys[0]; i++)
        CHECK(vf_block_get(block, request_keys[i]) != NULL,
              "request block (.txt line %d) lacks \"%s\"", block->line, request_keys[i]);
    CHECK(block->n_kv == sizeof request_keys / sizeof request_keys[0],
          "request block (.txt line %d) has %zu fields, expected %zu", block->line, block->n_kv,
          sizeof request_keys / sizeof request_keys[0]);

    for (size_t i = 0; i < block->n_kv; i++) {
        const char *key = block->kv[i].key, *value = block->kv[i].value;
        if (strcmp(key, "Protocol version") == 0) {
            check_version_field(key, value, req->major, req->minor);
        } else if (strcmp(key, "Client is a virtual machine") == 0) {
            CHECK(req->vm_info <= 1, "VMInfo %u is neither 0 nor 1", req->vm_info);
            CHECK(strcmp(value, req->vm_info ? "Yes" : "No") == 0,
                  "\"%s\": vlmcs shows %s, decoded VMInfo %u", key, value, req->vm_info);
        } else if (strcmp(key, "Licensing status") == 0) {
            uint32_t v;
            const char *rest;
            CHECK(parse_u32(value, &v, &rest), "\"%s\" value \"%s\"", key, value);
            CHECK(v == req->license_status, "\"%s\": vlmcs shows %u, decoded %u", key, v,
                  req->license_status);
            char name[64];
            snprintf(name, sizeof name, " (%s)", kms_license_status_name(req->license_status));
            CHECK(strcasecmp(rest, name) == 0, "\"%s\": vlmcs names it \"%s\", the codec \"%s\"",
                  key, rest, name);
        } else if (strcmp(key, "Remaining time (0 = forever)") == 0) {
            check_u32_field(key, value, req->binding_expiration, " minutes");
        } else if (strcmp(key, "Application ID") == 0) {
            check_guid_field(key, value, &req->app_id);
        } else if (strcmp(key, "SKU ID (aka Activation ID)") == 0) {
            check_guid_field(key, value, &req->sku_id);
        } else if (strcmp(key, "KMS ID (aka KMS counted ID)") == 0) {
            check_guid_field(key, value, &req->kms_id);
        } else if (strcmp(key, "Client machine ID") == 0) {
            check_guid_field(key, value, &req->cmid);
        } else if (strcmp(key, "Previous client machine ID") == 0) {
            check_guid_field(key, value, &req->cmid_prev);
        } else if (strcmp(key, "Client request timestamp (UTC)") == 0) {
            check_time_field(key, value, req->client_time);
        } else if (strcmp(key, "Workstation name") == 0) {
            char name[KMS_WORKSTATION_BYTES * 3 / 2 + 1];
            kms_request_workstation(req, name, sizeof name);
            CHECK(strcmp(value, name) == 0, "\"%s\": vlmcs shows \"%s\", decoded \"%s\"", key,
                  value, name);
        } else if (strcmp(key, "N count policy (minimum clients)") == 0) {
            check_u32_field(key, value, req->n_policy, "");
        } else {
            CHECK(false, "request block (.txt line %d): field \"%s\" is not checked", block->line,
                  key);
        }
    }
}

static const char *const response_keys[] = {
    "Size of KMS Response",           "Protocol version",
    "KMS host extended PID",          "Client machine ID",
    "Client request timestamp (UTC)", "KMS host current active clients",
    "Renewal interval policy",        "Activation interval policy",
};

/* Every field of a "Response from KMS server" block against the decoded response. */
static void check_response_fields(const struct vf_block *block, const struct kms_response *resp,
                                  size_t kms_len)
{
    size_t n_keys = sizeof response_keys / sizeof response_keys[0];
    for (size_t i = 0; i < n_keys; i++)
        CHECK(vf_block_get(block, response_keys[i]) != NULL,
              "response block (.txt line %d) lacks \"%s\"", block->line, response_keys[i]);
    bool v6 = resp->major == 6;
    CHECK((vf_block_get(block, "KMS host Hardware ID") != NULL) == v6,
          "response block (.txt line %d): a Hardware ID is shown exactly for V6", block->line);
    CHECK(block->n_kv == n_keys + v6, "response block (.txt line %d) has %zu fields", block->line,
          block->n_kv);

    for (size_t i = 0; i < block->n_kv; i++) {
        const char *key = block->kv[i].key, *value = block->kv[i].value;
        if (strcmp(key, "Size of KMS Response") == 0) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, " (0x%zx)", kms_len);
            check_u32_field(key, value, (uint32_t)kms_len, suffix);
            CHECK(resp->wire_len == kms_len, "decoded wire_len %zu, KMS payload %zu",
                  resp->wire_len, kms_len);
        } else if (strcmp(key, "Protocol version") == 0) {
            check_version_field(key, value, resp->major, resp->minor);
        } else if (strcmp(key, "KMS host extended PID") == 0) {
            CHECK(strcmp(value, resp->epid) == 0, "\"%s\": vlmcs shows %s, decoded %s", key, value,
                  resp->epid);
            CHECK(resp->pid_size == 2 * strlen(value) + 2, "PIDSize %u for a %zu-character ePID",
                  resp->pid_size, strlen(value));
        } else if (strcmp(key, "KMS host Hardware ID") == 0) {
            char hex[17];
            for (int b = 0; b < 8; b++)
                snprintf(hex + 2 * b, 3, "%02X", resp->hwid[b]);
            CHECK(strcmp(value, hex) == 0, "\"%s\": vlmcs shows %s, decoded %s", key, value, hex);
        } else if (strcmp(key, "Client machine ID") == 0) {
            check_guid_field(key, value, &resp->cmid);
        } else if (strcmp(key, "Client request timestamp (UTC)") == 0) {
            check_time_field(key, value, resp->client_time);
        } else if (strcmp(key, "KMS host current active clients") == 0) {
            check_u32_field(key, value, resp->count, "");
        } else if (strcmp(key, "Renewal interval policy") == 0) {
            check_u32_field(key, value, resp->renewal_interval, "");
        } else if (strcmp(key, "Activation interval policy") == 0) {
            check_u32_field(key, value, resp->activation_interval, "");
        } else {
            CHECK(false, "response block (.txt line %d): field \"%s\" is not checked", block->line,
                  key);
        }
    }
}

/* ---- a stream, PDU by PDU ---- */

struct pending_call {
    bool active;
    uint32_t call_id;
    uint16_t context_id;
    enum rpc_ndr ndr;
    bool version_supported;
    struct kms_request req;
    struct kms_request_frame frame;
};

struct stream_state {
    const struct vector_spec *spec;
    const struct vf_run *run;
    struct stream_spec *got;
    uint32_t call_id; /* the client's counter: vlmcs starts at 2, +1 after each REQUEST */
    struct rpc_bind sent;
    bool awaiting_ack, bound;
    uint32_t assoc_group;
    struct rpc_negotiated neg;                /* the client's view */
    enum rpc_syntax host_ctx[MAX_CONTEXT_ID]; /* the host's view: accepted context ids */
    bool host_ctx_accepted[MAX_CONTEXT_ID];
    size_t n_requests, n_responses;
    struct pending_call call;
};

/* §3.2 offsets, for the requests kms_request_decode rightly refuses (unsupported versions). */
static void request_base_parse_local(const uint8_t *b, struct kms_request *req)
{
    memset(req, 0, sizeof *req);
    req->minor = le16_get(b);
    req->major = le16_get(b + 2);
    req->vm_info = le32_get(b + 4);
    req->license_status = le32_get(b + 8);
    req->binding_expiration = le32_get(b + 12);
    memcpy(req->app_id.b, b + 16, 16);
    memcpy(req->sku_id.b, b + 32, 16);
    memcpy(req->kms_id.b, b + 48, 16);
    memcpy(req->cmid.b, b + 64, 16);
    req->n_policy = le32_get(b + 80);
    req->client_time = le64_get(b + 84);
    memcpy(req->cmid_prev.b, b + 92, 16);
    memcpy(req->workstation, b + 108, KMS_WORKSTATION_BYTES);
}

static void handle_bind(struct stream_state *st, const struct vf_pdu *pdu)
{
    struct rpc_bind b;
    struct proto_err e = {0};
    int rc = rpc_bind_decode(pdu->data, pdu->len, &b, &e);
    CHECK(rc == 0, "rpc_bind_decode: %s", e.detail);
    CHECK(!st->awaiting_ack && !st->call.active, "%s while a reply is outstanding",
          ptype_text(b.ptype));
    CHECK(b.call_id == st->call_id, "%s call_id %u, the client's counter is at %u",
          ptype_text(b.ptype), b.call_id, st->call_id);
    CHECK(b.max_xmit_frag == VLMCS_MAX_FRAG && b.max_recv_frag == VLMCS_MAX_FRAG, "max frags %u/%u",
          b.max_xmit_frag, b.max_recv_frag);
    CHECK(b.assoc_group == 0, "assoc_group %u in a client %s", b.assoc_group, ptype_text(b.ptype));
    if (b.ptype == RPC_BIND) {
        CHECK(!st->bound, "second BIND on one connection");
        st->got->bind_flags = b.flags;
        st->got->bind_items = b.n_items;
    } else {
        CHECK(st->bound, "ALTER_CONTEXT before BIND");
        CHECK(!st->got->alter_context, "second ALTER_CONTEXT");
        CHECK(b.n_items == 1, "ALTER_CONTEXT with %u items, vlmcs sends one", b.n_items);
        st->got->alter_context = true;
    }

    /* Build the same PDU from scratch, as a client would, and re-encode the decoded struct. */
    struct rpc_bind fresh = {.ptype = b.ptype,
                             .flags = b.flags,
                             .call_id = b.call_id,
                             .max_xmit_frag = VLMCS_MAX_FRAG,
                             .max_recv_frag = VLMCS_MAX_FRAG,
                             .n_items = b.n_items};
    for (unsigned i = 0; i < b.n_items; i++) {
        const struct rpc_context_item *item = &b.items[i];
        uint16_t features = 0;
        enum rpc_syntax syn = rpc_syntax_classify(item, &features);
        CHECK(syn != RPC_SYNTAX_OTHER, "item %u: unknown transfer syntax", i);
        CHECK(guid_equal(&item->abstract_syntax, &rpc_kms_interface),
              "item %u: abstract syntax is not the KMS interface", i);
        CHECK(item->if_major == 1 && item->if_minor == 0, "item %u: interface version %u.%u", i,
              item->if_major, item->if_minor);
        CHECK(item->context_id == i, "item %u has context id %u (vlmcs numbers them 0, 1, 2)", i,
              item->context_id);
        if (syn == RPC_SYNTAX_BTFN)
            CHECK(features == 0x0003, "BTFN item %u offers features 0x%04x, vlmcs sends 3", i,
                  features);
        rpc_context_item_init(&fresh.items[i], item->context_id, syn, features);
        CHECK(guid_equal(&fresh.items[i].transfer_syntax, &item->transfer_syntax) &&
                  fresh.items[i].transfer_version == item->transfer_version,
              "item %u: rpc_context_item_init builds a different transfer syntax", i);
    }
    uint8_t out[RPC_MAX_PDU];
    size_t len = 0;
    rc = rpc_bind_encode(&b, out, sizeof out, &len, &e);
    CHECK(rc == 0, "rpc_bind_encode(decoded): %s", e.detail);
    check_bytes(out, len, pdu->data, pdu->len, "re-encoded decoded BIND");
    rc = rpc_bind_encode(&fresh, out, sizeof out, &len, &e);
    CHECK(rc == 0, "rpc_bind_encode(fresh): %s", e.detail);
    check_bytes(out, len, pdu->data, pdu->len, "BIND built with rpc_context_item_init");

    st->sent = b;
    st->awaiting_ack = true;
    st->bound = true;
}

static void handle_bind_ack(struct stream_state *st, const struct vf_pdu *pdu)
{
    struct rpc_bind_ack ack;
    struct proto_err e = {0};
    CHECK(st->awaiting_ack, "a bind reply without a BIND/ALTER_CONTEXT");
    const struct rpc_bind *sent = &st->sent;
    int rc = rpc_bind_ack_decode(pdu->data, pdu->len, &ack, &e);
    CHECK(rc == 0, "rpc_bind_ack_decode: %s", e.detail);
    bool is_ack = sent->ptype == RPC_BIND;
    uint8_t want_ptype = is_ack ? RPC_BIND_ACK : RPC_ALTER_CONTEXT_RESP;
    CHECK(ack.ptype == want_ptype, "%s answered with %s", ptype_text(sent->ptype),
          ptype_text(ack.ptype));
    CHECK(ack.call_id == sent->call_id, "call_id %u, sent %u", ack.call_id, sent->call_id);
    CHECK(ack.max_xmit_frag == sent->max_xmit_frag && ack.max_recv_frag == sent->max_recv_frag,
          "max frags %u/%u not echoed", ack.max_xmit_frag, ack.max_recv_frag);
    CHECK(ack.assoc_group != 0, "host assoc_group is 0");
    CHECK(ack.n_results == sent->n_items, "%u results for %u items", ack.n_results, sent->n_items);
    if (is_ack) {
        CHECK(strcmp(ack.sec_addr, HOST_SEC_ADDR) == 0, "sec_addr \"%s\", expected \"%s\"",
              ack.sec_addr, HOST_SEC_ADDR);
        CHECK(ack.flags == sent->flags, "BIND_ACK flags 0x%02x, BIND had 0x%02x", ack.flags,
              sent->flags);
        CHECK(le16_get(pdu->data + 24) == strlen(HOST_SEC_ADDR) + 1, "sec_addr length %u",
              le16_get(pdu->data + 24));
        st->assoc_group = ack.assoc_group;
    } else {
        CHECK(ack.sec_addr[0] == '\0', "ALTER_CONTEXT_RESP sec_addr \"%s\"", ack.sec_addr);
        CHECK(ack.flags == (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG),
              "ALTER_CONTEXT_RESP flags 0x%02x, vlmcsd sends 0x03", ack.flags);
        CHECK(ack.assoc_group == st->assoc_group, "assoc_group 0x%08x, the BIND_ACK had 0x%08x",
              ack.assoc_group, st->assoc_group);
    }

    /* Host side: the negotiation rule with vlmcsd's caps reproduces the results... */
    struct rpc_host_caps caps = {.ndr64 = st->spec->host_ndr64, .btfn = true};
    struct rpc_bind_ack host = {.ptype = want_ptype,
                                .flags = ack.flags,
                                .call_id = sent->call_id,
                                .max_xmit_frag = sent->max_xmit_frag,
                                .max_recv_frag = sent->max_recv_frag,
                                .assoc_group = ack.assoc_group};
    snprintf(host.sec_addr, sizeof host.sec_addr, "%s", is_ack ? HOST_SEC_ADDR : "");
    rpc_bind_negotiate(sent, caps, &host);
    CHECK(host.n_results == ack.n_results, "negotiation gives %u results, capture %u",
          host.n_results, ack.n_results);
    for (unsigned i = 0; i < ack.n_results; i++) {
        const struct rpc_bind_result *h = &host.results[i], *c = &ack.results[i];
        CHECK(h->result == c->result && h->reason == c->reason,
              "item %u: host rule gives %u/%u, the capture %u/%u", i, h->result, h->reason,
              c->result, c->reason);
        CHECK(guid_equal(&h->transfer_syntax, &c->transfer_syntax) &&
                  h->transfer_version == c->transfer_version,
              "item %u: host rule gives another transfer syntax/version", i);
        if (c->result != RPC_ACCEPTANCE)
            CHECK(guid_is_null(&c->transfer_syntax) && c->transfer_version == 0,
                  "item %u: result %u with a non-null transfer syntax", i, c->result);
        else
            CHECK(guid_equal(&c->transfer_syntax, &sent->items[i].transfer_syntax) &&
                      c->transfer_version == sent->items[i].transfer_version,
                  "item %u accepted with a syntax that was not offered", i);
    }

    /* ...and so do the bytes, apart from the pad after sec_addr (stale in ALTER_CONTEXT_RESP). */
    uint8_t norm[RPC_MAX_PDU], out[RPC_MAX_PDU];
    CHECK(pdu->len <= sizeof norm, "PDU of %zu bytes", pdu->len);
    memcpy(norm, pdu->data, pdu->len);
    size_t l = le16_get(norm + 24), r = (26 + l + 3) & ~(size_t)3;
    CHECK(r <= pdu->len, "results offset %zu past the PDU", r);
    memset(norm + 26 + l, 0, r - (26 + l));
    size_t len = 0;
    rc = rpc_bind_ack_encode(&host, out, sizeof out, &len, &e);
    CHECK(rc == 0, "rpc_bind_ack_encode(host): %s", e.detail);
    check_bytes(out, len, norm, pdu->len, "host-built bind reply (pad normalised)");
    rc = rpc_bind_ack_encode(&ack, out, sizeof out, &len, &e);
    CHECK(rc == 0, "rpc_bind_ack_encode(decoded): %s", e.detail);
    check_bytes(out, len, norm, pdu->len, "re-encoded decoded bind reply (pad normalised)");

    /* Client side. */
    bool mpx_before = st->neg.conc_mpx_differs;
    rc = rpc_bind_ack_check(sent, &ack, &st->neg, &e);
    CHECK(rc == 0, "rpc_bind_ack_check: %s", e.detail);
    CHECK(st->neg.conc_mpx_differs ==
              (mpx_before || ((ack.flags ^ sent->flags) & RPC_PFC_CONC_MPX) != 0),
          "conc_mpx_differs is %d for flags 0x%02x/0x%02x", st->neg.conc_mpx_differs, sent->flags,
          ack.flags);
    for (unsigned i = 0; i < sent->n_items; i++) {
        const struct rpc_context_item *item = &sent->items[i];
        const struct rpc_bind_result *res = &ack.results[i];
        uint16_t features = 0;
        enum rpc_syntax syn = rpc_syntax_classify(item, &features);
        if (syn == RPC_SYNTAX_BTFN) {
            CHECK(res->result == RPC_NEGOTIATE_ACK && res->reason == features,
                  "BTFN item %u: result %u/%u", i, res->result, res->reason);
            CHECK(st->neg.btfn_acked && st->neg.btfn_features == features,
                  "client did not record the BTFN ack");
            continue;
        }
        if (res->result != RPC_ACCEPTANCE)
            continue;
        CHECK(item->context_id < MAX_CONTEXT_ID, "context id %u", item->context_id);
        st->host_ctx[item->context_id] = syn;
        st->host_ctx_accepted[item->context_id] = true;
        int client = syn == RPC_SYNTAX_NDR32 ? st->neg.ndr32_context : st->neg.ndr64_context;
        CHECK(client == item->context_id, "host accepted context %u (%s), the client recorded %d",
              item->context_id, syn == RPC_SYNTAX_NDR32 ? "NDR32" : "NDR64", client);
    }
    st->awaiting_ack = false;
}

static void handle_request(struct stream_state *st, const struct vf_pdu *pdu)
{
    struct rpc_request rr;
    struct proto_err e = {0};
    int rc = rpc_request_decode(pdu->data, pdu->len, &rr, &e);
    CHECK(rc == 0, "rpc_request_decode: %s", e.detail);
    CHECK(st->bound && !st->awaiting_ack && !st->call.active, "REQUEST out of order");
    CHECK(rr.flags == (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG), "REQUEST flags 0x%02x", rr.flags);
    CHECK(rr.opnum == 0, "opnum %u", rr.opnum);
    CHECK(rr.call_id == st->call_id, "call_id %u, the client's counter is at %u", rr.call_id,
          st->call_id);
    CHECK(rr.alloc_hint == rr.stub_len, "alloc_hint %u, stub %zu", rr.alloc_hint, rr.stub_len);
    CHECK(rr.context_id < MAX_CONTEXT_ID && st->host_ctx_accepted[rr.context_id],
          "REQUEST on context %u, which the host did not accept", rr.context_id);
    enum rpc_ndr ndr = st->host_ctx[rr.context_id] == RPC_SYNTAX_NDR64 ? RPC_NDR64 : RPC_NDR32;
    CHECK((ndr == RPC_NDR32 ? st->neg.ndr32_context : st->neg.ndr64_context) == rr.context_id,
          "the client's negotiated view does not map context %u to %s", rr.context_id,
          ndr == RPC_NDR64 ? "NDR64" : "NDR32");

    const uint8_t *kms;
    size_t kms_len;
    rc = rpc_request_payload(&rr, ndr, &kms, &kms_len, &e);
    CHECK(rc == 0, "rpc_request_payload: %s", e.detail);
    size_t prefix = ndr == RPC_NDR64 ? 16 : 8;
    CHECK(rr.stub_len == prefix + kms_len, "stub %zu bytes for a %zu-byte request", rr.stub_len,
          kms_len);
    CHECK(kms == rr.stub + prefix, "payload does not start at stub offset %zu", prefix);
    if (ndr == RPC_NDR64)
        CHECK(le32_get(rr.stub + 4) == 0, "NDR64 request stub pad is not zero");

    CHECK(st->n_requests < st->run->n_requests, "more REQUESTs than vlmcs printed requests");
    const struct vf_block *txt = &st->run->requests[st->n_requests++];
    const char *version = vf_block_get(txt, "Protocol version");
    CHECK(version != NULL, "request block (.txt line %d) has no version", txt->line);
    bool supported =
        strcmp(version, "4.0") == 0 || strcmp(version, "5.0") == 0 || strcmp(version, "6.0") == 0;
    struct pending_call *call = &st->call;
    memset(call, 0, sizeof *call);

    rc = kms_request_decode(kms, kms_len, &call->req, &call->frame, &e);
    if (supported) {
        CHECK(rc == 0, "kms_request_decode: %s", e.detail);
        CHECK(kms_len == (call->req.major == 4 ? KMS_V4_REQUEST_LEN : KMS_V5_REQUEST_LEN),
              "V%u request of %zu bytes", call->req.major, kms_len);
        if (call->req.major == 4)
            CHECK(call->frame.v4_mac_ok, "V4 request MAC does not verify");
        else
            CHECK(memcmp(call->frame.w_req, kms + 4, 16) == 0, "frame.w_req is not the wire IV");
    } else {
        CHECK(rc == -(int)PROTO_E_VERSION && e.code == PROTO_E_VERSION,
              "kms_request_decode of a %s request returned %d (%s), expected PROTO_E_VERSION",
              version, rc, proto_code_name(e.code));
        /* Decode by hand with the framing the codec's encoder uses for this version. */
        uint16_t major = le16_get(kms + 2);
        if (major < 5) {
            CHECK(kms_len == KMS_V4_REQUEST_LEN, "V%u request of %zu bytes", major, kms_len);
            request_base_parse_local(kms, &call->req);
            uint8_t mac[16];
            kms_mac4(kms, KMS_REQUEST_BASE_LEN, mac);
            CHECK(memcmp(mac, kms + KMS_REQUEST_BASE_LEN, 16) == 0, "V%u request MAC", major);
        } else {
            CHECK(kms_len == KMS_V5_REQUEST_LEN, "V%u request of %zu bytes", major, kms_len);
            uint8_t plain[240];
            memcpy(call->frame.w_req, kms + 4, 16);
            cipher_cbc_decrypt(major == 5 ? &cipher_key_v5 : &cipher_key_v6, call->frame.w_req,
                               kms + 20, sizeof plain, plain);
            CHECK(memcmp(plain + 236, "\4\4\4\4", 4) == 0, "V%u request padding", major);
            request_base_parse_local(plain, &call->req);
        }
        CHECK(le16_get(kms) == call->req.minor && major == call->req.major,
              "inner and outer versions differ");
    }
    check_request_fields(txt, &call->req);

    /* Client side: the decoded request and its IV re-encode to the captured bytes... */
    uint8_t out[RPC_MAX_PDU];
    size_t len = 0;
    rc = kms_request_encode(&call->req, call->frame.w_req, out, sizeof out, &len, &e);
    CHECK(rc == 0, "kms_request_encode: %s", e.detail);
    check_bytes(out, len, kms, kms_len, "re-encoded KMS request");
    /* ...and so does the whole REQUEST PDU. */
    uint8_t pdu_out[RPC_MAX_PDU];
    rc = rpc_request_encode(rr.call_id, rr.context_id, ndr, out, len, pdu_out, sizeof pdu_out, &len,
                            &e);
    CHECK(rc == 0, "rpc_request_encode: %s", e.detail);
    check_bytes(pdu_out, len, pdu->data, pdu->len, "re-encoded REQUEST PDU");

    call->active = true;
    call->call_id = rr.call_id;
    call->context_id = rr.context_id;
    call->ndr = ndr;
    call->version_supported = supported;
    st->call_id++;
}

static unsigned expected_checks(uint16_t major)
{
    unsigned common =
        KMS_CHECK_EPID | KMS_CHECK_VERSION | KMS_CHECK_CMID | KMS_CHECK_TIME | KMS_CHECK_SIZE;
    switch (major) {
    case 4:
        return common | KMS_CHECK_MAC4;
    case 5:
        return common | KMS_CHECK_DECRYPT | KMS_CHECK_HASH | KMS_CHECK_IV_ECHO;
    default:
        return common | KMS_CHECK_DECRYPT | KMS_CHECK_HASH | KMS_CHECK_XORED_IVS | KMS_CHECK_HMAC |
               KMS_CHECK_IV_FRESH;
    }
}

static void handle_response(struct stream_state *st, const struct vf_pdu *pdu)
{
    struct pending_call *call = &st->call;
    struct proto_err e = {0};
    CHECK(call->active, "RESPONSE without an outstanding REQUEST");
    CHECK(st->n_responses < st->run->n_responses, "more RESPONSEs than vlmcs printed results");
    const struct vf_block *txt = &st->run->responses[st->n_responses++];

    struct rpc_reply reply;
    int rc = rpc_reply_decode(pdu->data, pdu->len, call->ndr, call->call_id, call->context_id,
                              &reply, &e);
    CHECK(rc == 0, "rpc_reply_decode: %s", e.detail);
    CHECK(!reply.is_fault, "a FAULT");
    CHECK(reply.call_id == call->call_id && reply.context_id == call->context_id,
          "reply call %u ctx %u, request call %u ctx %u", reply.call_id, reply.context_id,
          call->call_id, call->context_id);
    CHECK(pdu->data[3] == (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG), "RESPONSE flags 0x%02x",
          pdu->data[3]);
    CHECK(reply.alloc_hint == pdu->len - 24 && !reply.alloc_hint_differs,
          "alloc_hint %u for a %zu-byte stub", reply.alloc_hint, pdu->len - 24);
    const uint8_t *stub = pdu->data + 24;
    size_t stub_len = pdu->len - 24;
    bool ndr64 = call->ndr == RPC_NDR64;

    struct exchange_spec *ex = &st->got->ex[st->got->n_exchanges];
    CHECK(st->got->n_exchanges < MAX_EXCHANGES, "too many exchanges");
    st->got->n_exchanges++;
    ex->call_id = call->call_id;
    ex->context_id = call->context_id;
    ex->ndr = call->ndr;
    ex->major = call->req.major;
    ex->minor = call->req.minor;

    uint8_t out[RPC_MAX_PDU];
    size_t len = 0;
    if (txt->is_error) {
        CHECK(reply.kms == NULL && reply.kms_len == 0, "an error reply carries KMS data");
        CHECK(reply.status == txt->hresult, "HRESULT 0x%08X, vlmcs printed 0x%08X", reply.status,
              txt->hresult);
        CHECK(stub_len == (ndr64 ? 20u : 12u), "error stub of %zu bytes", stub_len);
        CHECK(le32_get(stub) == 0, "error stub responseSize %u", le32_get(stub));
        CHECK((ndr64 ? le64_get(stub + 8) | le32_get(stub + 4) : le32_get(stub + 4)) == 0,
              "error stub referent/pad is not zero");
        CHECK(le32_get(stub + stub_len - 4) == txt->hresult, "return value");
        rc = rpc_response_encode(call->call_id, call->context_id, call->ndr, NULL, 0, txt->hresult,
                                 out, sizeof out, &len, &e);
        CHECK(rc == 0, "rpc_response_encode(error): %s", e.detail);
        check_bytes(out, len, pdu->data, pdu->len, "re-encoded error RESPONSE PDU");
        ex->hresult = reply.status;
        call->active = false;
        return;
    }

    CHECK(call->version_supported, "a KMS response to an unsupported version");
    CHECK(reply.status == 0 && reply.kms != NULL, "RPC return value 0x%08X, kms %p", reply.status,
          (const void *)reply.kms);
    size_t m = reply.kms_len, prefix = ndr64 ? 24 : 12, pad = (4 - m % 4) % 4;
    CHECK(stub_len == prefix + m + pad + 4, "stub %zu bytes for a %zu-byte KMS response", stub_len,
          m);
    CHECK(reply.kms == stub + prefix, "KMS data not at stub offset %zu", prefix);
    CHECK(le32_get(stub) == m, "responseSize");
    CHECK((ndr64 ? le64_get(stub + 8) : le32_get(stub + 4)) == VLMCSD_REFERENT,
          "referent id is not vlmcsd's 0x00020000");
    CHECK((ndr64 ? le64_get(stub + 16) : le32_get(stub + 8)) == m, "conformance");
    if (ndr64)
        CHECK(le32_get(stub + 4) == 0, "NDR64 alignment pad is not zero");
    for (size_t i = 0; i < pad; i++)
        CHECK(stub[prefix + m + i] == 0, "NDR pad byte %zu is not zero", i);
    CHECK(le32_get(stub + stub_len - 4) == 0, "return value");

    /* Client side: decode and every check of §5.3 / §6.4 / §7.5. */
    struct kms_response resp;
    struct kms_checks checks;
    rc = kms_response_decode(reply.kms, m, &resp, &checks, &e);
    CHECK(rc == 0, "kms_response_decode: %s", e.detail);
    rc = kms_response_verify(&resp, &call->req, call->frame.w_req, &checks, &e);
    CHECK(rc == 0, "kms_response_verify: %s", e.detail);
    unsigned want = expected_checks(resp.major);
    CHECK(checks.passed == want, "V%u checks passed 0x%03x, expected 0x%03x", resp.major,
          checks.passed, want);
    CHECK(checks.warned == 0, "warnings 0x%03x", checks.warned);
    if (resp.major == 6)
        CHECK(resp.hmac_slot == 0, "HMAC matched in slot %d, expected 0", resp.hmac_slot);
    if (resp.major == 5)
        CHECK(memcmp(resp.w_resp, call->frame.w_req, 16) == 0, "V5 W_resp != W_req");
    if (resp.major == 6)
        CHECK(memcmp(resp.w_resp, call->frame.w_req, 16) != 0, "V6 W_resp == W_req");
    check_response_fields(txt, &resp, m);

    /* Host side: recover R and W_resp and rebuild the KMS response and the PDU. */
    struct kms_response_random rnd;
    memset(&rnd, 0, sizeof rnd);
    const uint8_t *w_req = NULL;
    if (resp.major != 4) {
        uint8_t div[16];
        cipher_decrypt_block(resp.major == 5 ? &cipher_key_v5 : &cipher_key_v6, call->frame.w_req,
                             div);
        for (int i = 0; i < 16; i++)
            rnd.r[i] = resp.random_xored_ivs[i] ^ div[i];
        memcpy(rnd.w_resp, resp.w_resp, 16);
        w_req = call->frame.w_req;
    }
    uint8_t kms_out[KMS_RESPONSE_MAX];
    rc = kms_response_encode(&resp, w_req, resp.major == 4 ? NULL : &rnd, kms_out, sizeof kms_out,
                             &len, &e);
    CHECK(rc == 0, "kms_response_encode: %s", e.detail);
    check_bytes(kms_out, len, reply.kms, m, "host-rebuilt KMS response");
    rc = rpc_response_encode(call->call_id, call->context_id, call->ndr, kms_out, len, 0, out,
                             sizeof out, &len, &e);
    CHECK(rc == 0, "rpc_response_encode: %s", e.detail);
    check_bytes(out, len, pdu->data, pdu->len, "host-rebuilt RESPONSE PDU");

    ex->count = resp.count;
    ex->kms_len = m;
    call->active = false;
}

static void run_stream(const struct vector_spec *spec, const struct vf_stream *stream,
                       const struct vf_run *run, struct stream_spec *got)
{
    struct stream_state st;
    memset(&st, 0, sizeof st);
    st.spec = spec;
    st.run = run;
    st.got = got;
    st.call_id = 2;
    rpc_negotiated_init(&st.neg);
    memset(got, 0, sizeof *got);

    for (size_t i = 0; i < stream->n_pdus; i++) {
        const struct vf_pdu *pdu = &stream->pdus[i];
        where_set(spec->name, stream->number, pdu->line, pdu->c2s ? "c2s" : "s2c");
        struct rpc_header hdr;
        struct proto_err e = {0};
        CHECK(rpc_frame_length(pdu->data, pdu->len, &e) == (int)pdu->len,
              "rpc_frame_length does not frame the PDU: %s", e.detail);
        CHECK(rpc_frame_length(pdu->data, RPC_HEADER_LEN - 1, &e) == 0,
              "rpc_frame_length with 15 bytes is not 0");
        CHECK(rpc_header_decode(pdu->data, pdu->len, &hdr, &e) == 0, "rpc_header_decode: %s",
              e.detail);
        where_set(spec->name, stream->number, pdu->line, ptype_text(hdr.ptype));
        if (pdu->has_meta) {
            CHECK(hdr.ptype == pdu->meta_ptype &&
                      strcmp(pdu->meta_name, ptype_text(hdr.ptype)) == 0,
                  "PTYPE %u, the capture comment says %s/%u", hdr.ptype, pdu->meta_name,
                  pdu->meta_ptype);
            CHECK(hdr.flags == pdu->meta_flags, "flags 0x%02x, comment 0x%02x", hdr.flags,
                  pdu->meta_flags);
            CHECK(hdr.frag_length == pdu->meta_frag_len, "frag_length %u, comment %u",
                  hdr.frag_length, pdu->meta_frag_len);
            CHECK(hdr.call_id == pdu->meta_call_id, "call_id %u, comment %u", hdr.call_id,
                  pdu->meta_call_id);
        }
        bool client_pdu =
            hdr.ptype == RPC_BIND || hdr.ptype == RPC_ALTER_CONTEXT || hdr.ptype == RPC_REQUEST;
        CHECK(client_pdu == pdu->c2s, "%s sent in the wrong direction", ptype_text(hdr.ptype));
        switch (hdr.ptype) {
        case RPC_BIND:
        case RPC_ALTER_CONTEXT:
            handle_bind(&st, pdu);
            break;
        case RPC_BIND_ACK:
        case RPC_ALTER_CONTEXT_RESP:
            handle_bind_ack(&st, pdu);
            break;
        case RPC_REQUEST:
            handle_request(&st, pdu);
            break;
        case RPC_RESPONSE:
            handle_response(&st, pdu);
            break;
        default:
            CHECK(false, "unexpected %s", ptype_text(hdr.ptype));
        }
    }
    where_set(spec->name, stream->number, 0, "end of stream");
    CHECK(!st.awaiting_ack && !st.call.active, "stream ends with an unanswered PDU");
    CHECK(st.n_requests == run->n_requests, "%zu REQUESTs, vlmcs printed %zu request blocks",
          st.n_requests, run->n_requests);
    CHECK(st.n_responses == run->n_responses, "%zu RESPONSEs, vlmcs printed %zu results",
          st.n_responses, run->n_responses);
    got->ndr32_context = st.neg.ndr32_context;
    got->ndr64_context = st.neg.ndr64_context;
    got->btfn_acked = st.neg.btfn_acked;
}

static void compare_stream(const struct stream_spec *want, const struct stream_spec *got)
{
    CHECK(got->bind_flags == want->bind_flags, "BIND flags 0x%02x, expected 0x%02x",
          got->bind_flags, want->bind_flags);
    CHECK(got->bind_items == want->bind_items, "BIND with %u items, expected %u", got->bind_items,
          want->bind_items);
    CHECK(got->alter_context == want->alter_context, "ALTER_CONTEXT %s, expected %s",
          got->alter_context ? "sent" : "absent", want->alter_context ? "sent" : "absent");
    CHECK(got->ndr32_context == want->ndr32_context, "NDR32 context %d, expected %d",
          got->ndr32_context, want->ndr32_context);
    CHECK(got->ndr64_context == want->ndr64_context, "NDR64 context %d, expected %d",
          got->ndr64_context, want->ndr64_context);
    CHECK(got->btfn_acked == want->btfn_acked, "BTFN acked %d, expected %d", got->btfn_acked,
          want->btfn_acked);
    CHECK(got->n_exchanges == want->n_exchanges, "%zu exchanges, expected %zu", got->n_exchanges,
          want->n_exchanges);
    for (size_t i = 0; i < want->n_exchanges; i++) {
        const struct exchange_spec *w = &want->ex[i], *g = &got->ex[i];
        CHECK(g->call_id == w->call_id && g->context_id == w->context_id && g->ndr == w->ndr,
              "exchange %zu: call %u ctx %u %s, expected call %u ctx %u %s", i + 1, g->call_id,
              g->context_id, g->ndr == RPC_NDR64 ? "NDR64" : "NDR32", w->call_id, w->context_id,
              w->ndr == RPC_NDR64 ? "NDR64" : "NDR32");
        CHECK(g->major == w->major && g->minor == w->minor,
              "exchange %zu: request version %u.%u, expected %u.%u", i + 1, g->major, g->minor,
              w->major, w->minor);
        CHECK(g->hresult == w->hresult, "exchange %zu: HRESULT 0x%08X, expected 0x%08X", i + 1,
              g->hresult, w->hresult);
        CHECK(g->count == w->count, "exchange %zu: count %u, expected %u", i + 1, g->count,
              w->count);
        CHECK(g->kms_len == w->kms_len, "exchange %zu: KMS response of %zu bytes, expected %zu",
              i + 1, g->kms_len, w->kms_len);
    }
}

static void run_vector(const struct vector_spec *spec)
{
    struct vector_file vf;
    char err[300];
    snprintf(where, sizeof where, "%s", spec->name);
    int rc = vector_load(VECTOR_DIR, spec->name, &vf, err, sizeof err);
    CHECK(rc == 0, "cannot load: %s", err);
    CHECK(vf.n_streams == spec->n_streams, "%zu streams, expected %zu", vf.n_streams,
          spec->n_streams);
    CHECK(vf.n_runs == vf.n_streams, "%zu client runs for %zu streams", vf.n_runs, vf.n_streams);
    for (size_t s = 0; s < vf.n_streams; s++) {
        snprintf(where, sizeof where, "%s stream %zu", spec->name, s + 1);
        CHECK(vf.streams[s].number == (int)s + 1 && vf.runs[s].number == (int)s + 1,
              "stream %d / client run %d out of order", vf.streams[s].number, vf.runs[s].number);
        struct stream_spec got;
        run_stream(spec, &vf.streams[s], &vf.runs[s], &got);
        snprintf(where, sizeof where, "%s stream %zu (summary)", spec->name, s + 1);
        compare_stream(&spec->streams[s], &got);
    }
    vector_free(&vf);
}

/* ---- one test per vector ---- */

static const struct vector_spec spec_v4 = {
    "v4", true, 1, {{DANCE, .n_exchanges = 1, .ex = {OK32(2, 4, 25, 160)}}}};
static const struct vector_spec spec_v5 = {
    "v5", true, 1, {{DANCE, .n_exchanges = 1, .ex = {OK32(2, 5, 5, 228)}}}};
static const struct vector_spec spec_v6 = {
    "v6", true, 1, {{DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 25, 260)}}}};
static const struct vector_spec spec_v4_ndr64 = {
    "v4_ndr64",
    true,
    1,
    {{DANCE, .n_exchanges = 2, .ex = {OK32(2, 4, 25, 160), OK64(3, 4, 25, 160)}}}};
static const struct vector_spec spec_v5_ndr64 = {
    "v5_ndr64",
    true,
    1,
    {{DANCE, .n_exchanges = 2, .ex = {OK32(2, 5, 25, 228), OK64(3, 5, 25, 228)}}}};
static const struct vector_spec spec_v6_ndr64 = {
    "v6_ndr64",
    true,
    1,
    {{DANCE, .n_exchanges = 2, .ex = {OK32(2, 6, 25, 260), OK64(3, 6, 25, 260)}}}};
static const struct vector_spec spec_v4_pad2 = {
    "v4_pad2",
    true,
    1,
    {{DANCE, .n_exchanges = 2, .ex = {OK32(2, 4, 5, 162), OK64(3, 4, 5, 162)}}}};
static const struct vector_spec spec_v6_ndr32_only_bind = {
    "v6_ndr32_only_bind", true, 1, {{MINIMAL_BIND, .n_exchanges = 1, .ex = {OK32(2, 6, 25, 260)}}}};
static const struct vector_spec spec_v6_host_ndr64_off = {
    "v6_host_ndr64_off",
    false,
    1,
    {{NDR32_HOST, .n_exchanges = 2, .ex = {OK32(2, 6, 25, 260), OK32(3, 6, 25, 260)}}}};
static const struct vector_spec spec_counting = {
    "counting",
    true,
    6,
    {
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 1, 260)}},
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 2, 260)}},
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 2, 260)}},
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 3, 260)}},
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 6, 1, 260)}},
        {DANCE, .n_exchanges = 1, .ex = {OK32(2, 4, 1, 160)}},
    }};
static const struct vector_spec spec_err_bad_version = {
    "err_bad_version", true, 1, {{DANCE, .n_exchanges = 1, .ex = {ERR32(2, 7, E_INVALID_DATA)}}}};
static const struct vector_spec spec_err_bad_version_3 = {
    "err_bad_version_3", true, 1, {{DANCE, .n_exchanges = 1, .ex = {ERR32(2, 3, E_INVALID_DATA)}}}};
static const struct vector_spec spec_err_bad_version_ndr64 = {
    "err_bad_version_ndr64",
    true,
    1,
    {{DANCE, .n_exchanges = 2, .ex = {ERR32(2, 7, E_INVALID_DATA), ERR64(3, 7, E_INVALID_DATA)}}}};
static const struct vector_spec spec_err_unknown_kmsid = {
    "err_unknown_kmsid",
    true,
    1,
    {{DANCE, .n_exchanges = 1, .ex = {ERR32(2, 6, E_KMS_ID_MISMATCH)}}}};
static const struct vector_spec spec_err_npolicy_too_large = {
    "err_npolicy_too_large",
    true,
    1,
    {{DANCE, .n_exchanges = 1, .ex = {ERR32(2, 6, E_INVALID_DATA)}}}};

Test(vectors, v4)
{
    run_vector(&spec_v4);
}
Test(vectors, v5)
{
    run_vector(&spec_v5);
}
Test(vectors, v6)
{
    run_vector(&spec_v6);
}
Test(vectors, v4_ndr64)
{
    run_vector(&spec_v4_ndr64);
}
Test(vectors, v5_ndr64)
{
    run_vector(&spec_v5_ndr64);
}
Test(vectors, v6_ndr64)
{
    run_vector(&spec_v6_ndr64);
}
Test(vectors, v4_pad2)
{
    run_vector(&spec_v4_pad2);
}
Test(vectors, v6_ndr32_only_bind)
{
    run_vector(&spec_v6_ndr32_only_bind);
}
Test(vectors, v6_host_ndr64_off)
{
    run_vector(&spec_v6_host_ndr64_off);
}
Test(vectors, counting)
{
    run_vector(&spec_counting);
}
Test(vectors, err_bad_version)
{
    run_vector(&spec_err_bad_version);
}
Test(vectors, err_bad_version_3)
{
    run_vector(&spec_err_bad_version_3);
}
Test(vectors, err_bad_version_ndr64)
{
    run_vector(&spec_err_bad_version_ndr64);
}
Test(vectors, err_unknown_kmsid)
{
    run_vector(&spec_err_unknown_kmsid);
}
Test(vectors, err_npolicy_too_large)
{
    run_vector(&spec_err_npolicy_too_large);
}

/* ---- vector-specific details ---- */

/* The PDU at index idx of stream 1 of a vector, loaded into vf (caller frees). */
static const struct vf_pdu *load_pdu(struct vector_file *vf, const char *name, size_t idx)
{
    char err[300];
    snprintf(where, sizeof where, "%s", name);
    CHECK(vector_load(VECTOR_DIR, name, vf, err, sizeof err) == 0, "cannot load: %s", err);
    CHECK(vf->n_streams >= 1 && vf->streams[0].n_pdus > idx, "no PDU %zu", idx);
    return &vf->streams[0].pdus[idx];
}

static void expect_hex(const uint8_t *got, size_t len, const char *hex, const char *what)
{
    uint8_t want[64];
    int n = hex_decode(hex, want, sizeof want);
    CHECK(n == (int)len, "%s: expected value has %d bytes, compared %zu", what, n, len);
    check_bytes(got, len, want, (size_t)n, what);
}

/* Appendix C: the worked example's intermediate values, recomputed from the v6 capture. */
Test(vectors, v6_appendix_c_worked_example)
{
    struct vector_file vf;
    const struct vf_pdu *req_pdu = load_pdu(&vf, "v6", 4);
    const struct vf_pdu *resp_pdu = &vf.streams[0].pdus[5];
    struct proto_err e = {0};
    struct rpc_request rr;
    const uint8_t *kms;
    size_t kms_len;
    CHECK(req_pdu->len == 292 && resp_pdu->len == 300, "PDU sizes %zu/%zu", req_pdu->len,
          resp_pdu->len);
    CHECK(rpc_request_decode(req_pdu->data, req_pdu->len, &rr, &e) == 0, "%s", e.detail);
    CHECK(rr.alloc_hint == 268 && rr.context_id == 0, "alloc_hint %u ctx %u", rr.alloc_hint,
          rr.context_id);
    CHECK(rpc_request_payload(&rr, RPC_NDR32, &kms, &kms_len, &e) == 0, "%s", e.detail);
    struct kms_request req;
    struct kms_request_frame frame;
    CHECK(kms_request_decode(kms, kms_len, &req, &frame, &e) == 0, "%s", e.detail);
    expect_hex(frame.w_req, 16, "521d00bcf47fe755070136 8bb0a7dc00", "W_req");
    uint8_t div[16], driv[16], r[16], hash[32], key[16];
    cipher_decrypt_block(&cipher_key_v6, frame.w_req, div);
    expect_hex(div, 16, "f5bc8138b2db23c717a476be81ed4668", "DIV");
    CHECK(req.client_time == 0x01dd7cb6c14e2900ULL, "ClientTime 0x%016llx",
          (unsigned long long)req.client_time);
    CHECK(req.binding_expiration == 43200 && req.license_status == 2 && req.n_policy == 25,
          "base fields");
    struct guid prev;
    guid_parse("00112233-4455-4677-8899-aabbccddeeff", &prev);
    CHECK(guid_equal(&req.cmid_prev, &prev), "CMID_prev");
    uint8_t base_head[16];
    cipher_cbc_decrypt(&cipher_key_v6, frame.w_req, kms + 20, 16, base_head);
    expect_hex(base_head, 16, "00000600000000000200 0000c0a80000", "request base bytes 0-15");

    struct rpc_reply reply;
    CHECK(rpc_reply_decode(resp_pdu->data, resp_pdu->len, RPC_NDR32, 2, 0, &reply, &e) == 0, "%s",
          e.detail);
    CHECK(reply.alloc_hint == 276 && reply.kms_len == 260, "alloc_hint %u, M %zu", reply.alloc_hint,
          reply.kms_len);
    struct kms_response resp;
    struct kms_checks checks;
    CHECK(kms_response_decode(reply.kms, reply.kms_len, &resp, &checks, &e) == 0, "%s", e.detail);
    expect_hex(resp.w_resp, 16, "88be6096383f6f20132fe56f676e12ca", "W_resp");
    cipher_decrypt_block(&cipher_key_v6, resp.w_resp, driv);
    expect_hex(driv, 16, "31361b720b35da147a3e03b955ff7b2d", "DRIV");
    for (int i = 0; i < 16; i++)
        r[i] = resp.random_xored_ivs[i] ^ div[i];
    expect_hex(r, 16, "2e2c8e0c65b16033d86778dc1abf7166", "R");
    digest_sha256(r, 16, hash);
    expect_hex(hash, 32, "f5667fe611d3d0f9d08e143e9b69e43d0d2e47af8b6b8a6a470f6955fc0768c7",
               "SHA-256(R)");
    check_bytes(resp.hash, 32, hash, 32, "Hash field");
    expect_hex(resp.random_xored_ivs, 16, "db900f34d76a43f4cfc30e629b52370e", "RandomXoredIVs");
    expect_hex(resp.xored_ivs, 16, "f5bc8138b2db23c717a476be81ed4668", "XoredIVs");
    expect_hex(resp.hwid, 8, "3a1c049600b60076", "HwId");
    kms_v6_hmac_key(resp.client_time, 0, key);
    expect_hex(key, 16, "49eb93b23a8f16f83465e8e5475655e4", "Kh");
    expect_hex(resp.hmac, 16, "fe26a4b2b102355dee76de98c5fd556b", "HMAC field");
    CHECK(strcmp(resp.epid, "03612-00206-565-823180-03-1033-17763.0000-0022026") == 0, "ePID %s",
          resp.epid);
    CHECK(resp.pid_size == 100 && resp.count == 25 && resp.activation_interval == 120 &&
              resp.renewal_interval == 10080,
          "PIDSize %u count %u intervals %u/%u", resp.pid_size, resp.count,
          resp.activation_interval, resp.renewal_interval);
    vector_free(&vf);
}

/* V5 with a non-ASCII workstation name: "ü" is fc 00 on the wire; the encoder agrees. */
Test(vectors, v5_workstation_utf16)
{
    struct vector_file vf;
    const struct vf_pdu *pdu = load_pdu(&vf, "v5", 4);
    struct proto_err e = {0};
    struct rpc_request rr;
    const uint8_t *kms;
    size_t kms_len;
    CHECK(rpc_request_decode(pdu->data, pdu->len, &rr, &e) == 0, "%s", e.detail);
    CHECK(rpc_request_payload(&rr, RPC_NDR32, &kms, &kms_len, &e) == 0, "%s", e.detail);
    struct kms_request req, fresh;
    struct kms_request_frame frame;
    CHECK(kms_request_decode(kms, kms_len, &req, &frame, &e) == 0, "%s", e.detail);
    static const char name[] = "büro-pc.example.test";
    size_t units = 20; /* characters of name */
    CHECK(req.workstation[0] == 'b' && req.workstation[1] == 0 && req.workstation[2] == 0xfc &&
              req.workstation[3] == 0,
          "\"bü\" is %02x %02x %02x %02x", req.workstation[0], req.workstation[1],
          req.workstation[2], req.workstation[3]);
    memset(&fresh, 0, sizeof fresh);
    CHECK(kms_request_set_workstation(&fresh, name) == 0, "kms_request_set_workstation");
    check_bytes(fresh.workstation, 2 * units + 2, req.workstation, 2 * units + 2,
                "workstation encoded by kms_request_set_workstation");
    for (size_t i = 2 * units + 2; i < KMS_WORKSTATION_BYTES; i++)
        CHECK(fresh.workstation[i] == 0, "kmsload must zero-fill, byte %zu is %02x", i,
              fresh.workstation[i]);
    vector_free(&vf);
}

/* The literal error stub of the README: 00000000 00000000 0d000780. */
Test(vectors, err_bad_version_stub_bytes)
{
    struct vector_file vf;
    const struct vf_pdu *pdu = load_pdu(&vf, "err_bad_version", 5);
    CHECK(pdu->len == 36, "error RESPONSE of %zu bytes", pdu->len);
    expect_hex(pdu->data + 24, 12, "00000000 00000000 0d000780", "NDR32 error stub");
    vector_free(&vf);
}

/* v4_pad2: 162-byte KMS response → 2 zero pad bytes before the return value, NDR32 and NDR64. */
Test(vectors, v4_pad2_ndr_padding)
{
    struct vector_file vf;
    const struct vf_pdu *p32 = load_pdu(&vf, "v4_pad2", 5);
    const struct vf_pdu *p64 = &vf.streams[0].pdus[7];
    CHECK(p32->len == 24 + 12 + 162 + 2 + 4, "NDR32 RESPONSE of %zu bytes", p32->len);
    CHECK(p64->len == 24 + 24 + 162 + 2 + 4, "NDR64 RESPONSE of %zu bytes", p64->len);
    expect_hex(p32->data + 24 + 12 + 162, 6, "0000 00000000", "NDR32 pad + return value");
    expect_hex(p64->data + 24 + 24 + 162, 6, "0000 00000000", "NDR64 pad + return value");
    vector_free(&vf);
}
