/* Helpers shared by the suites: a scratch directory with the children a suite started, running
 * the kmsload program (KMSLOAD_BINARY) to completion or in the background, reading files. */
#ifndef KMSLOAD_TEST_SUPPORT_H
#define KMSLOAD_TEST_SUPPORT_H

#include <stdarg.h>
#include <stdbool.h>
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

/* A suite's scratch directory (/tmp/kmsload-NAME-XXXXXX) and the children its tests started:
 * support_scratch_init in the suite's .init, support_scratch_fini in its .fini, which Criterion
 * runs even when an assertion failed, so nothing is left running or lying around. */
struct support_scratch {
    char dir[64];
    unsigned seq; /* numbers the paths support_scratch_path hands out */
    struct support_children children;
    /* Set in each child support_start starts: "NAME=value", or "NAME" to unset it (NULL: none). */
    const char *const *env;
};

/* Creates the directory (failing the test when it cannot) and ignores SIGPIPE, so a child that
 * dies early shows as its exit status, not as the test process killed by a write. */
void support_scratch_init(struct support_scratch *s, const char *name);
/* Kills and reaps the children still running, then removes the directory. */
void support_scratch_fini(struct support_scratch *s);
/* A fresh path in the directory: DIR/what.N. */
void support_scratch_path(struct support_scratch *s, const char *what, char *out, size_t cap);
/* Writes text to path (fails the test when it cannot). */
void support_write_file(const char *path, const char *text);
/* The same three for DIR/name: its text (NULL if unreadable), writing it, whether it exists. */
char *support_slurp_in(const char *dir, const char *name);
void support_write_in(const char *dir, const char *name, const char *text);
bool support_exists_in(const char *dir, const char *name);

/* A kmsload child started with support_start: its stdout and stderr go to files in the scratch
 * directory (the same file when started with SUPPORT_ERR_TO_OUT). */
struct support_child {
    pid_t pid;
    char out[128], err[128];
};
enum support_flags {
    SUPPORT_ERR_TO_OUT = 1, /* stderr into stdout's file, interleaved as a terminal shows them */
};

/* Starts KMSLOAD_BINARY with args (NULL-terminated, without argv[0]); not waited for. */
void support_start(struct support_scratch *s, struct support_child *c, const char *const *args,
                   unsigned flags);
/* Waits for c up to timeout_ms, the bound against a hang (not a speed check: the test fails when
 * it is reached). Returns the exit status, or -1 when a signal ended the child. */
int support_finish(struct support_scratch *s, struct support_child *c, unsigned timeout_ms);

/* What a finished kmsload printed. */
struct support_result {
    int status; /* exit status; -1 when a signal ended it */
    char *out;  /* stdout (with stderr when run with SUPPORT_ERR_TO_OUT) */
    char *err;  /* stderr ("" with SUPPORT_ERR_TO_OUT) */
};
/* Runs kmsload with args to completion (support_start, support_finish) and reads its output. */
struct support_result support_run(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                  const char *const *args);
/* support_run with the arguments listed, NULL last. */
struct support_result support_runl(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                   const char *first, ...);
/* The same with a va_list, for a suite's own helper taking the arguments listed. */
struct support_result support_runv(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                   const char *first, va_list ap);
void support_result_free(struct support_result *r);

/* `kmsload host --listen 127.0.0.1:0 EXTRA...` running, its port learnt from its first line. */
struct support_host {
    pid_t pid;
    int out_pipe; /* the read end of its stdout */
    uint16_t port;
    char target[32]; /* "127.0.0.1:PORT" */
};
/* Starts the host (its stderr in the scratch directory) and reads its port (at most 5 s). */
void support_host_start(struct support_scratch *s, struct support_host *h,
                        const char *const *extra);
/* SIGINT, then waits (bounded) for it to exit. */
void support_host_stop(struct support_scratch *s, struct support_host *h);

/* Reads one line (without its newline) from fd within timeout_ms; false at EOF or timeout, with
 * what was read so far in line. */
bool support_read_line(int fd, char *line, size_t cap, unsigned timeout_ms);

/* One HTTP/1.0 request to 127.0.0.1:port (the server closes after answering), failing the test
 * without a whole answer within timeout_ms. Returns the body (malloc'd), the status in *status,
 * the head in headers (may be NULL). */
char *support_http(unsigned port, const char *method, const char *path, unsigned timeout_ms,
                   int *status, char *headers, size_t headers_cap);

#endif
