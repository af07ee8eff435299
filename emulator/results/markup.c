#include "markup.h"

#include <string.h>

size_t markup_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return need + 1;
}

void markup_text(FILE *f, const char *s, size_t max)
{
    size_t n = (s ? strnlen(s, max) : 0);
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t k = markup_utf8_seq(u + i, n - i);
        if (k == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
            (k == 3 && c == 0xEF && u[i + 1] == 0xBF && u[i + 2] >= 0xBE)) {
            putc('?', f); /* not representable in XML 1.0 */
            i += k ? k : 1;
            continue;
        }
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '\n':
            fputs("&#10;", f);
            break;
        case '\r':
            fputs("&#13;", f);
            break;
        case '\t':
            fputs("&#9;", f);
            break;
        default:
            fwrite(u + i, 1, k, f);
            break;
        }
        i += k;
    }
}
