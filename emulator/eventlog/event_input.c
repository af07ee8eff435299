#include "event_input.h"

#include <errno.h>
#include <string.h>

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Appends converted bytes after the unconsumed ones; false at the end of the file. */
static bool read_more(struct event_input *in)
{
    if (in->eof)
        return false;
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->len -= in->pos;
        in->pos = 0;
    }
    size_t room = sizeof in->buf - in->len;
    size_t want = in->utf16 ? (room / 2 < sizeof in->raw ? room / 2 : sizeof in->raw) & ~(size_t)1
                            : (room < sizeof in->raw ? room : sizeof in->raw);
    if (want < 4)
        return false;
    size_t n = fread(in->raw, 1, want, in->f);
    if (n < want) {
        in->eof = true;
        if (ferror(in->f))
            in->error = errno ? errno : EIO;
    }
    if (!in->utf16) {
        memcpy(in->buf + in->len, in->raw, n);
        in->len += n;
        return n > 0;
    }
    if (n % 2 == 1 && in->eof)
        n--; /* a torn last unit */
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned u = in->raw[i] | (unsigned)in->raw[i + 1] << 8;
        if (u >= 0xD800 && u < 0xDC00) {
            if (in->pending_high >= 0)
                in->len += put_utf8(in->buf + in->len, 0xFFFD);
            in->pending_high = (int)u;
            continue;
        }
        if (u >= 0xDC00 && u < 0xE000) {
            if (in->pending_high >= 0) {
                unsigned cp =
                    0x10000 + (((unsigned)in->pending_high - 0xD800) << 10) + (u - 0xDC00);
                in->len += put_utf8(in->buf + in->len, cp);
            } else
                in->len += put_utf8(in->buf + in->len, 0xFFFD);
            in->pending_high = -1;
            continue;
        }
        if (in->pending_high >= 0)
            in->len += put_utf8(in->buf + in->len, 0xFFFD);
        in->pending_high = -1;
        in->len += put_utf8(in->buf + in->len, u);
    }
    return n > 0;
}

void event_input_init(struct event_input *in, FILE *f)
{
    in->f = f;
    in->utf16 = false;
    in->pending_high = -1;
    in->len = in->pos = 0;
    in->eof = false;
    in->error = 0;
    size_t n = fread(in->raw, 1, 3, f);
    if (n < 3 && ferror(f))
        in->error = errno ? errno : EIO;
    if (n >= 2 && in->raw[0] == 0xFF && in->raw[1] == 0xFE) {
        in->utf16 = true;
        if (n == 3) { /* the first byte of the first unit is read already */
            int c = fgetc(f);
            if (c != EOF) {
                in->raw[0] = in->raw[2];
                in->raw[1] = (unsigned char)c;
                unsigned u = in->raw[0] | (unsigned)in->raw[1] << 8;
                if (u >= 0xD800 && u < 0xDC00)
                    in->pending_high = (int)u;
                else
                    in->len += put_utf8(in->buf, u >= 0xDC00 && u < 0xE000 ? 0xFFFD : u);
            }
        }
        return;
    }
    if (n == 3 && in->raw[0] == 0xEF && in->raw[1] == 0xBB && in->raw[2] == 0xBF)
        return;
    memcpy(in->buf, in->raw, n);
    in->len = n;
    if (n < 3)
        in->eof = true;
}

size_t event_input_fill(struct event_input *in, size_t want)
{
    while (in->len - in->pos < want && read_more(in))
        ;
    return in->len - in->pos;
}

size_t event_input_read(struct event_input *in, char *out, size_t cap)
{
    size_t have = event_input_fill(in, 1);
    if (have > cap)
        have = cap;
    memcpy(out, in->buf + in->pos, have);
    in->pos += have;
    return have;
}
