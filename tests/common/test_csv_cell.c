/* csv_cell: text from clients and hosts is shown as text by spreadsheets and stays on its line. */
#include "csv_cell.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *written(const char *s, size_t max, bool always_quote)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    csv_cell_write(f, s, max, always_quote);
    fclose(f);
    return buf;
}

static void expect_written(const char *s, bool always_quote, const char *want)
{
    char *got = written(s, (size_t)-1, always_quote);
    cr_expect_str_eq(got, want, "csv_cell_write(\"%s\")", s);
    free(got);
}

Test(csv_cell, formulas_are_neutralised)
{
    expect_written("=cmd|' /C calc'!A0", false, "'=cmd|' /C calc'!A0");
    expect_written("+1+1", false, "'+1+1");
    expect_written("-2+3", false, "'-2+3");
    expect_written("@SUM(A1)", false, "'@SUM(A1)");
    expect_written("=HYPERLINK(\"http://x\",\"y\")", false,
                   "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    expect_written("\t=1", false, "\\t=1");
    expect_written("\r=1", false, "\\r=1");
    /* Only the first character matters: formulas inside text are text. */
    expect_written("WS-01 = lab", false, "WS-01 = lab");
    expect_written("kmsload-probe", true, "\"kmsload-probe\"");
    expect_written("=x", true, "\"'=x\"");
}

Test(csv_cell, control_characters_are_escaped_and_quoting_follows_rfc4180)
{
    expect_written("a\nb", false, "a\\nb");
    expect_written("a\x01z\x7f", false, "a\\x01z\\x7f");
    expect_written("a,b", false, "\"a,b\"");
    expect_written("say \"hi\"", false, "\"say \"\"hi\"\"\"");
    expect_written("", false, "");
    expect_written("", true, "\"\"");
    expect_written(NULL, false, "");
    char *got = written("abcdef", 3, false);
    cr_expect_str_eq(got, "abc", "max bounds the bytes read");
    free(got);
}

Test(csv_cell, neutralise_into_a_buffer)
{
    char out[16];
    cr_expect_eq(csv_cell_neutralise("=1+2", 64, out, sizeof out), 5);
    cr_expect_str_eq(out, "'=1+2");
    cr_expect_eq(csv_cell_neutralise("x\ty", 64, out, sizeof out), 4);
    cr_expect_str_eq(out, "x\\ty");
    /* Cut short on a whole escape, never half of one. */
    cr_expect_eq(csv_cell_neutralise("ab\x02", 64, out, 5), 2);
    cr_expect_str_eq(out, "ab");
    cr_expect_eq(csv_cell_neutralise("abc", 64, out, 0), 0);
    cr_expect_eq(csv_cell_neutralise(NULL, 64, out, sizeof out), 0);
    cr_expect_str_eq(out, "");
}
