#include "fd_limit.h"

#include <limits.h>
#include <sys/resource.h>

static unsigned long as_ulong(rlim_t v)
{
    return v == RLIM_INFINITY || v > (rlim_t)ULONG_MAX ? ULONG_MAX : (unsigned long)v;
}

unsigned long fd_limit_raise(unsigned long want, unsigned long *hard)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        if (hard)
            *hard = ULONG_MAX;
        return ULONG_MAX; /* unknown: let the caller go on as if unlimited */
    }
    if (hard)
        *hard = as_ulong(rl.rlim_max);
    if (as_ulong(rl.rlim_cur) >= want)
        return as_ulong(rl.rlim_cur);
    struct rlimit raised = rl;
    raised.rlim_cur = as_ulong(rl.rlim_max) < want ? rl.rlim_max : (rlim_t)want;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
        return as_ulong(raised.rlim_cur);
    return as_ulong(rl.rlim_cur);
}
