/*
 * Unit tests for sandbox/sbx_control.c, sbx_fault.c, sbx_reqlog.c and the respond path of
 * sbx_server.c: the control API, injected faults in each provider's own shape, the request log.
 */
#include "sbx_test.h"

static int bamboo(struct sbx_ctx *ctx, struct sbx_resp *resp)
{
    struct sbx_req req;

    sbx_test_req(&req, SBX_GET, "http://sandbox.test/bamboohr", "/api/v1/employees/directory", NULL,
                 SBX_TEST_BASIC_SANDBOX, NULL);
    sbx_test_run(ctx, SBX_PROV_BAMBOOHR, &req, resp);
    return resp->status;
}

static void test_company_and_edits(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(12, 5);
    json_t *root, *person;

    (void)state;
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/company", NULL, &root), 200);
    assert_int_equal(json_array_size(json_object_get(root, "people")), 12);
    person = json_array_get(json_object_get(root, "people"), 3);
    assert_int_equal(json_integer_value(json_object_get(person, "index")), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(person, "ids"), "bamboohr")), "4");
    assert_true(json_is_integer(json_object_get(json_object_get(person, "ids"), "personio")));
    json_decref(root);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/employees",
                         "{\"first_name\":\"Ada\",\"last_name\":\"Byron\",\"manager\":0}", &root),
        201);
    assert_int_equal(json_integer_value(json_object_get(root, "index")), 12);
    json_decref(root);
    assert_int_equal(
        sbx_test_control(ctx, SBX_PATCH, "/employees/12", "{\"title\":\"CTO\"}", &root), 200);
    assert_string_equal(json_string_value(json_object_get(root, "title")), "CTO");
    json_decref(root);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/employees/12/terminate",
                                      "{\"date\":\"2099-01-01\"}", &root),
                     200);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "terminated");
    json_decref(root);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/employees/12/rehire", "{\"date\":\"2099-02-01\"}", NULL),
        200);
    assert_int_equal(sbx_test_control(ctx, SBX_DELETE, "/employees/12", NULL, NULL), 200);
    assert_int_equal(sbx_test_control(ctx, SBX_DELETE, "/employees/12", NULL, NULL), 404);
    assert_int_equal(sbx_test_control(ctx, SBX_PATCH, "/employees/x", "{}", NULL), 404);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/employees", "not json", NULL), 400);
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/nothing", NULL, NULL), 404);
    sbx_test_ctx_free(ctx);
}

static void test_reset_and_empty(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(12, 5);
    struct sbx_resp resp;
    json_t *root;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/reset", "{\"employees\":30,\"seed\":9}", NULL), 200);
    assert_int_equal(ctx->company->count, 30);
    assert_int_equal(ctx->company->seed, 9);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/reset", "{\"employees\":-1}", NULL), 400);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/empty", NULL, NULL), 200);
    assert_int_equal(bamboo(ctx, &resp), 200);
    root = sbx_test_json(&resp);
    assert_int_equal(json_array_size(json_object_get(root, "employees")), 0);
    json_decref(root);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/empty", "{\"empty\":false}", NULL), 200);
    assert_int_equal(bamboo(ctx, &resp), 200);
    root = sbx_test_json(&resp);
    assert_true(json_array_size(json_object_get(root, "employees")) > 20);
    json_decref(root);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_status_faults(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/faults",
                         "{\"provider\":\"bamboohr\",\"path_contains\":\"directory\",\"kind\":"
                         "\"status\",\"status\":429,\"retry_after_s\":7,\"after\":1,"
                         "\"count\":2}",
                         NULL),
        201);
    assert_int_equal(bamboo(ctx, &resp), 200); /* after: 1 passes */
    assert_int_equal(bamboo(ctx, &resp), 429);
    assert_string_equal(sbx_test_header(&resp, "Retry-After"), "7");
    assert_int_equal(bamboo(ctx, &resp), 429);
    assert_int_equal(bamboo(ctx, &resp), 200); /* count: 2 spent */
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/faults", "{\"kind\":\"status\",\"status\":503}", NULL),
        201);
    assert_int_equal(bamboo(ctx, &resp), 503);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults", "{\"kind\":\"boom\"}", NULL), 400);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/faults", "{\"provider\":\"x\",\"kind\":\"slow\"}", NULL),
        400);
    assert_int_equal(sbx_test_control(ctx, SBX_DELETE, "/faults", NULL, NULL), 200);
    assert_int_equal(ctx->nfaults, 0);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_provider_429_headers(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;
    struct sbx_req req;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults",
                                      "{\"provider\":\"hibob\",\"kind\":\"status\",\"status\":429,"
                                      "\"retry_after_s\":30}",
                                      NULL),
                     201);
    sbx_test_req(&req, SBX_POST, "http://sandbox.test/hibob", "/v1/people/search", NULL,
                 SBX_TEST_BASIC_SERVICE, "{}");
    sbx_test_run(ctx, SBX_PROV_HIBOB, &req, &resp);
    assert_int_equal(resp.status, 429);
    assert_int_equal(strtol(sbx_test_header(&resp, "x-ratelimit-reset"), NULL, 10),
                     req.now_us / 1000000 + 30);
    assert_string_equal(sbx_test_header(&resp, "x-ratelimit-remaining"), "0");
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/faults",
                         "{\"provider\":\"personio\",\"kind\":\"status\",\"status\":429}", NULL),
        201);
    sbx_test_req(&req, SBX_GET, "http://sandbox.test/personio", "/v1/company/employees", NULL, NULL,
                 NULL);
    sbx_test_run(ctx, SBX_PROV_PERSONIO, &req, &resp);
    assert_int_equal(resp.status, 429);
    assert_non_null(sbx_test_header(&resp, "Retry-After"));
    json_decref(sbx_test_json(&resp));
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_body_faults(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(40, 1);
    struct sbx_resp resp;
    size_t full;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(bamboo(ctx, &resp), 200);
    full = resp.body.len;
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults",
                                      "{\"provider\":\"bamboohr\",\"kind\":"
                                      "\"truncate\"}",
                                      NULL),
                     201);
    assert_int_equal(bamboo(ctx, &resp), 200);
    assert_int_equal(resp.body.len, full / 2);
    assert_null(json_loadb(resp.body.data, resp.body.len, 0, NULL));
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults",
                                      "{\"provider\":\"bamboohr\",\"kind\":"
                                      "\"malformed\"}",
                                      NULL),
                     201);
    assert_int_equal(bamboo(ctx, &resp), 200);
    assert_null(json_loadb(resp.body.data, resp.body.len, 0, NULL));
    assert_int_equal(bamboo(ctx, &resp), 200);
    assert_int_equal(resp.body.len, full);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_revoke(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults", "{\"kind\":\"revoke\"}", NULL),
                     400);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/faults",
                                      "{\"provider\":\"bamboohr\",\"kind\":\"revoke\",\"after\":1}",
                                      NULL),
                     201);
    assert_int_equal(bamboo(ctx, &resp), 200);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bamboo(ctx, &resp), 401); /* until cleared, not just `count` times */
    assert_non_null(sbx_test_header(&resp, "WWW-Authenticate"));
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/reset", "{}", NULL), 200);
    assert_int_equal(bamboo(ctx, &resp), 200);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_request_log(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    uint64_t first, second;
    json_t *root, *entry;

    (void)state;
    first = sbx_reqlog_add(&ctx->reqlog, 1000, SBX_PROV_HIBOB, SBX_POST, "/hibob/v1/people/search");
    second = sbx_reqlog_add(&ctx->reqlog, 2000, SBX_PROV_PERSONIO, SBX_GET, "/personio/x?a=1");
    sbx_reqlog_status(&ctx->reqlog, first, 429);
    sbx_reqlog_status(&ctx->reqlog, second, 200);
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/requests", NULL, &root), 200);
    assert_int_equal(json_array_size(json_object_get(root, "requests")), 2);
    entry = json_array_get(json_object_get(root, "requests"), 0);
    assert_int_equal(json_integer_value(json_object_get(entry, "time_us")), 1000);
    assert_string_equal(json_string_value(json_object_get(entry, "provider")), "hibob");
    assert_string_equal(json_string_value(json_object_get(entry, "method")), "POST");
    assert_int_equal(json_integer_value(json_object_get(entry, "status")), 429);
    entry = json_array_get(json_object_get(root, "requests"), 1);
    assert_string_equal(json_string_value(json_object_get(entry, "path")), "/personio/x?a=1");
    json_decref(root);
    assert_int_equal(sbx_test_control(ctx, SBX_DELETE, "/requests", NULL, NULL), 200);
    sbx_reqlog_status(&ctx->reqlog, second, 500); /* gone: ignored */
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/requests", NULL, &root), 200);
    assert_int_equal(json_array_size(json_object_get(root, "requests")), 0);
    json_decref(root);
    sbx_test_ctx_free(ctx);
}

/* Past SBX_REQLOG_MAX the oldest entries go, in order. */
static void test_request_log_ring(void **state)
{
    struct sbx_reqlog log;
    uint64_t id = 0;

    (void)state;
    memset(&log, 0, sizeof(log));
    for (int i = 0; i < SBX_REQLOG_MAX + 10; i++)
        id = sbx_reqlog_add(&log, i, 0, SBX_GET, "/x");
    assert_int_equal(log.len, SBX_REQLOG_MAX);
    assert_int_equal(log.entries[log.head].time_us, 10);
    sbx_reqlog_status(&log, id, 204);
    assert_int_equal(log.entries[(log.head + log.len - 1) % log.cap].status, 204);
    sbx_reqlog_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_company_and_edits), cmocka_unit_test(test_reset_and_empty),
        cmocka_unit_test(test_status_faults),     cmocka_unit_test(test_provider_429_headers),
        cmocka_unit_test(test_body_faults),       cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_request_log),       cmocka_unit_test(test_request_log_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
