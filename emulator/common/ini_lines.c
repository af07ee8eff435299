/* Line-aware INI parsing on top of inih: see ini_lines.h. */
#include "ini_lines.h"

#include <ini.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line_feed {
    const struct ini_lines_handlers *h;
    void *user;
    const char *cursor;
    unsigned line; /* line inih is processing (inih's own handler gets none) */
    bool stopped;  /* a callback asked to stop */
    bool failed;   /* on_error was called */
};

static void feed_error(struct line_feed *f, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void feed_error(struct line_feed *f, unsigned line, const char *fmt, ...)
{
    if (f->failed || f->stopped)
        return;
    f->failed = true;
    char message[INI_MAX_LINE + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    f->h->on_error(f->user, line, message);
}

static bool feed_done(const struct line_feed *f)
{
    return f->failed || f->stopped;
}

/* Checks a header line ("[label]", optionally followed by a comment) and reports its label. */
static void handle_header_line(struct line_feed *f, const char *line)
{
    const char *close = strchr(line, ']');
    if (!close) {
        feed_error(f, f->line, "section header lacks its closing ']'");
        return;
    }
    const char *rest = close + 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest && *rest != ';' && *rest != '#') {
        feed_error(f, f->line, "unexpected text after the section header: \"%s\"", rest);
        return;
    }
    char label[INI_MAX_LINE];
    size_t len = (size_t)(close - line - 1);
    if (len >= sizeof label)
        len = sizeof label - 1;
    memcpy(label, line + 1, len);
    label[len] = '\0';
    if (f->h->on_section(f->user, f->line, label) != 0)
        f->stopped = true;
}

/*
 * Checks one line's shape before inih sees it. Indented lines are refused because inih would
 * silently append them to the previous value. Headers are handled here rather than in the value
 * handler so that a section without keys is still reported.
 */
static void check_line(struct line_feed *f, const char *line)
{
    if (f->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3; /* UTF-8 byte order mark, which inih skips too */
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return;
    if (p != line) {
        feed_error(f, f->line, "line is indented (continuation lines are not supported)");
        return;
    }
    if (*p == ';' || *p == '#')
        return;
    if (*p == '[') {
        handle_header_line(f, p);
        return;
    }
    if (!strpbrk(p, "=:"))
        feed_error(f, f->line, "expected \"key = value\", \"%s\" or a ';' comment",
                   f->h->header_example ? f->h->header_example : "[section]");
}

/* inih's line reader over the in-memory text; stops feeding lines once parsing is done. */
static char *read_line(char *str, int num, void *stream)
{
    struct line_feed *f = stream;
    if (feed_done(f) || *f->cursor == '\0')
        return NULL;
    const char *start = f->cursor;
    const char *newline = strchr(start, '\n');
    size_t len = newline ? (size_t)(newline - start) + 1 : strlen(start);
    f->cursor = start + len;
    f->line++;

    size_t content = len;
    while (content > 0 && (start[content - 1] == '\n' || start[content - 1] == '\r'))
        content--;
    /* inih needs room for the newline and the terminator. */
    if (num < 3 || content > (size_t)num - 2) {
        feed_error(f, f->line, "line is longer than %d characters", num - 2);
        return NULL;
    }
    memcpy(str, start, content);
    str[content] = '\0';
    check_line(f, str);
    if (feed_done(f))
        return NULL;
    memcpy(str + content, "\n", 2);
    return str;
}

#if INI_HANDLER_LINENO
static int on_ini_value(void *user, const char *section, const char *name, const char *value,
                        int lineno)
{
    (void)lineno;
#else
static int on_ini_value(void *user, const char *section, const char *name, const char *value)
{
#endif
    struct line_feed *f = user;
    (void)section; /* the callers follow sections through on_section */
    if (feed_done(f) || !name)
        return 1;
    if (f->h->on_value(f->user, f->line, name, value ? value : "") != 0)
        f->stopped = true;
    return 1;
}

int ini_lines_parse(const char *text, const struct ini_lines_handlers *handlers, void *user)
{
    struct line_feed f = {.h = handlers, .user = user, .cursor = text ? text : ""};
    int rc = ini_parse_stream(read_line, &f, on_ini_value, &f);
    /* The line checks catch what inih refuses; these cover any rule they miss. */
    if (rc > 0)
        feed_error(&f, (unsigned)rc, "inih cannot parse this line");
    else if (rc < 0)
        feed_error(&f, 0, "out of memory");
    return f.failed ? -1 : f.stopped ? 1 : 0;
}

int ini_lines_read_file(const char *path, size_t max_bytes, char **text_out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    int saved_errno = 0;
    while (text) {
        if (len + 1 == cap) {
            if (cap >= max_bytes) {
                saved_errno = EFBIG;
                break;
            }
            char *grown = realloc(text, cap * 2);
            if (!grown) {
                saved_errno = ENOMEM;
                break;
            }
            text = grown;
            cap *= 2;
        }
        // cppcheck-suppress nullPointerArithmeticRedundantCheck ; text is not NULL in the loop
        size_t got = fread(text + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                saved_errno = errno ? errno : EIO;
            break;
        }
    }
    if (!text)
        saved_errno = ENOMEM;
    fclose(f);
    if (!saved_errno && memchr(text, '\0', len))
        saved_errno = EILSEQ;
    if (saved_errno) {
        free(text);
        errno = saved_errno;
        return -1;
    }
    text[len] = '\0';
    *text_out = text;
    return 0;
}
