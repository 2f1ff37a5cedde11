/*
 * Unit tests for gateway/gw_query.c: query parameters of the read API parsed from a stack
 * request (no socket, no database): bounds, 400s naming their parameter, expand, repetition,
 * and the SQL conditions and bound parameters the filters produce.
 */
#include "gw_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define ACCOUNT      "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ACCOUNT_B    "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define UUID_1       "21a54124-397f-494d-985e-3c5b330b8a68"
#define UUID_2       "17a54124-287f-494d-965e-3c5b330c9a68"
#define UUID_1_UPPER "21A54124-397F-494D-985E-3C5B330B8A68"

struct fixture {
    struct gw_app app;
    struct gw_req req;
    struct gw_list_query q;
    bool parsed;
};

static struct fixture fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    for (int i = 0; i < RS_CURSOR_KEY_LEN; i++)
        fx.app.cursor_key[i] = (uint8_t)(i * 13 + 5);
    fx.req.app = &fx.app;
    snprintf(fx.req.account.id_text, sizeof(fx.req.account.id_text), "%s", ACCOUNT);
    assert_int_equal(rs_uuid_parse(ACCOUNT, &fx.req.account.id), RS_OK);
    TAILQ_INIT(&fx.req.query);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (fx.parsed)
        gw_query_cleanup(&fx.q);
    evhttp_clear_headers(&fx.req.query);
    return 0;
}

static void set_query(const char *qs)
{
    if (fx.parsed)
        gw_query_cleanup(&fx.q);
    fx.parsed = false;
    evhttp_clear_headers(&fx.req.query);
    rs_errbuf_clear(&fx.req.eb);
    assert_int_equal(evhttp_parse_query_str(qs, &fx.req.query), 0);
}

static enum rs_err parse_list(enum rs_model_kind kind, const char *qs)
{
    enum rs_err err;

    set_query(qs);
    err = gw_query_parse_list(&fx.req, rs_model_get(kind), &fx.q);
    fx.parsed = true; /* the query is initialized even when parsing fails */
    return err;
}

static enum rs_err parse_retrieve(enum rs_model_kind kind, const char *qs)
{
    enum rs_err err;

    set_query(qs);
    err = gw_query_parse_retrieve(&fx.req, rs_model_get(kind), &fx.q);
    fx.parsed = true;
    return err;
}

/* Parsing qs for kind must fail with a 400 naming param. */
static void expect_400(enum rs_model_kind kind, const char *qs, const char *param)
{
    enum rs_err err = parse_list(kind, qs);

    if (err != RS_ERR_INVALID)
        fail_msg("%s should be refused, got %s", qs, rs_err_name(err));
    if (strcmp(fx.req.eb.param, param) != 0)
        fail_msg("%s: the error names \"%s\", not %s", qs, fx.req.eb.param, param);
    assert_true(fx.req.eb.msg[0] != '\0');
}

static void expect_ok(enum rs_model_kind kind, const char *qs)
{
    enum rs_err err = parse_list(kind, qs);

    if (err != RS_OK)
        fail_msg("%s: %s (%s: %s)", qs, rs_err_name(err), fx.req.eb.param, fx.req.eb.msg);
}

static const char *where(void)
{
    return fx.q.where.data ? fx.q.where.data : "";
}

static uint64_t expand_bit(enum rs_model_kind kind, const char *field)
{
    const struct rs_model *model = rs_model_get(kind);
    const struct rs_field *f = rs_model_field(model, field);

    assert_non_null(f);
    return UINT64_C(1) << (f - model->fields);
}

static void test_defaults(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE, "");
    assert_ptr_equal(fx.q.model, rs_model_get(RS_MODEL_EMPLOYEE));
    assert_int_equal(fx.q.page_size, 100);
    assert_false(fx.q.include_deleted);
    assert_false(fx.q.include_remote_data);
    assert_false(fx.q.has_cursor);
    assert_int_equal(fx.q.expand, 0);
    assert_string_equal(fx.q.sort_column, "modified_at");
    assert_false(fx.q.sort_desc);
    assert_int_equal(fx.q.nparams, 1);
    assert_string_equal(fx.q.params[0], ACCOUNT);
    assert_string_equal(where(), "");
    assert_string_equal(fx.q.cursor_context, ACCOUNT "/employees/modified_at");
}

static void test_page_size_bounds(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_TEAM, "page_size=1");
    assert_int_equal(fx.q.page_size, 1);
    expect_ok(RS_MODEL_TEAM, "page_size=100");
    assert_int_equal(fx.q.page_size, 100);
    expect_ok(RS_MODEL_TEAM, "page_size=37");
    assert_int_equal(fx.q.page_size, 37);
    expect_400(RS_MODEL_TEAM, "page_size=0", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=101", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=-5", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=ten", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=5x", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=", "page_size");
    expect_400(RS_MODEL_TEAM, "page_size=99999999999999999999", "page_size");
}

/* Every parameter that can be malformed answers 400 naming itself. */
static void test_each_400_names_its_parameter(void **state)
{
    static const struct {
        enum rs_model_kind kind;
        const char *qs, *param;
    } bad[] = {
        {RS_MODEL_EMPLOYEE, "created_after=yesterday", "created_after"},
        {RS_MODEL_EMPLOYEE, "created_before=2024-13-01", "created_before"},
        {RS_MODEL_EMPLOYEE, "modified_after=2024-02-30T00:00:00Z", "modified_after"},
        {RS_MODEL_EMPLOYEE, "modified_before=1700000000", "modified_before"},
        {RS_MODEL_EMPLOYEE, "include_deleted_data=maybe", "include_deleted_data"},
        {RS_MODEL_EMPLOYEE, "include_remote_data=yes", "include_remote_data"},
        {RS_MODEL_EMPLOYEE, "include_shell_data=2", "include_shell_data"},
        {RS_MODEL_EMPLOYEE, "include_sensitive_fields=on", "include_sensitive_fields"},
        {RS_MODEL_EMPLOYEE, "expand=nonsense", "expand"},
        {RS_MODEL_EMPLOYEE, "cursor=abc", "cursor"},
        {RS_MODEL_EMPLOYEE, "company_id=acme", "company_id"},
        {RS_MODEL_EMPLOYEE, "employment_status=active", "employment_status"},
        {RS_MODEL_EMPLOYEE, "employment_type=SEASONAL", "employment_type"},
        {RS_MODEL_EMPLOYEE, "groups=" UUID_1 ",nope", "groups"},
        {RS_MODEL_EMPLOYEE, "groups=" UUID_1 ",," UUID_2, "groups"},
        {RS_MODEL_EMPLOYEE, "groups=", "groups"},
        {RS_MODEL_EMPLOYEE, "home_location_id=1", "home_location_id"},
        {RS_MODEL_EMPLOYEE, "manager_id=" UUID_1 "0", "manager_id"},
        {RS_MODEL_EMPLOYEE, "pay_group_id=x", "pay_group_id"},
        {RS_MODEL_EMPLOYEE, "started_after=2024", "started_after"},
        {RS_MODEL_EMPLOYEE, "started_before=01/02/2024", "started_before"},
        {RS_MODEL_EMPLOYEE, "team_id=team-1", "team_id"},
        {RS_MODEL_EMPLOYEE, "terminated_after=soon", "terminated_after"},
        {RS_MODEL_EMPLOYEE, "terminated_before=2024-01-01T24:00:00Z", "terminated_before"},
        {RS_MODEL_EMPLOYEE, "work_location_id=" UUID_1 "%20", "work_location_id"},
        {RS_MODEL_EMPLOYMENT, "employee_id=E1", "employee_id"},
        {RS_MODEL_EMPLOYMENT, "order_by=modified_at", "order_by"},
        {RS_MODEL_EMPLOYMENT, "order_by=effective_date%20", "order_by"},
        {RS_MODEL_EMPLOYMENT, "expand=manager", "expand"},
        {RS_MODEL_GROUP, "is_commonly_used_as_team=yes", "is_commonly_used_as_team"},
        {RS_MODEL_GROUP, "types=DEPARTMENT,SQUAD", "types"},
        {RS_MODEL_GROUP, "types=department", "types"},
        {RS_MODEL_GROUP, "names=a,,b", "names"},
        {RS_MODEL_GROUP, "names=a,", "names"},
        {RS_MODEL_GROUP, "expand=parent_group", "expand"},
        {RS_MODEL_TEAM, "parent_team_id=root", "parent_team_id"},
        {RS_MODEL_LOCATION, "location_type=OFFICE", "location_type"},
        {RS_MODEL_COMPANY, "expand=eins", "expand"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_400(bad[i].kind, bad[i].qs, bad[i].param);
}

static void test_booleans(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE, "include_deleted_data=true&include_remote_data=TRUE");
    assert_true(fx.q.include_deleted);
    assert_true(fx.q.include_remote_data);
    expect_ok(RS_MODEL_EMPLOYEE, "include_deleted_data=0&include_remote_data=False");
    assert_false(fx.q.include_deleted);
    assert_false(fx.q.include_remote_data);
    expect_ok(RS_MODEL_EMPLOYEE, "include_deleted_data=1&include_shell_data=false&"
                                 "include_sensitive_fields=true");
    assert_true(fx.q.include_deleted);
    assert_string_equal(where(), "");
}

static void test_expand(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE, "expand=manager,team");
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_EMPLOYEE, "manager") |
                                      expand_bit(RS_MODEL_EMPLOYEE, "team"));
    /* the SDK's form: repeated keys */
    expect_ok(RS_MODEL_EMPLOYEE, "expand=groups&expand=employments&expand=company,work_location");
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_EMPLOYEE, "groups") |
                                      expand_bit(RS_MODEL_EMPLOYEE, "employments") |
                                      expand_bit(RS_MODEL_EMPLOYEE, "company") |
                                      expand_bit(RS_MODEL_EMPLOYEE, "work_location"));
    /* every relation Merge documents for employees */
    expect_ok(RS_MODEL_EMPLOYEE, "expand=company,employments,groups,home_location,manager,"
                                 "pay_group,team,work_location");
    assert_int_equal(__builtin_popcountll(fx.q.expand), 8);
    expect_ok(RS_MODEL_EMPLOYMENT, "expand=employee,pay_group");
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_EMPLOYMENT, "employee") |
                                      expand_bit(RS_MODEL_EMPLOYMENT, "pay_group"));
    expect_ok(RS_MODEL_TEAM, "expand=parent_team");
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_TEAM, "parent_team"));
    /* unknown, not a relation, or empty items */
    expect_400(RS_MODEL_EMPLOYEE, "expand=manager,boss", "expand");
    expect_400(RS_MODEL_EMPLOYEE, "expand=first_name", "expand");
    expect_400(RS_MODEL_EMPLOYEE, "expand=manager&expand=nope", "expand");
    expect_400(RS_MODEL_EMPLOYEE, "expand=", "expand");
    expect_400(RS_MODEL_EMPLOYEE, "expand=manager,", "expand");
    expect_400(RS_MODEL_EMPLOYEE, "expand=Manager", "expand");
    assert_non_null(strstr(fx.req.eb.msg, "Manager"));
}

static void test_repeated_parameter_refused(void **state)
{
    (void)state;
    expect_400(RS_MODEL_EMPLOYEE, "page_size=1&page_size=2", "page_size");
    expect_400(RS_MODEL_EMPLOYEE, "first_name=a&last_name=b&first_name=a", "first_name");
    expect_400(RS_MODEL_EMPLOYEE, "cursor=x&cursor=y", "cursor");
    expect_400(RS_MODEL_EMPLOYEE, "include_remote_data=true&include_remote_data=true",
               "include_remote_data");
    expect_400(RS_MODEL_GROUP, "types=TEAM&types=GROUP", "types");
    /* a known Merge parameter that Roster ignores is still single-valued */
    expect_400(RS_MODEL_EMPLOYEE, "show_enum_origins=a&show_enum_origins=b", "show_enum_origins");
    /* repeating a parameter nobody knows is not an error */
    expect_ok(RS_MODEL_EMPLOYEE, "foo=1&foo=2&expand=team&expand=team");
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_EMPLOYEE, "team"));
}

static void test_unknown_parameters_ignored(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE, "foo=bar&remote_fields=gender&show_enum_origins=gender&x=");
    assert_string_equal(where(), "");
    assert_int_equal(fx.q.nparams, 1);
    /* another model's filter means nothing here */
    expect_ok(RS_MODEL_EMPLOYEE, "parent_team_id=not-a-uuid&location_type=MOON&order_by=x");
    assert_string_equal(where(), "");
    assert_string_equal(fx.q.sort_column, "modified_at");
    expect_ok(RS_MODEL_COMPANY, "first_name=Ada&employment_status=nope");
    assert_string_equal(where(), "");
}

static void test_sql_conditions(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE, "first_name=Ada&created_after=2024-01-01T01:00:00%2B01:00");
    assert_string_equal(where(), " AND t.first_name = $2 AND t.created_at > $3::timestamptz");
    assert_int_equal(fx.q.nparams, 3);
    assert_string_equal(fx.q.params[0], ACCOUNT);
    assert_string_equal(fx.q.params[1], "Ada");
    assert_string_equal(fx.q.params[2], "2024-01-01T00:00:00Z");

    expect_ok(RS_MODEL_EMPLOYEE, "modified_before=2024-06-01&started_after=2020-01-01T00:00:00.5Z"
                                 "&terminated_before=2023-01-01");
    assert_string_equal(where(), " AND t.modified_at < $2::timestamptz"
                                 " AND t.start_date > $3::timestamptz"
                                 " AND t.termination_date < $4::timestamptz");
    assert_string_equal(fx.q.params[1], "2024-06-01T00:00:00Z");
    assert_string_equal(fx.q.params[2], "2020-01-01T00:00:00.500000Z");

    /* UUIDs are canonicalized before they are bound */
    expect_ok(RS_MODEL_EMPLOYEE, "manager_id=" UUID_1_UPPER);
    assert_string_equal(where(), " AND t.manager_id = $2::uuid");
    assert_string_equal(fx.q.params[1], UUID_1);

    expect_ok(RS_MODEL_EMPLOYEE, "groups=" UUID_1 "," UUID_2);
    assert_string_equal(where(), " AND t.group_ids && $2::uuid[]");
    assert_string_equal(fx.q.params[1], "{\"" UUID_1 "\",\"" UUID_2 "\"}");

    expect_ok(RS_MODEL_EMPLOYEE, "employment_type=CONTRACTOR&employment_status=ACTIVE");
    assert_non_null(strstr(where(), "EXISTS (SELECT 1 FROM employments m WHERE "
                                    "m.linked_account_id = t.linked_account_id AND "
                                    "m.employee_id = t.id AND NOT m.remote_was_deleted AND "
                                    "m.employment_type = $2)"));
    assert_non_null(strstr(where(), " AND t.employment_status = $3"));
    assert_string_equal(fx.q.params[1], "CONTRACTOR");
    assert_string_equal(fx.q.params[2], "ACTIVE");

    expect_ok(RS_MODEL_EMPLOYEE, "job_title=Senior%20Engineer&remote_id=E%2F1");
    assert_non_null(strstr(where(), "m.job_title = $2)"));
    assert_non_null(strstr(where(), " AND t.remote_id = $3"));
    assert_string_equal(fx.q.params[1], "Senior Engineer");
    assert_string_equal(fx.q.params[2], "E/1");

    /* list items are quoted for an array literal: quotes and backslashes escaped */
    expect_ok(RS_MODEL_GROUP, "names=R%26D%20%22Lab%22,a%5Cb,Sales&types=TEAM,COST_CENTER"
                              "&is_commonly_used_as_team=1");
    assert_string_equal(where(), " AND t.name = ANY($2::text[]) AND t.type = ANY($3::text[])"
                                 " AND t.is_commonly_used_as_team = $4::boolean");
    assert_string_equal(fx.q.params[1], "{\"R&D \\\"Lab\\\"\",\"a\\\\b\",\"Sales\"}");
    assert_string_equal(fx.q.params[2], "{\"TEAM\",\"COST_CENTER\"}");
    assert_string_equal(fx.q.params[3], "true");

    expect_ok(RS_MODEL_TEAM, "parent_team_id=" UUID_2);
    assert_string_equal(where(), " AND t.parent_team_id = $2::uuid");
    expect_ok(RS_MODEL_LOCATION, "location_type=HOME");
    assert_string_equal(where(), " AND t.location_type = $2");
    assert_string_equal(fx.q.params[1], "HOME");
    expect_ok(RS_MODEL_EMPLOYMENT, "employee_id=" UUID_1);
    assert_string_equal(where(), " AND t.employee_id = $2::uuid");
}

/* Bound parameters stay within the fixed array however many filters there are. */
static void test_many_filters(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYEE,
              "company_id=" UUID_1 "&display_full_name=a&employee_number=1&employment_status="
              "ACTIVE&employment_type=INTERN&first_name=b&groups=" UUID_2
              "&home_location_id=" UUID_1 "&job_title=c&last_name=d&manager_id=" UUID_1
              "&pay_group_id=" UUID_1
              "&personal_email=e&started_after=2020-01-01&started_before=2021-01-01&team_id=" UUID_1
              "&terminated_after=2020-01-01&terminated_before=2021-01-01&work_email=f"
              "&work_location_id=" UUID_1 "&created_after=2020-01-01&created_before=2021-01-01"
              "&modified_after=2020-01-01&modified_before=2021-01-01&remote_id=g");
    assert_int_equal(fx.q.nparams, 26);
    for (int i = 2; i <= 26; i++) {
        char placeholder[8];

        snprintf(placeholder, sizeof(placeholder), "$%d", i);
        if (!strstr(where(), placeholder))
            fail_msg("no %s in %s", placeholder, where());
    }
}

static void test_order_by(void **state)
{
    (void)state;
    expect_ok(RS_MODEL_EMPLOYMENT, "order_by=effective_date");
    assert_string_equal(fx.q.sort_column, "effective_date");
    assert_false(fx.q.sort_desc);
    assert_string_equal(fx.q.cursor_context, ACCOUNT "/employments/effective_date");
    expect_ok(RS_MODEL_EMPLOYMENT, "order_by=-effective_date");
    assert_string_equal(fx.q.sort_column, "effective_date");
    assert_true(fx.q.sort_desc);
    assert_string_equal(fx.q.cursor_context, ACCOUNT "/employments/-effective_date");
}

static void encode(const char *context, bool backward, char text[RS_CURSOR_MAX_LEN])
{
    struct rs_cursor cur = {.backward = backward, .sort_us = INT64_C(1700000000123456)};

    assert_int_equal(rs_uuid_parse(UUID_1, &cur.id), RS_OK);
    rs_cursor_encode(&cur, context, fx.app.cursor_key, text);
}

static void test_cursor(void **state)
{
    char text[RS_CURSOR_MAX_LEN], qs[128];

    (void)state;
    encode(ACCOUNT "/employees/modified_at", true, text);
    snprintf(qs, sizeof(qs), "cursor=%s", text);
    expect_ok(RS_MODEL_EMPLOYEE, qs);
    assert_true(fx.q.has_cursor);
    assert_true(fx.q.cursor.backward);
    assert_int_equal(fx.q.cursor.sort_us, INT64_C(1700000000123456));
    /* the same cursor on another endpoint, for another account, or another order: refused */
    expect_400(RS_MODEL_TEAM, qs, "cursor");
    expect_400(RS_MODEL_EMPLOYMENT, qs, "cursor");
    snprintf(fx.req.account.id_text, sizeof(fx.req.account.id_text), "%s", ACCOUNT_B);
    expect_400(RS_MODEL_EMPLOYEE, qs, "cursor");
    snprintf(fx.req.account.id_text, sizeof(fx.req.account.id_text), "%s", ACCOUNT);

    encode(ACCOUNT "/employments/-effective_date", false, text);
    snprintf(qs, sizeof(qs), "order_by=-effective_date&cursor=%s", text);
    expect_ok(RS_MODEL_EMPLOYMENT, qs);
    assert_true(fx.q.has_cursor);
    assert_false(fx.q.cursor.backward);
    /* the cursor position is checked after order_by, whatever the parameter order */
    snprintf(qs, sizeof(qs), "cursor=%s&order_by=-effective_date", text);
    expect_ok(RS_MODEL_EMPLOYMENT, qs);
    snprintf(qs, sizeof(qs), "cursor=%s&order_by=effective_date", text);
    expect_400(RS_MODEL_EMPLOYMENT, qs, "cursor");
    snprintf(qs, sizeof(qs), "cursor=%s", text);
    expect_400(RS_MODEL_EMPLOYMENT, qs, "cursor");

    /* another key */
    encode(ACCOUNT "/employees/modified_at", false, text);
    fx.app.cursor_key[0] ^= 1;
    snprintf(qs, sizeof(qs), "cursor=%s", text);
    expect_400(RS_MODEL_EMPLOYEE, qs, "cursor");
    fx.app.cursor_key[0] ^= 1;
}

/* Retrieve takes only expand, include_remote_data and Merge's ignored flags. */
static void test_parse_retrieve(void **state)
{
    (void)state;
    assert_int_equal(parse_retrieve(RS_MODEL_EMPLOYEE,
                                    "expand=manager&include_remote_data=true"
                                    "&first_name=x&page_size=0&cursor=bad"
                                    "&created_after=never&include_shell_data=true"),
                     RS_OK);
    assert_int_equal(fx.q.expand, expand_bit(RS_MODEL_EMPLOYEE, "manager"));
    assert_true(fx.q.include_remote_data);
    assert_false(fx.q.has_cursor);
    assert_false(fx.q.include_deleted);
    assert_string_equal(where(), "");
    assert_int_equal(parse_retrieve(RS_MODEL_EMPLOYEE, "include_deleted_data=true"), RS_OK);
    assert_false(fx.q.include_deleted);
    assert_int_equal(parse_retrieve(RS_MODEL_EMPLOYEE, "expand=boss"), RS_ERR_INVALID);
    assert_string_equal(fx.req.eb.param, "expand");
    assert_int_equal(parse_retrieve(RS_MODEL_EMPLOYEE, "include_remote_data=perhaps"),
                     RS_ERR_INVALID);
    assert_string_equal(fx.req.eb.param, "include_remote_data");
    assert_int_equal(parse_retrieve(RS_MODEL_EMPLOYEE, "include_sensitive_fields=x"),
                     RS_ERR_INVALID);
    assert_string_equal(fx.req.eb.param, "include_sensitive_fields");
}

static void test_query_page(void **state)
{
    char text[RS_CURSOR_MAX_LEN], qs[128];
    struct rs_cursor cur;
    bool has_cursor = true;
    int page_size = 0;

    (void)state;
    set_query("");
    assert_int_equal(gw_query_page(&fx.req, "org/linked-accounts", &page_size, &has_cursor, &cur),
                     RS_OK);
    assert_int_equal(page_size, 100);
    assert_false(has_cursor);
    set_query("page_size=0");
    assert_int_equal(gw_query_page(&fx.req, "org/linked-accounts", &page_size, &has_cursor, &cur),
                     RS_ERR_INVALID);
    assert_string_equal(fx.req.eb.param, "page_size");
    encode("org/linked-accounts", false, text);
    snprintf(qs, sizeof(qs), "page_size=3&cursor=%s", text);
    set_query(qs);
    assert_int_equal(gw_query_page(&fx.req, "org/linked-accounts", &page_size, &has_cursor, &cur),
                     RS_OK);
    assert_int_equal(page_size, 3);
    assert_true(has_cursor);
    assert_int_equal(gw_query_page(&fx.req, "org2/linked-accounts", &page_size, &has_cursor, &cur),
                     RS_ERR_INVALID);
    assert_string_equal(fx.req.eb.param, "cursor");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_page_size_bounds),
        T(test_each_400_names_its_parameter),
        T(test_booleans),
        T(test_expand),
        T(test_repeated_parameter_refused),
        T(test_unknown_parameters_ignored),
        T(test_sql_conditions),
        T(test_many_filters),
        T(test_order_by),
        T(test_cursor),
        T(test_parse_retrieve),
        T(test_query_page),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
