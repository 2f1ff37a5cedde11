/*
 * End to end, webhook delivery: rosterd + roster-sandbox + PostgreSQL and a receiver in this
 * process (tests/support/rt_hook.c). The receiver is down, then answers 500, then is slower
 * than the delivery timeout, then recovers: every event arrives (no webhook-id missing, none
 * invented), each validly signed, and per linked account in the order its syncs committed.
 * rosterd killed with SIGKILL mid-delivery and restarted: what was in flight arrives again with
 * its original webhook-id. A failed sync emits nothing. An endpoint answering 410, or failing
 * for webhook_disable_after_s, is disabled and an Issue.new goes to the organization's other
 * endpoint.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "roster/rs_time.h"
#include "rt_api.h"
#include "rt_hook.h"
#include "rt_http.h"
#include "rt_proc.h"
#include "rt_sync.h"

#define EMPLOYEES        25
#define SEED             2
#define TIMEOUT_MS       "1000" /* ROSTER_WEBHOOK_TIMEOUT_MS: "slow" is slower than this */
#define DELIVER_DEADLINE 120000
#define ENDPOINTS        "/api/admin/v1/webhook-endpoints"

static struct rt_sync_env env;
static char master_key[96]; /* the same for the restarted rosterd (it opens the secrets) */
static const char *extra[] = {master_key, "ROSTER_WEBHOOK_TIMEOUT_MS=" TIMEOUT_MS,
                              /* 21 attempts over ~27 s: while the receiver is down, a
                                 message at the head of its account's order fails again and
                                 again (the others wait behind it) */
                              "ROSTER_WEBHOOK_RETRY_SCHEDULE_MS=100,200,400,800,1000,1000,1000,"
                              "1000,1000,1000,2000,2000,2000,2000,2000,2000,2000,2000,2000,2000",
                              "ROSTER_WEBHOOK_POLL_MS=100", "ROSTER_WEBHOOK_DISPATCHERS=2",
                              "ROSTER_WEBHOOK_ENDPOINT_CONCURRENCY=4", NULL};
static bool teardown_failed;

static int group_setup(void **state)
{
    uint8_t key[32];
    char b64[64];

    (void)state;
    randombytes_buf(key, sizeof(key));
    sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    snprintf(master_key, sizeof(master_key), "ROSTER_MASTER_KEY=%s", b64);
    return rt_sync_env_start(&env, EMPLOYEES, SEED, extra);
}

static int group_teardown(void **state)
{
    (void)state;
    if (rt_sync_env_stop(&env) != 0)
        teardown_failed = true;
    return teardown_failed ? -1 : 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Every message of endpoint (newest first), following the cursors (new reference). */
static json_t *messages(const struct rt_hook_endpoint *ep, const char *query)
{
    json_t *all = json_array();
    char cursor[256] = "";

    for (;;) {
        json_t *page = rt_sync_call(&env, NULL, "GET", NULL, 200,
                                    ENDPOINTS "/%s/deliveries?page_size=100%s%s%s", ep->id,
                                    query ? "&" : "", query ? query : "", cursor);
        const json_t *next = json_object_get(page, "next");

        json_array_extend(all, json_object_get(page, "results"));
        if (!json_is_string(next)) {
            json_decref(page);
            return all;
        }
        snprintf(cursor, sizeof(cursor), "&cursor=%s", json_string_value(next));
        json_decref(page);
    }
}

/* Waits (deadline) until endpoint has no pending message and at least `at_least` messages. */
static json_t *wait_delivered(const struct rt_hook_endpoint *ep, size_t at_least)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;

    for (;;) {
        json_t *pending = messages(ep, "status=PENDING"), *all = messages(ep, NULL);
        size_t n = json_array_size(pending), total = json_array_size(all);

        if (n == 0 && total >= at_least) {
            json_decref(pending);
            return all;
        }
        json_decref(all);
        if (rt_now_ms() > deadline) {
            char *first = json_dumps(json_array_get(pending, 0), JSON_COMPACT);

            rt_proc_dump_log(env.rosterd, 40);
            fail_msg("%zu of %zu messages still pending (want at least %zu), e.g. %s", n, total,
                     at_least, first ? first : "?");
        }
        json_decref(pending);
        rt_poll_pause(100);
    }
}

/* Waits (deadline) until the receiver has at least n requests. */
static void wait_requests(struct rt_hook *hook, size_t n)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;

    while (rt_hook_count(hook) < n) {
        if (rt_now_ms() > deadline)
            fail_msg("the receiver got %zu requests, want %zu", rt_hook_count(hook), n);
        rt_poll_pause(20);
    }
}

static const char *event_of(const json_t *message)
{
    return rt_sync_str(message, "event");
}

/* Messages of `event` in all. */
static size_t count_event(const json_t *all, const char *event)
{
    size_t i, n = 0;
    json_t *m;

    json_array_foreach(all, i, m) n += strcmp(event_of(m), event) == 0;
    return n;
}

/* The receiver saw exactly the messages of all (by webhook-id), each validly signed. */
static void expect_same_ids(const json_t *all, const struct rt_hook_request *reqs, size_t n,
                            const char *secret)
{
    json_t *ids = json_object();
    size_t i;
    json_t *m;

    json_array_foreach(all, i, m)
    {
        assert_string_equal(rt_sync_str(m, "status"), "DELIVERED");
        json_object_set_new(ids, rt_sync_str(m, "id"), json_false());
    }
    for (i = 0; i < n; i++) {
        if (!json_object_get(ids, reqs[i].id))
            fail_msg("the receiver got a webhook-id rosterd does not know: \"%s\"", reqs[i].id);
        if (!rt_hook_signed_by(&reqs[i], secret))
            fail_msg("request %zu (%s) is not validly signed", i, reqs[i].id);
        assert_string_equal(reqs[i].content_type, "application/json");
        json_object_set_new(ids, reqs[i].id, json_true());
    }
    const char *id;
    json_t *seen;
    json_object_foreach(ids, id, seen)
    {
        if (!json_is_true(seen))
            fail_msg("message %s never reached the receiver", id);
    }
    json_decref(ids);
}

/* When the receiver first answered id at once with a 2xx (-1: never). */
static long long first_ok(const struct rt_hook_request *reqs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (!reqs[i].late && reqs[i].status / 100 == 2 && strcmp(reqs[i].id, id) == 0)
            return reqs[i].at_ms;
    }
    return -1;
}

/* The received body of message id (borrowed from reqs), or NULL. */
static const json_t *body_of(const struct rt_hook_request *reqs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(reqs[i].id, id) == 0 && reqs[i].json)
            return reqs[i].json;
    }
    return NULL;
}

/* ---- faults, order, signatures -------------------------------------------------------------- */

/*
 * The receiver is down while the account is linked and synced twice, then answers 500, then
 * answers later than the timeout, then recovers. Everything arrives, signed, in commit order
 * per sync: the first sync's events before its sync_completed, both before the second sync's.
 */
static void test_faults_then_everything_in_order(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    struct rt_hook_request *reqs;
    char body[512];
    size_t n, i;
    json_t *all, *m, *truth, *sync;
    long long first_sync_done = 0, second_sync_start = -1, completed_first = -1;
    int index;

    double succeeded = rt_sync_metric(&env, "roster_webhook_attempts_total{result=\"success\"}");
    double failed = rt_sync_metric(&env, "roster_webhook_attempts_total{result=\"failure\"}");

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    truth = rt_sbx_truth(&env);
    index = rt_sbx_pick(truth, -1, NULL, 0);
    json_decref(rt_sbx_edit(&env, "PATCH", index, "", "{\"title\":\"Webhook Tester (e2e)\"}"));
    sync = rt_sync_expect(&env, &acct, "INCREMENTAL", "DONE");
    json_decref(sync);
    /* everything is committed and waiting: the receiver has refused every connection */
    assert_int_equal(rt_hook_count(hook), 0);
    rt_hook_set(hook, RT_HOOK_STATUS, 500, 0, 0);
    wait_requests(hook, 3);
    rt_hook_set(hook, RT_HOOK_SLOW, 0, 1500, 0);
    wait_requests(hook, rt_hook_count(hook) + 2);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    all = wait_delivered(&ep, 2 * EMPLOYEES);
    reqs = rt_hook_requests(hook, &n);
    expect_same_ids(all, reqs, n, ep.secret);
    /* /metrics counts every recorded attempt: one success per message, the 500s and timeouts */
    assert_true(rt_sync_metric(&env, "roster_webhook_attempts_total{result=\"success\"}") -
                    succeeded >=
                (double)json_array_size(all));
    assert_true(
        rt_sync_metric(&env, "roster_webhook_attempts_total{result=\"failure\"}") - failed >= 5);
    /* what the two syncs changed, each announced */
    assert_int_equal(count_event(all, "LinkedAccount.linked"), 1);
    assert_int_equal(count_event(all, "Employee.added"), EMPLOYEES);
    assert_int_equal(count_event(all, "Employment.added"), EMPLOYEES);
    assert_int_equal(count_event(all, "LinkedAccount.sync_completed"), 2);
    assert_true(count_event(all, "Employment.changed") >= 1);
    /* commit order: the first sync's data, then its sync_completed, then the second sync */
    json_array_foreach(all, i, m)
    {
        long long at = first_ok(reqs, n, rt_sync_str(m, "id"));
        const json_t *b = body_of(reqs, n, rt_sync_str(m, "id"));
        bool initial = json_is_true(json_object_get(json_object_get(b, "data"), "is_initial_sync"));

        assert_true(at > 0);
        if (strstr(event_of(m), ".added") || strcmp(event_of(m), "LinkedAccount.linked") == 0)
            first_sync_done = at > first_sync_done ? at : first_sync_done;
        else if (strcmp(event_of(m), "LinkedAccount.sync_completed") == 0 && initial)
            completed_first = at;
        else if (second_sync_start < 0 || at < second_sync_start)
            second_sync_start = at;
    }
    assert_true(completed_first >= first_sync_done);
    assert_true(second_sync_start >= completed_first);
    /* the faults were seen: 500s, and late answers, before the successes */
    bool saw_500 = false, saw_late = false;
    for (i = 0; i < n; i++) {
        saw_500 = saw_500 || reqs[i].status == 500;
        saw_late = saw_late || reqs[i].late;
    }
    assert_true(saw_500 && saw_late);
    rt_hook_requests_free(reqs, n);
    json_decref(all);
    json_decref(truth);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

/* ---- a crash mid-delivery ---------------------------------------------------------------------
 */

/*
 * rosterd again on the same database, with the settings (and master key) of the first, and
 * `more` (NULL: none) on top.
 */
static void restart_rosterd_with(const char *more)
{
    const char *all[16] = {"ROSTER_SYNC_WORKERS=2", "ROSTER_SYNC_POLL_MS=100",
                           "ROSTER_UPSTREAM_MAX_ATTEMPTS=3", "ROSTER_UPSTREAM_TIMEOUT_MS=10000"};
    struct rt_rosterd_opts opts = {
        .database_url = env.conninfo, .allow_private_upstreams = true, .extra_env = all};
    size_t n = 4;

    for (size_t i = 0; extra[i] && n + 2 < 16; i++)
        all[n++] = extra[i];
    all[n] = more;
    assert_int_equal(rt_proc_start_rosterd(&opts, &env.rosterd), RS_OK);
}

static void restart_rosterd(void)
{
    restart_rosterd_with(NULL);
}

/* SIGTERM, and waits until rosterd has ended, cleanly. */
static void stop_rosterd(void)
{
    int status = 0;

    assert_int_equal(rt_proc_signal(env.rosterd, SIGTERM), RS_OK);
    assert_int_equal(rt_proc_wait(env.rosterd, 30000, &status), RS_OK);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("rosterd ended with status 0x%x after SIGTERM", status);
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
}

static void kill_rosterd(void)
{
    int status = 0;

    assert_int_equal(rt_proc_signal(env.rosterd, SIGKILL), RS_OK);
    assert_int_equal(rt_proc_wait(env.rosterd, 10000, &status), RS_OK);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("rosterd ended with status 0x%x, not by SIGKILL", status);
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
}

/*
 * The receiver answers after 600 ms (within the timeout) while an initial sync's events go
 * out; rosterd is killed with deliveries in flight, then restarted: the messages it had not
 * recorded are sent again, with the webhook-id they had, and nothing is missing.
 */
static void test_kill_mid_delivery(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    struct rt_hook_request *reqs;
    char body[512];
    size_t n, again = 0, before_kill;
    long long killed_at;
    json_t *all, *seen;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_SLOW, 0, 600, 0);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    wait_requests(hook, 12); /* some answered, 8 more in flight (2 dispatchers x 4) */
    kill_rosterd();
    killed_at = rt_now_ms();
    before_kill = rt_hook_count(hook);
    restart_rosterd();
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    all = wait_delivered(&ep, 2 * EMPLOYEES);
    reqs = rt_hook_requests(hook, &n);
    expect_same_ids(all, reqs, n, ep.secret);
    /* what was in flight at the kill came again, under the same webhook-id */
    seen = json_object();
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(seen, reqs[i].id)) {
            again++;
            assert_true(json_integer_value(json_object_get(seen, reqs[i].id)) < killed_at);
        }
        json_object_set_new(seen, reqs[i].id, json_integer(reqs[i].at_ms));
    }
    if (again == 0)
        fail_msg("no message was sent again after the restart (%zu requests before the kill)",
                 before_kill);
    assert_int_equal(json_object_size(seen), json_array_size(all));
    json_decref(seen);
    rt_hook_requests_free(reqs, n);
    json_decref(all);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

/* ---- nothing from a failed sync ------------------------------------------------------------- */

static void test_failed_sync_emits_nothing(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    char body[512];
    size_t before, requests;
    json_t *all, *sync, *truth;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    all = wait_delivered(&ep, 2 * EMPLOYEES);
    before = json_array_size(all);
    json_decref(all);
    requests = rt_hook_count(hook);
    /* a change the failed sync would have carried, had it been applied */
    truth = rt_sbx_truth(&env);
    json_decref(rt_sbx_edit(&env, "PATCH", rt_sbx_pick(truth, -1, NULL, 0), "",
                            "{\"title\":\"Never Announced (e2e)\"}"));
    rt_sbx_fault(&env, "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":500,"
                       "\"count\":1000}");
    sync = rt_sync_expect(&env, &acct, "FULL", "FAILED");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    /* the outcome is committed: anything it wrote would be listed now */
    all = messages(&ep, NULL);
    assert_int_equal(json_array_size(all), before);
    assert_int_equal(rt_hook_count(hook), requests);
    json_decref(all);
    json_decref(sync);
    json_decref(truth);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

/* ---- a redirect is a failure; Retry-After is honoured ---------------------------------------- */

/* The pending messages of ep once one has a failed attempt answered `status` (deadline). */
static json_t *wait_failed_with(const struct rt_hook_endpoint *ep, int status)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;

    for (;;) {
        json_t *all = messages(ep, "status=PENDING");

        for (size_t i = 0; i < json_array_size(all); i++) {
            const json_t *last = json_object_get(json_array_get(all, i), "last_attempt");

            if (json_integer_value(json_object_get(last, "status_code")) == status) {
                assert_string_equal(rt_sync_str(last, "result"), "FAILURE");
                return all;
            }
        }
        json_decref(all);
        if (rt_now_ms() > deadline)
            fail_msg("no attempt to %s was answered %d", ep->id, status);
        rt_poll_pause(50);
    }
}

/*
 * A 307 to a working receiver is a failed attempt, not followed; a 503 with Retry-After: 30
 * puts the next attempt at least 30 s later, though the schedule says 100 ms.
 */
static void test_redirect_fails_and_retry_after_waits(void **state)
{
    struct rt_hook *moved = NULL, *target = NULL, *busy = NULL;
    struct rt_hook_endpoint m, b;
    struct rt_sync_account acct;
    struct rt_hook_request *reqs;
    char body[512];
    size_t n;
    json_t *all;

    (void)state;
    assert_int_equal(rt_hook_start(&moved), RS_OK);
    assert_int_equal(rt_hook_start(&target), RS_OK);
    assert_int_equal(rt_hook_start(&busy), RS_OK);
    rt_hook_set(target, RT_HOOK_UP, 0, 0, 0);
    rt_hook_set_location(moved, rt_hook_url(target));
    rt_hook_set(moved, RT_HOOK_STATUS, 307, 0, 0);
    rt_hook_set(busy, RT_HOOK_STATUS, 503, 0, 30);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(moved));
    rt_hook_endpoint_create(&env, body, &m);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(busy));
    rt_hook_endpoint_create(&env, body, &b);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    json_decref(wait_failed_with(&m, 307));
    assert_int_equal(rt_hook_count(target), 0);
    all = wait_failed_with(&b, 503);
    /* the one that failed waits 30 s (jitter only lengthens it), the rest behind it */
    for (size_t i = 0; i < json_array_size(all); i++) {
        const json_t *msg = json_array_get(all, i), *last = json_object_get(msg, "last_attempt");
        int64_t at_us = 0, next_us = 0;

        if (json_integer_value(json_object_get(last, "status_code")) != 503)
            continue;
        assert_int_equal(rs_time_parse(rt_sync_str(last, "attempted_at"), &at_us), RS_OK);
        assert_int_equal(rs_time_parse(rt_sync_str(msg, "next_attempt_at"), &next_us), RS_OK);
        assert_true(next_us - at_us >= INT64_C(30000000));
    }
    json_decref(all);
    /* and nothing came to the busy receiver meanwhile beyond the first attempts */
    reqs = rt_hook_requests(busy, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(reqs[i].id, reqs[0].id) != 0 || reqs[i].at_ms - reqs[0].at_ms >= 30000);
    rt_hook_requests_free(reqs, n);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", m.id));
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", b.id));
    rt_hook_stop(moved);
    rt_hook_stop(target);
    rt_hook_stop(busy);
}

/* ---- 410: disabled, Issue.new, enabled again ------------------------------------------------ */

/* The endpoint, as the API shows it, once its enabled flag is `enabled` (deadline). */
static json_t *wait_enabled(const struct rt_hook_endpoint *ep, bool enabled)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;

    for (;;) {
        json_t *got = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS "/%s", ep->id);

        if (json_is_true(json_object_get(got, "enabled")) == enabled)
            return got;
        json_decref(got);
        if (rt_now_ms() > deadline)
            fail_msg("endpoint %s never became %s", ep->id, enabled ? "enabled" : "disabled");
        rt_poll_pause(50);
    }
}

/* The data of the first delivered message of `event` to ep (new reference); waits for it. */
static json_t *delivered_data(const struct rt_hook_endpoint *ep, const char *event)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;
    char query[96];

    snprintf(query, sizeof(query), "status=DELIVERED&event=%s", event);
    for (;;) {
        json_t *found = messages(ep, query);

        if (json_array_size(found) > 0) {
            json_t *m = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS "/%s/messages/%s",
                                     ep->id, rt_sync_str(json_array_get(found, 0), "id"));
            json_t *data = json_incref(json_object_get(json_object_get(m, "payload"), "data"));

            json_decref(m);
            json_decref(found);
            return data;
        }
        json_decref(found);
        if (rt_now_ms() > deadline)
            fail_msg("no %s was delivered to %s", event, ep->id);
        rt_poll_pause(50);
    }
}

/* A receiver answering `status` behind endpoint *bad, one for the Issue events behind *watcher. */
struct disabling {
    struct rt_hook *bad, *ops;
    struct rt_hook_endpoint ep, watcher;
};

/* Starts both receivers, creates their endpoints and links an account (its events go out). */
static void disabling_start(struct disabling *t, int status)
{
    struct rt_sync_account acct;
    char body[512];

    assert_int_equal(rt_hook_start(&t->bad), RS_OK);
    assert_int_equal(rt_hook_start(&t->ops), RS_OK);
    rt_hook_set(t->bad, RT_HOOK_STATUS, status, 0, 0);
    rt_hook_set(t->ops, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body), "{\"url\":\"%s\"}", rt_hook_url(t->bad));
    rt_hook_endpoint_create(&env, body, &t->ep);
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":[\"Issue.new\",\"Issue.resolved\"]}",
             rt_hook_url(t->ops));
    rt_hook_endpoint_create(&env, body, &t->watcher);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
}

/*
 * Waits until the endpoint is disabled with a reason holding `reason`; then the watcher must
 * get an ongoing ENDPOINT_DISABLED Issue.new naming it, and its pending messages be parked.
 */
static void expect_disabled(const struct disabling *t, const char *reason)
{
    json_t *got = wait_enabled(&t->ep, false), *issue, *all;

    assert_non_null(strstr(rt_sync_str(got, "disabled_reason"), reason));
    json_decref(got);
    issue = delivered_data(&t->watcher, "Issue.new");
    assert_string_equal(rt_sync_str(issue, "webhook_endpoint_id"), t->ep.id);
    assert_string_equal(rt_sync_str(issue, "status"), "ONGOING");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(issue, "error_details"), 0)),
        "ENDPOINT_DISABLED");
    json_decref(issue);
    all = messages(&t->ep, "status=PENDING");
    assert_true(json_array_size(all) > 0);
    for (size_t i = 0; i < json_array_size(all); i++)
        assert_true(json_is_true(json_object_get(json_array_get(all, i), "parked")));
    json_decref(all);
}

static void disabling_stop(struct disabling *t)
{
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", t->ep.id));
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", t->watcher.id));
    rt_hook_stop(t->bad);
    rt_hook_stop(t->ops);
}

static void test_gone_disables_and_raises_an_issue(void **state)
{
    struct disabling t;
    json_t *all, *issue;

    (void)state;
    disabling_start(&t, 410);
    expect_disabled(&t, "410");
    /* enabled again, its parked messages go out and the Issue is resolved */
    rt_hook_set(t.bad, RT_HOOK_UP, 0, 0, 0);
    json_decref(
        rt_sync_call(&env, NULL, "PATCH", "{\"enabled\":true}", 200, ENDPOINTS "/%s", t.ep.id));
    /* at least LinkedAccount.linked (the sync may have committed after the 410) */
    all = wait_delivered(&t.ep, 1);
    json_decref(all);
    issue = delivered_data(&t.watcher, "Issue.resolved");
    assert_string_equal(rt_sync_str(issue, "status"), "RESOLVED");
    json_decref(issue);
    disabling_stop(&t);
}

/* ---- days of failures: disabled, Issue.new ------------------------------------------------- */

/*
 * An endpoint whose every delivery fails for webhook_disable_after_s (here 2 s instead of 5
 * days) is disabled, its messages parked (none dead), and an Issue.new goes to the
 * organization's other endpoint, which stays enabled.
 */
static void test_failing_for_days_disables(void **state)
{
    struct disabling t;
    json_t *dead;

    (void)state;
    stop_rosterd();
    restart_rosterd_with("ROSTER_WEBHOOK_DISABLE_AFTER_S=2");
    disabling_start(&t, 500);
    expect_disabled(&t, "every delivery failed since");
    /* more than one attempt failed, over at least the 2 s; this rosterd's counters say so */
    assert_true(rt_hook_count(t.bad) >= 2);
    assert_true(rt_sync_metric(&env, "roster_webhook_endpoints_disabled_total") == 1);
    assert_true(rt_sync_metric(&env, "roster_webhook_attempts_total{result=\"failure\"}") >= 2);
    dead = messages(&t.ep, "status=DEAD");
    assert_int_equal(json_array_size(dead), 0);
    json_decref(dead);
    json_decref(wait_enabled(&t.watcher, true));
    disabling_stop(&t);
    stop_rosterd();
    restart_rosterd();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_then_everything_in_order),
        cmocka_unit_test(test_kill_mid_delivery),
        cmocka_unit_test(test_failed_sync_emits_nothing),
        cmocka_unit_test(test_redirect_fails_and_retry_after_waits),
        cmocka_unit_test(test_gone_disables_and_raises_an_issue),
        cmocka_unit_test(test_failing_for_days_disables),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
