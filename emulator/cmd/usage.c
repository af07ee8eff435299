#include "usage.h"

#include "metrics_http.h"
#include "net.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kmsload %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'kmsload %s --help'.\n", command);
}

int usage_set(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

int usage_getopt_error(int c, char **argv, char *err, size_t err_len)
{
    if (c == ':')
        return usage_set(err, err_len, "option %s needs a value", argv[optind - 1]);
    return usage_set(err, err_len, "unknown option \"%s\"", argv[optind - 1]);
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), capped: words
 * longer than 63 characters are never "close". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *usage_nearest(const char *word, const char *const *candidates, size_t n)
{
    /* One slip in a short word, two in a longer one: further than that is another word. */
    size_t allowed = strlen(word) >= 6 ? 2 : 1;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, candidates[i]);
        if (dist <= allowed && dist < best_d) {
            best = candidates[i];
            best_d = dist;
        }
    }
    return best;
}

int usage_suggest_option(int c, char **argv, const struct option *longopts, char *err,
                         size_t err_len)
{
    if (c != '?' || optind < 1)
        return -1;
    const char *written = argv[optind - 1];
    if (written[0] != '-')
        return -1;
    /* "--prodcut=x" and "-prodcut" (one dash) both mean the long option "product". */
    char name[64];
    const char *start = written + (written[1] == '-' ? 2 : 1);
    snprintf(name, sizeof name, "%.*s", (int)strcspn(start, "="), start);
    if (strlen(name) < 2)
        return -1;
    const char *names[128];
    size_t n = 0;
    for (const struct option *o = longopts; o->name && n < 128; o++)
        names[n++] = o->name;
    const char *near = usage_nearest(name, names, n);
    if (!near && written[1] != '-') /* "-product": the long option written with one dash */
        for (size_t i = 0; i < n && !near; i++)
            if (strcmp(name, names[i]) == 0)
                near = names[i];
    size_t used = strlen(err);
    if (near && used < err_len)
        snprintf(err + used, err_len - used, " (did you mean --%s?)", near);
    return -1;
}

int usage_check_metrics(const char *spec, char *err, size_t err_len)
{
    char host[NET_HOST_MAX], why[256];
    uint16_t port;
    if (metrics_http_parse_listen(spec, host, sizeof host, &port, why, sizeof why))
        return usage_set(err, err_len, "--metrics %s", why);
    return 0;
}

static void warn_stderr(const char *message, void *arg)
{
    fprintf(stderr, "kmsload %s: %s\n", (const char *)arg, message);
}

struct metrics_http *usage_start_metrics(const char *command, struct event_base *base,
                                         struct metrics_http_options *o)
{
    char err[512];
    o->warn = warn_stderr;
    o->warn_arg = (void *)command;
    struct metrics_http *m = metrics_http_open(base, o, err, sizeof err);
    if (!m) {
        fprintf(stderr, "kmsload %s: --metrics: %s\n", command, err);
        return NULL;
    }
    if (metrics_http_is_public(m))
        fprintf(stderr,
                "kmsload %s: WARNING: the metrics at %s are open to every machine that can "
                "reach this one, without authentication; listen on 127.0.0.1 or firewall the "
                "port\n",
                command, metrics_http_url(m));
    return m;
}

bool usage_looks_like_duration(const char *value)
{
    /* Digits and units: 5s, 500ms, 2m, 1h30m, 10 (seconds). A host name has a letter first or
     * a dot, colon or other letters in it. */
    const char *p = value;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    for (; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == 's' || *p == 'm' || *p == 'h' || *p == 'd'))
            return false;
    return true;
}

void usage_note(const char *command, const char *note)
{
    if (note)
        fprintf(stderr, "kmsload %s: note: %s\n", command, note);
}

int usage_target(int argc, char **argv, const char **target, char *host, size_t host_cap,
                 uint16_t *port, char *err, size_t err_len)
{
    char why[256];
    if (optind >= argc && !*target)
        return usage_set(err, err_len, "missing the target HOST[:PORT] (or -t HOST[:PORT])");
    if (optind < argc && *target)
        return usage_set(err, err_len, "the target given twice: \"%s\" and -t \"%s\"", argv[optind],
                         *target);
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    if (!*target)
        *target = argv[optind];
    if (net_parse_target(*target, KMS_DEFAULT_PORT, host, host_cap, port, why, sizeof why))
        return usage_set(err, err_len, "%s", why);
    return 0;
}
