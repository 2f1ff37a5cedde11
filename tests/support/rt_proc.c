/*
 * Child processes for e2e tests: rosterd or roster-sandbox on an ephemeral port with its log in
 * a temporary directory, one-shot commands with captured stdout, and the registry that reaps
 * every child.
 */
#include "rt_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

extern char **environ;

#define RT_PROC_MAX_LIVE   64
#define RT_PROC_MAX_ENV    512
#define RT_PROC_MAX_STDOUT (1 << 20)
#define RT_PROC_LOG_MAX    (64 << 20)
#define LISTENING          "msg=\"listening\" addr="

struct rt_proc {
    pid_t pid;
    bool reaped;
    int status; /* waitpid status once reaped */
    char dir[256];
    char log_path[320];
    char url[96];
};

static struct rt_proc *live[RT_PROC_MAX_LIVE];
static bool atexit_registered;

long long rt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rt_poll_pause(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * At exit, for every child a test did not free (it failed half-way, most likely): kill and
 * reap it, show the end of its log, remove its directory.
 */
static void reap_all(void)
{
    for (size_t i = 0; i < RT_PROC_MAX_LIVE; i++) {
        struct rt_proc *p = live[i];

        if (!p)
            continue;
        if (!p->reaped) {
            kill(p->pid, SIGKILL);
            while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
                ;
            p->reaped = true;
        }
        rt_proc_dump_log(p, 30);
        if (!getenv("ROSTER_TEST_KEEP_LOGS"))
            rt_tmpdir_remove(p->dir);
        live[i] = NULL;
    }
}

static bool registry_add(struct rt_proc *p)
{
    if (!atexit_registered) {
        if (atexit(reap_all) != 0)
            return false;
        atexit_registered = true;
    }
    for (size_t i = 0; i < RT_PROC_MAX_LIVE; i++) {
        if (!live[i]) {
            live[i] = p;
            return true;
        }
    }
    return false;
}

static void registry_remove(const struct rt_proc *p)
{
    for (size_t i = 0; i < RT_PROC_MAX_LIVE; i++) {
        if (live[i] == p)
            live[i] = NULL;
    }
}

enum rs_err rt_tmpdir_new(const char *prefix, char *out, size_t outlen)
{
    const char *base = getenv("TMPDIR");

    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(out, outlen, "%s/%s-XXXXXX", base, prefix) >= outlen)
        return RS_ERR_INTERNAL;
    if (!mkdtemp(out)) {
        fprintf(stderr, "rt_proc: mkdtemp %s: %s\n", out, strerror(errno));
        return RS_ERR_INTERNAL;
    }
    return RS_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void rt_tmpdir_remove(const char *path)
{
    if (path && *path)
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The length of "KEY=" in entry, or 0 when it has no '='. */
static size_t key_len(const char *entry)
{
    const char *eq = strchr(entry, '=');

    return eq ? (size_t)(eq - entry) + 1 : 0;
}

static bool overridden(const char *entry, const char *const *extra)
{
    size_t len = key_len(entry);

    for (; extra && *extra; extra++) {
        if (len && strncmp(entry, *extra, len) == 0)
            return true;
    }
    return false;
}

/*
 * The child's environment: ours (minus ROSTER_* when drop_roster, minus what extra sets), then
 * extra. The strings are borrowed. Returns a NULL-terminated malloc'd array, or NULL.
 */
static char **merge_env(const char *const *extra, bool drop_roster)
{
    char **env = calloc(RT_PROC_MAX_ENV + 1, sizeof(*env));
    size_t n = 0;

    if (!env)
        return NULL;
    for (char **e = environ; e && *e && n < RT_PROC_MAX_ENV; e++) {
        if ((drop_roster && strncmp(*e, "ROSTER_", 7) == 0) || overridden(*e, extra))
            continue;
        env[n++] = *e;
    }
    for (; extra && *extra && n < RT_PROC_MAX_ENV; extra++)
        env[n++] = (char *)*extra;
    return env;
}

/*
 * In the child after fork: die with the parent, wire stdin/stdout/stderr, close the rest, exec.
 * Only async-signal-safe calls.
 */
static void exec_child(pid_t parent, int out_fd, int err_fd, const char *const *argv, char **env)
{
    int null_fd = open("/dev/null", O_RDONLY);

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    close_range(3, ~0U, 0);
    execve(argv[0], (char *const *)argv, env);
    _exit(127);
}

static void reap_if_exited(struct rt_proc *p, bool block)
{
    pid_t r;

    if (p->reaped)
        return;
    if (p->pid <= 0) { /* never started: waitpid(0) would reap some other child */
        p->reaped = true;
        return;
    }
    do {
        r = waitpid(p->pid, &p->status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid || (r < 0 && errno == ECHILD))
        p->reaped = true;
}

bool rt_proc_alive(struct rt_proc *p)
{
    reap_if_exited(p, false);
    return !p->reaped;
}

enum rs_err rt_proc_signal(struct rt_proc *p, int sig)
{
    if (!rt_proc_alive(p))
        return RS_ERR_NOTFOUND;
    return kill(p->pid, sig) == 0 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err rt_proc_wait(struct rt_proc *p, int timeout_ms, int *status)
{
    long long deadline = rt_now_ms() + timeout_ms;

    while (rt_proc_alive(p)) {
        if (rt_now_ms() >= deadline)
            return RS_ERR_TIMEOUT;
        rt_poll_pause(5);
    }
    if (status)
        *status = p->status;
    return RS_OK;
}

int rt_proc_stop(struct rt_proc *p, int timeout_ms)
{
    int status = -1;

    if (!rt_proc_alive(p))
        return p->status;
    kill(p->pid, SIGTERM);
    if (rt_proc_wait(p, timeout_ms, &status) == RS_OK)
        return status;
    fprintf(stderr, "rt_proc: pid %ld ignored SIGTERM for %d ms; killing it\n", (long)p->pid,
            timeout_ms);
    kill(p->pid, SIGKILL);
    reap_if_exited(p, true);
    return -1;
}

bool rt_proc_exited_cleanly(struct rt_proc *p)
{
    bool exited = !rt_proc_alive(p);
    bool ok = exited && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0 &&
              !rt_proc_log_contains(p, "Sanitizer") && !rt_proc_log_contains(p, "runtime error");

    if (!ok) {
        fprintf(stderr, "rt_proc: pid %ld %s (status 0x%x)\n", (long)p->pid,
                exited ? "did not exit cleanly" : "is still running", p->status);
        rt_proc_dump_log(p, 60);
    }
    return ok;
}

void rt_proc_free(struct rt_proc *p)
{
    if (!p)
        return;
    if (rt_proc_alive(p))
        rt_proc_stop(p, 10000);
    registry_remove(p);
    if (getenv("ROSTER_TEST_KEEP_LOGS"))
        fprintf(stderr, "rt_proc: kept %s\n", p->log_path);
    else
        rt_tmpdir_remove(p->dir);
    free(p);
}

const char *rt_proc_url(const struct rt_proc *p)
{
    return p->url;
}

pid_t rt_proc_pid(const struct rt_proc *p)
{
    return p->pid;
}

const char *rt_proc_log_path(const struct rt_proc *p)
{
    return p->log_path;
}

/* The whole log, malloc'd and NUL-terminated (at most RT_PROC_LOG_MAX bytes), or NULL. */
static char *read_log(const struct rt_proc *p, size_t *len_out)
{
    FILE *f = fopen(p->log_path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, got;

    if (!f)
        return NULL;
    do {
        if (cap - len < 4096) {
            char *bigger = cap < RT_PROC_LOG_MAX ? realloc(text, cap + 65536) : NULL;
            if (!bigger)
                break;
            text = bigger;
            cap += 65536;
        }
        got = fread(text + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    if (text)
        text[len] = '\0';
    if (len_out)
        *len_out = len;
    return text;
}

void rt_proc_dump_log(const struct rt_proc *p, int max_lines)
{
    size_t len = 0;
    char *text = read_log(p, &len);
    const char *start;
    int lines = 0;

    if (!text) {
        fprintf(stderr, "rt_proc: cannot read %s\n", p->log_path);
        return;
    }
    start = text + len;
    while (start > text && lines <= max_lines) {
        start--;
        if (*start == '\n' && start + 1 < text + len)
            lines++;
    }
    if (lines > max_lines)
        start++;
    fprintf(stderr, "---- %s (last %d lines) ----\n%s---- end of log ----\n", p->log_path,
            max_lines, start);
    free(text);
}

bool rt_proc_log_contains(const struct rt_proc *p, const char *needle)
{
    return rt_proc_log_count(p, needle) > 0;
}

int rt_proc_log_count(const struct rt_proc *p, const char *needle)
{
    return rt_proc_log_count_after(p, NULL, needle);
}

int rt_proc_log_count_after(const struct rt_proc *p, const char *after, const char *needle)
{
    char *text = read_log(p, NULL);
    bool counting = after == NULL;
    int count = 0;

    if (!text)
        return -1;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');

        if (end)
            *end = '\0';
        if (counting && strstr(line, needle))
            count++;
        if (!counting && strstr(line, after))
            counting = true;
        line = end ? end + 1 : NULL;
    }
    free(text);
    return count;
}

/* Copies "http://HOST:PORT" from the log's listening line into p->url; false if none yet. */
static bool find_listening(struct rt_proc *p)
{
    char *text = read_log(p, NULL);
    const char *at = text ? strstr(text, LISTENING) : NULL;
    size_t len;
    bool found = false;

    if (at) {
        at += strlen(LISTENING);
        len = strcspn(at, " \n");
        /* the line is complete only once its newline is in the file */
        if (at[len] != '\0' && len > 0 && len + 8 < sizeof(p->url)) {
            snprintf(p->url, sizeof(p->url), "http://%.*s", (int)len, at);
            found = true;
        }
    }
    free(text);
    return found;
}

/* A fresh ROSTER_MASTER_KEY=<base64 of 32 random bytes> in out. */
static enum rs_err master_key_env(char *out, size_t outlen)
{
    unsigned char key[32];
    const char prefix[] = "ROSTER_MASTER_KEY=";

    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
        outlen < sizeof(prefix) + sodium_base64_ENCODED_LEN(sizeof(key), 0))
        return RS_ERR_INTERNAL;
    memcpy(out, prefix, sizeof(prefix) - 1);
    sodium_bin2base64(out + sizeof(prefix) - 1, outlen - (sizeof(prefix) - 1), key, sizeof(key),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    return RS_OK;
}

/* Forks and execs argv with env, stdout and stderr to log_fd; registers the child. */
static enum rs_err spawn_logged(struct rt_proc *p, const char *const *argv, char **env, int log_fd)
{
    pid_t parent = getpid();

    if (!registry_add(p)) {
        fprintf(stderr, "rt_proc: too many children\n");
        return RS_ERR_INTERNAL;
    }
    p->pid = fork();
    if (p->pid < 0) {
        registry_remove(p);
        fprintf(stderr, "rt_proc: fork: %s\n", strerror(errno));
        return RS_ERR_INTERNAL;
    }
    if (p->pid == 0)
        exec_child(parent, log_fd, log_fd, argv, env);
    return RS_OK;
}

/* Polls the log for the listening line until the deadline; the child must stay alive. */
static enum rs_err wait_listening(struct rt_proc *p, const char *name, int timeout_ms)
{
    long long deadline = rt_now_ms() + timeout_ms;

    for (;;) {
        if (find_listening(p))
            return RS_OK;
        if (!rt_proc_alive(p)) {
            fprintf(stderr, "rt_proc: %s exited (status 0x%x) before listening\n", name, p->status);
            return RS_ERR_UNAVAILABLE;
        }
        if (rt_now_ms() >= deadline) {
            fprintf(stderr, "rt_proc: %s did not listen within %d ms\n", name, timeout_ms);
            return RS_ERR_UNAVAILABLE;
        }
        rt_poll_pause(10);
    }
}

/*
 * Starts argv (argv[0] a path) with env, its output in DIR/<name>.log of a new temporary
 * directory, and waits for its listening line. On success *out owns the running child.
 */
static enum rs_err start_server(const char *name, const char *const *argv, char **env,
                                int timeout_ms, struct rt_proc **out)
{
    struct rt_proc *p = calloc(1, sizeof(*p));
    char prefix[64];
    int log_fd = -1;
    enum rs_err err = RS_ERR_NOMEM;

    if (!p)
        goto out;
    err = RS_ERR_INTERNAL;
    snprintf(prefix, sizeof(prefix), "rt-%s", name);
    if (rt_tmpdir_new(prefix, p->dir, sizeof(p->dir)) != RS_OK)
        goto out;
    snprintf(p->log_path, sizeof(p->log_path), "%s/%s.log", p->dir, name);
    log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0 || spawn_logged(p, argv, env, log_fd) != RS_OK)
        goto out;
    err = wait_listening(p, name, timeout_ms > 0 ? timeout_ms : 60000);
    if (err != RS_OK)
        goto out;
    *out = p;
    p = NULL;
out:
    if (p && p->pid > 0)
        rt_proc_dump_log(p, 40);
    rt_proc_free(p);
    if (log_fd >= 0)
        close(log_fd);
    return err;
}

enum rs_err rt_proc_start_rosterd(const struct rt_rosterd_opts *opts, struct rt_proc **out)
{
    const char *bin = getenv("ROSTERD_BIN");
    char db_env[2048], key_env[128];
    const char *base_env[5] = {db_env, key_env, "ROSTER_LISTEN=127.0.0.1:0",
                               opts->allow_private_upstreams ? "ROSTER_ALLOW_PRIVATE_UPSTREAMS=1"
                                                             : "ROSTER_ALLOW_PRIVATE_UPSTREAMS=0",
                               NULL};
    const char *all_env[64] = {NULL};
    const char *argv[3] = {bin, "serve", NULL};
    char **env = NULL;
    size_t n = 0;
    enum rs_err err = RS_ERR_INVALID;

    if (!bin || !*bin || !opts->database_url) {
        fprintf(stderr, "rt_proc: ROSTERD_BIN or the database URL is not set\n");
        goto out;
    }
    if ((size_t)snprintf(db_env, sizeof(db_env), "ROSTER_DATABASE_URL=%s", opts->database_url) >=
            sizeof(db_env) ||
        master_key_env(key_env, sizeof(key_env)) != RS_OK)
        goto out;
    for (size_t i = 0; base_env[i]; i++) {
        if (!overridden(base_env[i], opts->extra_env)) /* the caller's settings win */
            all_env[n++] = base_env[i];
    }
    for (size_t i = 0; opts->extra_env && opts->extra_env[i] && n + 1 < 64; i++)
        all_env[n++] = opts->extra_env[i];
    err = RS_ERR_NOMEM;
    if (!(env = merge_env(all_env, true)))
        goto out;
    err = start_server("rosterd", argv, env, opts->start_timeout_ms, out);
out:
    sodium_memzero(key_env, sizeof(key_env));
    free(env);
    return err;
}

enum rs_err rt_proc_start_sandbox(const char *const *args, struct rt_proc **out)
{
    const char *bin = getenv("ROSTER_SANDBOX_BIN");
    const char *argv[24] = {bin, "--listen", "127.0.0.1:0"};
    char **env = NULL;
    size_t n = 3;
    enum rs_err err;

    if (!bin || !*bin) {
        fprintf(stderr, "rt_proc: ROSTER_SANDBOX_BIN is not set\n");
        return RS_ERR_INVALID;
    }
    for (; args && args[n - 3]; n++) {
        if (n + 1 >= sizeof(argv) / sizeof(argv[0])) {
            fprintf(stderr, "rt_proc: too many sandbox arguments\n");
            return RS_ERR_INVALID;
        }
        argv[n] = args[n - 3];
    }
    argv[n] = NULL;
    if (!(env = merge_env(NULL, true)))
        return RS_ERR_NOMEM;
    err = start_server("sandbox", argv, env, 0, out);
    free(env);
    return err;
}

/* Reads fd until EOF or the deadline into a buffer of at most RT_PROC_MAX_STDOUT bytes. */
static enum rs_err read_until_eof(int fd, long long deadline, char **out)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    char chunk[4096];

    if (!buf)
        return RS_ERR_NOMEM;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        long long left = deadline - rt_now_ms();
        ssize_t got;

        if (left <= 0) {
            free(buf);
            return RS_ERR_TIMEOUT;
        }
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (len + (size_t)got + 1 > cap && cap < RT_PROC_MAX_STDOUT) {
            char *bigger =
                realloc(buf, cap * 2 > RT_PROC_MAX_STDOUT ? RT_PROC_MAX_STDOUT : cap * 2);
            if (!bigger) {
                free(buf);
                return RS_ERR_NOMEM;
            }
            buf = bigger;
            cap = cap * 2 > RT_PROC_MAX_STDOUT ? RT_PROC_MAX_STDOUT : cap * 2;
        }
        if (len + (size_t)got + 1 <= cap) {
            memcpy(buf + len, chunk, (size_t)got);
            len += (size_t)got;
        }
    }
    buf[len] = '\0';
    *out = buf;
    return RS_OK;
}

/* rt_proc_run, optionally without the test's ROSTER_* variables. */
static enum rs_err run_child(const char *const *argv, const char *const *env, bool drop_roster,
                             int timeout_ms, char **stdout_out, int *status)
{
    long long deadline = rt_now_ms() + timeout_ms;
    struct rt_proc child = {0};
    pid_t parent = getpid();
    int pipe_fds[2] = {-1, -1};
    char **merged = merge_env(env, drop_roster);
    char *captured = NULL;
    enum rs_err err = RS_ERR_NOMEM;

    if (!merged)
        goto out;
    err = RS_ERR_INTERNAL;
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        goto out;
    child.pid = fork();
    if (child.pid < 0)
        goto out;
    if (child.pid == 0)
        exec_child(parent, pipe_fds[1], 2, argv, merged);
    close(pipe_fds[1]);
    pipe_fds[1] = -1;
    err = read_until_eof(pipe_fds[0], deadline, &captured);
    if (err == RS_OK && rt_proc_wait(&child, (int)(deadline - rt_now_ms()), status) != RS_OK)
        err = RS_ERR_TIMEOUT;
    if (err != RS_OK) {
        kill(child.pid, SIGKILL);
        reap_if_exited(&child, true);
        fprintf(stderr, "rt_proc: %s did not finish within %d ms\n", argv[0], timeout_ms);
        goto out;
    }
    if (stdout_out) {
        *stdout_out = captured;
        captured = NULL;
    }
out:
    if (pipe_fds[0] >= 0)
        close(pipe_fds[0]);
    if (pipe_fds[1] >= 0)
        close(pipe_fds[1]);
    free(captured);
    free(merged);
    return err;
}

enum rs_err rt_proc_run(const char *const *argv, const char *const *env, int timeout_ms,
                        char **stdout_out, int *status)
{
    return run_child(argv, env, false, timeout_ms, stdout_out, status);
}

enum rs_err rt_proc_rosterd_command(const char *database_url, const char *const *args,
                                    char **stdout_out)
{
    const char *bin = getenv("ROSTERD_BIN");
    const char *argv[16] = {bin};
    char db_env[2048];
    const char *env[2] = {db_env, NULL};
    char *text = NULL;
    size_t n = 1, len;
    int status = 0;
    enum rs_err err;

    if (!bin || !*bin)
        return RS_ERR_INVALID;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    if ((size_t)snprintf(db_env, sizeof(db_env), "ROSTER_DATABASE_URL=%s", database_url) >=
        sizeof(db_env))
        return RS_ERR_INVALID;
    err = run_child(argv, env, true, 120000, &text, &status);
    if (err == RS_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "rt_proc: rosterd %s failed (status 0x%x)\n", args[0], status);
        err = RS_ERR_INTERNAL;
    }
    if (err == RS_OK) {
        len = strlen(text);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        *stdout_out = text;
        text = NULL;
    }
    free(text);
    return err;
}
