/* HRESULT and RPC fault status names and meanings (spec §8). */
#include "hresult.h"

#include <criterion/criterion.h>

#include <string.h>

struct hresult_test_row {
    uint32_t code;
    const char *name;
};

/* Spec §8.1: codes a host sends, related codes, and client-side outcomes. */
static const struct hresult_test_row hresult_test_hresults[] = {
    {0x8007000Du, "HRESULT_FROM_WIN32(ERROR_INVALID_DATA)"},
    {0xC004F042u, "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH"},
    {0xC004F06Cu, "SL_E_VL_INVALID_TIMESTAMP"},
    {0xC004D104u, "SL_REMAPPING_SP_STATUS_INVALIDARG"},
    {0xC004F041u, "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED"},
    {0xC004F039u, "SL_E_VL_BINDING_SERVICE_NOT_ENABLED"},
    {0xC004F038u, "SL_E_VL_NOT_ENOUGH_COUNT"},
    {0xC004F074u, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE"},
    {0xC004F06Bu, "SL_E_VL_KEY_MANAGEMENT_SERVICE_VM_NOT_SUPPORTED"},
};

/* Spec §8.2. */
static const struct hresult_test_row hresult_test_rpc_faults[] = {
    {0x1c010003u, "nca_s_unk_if"},
    {0x1c01000bu, "nca_s_proto_error"},
    {0x1c010002u, "nca_s_op_rng_error"},
    {0x000006f7u, "RPC_X_BAD_STUB_DATA"},
    {0x000006d1u, "RPC_S_PROCNUM_OUT_OF_RANGE"},
    {0x00000005u, "ERROR_ACCESS_DENIED"},
};

#define HRESULT_TEST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

Test(hresult, every_spec_hresult_has_its_name_and_a_meaning)
{
    for (size_t i = 0; i < HRESULT_TEST_COUNT(hresult_test_hresults); i++) {
        const struct hresult_test_row *row = &hresult_test_hresults[i];
        const struct status_info *info = hresult_lookup(row->code);
        cr_assert_not_null(info, "0x%08X missing", row->code);
        cr_expect_eq(info->code, row->code);
        cr_expect_str_eq(info->name, row->name);
        cr_expect_str_eq(hresult_name(row->code), row->name);
        cr_expect_not_null(info->meaning);
        cr_expect_gt(strlen(info->meaning), 10, "meaning of 0x%08X", row->code);
        cr_expect_null(strchr(info->meaning, '\n'), "meaning of 0x%08X is one line", row->code);
        cr_expect_eq(hresult_meaning(row->code), info->meaning);
        /* Every status a host or client can report comes with what to do about it. */
        cr_expect_not_null(info->advice, "advice for 0x%08X", row->code);
        if (info->advice) {
            cr_expect_gt(strlen(info->advice), 10, "advice for 0x%08X", row->code);
            cr_expect_null(strchr(info->advice, '\n'), "advice for 0x%08X is one line", row->code);
            cr_expect_eq(status_advice(row->code), info->advice);
        }
        /* The two tables are separate: an HRESULT is not an RPC status. */
        cr_expect_null(rpc_fault_lookup(row->code));
    }
}

Test(hresult, header_constants_match_the_table)
{
    cr_expect_str_eq(hresult_name(HR_INVALID_DATA), "HRESULT_FROM_WIN32(ERROR_INVALID_DATA)");
    cr_expect_str_eq(hresult_name(HR_KMS_ID_MISMATCH),
                     "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH");
    cr_expect_str_eq(hresult_name(HR_INVALID_TIMESTAMP), "SL_E_VL_INVALID_TIMESTAMP");
    cr_expect_str_eq(hresult_name(HR_OVERCHARGED), "SL_REMAPPING_SP_STATUS_INVALIDARG");
    cr_expect_str_eq(hresult_name(HR_NOT_ENOUGH_COUNT), "SL_E_VL_NOT_ENOUGH_COUNT");
    cr_expect_str_eq(hresult_name(HR_SERVICE_UNAVAILABLE), "SL_E_VL_BINDING_SERVICE_UNAVAILABLE");
    cr_expect_str_eq(rpc_fault_name(RPC_FAULT_UNKNOWN_IF), "nca_s_unk_if");
    cr_expect_str_eq(rpc_fault_name(RPC_FAULT_PROTO_ERROR), "nca_s_proto_error");
    cr_expect_str_eq(rpc_fault_name(RPC_FAULT_OP_RANGE), "nca_s_op_rng_error");
}

Test(hresult, every_spec_rpc_status_has_its_name_and_a_meaning)
{
    for (size_t i = 0; i < HRESULT_TEST_COUNT(hresult_test_rpc_faults); i++) {
        const struct hresult_test_row *row = &hresult_test_rpc_faults[i];
        const struct status_info *info = rpc_fault_lookup(row->code);
        cr_assert_not_null(info, "0x%08X missing", row->code);
        cr_expect_str_eq(info->name, row->name);
        cr_expect_str_eq(rpc_fault_name(row->code), row->name);
        cr_expect_gt(strlen(info->meaning), 10, "meaning of 0x%08X", row->code);
        cr_expect_null(strchr(info->meaning, '\n'), "meaning of 0x%08X is one line", row->code);
        cr_expect_eq(rpc_fault_meaning(row->code), info->meaning);
        cr_expect_null(hresult_lookup(row->code));
    }
}

Test(hresult, unknown_codes_give_the_unknown_strings)
{
    static const uint32_t unknown[] = {0x00000000u, 0x80004005u, 0xC004F043u, 0xFFFFFFFFu};
    for (size_t i = 0; i < HRESULT_TEST_COUNT(unknown); i++) {
        cr_expect_null(hresult_lookup(unknown[i]));
        cr_expect_str_eq(hresult_name(unknown[i]), "unknown HRESULT");
        cr_expect_str_eq(hresult_meaning(unknown[i]), "unknown HRESULT");
        cr_expect_null(rpc_fault_lookup(unknown[i]));
        cr_expect_str_eq(rpc_fault_name(unknown[i]), "unknown RPC status");
        cr_expect_str_eq(rpc_fault_meaning(unknown[i]), "unknown RPC status");
    }
    cr_expect_str_eq(rpc_fault_name(0x1c010004u), "unknown RPC status");
}

Test(hresult, advice_names_the_fix_for_the_codes_hosts_send)
{
    /* The clock refusal says how to set clocks and what to change on a --clock client host. */
    const char *clock = status_advice(HR_INVALID_TIMESTAMP);
    cr_assert_not_null(clock);
    cr_expect_not_null(strstr(clock, "w32tm"));
    cr_expect_not_null(strstr(clock, "--clock-step"));
    /* A key refusal points at the host key and at kmsload coverage. */
    const char *key = status_advice(HR_KMS_ID_MISMATCH);
    cr_assert_not_null(key);
    cr_expect_not_null(strstr(key, "host key"));
    cr_expect_not_null(strstr(key, "kmsload coverage"));
    /* RPC faults have advice too; codes outside both tables have none. */
    cr_expect_not_null(status_advice(RPC_FAULT_UNKNOWN_IF));
    cr_expect_null(status_advice(0x12345678u));
    cr_expect_null(status_advice(0));
}
