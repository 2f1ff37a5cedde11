/*
 * End to end: rosterd outlives its database. On a private PostgreSQL cluster that the test
 * stops and starts again: /readyz turns 503, API requests fail fast with a 503 JSON error
 * instead of hanging, and the same rosterd process serves again once PostgreSQL is back.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "rt_api.h"
#include "rt_http.h"
#include "rt_proc.h"

#define DOWN_DEADLINE_MS 15000
#define UP_DEADLINE_MS   30000
#define FAST_ANSWER_MS   3000

struct readyz_env {
    char dir[256];
    char conninfo[512];
    bool cluster_running;
    struct rt_proc *rosterd;
    char *key;
    char token[128];
    char readyz[256], employees[256];
};

static struct readyz_env env;
static bool teardown_failed;

/* `$ROSTER_PG_CLUSTER <command> [--fast] <dir>`; true when it exited 0. */
static bool cluster(const char *command)
{
    const char *script = getenv("ROSTER_PG_CLUSTER");
    bool start = strcmp(command, "start") == 0;
    const char *argv[5] = {script, command, start ? "--fast" : env.dir, start ? env.dir : NULL,
                           NULL};
    int status = -1;

    if (!script || !*script) {
        fprintf(stderr, "ROSTER_PG_CLUSTER is not set (run the tests with ctest)\n");
        return false;
    }
    if (rt_proc_run(argv, NULL, 120000, NULL, &status) != RS_OK || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pg-cluster.sh %s %s failed (status 0x%x)\n", command, env.dir, status);
        return false;
    }
    env.cluster_running = start;
    return true;
}

/* Whatever happens to the test, the private cluster does not outlive it. */
static void stop_cluster_at_exit(void)
{
    if (env.cluster_running)
        cluster("stop");
}

/* Removes the cluster's files, including a home the script moved out of env.dir. */
static void remove_cluster_files(void)
{
    char data[300], target[512];
    ssize_t len;

    snprintf(data, sizeof(data), "%s/data", env.dir);
    len = readlink(data, target, sizeof(target) - 1);
    if (len > 0) {
        char *slash;

        target[len] = '\0';
        slash = strrchr(target, '/');
        if (slash && slash != target) {
            *slash = '\0';
            rt_tmpdir_remove(target);
        }
    }
    rt_tmpdir_remove(env.dir);
}

static int group_teardown(void **state)
{
    (void)state;
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
    if (env.cluster_running && !cluster("stop"))
        teardown_failed = true;
    if (env.dir[0])
        remove_cluster_files();
    env.dir[0] = '\0';
    free(env.key);
    env.key = NULL;
    return teardown_failed ? -1 : 0;
}

static int group_setup(void **state)
{
    static const char *const extra[] = {"ROSTER_DB_RETRY_INTERVAL_MS=100",
                                        "ROSTER_DB_CONNECT_TIMEOUT_S=2", NULL};
    struct rt_rosterd_opts opts = {.database_url = env.conninfo, .extra_env = extra};
    char account[64];

    if (rt_tmpdir_new("rt-readyz", env.dir, sizeof(env.dir)) != RS_OK)
        return -1;
    /* the cluster runs as postgres when we are root: it must reach the directory */
    if (chmod(env.dir, 0755) != 0 || atexit(stop_cluster_at_exit) != 0 || !cluster("start"))
        goto fail;
    snprintf(env.conninfo, sizeof(env.conninfo),
             "host=%s/sock port=5432 user=postgres dbname=postgres", env.dir);
    if (rt_proc_start_rosterd(&opts, &env.rosterd) != RS_OK ||
        !(env.key = rt_api_create_org(env.conninfo, "Readyz")))
        goto fail;
    rt_api_link_account(env.rosterd, env.key, "readyz", account, env.token);
    rt_api_seed(env.conninfo, account, 20);
    snprintf(env.readyz, sizeof(env.readyz), "%s/readyz", rt_proc_url(env.rosterd));
    snprintf(env.employees, sizeof(env.employees), "%s/api/hris/v1/employees?page_size=5",
             rt_proc_url(env.rosterd));
    return 0;
fail:
    group_teardown(state);
    return -1;
}

/* One request with a short timeout, so a hang fails the test quickly; the time it took. */
static long long timed_get(const char *url, bool with_credentials, struct rt_resp *r)
{
    struct rt_req req = {.url = url,
                         .api_key = with_credentials ? env.key : NULL,
                         .account_token = with_credentials ? env.token : NULL,
                         .timeout_ms = 10000};
    long long start = rt_now_ms();

    if (rt_http_do(&req, r) != RS_OK)
        fail_msg("GET %s: no answer within 10 s (%s)", url, r->errbuf);
    return rt_now_ms() - start;
}

/*
 * Polls url until it answers `want` `consecutive` times in a row; any other answer must be
 * `meanwhile`. The last answer stays in *last (caller cleans it up).
 */
static void wait_for_status(const char *url, bool with_credentials, long want, long meanwhile,
                            int consecutive, long long deadline_ms, struct rt_resp *last)
{
    long long deadline = rt_now_ms() + deadline_ms;
    int streak = 0;

    for (;;) {
        timed_get(url, with_credentials, last);
        if (last->status != want && last->status != meanwhile)
            fail_msg("%s answered %ld while waiting for %ld: %.300s", url, last->status, want,
                     last->body);
        streak = last->status == want ? streak + 1 : 0;
        if (streak == consecutive)
            return;
        rt_resp_cleanup(last);
        if (rt_now_ms() > deadline)
            fail_msg("%s did not answer %ld %d times in a row within %lld ms", url, want,
                     consecutive, deadline_ms);
        if (streak == 0)
            rt_poll_pause(50);
    }
}

/* A /readyz answer: status and its JSON "status"; a 503 says when to retry. */
static void check_readyz(const struct rt_resp *r, long status, const char *state_text)
{
    const char *got = rt_api_str(r->json, "status");
    char retry[32];

    if (r->status != status || !got || strcmp(got, state_text) != 0)
        fail_msg("/readyz: %ld %.300s, want %ld with status %s", r->status, r->body, status,
                 state_text);
    if (status == 503)
        assert_true(rt_resp_header(r, "Retry-After", retry, sizeof(retry)));
}

/* Requests with valid credentials get a 503 JSON error, fast (both workers: several tries). */
static void expect_api_unavailable(void)
{
    for (int i = 0; i < 6; i++) {
        struct rt_resp r = {0};
        long long took = timed_get(env.employees, true, &r);

        rt_api_expect_error(&r, 503, NULL, "the API while PostgreSQL is down");
        assert_string_equal(rt_api_str(r.json, "error"), "unavailable");
        if (took > FAST_ANSWER_MS)
            fail_msg("the 503 took %lld ms", took);
        rt_resp_cleanup(&r);
    }
}

static void test_database_outage(void **state)
{
    pid_t pid = rt_proc_pid(env.rosterd);
    struct rt_resp r = {0};
    char healthz[256];

    (void)state;
    wait_for_status(env.readyz, false, 200, 200, 1, UP_DEADLINE_MS, &r);
    check_readyz(&r, 200, "ready");
    rt_resp_cleanup(&r);
    wait_for_status(env.employees, true, 200, 200, 4, UP_DEADLINE_MS, &r);
    rt_resp_cleanup(&r);

    assert_true(cluster("stop"));
    wait_for_status(env.readyz, false, 503, 200, 1, DOWN_DEADLINE_MS, &r);
    check_readyz(&r, 503, "unavailable");
    rt_resp_cleanup(&r);
    expect_api_unavailable();
    snprintf(healthz, sizeof(healthz), "%s/healthz", rt_proc_url(env.rosterd));
    timed_get(healthz, false, &r);
    assert_int_equal(r.status, 200); /* alive, only not ready */
    rt_resp_cleanup(&r);

    assert_true(cluster("start"));
    wait_for_status(env.readyz, false, 200, 503, 1, UP_DEADLINE_MS, &r);
    check_readyz(&r, 200, "ready");
    rt_resp_cleanup(&r);
    /* every worker has found its way back: several answers in a row are 200 */
    wait_for_status(env.employees, true, 200, 503, 6, UP_DEADLINE_MS, &r);
    assert_int_equal(json_array_size(rt_api_results(&r, "employees after the outage")), 5);
    rt_resp_cleanup(&r);

    assert_true(rt_proc_alive(env.rosterd));
    assert_int_equal(rt_proc_pid(env.rosterd), pid);
    assert_int_equal(rt_proc_log_count(env.rosterd, "msg=\"listening\""), 1);
    rt_proc_stop(env.rosterd, 15000);
    assert_true(rt_proc_exited_cleanly(env.rosterd));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_database_outage),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

    return failed || teardown_failed ? 1 : 0;
}
