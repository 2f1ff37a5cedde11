/*
 * End to end, the sync engine against a misbehaving roster-sandbox for BambooHR, Personio and
 * HiBob: a 429 is waited out (nothing reaches the provider before the reset), 5xx are retried
 * and then fail the sync with the data untouched, a malformed or cut page in the middle of a
 * listing fails it with nothing changed and nobody deleted, and revoked credentials put the
 * account to RELINK_NEEDED with no further syncs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "rt_sync.h"

#define EMPLOYEES    120
#define SEED         2
#define MAX_ATTEMPTS 3 /* ROSTER_UPSTREAM_MAX_ATTEMPTS, set by rt_sync_env_start */
#define ADMIN_LA     "/api/admin/v1/linked-accounts"
#define US_PER_SEC   INT64_C(1000000)

static struct rt_sync_env env;
static bool teardown_failed;

static int group_setup(void **state)
{
    (void)state;
    return rt_sync_env_start(&env, EMPLOYEES, SEED, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    if (rt_sync_env_stop(&env) != 0)
        teardown_failed = true;
    return teardown_failed ? -1 : 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void expect_unchanged(const struct rt_sync_account *acct, const json_t *before)
{
    json_t *now = rt_sync_employees(&env, acct, "id");
    const char *key;
    json_t *e;

    json_object_foreach(now, key, e)
    {
        if (json_is_true(json_object_get(e, "remote_was_deleted")))
            fail_msg("%s: employee %s was marked deleted by a failed sync", acct->prov->slug, key);
    }
    if (!json_equal(before, now))
        fail_msg("%s: a failed sync changed stored employees", acct->prov->slug);
    json_decref(now);
}

/* The armed fault fired exactly `fired` times. */
static void expect_fired(int fired)
{
    json_t *faults = rt_sbx_call(&env, "GET", "/faults", NULL);
    const json_t *first = json_array_get(json_object_get(faults, "faults"), 0);

    assert_int_equal(json_integer_value(json_object_get(first, "fired")), fired);
    json_decref(faults);
}

static void fault(const struct rt_sync_provider *prov, const char *path, const char *rest)
{
    char body[512];

    snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"path_contains\":\"%s\",%s}", prov->slug,
             path, rest);
    rt_sbx_fault(&env, body);
}

/*
 * Changes in the sandbox that a sync applied by mistake would show: a new title for person
 * `changed`, person `deleted` gone, one hire. Returns the hire (new reference).
 */
static json_t *pending_changes(int changed, int deleted)
{
    json_decref(rt_sbx_edit(&env, "PATCH", changed, "", "{\"title\":\"Changed (e2e)\"}"));
    json_decref(rt_sbx_edit(&env, "DELETE", deleted, "", NULL));
    return rt_sbx_call(&env, "POST", "/employees",
                       "{\"first_name\":\"Ada\",\"last_name\":\"Fault\","
                       "\"email\":\"ada.fault.e2e@sandbox.example\",\"department\":\"Sales\","
                       "\"title\":\"Hire\",\"manager\":0}");
}

/* After the faults are cleared, the next full sync applies the pending changes. */
static void expect_recovery(const struct rt_sync_account *acct, const json_t *hired)
{
    json_t *sync, *employees, *by_remote;
    char rid[64];

    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    sync = rt_sync_expect(&env, acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "inserted"), 1);
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 1);
    assert_true(rt_sync_stat(sync, "Employee", "updated") >= 1);
    employees = rt_sync_all(&env, acct, "employees", NULL);
    by_remote = rt_sync_by(employees, "remote_id");
    assert_non_null(json_object_get(by_remote, rt_sbx_remote_id(acct->prov, hired, rid)));
    json_decref(by_remote);
    json_decref(employees);
    json_decref(sync);
}

static void expect_reason(const struct rt_sync_account *acct, const json_t *sync,
                          const char *needle)
{
    const char *reason = rt_sync_str(sync, "reason");

    if (!reason || !strstr(reason, needle))
        fail_msg("%s: the reason \"%s\" does not mention \"%s\"", acct->prov->slug,
                 reason ? reason : "null", needle);
}

/* The sync-status of acct's first model (its page is stored in *page, new reference). */
static const json_t *first_status(const struct rt_sync_account *acct, json_t **page)
{
    *page = rt_sync_call(&env, acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    return json_array_get(json_object_get(*page, "results"), 0);
}

/* ---- 429 ----------------------------------------------------------------------------------- */

static void rate_limited(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *sync, *requests, *limited = NULL, *next = NULL, *item;
    size_t i;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    json_decref(rt_sbx_call(&env, "DELETE", "/requests", NULL));
    fault(prov, prov->records_path, "\"kind\":\"status\",\"status\":429,\"retry_after_s\":2");
    sync = rt_sync_expect(&env, &acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "unchanged"), EMPLOYEES);
    json_decref(sync);
    expect_fired(1);

    requests = rt_sbx_requests(&env);
    json_array_foreach(requests, i, item)
    {
        if (strcmp(rt_sync_str(item, "provider"), prov->slug) != 0)
            continue;
        if (limited && !next)
            next = item;
        if (!limited && json_integer_value(json_object_get(item, "status")) == 429)
            limited = item;
    }
    if (!limited || !next)
        fail_msg("%s: the log has no 429 followed by another request", prov->slug);
    {
        int64_t at = json_integer_value(json_object_get(limited, "time_us"));
        int64_t then = json_integer_value(json_object_get(next, "time_us"));

        fprintf(stderr, "%s: next request %.3f s after the 429\n", prov->slug,
                (double)(then - at) / 1e6);
        /* Retry-After: 2 (BambooHR, Personio), or x-ratelimit-reset = the 429's second + 2 */
        assert_true(then - at >= 2 * US_PER_SEC);
        if (strcmp(prov->slug, "hibob") == 0)
            assert_true(then >= (at / US_PER_SEC + 2) * US_PER_SEC);
        assert_non_null(strstr(rt_sync_str(next, "path"), prov->records_path));
        assert_int_equal(json_integer_value(json_object_get(next, "status")), 200);
    }
    json_array_foreach(requests, i, item)
    {
        /* Personio: the token of the initial sync is reused (sealed between syncs) */
        if (strstr(rt_sync_str(item, "path"), "/v1/auth"))
            fail_msg("%s: a token was asked for again: %s", prov->slug, rt_sync_str(item, "path"));
    }
    json_decref(requests);
}

/* ---- 5xx ----------------------------------------------------------------------------------- */

static void server_errors(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *before, *sync, *requests, *item, *page, *hired, *truth;
    const json_t *status;
    size_t i, hits = 0;
    int changed, deleted;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    before = rt_sync_employees(&env, &acct, "id");
    truth = rt_sbx_truth(&env);
    changed = rt_sbx_pick(truth, 2, NULL, 0);
    deleted = rt_sbx_pick(truth, changed, NULL, 0);
    json_decref(truth);
    hired = pending_changes(changed, deleted);
    json_decref(rt_sbx_call(&env, "DELETE", "/requests", NULL));
    fault(prov, prov->records_path, "\"kind\":\"status\",\"status\":500,\"count\":1000");

    sync = rt_sync_expect(&env, &acct, "FULL", "FAILED");
    expect_reason(&acct, sync, "HTTP 500");
    json_decref(sync);
    requests = rt_sbx_requests(&env);
    json_array_foreach(requests, i, item) hits +=
        strstr(rt_sync_str(item, "path"), prov->records_path) != NULL;
    assert_int_equal(hits, MAX_ATTEMPTS); /* retried, then given up */
    json_decref(requests);
    expect_fired(MAX_ATTEMPTS);
    expect_unchanged(&acct, before);
    status = first_status(&acct, &page);
    assert_string_equal(rt_sync_str(status, "last_sync_result"), "FAILED");
    assert_string_equal(rt_sync_str(status, "status"), "FAILED");
    json_decref(page);
    page = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s", acct.id);
    assert_string_equal(rt_sync_str(page, "status"), "COMPLETE"); /* a 500 is not a relink */
    json_decref(page);

    expect_recovery(&acct, hired);
    json_decref(hired);
    json_decref(before);
}

/* ---- a broken page in the middle of a listing --------------------------------------------- */

struct broken_page {
    int employees;        /* company size giving the provider a second page (or one) */
    const char *path;     /* path_contains of the page to break */
    const char *fault;    /* the fault's kind and position */
    int changed, deleted; /* indexes on the first and a later page */
    size_t pages_before;  /* good listing pages before the broken one */
};

static void broken_page(const struct rt_sync_provider *prov, const struct broken_page *b)
{
    struct rt_sync_account acct;
    json_t *before, *sync, *hired, *requests, *item;
    size_t i, listings = 0;
    const char *last = "";

    rt_sbx_reset(&env, b->employees, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    before = rt_sync_employees(&env, &acct, "id");
    assert_int_equal(json_object_size(before), b->employees);
    hired = pending_changes(b->changed, b->deleted);
    json_decref(rt_sbx_call(&env, "DELETE", "/requests", NULL));
    fault(prov, b->path, b->fault);

    sync = rt_sync_expect(&env, &acct, "FULL", "FAILED");
    expect_reason(&acct, sync, "JSON");
    json_decref(sync);
    expect_fired(1);
    /* good pages came before the broken one (their rows were staged, then dropped), and the
       broken one was the last the sync asked for */
    requests = rt_sbx_requests(&env);
    json_array_foreach(requests, i, item)
    {
        if (strstr(rt_sync_str(item, "path"), prov->records_path)) {
            listings++;
            last = rt_sync_str(item, "path");
        }
    }
    assert_int_equal(listings, b->pages_before + 1);
    assert_non_null(strstr(last, b->path));
    json_decref(requests);
    expect_unchanged(&acct, before);
    expect_recovery(&acct, hired);
    json_decref(hired);
    json_decref(before);
}

static void malformed_page(const struct rt_sync_provider *prov)
{
    /* BambooHR: pages of 1000, the second one cut in half */
    static const struct broken_page bamboohr = {
        1010, "/api/v2/datasets/employee/data", "\"kind\":\"truncate\",\"after\":1", 5, 1005, 1};
    /* Personio: pages of 100, the second one not JSON */
    static const struct broken_page personio = {160, "offset=100", "\"kind\":\"malformed\"",
                                                5,   150,          1};
    /* HiBob: one search answers everything */
    static const struct broken_page hibob = {
        EMPLOYEES, "/v1/people/search", "\"kind\":\"malformed\"", 5, 100, 0};

    broken_page(prov, strcmp(prov->slug, "bamboohr") == 0   ? &bamboohr
                      : strcmp(prov->slug, "personio") == 0 ? &personio
                                                            : &hibob);
}

/* ---- revoked credentials ------------------------------------------------------------------- */

static void revoked(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct, witness;
    json_t *before, *sync, *history, *page, *settings, *requests, *item;
    const json_t *status;
    char body[128];
    size_t i;
    bool auth_retried = false;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    before = rt_sync_employees(&env, &acct, "id");
    snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"kind\":\"revoke\"}", prov->slug);
    rt_sbx_fault(&env, body);

    sync = rt_sync_expect(&env, &acct, "FULL", "FAILED");
    expect_reason(&acct, sync, "relink");
    json_decref(sync);
    page = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s", acct.id);
    assert_string_equal(rt_sync_str(page, "status"), "RELINK_NEEDED");
    assert_non_null(rt_sync_str(page, "status_detail")); /* says why */
    assert_non_null(strstr(rt_sync_str(page, "status_detail"), "relink"));
    json_decref(page);
    if (strcmp(prov->slug, "personio") == 0) { /* the cached token died: a new one was asked */
        requests = rt_sbx_requests(&env);
        json_array_foreach(requests, i, item)
        {
            auth_retried =
                auth_retried || (strstr(rt_sync_str(item, "path"), "/v1/auth") &&
                                 json_integer_value(json_object_get(item, "status")) == 401);
        }
        assert_true(auth_retried);
        json_decref(requests);
    }
    expect_unchanged(&acct, before);

    /* nothing is scheduled for it, and nobody can queue one until it is relinked */
    settings = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s/sync-settings", acct.id);
    assert_true(json_is_null(json_object_get(settings, "next_sync_at")));
    json_decref(settings);
    status = first_status(&acct, &page);
    assert_string_equal(rt_sync_str(status, "status"), "DISABLED");
    assert_true(json_is_null(json_object_get(status, "next_sync_start")));
    json_decref(page);
    json_decref(rt_sync_call(&env, &acct, "POST", NULL, 409, "/api/hris/v1/sync-status/resync"));
    json_decref(rt_sync_call(&env, NULL, "POST", "{\"kind\":\"FULL\"}", 409, ADMIN_LA "/%s/syncs",
                             acct.id));

    /* the provider accepts the credentials again; workers keep scheduling (a witness account
       syncs), and still nothing is queued for the account that needs a relink */
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sync_link(&env, prov, &witness, NULL);
    history = rt_sync_history(&env, &acct);
    assert_int_equal(json_array_size(history), 2); /* the initial sync and the failed one */
    json_decref(history);
    page = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s", acct.id);
    assert_string_equal(rt_sync_str(page, "status"), "RELINK_NEEDED");
    json_decref(page);
    json_decref(before);
}

/* ---- one cmocka test per provider and behaviour ------------------------------------------- */

RT_SYNC_PER_PROVIDER(rate_limited)
RT_SYNC_PER_PROVIDER(server_errors)
RT_SYNC_PER_PROVIDER(malformed_page)
RT_SYNC_PER_PROVIDER(revoked)

int main(void)
{
    const struct CMUnitTest tests[] = {
        RT_SYNC_TESTS(rate_limited),
        RT_SYNC_TESTS(server_errors),
        RT_SYNC_TESTS(malformed_page),
        RT_SYNC_TESTS(revoked),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

    return failed || teardown_failed ? 1 : 0;
}
