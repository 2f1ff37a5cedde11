/* Unit tests for sandbox/sbx_personio.c: tokens and their expiry, paging, filters, rate limits. */
#include "sbx_test.h"

#define BASE "http://sandbox.test/personio"

static int call(struct sbx_ctx *ctx, const char *path, const char *query, const char *auth,
                const char *body, int64_t now_us, struct sbx_resp *resp)
{
    struct sbx_req req;

    sbx_test_req(&req, body ? SBX_POST : SBX_GET, BASE, path, query, auth, body);
    if (now_us)
        req.now_us = now_us;
    sbx_test_run(ctx, SBX_PROV_PERSONIO, &req, resp);
    return resp->status;
}

static void auth_header(struct sbx_ctx *ctx, int64_t now_us, char out[128])
{
    struct sbx_resp resp;
    json_t *root;

    sbx_http_resp_init(&resp);
    assert_int_equal(call(ctx, "/v1/auth", NULL, NULL,
                          "{\"client_id\":\"c\",\"client_secret\":\"sandbox\"}", now_us, &resp),
                     200);
    root = sbx_test_json(&resp);
    snprintf(out, 128, "Bearer %s",
             json_string_value(json_object_get(json_object_get(root, "data"), "token")));
    json_decref(root);
    sbx_http_resp_cleanup(&resp);
}

static void test_auth_and_expiry(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(10, 1);
    struct sbx_resp resp;
    char auth[128];
    int64_t now = rs_time_now_us();
    json_t *root;

    (void)state;
    sbx_http_resp_init(&resp);
    ctx->token_ttl_s = 60;
    auth_header(ctx, now, auth);
    assert_int_equal(call(ctx, "/v1/company/employees", NULL, auth, NULL, now + 59000000, &resp),
                     200);
    assert_int_equal(call(ctx, "/v1/company/employees", NULL, auth, NULL, now + 61000000, &resp),
                     401);
    root = sbx_test_json(&resp);
    assert_false(json_is_true(json_object_get(root, "success")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "error"), "code")),
                     0);
    json_decref(root);
    assert_int_equal(call(ctx, "/v1/company/employees", NULL, NULL, NULL, 0, &resp), 401);
    assert_int_equal(call(ctx, "/v1/company/employees", NULL, "Bearer papi-nope", NULL, 0, &resp),
                     401);
    assert_int_equal(call(ctx, "/v1/auth", NULL, NULL,
                          "{\"client_id\":\"c\",\"client_secret\":\"wrong\"}", 0, &resp),
                     401);
    assert_int_equal(call(ctx, "/v1/auth", "client_id=c&client_secret=sandbox", NULL, "", 0, &resp),
                     200);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static json_t *employees(struct sbx_ctx *ctx, const char *query)
{
    struct sbx_resp resp;
    char auth[128];
    json_t *root;

    sbx_http_resp_init(&resp);
    auth_header(ctx, 0, auth);
    assert_int_equal(call(ctx, "/v1/company/employees", query, auth, NULL, 0, &resp), 200);
    root = sbx_test_json(&resp);
    sbx_http_resp_cleanup(&resp);
    return root;
}

static int64_t meta(json_t *root, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(root, "metadata"), key));
}

static int64_t attr_int(json_t *root, size_t i, const char *key)
{
    json_t *emp = json_array_get(json_object_get(root, "data"), i);

    return json_integer_value(
        json_object_get(json_object_get(json_object_get(emp, "attributes"), key), "value"));
}

static void test_paging(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(230, 2);
    json_t *root;

    (void)state;
    root = employees(ctx, NULL);
    assert_int_equal(json_array_size(json_object_get(root, "data")), 50);
    assert_int_equal(json_integer_value(json_object_get(root, "limit")), 50);
    assert_int_equal(meta(root, "total_elements"), 230);
    assert_int_equal(meta(root, "total_pages"), 5);
    json_decref(root);
    root = employees(ctx, "limit=500&offset=200");
    assert_int_equal(json_integer_value(json_object_get(root, "limit")), 100);
    assert_int_equal(json_array_size(json_object_get(root, "data")), 30);
    assert_int_equal(meta(root, "current_page"), 2);
    assert_int_equal(attr_int(root, 0, "id"), sbx_company_personio_id(200));
    json_decref(root);
    sbx_test_ctx_free(ctx);
}

static void test_updated_since_and_email(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(120, 3);
    struct sbx_company *c = ctx->company;
    char query[256], since[32];
    json_t *root;

    (void)state;
    for (int i = 10; i < 15; i++)
        c->people[i].changed_us = c->t0_us + 3600000000LL;
    sbx_time_iso_offset(c->t0_us + 60000000, 0, 'T', since);
    snprintf(query, sizeof(query), "updated_since=%.19s&limit=2&offset=1", since);
    root = employees(ctx, query);
    assert_int_equal(meta(root, "total_elements"), 5);
    assert_int_equal(json_array_size(json_object_get(root, "data")), 2); /* limit still honoured */
    assert_int_equal(attr_int(root, 0, "id"), sbx_company_personio_id(11));
    json_decref(root);
    snprintf(query, sizeof(query), "email=%s", c->people[42].work_email);
    root = employees(ctx, query);
    assert_int_equal(meta(root, "total_elements"), 1);
    assert_int_equal(attr_int(root, 0, "id"), sbx_company_personio_id(42));
    json_decref(root);
    root = employees(ctx, "attributes[]=first_name&limit=1");
    assert_int_equal(json_object_size(json_object_get(
                         json_array_get(json_object_get(root, "data"), 0), "attributes")),
                     2); /* id always, plus the one asked for */
    json_decref(root);
    sbx_test_ctx_free(ctx);
}

static void test_rate_limit(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;
    char auth[128];
    int64_t now = rs_time_now_us();
    int ok = 0;

    (void)state;
    sbx_http_resp_init(&resp);
    auth_header(ctx, now, auth);
    ctx->rate_limits = true;
    for (int i = 0; i < 20; i++)
        ok += call(ctx, "/v1/company/employees", NULL, auth, NULL, now, &resp) == 200;
    assert_int_equal(ok, 15); /* the documented burst */
    assert_int_equal(resp.status, 429);
    assert_non_null(sbx_test_header(&resp, "Retry-After"));
    assert_int_equal(call(ctx, "/v1/company/employees", NULL, auth, NULL, now + 1000000, &resp),
                     200); /* 5 tokens a second refill */
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_and_expiry),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_updated_since_and_email),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
