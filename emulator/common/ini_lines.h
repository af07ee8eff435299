/*
 * Line-aware INI parsing on top of inih, shared by the product catalogue and scenario files.
 *
 * Debian's inih passes no line numbers to handlers and appends indented lines to the previous
 * value. ini_lines_parse feeds inih one line at a time through its stream reader, so every
 * callback knows the line it concerns, and checks each line's shape before inih sees it:
 * indented lines are refused, a header must close with ']' and carry nothing but a comment after
 * it, and any other line must be "key = value" (or "key: value") or a ';' / '#' comment. Headers
 * are reported from the reader, so a section without keys is still seen. A UTF-8 byte order mark
 * and CRLF line ends are accepted. No globals: all state lives in the caller's stack frame.
 */
#ifndef KMSLOAD_INI_LINES_H
#define KMSLOAD_INI_LINES_H

#include <stddef.h>

struct ini_lines_handlers {
    /* A header line: label is the text between '[' and ']', untrimmed. Nonzero stops parsing. */
    int (*on_section)(void *user, unsigned line, const char *label);
    /* A "key = value" line as inih splits and trims it (inline " ;" comments removed). Nonzero
     * stops parsing. */
    int (*on_value)(void *user, unsigned line, const char *key, const char *value);
    /* A line the shape checks or inih refuse, or out of memory (line 0); message carries no
     * location. Parsing stops after it. */
    void (*on_error)(void *user, unsigned line, const char *message);
    /* How a header looks in this format, for the "expected ..." message: "[type:key]". */
    const char *header_example;
};

/*
 * Parses NUL-terminated text. Returns 0 when every line was delivered, 1 when a callback stopped
 * the parse, -1 after reporting an error through on_error.
 */
int ini_lines_parse(const char *text, const struct ini_lines_handlers *handlers, void *user);

/*
 * Reads a whole text file of at most max_bytes into a NUL-terminated buffer the caller frees.
 * Returns 0, or -1 with errno set (EFBIG for a larger file, EILSEQ for one holding NUL bytes).
 */
int ini_lines_read_file(const char *path, size_t max_bytes, char **text_out);

#endif
