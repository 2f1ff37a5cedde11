/*
 * Unit tests for sandbox/sbx_factorial.c: cursor paging over every listing, the employee,
 * team, location, legal entity and contract shapes against the company's truth, control edits
 * and the updated_at_gteq filter, versions, and faults in Factorial's shape.
 */
#include "sbx_test.h"

#define BASE "http://sandbox.test/factorial"
#define API  "/api/2026-07-01/resources/"

/* GET API<resource>?query with x-api-key: sandbox; the JSON answer (new ref) when 200. */
static json_t *get(struct sbx_ctx *ctx, const char *resource, const char *query, int *status)
{
    struct sbx_req req;
    struct sbx_resp resp;
    char path[256];
    json_t *root = NULL;

    snprintf(path, sizeof(path), "%s%s", resource[0] == '/' ? "" : API, resource);
    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_GET, BASE, path, query, NULL, NULL);
    req.api_key = "sandbox";
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &req, &resp);
    *status = resp.status;
    root = sbx_test_json(&resp);
    sbx_http_resp_cleanup(&resp);
    return root;
}

static json_t *get_ok(struct sbx_ctx *ctx, const char *resource, const char *query)
{
    int status;
    json_t *root = get(ctx, resource, query, &status);

    assert_int_equal(status, 200);
    return root;
}

static const json_t *meta(const json_t *root, const char *key)
{
    return json_object_get(json_object_get(root, "meta"), key);
}

/* Every record of a listing, paged with limit; *pages gets the number of requests. */
static json_t *all_pages(struct sbx_ctx *ctx, const char *resource, int limit, int *pages)
{
    json_t *all = json_array(), *root;
    char query[256], escaped[128];

    *pages = 0;
    snprintf(query, sizeof(query), "limit=%d", limit);
    for (;;) {
        const char *cursor;

        root = get_ok(ctx, resource, query);
        json_array_extend(all, json_object_get(root, "data"));
        (*pages)++;
        assert_true(*pages < 1000);
        assert_int_equal(json_is_true(meta(root, "has_previous_page")), *pages > 1);
        if (!json_is_true(meta(root, "has_next_page"))) {
            json_decref(root);
            return all;
        }
        cursor = json_string_value(meta(root, "end_cursor"));
        assert_non_null(cursor);
        /* base64 may hold + / =: escape as a client must */
        escaped[0] = '\0';
        for (size_t i = 0, o = 0; cursor[i] && o + 4 < sizeof(escaped); i++)
            o += (size_t)snprintf(escaped + o, sizeof(escaped) - o,
                                  strchr("+/=", cursor[i]) ? "%%%02X" : "%c",
                                  (unsigned char)cursor[i]);
        snprintf(query, sizeof(query), "limit=%d&after_id=%s", limit, escaped);
        json_decref(root);
    }
}

static json_t *by_id(const json_t *records, json_int_t id)
{
    size_t i;
    json_t *rec;

    json_array_foreach(records, i, rec)
    {
        if (json_integer_value(json_object_get(rec, "id")) == id)
            return rec;
    }
    return NULL;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void test_paging(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(230, 2);
    json_t *root, *all;
    int pages, status;

    (void)state;
    root = get_ok(ctx, "employees/employees", NULL);
    assert_int_equal(json_array_size(json_object_get(root, "data")), 100);
    assert_int_equal(json_integer_value(meta(root, "limit")), 100);
    assert_int_equal(json_integer_value(meta(root, "total")), 230);
    assert_true(json_is_true(meta(root, "has_next_page")));
    assert_true(json_is_false(meta(root, "has_previous_page")));
    assert_non_null(json_string_value(meta(root, "start_cursor")));
    json_decref(root);
    root = get_ok(ctx, "employees/employees", "limit=500");
    assert_int_equal(json_integer_value(meta(root, "limit")), 100); /* the hard maximum */
    json_decref(root);
    /* small pages cover everyone exactly once, in order */
    all = all_pages(ctx, "employees/employees", 7, &pages);
    assert_int_equal(json_array_size(all), 230);
    assert_int_equal(pages, 33);
    for (size_t i = 0; i < 230; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "id")),
                         sbx_company_factorial_id((int)i));
    json_decref(all);
    json_decref(get(ctx, "employees/employees", "after_id=bm9wZQ%3D%3D", &status));
    assert_int_equal(status, 400);
    json_decref(get(ctx, "employees/employees", "limit=0", &status));
    assert_int_equal(status, 400);
    json_decref(get(ctx, "employees/nothing", NULL, &status));
    assert_int_equal(status, 404);
    json_decref(get(ctx, "/api/v1/resources/employees/employees", NULL, &status));
    assert_int_equal(status, 404);
    json_decref(get_ok(ctx, "/api/2025-01-01/resources/employees/employees", NULL));
    sbx_test_ctx_free(ctx);
}

/* Each employee against the truth of its person. */
static void check_employee(const struct sbx_company *c, const json_t *e, int32_t today)
{
    long index = sbx_company_index_from_factorial(json_integer_value(json_object_get(e, "id")));
    const struct sbx_person *p = sbx_company_get((struct sbx_company *)c, index);
    const struct sbx_person *m;
    const json_t *teams = json_object_get(e, "team_ids");
    char date[11];

    assert_non_null(p);
    m = sbx_company_manager(c, p);
    assert_string_equal(str(e, "first_name"), p->first_name);
    assert_string_equal(str(e, "last_name"), p->last_name);
    assert_string_equal(str(e, "email"), p->work_email);
    assert_string_equal(str(e, "seniority_calculation_date"), sbx_time_date(p->hire_day, date));
    assert_int_equal(json_integer_value(json_object_get(e, "location_id")),
                     sbx_company_unit_id(c, SBX_UNIT_LOCATION, p->location));
    if (m)
        assert_int_equal(json_integer_value(json_object_get(e, "manager_id")),
                         sbx_company_factorial_id(m->index));
    else
        assert_true(json_is_null(json_object_get(e, "manager_id")));
    assert_int_equal(json_array_size(teams), p->team >= 0 ? 1 : 0);
    if (p->team >= 0)
        assert_int_equal(json_integer_value(json_array_get(teams, 0)),
                         sbx_company_unit_id(c, SBX_UNIT_TEAM, p->team));
    if (p->state == SBX_STATE_TERMINATED) {
        assert_string_equal(str(e, "terminated_on"), sbx_time_date(p->term_day, date));
        assert_true(json_is_false(json_object_get(e, "active")));
        assert_int_equal(json_is_true(json_object_get(e, "is_terminating")), p->term_day > today);
    } else {
        assert_true(json_is_null(json_object_get(e, "terminated_on")));
        assert_true(json_is_true(json_object_get(e, "active")));
    }
}

static void test_employees_match_truth(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(300, 2);
    json_t *all;
    int pages, states[4] = {0};
    size_t i;
    json_t *e;

    (void)state;
    all = all_pages(ctx, "employees/employees", 100, &pages);
    assert_int_equal(json_array_size(all), 300);
    json_array_foreach(all, i, e)
    {
        check_employee(ctx->company, e, sbx_time_day(rs_time_now_us()));
        states[ctx->company->people[i].state]++;
    }
    /* the seed has leavers, people on leave and future hires */
    assert_true(states[SBX_STATE_TERMINATED] > 0);
    assert_true(states[SBX_STATE_LEAVE] > 0);
    assert_true(states[SBX_STATE_ONBOARDING] > 0);
    json_decref(all);
    all = all_pages(ctx, "employees/employees", 100, &pages);
    json_decref(all);
    all = get_ok(ctx, "employees/employees", "only_active=true&limit=100");
    assert_int_equal(json_integer_value(meta(all, "total")), 300 - states[SBX_STATE_TERMINATED]);
    json_decref(all);
    sbx_test_ctx_free(ctx);
}

static void test_units_and_contracts(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(120, 3);
    const struct sbx_company *c = ctx->company;
    json_t *teams, *members, *locations, *entities, *contracts, *rec;
    int pages, with_team = 0;
    size_t i, listed_members = 0;

    (void)state;
    for (size_t p = 0; p < c->count; p++)
        with_team += c->people[p].team >= 0;
    teams = all_pages(ctx, "teams/teams", 5, &pages);
    assert_int_equal(json_array_size(teams), c->nunits[SBX_UNIT_TEAM]);
    json_array_foreach(teams, i, rec) listed_members +=
        json_array_size(json_object_get(rec, "employee_ids"));
    assert_int_equal(listed_members, with_team);
    members = all_pages(ctx, "teams/memberships", 50, &pages);
    assert_int_equal(json_array_size(members), with_team);
    locations = all_pages(ctx, "locations/locations", 100, &pages);
    assert_int_equal(json_array_size(locations), c->nunits[SBX_UNIT_LOCATION]);
    rec = json_array_get(locations, 0);
    assert_true(json_is_string(json_object_get(rec, "id"))); /* strings, as the SDK types them */
    assert_string_equal(str(rec, "country"), "DE");
    assert_true(json_is_true(json_object_get(rec, "main")));
    entities = all_pages(ctx, "companies/legal_entities", 100, &pages);
    assert_int_equal(json_array_size(entities), sbx_pool_nsubcompany);
    assert_string_equal(str(json_array_get(entities, 0), "legal_name"), sbx_pool_subcompany[0]);
    assert_string_equal(str(json_array_get(entities, 0), "country"), "de");
    contracts = all_pages(ctx, "contracts/contract_versions", 100, &pages);
    assert_int_equal(json_array_size(contracts), 120);
    json_array_foreach(contracts, i, rec)
    {
        const struct sbx_person *p = &c->people[i];

        assert_int_equal(json_integer_value(json_object_get(rec, "employee_id")),
                         sbx_company_factorial_id(p->index));
        assert_string_equal(str(rec, "job_title"), p->title);
        assert_int_equal(
            json_integer_value(json_object_get(rec, "working_time_percentage_in_cents")),
            p->weekly_hours * 250);
    }
    json_decref(teams);
    json_decref(members);
    json_decref(locations);
    json_decref(entities);
    json_decref(contracts);
    sbx_test_ctx_free(ctx);
}

static void test_edits_and_filter(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(40, 1);
    struct rs_errbuf eb;
    json_t *body = json_pack("{s:s}", "date", "2026-03-31"), *root, *e;
    int64_t now = rs_time_now_us();
    char query[64], date[11];
    int index;

    (void)state;
    assert_int_equal(sbx_edit_terminate(ctx->company, 5, body, now, &eb), RS_OK);
    assert_int_equal(sbx_edit_delete(ctx->company, 6, now, &eb), RS_OK);
    json_decref(body);
    body = json_pack("{s:s, s:s, s:i}", "first_name", "Zoë", "last_name", "Ångström", "manager", 2);
    assert_int_equal(sbx_edit_hire(ctx->company, body, now, &index, &eb), RS_OK);
    json_decref(body);
    root = get_ok(ctx, "employees/employees", NULL);
    assert_int_equal(json_integer_value(meta(root, "total")), 40); /* 40 - deleted + hired */
    assert_null(by_id(json_object_get(root, "data"), sbx_company_factorial_id(6)));
    e = by_id(json_object_get(root, "data"), sbx_company_factorial_id(5));
    assert_string_equal(str(e, "terminated_on"), "2026-03-31");
    e = by_id(json_object_get(root, "data"), sbx_company_factorial_id(index));
    assert_string_equal(str(e, "first_name"), "Zoë");
    assert_int_equal(json_integer_value(json_object_get(e, "manager_id")),
                     sbx_company_factorial_id(2));
    json_decref(root);
    /* updated_at_gteq keeps the date only: today's edits, not the generated people */
    snprintf(query, sizeof(query), "updated_at_gteq=%sT23:59:59Z",
             sbx_time_date(sbx_time_day(now), date));
    root = get_ok(ctx, "employees/employees", query);
    assert_int_equal(json_integer_value(meta(root, "total")), 2);
    json_decref(root);
    ctx->company->empty = true;
    root = get_ok(ctx, "employees/employees", NULL);
    assert_int_equal(json_array_size(json_object_get(root, "data")), 0);
    assert_true(json_is_false(meta(root, "has_next_page")));
    assert_null(meta(root, "end_cursor"));
    json_decref(root);
    sbx_test_ctx_free(ctx);
}

static void test_faults(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(10, 1);
    struct sbx_req req;
    struct sbx_resp resp;
    struct rs_errbuf eb;
    json_t *body = json_pack("{s:s, s:s, s:i, s:i}", "provider", "factorial", "kind", "status",
                             "status", 429, "retry_after_s", 3);
    json_t *root;

    (void)state;
    assert_int_equal(sbx_fault_parse(body, &ctx->faults[ctx->nfaults++], &eb), RS_OK);
    json_decref(body);
    sbx_http_resp_init(&resp);
    sbx_test_req(&req, SBX_GET, BASE, API "employees/employees", NULL, NULL, NULL);
    req.api_key = "sandbox";
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &req, &resp);
    assert_int_equal(resp.status, 429);
    assert_string_equal(sbx_test_header(&resp, "Retry-After"), "3");
    root = sbx_test_json(&resp);
    assert_string_equal(str(root, "error"), "too_many_requests");
    json_decref(root);
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &req, &resp);
    assert_int_equal(resp.status, 200);
    req.api_key = NULL;
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &req, &resp);
    assert_int_equal(resp.status, 401);
    sbx_http_resp_cleanup(&resp);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_employees_match_truth),
        cmocka_unit_test(test_units_and_contracts),
        cmocka_unit_test(test_edits_and_filter),
        cmocka_unit_test(test_faults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
