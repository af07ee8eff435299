/* Errors travel as a return code and a message for people (char *err, size_t err_len). */
#ifndef KMSLOAD_ERRMSG_H
#define KMSLOAD_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (when err is not NULL); returns -1, so that a failing function
 * can `return errmsg_set(err, err_len, ...)`. */
int errmsg_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
