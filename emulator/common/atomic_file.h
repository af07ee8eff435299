/*
 * Whole files replaced atomically: readers see the old file or the complete new one, never a
 * part. The one writer of summary.json, junit.xml, index.html, the Markdown summary and the host's
 * --state file.
 */
#ifndef KMSLOAD_ATOMIC_FILE_H
#define KMSLOAD_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes data to a new temporary file beside path ("PATH.tmp.RANDOM", created with O_EXCL and
 * O_NOFOLLOW so that a planted file or symlink is never written through), fsyncs it, renames it
 * over path and fsyncs the directory. Every write, fsync and close is checked. mode is the new
 * file's permission (before the umask). Returns 0, or -1 with a message naming the file and the
 * real error (errno kept).
 */
int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
                      size_t err_len);

/* Writes all of data to fd, retrying short writes and EINTR. Returns 0 or -1 (errno set). */
int atomic_file_write_all(int fd, const void *data, size_t len);

/* The prefix of the temporary files of path ("PATH.tmp."), for cleaning up after a crash. */
#define ATOMIC_FILE_TMP_INFIX ".tmp."

#endif
