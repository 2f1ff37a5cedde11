/*
 * Unit tests for the provider renderers (sbx_bamboohr.c, sbx_personio.c, sbx_hibob.c,
 * sbx_dataset.c): a rendered page has every key of the documented example responses
 * (tests/unit/sandbox/fixtures, copied from the sources named in providers.md) with the same
 * JSON types.
 */
#include "sbx_test.h"

#define BASE_BAMBOO   "http://sandbox.test/bamboohr"
#define BASE_PERSONIO "http://sandbox.test/personio"
#define BASE_HIBOB    "http://sandbox.test/hibob"

static json_t *load_fixture(const char *provider)
{
    const char *src = getenv("ROSTER_SOURCE_DIR");
    char path[1024];
    json_error_t error;
    json_t *root;

    snprintf(path, sizeof(path), "%s/tests/unit/sandbox/fixtures/%s/employees.json",
             src ? src : ".", provider);
    root = json_load_file(path, 0, &error);
    if (!root)
        fail_msg("cannot load %s: %s", path, error.text);
    return root;
}

static bool same_type(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return true;
    if (json_is_boolean(a) && json_is_boolean(b))
        return true;
    return json_typeof(a) == json_typeof(b);
}

/*
 * Checks every rendered value (an array of candidates at one path) against the fixture's value:
 * objects have every fixture key; a non-null value has the fixture's type; a non-null fixture
 * value has at least one non-null counterpart (so an always-null renderer does not pass);
 * array elements, when there are any, are checked against the fixture's first element.
 */
static void check_shape(const json_t *fixture, json_t *rendered, const char *path)
{
    size_t i;
    json_t *value;
    bool covered = json_is_null(fixture);

    json_array_foreach(rendered, i, value)
    {
        if (json_is_null(value) || json_is_null(fixture))
            continue;
        if (!same_type(fixture, value))
            fail_msg("%s: type %d where the fixture has %d", path, json_typeof(value),
                     json_typeof(fixture));
        covered = true;
    }
    if (!covered)
        fail_msg("%s: never rendered non-null (the fixture has a value)", path);
    if (json_is_object(fixture)) {
        const char *key;
        json_t *child;

        json_object_foreach((json_t *)fixture, key, child)
        {
            json_t *next = json_array();
            char sub[512];

            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            json_array_foreach(rendered, i, value)
            {
                if (json_is_null(value))
                    continue;
                if (!json_object_get(value, key))
                    fail_msg("%s: missing", sub);
                json_array_append(next, json_object_get(value, key));
            }
            check_shape(child, next, sub);
            json_decref(next);
        }
    } else if (json_is_array(fixture) && json_array_size(fixture) > 0) {
        json_t *next = json_array();
        char sub[512];
        size_t k;
        json_t *element;

        snprintf(sub, sizeof(sub), "%s[]", path);
        json_array_foreach(rendered, i, value) json_array_foreach(value, k, element)
            json_array_append(next, element);
        if (json_array_size(next) > 0) /* empty lists are fine (no restricted fields) */
            check_shape(json_array_get(fixture, 0), next, sub);
        json_decref(next);
    }
}

/* Every record of the fixture's list against every record of the rendered list, plus the
 * envelope (the fixture minus its list) against the rendered envelope. */
static void check_page(json_t *fixture, json_t *page, const char *list_key)
{
    json_t *records = json_object_get(fixture, list_key);
    json_t *rendered = json_object_get(page, list_key);
    json_t *one = json_array();
    json_t *envelope = json_deep_copy(fixture);
    size_t i;
    json_t *record;

    assert_true(json_is_array(rendered));
    assert_true(json_array_size(rendered) >= 2);
    json_array_foreach(records, i, record) check_shape(record, rendered, list_key);
    json_object_del(envelope, list_key);
    json_array_append(one, page);
    check_shape(envelope, one, "$");
    json_decref(one);
    json_decref(envelope);
}

static void test_bamboohr_employees_fixture(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(60, 1);
    json_t *fixture = load_fixture("bamboohr"), *page;
    struct sbx_req req;
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_GET, BASE_BAMBOO, "/api/v1/employees", "page%5Blimit%5D=25",
                 SBX_TEST_BASIC_SANDBOX, NULL);
    sbx_test_run(ctx, SBX_PROV_BAMBOOHR, &req, &resp);
    assert_int_equal(resp.status, 200);
    page = sbx_test_json(&resp);
    check_page(fixture, page, "data");
    assert_int_equal(json_array_size(json_object_get(page, "data")), 25);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(page, "meta"), "total")),
                     60);
    json_decref(page);
    json_decref(fixture);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static void test_bamboohr_dataset_shape(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(60, 1);
    struct sbx_req req;
    struct sbx_resp resp;
    json_t *page, *row, *meta;
    const char *body = "{\"fields\":[\"id\",\"firstName\",\"lastName\",\"status\",\"hireDate\","
                       "\"terminationDate\",\"supervisorEId\",\"jobInformationReportsTo\","
                       "\"employmentHistoryStatus\",\"lastChanged\"],\"page\":2,\"pageSize\":20}";

    (void)state;
    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_POST, BASE_BAMBOO, "/api/v2/datasets/employee/data", NULL,
                 SBX_TEST_BASIC_SANDBOX, body);
    sbx_test_run(ctx, SBX_PROV_BAMBOOHR, &req, &resp);
    assert_int_equal(resp.status, 200);
    page = sbx_test_json(&resp);
    assert_int_equal(json_array_size(json_object_get(page, "data")), 20);
    row = json_object_get(json_array_get(json_object_get(page, "data"), 0), "fields");
    assert_true(json_is_object(row));
    assert_int_equal(json_object_size(row), 10); /* exactly the requested fields */
    assert_string_equal(json_string_value(json_object_get(row, "id")), "21");
    meta = json_object_get(page, "meta");
    assert_int_equal(json_integer_value(json_object_get(meta, "page")), 2);
    assert_int_equal(json_integer_value(json_object_get(meta, "pageSize")), 20);
    assert_int_equal(json_integer_value(json_object_get(meta, "totalPages")), 3);
    assert_int_equal(json_integer_value(json_object_get(meta, "totalItems")), 60);
    assert_true(json_is_string(json_object_get(json_object_get(page, "links"), "next")));
    assert_true(json_is_string(json_object_get(json_object_get(page, "links"), "prev")));
    json_decref(page);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static char *personio_token(struct sbx_ctx *ctx)
{
    static char auth[128];
    struct sbx_req req;
    struct sbx_resp resp;
    json_t *root;

    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_POST, BASE_PERSONIO, "/v1/auth", NULL, NULL,
                 "{\"client_id\":\"id\",\"client_secret\":\"sandbox\"}");
    sbx_test_run(ctx, SBX_PROV_PERSONIO, &req, &resp);
    assert_int_equal(resp.status, 200);
    root = sbx_test_json(&resp);
    assert_true(json_is_true(json_object_get(root, "success")));
    snprintf(auth, sizeof(auth), "Bearer %s",
             json_string_value(json_object_get(json_object_get(root, "data"), "token")));
    assert_memory_equal(auth, "Bearer papi-", 12);
    json_decref(root);
    sbx_http_resp_cleanup(&resp);
    return auth;
}

static void test_personio_employees_fixture(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(120, 1);
    json_t *fixture = load_fixture("personio"), *page;
    struct sbx_req req;
    struct sbx_resp resp;

    (void)state;
    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_GET, BASE_PERSONIO, "/v1/company/employees", "limit=100&offset=0",
                 personio_token(ctx), NULL);
    sbx_test_run(ctx, SBX_PROV_PERSONIO, &req, &resp);
    assert_int_equal(resp.status, 200);
    page = sbx_test_json(&resp);
    check_page(fixture, page, "data");
    assert_int_equal(json_array_size(json_object_get(page, "data")), 100);
    json_decref(page);
    json_decref(fixture);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

static json_t *hibob_search(struct sbx_ctx *ctx, const char *body)
{
    struct sbx_req req;
    struct sbx_resp resp;
    json_t *page;

    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_POST, BASE_HIBOB, "/v1/people/search", NULL, SBX_TEST_BASIC_SERVICE,
                 body);
    sbx_test_run(ctx, SBX_PROV_HIBOB, &req, &resp);
    assert_int_equal(resp.status, 200);
    page = sbx_test_json(&resp);
    sbx_http_resp_cleanup(&resp);
    return page;
}

/* In human-readable mode the answer has exactly the fixture's shape (reportsTo a name). */
static void test_hibob_people_fixture(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(80, 1);
    json_t *fixture = load_fixture("hibob");
    json_t *page = hibob_search(ctx, "{\"humanReadable\":\"REPLACE\"}");

    (void)state;
    check_page(fixture, page, "employees");
    json_decref(page);
    json_decref(fixture);
    sbx_test_ctx_free(ctx);
}

/* By default reportsTo is the manager object Nango's types model; the rest is unchanged. */
static void test_hibob_people_machine_format(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(80, 1);
    json_t *fixture = load_fixture("hibob");
    json_t *page = hibob_search(ctx, "{}"), *record, *employee, *reports_to;
    size_t i;

    (void)state;
    json_array_foreach(json_object_get(fixture, "employees"), i, record)
        json_object_del(json_object_get(record, "work"), "reportsTo");
    check_page(fixture, page, "employees");
    employee = json_array_get(json_object_get(page, "employees"), 5);
    reports_to = json_object_get(json_object_get(employee, "work"), "reportsTo");
    assert_true(json_is_object(reports_to));
    assert_string_equal(
        json_string_value(json_object_get(reports_to, "id")),
        json_string_value(json_object_get(json_object_get(employee, "work"), "manager")));
    assert_true(json_is_string(json_object_get(reports_to, "displayName")));
    json_decref(page);
    json_decref(fixture);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bamboohr_employees_fixture),
        cmocka_unit_test(test_bamboohr_dataset_shape),
        cmocka_unit_test(test_personio_employees_fixture),
        cmocka_unit_test(test_hibob_people_fixture),
        cmocka_unit_test(test_hibob_people_machine_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
