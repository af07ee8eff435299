#include "estate_logs.h"

#include "errmsg.h"
#include "event_reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BAD_SHOWN 20 /* bad records printed per file; the rest are counted */

struct log_read {
    struct estate *fleet;
    const char *file;
    uint64_t bad_shown;
};

static void on_bad(const char *file, const char *where, const char *why, void *arg)
{
    struct log_read *r = arg;
    if (r->bad_shown++ < BAD_SHOWN)
        fprintf(stderr, "kmsload fleet: %s: %s: %s (skipped)\n", file, where, why);
}

static int on_event(const struct kms_event *ev, void *arg, char *err, size_t err_len)
{
    struct log_read *r = arg;
    char why[300];
    int rc = estate_add(r->fleet, ev, why, sizeof why);
    if (rc < 0)
        return errmsg_set(err, err_len, "%s", why);
    if (rc > 0 && r->bad_shown++ < BAD_SHOWN)
        fprintf(stderr, "kmsload fleet: %s: event %s (skipped)\n", r->file, why);
    return 0;
}

int estate_read_logs(struct estate *fleet, struct estate_input *inputs, size_t n_inputs, bool quiet)
{
    struct log_read r = {.fleet = fleet};
    struct event_sink sink = {.event = on_event, .bad = on_bad, .arg = &r};
    int rc = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        struct estate_input *in = &inputs[i];
        bool is_stdin = strcmp(in->path, "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(in->path, "rb");
        if (!f) {
            fprintf(stderr, "kmsload fleet: cannot open %s: %s\n", in->path, strerror(errno));
            rc = -1;
            continue;
        }
        r.file = is_stdin ? "standard input" : in->path;
        r.bad_shown = 0;
        in->rc = event_read_stream(f, r.file, fleet->cat, &sink, &in->stats, in->message,
                                   sizeof in->message);
        if (!is_stdin)
            fclose(f);
        if (r.bad_shown > BAD_SHOWN)
            fprintf(stderr, "kmsload fleet: %s: %llu more skipped records not shown\n", r.file,
                    (unsigned long long)(r.bad_shown - BAD_SHOWN));
        if (in->rc != 0)
            fprintf(stderr, "kmsload fleet: %s\n", in->message);
        if (!quiet)
            printf("read %s: %s, %llu events 12290 (%llu other IDs, %llu bad records skipped)\n",
                   r.file, event_format_name(in->stats.format),
                   (unsigned long long)in->stats.events, (unsigned long long)in->stats.other_ids,
                   (unsigned long long)in->stats.bad);
    }
    return rc;
}
