/*
 * libFuzzer target: the client's view of a bind answer. The input is one BIND_ACK or
 * ALTER_CONTEXT_RESP (seeds: tests/fuzz/corpus/fuzz_bind_ack). Decodes it whole and as framed by
 * rpc_frame_length, checks it against the BINDs kmsload sends (Windows-like [NDR32, NDR64, BTFN],
 * minimal [NDR32], and the ALTER_CONTEXT [NDR32]), and checks that decode → encode → decode is
 * stable.
 */
#include "fuzz_common.h"

#define CALL_ID 2

static struct rpc_bind sent_binds[3];

static void bind_init(struct rpc_bind *bind, uint8_t ptype, uint8_t flags)
{
    memset(bind, 0, sizeof *bind);
    bind->ptype = ptype;
    bind->flags = flags;
    bind->call_id = CALL_ID;
    bind->max_xmit_frag = 5840;
    bind->max_recv_frag = 5840;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const uint8_t first_last = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
    struct rpc_bind *windows = &sent_binds[0];
    bind_init(windows, RPC_BIND, first_last | RPC_PFC_CONC_MPX);
    rpc_context_item_init(&windows->items[0], 0, RPC_SYNTAX_NDR32, 0);
    rpc_context_item_init(&windows->items[1], 1, RPC_SYNTAX_NDR64, 0);
    rpc_context_item_init(&windows->items[2], 2, RPC_SYNTAX_BTFN,
                          RPC_BTFN_SEC_CONTEXT_MULTIPLEX | RPC_BTFN_KEEP_ON_ORPHAN);
    windows->n_items = 3;
    struct rpc_bind *minimal = &sent_binds[1];
    bind_init(minimal, RPC_BIND, first_last);
    rpc_context_item_init(&minimal->items[0], 0, RPC_SYNTAX_NDR32, 0);
    minimal->n_items = 1;
    struct rpc_bind *alter = &sent_binds[2];
    bind_init(alter, RPC_ALTER_CONTEXT, first_last | RPC_PFC_CONC_MPX);
    rpc_context_item_init(&alter->items[0], 0, RPC_SYNTAX_NDR32, 0);
    alter->n_items = 1;
    return 0;
}

static bool context_offered(const struct rpc_bind *sent, int context, enum rpc_syntax syntax)
{
    for (unsigned i = 0; i < sent->n_items; i++)
        if (sent->items[i].context_id == context &&
            rpc_syntax_classify(&sent->items[i], NULL) == syntax)
            return true;
    return false;
}

static void check_against_binds(const struct rpc_bind_ack *ack)
{
    for (size_t b = 0; b < sizeof sent_binds / sizeof sent_binds[0]; b++) {
        struct rpc_negotiated neg;
        struct proto_err err;
        rpc_negotiated_init(&neg);
        if (rpc_bind_ack_check(&sent_binds[b], ack, &neg, &err) != 0)
            continue;
        /* What was granted was offered, and something usable was granted. */
        FUZZ_ASSERT(neg.ndr32_context >= 0 || neg.ndr64_context >= 0);
        FUZZ_ASSERT(neg.ndr32_context < 0 ||
                    context_offered(&sent_binds[b], neg.ndr32_context, RPC_SYNTAX_NDR32));
        FUZZ_ASSERT(neg.ndr64_context < 0 ||
                    context_offered(&sent_binds[b], neg.ndr64_context, RPC_SYNTAX_NDR64));
        FUZZ_ASSERT(ack->n_results == sent_binds[b].n_items);
    }
}

static void check_round_trip(const struct rpc_bind_ack *ack)
{
    uint8_t buf[RPC_MAX_PDU];
    size_t len;
    struct proto_err err;
    FUZZ_ASSERT(strnlen(ack->sec_addr, sizeof ack->sec_addr) < sizeof ack->sec_addr);
    FUZZ_ASSERT(ack->n_results <= RPC_MAX_CONTEXTS);
    FUZZ_ASSERT(rpc_bind_ack_encode(ack, buf, sizeof buf, &len, &err) == 0);
    FUZZ_ASSERT(rpc_frame_length(buf, len, &err) == (int)len);
    uint8_t *copy = fuzz_copy(buf, len);
    struct rpc_bind_ack again;
    FUZZ_ASSERT(rpc_bind_ack_decode(copy, len, &again, &err) == 0);
    free(copy);
    FUZZ_ASSERT(again.ptype == ack->ptype && again.flags == ack->flags);
    FUZZ_ASSERT(again.call_id == ack->call_id && again.assoc_group == ack->assoc_group);
    FUZZ_ASSERT(again.max_xmit_frag == ack->max_xmit_frag);
    FUZZ_ASSERT(again.max_recv_frag == ack->max_recv_frag);
    /* The decoder keeps bytes after an embedded NUL; the text up to it must survive. */
    FUZZ_ASSERT(strcmp(again.sec_addr, ack->sec_addr) == 0);
    FUZZ_ASSERT(again.n_results == ack->n_results);
    for (unsigned i = 0; i < ack->n_results; i++) {
        const struct rpc_bind_result *a = &ack->results[i], *b = &again.results[i];
        FUZZ_ASSERT(a->result == b->result && a->reason == b->reason);
        FUZZ_ASSERT(guid_equal(&a->transfer_syntax, &b->transfer_syntax));
        FUZZ_ASSERT(a->transfer_version == b->transfer_version);
    }
}

static void one_pdu(const uint8_t *pdu, size_t len)
{
    struct rpc_bind_ack ack;
    struct proto_err err;
    if (rpc_bind_ack_decode(pdu, len, &ack, &err) != 0)
        return;
    check_against_binds(&ack);
    check_round_trip(&ack);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proto_err err;
    int frame = rpc_frame_length(data, size, &err);
    FUZZ_ASSERT(frame <= RPC_MAX_PDU);
    FUZZ_ASSERT(size < RPC_HEADER_LEN ? frame == 0 : frame != 0);

    one_pdu(data, size);
    /* As framed off a stream: the PDU at the start, the rest left for later. */
    if (frame >= RPC_HEADER_LEN && (size_t)frame < size) {
        uint8_t *pdu = fuzz_copy(data, (size_t)frame);
        one_pdu(pdu, (size_t)frame);
        free(pdu);
    }
    return 0;
}
