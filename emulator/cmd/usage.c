#include "usage.h"

#include <stdarg.h>
#include <stdio.h>

void usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kmsload %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'kmsload %s --help'.\n", command);
}
