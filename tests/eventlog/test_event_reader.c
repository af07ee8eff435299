/*
 * The readers on bad input: each bad record is named with its record and line number and
 * skipped, the rest of the file is used where that is safe, and a truncated file keeps what came
 * before. Also the encodings PowerShell writes (UTF-16LE with a mark, UTF-8 with a mark).
 */
#include "event_reader.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
    struct kms_event ev[16];
    size_t n;
    char bad[8][300];
    size_t n_bad;
};

static int on_event(const struct kms_event *ev, void *arg, char *err, size_t err_len)
{
    (void)err, (void)err_len;
    struct seen *s = arg;
    if (s->n < 16)
        s->ev[s->n++] = *ev;
    return 0;
}

static void on_bad(const char *file, const char *where, const char *why, void *arg)
{
    struct seen *s = arg;
    if (s->n_bad < 8)
        snprintf(s->bad[s->n_bad++], sizeof s->bad[0], "%s: %s: %s", file, where, why);
}

static int read_text(const char *text, size_t len, struct seen *s, struct event_read_stats *st,
                     char *err, size_t err_len)
{
    struct catalog cat;
    char e[256];
    cr_assert_eq(catalog_load(&cat, NULL, e, sizeof e), 0);
    memset(s, 0, sizeof *s);
    FILE *f = fmemopen((void *)text, len, "rb");
    struct event_sink sink = {.event = on_event, .bad = on_bad, .arg = s};
    err[0] = '\0';
    int rc = event_read_stream(f, "log", &cat, &sink, st, err, err_len);
    fclose(f);
    catalog_free(&cat);
    return rc;
}

#define ROW(t, hr, np, name, cmid, lic, minutes)                                                   \
    "\"" t "\",\"12290\",\"" hr "," np "," name "," cmid ",2026/1/5 10:00,0," lic "," minutes      \
    ",73111121-5638-40f6-bc11-f1d7b0d64300\"\n"

Test(event_reader, csv_bad_rows_are_named_and_skipped)
{
    const char text[] = "\"TimeCreated\",\"Id\",\"Properties\"\n" ROW(
        "2026-01-05T10:00:00Z", "0x0", "25", "a.example", "11111111-2222-4333-8444-555555555551",
        "2", "43200")
        ROW("2026-01-05T10:01:00Z", "0x0", "25", "b.example", "not-a-guid", "2",
            "43200") "\"2026-01-05T10:02:00Z\",\"12290\",\"0x0,"
                     "25\"broken\n" ROW("2026-01-05T10:03:00Z", "0x0", "25", "c.example",
                                        "11111111-2222-4333-8444-"
                                        "555555555553",
                                        "9", "43200") "\"2026-01-05T10:04:00Z\","
                                                      "\"4624\","
                                                      "\"whatever\"\n" ROW("12/5/"
                                                                           "2026 "
                                                                           "10:05:"
                                                                           "00 AM",
                                                                           "0x0", "25",
                                                                           "d."
                                                                           "exampl"
                                                                           "e",
                                                                           "111111"
                                                                           "11-"
                                                                           "2222-"
                                                                           "4333-"
                                                                           "8444-"
                                                                           "555555"
                                                                           "55555"
                                                                           "4",
                                                                           "2", "43200")
                                                          ROW("2026-01-05T10:06:"
                                                              "00Z",
                                                              "0xC004F042", "5", "e.example",
                                                              "11111111-2222-4333-"
                                                              "8444-555555555555",
                                                              "1", "1000");
    struct seen s;
    struct event_read_stats st;
    char err[512];
    cr_assert_eq(read_text(text, sizeof text - 1, &s, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(st.format, EVENT_FORMAT_CSV);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.ev[0].fqdn, "a.example");
    cr_assert_eq(s.ev[1].hresult, 0xC004F042u);
    cr_assert_eq(s.ev[1].n_policy, 5);
    cr_assert_eq(st.other_ids, 1);
    cr_assert_eq(st.bad, 4);
    cr_assert(strstr(s.bad[0], "record 2 (line 3)") && strstr(s.bad[0], "CMID"), "%s", s.bad[0]);
    cr_assert(strstr(s.bad[1], "line 4") && strstr(s.bad[1], "malformed CSV"), "%s", s.bad[1]);
    cr_assert(strstr(s.bad[2], "line 5") && strstr(s.bad[2], "licence status"), "%s", s.bad[2]);
    cr_assert(strstr(s.bad[3], "line 7") && strstr(s.bad[3], "ISO 8601"), "%s", s.bad[3]);
}

#define JEV(t, name, cmid)                                                                         \
    "{\"TimeCreated\": \"" t "\", \"Id\": 12290, \"Properties\": [{\"Value\": \"0x0\"}, "          \
    "{\"Value\": 5}, {\"Value\": \"" name "\"}, {\"Value\": \"" cmid "\"}, "                       \
    "{\"Value\": \"2026/1/5 10:00\"}, {\"Value\": 1}, {\"Value\": 1}, {\"Value\": 259200}, "       \
    "{\"Value\": \"34e1ae55-27f8-4950-8877-7a03be5fb181\"}]}"

Test(event_reader, json_bad_element_skipped_truncated_file_keeps_the_events_before)
{
    const char text[] =
        "[\n" JEV("/Date(1767607200000)/", "s1.example",
                  "21111111-2222-4333-8444-555555555551") ",\n"
                                                          "{\"TimeCreated\": "
                                                          "\"2026-01-05T10:00:00Z\", "
                                                          "\"Properties\": [1,2]},\n"
                                                          "{\"TimeCreated\": tru},\n" JEV(
                                                              "2026-01-05T11:00:00.1234567Z",
                                                              "s2.example",
                                                              "21111111-2222-4333-8444-"
                                                              "555555555552") ",\n{\"TimeCreated\":"
                                                                              " \"2026-01-05T12:00:"
                                                                              "00Z\", \"Prop";
    struct seen s;
    struct event_read_stats st;
    char err[512];
    cr_assert_eq(read_text(text, sizeof text - 1, &s, &st, err, sizeof err), -1);
    cr_assert_eq(st.format, EVENT_FORMAT_JSON);
    cr_assert_eq(s.n, 2, "the events before the cut are kept");
    cr_assert_eq(s.ev[0].time, filetime_from_unix(1767607200, 0));
    cr_assert_eq(s.ev[0].n_policy, 5);
    cr_assert_eq(s.ev[0].minutes_to_expiration, 259200);
    cr_assert_eq(s.ev[1].time, filetime_from_unix(1767610800, 123456700));
    cr_assert_eq(st.bad, 2);
    cr_assert(strstr(s.bad[0], "record 2 (line 3)") && strstr(s.bad[0], "2 values"), "%s",
              s.bad[0]);
    cr_assert(strstr(s.bad[1], "record 3") && strstr(s.bad[1], "malformed JSON"), "%s", s.bad[1]);
    cr_assert(strstr(err, "line 6") && strstr(err, "ends inside record 5") &&
                  strstr(err, "the 2 events before it were read"),
              "%s", err);
}

Test(event_reader, xml_message_only_and_truncation)
{
    const char text[] =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<EventID>12290</EventID><TimeCreated SystemTime='2026-01-05T10:00:00.000000000Z'/>"
        "</System><RenderingInfo Culture='en-US'><Message>An activation request has been "
        "processed.\r\nInfo:\r\n0x0,25,m.example,31111111-2222-4333-8444-555555555551,"
        "2026/1/5 10:00,1,2,43200,73111121-5638-40f6-bc11-f1d7b0d64300</Message>"
        "</RenderingInfo></Event>\n"
        "<Event><System><EventID>12290</EventID><TimeCreated SystemTime='2026-01-05T10:01:00Z'/>"
        "</System><EventData><Data>0x0</Data><Data>25</Da";
    struct seen s;
    struct event_read_stats st;
    char err[512];
    cr_assert_eq(read_text(text, sizeof text - 1, &s, &st, err, sizeof err), -1);
    cr_assert_eq(st.format, EVENT_FORMAT_XML);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.ev[0].fqdn, "m.example");
    cr_assert_eq(s.ev[0].vm, 1);
    /* The message's CRLFs count: the second event starts on line 4. */
    cr_assert(strstr(err, "line 4: record 2 is cut short") && strstr(err, "malformed XML") &&
                  strstr(err, "the file may be truncated") && strstr(err, "1 event before"),
              "%s", err);
}

Test(event_reader, utf16le_export_is_read)
{
    const char utf8[] = "\"TimeCreated\",\"Id\",\"Properties\"\r\n" ROW(
        "2026-01-05T10:00:00Z", "0x0", "25", "\xc3\xa9t\xc3\xa9.example",
        "11111111-2222-4333-8444-555555555551", "2", "43200");
    char wide[2 * sizeof utf8 + 2];
    size_t n = 0;
    wide[n++] = (char)0xFF;
    wide[n++] = (char)0xFE;
    for (const unsigned char *p = (const unsigned char *)utf8; *p;) {
        unsigned cp = *p++;
        if (cp >= 0xC0) { /* two-byte sequences only in this text */
            cp = ((cp & 0x1F) << 6) | (*p++ & 0x3F);
        }
        wide[n++] = (char)(cp & 0xFF);
        wide[n++] = (char)(cp >> 8);
    }
    struct seen s;
    struct event_read_stats st;
    char err[512];
    cr_assert_eq(read_text(wide, n, &s, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n, 1, "%s", s.n_bad ? s.bad[0] : "");
    cr_assert_str_eq(s.ev[0].fqdn, "\xc3\xa9t\xc3\xa9.example");
}

Test(event_reader, times_as_exports_write_them)
{
    uint64_t t;
    cr_assert_eq(kms_event_parse_time("2026-01-05T10:00:00Z", &t), 0);
    cr_assert_eq(t, filetime_from_unix(1767607200, 0));
    cr_assert_eq(kms_event_parse_time("2026-01-05T11:30:00+01:30", &t), 0);
    cr_assert_eq(t, filetime_from_unix(1767607200, 0));
    cr_assert_eq(kms_event_parse_time("/Date(1767607200000)/", &t), 0);
    cr_assert_eq(t, filetime_from_unix(1767607200, 0));
    cr_assert_eq(kms_event_parse_time("2026/1/5 10:00", &t), 0);
    cr_assert_eq(t, filetime_from_unix(1767607200, 0));
    cr_assert_eq(kms_event_parse_time("2026-02-29T00:00:00Z", &t), -1);
    cr_assert_eq(kms_event_parse_time("1/5/2026 10:00:00 AM", &t), -1);
    cr_assert_eq(kms_event_parse_time("", &t), -1);
}
