/*
 * End to end, the API-key link flow through the hosted pages' form posts, as a browser without
 * script would do it: link-token → magic link → form → a wrong key (the error on the page,
 * nothing stored) → the right key (account COMPLETE, its first sync stores the sandbox's
 * employees) → one exchange of the public token; expired, used and revoked links; relink
 * keeping every id; regenerate; delete-account; another organization's key.
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

#include "rt_api.h"
#include "rt_hook.h"
#include "rt_link.h"
#include "rt_sync.h"

#define EMPLOYEES 40
#define SEED      3

static struct rt_sync_env env;

static int group_setup(void **state)
{
    (void)state;
    return rt_sync_env_start(&env, EMPLOYEES, SEED, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return rt_sync_env_stop(&env);
}

static void test_api_key_flow(void **state)
{
    json_t *link = rt_link_token(&env, NULL, "flow-1", "\"should_create_magic_link_url\":true");
    const char *token = rt_link_token_of(link), *magic = rt_sync_str(link, "magic_link_url");
    char path[256], header[512], *public_token;
    struct rt_resp r = {0};
    struct rt_sync_account acct;
    json_t *employees, *again;

    (void)state;
    assert_true(json_is_null(json_object_get(link, "integration_name")));
    snprintf(path, sizeof(path), "/link/%s", token);
    if (!magic || !strstr(magic, path))
        fail_msg("magic_link_url %s does not end with %s", magic ? magic : "null", path);
    /* the magic link opens the picker, with the security headers */
    rt_link_get(&env, path, "picker", &r);
    rt_api_expect_contains("picker", r.body, "/bamboohr\">BambooHR");
    assert_true(rt_resp_header(&r, "Content-Security-Policy", header, sizeof(header)));
    rt_api_expect_contains("CSP", header, "default-src 'none'");
    rt_api_expect_contains("CSP", header, "frame-ancestors 'none'");
    assert_true(rt_resp_header(&r, "Referrer-Policy", header, sizeof(header)));
    assert_string_equal(header, "no-referrer");
    assert_true(rt_resp_header(&r, "Cache-Control", header, sizeof(header)));
    assert_string_equal(header, "no-store");
    rt_resp_cleanup(&r);
    /* the server filters too (no script) */
    snprintf(path, sizeof(path), "/link/%s?q=bob", token);
    rt_link_get(&env, path, "picker", &r);
    rt_api_expect_contains("filtered picker", r.body, ">HiBob");
    assert_null(strstr(r.body, ">BambooHR"));
    rt_resp_cleanup(&r);

    /* a wrong key: the provider's refusal as a sentence, the form again, nothing stored */
    rt_link_post(&env, token, NULL, "not-the-key", "form-test-failed", &r);
    assert_true(rt_resp_header(&r, "X-Roster-Check-Result", header, sizeof(header)));
    assert_string_equal(header, "wrong_credentials");
    rt_api_expect_contains("wrong key", r.body, "BambooHR did not accept the API key");
    rt_api_expect_contains("subdomain kept", r.body, "value=\"acme\"");
    assert_null(strstr(r.body, "not-the-key"));
    rt_resp_cleanup(&r);
    assert_int_equal(rt_sync_sql_count(&env,
                                       "SELECT count(*) FROM linked_accounts WHERE "
                                       "end_user_origin_id = $1",
                                       "flow-1"),
                     0);
    /* a forged form token is refused before any test */
    rt_link_post(&env, token, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "sandbox",
                 "form-expired", &r);
    rt_resp_cleanup(&r);

    /* the right key: connected, a public token, exchanged once */
    public_token = rt_link_connect(&env, token);
    rt_link_exchange_into(&env, public_token, &rt_sync_bamboohr, &acct);
    again = rt_link_exchange(&env, NULL, public_token, 404);
    json_decref(again);
    free(rt_sync_wait_for(&env, &acct, NULL, "DONE"));
    employees = rt_sync_employees(&env, &acct, "id");
    assert_int_equal(json_object_size(employees), EMPLOYEES);
    json_decref(employees);
    /* the link worked once */
    snprintf(path, sizeof(path), "/link/%s", token);
    rt_link_get(&env, path, "used", &r);
    rt_api_expect_contains("used page", r.body, "already used");
    rt_api_expect_contains("used page", r.body, "new link from the app that sent it");
    rt_resp_cleanup(&r);
    /* bearer secrets in paths never reach the log */
    assert_false(rt_proc_log_contains(env.rosterd, token + 3));
    assert_false(rt_proc_log_contains(env.rosterd, public_token + 3));
    assert_true(rt_proc_log_contains(env.rosterd, "path=\"/link/lt_***/bamboohr\""));
    free(public_token);
    json_decref(link);
}

static void test_link_token_validation(void **state)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    static const struct {
        const char *body, *param;
    } bad[] = {
        {"{\"end_user_organization_name\":\"A\",\"end_user_origin_id\":\"x\",\"categories\":"
         "[\"hris\"]}",
         "end_user_email_address"},
        {"{\"end_user_email_address\":\"a@b\",\"end_user_organization_name\":\"A\","
         "\"end_user_origin_id\":\"x\",\"categories\":[\"ats\"]}",
         "categories"},
        {"{\"end_user_email_address\":\"a@b\",\"end_user_organization_name\":\"A\","
         "\"end_user_origin_id\":\"x\",\"categories\":[\"hris\"],\"link_expiry_mins\":29}",
         "link_expiry_mins"},
        {"{\"end_user_email_address\":\"a@b\",\"end_user_organization_name\":\"A\","
         "\"end_user_origin_id\":\"x\",\"categories\":[\"hris\"],\"link_expiry_mins\":10081}",
         "link_expiry_mins"},
        {"{\"end_user_email_address\":\"a@b\",\"end_user_organization_name\":\"A\","
         "\"end_user_origin_id\":\"x\",\"categories\":[\"hris\"],\"integration\":\"nope\"}",
         "integration"},
    };
    json_t *link;

    (void)state;
    rt_api_url(url, env.rosterd, "/api/hris/v1/link-token");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rt_api_send("POST", url, env.key, bad[i].body, &r);
        rt_api_expect_error(&r, 400, bad[i].param, bad[i].param);
        rt_resp_cleanup(&r);
    }
    rt_api_send("POST", url, NULL, bad[0].body, &r);
    rt_api_expect_error(&r, 401, NULL, "no API key");
    rt_resp_cleanup(&r);
    /* a preselected integration opens its form at once; no magic link unless asked */
    link = rt_link_token(&env, NULL, "valid-1",
                         "\"integration\":\"bamboohr\",\"link_expiry_mins\":30");
    assert_string_equal(rt_sync_str(link, "integration_name"), "BambooHR");
    assert_true(json_is_null(json_object_get(link, "magic_link_url")));
    snprintf(url, sizeof(url), "/link/%s", rt_link_token_of(link));
    rt_link_get(&env, url, "form", &r);
    rt_api_expect_contains("preselected", r.body, "Connect BambooHR");
    rt_api_expect_contains("form", r.body, "type=\"password\"");
    rt_resp_cleanup(&r);
    snprintf(url, sizeof(url), "/link/%s/hibob", rt_link_token_of(link));
    rt_link_get(&env, url, "no-provider", &r); /* not the preselected one */
    rt_resp_cleanup(&r);
    json_decref(link);
    rt_link_get(&env, "/link/lt_nosuchtokennosuchtokennosuchtokennosuchto", "unknown", &r);
    rt_api_expect_contains("unknown", r.body, "not valid");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.rosterd, "/link/static/link.css"), NULL, NULL, &r);
    rt_api_expect_status(&r, 200, "link.css");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.rosterd, "/link/static/layout.html"), NULL, NULL, &r);
    rt_api_expect_status(&r, 404, "the layout is not a file");
    rt_resp_cleanup(&r);
}

static void test_expired_and_revoked(void **state)
{
    json_t *expired = rt_link_token(&env, NULL, "exp-1", NULL);
    json_t *revoked = rt_link_token(&env, NULL, "rev-1", "\"should_create_magic_link_url\":true");
    char path[256], sql[512], *id;
    struct rt_resp r = {0};
    json_t *got, *reissued;

    (void)state;
    /* the clock is not waited for: the session's expiry is moved into the past */
    snprintf(sql, sizeof(sql),
             "UPDATE link_sessions SET expires_at = now() - interval '1 minute' WHERE "
             "end_user_origin_id = 'exp-1' RETURNING id");
    free(rt_sync_sql_value(&env, sql, NULL));
    snprintf(path, sizeof(path), "/link/%s", rt_link_token_of(expired));
    rt_link_get(&env, path, "expired", &r);
    rt_api_expect_contains("expired page", r.body, "This link has expired");
    rt_api_expect_contains("expired page", r.body, "new link from the app that sent it");
    rt_resp_cleanup(&r);
    rt_link_post(&env, rt_link_token_of(expired), "x", "sandbox", "expired", &r); /* no post */
    rt_resp_cleanup(&r);

    id = rt_sync_sql_value(&env, "SELECT id FROM link_sessions WHERE end_user_origin_id = $1",
                           "rev-1");
    got = rt_sync_call(&env, NULL, "POST", NULL, 200, "/api/admin/v1/link-tokens/%s/revoke", id);
    assert_string_equal(rt_sync_str(got, "status"), "REVOKED");
    json_decref(got);
    json_decref(
        rt_sync_call(&env, NULL, "POST", NULL, 409, "/api/admin/v1/link-tokens/%s/revoke", id));
    snprintf(path, sizeof(path), "/link/%s", rt_link_token_of(revoked));
    rt_link_get(&env, path, "revoked", &r);
    rt_api_expect_contains("revoked page", r.body, "This link was cancelled");
    rt_resp_cleanup(&r);
    /* re-issued: a new magic link for the same end user that works */
    reissued = rt_sync_call(&env, NULL, "POST", "{\"link_expiry_mins\":60}", 201,
                            "/api/admin/v1/link-tokens/%s/reissue", id);
    assert_string_equal(rt_sync_str(reissued, "reissued_from"), id);
    snprintf(path, sizeof(path), "/link/%s",
             rt_sync_str(json_object_get(reissued, "token"), "link_token"));
    if (!rt_sync_str(json_object_get(reissued, "token"), "magic_link_url"))
        fail_msg("a re-issued link has no magic_link_url");
    rt_link_get(&env, path, "picker", &r);
    rt_resp_cleanup(&r);
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, "/api/admin/v1/link-tokens/%s",
                       rt_sync_str(reissued, "id"));
    assert_string_equal(rt_sync_str(got, "status"), "ACTIVE");
    assert_int_equal(json_integer_value(json_object_get(got, "link_expiry_mins")), 60);
    assert_string_equal(rt_sync_str(got, "end_user_origin_id"), "rev-1");
    json_decref(got);
    got = rt_sync_call(&env, NULL, "GET", NULL, 200,
                       "/api/admin/v1/link-tokens?status=EXPIRED&end_user_origin_id=exp-1");
    assert_int_equal(json_array_size(json_object_get(got, "results")), 1);
    json_decref(got);
    json_decref(rt_sync_call(&env, NULL, "GET", NULL, 400, "/api/admin/v1/link-tokens?status=x"));
    free(id);
    json_decref(reissued);
    json_decref(expired);
    json_decref(revoked);
}

static void test_relink_keeps_ids(void **state)
{
    json_t *first = rt_link_token(&env, NULL, "relink-1", "\"integration\":\"bamboohr\"");
    json_t *second, *before, *info;
    struct rt_sync_account acct;
    char *public_token, *sync_id;

    (void)state;
    rt_link_connect_into(&env, rt_link_token_of(first), &rt_sync_bamboohr, &acct);
    sync_id = rt_sync_wait_for(&env, &acct, NULL, "DONE");
    before = rt_sync_employees(&env, &acct, "remote_id");
    /* a second link for the same end user and integration relinks that account */
    second = rt_link_token(&env, NULL, "relink-1", "\"integration\":\"bamboohr\"");
    info = rt_sync_call(&env, NULL, "GET", NULL, 200,
                        "/api/admin/v1/link-tokens?end_user_origin_id=relink-1&status=ACTIVE");
    assert_string_equal(
        rt_sync_str(json_array_get(json_object_get(info, "results"), 0), "linked_account_id"),
        acct.id);
    json_decref(info);
    public_token = rt_link_connect(&env, rt_link_token_of(second));
    rt_link_expect_relinked(&env, public_token, &acct, sync_id, before);
    /* the exchange gave a new account token: the old one stopped working */
    json_decref(rt_sync_call(&env, &acct, "GET", NULL, 401, "/api/hris/v1/account-details"));
    free(public_token);
    free(sync_id);
    json_decref(before);
    json_decref(first);
    json_decref(second);
}

/* The data of req when it is a LinkedAccount.linked of account, else NULL. */
static const json_t *linked_event(const struct rt_hook_request *req, const char *account)
{
    const json_t *hook = json_object_get(req->json, "hook");
    const json_t *linked = json_object_get(req->json, "linked_account");

    if (!rt_sync_str(hook, "event") || strcmp(rt_sync_str(hook, "event"), "LinkedAccount.linked"))
        return NULL;
    if (!rt_sync_str(linked, "id") || strcmp(rt_sync_str(linked, "id"), account) != 0)
        return NULL;
    return json_object_get(req->json, "data");
}

/* Waits for the LinkedAccount.linked of account with is_relink as given, signed. */
static void expect_linked(struct rt_hook *hook, const char *account, bool is_relink)
{
    long long deadline = rt_now_ms() + 30000;

    for (;;) {
        size_t n;
        struct rt_hook_request *reqs = rt_hook_requests(hook, &n);
        bool found = false;

        for (size_t i = 0; i < n && !found; i++) {
            const json_t *data = linked_event(&reqs[i], account);

            found = data && json_is_boolean(json_object_get(data, "is_relink")) &&
                    json_is_true(json_object_get(data, "is_relink")) == is_relink &&
                    reqs[i].id[0] && strncmp(reqs[i].signature, "v1,", 3) == 0 && reqs[i].merge[0];
        }
        rt_hook_requests_free(reqs, n);
        if (found)
            return;
        if (rt_now_ms() > deadline)
            fail_msg("no LinkedAccount.linked (is_relink %d) for %s", is_relink, account);
        rt_poll_pause(50);
    }
}

/* A connection through the hosted pages, and a relink, each announce LinkedAccount.linked. */
static void test_linked_webhook(void **state)
{
    struct rt_hook *hook = NULL;
    struct rt_sync_account acct;
    json_t *first = rt_link_token(&env, NULL, "hooked-1", "\"integration\":\"bamboohr\"");
    struct rt_hook_endpoint endpoint;
    json_t *second;
    char body[512], *public_token;

    (void)state;
    assert_int_equal(rt_hook_start(&hook), RS_OK);
    rt_hook_set(hook, RT_HOOK_UP, 0, 0, 0);
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":[\"LinkedAccount.linked\"]}",
             rt_hook_url(hook));
    rt_hook_endpoint_create(&env, body, &endpoint);
    rt_link_connect_into(&env, rt_link_token_of(first), &rt_sync_bamboohr, &acct);
    expect_linked(hook, acct.id, false);
    second = rt_link_token(&env, NULL, "hooked-1", "\"integration\":\"bamboohr\"");
    public_token = rt_link_connect(&env, rt_link_token_of(second));
    expect_linked(hook, acct.id, true);
    json_decref(rt_sync_call(&env, NULL, "DELETE", NULL, 204, "/api/admin/v1/webhook-endpoints/%s",
                             endpoint.id));
    rt_hook_stop(hook);
    free(public_token);
    json_decref(first);
    json_decref(second);
}

static void test_regenerate_and_delete(void **state)
{
    json_t *link = rt_link_token(&env, NULL, "regen-1", "\"integration\":\"bamboohr\"");
    struct rt_sync_account acct, fresh;
    char *public_token = rt_link_connect(&env, rt_link_token_of(link));
    json_t *got;

    (void)state;
    rt_link_exchange_into(&env, public_token, &rt_sync_bamboohr, &acct);
    free(rt_sync_wait_for(&env, &acct, NULL, "DONE"));
    got = rt_sync_call(&env, &acct, "POST", NULL, 200, "/api/hris/v1/account-token/regenerate");
    assert_string_equal(rt_sync_str(got, "linked_account_id"), acct.id);
    fresh = acct;
    snprintf(fresh.token, sizeof(fresh.token), "%s", rt_sync_str(got, "account_token"));
    json_decref(got);
    json_decref(rt_sync_call(&env, &acct, "GET", NULL, 401, "/api/hris/v1/account-details"));
    json_decref(rt_sync_call(&env, &fresh, "GET", NULL, 200, "/api/hris/v1/account-details"));
    assert_true(
        rt_sync_sql_count(&env, "SELECT count(*) FROM employees WHERE linked_account_id = $1::uuid",
                          acct.id) == EMPLOYEES);
    json_decref(rt_sync_call(&env, &fresh, "POST", NULL, 200, "/api/hris/v1/delete-account"));
    json_decref(rt_sync_call(&env, &fresh, "GET", NULL, 401, "/api/hris/v1/account-details"));
    json_decref(
        rt_sync_call(&env, NULL, "GET", NULL, 404, "/api/admin/v1/linked-accounts/%s", acct.id));
    assert_int_equal(
        rt_sync_sql_count(&env, "SELECT count(*) FROM employees WHERE linked_account_id = $1::uuid",
                          acct.id),
        0);
    assert_int_equal(rt_sync_sql_count(
                         &env, "SELECT count(*) FROM linked_accounts WHERE id = $1::uuid", acct.id),
                     0);
    free(public_token);
    json_decref(link);
}

static void test_isolation(void **state)
{
    char *other = rt_api_create_org(env.conninfo, "Other app");
    json_t *mine = rt_link_token(&env, NULL, "iso-1", "\"integration\":\"bamboohr\"");
    json_t *theirs, *list;
    char *id, *public_token;

    (void)state;
    assert_non_null(other);
    theirs = rt_link_token(&env, other, "iso-1", NULL);
    id = rt_sync_sql_value(&env,
                           "SELECT id FROM link_sessions WHERE end_user_origin_id = $1 AND "
                           "integration = 'bamboohr'",
                           "iso-1");
    /* another organization's key neither sees nor revokes this link */
    {
        struct rt_sync_env as_other = env;

        as_other.key = other;
        json_decref(
            rt_sync_call(&as_other, NULL, "GET", NULL, 404, "/api/admin/v1/link-tokens/%s", id));
        json_decref(rt_sync_call(&as_other, NULL, "POST", NULL, 404,
                                 "/api/admin/v1/link-tokens/%s/revoke", id));
        list = rt_sync_call(&as_other, NULL, "GET", NULL, 200,
                            "/api/admin/v1/link-tokens?end_user_origin_id=iso-1");
        assert_int_equal(json_array_size(json_object_get(list, "results")), 1);
        assert_true(json_is_null(
            json_object_get(json_array_get(json_object_get(list, "results"), 0), "integration")));
        json_decref(list);
    }
    /* nor exchanges its public token (which then still works for its owner) */
    public_token = rt_link_connect(&env, rt_link_token_of(mine));
    json_decref(rt_link_exchange(&env, other, public_token, 404));
    json_decref(rt_link_exchange(&env, NULL, public_token, 200));
    free(public_token);
    free(id);
    free(other);
    json_decref(mine);
    json_decref(theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_key_flow),        cmocka_unit_test(test_link_token_validation),
        cmocka_unit_test(test_expired_and_revoked), cmocka_unit_test(test_relink_keeps_ids),
        cmocka_unit_test(test_linked_webhook),      cmocka_unit_test(test_regenerate_and_delete),
        cmocka_unit_test(test_isolation),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
