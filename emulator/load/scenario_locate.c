#include "scenario_locate.h"

#include <stdio.h>
#include <unistd.h>

const char *scenario_locate(const char *path, char *buf, size_t cap)
{
#ifdef KMSLOAD_DATADIR
    if (access(path, F_OK) != 0 && path[0] != '/' &&
        (size_t)snprintf(buf, cap, "%s/%s", KMSLOAD_DATADIR, path) < cap && access(buf, R_OK) == 0)
        return buf;
#else
    (void)buf, (void)cap;
#endif
    return path;
}
