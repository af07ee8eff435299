#include "rpc.h"

#include "bytes.h"

#include <string.h>

/* Wire bytes of the GUIDs of §2 (already in wire order). */
const struct guid rpc_kms_interface = {{0x75, 0x21, 0xc8, 0x51, 0x4e, 0x84, 0x50, 0x47, 0xb0, 0xd8,
                                        0xec, 0x25, 0x55, 0x55, 0xbc, 0x06}};
const struct guid rpc_syntax_ndr32 = {{0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8,
                                       0x08, 0x00, 0x2b, 0x10, 0x48, 0x60}};
const struct guid rpc_syntax_ndr64 = {{0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49, 0x83, 0x19,
                                       0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36}};
/* Bind-time feature negotiation: only the first 8 bytes identify it; bytes 8-9 carry features. */
static const uint8_t rpc_btfn_prefix[8] = {0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45};

#define NDR32_VERSION 2
#define NDR64_VERSION 1
#define BTFN_VERSION 1
#define BIND_ITEMS_OFFSET 28
#define CONTEXT_ITEM_LEN 44
#define BIND_RESULT_LEN 24
#define NDR_REFERENT_ID 0x00020000u

static const char *ptype_name(uint8_t ptype)
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
        return "unknown PDU type";
    }
}

static void header_put(uint8_t *out, uint8_t ptype, uint8_t flags, size_t frag_len,
                       uint32_t call_id)
{
    out[0] = 5;
    out[1] = 0;
    out[2] = ptype;
    out[3] = flags;
    le32_put(out + 4, 0x10); /* little-endian integers, ASCII, IEEE floats */
    le16_put(out + 8, (uint16_t)frag_len);
    le16_put(out + 10, 0);
    le32_put(out + 12, call_id);
}

static int need_room(size_t need, size_t cap, struct proto_err *err)
{
    if (need > cap)
        return proto_fail(err, PROTO_E_ARGUMENT, "output buffer of %zu bytes, %zu needed", cap,
                          need);
    return 0;
}

int rpc_frame_length(const uint8_t *buf, size_t avail, struct proto_err *err)
{
    if (avail < RPC_HEADER_LEN)
        return 0;
    if (buf[0] != 5 || buf[1] != 0)
        return proto_fail(err, PROTO_E_RPC_HEADER, "RPC version %u.%u, expected 5.0", buf[0],
                          buf[1]);
    uint16_t frag = le16_get(buf + 8);
    if (frag < RPC_HEADER_LEN)
        return proto_fail(err, PROTO_E_RPC_HEADER, "frag_length %u shorter than the header", frag);
    if (frag > RPC_MAX_PDU)
        return proto_fail(err, PROTO_E_OVERSIZED, "frag_length %u exceeds %u", frag, RPC_MAX_PDU);
    return frag;
}

int rpc_header_decode(const uint8_t *buf, size_t len, struct rpc_header *hdr, struct proto_err *err)
{
    if (len < RPC_HEADER_LEN)
        return proto_fail(err, PROTO_E_TRUNCATED, "RPC PDU of %zu bytes, header needs 16", len);
    if (buf[0] != 5 || buf[1] != 0)
        return proto_fail(err, PROTO_E_RPC_HEADER, "RPC version %u.%u, expected 5.0", buf[0],
                          buf[1]);
    if (buf[4] != 0x10 || buf[5] != 0 || buf[6] != 0 || buf[7] != 0)
        return proto_fail(err, PROTO_E_RPC_HEADER,
                          "data representation %02x %02x %02x %02x, expected 10 00 00 00", buf[4],
                          buf[5], buf[6], buf[7]);
    hdr->ptype = buf[2];
    hdr->flags = buf[3];
    hdr->frag_length = le16_get(buf + 8);
    hdr->call_id = le32_get(buf + 12);
    if (hdr->frag_length != len)
        return proto_fail(err, PROTO_E_RPC_HEADER, "frag_length %u but PDU has %zu bytes",
                          hdr->frag_length, len);
    if (le16_get(buf + 10) != 0)
        return proto_fail(err, PROTO_E_RPC_HEADER, "auth_length %u, KMS uses no authentication",
                          le16_get(buf + 10));
    if ((hdr->flags & (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG)) !=
        (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG))
        return proto_fail(err, PROTO_E_RPC_HEADER,
                          "%s flags 0x%02x: fragmented PDUs are not used by KMS",
                          ptype_name(hdr->ptype), hdr->flags);
    return 0;
}

static int expect_ptype(const struct rpc_header *hdr, uint8_t a, uint8_t b, struct proto_err *err)
{
    if (hdr->ptype == a || hdr->ptype == b)
        return 0;
    return proto_fail(err, PROTO_E_RPC_PTYPE, "got %s (PTYPE %u), expected %s",
                      ptype_name(hdr->ptype), hdr->ptype, ptype_name(a));
}

/* ---- BIND / ALTER_CONTEXT ---- */

void rpc_context_item_init(struct rpc_context_item *item, uint16_t context_id,
                           enum rpc_syntax syntax, uint16_t btfn_features)
{
    memset(item, 0, sizeof *item);
    item->context_id = context_id;
    item->abstract_syntax = rpc_kms_interface;
    item->if_major = 1;
    item->if_minor = 0;
    switch (syntax) {
    case RPC_SYNTAX_NDR32:
        item->transfer_syntax = rpc_syntax_ndr32;
        item->transfer_version = NDR32_VERSION;
        break;
    case RPC_SYNTAX_NDR64:
        item->transfer_syntax = rpc_syntax_ndr64;
        item->transfer_version = NDR64_VERSION;
        break;
    case RPC_SYNTAX_BTFN:
    case RPC_SYNTAX_OTHER:
        memcpy(item->transfer_syntax.b, rpc_btfn_prefix, sizeof rpc_btfn_prefix);
        le16_put(item->transfer_syntax.b + 8, btfn_features);
        item->transfer_version = BTFN_VERSION;
        break;
    }
}

enum rpc_syntax rpc_syntax_classify(const struct rpc_context_item *item, uint16_t *btfn_features)
{
    if (guid_equal(&item->transfer_syntax, &rpc_syntax_ndr32) &&
        item->transfer_version == NDR32_VERSION)
        return RPC_SYNTAX_NDR32;
    if (guid_equal(&item->transfer_syntax, &rpc_syntax_ndr64) &&
        item->transfer_version == NDR64_VERSION)
        return RPC_SYNTAX_NDR64;
    if (memcmp(item->transfer_syntax.b, rpc_btfn_prefix, sizeof rpc_btfn_prefix) == 0) {
        if (btfn_features)
            *btfn_features = le16_get(item->transfer_syntax.b + 8);
        return RPC_SYNTAX_BTFN;
    }
    return RPC_SYNTAX_OTHER;
}

int rpc_bind_encode(const struct rpc_bind *bind, uint8_t *out, size_t cap, size_t *len,
                    struct proto_err *err)
{
    if (bind->ptype != RPC_BIND && bind->ptype != RPC_ALTER_CONTEXT)
        return proto_fail(err, PROTO_E_ARGUMENT, "PTYPE %u is not BIND or ALTER_CONTEXT",
                          bind->ptype);
    if (bind->n_items > RPC_MAX_CONTEXTS)
        return proto_fail(err, PROTO_E_ARGUMENT, "%u context items, at most %d", bind->n_items,
                          RPC_MAX_CONTEXTS);
    size_t total = BIND_ITEMS_OFFSET + (size_t)CONTEXT_ITEM_LEN * bind->n_items;
    int rc = need_room(total, cap, err);
    if (rc)
        return rc;
    memset(out, 0, total);
    header_put(out, bind->ptype, bind->flags, total, bind->call_id);
    le16_put(out + 16, bind->max_xmit_frag);
    le16_put(out + 18, bind->max_recv_frag);
    le32_put(out + 20, bind->assoc_group);
    out[24] = bind->n_items;
    for (unsigned i = 0; i < bind->n_items; i++) {
        const struct rpc_context_item *item = &bind->items[i];
        uint8_t *p = out + BIND_ITEMS_OFFSET + CONTEXT_ITEM_LEN * i;
        le16_put(p, item->context_id);
        p[2] = 1; /* one transfer syntax per item */
        memcpy(p + 4, item->abstract_syntax.b, 16);
        le16_put(p + 20, item->if_major);
        le16_put(p + 22, item->if_minor);
        memcpy(p + 24, item->transfer_syntax.b, 16);
        le32_put(p + 40, item->transfer_version);
    }
    *len = total;
    return 0;
}

int rpc_bind_decode(const uint8_t *buf, size_t len, struct rpc_bind *bind, struct proto_err *err)
{
    struct rpc_header hdr = {0};
    int rc = rpc_header_decode(buf, len, &hdr, err);
    if (rc)
        return rc;
    if ((rc = expect_ptype(&hdr, RPC_BIND, RPC_ALTER_CONTEXT, err)))
        return rc;
    if (len < BIND_ITEMS_OFFSET)
        return proto_fail(err, PROTO_E_TRUNCATED, "%s of %zu bytes, needs at least %d",
                          ptype_name(hdr.ptype), len, BIND_ITEMS_OFFSET);
    memset(bind, 0, sizeof *bind);
    bind->ptype = hdr.ptype;
    bind->flags = hdr.flags;
    bind->call_id = hdr.call_id;
    bind->max_xmit_frag = le16_get(buf + 16);
    bind->max_recv_frag = le16_get(buf + 18);
    bind->assoc_group = le32_get(buf + 20);
    unsigned n = buf[24];
    if (n > RPC_MAX_CONTEXTS)
        return proto_fail(err, PROTO_E_OVERSIZED, "%u context items, at most %d are accepted", n,
                          RPC_MAX_CONTEXTS);
    if (len < BIND_ITEMS_OFFSET + (size_t)CONTEXT_ITEM_LEN * n)
        return proto_fail(err, PROTO_E_TRUNCATED, "%u context items need %zu bytes, PDU has %zu", n,
                          BIND_ITEMS_OFFSET + (size_t)CONTEXT_ITEM_LEN * n, len);
    bind->n_items = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = buf + BIND_ITEMS_OFFSET + CONTEXT_ITEM_LEN * i;
        struct rpc_context_item *item = &bind->items[i];
        if (p[2] != 1)
            return proto_fail(err, PROTO_E_RPC_CONTEXT,
                              "context item %u offers %u transfer syntaxes, KMS uses 1", i, p[2]);
        item->context_id = le16_get(p);
        memcpy(item->abstract_syntax.b, p + 4, 16);
        item->if_major = le16_get(p + 20);
        item->if_minor = le16_get(p + 22);
        memcpy(item->transfer_syntax.b, p + 24, 16);
        item->transfer_version = le32_get(p + 40);
    }
    return 0;
}

/* ---- BIND_ACK / ALTER_CONTEXT_RESP ---- */

static size_t bind_ack_results_offset(size_t sec_addr_len)
{
    return (26 + sec_addr_len + 3) & ~(size_t)3;
}

int rpc_bind_ack_encode(const struct rpc_bind_ack *ack, uint8_t *out, size_t cap, size_t *len,
                        struct proto_err *err)
{
    if (ack->ptype != RPC_BIND_ACK && ack->ptype != RPC_ALTER_CONTEXT_RESP)
        return proto_fail(err, PROTO_E_ARGUMENT, "PTYPE %u is not BIND_ACK or ALTER_CONTEXT_RESP",
                          ack->ptype);
    if (ack->n_results > RPC_MAX_CONTEXTS)
        return proto_fail(err, PROTO_E_ARGUMENT, "%u results, at most %d", ack->n_results,
                          RPC_MAX_CONTEXTS);
    size_t addr_len = strnlen(ack->sec_addr, sizeof ack->sec_addr);
    if (addr_len == sizeof ack->sec_addr)
        return proto_fail(err, PROTO_E_ARGUMENT, "sec_addr is not NUL-terminated");
    size_t l = addr_len ? addr_len + 1 : 0;
    size_t r = bind_ack_results_offset(l);
    size_t total = r + 4 + (size_t)BIND_RESULT_LEN * ack->n_results;
    int rc = need_room(total, cap, err);
    if (rc)
        return rc;
    memset(out, 0, total);
    header_put(out, ack->ptype, ack->flags, total, ack->call_id);
    le16_put(out + 16, ack->max_xmit_frag);
    le16_put(out + 18, ack->max_recv_frag);
    le32_put(out + 20, ack->assoc_group);
    le16_put(out + 24, (uint16_t)l);
    memcpy(out + 26, ack->sec_addr, addr_len); /* the NUL and the pad are already zero */
    out[r] = ack->n_results;
    for (unsigned i = 0; i < ack->n_results; i++) {
        const struct rpc_bind_result *res = &ack->results[i];
        uint8_t *p = out + r + 4 + BIND_RESULT_LEN * i;
        le16_put(p, res->result);
        le16_put(p + 2, res->reason);
        memcpy(p + 4, res->transfer_syntax.b, 16);
        le32_put(p + 20, res->transfer_version);
    }
    *len = total;
    return 0;
}

int rpc_bind_ack_decode(const uint8_t *buf, size_t len, struct rpc_bind_ack *ack,
                        struct proto_err *err)
{
    struct rpc_header hdr = {0};
    int rc = rpc_header_decode(buf, len, &hdr, err);
    if (rc)
        return rc;
    if (hdr.ptype == RPC_BIND_NAK)
        return proto_fail(err, PROTO_E_RPC_CONTEXT, "host refused the bind (BIND_NAK, reason %u)",
                          len >= 18 ? le16_get(buf + 16) : 0);
    if ((rc = expect_ptype(&hdr, RPC_BIND_ACK, RPC_ALTER_CONTEXT_RESP, err)))
        return rc;
    if (len < 28)
        return proto_fail(err, PROTO_E_TRUNCATED, "%s of %zu bytes, needs at least 28",
                          ptype_name(hdr.ptype), len);
    memset(ack, 0, sizeof *ack);
    ack->ptype = hdr.ptype;
    ack->flags = hdr.flags;
    ack->call_id = hdr.call_id;
    ack->max_xmit_frag = le16_get(buf + 16);
    ack->max_recv_frag = le16_get(buf + 18);
    ack->assoc_group = le32_get(buf + 20);
    size_t l = le16_get(buf + 24);
    size_t r = bind_ack_results_offset(l);
    if (r + 4 > len)
        return proto_fail(err, PROTO_E_TRUNCATED, "sec_addr of %zu bytes runs past the PDU end", l);
    if (l > 0) {
        if (buf[26 + l - 1] != 0)
            return proto_fail(err, PROTO_E_RPC_STUB, "sec_addr is not NUL-terminated");
        size_t copy = l - 1 < sizeof ack->sec_addr - 1 ? l - 1 : sizeof ack->sec_addr - 1;
        memcpy(ack->sec_addr, buf + 26, copy);
        ack->sec_addr[copy] = '\0';
    }
    unsigned n = buf[r];
    if (n > RPC_MAX_CONTEXTS)
        return proto_fail(err, PROTO_E_OVERSIZED, "%u results, at most %d are accepted", n,
                          RPC_MAX_CONTEXTS);
    if (r + 4 + (size_t)BIND_RESULT_LEN * n > len)
        return proto_fail(err, PROTO_E_TRUNCATED, "%u results run past the end of a %zu-byte PDU",
                          n, len);
    ack->n_results = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = buf + r + 4 + BIND_RESULT_LEN * i;
        struct rpc_bind_result *res = &ack->results[i];
        res->result = le16_get(p);
        res->reason = le16_get(p + 2);
        memcpy(res->transfer_syntax.b, p + 4, 16);
        res->transfer_version = le32_get(p + 20);
    }
    return 0;
}

static void result_set(struct rpc_bind_result *res, uint16_t result, uint16_t reason,
                       const struct guid *syntax, uint32_t version)
{
    memset(res, 0, sizeof *res);
    res->result = result;
    res->reason = reason;
    if (syntax)
        res->transfer_syntax = *syntax;
    res->transfer_version = version;
}

void rpc_bind_negotiate(const struct rpc_bind *bind, struct rpc_host_caps caps,
                        struct rpc_bind_ack *ack)
{
    bool offers_ndr64 = false;
    for (unsigned i = 0; i < bind->n_items; i++)
        if (rpc_syntax_classify(&bind->items[i], NULL) == RPC_SYNTAX_NDR64)
            offers_ndr64 = true;

    ack->n_results = bind->n_items;
    for (unsigned i = 0; i < bind->n_items; i++) {
        const struct rpc_context_item *item = &bind->items[i];
        struct rpc_bind_result *res = &ack->results[i];
        uint16_t features = 0;
        if (!guid_equal(&item->abstract_syntax, &rpc_kms_interface)) {
            result_set(res, RPC_PROVIDER_REJECTION, RPC_REASON_ABSTRACT, NULL, 0);
            continue;
        }
        switch (rpc_syntax_classify(item, &features)) {
        case RPC_SYNTAX_NDR32:
            /* Windows 8+ hosts refuse NDR32 when NDR64 is on offer and usable. */
            if (offers_ndr64 && caps.ndr64)
                result_set(res, RPC_PROVIDER_REJECTION, RPC_REASON_TRANSFER, NULL, 0);
            else
                result_set(res, RPC_ACCEPTANCE, 0, &rpc_syntax_ndr32, NDR32_VERSION);
            break;
        case RPC_SYNTAX_NDR64:
            if (caps.ndr64)
                result_set(res, RPC_ACCEPTANCE, 0, &rpc_syntax_ndr64, NDR64_VERSION);
            else
                result_set(res, RPC_PROVIDER_REJECTION, RPC_REASON_TRANSFER, NULL, 0);
            break;
        case RPC_SYNTAX_BTFN:
            if (caps.btfn)
                result_set(res, RPC_NEGOTIATE_ACK,
                           features & (RPC_BTFN_SEC_CONTEXT_MULTIPLEX | RPC_BTFN_KEEP_ON_ORPHAN),
                           NULL, 0);
            else
                result_set(res, RPC_PROVIDER_REJECTION, RPC_REASON_TRANSFER, NULL, 0);
            break;
        case RPC_SYNTAX_OTHER:
            result_set(res, RPC_PROVIDER_REJECTION, RPC_REASON_TRANSFER, NULL, 0);
            break;
        }
    }
}

void rpc_negotiated_init(struct rpc_negotiated *neg)
{
    memset(neg, 0, sizeof *neg);
    neg->ndr32_context = -1;
    neg->ndr64_context = -1;
}

int rpc_bind_ack_check(const struct rpc_bind *sent, const struct rpc_bind_ack *ack,
                       struct rpc_negotiated *neg, struct proto_err *err)
{
    uint8_t want = sent->ptype == RPC_BIND ? RPC_BIND_ACK : RPC_ALTER_CONTEXT_RESP;
    if (ack->ptype != want)
        return proto_fail(err, PROTO_E_RPC_PTYPE, "%s answered with %s", ptype_name(sent->ptype),
                          ptype_name(ack->ptype));
    if (ack->call_id != sent->call_id)
        return proto_fail(err, PROTO_E_RPC_CALL_ID, "%s call_id %u, sent %u",
                          ptype_name(ack->ptype), ack->call_id, sent->call_id);
    if (ack->n_results != sent->n_items)
        return proto_fail(err, PROTO_E_RPC_CONTEXT, "%u results for %u context items",
                          ack->n_results, sent->n_items);
    if ((ack->flags & RPC_PFC_CONC_MPX) != (sent->flags & RPC_PFC_CONC_MPX))
        neg->conc_mpx_differs = true;

    for (unsigned i = 0; i < sent->n_items; i++) {
        const struct rpc_context_item *item = &sent->items[i];
        const struct rpc_bind_result *res = &ack->results[i];
        enum rpc_syntax syntax = rpc_syntax_classify(item, NULL);
        if (syntax == RPC_SYNTAX_BTFN) {
            if (res->result == RPC_NEGOTIATE_ACK) {
                neg->btfn_acked = true;
                neg->btfn_features = res->reason;
            } else if (res->result != RPC_PROVIDER_REJECTION) {
                return proto_fail(err, PROTO_E_RPC_CONTEXT,
                                  "bind-time feature item %u: result %u, expected 3 or 2", i,
                                  res->result);
            }
            continue;
        }
        if (res->result == RPC_PROVIDER_REJECTION || res->result == RPC_USER_REJECTION)
            continue;
        if (res->result != RPC_ACCEPTANCE)
            return proto_fail(err, PROTO_E_RPC_CONTEXT, "context item %u: result %u is not valid",
                              i, res->result);
        if (!guid_equal(&res->transfer_syntax, &item->transfer_syntax) ||
            res->transfer_version != item->transfer_version)
            return proto_fail(err, PROTO_E_RPC_CONTEXT,
                              "context item %u accepted with a transfer syntax not offered", i);
        if (syntax == RPC_SYNTAX_NDR32)
            neg->ndr32_context = item->context_id;
        else if (syntax == RPC_SYNTAX_NDR64)
            neg->ndr64_context = item->context_id;
    }
    if (neg->ndr32_context < 0 && neg->ndr64_context < 0)
        return proto_fail(err, PROTO_E_RPC_CONTEXT, "host accepted neither NDR32 nor NDR64");
    return 0;
}

/* ---- REQUEST ---- */

static size_t request_stub_prefix(enum rpc_ndr ndr)
{
    return ndr == RPC_NDR64 ? 16 : 8;
}

int rpc_request_encode(uint32_t call_id, uint16_t context_id, enum rpc_ndr ndr, const uint8_t *kms,
                       size_t kms_len, uint8_t *out, size_t cap, size_t *len, struct proto_err *err)
{
    size_t prefix = request_stub_prefix(ndr);
    size_t stub_len = prefix + kms_len;
    size_t total = 24 + stub_len;
    if (total > RPC_MAX_PDU)
        return proto_fail(err, PROTO_E_ARGUMENT, "KMS request of %zu bytes does not fit a PDU",
                          kms_len);
    int rc = need_room(total, cap, err);
    if (rc)
        return rc;
    header_put(out, RPC_REQUEST, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG, total, call_id);
    le32_put(out + 16, (uint32_t)stub_len);
    le16_put(out + 20, context_id);
    le16_put(out + 22, 0);
    uint8_t *stub = out + 24;
    le32_put(stub, (uint32_t)kms_len);
    if (ndr == RPC_NDR64) {
        le32_put(stub + 4, 0);
        le64_put(stub + 8, kms_len);
    } else {
        le32_put(stub + 4, (uint32_t)kms_len);
    }
    memcpy(stub + prefix, kms, kms_len);
    *len = total;
    return 0;
}

int rpc_request_decode(const uint8_t *buf, size_t len, struct rpc_request *req,
                       struct proto_err *err)
{
    struct rpc_header hdr = {0};
    int rc = rpc_header_decode(buf, len, &hdr, err);
    if (rc)
        return rc;
    if ((rc = expect_ptype(&hdr, RPC_REQUEST, RPC_REQUEST, err)))
        return rc;
    if (hdr.flags & 0x80)
        return proto_fail(err, PROTO_E_RPC_HEADER, "REQUEST carries an object UUID");
    if (len < 24)
        return proto_fail(err, PROTO_E_TRUNCATED, "REQUEST of %zu bytes, needs at least 24", len);
    req->flags = hdr.flags;
    req->call_id = hdr.call_id;
    req->alloc_hint = le32_get(buf + 16);
    req->context_id = le16_get(buf + 20);
    req->opnum = le16_get(buf + 22);
    req->stub = buf + 24;
    req->stub_len = len - 24;
    return 0;
}

int rpc_request_payload(const struct rpc_request *req, enum rpc_ndr ndr, const uint8_t **kms,
                        size_t *kms_len, struct proto_err *err)
{
    size_t prefix = request_stub_prefix(ndr);
    if (req->stub_len < prefix)
        return proto_fail(err, PROTO_E_TRUNCATED, "request stub of %zu bytes, needs %zu",
                          req->stub_len, prefix);
    uint32_t n = le32_get(req->stub);
    uint64_t conformance = ndr == RPC_NDR64 ? le64_get(req->stub + 8) : le32_get(req->stub + 4);
    if (conformance != n)
        return proto_fail(err, PROTO_E_RPC_STUB, "requestSize %u but array conformance %llu", n,
                          (unsigned long long)conformance);
    if (n > req->stub_len - prefix)
        return proto_fail(err, PROTO_E_TRUNCATED, "requestSize %u but the stub carries %zu", n,
                          req->stub_len - prefix);
    *kms = req->stub + prefix;
    *kms_len = n;
    return 0;
}

/* ---- RESPONSE / FAULT ---- */

int rpc_response_encode(uint32_t call_id, uint16_t context_id, enum rpc_ndr ndr, const uint8_t *kms,
                        size_t kms_len, uint32_t hresult, uint8_t *out, size_t cap, size_t *len,
                        struct proto_err *err)
{
    size_t prefix = ndr == RPC_NDR64 ? 24 : 12;
    size_t stub_len;
    if (kms) {
        size_t pad = (4 - kms_len % 4) % 4;
        stub_len = prefix + kms_len + pad + 4;
    } else {
        stub_len = ndr == RPC_NDR64 ? 20 : 12;
    }
    size_t total = 24 + stub_len;
    if (total > RPC_MAX_PDU)
        return proto_fail(err, PROTO_E_ARGUMENT, "KMS response of %zu bytes does not fit a PDU",
                          kms_len);
    int rc = need_room(total, cap, err);
    if (rc)
        return rc;
    memset(out, 0, total);
    header_put(out, RPC_RESPONSE, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG, total, call_id);
    le32_put(out + 16, (uint32_t)stub_len);
    le16_put(out + 20, context_id);
    uint8_t *stub = out + 24;
    if (kms) {
        le32_put(stub, (uint32_t)kms_len);
        if (ndr == RPC_NDR64) {
            le64_put(stub + 8, NDR_REFERENT_ID);
            le64_put(stub + 16, kms_len);
        } else {
            le32_put(stub + 4, NDR_REFERENT_ID);
            le32_put(stub + 8, (uint32_t)kms_len);
        }
        memcpy(stub + prefix, kms, kms_len);
        /* NDR aligns the return value: padding (already zero) comes before it. */
        le32_put(stub + stub_len - 4, 0);
    } else {
        le32_put(stub + stub_len - 4, hresult); /* size 0, NULL referent, then the HRESULT */
    }
    *len = total;
    return 0;
}

int rpc_fault_encode(uint32_t call_id, uint32_t status, uint8_t *out, size_t cap, size_t *len,
                     struct proto_err *err)
{
    int rc = need_room(32, cap, err);
    if (rc)
        return rc;
    memset(out, 0, 32);
    header_put(out, RPC_FAULT, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG | RPC_PFC_DID_NOT_EXECUTE, 32,
               call_id);
    le32_put(out + 16, 32);
    le32_put(out + 24, status);
    *len = 32;
    return 0;
}

int rpc_reply_decode(const uint8_t *buf, size_t len, enum rpc_ndr ndr, uint32_t call_id,
                     uint16_t context_id, struct rpc_reply *reply, struct proto_err *err)
{
    struct rpc_header hdr = {0};
    int rc = rpc_header_decode(buf, len, &hdr, err);
    if (rc)
        return rc;
    memset(reply, 0, sizeof *reply);
    reply->call_id = hdr.call_id;
    if (hdr.ptype == RPC_FAULT) {
        if (len < 28)
            return proto_fail(err, PROTO_E_TRUNCATED, "FAULT of %zu bytes, needs at least 28", len);
        reply->is_fault = true;
        reply->alloc_hint = le32_get(buf + 16);
        reply->context_id = le16_get(buf + 20);
        reply->status = le32_get(buf + 24);
        return 0;
    }
    if ((rc = expect_ptype(&hdr, RPC_RESPONSE, RPC_RESPONSE, err)))
        return rc;
    if (len < 24)
        return proto_fail(err, PROTO_E_TRUNCATED, "RESPONSE of %zu bytes, needs at least 24", len);
    if (hdr.call_id != call_id)
        return proto_fail(err, PROTO_E_RPC_CALL_ID, "RESPONSE call_id %u, request had %u",
                          hdr.call_id, call_id);
    reply->alloc_hint = le32_get(buf + 16);
    reply->context_id = le16_get(buf + 20);
    if (reply->context_id != context_id)
        return proto_fail(err, PROTO_E_RPC_CONTEXT, "RESPONSE on context %u, request used %u",
                          reply->context_id, context_id);
    if (buf[22] != 0)
        return proto_fail(err, PROTO_E_RPC_STUB, "RESPONSE cancel_count %u, expected 0", buf[22]);

    const uint8_t *stub = buf + 24;
    size_t stub_len = len - 24;
    reply->alloc_hint_differs = reply->alloc_hint != stub_len;
    size_t prefix = ndr == RPC_NDR64 ? 24 : 12;
    size_t min_error = ndr == RPC_NDR64 ? 20 : 12;
    if (stub_len < min_error)
        return proto_fail(err, PROTO_E_TRUNCATED, "response stub of %zu bytes, needs %zu", stub_len,
                          min_error);
    uint32_t size = le32_get(stub);
    uint64_t referent = ndr == RPC_NDR64 ? le64_get(stub + 8) : le32_get(stub + 4);
    if (referent == 0) {
        if (stub_len != min_error)
            return proto_fail(err, PROTO_E_RPC_STUB,
                              "error response stub of %zu bytes, expected %zu", stub_len,
                              min_error);
        reply->status = le32_get(stub + (ndr == RPC_NDR64 ? 16 : 8));
        if (reply->status == 0)
            return proto_fail(err, PROTO_E_RPC_STUB,
                              "NULL response pointer with a success return value");
        return 0;
    }
    if (stub_len < prefix + 4)
        return proto_fail(err, PROTO_E_TRUNCATED, "response stub of %zu bytes, needs %zu", stub_len,
                          prefix + 4);
    uint64_t conformance = ndr == RPC_NDR64 ? le64_get(stub + 16) : le32_get(stub + 8);
    if (conformance != size)
        return proto_fail(err, PROTO_E_RPC_STUB, "responseSize %u but array conformance %llu", size,
                          (unsigned long long)conformance);
    if (size > stub_len - prefix - 4)
        return proto_fail(err, PROTO_E_TRUNCATED,
                          "responseSize %u but the stub has room for %zu bytes", size,
                          stub_len - prefix - 4);
    /* Past the data come its alignment bytes and the return value (or the return value alone: a
     * missing or short pad is tolerated). Anything longer is bytes after the response, which must
     * not be read as the return value: a host that appends junk sent a malformed stub, not an
     * HRESULT. */
    size_t room = stub_len - prefix - 4 - size, pad = (4 - size % 4) % 4;
    if (room > pad)
        return proto_fail(err, PROTO_E_RPC_STUB,
                          "response stub of %zu bytes: %zu bytes between the %u-byte response "
                          "and the return value, at most %zu",
                          stub_len, room, size, pad);
    /* The return value is the last 4 bytes whichever side of it the host put the padding. */
    reply->status = le32_get(stub + stub_len - 4);
    if (reply->status == 0) {
        reply->kms = stub + prefix;
        reply->kms_len = size;
    }
    return 0;
}
