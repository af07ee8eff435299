/* Windows wire types used by KMS: GUID (mixed-endian), FILETIME, UTF-16LE strings. */
#ifndef KMSLOAD_WINTYPES_H
#define KMSLOAD_WINTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A GUID held in its 16-byte wire order (the Windows GUID struct in memory). */
struct guid {
    uint8_t b[16];
};

#define GUID_TEXT_LEN 36 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" without NUL */

/* Parses the text form (case-insensitive, optional surrounding braces). Returns 0 or -1. */
int guid_parse(const char *text, struct guid *out);
/* Writes the lower-case text form into out (at least GUID_TEXT_LEN + 1 bytes). */
void guid_format(const struct guid *g, char *out);
bool guid_equal(const struct guid *a, const struct guid *b);
bool guid_is_null(const struct guid *g);

/* Upper-case hex of n bytes in order (as HwIds are printed), NUL-terminated: out has 2n + 1. */
void hex_format(const uint8_t *bytes, size_t n, char *out);

/* FILETIME: 100-ns intervals since 1601-01-01 UTC. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL
#define FILETIME_PER_SECOND 10000000ULL
uint64_t filetime_from_unix(int64_t seconds, uint32_t nanoseconds);
int64_t filetime_to_unix(uint64_t ft);
/* "YYYY-MM-DD HH:MM:SS" (UTC, seconds truncated); out needs 20 bytes. */
void filetime_format(uint64_t ft, char *out);

/*
 * Encodes UTF-8 text as UTF-16LE into out (cap bytes), NUL-terminated and zero-filled to cap.
 * Only BMP characters are accepted (KMS strings never carry others). Returns the number of code
 * units without the NUL, or -1 when the text is not valid UTF-8, leaves the BMP, or does not fit
 * with its terminator.
 */
int utf16le_from_utf8(const char *text, uint8_t *out, size_t cap);
/*
 * Decodes at most units code units of UTF-16LE, stopping at the first NUL, into UTF-8 text in out
 * (always NUL-terminated). Unpaired surrogates become U+FFFD. Returns the number of code units
 * consumed before the NUL (units if none), or -1 when out is too small.
 */
int utf16le_to_utf8(const uint8_t *in, size_t units, char *out, size_t cap);

#endif
