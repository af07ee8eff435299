#include "csv_cell.h"

#include <string.h>

/* The characters a spreadsheet reads as the start of a formula (tab and CR are escaped anyway). */
static bool starts_formula(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@';
}

/* The neutralised form of one byte: itself, or an escape. */
static size_t escape_byte(unsigned char ch, char piece[5])
{
    if (ch >= 0x20 && ch != 0x7f) {
        piece[0] = (char)ch;
        piece[1] = '\0';
        return 1;
    }
    switch (ch) {
    case '\n':
        memcpy(piece, "\\n", 3);
        return 2;
    case '\r':
        memcpy(piece, "\\r", 3);
        return 2;
    case '\t':
        memcpy(piece, "\\t", 3);
        return 2;
    default:
        snprintf(piece, 5, "\\x%02x", ch);
        return 4;
    }
}

size_t csv_cell_neutralise(const char *s, size_t max, char *out, size_t cap)
{
    size_t n = s ? strnlen(s, max) : 0, used = 0;
    if (cap == 0)
        return 0;
    if (n > 0 && starts_formula(s[0]) && used + 1 < cap)
        out[used++] = '\'';
    for (size_t i = 0; i < n; i++) {
        char piece[5];
        size_t len = escape_byte((unsigned char)s[i], piece);
        if (used + len >= cap)
            break;
        memcpy(out + used, piece, len);
        used += len;
    }
    out[used] = '\0';
    return used;
}

void csv_cell_write(FILE *f, const char *s, size_t max, bool always_quote)
{
    size_t n = s ? strnlen(s, max) : 0;
    bool quote = always_quote;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"';
    if (quote)
        putc('"', f);
    if (n > 0 && starts_formula(s[0]))
        putc('\'', f);
    for (size_t i = 0; i < n; i++) {
        char piece[5];
        escape_byte((unsigned char)s[i], piece);
        if (quote && s[i] == '"')
            putc('"', f);
        fputs(piece, f);
    }
    if (quote)
        putc('"', f);
}
