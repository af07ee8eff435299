/* The one ePID reader (catalog/epid.c): the fields of §9.1, the build on its own, the host OS
 * a build stands for. ePIDs from the captured vectors (tests/vectors, the .txt files) and the spec.
 */
#include "epid.h"

#include <criterion/criterion.h>
#include <string.h>

Test(epid, vector_v6_every_field)
{
    struct epid e;
    cr_assert_eq(epid_parse("03612-00206-565-823180-03-1033-17763.0000-0022026", &e), 0);
    cr_expect(e.well_formed);
    cr_expect_eq(e.platform, 3612);
    cr_expect_eq(e.group, 206);
    cr_expect_eq(e.key_id, 565823180UL, "KKK-KKKKKK joined: 565 823 180");
    cr_expect_eq(e.channel, 3);
    cr_expect_eq(e.lcid, 1033);
    cr_expect_eq(e.build, 17763);
    cr_expect_eq(e.day, 2, "day 002");
    cr_expect_eq(e.year, 2026);
}

Test(epid, five_digit_lcid_and_office_2010_group)
{
    /* v4_pad2: the 50-character ePID whose length exercises the NDR padding rule. */
    struct epid e;
    cr_assert_eq(epid_parse("03612-00096-215-326455-03-10249-17763.0000-1742020", &e), 0);
    cr_expect_eq(e.group, 96);
    cr_expect_eq(e.lcid, 10249);
    cr_expect_eq(e.key_id, 215326455UL);
    cr_expect_eq(e.day, 174);
    cr_expect_eq(e.year, 2020);
}

Test(epid, every_vector_epid_reads_alike)
{
    static const struct {
        const char *text;
        unsigned platform, group, build, year;
    } v[] = {
        {"03612-00096-213-758364-03-1033-17763.0000-1472022", 3612, 96, 17763, 2022},
        {"03612-00206-255-203240-03-1033-17763.0000-3552025", 3612, 206, 17763, 2025},
        {"03612-00206-556-738731-03-1033-17763.0000-1162020", 3612, 206, 17763, 2020},
        {"03612-00206-685-412806-03-1033-17763.0000-3652018", 3612, 206, 17763, 2018},
        {"55041-00206-554-804987-03-1033-7601.0000-1152022", 55041, 206, 7601, 2022},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct epid e;
        cr_assert_eq(epid_parse(v[i].text, &e), 0, "%s", v[i].text);
        cr_expect_eq(e.platform, v[i].platform, "%s", v[i].text);
        cr_expect_eq(e.group, v[i].group, "%s", v[i].text);
        cr_expect_eq(e.build, v[i].build, "%s", v[i].text);
        cr_expect_eq(e.year, v[i].year, "%s", v[i].text);
        cr_expect_eq(epid_build(v[i].text), v[i].build, "%s", v[i].text);
    }
}

Test(epid, build_alone)
{
    cr_expect_eq(epid_build("03612-00206-565-823180-03-1033-17763.0000-0022026"), 17763);
    cr_expect_eq(epid_build("55041-00096-215-326455-03-10249-7601.0000-1742020"), 7601);
    cr_expect_eq(epid_build("06401-00206-271-392041-03-1033-26100.0000-0452025"), 26100);
    cr_expect_eq(epid_build("03612-00206-563-599017-03-1033-17763.0000-3112020"), 17763);
    cr_expect_eq(epid_build("garbage"), 0);
    cr_expect_eq(epid_build(""), 0);
    cr_expect_eq(epid_build("1-2-3-4-5-6-x.0000-7"), 0);
    cr_expect_eq(epid_build("1-2-3-4-5-6-abc.0000-7"), 0);
    cr_expect_eq(epid_build("1-2-3-4-5-6-1234567.0000-7"), 0, "more than 6 digits is no build");
    cr_expect_eq(epid_build("1-2-3-4-5-6-17763-0000"), 0, "a build is followed by its dot");
}

Test(epid, odd_fields_still_name_the_build)
{
    struct epid e;
    /* An unpadded group and a missing date: not §9.1, but the host build is still readable. */
    cr_expect_eq(epid_parse("03612-206-565-823180-03-1033-20348.0000-", &e), -1);
    cr_expect_not(e.well_formed);
    cr_expect_eq(e.build, 20348);
    cr_expect_eq(e.group, 0, "only the build is set for an ePID that is not well formed");
}

Test(epid, malformed_is_not_well_formed)
{
    static const char *bad[] = {
        "",
        "garbage",
        "03612-00206-565-823180-03-1033-17763.0000-002202",   /* date one digit short */
        "03612-00206-565-823180-03-1033-17763.0000-00220261", /* one digit long */
        "03612-00206-565-823180-04-1033-17763.0000-0022026",  /* not the volume channel */
        "03612-00206-565-823180-03-1033-17763.0001-0022026",  /* build minor not 0000 */
        "3612-00206-565-823180-03-1033-17763.0000-0022026",   /* platform not zero-padded */
        "03612-00206-565-82318-03-1033-17763.0000-0022026",   /* key ID part short */
        "03612-00206-565-823180-03--17763.0000-0022026",      /* no LCID */
        "03612-00206-565-823180-03-1033-17763.0000-0022026x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct epid e;
        cr_expect_eq(epid_parse(bad[i], &e), -1, "\"%s\"", bad[i]);
        cr_expect_not(e.well_formed, "\"%s\"", bad[i]);
    }
}

Test(epid, host_os_by_build)
{
    /* §9.2's genuine host builds by name; §12.5: 9600 = 2012 R2, 14393 = 2016, 26100 = 2025. */
    cr_expect_str_eq(epid_host_os(6002), "Windows Server 2008");
    cr_expect_str_eq(epid_host_os(7601), "Windows Server 2008 R2");
    cr_expect_str_eq(epid_host_os(9200), "Windows Server 2012");
    cr_expect_str_eq(epid_host_os(9600), "Windows Server 2012 R2");
    cr_expect_str_eq(epid_host_os(14393), "Windows Server 2016");
    cr_expect_str_eq(epid_host_os(17763), "Windows Server 2019");
    cr_expect_str_eq(epid_host_os(20348), "Windows Server 2022");
    cr_expect_str_eq(epid_host_os(26100), "Windows Server 2025");
    cr_expect_str_eq(epid_host_os(19045), "Windows 10 or later");
    cr_expect_str_eq(epid_host_os(10240), "Windows 10 or later");
    cr_expect_str_eq(epid_host_os(7600), "unknown");
    cr_expect_str_eq(epid_host_os(0), "unknown");
}
