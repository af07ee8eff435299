/* The process's open-file limit: every connection (host) or contact (run) holds a descriptor. */
#ifndef KMSLOAD_FD_LIMIT_H
#define KMSLOAD_FD_LIMIT_H

/*
 * Raises the soft RLIMIT_NOFILE towards want, never above the hard limit and never lowering it.
 * Returns the soft limit in force afterwards (ULONG_MAX when unlimited); *hard (optional) gets the
 * hard limit.
 */
unsigned long fd_limit_raise(unsigned long want, unsigned long *hard);

#endif
