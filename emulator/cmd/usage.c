#include "usage.h"

#include "metrics_http.h"

#include <getopt.h>
#include <stdarg.h>
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
