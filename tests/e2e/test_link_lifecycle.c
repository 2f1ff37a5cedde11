/*
 * End to end, the lifecycle admin endpoints of a linked account and the test connection's
 * categories against the sandbox's real failures: test now (ok, wrong credentials, missing
 * permission, not found, provider down, rate limited, a broken body), deactivate / activate
 * (syncs stop and resume, data stays), the last error in the listing, link settings (return
 * URL and opener origin on the success page), and the same outcomes on the hosted form.
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
#include "rt_link.h"
#include "rt_sync.h"

#define EMPLOYEES 25
#define SEED      5
#define ADMIN_LA  "/api/admin/v1/linked-accounts"

static struct rt_sync_env env;
static struct rt_sync_account acct;

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

/* POST /linked-accounts/{id}/test: must answer 200 with result `want`; returns its detail. */
static void expect_test(const char *want, long status, const char *detail_part)
{
    json_t *got = rt_sync_call(&env, NULL, "POST", NULL, 200, ADMIN_LA "/%s/test", acct.id);
    const char *detail = rt_sync_str(got, "detail");

    if (strcmp(rt_sync_str(got, "result"), want) != 0)
        fail_msg("test connection: result %s, want %s (%s)", rt_sync_str(got, "result"), want,
                 detail ? detail : "");
    assert_true(json_is_true(json_object_get(got, "ok")) == (strcmp(want, "ok") == 0));
    if (status)
        assert_int_equal(json_integer_value(json_object_get(got, "http_status")), status);
    if (!detail || !strstr(detail, detail_part))
        fail_msg("test connection detail \"%s\" lacks \"%s\"", detail ? detail : "", detail_part);
    assert_null(strstr(detail, "sandbox")); /* never the key */
    json_decref(got);
}

static void link_once(void)
{
    if (acct.id[0])
        return;
    rt_sync_link(&env, &rt_sync_bamboohr, &acct, NULL);
}

static void test_connection_categories(void **state)
{
    (void)state;
    link_once();
    expect_test("ok", 200, "Connected to BambooHR");
    rt_sbx_fault(&env, "{\"provider\":\"bamboohr\",\"kind\":\"revoke\"}");
    expect_test("wrong_credentials", 401, "did not accept the API key");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sbx_fault(&env,
                 "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":403,\"count\":4}");
    expect_test("missing_permission", 403, "permission");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sbx_fault(&env,
                 "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":404,\"count\":4}");
    expect_test("not_found", 404, "Company subdomain");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sbx_fault(&env,
                 "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":503,\"count\":8}");
    expect_test("provider_down", 503, "try again in a few minutes");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sbx_fault(&env, "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":429,"
                       "\"retry_after_s\":120,\"count\":8}");
    expect_test("rate_limited", 0, "limiting requests");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    rt_sbx_fault(&env, "{\"provider\":\"bamboohr\",\"kind\":\"malformed\",\"count\":8}");
    expect_test("bad_response", 200, "not with the data Roster expects");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    expect_test("ok", 200, "Connected");
}

static void test_deactivate_activate(void **state)
{
    json_t *got, *employees;
    long syncs_before;

    (void)state;
    link_once();
    got = rt_sync_call(&env, NULL, "POST", NULL, 200, ADMIN_LA "/%s/deactivate", acct.id);
    assert_string_equal(rt_sync_str(got, "status"), "IDLE");
    assert_non_null(rt_sync_str(got, "deactivated_at"));
    json_decref(got);
    json_decref(rt_sync_call(&env, NULL, "POST", NULL, 409, ADMIN_LA "/%s/deactivate", acct.id));
    /* no sync can be started, the data stays readable */
    json_decref(rt_sync_call(&env, NULL, "POST", "{}", 409, ADMIN_LA "/%s/syncs", acct.id));
    employees = rt_sync_employees(&env, &acct, "id");
    assert_int_equal(json_object_size(employees), EMPLOYEES);
    json_decref(employees);
    got = rt_sync_call(&env, &acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    assert_string_equal(rt_sync_str(json_array_get(json_object_get(got, "results"), 0), "status"),
                        "DISABLED");
    json_decref(got);
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "?status=IDLE");
    assert_int_equal(json_array_size(json_object_get(got, "results")), 1);
    json_decref(got);
    /* activated: COMPLETE and due at once, so the scheduler syncs it again */
    got = rt_sync_history(&env, &acct);
    syncs_before = (long)json_array_size(got);
    json_decref(got);
    got = rt_sync_call(&env, NULL, "POST", NULL, 200, ADMIN_LA "/%s/activate", acct.id);
    assert_string_equal(rt_sync_str(got, "status"), "COMPLETE");
    assert_true(json_is_null(json_object_get(got, "deactivated_at")));
    json_decref(got);
    json_decref(rt_sync_call(&env, NULL, "POST", NULL, 409, ADMIN_LA "/%s/activate", acct.id));
    for (long long deadline = rt_now_ms() + 60000;; rt_poll_pause(50)) {
        got = rt_sync_history(&env, &acct);
        if ((long)json_array_size(got) > syncs_before) {
            json_decref(got);
            break;
        }
        json_decref(got);
        if (rt_now_ms() > deadline)
            fail_msg("no sync was scheduled after activate");
    }
    json_decref(rt_sync_wait(&env, &acct, NULL));
}

static void test_last_error(void **state)
{
    json_t *sync, *got;

    (void)state;
    link_once();
    rt_sbx_fault(&env, "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":500,"
                       "\"count\":50}");
    sync = rt_sync_expect(&env, &acct, "FULL", "FAILED");
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s", acct.id);
    assert_string_equal(rt_sync_str(got, "last_error"), rt_sync_str(sync, "reason"));
    json_decref(got);
    json_decref(sync);
    json_decref(rt_sync_expect(&env, &acct, "FULL", "DONE"));
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, ADMIN_LA "/%s", acct.id);
    assert_true(json_is_null(json_object_get(got, "last_error")));
    json_decref(got);
    json_decref(rt_sync_call(&env, NULL, "POST", NULL, 400, ADMIN_LA "/not-a-uuid/test"));
    json_decref(rt_sync_call(&env, NULL, "POST", NULL, 404,
                             ADMIN_LA "/00000000-0000-4000-8000-000000000000/deactivate"));
}

static void test_settings_and_success_page(void **state)
{
    json_t *got, *link;
    struct rt_resp r = {0};
    char *next, *origin;

    (void)state;
    json_decref(rt_sync_call(&env, NULL, "PATCH", "{\"return_url\":\"javascript:alert(1)\"}", 400,
                             "/api/admin/v1/link-settings"));
    json_decref(rt_sync_call(&env, NULL, "PATCH",
                             "{\"opener_origin\":\"https://app.example/path\"}", 400,
                             "/api/admin/v1/link-settings"));
    got = rt_sync_call(&env, NULL, "PATCH",
                       "{\"return_url\":\"https://app.example/linked?step=2\","
                       "\"opener_origin\":\"https://app.example\"}",
                       200, "/api/admin/v1/link-settings");
    assert_string_equal(rt_sync_str(got, "return_url"), "https://app.example/linked?step=2");
    json_decref(got);
    link = rt_link_token(&env, NULL, "settings-1", "\"integration\":\"bamboohr\"");
    rt_link_post(&env, rt_link_token_of(link), NULL, "sandbox", "connected", &r);
    next = rt_link_attr(r.body, "id=\"roster-result\"", "data-return-url");
    origin = rt_link_attr(r.body, "id=\"roster-result\"", "data-opener-origin");
    assert_string_equal(origin, "https://app.example");
    if (strncmp(next, "https://app.example/linked?step=2&amp;public_token=pt_", 54) != 0)
        fail_msg("return URL %s", next);
    rt_resp_cleanup(&r);
    free(next);
    free(origin);
    json_decref(link);
    got = rt_sync_call(&env, NULL, "PATCH", "{\"return_url\":null,\"opener_origin\":null}", 200,
                       "/api/admin/v1/link-settings");
    assert_true(json_is_null(json_object_get(got, "return_url")));
    json_decref(got);
}

static void test_form_shows_provider_failure(void **state)
{
    json_t *link = rt_link_token(&env, NULL, "down-1", "\"integration\":\"bamboohr\"");
    struct rt_resp r = {0};

    (void)state;
    rt_sbx_fault(&env,
                 "{\"provider\":\"bamboohr\",\"kind\":\"status\",\"status\":503,\"count\":8}");
    rt_link_post(&env, rt_link_token_of(link), NULL, "sandbox", "form-test-failed", &r);
    if (!strstr(r.body, "BambooHR did not answer in time or is having problems"))
        fail_msg("the provider's outage is not on the page: %.600s", r.body);
    rt_resp_cleanup(&r);
    json_decref(rt_sbx_call(&env, "DELETE", "/faults", NULL));
    /* a value that breaks the field's pattern never reaches the provider */
    rt_link_post(&env, rt_link_token_of(link), NULL, "a b", "form-invalid", &r);
    if (!strstr(r.body, "aria-invalid=\"true\""))
        fail_msg("the bad field is not marked: %.600s", r.body);
    rt_resp_cleanup(&r);
    json_decref(link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_categories),
        cmocka_unit_test(test_deactivate_activate),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_settings_and_success_page),
        cmocka_unit_test(test_form_shows_provider_failure),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
