#include "rate_text.h"

#include <stdio.h>

const char *rate_text(double count, double seconds, char *buf, size_t cap)
{
    if (!(seconds > 0) || !(count >= 0)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    double per_s = count / seconds;
    if (per_s >= 10 || count == 0)
        snprintf(buf, cap, "%.0f/s", per_s);
    else if (per_s >= 1)
        snprintf(buf, cap, "%.1f/s", per_s);
    else if (per_s * 60 >= 1)
        snprintf(buf, cap, "%.1f/min", per_s * 60);
    else
        snprintf(buf, cap, "%.1f/h", per_s * 3600);
    return buf;
}
