/* Unit tests for sandbox/sbx_bamboohr.c: auth, URL styles, list cursors, changed-since, lists. */
#include "sbx_test.h"

#define BASE "http://sandbox.test/bamboohr"

static int call(struct sbx_ctx *ctx, enum sbx_method method, const char *path, const char *query,
                const char *auth, struct sbx_resp *resp)
{
    struct sbx_req req;

    sbx_test_req(&req, method, BASE, path, query, auth, NULL);
    sbx_test_run(ctx, SBX_PROV_BAMBOOHR, &req, resp);
    return resp->status;
}

static void test_auth(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, NULL, &resp), 401);
    assert_non_null(sbx_test_header(&resp, "WWW-Authenticate"));
    assert_int_equal(resp.body.len, 0);
    /* wrong key (the user name), or a Basic header that is not base64 */
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, "Basic d3Jvbmc6eA==", &resp),
                     401);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, "Basic !!!", &resp), 401);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, SBX_TEST_BASIC_SANDBOX, &resp),
                     200);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, "Bearer sandbox", &resp), 200);
    /* the legacy gateway URL, any company domain */
    assert_int_equal(call(ctx, SBX_GET, "/api/gateway.php/acme/v1/meta/lists", NULL,
                          SBX_TEST_BASIC_SANDBOX, &resp),
                     200);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/nothing", NULL, SBX_TEST_BASIC_SANDBOX, &resp),
                     404);
    assert_int_equal(call(ctx, SBX_POST, "/api/v1/meta/lists", NULL, SBX_TEST_BASIC_SANDBOX, &resp),
                     405);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

/* Following nextCursor visits every listed person exactly once, in id order. */
static void test_list_cursor_chain(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(237, 3);
    struct sbx_resp resp;
    char query[256] = "page%5Blimit%5D=100";
    long expected = 1;
    int pages = 0;

    (void)state;
    sbx_http_resp_init(&resp);
    ctx->company->people[50].deleted = true;
    for (;;) {
        json_t *page, *item;
        const char *next;
        size_t i;

        assert_int_equal(
            call(ctx, SBX_GET, "/api/v1/employees", query, SBX_TEST_BASIC_SANDBOX, &resp), 200);
        page = sbx_test_json(&resp);
        pages++;
        json_array_foreach(json_object_get(page, "data"), i, item)
        {
            if (expected == 51)
                expected++; /* the deleted one is skipped */
            assert_int_equal(
                strtol(json_string_value(json_object_get(item, "employeeId")), NULL, 10),
                expected++);
        }
        next = json_string_value(
            json_object_get(json_object_get(json_object_get(page, "meta"), "page"), "nextCursor"));
        if (!next) {
            assert_null(json_object_get(json_object_get(page, "_links"), "next"));
            json_decref(page);
            break;
        }
        snprintf(query, sizeof(query), "page%%5Blimit%%5D=100&page%%5Bafter%%5D=%s", next);
        json_decref(page);
    }
    assert_int_equal(expected, 238);
    assert_int_equal(pages, 3);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/employees", "page%5Blimit%5D=101",
                          SBX_TEST_BASIC_SANDBOX, &resp),
                     400);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/employees", "page%5Bafter%5D=garbage",
                          SBX_TEST_BASIC_SANDBOX, &resp),
                     400);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_changed(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(20, 1);
    struct sbx_company *c = ctx->company;
    struct sbx_resp resp;
    char query[128], since[RS_TIME_ISO_LEN];
    json_t *root, *employees;

    (void)state;
    sbx_http_resp_init(&resp);
    rs_time_format(c->t0_us + 1000000, since); /* "…Z": a raw '+' in a query is a space */
    c->people[3].changed_us = c->t0_us + 10000000;
    c->people[4].changed_us = c->t0_us + 20000000;
    c->people[4].deleted = true;
    c->people[5].changed_us = c->t0_us + 30000000;
    c->people[5].created_us = c->t0_us + 30000000;
    snprintf(query, sizeof(query), "since=%s&type=all", since);
    assert_int_equal(
        call(ctx, SBX_GET, "/api/v1/employees/changed", query, SBX_TEST_BASIC_SANDBOX, &resp), 200);
    root = sbx_test_json(&resp);
    employees = json_object_get(root, "employees");
    assert_int_equal(json_object_size(employees), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(employees, "4"), "action")), "Updated");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(employees, "5"), "action")), "Deleted");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(employees, "6"), "action")), "Inserted");
    assert_true(json_is_string(json_object_get(root, "latest")));
    json_decref(root);
    snprintf(query, sizeof(query), "since=%s&type=deleted", since);
    assert_int_equal(
        call(ctx, SBX_GET, "/api/v1/employees/changed", query, SBX_TEST_BASIC_SANDBOX, &resp), 200);
    root = sbx_test_json(&resp);
    assert_int_equal(json_object_size(json_object_get(root, "employees")), 1);
    json_decref(root);
    assert_int_equal(
        call(ctx, SBX_GET, "/api/v1/employees/changed", "type=all", SBX_TEST_BASIC_SANDBOX, &resp),
        400);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_directory_and_lists(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(300, 8);
    struct sbx_resp resp;
    json_t *root, *entry;
    size_t i, current = 0;

    (void)state;
    sbx_http_resp_init(&resp);
    for (i = 0; i < ctx->company->count; i++)
        current += ctx->company->people[i].state == SBX_STATE_ACTIVE ||
                   ctx->company->people[i].state == SBX_STATE_LEAVE;
    assert_int_equal(
        call(ctx, SBX_GET, "/api/v1/employees/directory", NULL, SBX_TEST_BASIC_SANDBOX, &resp),
        200);
    root = sbx_test_json(&resp);
    assert_int_equal(json_array_size(json_object_get(root, "employees")), current);
    assert_true(json_array_size(json_object_get(root, "fields")) > 5);
    json_decref(root);
    assert_int_equal(call(ctx, SBX_GET, "/api/v1/meta/lists", NULL, SBX_TEST_BASIC_SANDBOX, &resp),
                     200);
    root = sbx_test_json(&resp);
    assert_int_equal(json_array_size(root), 3);
    json_array_foreach(root, i, entry)
    {
        const char *alias = json_string_value(json_object_get(entry, "alias"));

        assert_true(strcmp(alias, "department") == 0 || strcmp(alias, "division") == 0 ||
                    strcmp(alias, "location") == 0);
        assert_true(json_array_size(json_object_get(entry, "options")) >= 3);
    }
    json_decref(root);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_list_cursor_chain),
        cmocka_unit_test(test_changed),
        cmocka_unit_test(test_directory_and_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
