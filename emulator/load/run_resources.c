/* Open files and threads of a run, moved from cmd/run_main.c (issue 18): they size the engine's
 * needs from the scenario, which is the load generator's concern, not the command line's. */
#include "run_resources.h"

#include "fd_limit.h"

#include <unistd.h>

void run_raise_open_files(unsigned concurrency, bool embedded_host, FILE *msg)
{
    /* Client sockets, the embedded host's (up to twice as many while closes are reaped), files. */
    unsigned long want =
        (unsigned long)concurrency * (embedded_host ? 3 : 1) + 256 + (embedded_host ? 1024 : 0);
    unsigned long hard;
    unsigned long got = fd_limit_raise(want, &hard);
    if (got < want && msg)
        fprintf(msg,
                "kmsload run: open-file limit is %lu (hard limit %lu), %lu wanted for %u "
                "concurrent contacts; raise it (ulimit -n) or lower concurrency\n",
                got, hard, want, concurrency);
}

unsigned run_thread_count(bool threads_given, unsigned long threads_opt, bool embedded_host,
                          const struct scenario *sc)
{
    unsigned threads = threads_given ? (unsigned)threads_opt : sc->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 1 ? (unsigned)cores - (embedded_host ? 1 : 0) : 1;
        if (threads == 0)
            threads = 1;
    }
    return threads > sc->concurrency ? sc->concurrency : threads;
}
