/* GUID wire order, FILETIME and UTF-16LE helpers. */
#include "wintypes.h"

#include <criterion/criterion.h>
#include <string.h>

Test(wintypes, guid_wire_order_matches_the_spec_example)
{
    /* §0: 55c92734-d682-4d71-983e-d6ec3f16059f → 34 27 c9 55 82 d6 71 4d 98 3e d6 ec 3f 16 05 9f */
    static const uint8_t wire[16] = {0x34, 0x27, 0xc9, 0x55, 0x82, 0xd6, 0x71, 0x4d,
                                     0x98, 0x3e, 0xd6, 0xec, 0x3f, 0x16, 0x05, 0x9f};
    struct guid g;
    char text[GUID_TEXT_LEN + 1];
    cr_assert_eq(guid_parse("55c92734-d682-4d71-983e-d6ec3f16059f", &g), 0);
    cr_assert_arr_eq(g.b, wire, 16);
    guid_format(&g, text);
    cr_assert_str_eq(text, "55c92734-d682-4d71-983e-d6ec3f16059f");
    cr_assert_eq(guid_parse("{55C92734-D682-4D71-983E-D6EC3F16059F}", &g), 0);
    cr_assert_arr_eq(g.b, wire, 16);
}

Test(wintypes, guid_parse_rejects_malformed_text)
{
    struct guid g;
    const char *bad[] = {"",
                         "55c92734-d682-4d71-983e-d6ec3f16059",
                         "55c92734-d682-4d71-983e-d6ec3f16059ff",
                         "55c92734d6824d71983ed6ec3f16059f",
                         "55c92734-d682-4d71-983e_d6ec3f16059f",
                         "g5c92734-d682-4d71-983e-d6ec3f16059f",
                         "{55c92734-d682-4d71-983e-d6ec3f16059f",
                         "55c92734-d682-4d71-983e-d6ec3f16059f}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(guid_parse(bad[i], &g), -1, "accepted \"%s\"", bad[i]);
}

Test(wintypes, guid_null_and_equal)
{
    struct guid a = {{0}}, b;
    cr_assert(guid_is_null(&a));
    guid_parse("00112233-4455-4677-8899-aabbccddeeff", &b);
    cr_assert_not(guid_is_null(&b));
    cr_assert_not(guid_equal(&a, &b));
    a = b;
    cr_assert(guid_equal(&a, &b));
}

Test(wintypes, filetime_conversions)
{
    /* Appendix C: FILETIME 0x01dd7cb6c14e2900 is 2026-11-25 08:27:06 UTC (vector v6). */
    char text[20];
    filetime_format(0x01dd7cb6c14e2900ULL, text);
    cr_assert_str_eq(text, "2026-11-25 08:27:06");
    cr_assert_eq(filetime_from_unix(0, 0), FILETIME_UNIX_EPOCH);
    cr_assert_eq(filetime_to_unix(FILETIME_UNIX_EPOCH + 15 * FILETIME_PER_SECOND + 1), 15);
    cr_assert_eq(filetime_to_unix(filetime_from_unix(1764059226, 999999999)), 1764059226);
    cr_assert_eq(filetime_from_unix(1, 250), FILETIME_UNIX_EPOCH + FILETIME_PER_SECOND + 2);
}

Test(wintypes, utf16_round_trip_with_non_ascii)
{
    uint8_t buf[128];
    char back[200];
    int units = utf16le_from_utf8("büro-pc.example.test", buf, sizeof buf);
    cr_assert_eq(units, 20);
    cr_assert_eq(buf[2], 0xfc); /* ü = U+00FC */
    cr_assert_eq(buf[3], 0x00);
    for (size_t i = 40; i < sizeof buf; i++)
        cr_assert_eq(buf[i], 0, "byte %zu not zero-filled", i);
    cr_assert_eq(utf16le_to_utf8(buf, 64, back, sizeof back), 20);
    cr_assert_str_eq(back, "büro-pc.example.test");
}

Test(wintypes, utf16_limits)
{
    uint8_t buf[128];
    char name[80];
    memset(name, 'a', 63);
    name[63] = '\0';
    cr_assert_eq(utf16le_from_utf8(name, buf, sizeof buf), 63, "63 characters fit 128 bytes");
    name[63] = 'a';
    name[64] = '\0';
    cr_assert_eq(utf16le_from_utf8(name, buf, sizeof buf), -1, "64 leave no room for the NUL");
    cr_assert_eq(utf16le_from_utf8("\xff\xfe", buf, sizeof buf), -1, "invalid UTF-8");
    cr_assert_eq(utf16le_from_utf8("\xf0\x9f\x98\x80", buf, sizeof buf), -1, "outside the BMP");
    cr_assert_eq(utf16le_from_utf8("\xed\xa0\x80", buf, sizeof buf), -1, "encoded surrogate");

    /* Decoding stops at the first NUL and ignores what follows (vlmcs stack garbage). */
    uint8_t wire[8] = {'a', 0, 'b', 0, 0, 0, 'X', 0};
    char out[16];
    cr_assert_eq(utf16le_to_utf8(wire, 4, out, sizeof out), 2);
    cr_assert_str_eq(out, "ab");
    /* An unpaired surrogate becomes U+FFFD rather than invalid UTF-8. */
    uint8_t lone[4] = {0x00, 0xd8, 'z', 0};
    cr_assert_eq(utf16le_to_utf8(lone, 2, out, sizeof out), 2);
    cr_assert_str_eq(out, "\xef\xbf\xbdz");
    cr_assert_eq(utf16le_to_utf8(wire, 4, out, 2), -1, "output too small is reported");
}
