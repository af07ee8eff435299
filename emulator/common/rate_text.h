/* A request rate as people read it: whole numbers per second when there are many, per minute or
 * hour when there are few (a one-minute real-clock run of 3 requests is "3.0/min", not "0/s"). */
#ifndef KMSLOAD_RATE_TEXT_H
#define KMSLOAD_RATE_TEXT_H

#include <stddef.h>

/* count events over seconds into buf ("11200/s", "4.5/s", "3.0/min", "2.0/h", "-" when seconds
 * is not positive); returns buf. */
const char *rate_text(double count, double seconds, char *buf, size_t cap);

#endif
