#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

void progress_format_eta(double seconds, char *buf, size_t cap)
{
    if (!(seconds >= 0) || seconds > 99 * 86400.0) {
        snprintf(buf, cap, "--");
        return;
    }
    unsigned long s = (unsigned long)(seconds + 0.5);
    if (s < 60)
        snprintf(buf, cap, "%lus", s);
    else if (s < 3600)
        snprintf(buf, cap, "%lum%02lus", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, cap, "%luh%02lum", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, cap, "%lud%02luh", s / 86400, s % 86400 / 3600);
}

/* Appends to buf at *used, never past cap. */
static void add(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = *used + (size_t)n < cap ? *used + (size_t)n : cap - 1;
}

/* Simulated time reached of the total, in the unit of the total: "day 25.3 of 60",
 * "1.5 h of 2 h", "12m30s of 20m00s". */
static void add_sim(char *buf, size_t cap, size_t *used, int64_t sim_us, int64_t total_us)
{
    double sim = (double)sim_us / 1e6, total = (double)total_us / 1e6;
    if (total >= 2 * 86400.0) {
        add(buf, cap, used, "sim day %.1f of %.4g", sim / 86400, total / 86400);
    } else if (total >= 2 * 3600.0) {
        add(buf, cap, used, "sim %.1f h of %.4g h", sim / 3600, total / 3600);
    } else {
        char a[32], b[32];
        progress_format_eta(sim, a, sizeof a);
        progress_format_eta(total, b, sizeof b);
        add(buf, cap, used, "sim %s of %s", a, b);
    }
}

size_t progress_format(const struct progress_snapshot *s, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    double done = s->duration_us > 0 ? (double)s->sim_us / (double)s->duration_us : 0;
    if (done < 0)
        done = 0;
    if (done > 1)
        done = 1;
    add(buf, cap, &used, "%3d%%  ", (int)(done * 100));
    if (s->virtual_clock) {
        add_sim(buf, cap, &used, s->sim_us, s->duration_us);
    } else {
        char a[32], b[32];
        progress_format_eta((double)s->sim_us / 1e6, a, sizeof a);
        progress_format_eta((double)s->duration_us / 1e6, b, sizeof b);
        add(buf, cap, &used, "%s of %s", a, b);
    }
    /* ETA: the real clock runs its duration; the virtual one goes as fast as the host answers,
     * so the rest is estimated from the pace so far. */
    char eta[32] = "--";
    if (!s->virtual_clock)
        progress_format_eta((double)(s->duration_us - s->sim_us) / 1e6, eta, sizeof eta);
    else if (done > 0 && s->wall_s > 0)
        progress_format_eta(s->wall_s * (1 - done) / done, eta, sizeof eta);
    add(buf, cap, &used, "  ETA %s  %llu request%s  %.0f/s  %llu error%s", eta,
        (unsigned long long)s->requests, s->requests == 1 ? "" : "s", s->rate,
        (unsigned long long)s->failures, s->failures == 1 ? "" : "s");
    bool any = false;
    for (size_t a = 0; a < s->n_apps && a < PROGRESS_MAX_APPS; a++) {
        if (s->host_count[a] < 0)
            continue;
        add(buf, cap, &used, "%s %s %lld", any ? "," : "  host counts:", s->app_key[a],
            (long long)s->host_count[a]);
        any = true;
    }
    return used;
}
