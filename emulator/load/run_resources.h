/* What a run takes from the machine: open files for its sockets and event-loop threads. Here,
 * beside the engine that uses them, so that `kmsload run` only passes its options on. */
#ifndef KMSLOAD_RUN_RESOURCES_H
#define KMSLOAD_RUN_RESOURCES_H

#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>

/* Each contact holds one socket: asks for enough descriptors for concurrency contacts (and the
 * embedded host's), and says on msg (NULL: silent) when the system refuses. */
void run_raise_open_files(unsigned concurrency, bool embedded_host, FILE *msg);

/* The event loops of a run: threads when given (threads_given), else the scenario's; 0 means
 * one per core, leaving one core to the embedded host; never more than the concurrency. */
unsigned run_thread_count(bool threads_given, unsigned long threads, bool embedded_host,
                          const struct scenario *sc);

#endif
