/* The client state machine driven against the host's session state machine, without sockets. */
#include "catalog.h"
#include "client_session.h"
#include "host_session.h"
#include "hresult.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct ex_fixture {
    struct catalog cat;
    struct kms_host *host;
    struct host_session session;
    unsigned pdus_to_host;
};

static void ex_setup(struct ex_fixture *f, bool ndr64)
{
    char err[256];
    memset(f, 0, sizeof *f);
    cr_assert_eq(catalog_parse(&f->cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
    struct host_config cfg;
    host_config_default(&cfg, &f->cat);
    cfg.clock_mode = HOST_CLOCK_CLIENT;
    cfg.rpc.ndr64 = ndr64;
    f->host = malloc(sizeof *f->host);
    cr_assert_eq(host_init(f->host, &cfg, err, sizeof err), 0, "%s", err);
    host_session_init(&f->session, 1688);
}

static void ex_teardown(struct ex_fixture *f)
{
    free(f->host);
    catalog_free(&f->cat);
}

static struct kms_request ex_request(const struct ex_fixture *f, const char *sku_key,
                                     uint8_t cmid_tag, uint16_t major)
{
    struct kms_request req;
    memset(&req, 0, sizeof req);
    const struct catalog_sku *sku = catalog_find_sku(&f->cat, sku_key);
    cr_assert_not_null(sku, "no SKU %s", sku_key);
    const struct catalog_kms *kms = &f->cat.kms[sku->kms];
    req.major = major;
    req.app_id = f->cat.apps[kms->app].id;
    req.kms_id = kms->id;
    req.sku_id = sku->id;
    req.n_policy = kms->n_policy;
    req.license_status = 2;
    req.binding_expiration = 43200;
    req.client_time = 0x01dd7cb6c14e2900ULL;
    memset(req.cmid.b, cmid_tag, 16);
    kms_request_set_workstation(&req, "exchange-test");
    return req;
}

/* Pumps PDUs between the two state machines until the client is done. */
static const struct client_session_result *ex_pump(struct ex_fixture *f, struct client_session *ex,
                                                   uint8_t *pdu, size_t len)
{
    uint8_t answer[RPC_MAX_PDU], next[RPC_MAX_PDU];
    for (int round = 0; round < 8; round++) {
        size_t answer_len = 0, next_len = 0;
        struct host_request_record rec;
        bool is_request;
        struct proto_err err = {0};
        f->pdus_to_host++;
        enum host_action act =
            host_session_feed(f->host, &f->session, pdu, len, answer, sizeof answer, &answer_len,
                              &rec, &is_request, &err);
        cr_assert_eq(act, HOST_ACTION_SEND, "host closed: %s", err.detail);
        if (client_session_receive(ex, answer, answer_len, next, sizeof next, &next_len) ==
            CLIENT_SESSION_DONE)
            return &ex->result;
        memcpy(pdu, next, next_len);
        len = next_len;
    }
    cr_assert_fail("exchange did not finish");
    return NULL;
}

static const struct client_session_result *ex_run(struct ex_fixture *f, struct client_session *ex,
                                                  const struct client_session_options *opt,
                                                  const struct kms_request *req)
{
    uint8_t pdu[RPC_MAX_PDU], w_req[16];
    size_t len;
    memset(w_req, req->cmid.b[0] + 1, sizeof w_req);
    cr_assert_eq(client_session_begin(ex, opt, req, w_req, pdu, sizeof pdu, &len, NULL), 0);
    return ex_pump(f, ex, pdu, len);
}

Test(client_session, counts_climb_until_activation)
{
    struct ex_fixture f;
    ex_setup(&f, true);
    struct client_session_options opt;
    client_session_options_default(&opt);
    struct client_session ex;
    for (unsigned i = 1; i <= 25; i++) {
        struct kms_request req = ex_request(&f, "win10-pro", (uint8_t)i, 6);
        const struct client_session_result *r = ex_run(&f, &ex, &opt, &req);
        cr_assert_eq(r->response.count, i);
        cr_assert_eq(r->outcome, i < 25 ? KMS_OUTCOME_BELOW_THRESHOLD : KMS_OUTCOME_ACTIVATED,
                     "machine %u: %s", i, kms_outcome_name(r->outcome));
        cr_assert_eq(r->hresult, i < 25 ? HR_NOT_ENOUGH_COUNT : 0u);
        cr_assert_eq(r->ndr, RPC_NDR64, "a Windows 8+ host refuses NDR32 when NDR64 is offered");
    }
    ex_teardown(&f);
}

Test(client_session, every_protocol_version_and_syntax)
{
    struct ex_fixture f;
    for (int ndr64 = 0; ndr64 <= 1; ndr64++) {
        ex_setup(&f, ndr64);
        struct client_session_options opt;
        client_session_options_default(&opt);
        struct client_session ex;
        for (uint16_t major = 4; major <= 6; major++) {
            struct kms_request req =
                ex_request(&f, "win10-pro", (uint8_t)(major + 16 * ndr64), major);
            req.n_policy = 1;
            const struct client_session_result *r = ex_run(&f, &ex, &opt, &req);
            cr_assert_eq(r->outcome, KMS_OUTCOME_ACTIVATED, "V%u ndr64=%d: %s %s", major, ndr64,
                         kms_outcome_name(r->outcome), r->err.detail);
            cr_assert_eq(r->response.major, major);
            cr_assert_eq(r->ndr, ndr64 ? RPC_NDR64 : RPC_NDR32);
        }
        ex_teardown(&f);
    }
}

Test(client_session, windows_faithful_alter_context_then_ndr64)
{
    struct ex_fixture f;
    ex_setup(&f, true);
    struct client_session_options opt;
    client_session_options_default(&opt);
    opt.alter_context = true;
    struct client_session ex;
    struct kms_request req = ex_request(&f, "win10-pro", 1, 6);
    const struct client_session_result *r = ex_run(&f, &ex, &opt, &req);
    cr_assert_eq(f.pdus_to_host, 3, "BIND, ALTER_CONTEXT, REQUEST");
    cr_assert_eq(r->ndr, RPC_NDR32, "first request after ALTER_CONTEXT uses NDR32");
    cr_assert_eq(r->call_id, 2);
    cr_assert_eq(r->outcome, KMS_OUTCOME_BELOW_THRESHOLD);

    /* Second request on the same connection: NDR64 (context 1), call_id 3, same count. */
    uint8_t pdu[RPC_MAX_PDU], w_req[16] = {9};
    size_t len;
    cr_assert_eq(client_session_next_request(&ex, &req, w_req, pdu, sizeof pdu, &len, NULL), 0);
    r = ex_pump(&f, &ex, pdu, len);
    cr_assert_eq(r->ndr, RPC_NDR64);
    cr_assert_eq(r->context_id, 1);
    cr_assert_eq(r->call_id, 3);
    cr_assert_eq(r->response.count, 1, "the same CMID does not count twice");
    ex_teardown(&f);
}

Test(client_session, ndr64_off_offers_ndr32_only)
{
    struct ex_fixture f;
    ex_setup(&f, true);
    struct client_session_options opt;
    client_session_options_default(&opt);
    opt.offer_ndr64 = false;
    opt.offer_btfn = false;
    struct client_session ex;
    struct kms_request req = ex_request(&f, "office2019-proplus", 1, 6);
    const struct client_session_result *r = ex_run(&f, &ex, &opt, &req);
    cr_assert_eq(ex.sent_bind.n_items, 1);
    cr_assert_eq(r->ndr, RPC_NDR32);
    cr_assert_eq(r->outcome, KMS_OUTCOME_BELOW_THRESHOLD);
    ex_teardown(&f);
}

Test(client_session, host_errors_are_classified)
{
    struct ex_fixture f;
    ex_setup(&f, true);
    struct client_session_options opt;
    client_session_options_default(&opt);
    struct client_session ex;
    struct kms_request req = ex_request(&f, "win10-pro", 1, 6);
    guid_parse("01234567-89ab-4cde-8f01-23456789abcd", &req.kms_id);
    const struct client_session_result *r = ex_run(&f, &ex, &opt, &req);
    cr_assert_eq(r->outcome, KMS_OUTCOME_HOST_ERROR);
    cr_assert_eq(r->hresult, HR_KMS_ID_MISMATCH);

    req = ex_request(&f, "win10-pro", 2, 7); /* version 7.0 travels in V6 framing */
    r = ex_run(&f, &ex, &opt, &req);
    cr_assert_eq(r->outcome, KMS_OUTCOME_HOST_ERROR);
    cr_assert_eq(r->hresult, HR_INVALID_DATA);
    ex_teardown(&f);
}

Test(client_session, bad_answers_end_in_protocol_errors)
{
    struct ex_fixture f;
    ex_setup(&f, true);
    struct client_session_options opt;
    client_session_options_default(&opt);
    struct client_session ex;
    struct kms_request req = ex_request(&f, "win10-pro", 1, 6);
    uint8_t pdu[RPC_MAX_PDU], answer[RPC_MAX_PDU], next[RPC_MAX_PDU], w_req[16] = {1};
    size_t len, answer_len, next_len;
    struct host_request_record rec;
    bool is_request;
    struct proto_err err;

    /* A RESPONSE where a BIND_ACK is due. */
    cr_assert_eq(client_session_begin(&ex, &opt, &req, w_req, pdu, sizeof pdu, &len, NULL), 0);
    uint8_t kms[160] = {0};
    rpc_response_encode(2, 0, RPC_NDR32, kms, sizeof kms, 0, answer, sizeof answer, &answer_len,
                        NULL);
    cr_assert_eq(client_session_receive(&ex, answer, answer_len, next, sizeof next, &next_len),
                 CLIENT_SESSION_DONE);
    cr_assert_eq(ex.result.outcome, KMS_OUTCOME_PROTOCOL_ERROR);
    cr_assert_eq(ex.result.err.code, PROTO_E_RPC_PTYPE);

    /* A genuine exchange whose response ciphertext is altered: verification fails by name. */
    cr_assert_eq(client_session_begin(&ex, &opt, &req, w_req, pdu, sizeof pdu, &len, NULL), 0);
    host_session_feed(f.host, &f.session, pdu, len, answer, sizeof answer, &answer_len, &rec,
                      &is_request, &err);
    cr_assert_eq(client_session_receive(&ex, answer, answer_len, next, sizeof next, &next_len),
                 CLIENT_SESSION_SEND);
    host_session_feed(f.host, &f.session, next, next_len, answer, sizeof answer, &answer_len, &rec,
                      &is_request, &err);
    answer[24 + 24 + 4 + 16 + 100] ^= 0x01; /* inside the encrypted T6 */
    cr_assert_eq(client_session_receive(&ex, answer, answer_len, next, sizeof next, &next_len),
                 CLIENT_SESSION_DONE);
    cr_assert_eq(ex.result.outcome, KMS_OUTCOME_PROTOCOL_ERROR);
    cr_assert(ex.result.err.code == PROTO_E_HMAC || ex.result.err.code == PROTO_E_DECRYPT ||
                  ex.result.err.code == PROTO_E_EPID || ex.result.err.code == PROTO_E_CMID,
              "got %s", proto_code_name(ex.result.err.code));

    /* An RPC FAULT answering the request. */
    cr_assert_eq(client_session_begin(&ex, &opt, &req, w_req, pdu, sizeof pdu, &len, NULL), 0);
    host_session_feed(f.host, &f.session, pdu, len, answer, sizeof answer, &answer_len, &rec,
                      &is_request, &err);
    client_session_receive(&ex, answer, answer_len, next, sizeof next, &next_len);
    rpc_fault_encode(2, RPC_FAULT_UNKNOWN_IF, answer, sizeof answer, &answer_len, NULL);
    cr_assert_eq(client_session_receive(&ex, answer, answer_len, next, sizeof next, &next_len),
                 CLIENT_SESSION_DONE);
    cr_assert_eq(ex.result.outcome, KMS_OUTCOME_RPC_FAULT);
    cr_assert_eq(ex.result.hresult, RPC_FAULT_UNKNOWN_IF);
    /* After a fault the connection is not reused. */
    cr_assert_lt(client_session_next_request(&ex, &req, w_req, pdu, sizeof pdu, &len, &err), 0);
    ex_teardown(&f);
}

Test(client_session, outcome_names)
{
    cr_assert_str_eq(kms_outcome_name(KMS_OUTCOME_ACTIVATED), "activated");
    cr_assert_str_eq(kms_outcome_name(KMS_OUTCOME_BELOW_THRESHOLD), "below-threshold");
    cr_assert_str_eq(kms_outcome_name(KMS_OUTCOME_TIMEOUT), "timeout");
    cr_assert_str_eq(kms_outcome_name(KMS_OUTCOME__COUNT), "unknown");
    cr_assert(kms_outcome_has_count(KMS_OUTCOME_BELOW_THRESHOLD));
    cr_assert_not(kms_outcome_has_count(KMS_OUTCOME_HOST_ERROR));
}
