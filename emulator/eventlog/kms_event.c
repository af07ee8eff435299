#include "kms_event.h"

#include "errmsg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Leading and trailing blanks are not part of a value (exports pad, messages end lines). */
static void trimmed(const char *s, char *out, size_t cap)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static int parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_hresult(const char *s, uint32_t *out)
{
    uint64_t v;
    int rc;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        rc = s[2] ? parse_u64(s + 2, 16, UINT32_MAX, &v) : -1;
    else
        rc = parse_u64(s, 10, UINT32_MAX, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

/* Shown in messages: the value as given, cut and with control characters replaced. */
static void shown(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap && i < 60; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
}

int kms_event_from_fields(struct kms_event *ev, const char *const fields[KMS_EVENT_FIELDS],
                          char *err, size_t err_len)
{
    static const char *const names[KMS_EVENT_FIELDS] = {
        "HRESULT",      "N_Policy", "FQDN",           "CMID",
        "client time",  "VM flag",  "licence status", "minutes to expiration",
        "activation ID"};
    char v[KMS_EVENT_FIELDS][KMS_EVENT_FQDN_MAX + 1];
    for (int i = 0; i < KMS_EVENT_FIELDS; i++)
        trimmed(fields[i] ? fields[i] : "", v[i], sizeof v[i]);
    int bad = -1;
    uint64_t n;
    if (parse_hresult(v[0], &ev->hresult) != 0)
        bad = 0;
    else if (parse_u64(v[1], 10, KMS_EVENT_N_POLICY_MAX, &n) != 0)
        bad = 1;
    else {
        ev->n_policy = (unsigned)n;
        size_t len = strlen(v[2]);
        int printable = len < KMS_EVENT_FQDN_MAX && strlen(fields[2]) < 4096;
        for (size_t i = 0; printable && i < len; i++)
            if ((unsigned char)v[2][i] < 0x20 || v[2][i] == 0x7f || v[2][i] == ',')
                printable = 0;
        if (!printable)
            bad = 2;
        else {
            memcpy(ev->fqdn, v[2], len + 1);
            if (guid_parse(v[3], &ev->cmid) != 0 || guid_is_null(&ev->cmid))
                bad = 3;
            else if (kms_event_parse_time(v[4], &ev->client_time) != 0)
                ev->client_time = 0; /* the client's clock is informative only */
        }
    }
    if (bad < 0) {
        if (parse_u64(v[5], 10, 1, &n) != 0)
            bad = 5;
        else if ((ev->vm = (unsigned)n), parse_u64(v[6], 10, 6, &n) != 0)
            bad = 6;
        else if ((ev->license_status = (unsigned)n), parse_u64(v[7], 10, UINT32_MAX, &n) != 0)
            bad = 7;
        else if ((ev->minutes_to_expiration = (uint32_t)n), guid_parse(v[8], &ev->sku) != 0)
            bad = 8;
    }
    if (bad >= 0) {
        char s[64];
        shown(v[bad], s, sizeof s);
        static const char *const expected[KMS_EVENT_FIELDS] = {
            "a hex code such as 0x0 or 0xC004F042",
            "a number 0..1000",
            "a host name of at most 255 printable characters",
            "a GUID (not all zero)",
            "",
            "0 or 1",
            "0..6",
            "a number of minutes",
            "a GUID"};
        return errmsg_set(err, err_len, "field %d (%s): expected %s, got \"%s\"", bad + 1,
                          names[bad], expected[bad], s);
    }
    return 0;
}

int kms_event_locate_fields(const char *const *values, size_t n)
{
    for (size_t i = 0; i + KMS_EVENT_FIELDS <= n; i++) {
        char v[32];
        uint32_t hr;
        trimmed(values[i], v, sizeof v);
        if ((v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) && parse_hresult(v, &hr) == 0)
            return (int)i;
    }
    /* No hex code: a decimal HRESULT in the first position. */
    return n >= KMS_EVENT_FIELDS ? 0 : -1;
}

size_t kms_event_split(char *text, const char **values, size_t max)
{
    size_t n = 0;
    char *p = text;
    while (n < max) {
        values[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int read_num(const char **p, int min_digits, int max_digits, long *out)
{
    long v = 0;
    int n = 0;
    while (isdigit((unsigned char)**p) && n < max_digits) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n < min_digits)
        return -1;
    *out = v;
    return 0;
}

int kms_event_parse_time(const char *text, uint64_t *filetime)
{
    char buf[64];
    trimmed(text, buf, sizeof buf);
    const char *p = buf;
    if (strncmp(p, "/Date(", 6) == 0) {
        p += 6;
        long long ms = 0;
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 15) {
            ms = ms * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0)
            return -1;
        if (*p == '+' || *p == '-') /* the local offset; the milliseconds are UTC already */
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (strcmp(p, ")/") != 0 || ms / 1000 > 7258118400LL)
            return -1;
        *filetime = filetime_from_unix(ms / 1000, (uint32_t)(ms % 1000) * 1000000u);
        return 0;
    }
    long y, mo, d, h = 0, mi = 0, s = 0, frac_ns = 0;
    if (read_num(&p, 4, 4, &y) != 0 || (*p != '-' && *p != '/'))
        return -1;
    char sep = *p++;
    if (read_num(&p, 1, 2, &mo) != 0 || *p++ != sep || read_num(&p, 1, 2, &d) != 0)
        return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (read_num(&p, 1, 2, &h) != 0 || *p++ != ':' || read_num(&p, 2, 2, &mi) != 0)
            return -1;
        if (*p == ':') {
            p++;
            if (read_num(&p, 2, 2, &s) != 0)
                return -1;
            if (*p == '.' || *p == ',') {
                p++;
                long scale = 100000000;
                int digits = 0;
                while (isdigit((unsigned char)*p)) {
                    if (digits++ < 9) {
                        frac_ns += (*p - '0') * scale;
                        scale /= 10;
                    }
                    p++;
                }
                if (digits == 0)
                    return -1;
            }
        }
    }
    long offset_min = 0;
    if (*p == 'Z')
        p++;
    else if (*p == '+' || *p == '-') {
        int neg = *p++ == '-';
        long oh, om = 0;
        if (read_num(&p, 2, 2, &oh) != 0)
            return -1;
        if (*p == ':')
            p++;
        if (*p && read_num(&p, 2, 2, &om) != 0)
            return -1;
        offset_min = (neg ? -1 : 1) * (oh * 60 + om);
    }
    if (*p || y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 ||
        offset_min < -24 * 60 || offset_min > 24 * 60)
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return -1;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s -
                   offset_min * 60;
    if (secs < 0)
        return -1;
    *filetime = filetime_from_unix(secs, (uint32_t)frac_ns);
    return 0;
}
