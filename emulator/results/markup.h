/* Text made safe for the markup and JSON the run directory holds (junit.xml, index.html). */
#ifndef KMSLOAD_MARKUP_H
#define KMSLOAD_MARKUP_H

#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
size_t markup_utf8_seq(const unsigned char *s, size_t n);

/* Writes at most max bytes of s escaped for XML and HTML text or attributes (markup characters as
 * entities; invalid UTF-8 and control characters as '?'), as junit.xml and index.html need. */
void markup_text(FILE *f, const char *s, size_t max);

#endif
