/* Unit tests for sandbox/sbx_hibob.c: auth, showInactive, filters, fields, named lists, limits. */
#include "sbx_test.h"

#define BASE "http://sandbox.test/hibob"

static int call(struct sbx_ctx *ctx, enum sbx_method method, const char *path, const char *auth,
                const char *body, struct sbx_resp *resp)
{
    struct sbx_req req;

    sbx_test_req(&req, method, BASE, path, NULL, auth, body);
    sbx_test_run(ctx, SBX_PROV_HIBOB, &req, resp);
    return resp->status;
}

/* The "employees" list of a search (a new reference). */
static json_t *search(struct sbx_ctx *ctx, const char *body)
{
    struct sbx_resp resp;
    json_t *root, *list;

    sbx_http_resp_init(&resp);
    assert_int_equal(call(ctx, SBX_POST, "/v1/people/search", SBX_TEST_BASIC_SERVICE, body, &resp),
                     200);
    root = sbx_test_json(&resp);
    list = json_incref(json_object_get(root, "employees"));
    assert_non_null(list);
    json_decref(root);
    sbx_http_resp_cleanup(&resp);
    return list;
}

static void test_auth(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(call(ctx, SBX_POST, "/v1/people/search", NULL, "{}", &resp), 401);
    assert_int_equal(call(ctx, SBX_POST, "/v1/people/search", SBX_TEST_BASIC_SANDBOX, "{}", &resp),
                     401); /* sandbox:x: the token is the password */
    assert_int_equal(call(ctx, SBX_GET, "/v1/people/search", SBX_TEST_BASIC_SERVICE, NULL, &resp),
                     405);
    assert_int_equal(call(ctx, SBX_POST, "/v1/people/search", SBX_TEST_BASIC_SERVICE, "[1]", &resp),
                     400);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_inactive_and_filters(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(500, 6);
    size_t terminated = 0;
    char body[256], id[24];
    json_t *list;

    (void)state;
    for (size_t i = 0; i < ctx->company->count; i++)
        terminated += ctx->company->people[i].state == SBX_STATE_TERMINATED;
    assert_true(terminated > 0);
    list = search(ctx, "{}");
    assert_int_equal(json_array_size(list), 500 - terminated);
    json_decref(list);
    list = search(ctx, "{\"showInactive\":true}");
    assert_int_equal(json_array_size(list), 500);
    json_decref(list);
    sbx_company_hibob_id(77, id);
    snprintf(body, sizeof(body),
             "{\"showInactive\":true,\"filters\":[{\"fieldPath\":\"root.id\",\"operator\":"
             "\"equals\",\"values\":[\"%s\"]}]}",
             id);
    list = search(ctx, body);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), id);
    json_decref(list);
    snprintf(body, sizeof(body),
             "{\"showInactive\":true,\"filters\":[{\"fieldPath\":\"root.email\",\"operator\":"
             "\"equals\",\"values\":[\"%s\"]}]}",
             ctx->company->people[12].work_email);
    list = search(ctx, body);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    list = search(ctx, "{\"filters\":[{\"fieldPath\":\"root.id\",\"operator\":\"equals\","
                       "\"values\":[\"1\"]}]}");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    sbx_test_ctx_free(ctx);
}

static void test_fields_projection(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(20, 1);
    json_t *list, *emp;

    (void)state;
    list = search(ctx, "{\"fields\":[\"root.id\",\"/work/title\",\"internal.status\",\"x.y\"]}");
    emp = json_array_get(list, 3);
    assert_int_equal(json_object_size(emp), 3);
    assert_true(json_is_string(json_object_get(emp, "id")));
    assert_int_equal(json_object_size(json_object_get(emp, "work")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(emp, "internal"), "status")), "Active");
    json_decref(list);
    list = search(ctx, "{\"humanReadable\":\"APPEND\",\"fields\":[\"root.id\"]}");
    assert_true(json_is_object(json_object_get(json_array_get(list, 3), "humanReadable")));
    json_decref(list);
    sbx_test_ctx_free(ctx);
}

static void test_named_lists(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;
    json_t *root;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(
        call(ctx, SBX_GET, "/v1/company/named-lists", SBX_TEST_BASIC_SERVICE, NULL, &resp), 200);
    root = sbx_test_json(&resp);
    assert_int_equal(json_array_size(json_object_get(json_object_get(root, "department"), "items")),
                     8);
    assert_int_equal(json_array_size(json_object_get(json_object_get(root, "site"), "items")), 7);
    json_decref(root);
    assert_int_equal(
        call(ctx, SBX_GET, "/v1/company/named-lists/site", SBX_TEST_BASIC_SERVICE, NULL, &resp),
        200);
    assert_int_equal(
        call(ctx, SBX_GET, "/v1/company/named-lists/nope", SBX_TEST_BASIC_SERVICE, NULL, &resp),
        404);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_rate_limit(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(3, 1);
    struct sbx_resp resp;
    int ok = 0;
    long reset;

    (void)state;
    sbx_http_resp_init(&resp);
    ctx->rate_limits = true;
    for (int i = 0; i < 55; i++)
        ok += call(ctx, SBX_POST, "/v1/people/search", SBX_TEST_BASIC_SERVICE, "{}", &resp) == 200;
    assert_int_equal(ok, 50);
    assert_int_equal(resp.status, 429);
    assert_string_equal(sbx_test_header(&resp, "x-ratelimit-remaining"), "0");
    assert_string_equal(sbx_test_header(&resp, "x-ratelimit-limit"), "50");
    reset = strtol(sbx_test_header(&resp, "x-ratelimit-reset"), NULL, 10);
    assert_true(reset > rs_time_now_us() / 1000000 && reset <= rs_time_now_us() / 1000000 + 61);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_inactive_and_filters),
        cmocka_unit_test(test_fields_projection),
        cmocka_unit_test(test_named_lists),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
