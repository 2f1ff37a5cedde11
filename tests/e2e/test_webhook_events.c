/*
 * End to end, what webhooks say: the endpoints API (validation, the secret shown once,
 * organizations kept apart, private URLs refused unless allowed), events as Merge names and
 * shapes them (a sandbox hire, change, termination and deletion as Employee.added, .changed,
 * .changed, .removed, each carrying the record exactly as the read API serves it), the initial
 * sync's .added (and none for an endpoint that opted out), event filters, secret rotation (both
 * signatures during the grace period), the delivery log, replay with the original webhook-id,
 * and LinkedAccount.deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "rt_api.h"
#include "rt_hook.h"
#include "rt_http.h"
#include "rt_proc.h"
#include "rt_sync.h"

#define EMPLOYEES        20
#define SEED             2
#define DELIVER_DEADLINE 90000
#define ENDPOINTS        "/api/admin/v1/webhook-endpoints"

static struct rt_sync_env env;
static const char *extra[] = {"ROSTER_WEBHOOK_POLL_MS=100", "ROSTER_WEBHOOK_TIMEOUT_MS=2000",
                              "ROSTER_WEBHOOK_RETRY_SCHEDULE_MS=100,200,400,800,1600", NULL};
static bool teardown_failed;

static int group_setup(void **state)
{
    (void)state;
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

/* POSTs body to the endpoints API with key; the answer must be a 400 naming param. */
static void expect_refused(const char *key, const char *body, const char *param, const char *needle)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    rt_api_send("POST", rt_api_url(url, env.rosterd, ENDPOINTS), key, body, &r);
    rt_api_expect_error(&r, 400, param, body);
    if (needle && !strstr(r.body, needle))
        fail_msg("the 400 for %s does not mention %s: %s", body, needle, r.body);
    rt_resp_cleanup(&r);
}

/* Waits (deadline) until the receiver has a request whose event is `event` for the record or
   account id (NULL: any); returns its index in a fresh snapshot (*reqs, *n). */
static size_t wait_event(struct rt_hook *hook, const char *event, const char *id,
                         struct rt_hook_request **reqs, size_t *n)
{
    long long deadline = rt_now_ms() + DELIVER_DEADLINE;

    for (;;) {
        *reqs = rt_hook_requests(hook, n);
        for (size_t i = 0; i < *n; i++) {
            const json_t *hook_obj = json_object_get((*reqs)[i].json, "hook");
            const json_t *data = json_object_get((*reqs)[i].json, "data");

            if (strcmp(rt_sync_str(hook_obj, "event") ? rt_sync_str(hook_obj, "event") : "",
                       event) == 0 &&
                (!id || (rt_sync_str(data, "id") && strcmp(rt_sync_str(data, "id"), id) == 0)))
                return i;
        }
        rt_hook_requests_free(*reqs, *n);
        if (rt_now_ms() > deadline)
            fail_msg("no %s for %s arrived", event, id ? id : "anything");
        rt_poll_pause(50);
    }
}

/* How many requests of event the receiver has got. */
static size_t count_event(struct rt_hook *hook, const char *event)
{
    size_t n, found = 0;
    struct rt_hook_request *reqs = rt_hook_requests(hook, &n);

    for (size_t i = 0; i < n; i++)
        found += strcmp(rt_sync_str(json_object_get(reqs[i].json, "hook"), "event")
                            ? rt_sync_str(json_object_get(reqs[i].json, "hook"), "event")
                            : "",
                        event) == 0;
    rt_hook_requests_free(reqs, n);
    return found;
}

/* The event's data is the employee exactly as GET /api/hris/v1/employees/{id} serves it. */
static void expect_as_read_api(const struct rt_sync_account *acct, const json_t *data)
{
    json_t *served = rt_sync_call(&env, acct, "GET", NULL, 200, "/api/hris/v1/employees/%s",
                                  rt_sync_str(data, "id"));

    if (!json_equal(served, data)) {
        char *a = json_dumps(data, JSON_COMPACT), *b = json_dumps(served, JSON_COMPACT);
        fail_msg("event data %s\n  differs from the read API's %s", a, b);
    }
    json_decref(served);
}

/* ---- the endpoints API ------------------------------------------------------------------------
 */

static void test_endpoints_api(void **state)
{
    struct rt_hook_endpoint ep;
    char *other = rt_api_create_org(env.conninfo, "Webhooks other org");
    char url[RT_API_URL_MAX], *listed;
    struct rt_resp r = {0};
    json_t *got, *list;

    (void)state;
    assert_non_null(other);
    expect_refused(env.key, "{}", "url", NULL);
    expect_refused(env.key, "{\"url\":\"ftp://93.184.216.34/x\"}", "url", NULL);
    expect_refused(env.key, "{\"url\":\"https://93.184.216.34/x\",\"events\":[\"Employee.hired\"]}",
                   "events", "Employee.hired");
    expect_refused(env.key, "{\"url\":\"https://93.184.216.34/x\",\"events\":[]}", "events", NULL);
    expect_refused(env.key, "{\"url\":\"https://93.184.216.34/x\",\"event\":\"Employee.added\"}",
                   "event", NULL);
    expect_refused(env.key, "{\"url\":\"https://93.184.216.34/x\",\"enabled\":\"yes\"}", "enabled",
                   NULL);
    rt_hook_endpoint_create(
        &env,
        "{\"url\":\"https://93.184.216.34/hooks\",\"events\":[\"Employee.added\","
        "\"Issue.new\"],\"initial_sync_events\":false}",
        &ep);
    /* the secret is shown once: never by get or list */
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS "/%s", ep.id);
    assert_null(json_object_get(got, "secret"));
    assert_false(json_is_true(json_object_get(got, "initial_sync_events")));
    assert_int_equal(json_array_size(json_object_get(got, "events")), 2);
    json_decref(got);
    list = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS);
    assert_int_equal(json_array_size(json_object_get(list, "results")), 1);
    listed = json_dumps(list, 0);
    assert_null(strstr(listed, "whsec_"));
    free(listed);
    json_decref(list);
    /* events null: every type */
    got = rt_sync_call(&env, NULL, "PATCH", "{\"events\":null}", 200, ENDPOINTS "/%s", ep.id);
    assert_true(json_is_null(json_object_get(got, "events")));
    json_decref(got);
    /* another organization sees nothing of it */
    rt_api_get(rt_api_url(url, env.rosterd, ENDPOINTS "/%s", ep.id), other, NULL, &r);
    rt_api_expect_error(&r, 404, NULL, "another organization's endpoint");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.rosterd, ENDPOINTS "/not-a-uuid"), env.key, NULL, &r);
    rt_api_expect_error(&r, 400, "id", "a malformed id");
    rt_resp_cleanup(&r);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    json_decref(rt_sync_call(&env, NULL, "GET", NULL, 404, ENDPOINTS "/%s", ep.id));
    free(other);
}

/* Without ROSTER_ALLOW_PRIVATE_UPSTREAMS, loopback and private targets are refused. */
static void test_private_targets_refused(void **state)
{
    const char *quiet[] = {"ROSTER_SYNC_WORKERS=0", "ROSTER_WEBHOOK_DISPATCHERS=0", NULL};
    struct rt_rosterd_opts opts = {.database_url = env.conninfo, .extra_env = quiet};
    struct rt_proc *strict = NULL;
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    static const char *const refused[] = {
        "{\"url\":\"http://127.0.0.1:9999/hooks\"}", "{\"url\":\"http://localhost/hooks\"}",
        "{\"url\":\"http://10.0.0.7/hooks\"}", "{\"url\":\"http://169.254.169.254/latest\"}"};

    (void)state;
    assert_int_equal(rt_proc_start_rosterd(&opts, &strict), RS_OK);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        rt_api_send("POST", rt_api_url(url, strict, ENDPOINTS), env.key, refused[i], &r);
        rt_api_expect_error(&r, 400, "url", refused[i]);
        rt_resp_cleanup(&r);
    }
    rt_proc_stop(strict, 15000);
    assert_true(rt_proc_exited_cleanly(strict));
    rt_proc_free(strict);
}

/* ---- Merge's events for what happens in the HRIS ------------------------------------------------
 */

/* The stored employee id of sandbox person index (fails when there is none). */
static void employee_id(const struct rt_sync_account *acct, int index, char out[64])
{
    json_t *truth = rt_sbx_truth(&env), *employees = rt_sync_employees(&env, acct, "remote_id");

    snprintf(out, 64, "%s",
             rt_sync_str(rt_sync_stored(acct, employees, rt_sbx_person(truth, index)), "id"));
    json_decref(truth);
    json_decref(employees);
}

/* The data of the request of event for record id, which must equal the read API's record. */
static json_t *expect_event(struct rt_hook *hook, const struct rt_sync_account *acct,
                            const struct rt_hook_endpoint *ep, const char *event, const char *id)
{
    struct rt_hook_request *reqs;
    size_t n, i = wait_event(hook, event, id, &reqs, &n);
    json_t *data = json_incref(json_object_get(reqs[i].json, "data"));
    const json_t *la = json_object_get(reqs[i].json, "linked_account");

    assert_true(rt_hook_signed_by(&reqs[i], ep->secret));
    assert_string_equal(rt_sync_str(json_object_get(reqs[i].json, "hook"), "id"), ep->id);
    assert_string_equal(rt_sync_str(la, "id"), acct->id);
    assert_string_equal(rt_sync_str(la, "integration_slug"), "bamboohr");
    expect_as_read_api(acct, data);
    rt_hook_requests_free(reqs, n);
    return data;
}

/*
 * An endpoint that wants Employee events and sync_completed only: the initial sync announces
 * every employee with .added; a hire is .added, a department change and a termination are
 * .changed, a deletion (seen by a full sync) is .removed; the data is each time the record as
 * GET /employees/{id} serves it. Nothing of the filtered-out types arrives.
 */
static void test_employee_lifecycle(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    char body[512], id[64];
    json_t *truth, *hire, *data, *sync;
    int changed, terminated, deleted;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body),
             "{\"url\":\"%s\",\"events\":[\"Employee.added\",\"Employee.changed\","
             "\"Employee.removed\",\"LinkedAccount.sync_completed\"]}",
             rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    truth = rt_sbx_truth(&env);
    changed = rt_sbx_pick(truth, -1, NULL, 0);
    terminated = rt_sbx_pick(truth, changed, NULL, 0);
    deleted = rt_sbx_pick(truth, terminated, NULL, 0);
    /* the initial sync: every employee, and an initial sync_completed */
    employee_id(&acct, changed, id);
    json_decref(expect_event(hook, &acct, &ep, "Employee.added", id));
    {
        struct rt_hook_request *reqs;
        size_t n, i = wait_event(hook, "LinkedAccount.sync_completed", NULL, &reqs, &n);
        const json_t *d = json_object_get(reqs[i].json, "data");

        assert_true(json_is_true(json_object_get(d, "is_initial_sync")));
        assert_string_equal(rt_sync_str(d, "integration_id"), "bamboohr");
        assert_string_equal(
            rt_sync_str(json_object_get(json_object_get(d, "sync_status"), "hris.Employee"),
                        "last_sync_result"),
            "DONE");
        rt_hook_requests_free(reqs, n);
    }
    assert_int_equal(count_event(hook, "Employee.added"), EMPLOYEES);
    /* a hire */
    hire = rt_sbx_call(&env, "POST", "/employees",
                       "{\"first_name\":\"Hook\",\"last_name\":\"Newhire\","
                       "\"email\":\"hook.newhire.e2e@sandbox.example\","
                       "\"department\":\"Engineering\",\"title\":\"Engineer\",\"manager\":0}");
    json_decref(rt_sync_expect(&env, &acct, "INCREMENTAL", "DONE"));
    employee_id(&acct, (int)json_integer_value(json_object_get(hire, "index")), id);
    data = expect_event(hook, &acct, &ep, "Employee.added", id);
    assert_string_equal(rt_sync_str(data, "last_name"), "Newhire");
    json_decref(data);
    /* a change of department (the employee's groups) */
    json_decref(rt_sbx_edit(&env, "PATCH", changed, "", "{\"department\":\"Finance\"}"));
    json_decref(rt_sync_expect(&env, &acct, "INCREMENTAL", "DONE"));
    employee_id(&acct, changed, id);
    json_decref(expect_event(hook, &acct, &ep, "Employee.changed", id));
    /* a termination is a change: the employee is INACTIVE, not removed */
    json_decref(rt_sbx_edit(&env, "POST", terminated, "/terminate", "{}"));
    json_decref(rt_sync_expect(&env, &acct, "INCREMENTAL", "DONE"));
    employee_id(&acct, terminated, id);
    data = expect_event(hook, &acct, &ep, "Employee.changed", id);
    assert_string_equal(rt_sync_str(data, "employment_status"), "INACTIVE");
    json_decref(data);
    /* a deletion: the full sync that no longer sees the person removes them */
    employee_id(&acct, deleted, id);
    json_decref(rt_sbx_edit(&env, "DELETE", deleted, "", NULL));
    sync = rt_sync_expect(&env, &acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 1);
    json_decref(sync);
    data = expect_event(hook, &acct, &ep, "Employee.removed", id);
    assert_true(json_is_true(json_object_get(data, "remote_was_deleted")));
    json_decref(data);
    /* the filter: nothing else came (Employment, Group, … and LinkedAccount.linked) */
    assert_int_equal(count_event(hook, "Employment.added"), 0);
    assert_int_equal(count_event(hook, "LinkedAccount.linked"), 0);
    assert_int_equal(count_event(hook, "Employee.added"), EMPLOYEES + 1);
    json_decref(hire);
    json_decref(truth);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

/*
 * An endpoint with initial_sync_events false hears nothing of the initial sync's records, and of
 * a sync that changes nothing only its sync_completed.
 */
static void test_initial_sync_opt_out(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    char body[512], id[64];
    json_t *hire;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"initial_sync_events\":false}",
             rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    /* the initial sync is announced, its records are not */
    {
        struct rt_hook_request *reqs;
        size_t n;

        wait_event(hook, "LinkedAccount.sync_completed", NULL, &reqs, &n);
        rt_hook_requests_free(reqs, n);
    }
    assert_int_equal(count_event(hook, "LinkedAccount.linked"), 1);
    assert_int_equal(count_event(hook, "Employee.added"), 0);
    assert_int_equal(count_event(hook, "Employment.added"), 0);
    assert_int_equal(count_event(hook, "Group.added"), 0);
    /* later additions are announced */
    hire = rt_sbx_call(&env, "POST", "/employees",
                       "{\"first_name\":\"Later\",\"last_name\":\"Hire\","
                       "\"email\":\"later.hire.e2e@sandbox.example\",\"department\":\"Sales\","
                       "\"title\":\"Seller\",\"manager\":0}");
    json_decref(rt_sync_expect(&env, &acct, "INCREMENTAL", "DONE"));
    employee_id(&acct, (int)json_integer_value(json_object_get(hire, "index")), id);
    json_decref(expect_event(hook, &acct, &ep, "Employee.added", id));
    assert_int_equal(count_event(hook, "Employee.added"), 1);
    json_decref(hire);
    /* a sync that changes nothing emits its sync_completed and nothing else */
    {
        size_t before = rt_hook_count(hook),
               completed = count_event(hook, "LinkedAccount.sync_completed");
        long long deadline = rt_now_ms() + DELIVER_DEADLINE;
        json_t *sync = rt_sync_expect(&env, &acct, "FULL", "DONE");

        assert_int_equal(rt_sync_stat(sync, "Employee", "updated"), 0);
        json_decref(sync);
        while (count_event(hook, "LinkedAccount.sync_completed") == completed) {
            if (rt_now_ms() > deadline)
                fail_msg("the no-change sync's sync_completed never came");
            rt_poll_pause(50);
        }
        /* its record events, had there been any, would have been delivered first (groups) */
        assert_int_equal(rt_hook_count(hook), before + 1);
    }
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

/* ---- rotation, the delivery log, replay, LinkedAccount.deleted ------------------------------ */

/* The first request of message id at or after index from (-1: none). */
static long find_request(const struct rt_hook_request *reqs, size_t n, size_t from, const char *id)
{
    for (size_t i = from; i < n; i++) {
        if (strcmp(reqs[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

/*
 * After a rotation every delivery carries two v1 signatures, one per secret, and Merge's with
 * the new secret. The log shows each message's attempts; a replayed message comes again with
 * its webhook-id; a deleted account's LinkedAccount.deleted carries the account as it was.
 */
static void test_rotation_log_replay_deleted(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_hook_endpoint ep;
    struct rt_sync_account acct;
    struct rt_hook_request *reqs;
    char body[512], old_secret[128], msg_id[128];
    size_t n, i, before;
    long again;
    json_t *rotated, *attempts, *log, *replayed, *msg;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body),
             "{\"url\":\"%s\",\"events\":[\"LinkedAccount.linked\",\"LinkedAccount.deleted\","
             "\"LinkedAccount.sync_completed\"]}",
             rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &ep);
    snprintf(old_secret, sizeof(old_secret), "%s", ep.secret);
    rotated = rt_sync_call(&env, NULL, "POST", NULL, 200, ENDPOINTS "/%s/rotate-secret", ep.id);
    snprintf(ep.secret, sizeof(ep.secret), "%s", rt_sync_str(rotated, "secret"));
    assert_string_not_equal(ep.secret, old_secret);
    assert_non_null(rt_sync_str(rotated, "previous_secret_expires_at"));
    json_decref(rotated);
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
    i = wait_event(hook, "LinkedAccount.linked", NULL, &reqs, &n);
    assert_true(rt_hook_standard_signed(&reqs[i], ep.secret));
    assert_true(rt_hook_standard_signed(&reqs[i], old_secret));
    assert_true(rt_hook_merge_signed(&reqs[i], ep.secret));
    assert_non_null(strchr(reqs[i].signature, ' ')); /* two signatures */
    assert_false(json_is_true(json_object_get(json_object_get(reqs[i].json, "data"), "is_relink")));
    snprintf(msg_id, sizeof(msg_id), "%s", reqs[i].id);
    rt_hook_requests_free(reqs, n);
    /* the log: the message and its one successful attempt */
    msg = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS "/%s/messages/%s", ep.id, msg_id);
    assert_string_equal(rt_sync_str(msg, "event"), "LinkedAccount.linked");
    assert_string_equal(
        rt_sync_str(json_object_get(json_object_get(msg, "payload"), "hook"), "event"),
        "LinkedAccount.linked");
    json_decref(msg);
    attempts = rt_sync_call(&env, NULL, "GET", NULL, 200, ENDPOINTS "/%s/messages/%s/attempts",
                            ep.id, msg_id);
    assert_int_equal(json_array_size(json_object_get(attempts, "results")), 1);
    log = json_array_get(json_object_get(attempts, "results"), 0);
    assert_string_equal(rt_sync_str(log, "result"), "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(log, "status_code")), 204);
    assert_true(json_is_integer(json_object_get(log, "latency_ms")));
    json_decref(attempts);
    /* replay: the same webhook-id again */
    before = rt_hook_count(hook);
    replayed = rt_sync_call(&env, NULL, "POST", NULL, 202, ENDPOINTS "/%s/messages/%s/replay",
                            ep.id, msg_id);
    json_decref(replayed);
    for (long long deadline = rt_now_ms() + DELIVER_DEADLINE;;) {
        reqs = rt_hook_requests(hook, &n);
        again = find_request(reqs, n, before, msg_id);
        rt_hook_requests_free(reqs, n);
        if (again >= 0)
            break;
        if (rt_now_ms() > deadline)
            fail_msg("the replayed message %s did not come again", msg_id);
        rt_poll_pause(50);
    }
    /* replay everything since an hour ago: at least the linked event and the sync_completed */
    {
        time_t hour_ago = time(NULL) - 3600;
        struct tm tm;
        char since[64], req_body[128];
        json_t *answer;

        gmtime_r(&hour_ago, &tm);
        strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(req_body, sizeof(req_body), "{\"since\":\"%s\"}", since);
        answer = rt_sync_call(&env, NULL, "POST", req_body, 202, ENDPOINTS "/%s/replay", ep.id);
        assert_true(json_integer_value(json_object_get(answer, "replayed")) >= 2);
        json_decref(answer);
        json_decref(rt_sync_call(&env, NULL, "POST", "{\"since\":\"yesterday\"}", 400,
                                 ENDPOINTS "/%s/replay", ep.id));
    }
    /* LinkedAccount.deleted, with the account as it was */
    json_decref(
        rt_sync_call(&env, NULL, "DELETE", NULL, 204, "/api/admin/v1/linked-accounts/%s", acct.id));
    i = wait_event(hook, "LinkedAccount.deleted", NULL, &reqs, &n);
    assert_string_equal(rt_sync_str(json_object_get(reqs[i].json, "linked_account"), "id"),
                        acct.id);
    assert_string_equal(rt_sync_str(json_object_get(reqs[i].json, "data"), "id"), acct.id);
    rt_hook_requests_free(reqs, n);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, ENDPOINTS "/%s", ep.id));
    rt_hook_stop(hook);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints_api),
        cmocka_unit_test(test_private_targets_refused),
        cmocka_unit_test(test_employee_lifecycle),
        cmocka_unit_test(test_initial_sync_opt_out),
        cmocka_unit_test(test_rotation_log_replay_deleted),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
