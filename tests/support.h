/* Helpers shared by the suites that run the kmsload program and leave files behind. */
#ifndef KMSLOAD_TEST_SUPPORT_H
#define KMSLOAD_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SUPPORT_MAX_CHILDREN 16

/* The children a suite started, so its teardown can kill what a failed test left running. */
struct support_children {
    pid_t pid[SUPPORT_MAX_CHILDREN];
};

uint64_t support_now_ms(void);
/* rm -r path. */
void support_remove_tree(const char *path);
/* The whole file, NUL-terminated (length in *len when len is not NULL); NULL if unreadable. */
char *support_slurp(const char *path, size_t *len);
/* Starts KMSLOAD_BINARY with args (NULL-terminated; argv[0] is the binary), stdin from /dev/null,
 * stdout and stderr to the given fds; the child dies with the test process. */
pid_t support_spawn(struct support_children *ch, const char *binary, const char *const *args,
                    int out_fd, int err_fd);
/* support_spawn with the child's open-file limit (soft and hard) set to max_open_files (0: as
 * inherited), as `ulimit -n` would. */
pid_t support_spawn_limited(struct support_children *ch, const char *binary,
                            const char *const *args, int out_fd, int err_fd,
                            unsigned long max_open_files);
/* Waits for pid up to timeout_ms. Returns 0 with its raw wait status in *status, or -1 when it
 * timed out (it is killed). Either way pid is no longer tracked. */
int support_wait(struct support_children *ch, pid_t pid, unsigned timeout_ms, int *status);
/* Kills and reaps every child still tracked. */
void support_kill_all(struct support_children *ch);

#endif
