/* Unit tests for sandbox/sbx_dataset.c: BambooHR's v2 dataset filters, ordering, paging, errors. */
#include "sbx_test.h"

#define BASE "http://sandbox.test/bamboohr"
#define PATH "/api/v2/datasets/employee/data"

static json_t *post(struct sbx_ctx *ctx, const char *body, int expect_status)
{
    struct sbx_req req;
    struct sbx_resp resp;
    json_t *root;

    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_POST, BASE, PATH, NULL, SBX_TEST_BASIC_SANDBOX, body);
    sbx_test_run(ctx, SBX_PROV_BAMBOOHR, &req, &resp);
    if (resp.status != expect_status)
        fail_msg("status %d, expected %d: %.*s", resp.status, expect_status, (int)resp.body.len,
                 resp.body.data);
    root = sbx_test_json(&resp);
    if (expect_status >= 400)
        assert_string_equal(resp.content_type, "application/problem+json");
    sbx_http_resp_cleanup(&resp);
    return root;
}

static json_t *rows(json_t *page)
{
    return json_object_get(page, "data");
}

static const char *row_field(json_t *page, size_t i, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(rows(page), i), "fields"), key));
}

static int64_t total(json_t *page)
{
    return json_integer_value(json_object_get(json_object_get(page, "meta"), "totalItems"));
}

static void test_last_changed_filter(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(50, 1);
    char body[256], since[32];
    json_t *page;

    (void)state;
    sbx_time_iso_offset(ctx->company->t0_us, 0, 'T', since);
    snprintf(body, sizeof(body),
             "{\"fields\":[\"id\",\"lastChanged\"],\"filter\":\"lastChanged gt '%s'\"}", since);
    page = post(ctx, body, 200);
    assert_int_equal(total(page), 0); /* nothing changed after generation */
    json_decref(page);
    ctx->company->people[7].changed_us = ctx->company->t0_us + 5000000; /* an edit, 5 s later */
    page = post(ctx, body, 200);
    assert_int_equal(total(page), 1);
    assert_string_equal(row_field(page, 0, "id"), "8");
    json_decref(page);
    snprintf(body, sizeof(body), "{\"fields\":[\"id\"],\"filter\":\"lastChanged ge '%s'\"}", since);
    page = post(ctx, body, 200);
    assert_int_equal(total(page), 50);
    json_decref(page);
    sbx_test_ctx_free(ctx);
}

static void test_status_filters_and_logic(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(400, 2);
    int active = 0, inactive = 0;
    json_t *page;

    (void)state;
    for (size_t i = 0; i < ctx->company->count; i++) {
        enum sbx_state st = ctx->company->people[i].state;

        active += st == SBX_STATE_ACTIVE || st == SBX_STATE_LEAVE;
        inactive += st == SBX_STATE_TERMINATED || st == SBX_STATE_ONBOARDING;
    }
    page = post(ctx, "{\"fields\":[\"id\"],\"filter\":\"status eq 'Active'\"}", 200);
    assert_int_equal(total(page), active);
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"status\"],\"filter\":\"status in ('Inactive')\"}", 200);
    assert_int_equal(total(page), inactive);
    assert_string_equal(row_field(page, 0, "status"), "Inactive");
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"filter\":\"id le '10' and id gt '5'\"}", 200);
    assert_int_equal(total(page), 5);
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"filter\":\"id eq '1' or id eq '400'\"}", 200);
    assert_int_equal(total(page), 2);
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"filter\":\"terminationDate ne null\"}", 200);
    assert_true(total(page) > 0 && total(page) <= inactive);
    json_decref(page);
    sbx_test_ctx_free(ctx);
}

static void test_filter_errors(void **state)
{
    static const char *const bad[] = {
        "id eq '1' and id eq '2' or id eq '3'", /* mixed logic */
        "nosuchfield eq 'x'",
        "firstName gt 'A'", /* ordering on text */
        "hireDate gt 'yesterday'",
        "id eq",
        "id eq '1' junk",
        "status in ('Active'",
    };
    struct sbx_ctx *ctx = sbx_test_ctx(10, 1);
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *problem;

        snprintf(body, sizeof(body), "{\"fields\":[\"id\"],\"filter\":\"%s\"}", bad[i]);
        problem = post(ctx, body, 422);
        assert_string_equal(json_string_value(json_object_get(problem, "code")), "INVALID_FILTER");
        json_decref(problem);
    }
    json_decref(post(ctx, "{\"fields\":[]}", 400));
    json_decref(post(ctx, "{\"fields\":[\"nope\"]}", 400));
    json_decref(post(ctx, "{}", 400));
    json_decref(post(ctx, "{\"fields\":[\"id\"],\"pageSize\":1001}", 422));
    json_decref(post(ctx, "{\"fields\":[\"id\"],\"page\":0}", 422));
    json_decref(post(ctx, "{\"fields\":[\"id\"],\"orderBy\":\"lastName asc\"}", 400));
    sbx_test_ctx_free(ctx);
}

static void test_paging_and_order(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(250, 4);
    json_t *page;

    (void)state;
    page = post(ctx, "{\"fields\":[\"id\"]}", 200);
    assert_int_equal(json_array_size(rows(page)), 100); /* default pageSize */
    assert_null(json_object_get(json_object_get(page, "links"), "prev"));
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"page\":3}", 200);
    assert_int_equal(json_array_size(rows(page)), 50);
    assert_string_equal(row_field(page, 0, "id"), "201");
    assert_null(json_object_get(json_object_get(page, "links"), "next"));
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"page\":9}", 200);
    assert_int_equal(json_array_size(rows(page)), 0);
    json_decref(page);
    page = post(ctx,
                "{\"fields\":[\"id\",\"hireDate\"],\"orderBy\":\"hireDate desc\",\"pageSize\":250}",
                200);
    for (size_t i = 1; i < 250; i++)
        assert_true(strcmp(row_field(page, i - 1, "hireDate"), row_field(page, i, "hireDate")) >=
                    0);
    json_decref(page);
    page = post(ctx, "{\"fields\":[\"id\"],\"orderBy\":\"id desc\",\"pageSize\":2}", 200);
    assert_string_equal(row_field(page, 0, "id"), "250");
    json_decref(page);
    sbx_test_ctx_free(ctx);
}

static void test_values(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(30, 1);
    struct sbx_person *p = &ctx->company->people[12];
    json_t *page;
    char body[512];

    (void)state;
    p->state = SBX_STATE_TERMINATED;
    p->term_day = p->hire_day + 10;
    p->preferred_name[0] = '\0';
    snprintf(body, sizeof(body), "%s",
             "{\"fields\":[\"employeeId\",\"firstName\",\"preferredName\",\"status\","
             "\"terminationDate\",\"employmentHistoryStatus\",\"supervisorEId\",\"supervisor\","
             "\"department\",\"workEmail\"],\"filter\":\"id eq '13'\"}");
    page = post(ctx, body, 200);
    assert_int_equal(total(page), 1);
    assert_string_equal(row_field(page, 0, "employeeId"), "13");
    assert_string_equal(row_field(page, 0, "firstName"), p->first_name);
    assert_null(row_field(page, 0, "preferredName"));
    assert_string_equal(row_field(page, 0, "status"), "Inactive");
    assert_string_equal(row_field(page, 0, "employmentHistoryStatus"), "Terminated");
    assert_non_null(row_field(page, 0, "terminationDate"));
    assert_non_null(row_field(page, 0, "supervisorEId"));
    assert_int_equal(sbx_company_index_from_bamboohr(row_field(page, 0, "supervisorEId")),
                     p->manager);
    assert_string_equal(row_field(page, 0, "workEmail"), p->work_email);
    json_decref(page);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_changed_filter),
        cmocka_unit_test(test_status_filters_and_logic),
        cmocka_unit_test(test_filter_errors),
        cmocka_unit_test(test_paging_and_order),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
