#include "wintypes.h"

#include "bytes.h"

#include <string.h>
#include <time.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int guid_parse(const char *text, struct guid *out)
{
    /* Text groups are A(8)-B(4)-C(4)-D(4)-E(12); A, B, C are little-endian on the wire. */
    static const int wire_pos[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    size_t len = strlen(text);
    bool braced = len == GUID_TEXT_LEN + 2 && text[0] == '{' && text[len - 1] == '}';
    if (braced)
        text++;
    else if (len != GUID_TEXT_LEN)
        return -1;

    int byte_index = 0;
    for (int i = 0; i < GUID_TEXT_LEN;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->b[wire_pos[byte_index++]] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

void guid_format(const struct guid *g, char *out)
{
    static const int wire_pos[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        uint8_t v = g->b[wire_pos[i]];
        *p++ = digits[v >> 4];
        *p++ = digits[v & 15];
    }
    *p = '\0';
}

bool guid_equal(const struct guid *a, const struct guid *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

bool guid_is_null(const struct guid *g)
{
    static const struct guid null_guid;
    return guid_equal(g, &null_guid);
}

void hex_format(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

uint64_t filetime_from_unix(int64_t seconds, uint32_t nanoseconds)
{
    return (uint64_t)(seconds * (int64_t)FILETIME_PER_SECOND) + FILETIME_UNIX_EPOCH +
           nanoseconds / 100;
}

int64_t filetime_to_unix(uint64_t ft)
{
    /* Floor division so that times before 1970 still round down to whole seconds. */
    int64_t ticks = (int64_t)(ft - FILETIME_UNIX_EPOCH);
    int64_t s = ticks / (int64_t)FILETIME_PER_SECOND;
    if (ticks % (int64_t)FILETIME_PER_SECOND < 0)
        s--;
    return s;
}

void filetime_format(uint64_t ft, char *out)
{
    time_t t = (time_t)filetime_to_unix(ft);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        strcpy(out, "(time out of range)");
        return;
    }
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

int utf16le_from_utf8(const char *text, uint8_t *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t units = 0;
    size_t max_units = cap / 2;
    memset(out, 0, cap);
    while (*s) {
        uint32_t cp;
        if (s[0] < 0x80) {
            cp = s[0];
            s += 1;
        } else if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
            cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
            if (cp < 0x80)
                return -1;
            s += 2;
        } else if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
            cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
            s += 3;
        } else {
            return -1; /* invalid UTF-8 or outside the BMP */
        }
        if (units + 1 >= max_units) /* keep room for the terminator */
            return -1;
        le16_put(out + 2 * units, (uint16_t)cp);
        units++;
    }
    return (int)units;
}

int utf16le_to_utf8(const uint8_t *in, size_t units, char *out, size_t cap)
{
    size_t n = 0, i;
    if (cap == 0)
        return -1;
    for (i = 0; i < units; i++) {
        uint32_t cp = le16_get(in + 2 * i);
        if (cp == 0)
            break;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < units) {
            uint32_t lo = le16_get(in + 2 * (i + 1));
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            } else {
                cp = 0xfffd;
            }
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
            cp = 0xfffd;
        }
        uint8_t buf[4];
        size_t len;
        if (cp < 0x80) {
            buf[0] = (uint8_t)cp;
            len = 1;
        } else if (cp < 0x800) {
            buf[0] = (uint8_t)(0xc0 | cp >> 6);
            buf[1] = (uint8_t)(0x80 | (cp & 0x3f));
            len = 2;
        } else if (cp < 0x10000) {
            buf[0] = (uint8_t)(0xe0 | cp >> 12);
            buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            buf[2] = (uint8_t)(0x80 | (cp & 0x3f));
            len = 3;
        } else {
            buf[0] = (uint8_t)(0xf0 | cp >> 18);
            buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            buf[3] = (uint8_t)(0x80 | (cp & 0x3f));
            len = 4;
        }
        if (n + len + 1 > cap)
            return -1;
        memcpy(out + n, buf, len);
        n += len;
    }
    out[n] = '\0';
    return (int)i;
}
