/*
 * Child processes for e2e tests: rosterd or roster-sandbox serving on an ephemeral port (its
 * output in a log file in a temporary directory, its base URL read from the "listening" line),
 * and one-shot commands with their stdout captured. Every child is registered: an atexit handler
 * kills and reaps what a failing test left behind, and a child dies with the test process
 * (PR_SET_PDEATHSIG).
 */
#ifndef ROSTER_RT_PROC_H
#define ROSTER_RT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "roster/rs_err.h"

struct rt_proc;

/* How to start a rosterd. */
struct rt_rosterd_opts {
    const char *database_url;     /* required: ROSTER_DATABASE_URL */
    bool allow_private_upstreams; /* ROSTER_ALLOW_PRIVATE_UPSTREAMS */
    const char *const *extra_env; /* NULL-terminated "ROSTER_X=value" strings that override
                                     the settings above, or NULL */
    int start_timeout_ms;         /* how long to wait for "listening"; 0 = 60 s */
};

/*
 * Starts `$ROSTERD_BIN serve` with ROSTER_LISTEN=127.0.0.1:0, a fresh ROSTER_MASTER_KEY, the
 * options' settings and the test's environment minus every other ROSTER_* variable; stdout and
 * stderr go to a log file in a new temporary directory. Waits (deadline, no fixed sleep) for
 * `msg="listening" addr=HOST:PORT` in the log. On success *out owns the running child (free
 * it with rt_proc_free). On failure prints the reason and the log's tail on stderr and returns
 * RS_ERR_UNAVAILABLE (child exited or timed out; it is killed and reaped), RS_ERR_INVALID
 * (ROSTERD_BIN unset, bad options) or RS_ERR_NOMEM.
 */
enum rs_err rt_proc_start_rosterd(const struct rt_rosterd_opts *opts,
                                  struct rt_proc **out) RS_MUST_CHECK;

/*
 * Starts `$ROSTER_SANDBOX_BIN --listen 127.0.0.1:0 args…` (args NULL-terminated, borrowed, at
 * most 20; NULL for none) in the test's environment minus ROSTER_* variables, its output in a
 * log file in a new temporary directory, and waits for its listening line like
 * rt_proc_start_rosterd, with the same ownership and errors (RS_ERR_INVALID when
 * ROSTER_SANDBOX_BIN is unset). rt_proc_url is then the sandbox's base URL, without a
 * provider prefix.
 */
enum rs_err rt_proc_start_sandbox(const char *const *args, struct rt_proc **out) RS_MUST_CHECK;

/* "http://HOST:PORT" of a started rosterd or sandbox (borrowed; lives as long as p). */
const char *rt_proc_url(const struct rt_proc *p);
pid_t rt_proc_pid(const struct rt_proc *p);
/* The path of the child's log file (borrowed). */
const char *rt_proc_log_path(const struct rt_proc *p);

/* True while the child runs; reaps it (keeping its status) once it has exited. */
bool rt_proc_alive(struct rt_proc *p);

/* Sends sig to a running child. RS_OK, or RS_ERR_NOTFOUND when it has already exited. */
enum rs_err rt_proc_signal(struct rt_proc *p, int sig) RS_MUST_CHECK;

/*
 * Waits up to timeout_ms for the child to exit and stores its waitpid status in *status.
 * RS_OK, or RS_ERR_TIMEOUT with the child still running.
 */
enum rs_err rt_proc_wait(struct rt_proc *p, int timeout_ms, int *status) RS_MUST_CHECK;

/*
 * SIGTERM, then waits up to timeout_ms, then SIGKILL and reaps. Returns the waitpid status of a
 * child that exited by itself (also one that had exited before), or -1 when it had to be killed.
 */
int rt_proc_stop(struct rt_proc *p, int timeout_ms);

/*
 * True when the child has been reaped with exit status 0 and its log holds no sanitizer report
 * (AddressSanitizer, LeakSanitizer, UBSan's "runtime error"). Otherwise prints why and the
 * log's tail on stderr. Call it after rt_proc_stop or rt_proc_wait.
 */
bool rt_proc_exited_cleanly(struct rt_proc *p);

/* Stops the child if it still runs (SIGKILL after 10 s), removes its directory, frees p. */
void rt_proc_free(struct rt_proc *p);

/* Prints the last max_lines lines of the child's log on stderr, for a failing test. */
void rt_proc_dump_log(const struct rt_proc *p, int max_lines);

/* True when the child's log contains needle (e.g. a sanitizer's "runtime error"). */
bool rt_proc_log_contains(const struct rt_proc *p, const char *needle);

/*
 * Counts lines of the log containing needle. Returns the count, or -1 when the log cannot be
 * read.
 */
int rt_proc_log_count(const struct rt_proc *p, const char *needle);

/* The same, counting only lines after the first one that contains `after` (0 if none does). */
int rt_proc_log_count_after(const struct rt_proc *p, const char *after, const char *needle);

/*
 * Runs argv[0] (a path) with argv, in the test's environment plus env (NULL-terminated
 * "KEY=value" strings that override, or NULL), waits up to timeout_ms (then kills it), and
 * stores its stdout (malloc'd, NUL-terminated, at most 1 MiB; caller frees; NULL allowed if
 * not wanted) and its waitpid status. stderr passes through to the test's stderr. RS_OK when
 * the command ran to its end (whatever its status), RS_ERR_TIMEOUT, RS_ERR_NOMEM, or
 * RS_ERR_INTERNAL when it could not be started.
 */
enum rs_err rt_proc_run(const char *const *argv, const char *const *env, int timeout_ms,
                        char **stdout_out, int *status) RS_MUST_CHECK;

/*
 * Runs `$ROSTERD_BIN args…` with ROSTER_DATABASE_URL=database_url (and no other ROSTER_*
 * variable) and returns its stdout with trailing newlines removed in *stdout_out (caller
 * frees). RS_OK only when it exited 0; otherwise prints why on stderr and returns an error.
 */
enum rs_err rt_proc_rosterd_command(const char *database_url, const char *const *args,
                                    char **stdout_out) RS_MUST_CHECK;

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
long long rt_now_ms(void);

/* Sleeps ms milliseconds: only between polls of a condition that has a deadline. */
void rt_poll_pause(int ms);

/*
 * Makes a new directory under $TMPDIR (or /tmp) named prefix-XXXXXX and stores its path in out.
 * RS_OK or RS_ERR_INTERNAL.
 */
enum rs_err rt_tmpdir_new(const char *prefix, char *out, size_t outlen) RS_MUST_CHECK;

/* Removes a directory tree (not following symlinks); a missing path is fine. */
void rt_tmpdir_remove(const char *path);

#endif
