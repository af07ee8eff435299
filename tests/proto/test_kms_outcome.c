/* The one label vocabulary: outcome names and the HRESULT format every page uses (issue 20), and
 * connection errors told apart (issue 19 item 9, issue 20 nit: EMFILE and ENETUNREACH are not
 * "refused"). */
#include "kms_outcome.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

Test(kms_outcome, names_are_distinct_and_parse_back)
{
    for (int a = 0; a < KMS_OUTCOME__COUNT; a++) {
        enum kms_outcome back;
        cr_assert(kms_outcome_parse(kms_outcome_name((enum kms_outcome)a), &back));
        cr_expect_eq(back, a);
        for (int b = a + 1; b < KMS_OUTCOME__COUNT; b++)
            cr_expect_str_neq(kms_outcome_name((enum kms_outcome)a),
                              kms_outcome_name((enum kms_outcome)b));
    }
    cr_expect_str_eq(kms_outcome_name(KMS_OUTCOME_REFUSED), "connect-refused");
    cr_expect_str_eq(kms_outcome_name(KMS_OUTCOME_DNS_ERROR), "dns-error");
    cr_expect_str_eq(kms_outcome_name(KMS_OUTCOME_BELOW_THRESHOLD), "below-threshold");
    enum kms_outcome o;
    cr_expect(kms_outcome_parse("refused", &o), "events.csv of earlier versions");
    cr_expect_eq(o, KMS_OUTCOME_REFUSED);
    cr_expect_not(kms_outcome_parse("below_threshold", &o));
}

Test(kms_outcome, connect_errors_are_not_all_refused)
{
    cr_expect_eq(kms_outcome_of_connect_errno(ECONNREFUSED), KMS_OUTCOME_REFUSED);
    cr_expect_eq(kms_outcome_of_connect_errno(ENETUNREACH), KMS_OUTCOME_UNREACHABLE);
    cr_expect_eq(kms_outcome_of_connect_errno(EHOSTUNREACH), KMS_OUTCOME_UNREACHABLE);
    cr_expect_eq(kms_outcome_of_connect_errno(EMFILE), KMS_OUTCOME_LOCAL_ERROR);
    cr_expect_eq(kms_outcome_of_connect_errno(ENFILE), KMS_OUTCOME_LOCAL_ERROR);
    cr_expect_eq(kms_outcome_of_connect_errno(ETIMEDOUT), KMS_OUTCOME_TIMEOUT);
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (kms_outcome_not_connected((enum kms_outcome)o))
            cr_expect(kms_outcome_no_answer((enum kms_outcome)o));
}

Test(kms_outcome, hresult_label_is_what_the_client_logs)
{
    char hr[16];
    kms_outcome_hresult_label(KMS_OUTCOME_ACTIVATED, 0, hr, sizeof hr);
    cr_expect_str_eq(hr, "0x00000000");
    /* The host answers a count below threshold with status 0; the client logs 0xC004F038, and
     * so does every page, the host's included. */
    kms_outcome_hresult_label(KMS_OUTCOME_BELOW_THRESHOLD, 0, hr, sizeof hr);
    cr_expect_str_eq(hr, "0xC004F038");
    kms_outcome_hresult_label(KMS_OUTCOME_HOST_ERROR, 0xC004F042u, hr, sizeof hr);
    cr_expect_str_eq(hr, "0xC004F042");
    kms_outcome_hresult_label(KMS_OUTCOME_DNS_ERROR, 0, hr, sizeof hr);
    cr_expect_str_eq(hr, "none");
}
