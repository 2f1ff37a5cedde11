/*
 * Integration tests for gateway/gw_hris.c on a small hand-made dataset written through
 * rs_store, with timestamps set by SQL so that every expected result is known exactly: every
 * filter of gw_query.c, retrieve, tenant isolation and expansion. Keyset pagination over many
 * rows is in test_read_pagination.c.
 */
#include "gw_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "rt_hris.h"

#define ORG_ID    "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ACCOUNT_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ACCOUNT_B "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define PG1       "3b241101-e2bb-4255-8caf-4136c566a962"
#define PG2       "9f1a2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b"

static struct rt_hris fx;

/* Short names for the fixture's helpers, bound to fx. */
static void put(enum rs_model_kind kind, const char *rid, json_t *fields)
{
    rt_hris_put(&fx, kind, rid, fields);
}

static json_t *ref(enum rs_model_kind kind, const char *rid)
{
    return rt_hris_ref(&fx, kind, rid);
}

static PGresult *run(const char *sql, const char *p1, const char *p2)
{
    return rt_hris_sql(&fx, sql, p1, p2);
}

static const char *str(const json_t *obj, const char *key)
{
    return rt_hris_str(obj, key);
}

static const char *remote_ids(const json_t *page)
{
    return rt_hris_remote_ids(page, true);
}

static const char *remote_ids_in_order(const json_t *page)
{
    return rt_hris_remote_ids(page, false);
}

static const char *id_a(enum rs_model_kind kind, const char *remote_id)
{
    return rt_hris_id(ACCOUNT_A, kind, remote_id);
}

static json_t *list_ok(const char *account, enum rs_model_kind kind, const char *qs)
{
    return rt_hris_list_ok(&fx, account, kind, qs);
}

static json_t *retrieve_ok(enum rs_model_kind kind, const char *id, const char *qs)
{
    json_t *obj = NULL;
    enum rs_err err = rt_hris_retrieve(&fx, ACCOUNT_A, kind, id, qs, &obj);

    if (err != RS_OK)
        fail_msg("retrieve %s: %s (%s)", id, rs_err_name(err), fx.eb.msg);
    return obj;
}

/* Lists kind in account A with qs: a single page whose remote ids are exactly `expected`. */
static void expect_set(enum rs_model_kind kind, const char *qs, const char *expected)
{
    json_t *page = list_ok(ACCOUNT_A, kind, qs);
    const char *got = remote_ids(page);

    if (strcmp(got, expected) != 0)
        fail_msg("%s?%s returned {%s}, expected {%s}", rs_model_get(kind)->path, qs, got, expected);
    assert_true(json_is_null(json_object_get(page, "next")));
    assert_true(json_is_null(json_object_get(page, "previous")));
    json_decref(page);
}

static void expect_400(enum rs_model_kind kind, const char *qs, const char *param)
{
    json_t *page = NULL;
    enum rs_err err = rt_hris_list(&fx, ACCOUNT_A, kind, qs, &page);

    if (err != RS_ERR_INVALID)
        fail_msg("%s?%s: %s, expected invalid", rs_model_get(kind)->path, qs, rs_err_name(err));
    assert_string_equal(fx.eb.param, param);
    assert_null(page);
}

/* ---- the dataset ------------------------------------------------------------------------ */

static json_t *refs(enum rs_model_kind kind, const char *const *rids)
{
    json_t *array = json_array();

    for (size_t i = 0; i < 3 && rids[i]; i++)
        json_array_append_new(array, ref(kind, rids[i]));
    return array;
}

struct employee {
    const char *rid, *number, *company, *first, *last, *display, *groups[3], *work_email,
        *personal_email, *home, *work, *manager, *team, *pay_group, *status, *start, *term,
        *jobs[3];
};

/*
 * E1..E6 are live, E7 is marked deleted after writing. Columns: rid, number, company, first,
 * last, display, groups, work_email, personal_email, home, work, manager, team, pay_group,
 * status, start, term, jobs. (A table: kept one employee per row.)
 */
/* clang-format off */
static const struct employee employees[] = {
    {"E1", "1", "C1", "Ada", "Lovelace", "Ada Lovelace", {"G1", "G2"}, "ada@acme.example",
     "ada@home.example", "L2", "L1", NULL, "T1", PG1, "ACTIVE", "2020-01-01T00:00:00Z", NULL,
     {"J1"}},
    {"E2", "2", "C1", "Alan", "Turing", "Alan Turing", {"G1"}, "alan@acme.example", NULL, NULL,
     "L1", "E1", "T2", PG2, "ACTIVE", "2021-06-15T00:00:00Z", NULL, {"J2", "J6"}},
    {"E3", "3", "C2", "Grace", "Hopper", "Grace Hopper", {"G2", "G3"}, "grace@acme.example",
     "grace@home.example", "L2", "L3", "E1", "T2", PG1, "INACTIVE", "2019-03-01T00:00:00Z",
     "2023-05-01T00:00:00Z", {"J3", "J7"}},
    {"E4", "4", "C2", "Ada", "Byron", "Ada Byron", {NULL}, "byron@acme.example", NULL, NULL,
     "L3", "E2", "T3", NULL, "PENDING", "2024-09-01T00:00:00Z", NULL, {"J4"}},
    {"E5", "5", NULL, "Linus", "Torvalds", "Linus Torvalds", {"G4", "G404"}, NULL, NULL, NULL,
     NULL, "E2", NULL, NULL, "INACTIVE", "2018-01-01T00:00:00Z", "2022-12-31T12:00:00Z",
     {"J5", "J8"}},
    {"E6", NULL, NULL, "Édith", NULL, NULL, {NULL}, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, {NULL}},
    {"E7", "7", "C1", "Ghost", "Deleted", "Ghost Deleted", {"G1"}, "ghost@acme.example", NULL,
     NULL, "L1", "E1", "T1", PG1, "ACTIVE", "2017-01-01T00:00:00Z", NULL, {"J10"}},
};
/* clang-format on */

static json_t *employee_fields(const struct employee *e)
{
    json_t *fields = json_pack(
        "{s:s?, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, s:s?, s:s?, s:s?,"
        " s:s?, s:s}",
        "employee_number", e->number, "company", ref(RS_MODEL_COMPANY, e->company), "first_name",
        e->first, "last_name", e->last, "display_full_name", e->display, "work_email",
        e->work_email, "personal_email", e->personal_email, "home_location",
        ref(RS_MODEL_LOCATION, e->home), "work_location", ref(RS_MODEL_LOCATION, e->work),
        "manager", ref(RS_MODEL_EMPLOYEE, e->manager), "team", ref(RS_MODEL_TEAM, e->team),
        "employments", refs(RS_MODEL_EMPLOYMENT, e->jobs), "employment_status", e->status,
        "start_date", e->start, "termination_date", e->term, "pay_group", e->pay_group, "gender",
        "OTHER");

    assert_non_null(fields);
    if (e->groups[0]) /* E4 and E6 come without any groups key at all */
        json_object_set_new(fields, "groups", refs(RS_MODEL_GROUP, e->groups));
    return fields;
}

struct employment {
    const char *rid, *employee, *title, *type, *effective, *pay_group;
};

/* J8 is marked deleted after writing. */
static const struct employment employments[] = {
    {"J1", "E1", "CTO", "FULL_TIME", "2020-01-01T00:00:00Z", PG1},
    {"J2", "E2", "Engineer", "FULL_TIME", "2021-06-15T00:00:00Z", NULL},
    {"J3", "E3", "Engineer", "CONTRACTOR", "2019-03-01T00:00:00Z", NULL},
    {"J4", "E4", "Intern", "INTERN", NULL, NULL},
    {"J5", "E5", "Engineer", "PART_TIME", "2018-01-01T00:00:00Z", NULL},
    {"J6", "E2", "Senior Engineer", "FULL_TIME", "2023-01-01T00:00:00Z", PG2},
    {"J7", "E3", "Engineer", "FULL_TIME", NULL, NULL},
    {"J8", "E5", "Manager", "FREELANCE", "2021-06-15T00:00:00Z", NULL},
    {"J9", "E6", "Advisor", NULL, "2021-06-15T00:00:00+00:00", NULL},
    {"J10", "E7", "Ghost", "FULL_TIME", "2022-01-01T00:00:00Z", NULL},
};

static void write_structure(void)
{
    put(RS_MODEL_COMPANY, "C1",
        json_pack("{s:s, s:s, s:[s]}", "legal_name", "Acme GmbH", "display_name", "Acme", "eins",
                  "12-3456789"));
    put(RS_MODEL_COMPANY, "C2", json_pack("{s:s}", "legal_name", "Beta Inc"));
    put(RS_MODEL_LOCATION, "L1", json_pack("{s:s, s:s}", "name", "HQ", "location_type", "WORK"));
    put(RS_MODEL_LOCATION, "L2",
        json_pack("{s:s, s:s}", "name", "Home of Ada", "location_type", "HOME"));
    put(RS_MODEL_LOCATION, "L3", json_pack("{s:s, s:s}", "name", "Lab", "location_type", "WORK"));
    put(RS_MODEL_LOCATION, "L4", json_pack("{s:s}", "name", "Nowhere"));
    put(RS_MODEL_TEAM, "T1", json_pack("{s:s}", "name", "Engineering"));
    put(RS_MODEL_TEAM, "T2",
        json_pack("{s:s, s:o}", "name", "Platform", "parent_team", ref(RS_MODEL_TEAM, "T1")));
    put(RS_MODEL_TEAM, "T3",
        json_pack("{s:s, s:o}", "name", "Apps", "parent_team", ref(RS_MODEL_TEAM, "T1")));
    put(RS_MODEL_TEAM, "T4",
        json_pack("{s:s, s:o}", "name", "Storage", "parent_team", ref(RS_MODEL_TEAM, "T2")));
    put(RS_MODEL_GROUP, "G1",
        json_pack("{s:s, s:s, s:b}", "name", "Engineering", "type", "DEPARTMENT",
                  "is_commonly_used_as_team", 1));
    put(RS_MODEL_GROUP, "G2",
        json_pack("{s:s, s:s, s:b}", "name", "CC-100", "type", "COST_CENTER",
                  "is_commonly_used_as_team", 0));
    put(RS_MODEL_GROUP, "G3",
        json_pack("{s:s, s:s, s:b, s:o}", "name", "Platform", "type", "TEAM",
                  "is_commonly_used_as_team", 1, "parent_group", ref(RS_MODEL_GROUP, "G1")));
    put(RS_MODEL_GROUP, "G4",
        json_pack("{s:s, s:s, s:b}", "name", "Sales", "type", "BUSINESS_UNIT",
                  "is_commonly_used_as_team", 0));
    put(RS_MODEL_GROUP, "G5", json_pack("{s:s, s:s}", "name", "R&D \"Lab\"", "type", "DEPARTMENT"));
    put(RS_MODEL_GROUP, "G6",
        json_pack("{s:s, s:s, s:b}", "name", "Old", "type", "GROUP", "is_commonly_used_as_team",
                  1));
}

static void write_people(void)
{
    for (size_t i = 0; i < sizeof(employees) / sizeof(employees[0]); i++)
        put(RS_MODEL_EMPLOYEE, employees[i].rid, employee_fields(&employees[i]));
    for (size_t i = 0; i < sizeof(employments) / sizeof(employments[0]); i++) {
        const struct employment *j = &employments[i];

        put(RS_MODEL_EMPLOYMENT, j->rid,
            json_pack("{s:o, s:s, s:s?, s:s?, s:s?, s:f}", "employee",
                      ref(RS_MODEL_EMPLOYEE, j->employee), "job_title", j->title, "employment_type",
                      j->type, "effective_date", j->effective, "pay_group", j->pay_group,
                      "pay_rate", 1000.0 + (double)i));
    }
}

/*
 * Sets created_at (2024-01-01 + n-1 days) and modified_at (2024-03-01 + 10-n days) of table,
 * n being the rank of the remote id in account A: created and modified run in opposite orders.
 */
static void set_times(const char *table)
{
    char sql[1024];

    snprintf(sql, sizeof(sql),
             "UPDATE %s t SET created_at = '2024-01-01T00:00:00Z'::timestamptz + (r.n - 1) * "
             "interval '1 day', modified_at = '2024-03-01T00:00:00Z'::timestamptz + (10 - r.n) "
             "* interval '1 day' FROM (SELECT id, row_number() OVER (ORDER BY length(remote_id), "
             "remote_id) AS n FROM %s WHERE linked_account_id = $1::uuid) r "
             "WHERE t.linked_account_id = $1::uuid AND t.id = r.id",
             table, table);
    PQclear(run(sql, ACCOUNT_A, NULL));
}

static void write_account_b(void)
{
    rt_hris_begin(&fx, ACCOUNT_B);
    put(RS_MODEL_COMPANY, "C1", json_pack("{s:s}", "legal_name", "B Corp"));
    put(RS_MODEL_TEAM, "T1", json_pack("{s:s}", "name", "B team"));
    put(RS_MODEL_EMPLOYEE, "E1",
        json_pack("{s:s, s:s, s:o, s:s, s:o}", "first_name", "Ada", "employment_status", "ACTIVE",
                  "company", ref(RS_MODEL_COMPANY, "C1"), "work_email", "ada@acme.example", "team",
                  ref(RS_MODEL_TEAM, "T1")));
    put(RS_MODEL_EMPLOYEE, "E2", json_pack("{s:s}", "first_name", "Bert"));
    /* points at account A's E1 by id: expansion must not reach across accounts */
    put(RS_MODEL_EMPLOYEE, "EB3",
        json_pack("{s:s, s:s}", "first_name", "Cleo", "manager", id_a(RS_MODEL_EMPLOYEE, "E1")));
    put(RS_MODEL_EMPLOYMENT, "J1",
        json_pack("{s:o, s:s, s:s}", "employee", ref(RS_MODEL_EMPLOYEE, "E1"), "job_title",
                  "Engineer", "employment_type", "FULL_TIME"));
    rt_hris_commit(&fx);
}

/* ---- tests on the dataset --------------------------------------------------------------- */

static void test_default_listing(void **state)
{
    static const char *const keys[] = {"id",
                                       "remote_id",
                                       "created_at",
                                       "modified_at",
                                       "employee_number",
                                       "company",
                                       "first_name",
                                       "last_name",
                                       "preferred_name",
                                       "display_full_name",
                                       "username",
                                       "groups",
                                       "work_email",
                                       "personal_email",
                                       "mobile_phone_number",
                                       "employments",
                                       "home_location",
                                       "work_location",
                                       "manager",
                                       "team",
                                       "pay_group",
                                       "ssn",
                                       "gender",
                                       "ethnicity",
                                       "marital_status",
                                       "date_of_birth",
                                       "hire_date",
                                       "start_date",
                                       "remote_created_at",
                                       "employment_status",
                                       "termination_date",
                                       "avatar",
                                       "custom_fields",
                                       "remote_was_deleted",
                                       "field_mappings",
                                       "remote_data",
                                       NULL};
    json_t *page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, ""), *e1;
    const char *key;
    json_t *value;
    size_t i = 0;

    (void)state;
    /* modified_at ascending: E6 was modified first */
    assert_string_equal(remote_ids_in_order(page), "E6,E5,E4,E3,E2,E1");
    assert_true(json_is_null(json_object_get(page, "next")));
    assert_true(json_is_null(json_object_get(page, "previous")));
    e1 = json_array_get(json_object_get(page, "results"), 5);
    json_object_foreach(e1, key, value)
    {
        assert_non_null(keys[i]);
        assert_string_equal(key, keys[i]);
        i++;
    }
    assert_null(keys[i]);
    assert_string_equal(str(e1, "id"), id_a(RS_MODEL_EMPLOYEE, "E1"));
    assert_string_equal(str(e1, "created_at"), "2024-01-01T00:00:00Z");
    assert_string_equal(str(e1, "modified_at"), "2024-03-10T00:00:00Z");
    assert_string_equal(str(e1, "company"), id_a(RS_MODEL_COMPANY, "C1"));
    assert_string_equal(str(e1, "start_date"), "2020-01-01T00:00:00Z");
    assert_true(json_is_false(json_object_get(e1, "remote_was_deleted")));
    assert_true(json_is_null(json_object_get(e1, "remote_data")));
    assert_true(json_is_null(json_object_get(e1, "manager")));
    json_decref(page);

    expect_set(RS_MODEL_EMPLOYMENT, "", "J1,J2,J3,J4,J5,J6,J7,J9,J10");
    expect_set(RS_MODEL_GROUP, "", "G1,G2,G3,G4,G5");
    expect_set(RS_MODEL_TEAM, "", "T1,T2,T3,T4");
    expect_set(RS_MODEL_LOCATION, "", "L1,L2,L3,L4");
    expect_set(RS_MODEL_COMPANY, "", "C1,C2");
}

static void test_common_time_filters(void **state)
{
    (void)state;
    /* created: E1 2024-01-01 … E7 2024-01-07; bounds are exclusive */
    expect_set(RS_MODEL_EMPLOYEE, "created_after=2024-01-04T00:00:00Z", "E5,E6");
    expect_set(RS_MODEL_EMPLOYEE, "created_after=2024-01-03T23:59:59.999999Z", "E4,E5,E6");
    expect_set(RS_MODEL_EMPLOYEE, "created_before=2024-01-03T00:00:00Z", "E1,E2");
    expect_set(RS_MODEL_EMPLOYEE, "created_before=2024-01-03", "E1,E2");
    /* modified runs the other way: E1 2024-03-10 … E7 2024-03-04 */
    expect_set(RS_MODEL_EMPLOYEE, "modified_after=2024-03-07T00:00:00Z", "E1,E2,E3");
    expect_set(RS_MODEL_EMPLOYEE, "modified_before=2024-03-06T12:00:00%2B02:00", "E5,E6");
    expect_set(RS_MODEL_EMPLOYEE,
               "modified_before=2024-03-06T12:00:00%2B02:00&"
               "include_deleted_data=true",
               "E5,E6,E7");
    expect_set(RS_MODEL_EMPLOYEE, "modified_after=2024-03-05T23:00:00-01:00", "E1,E2,E3,E4");
    expect_set(RS_MODEL_EMPLOYEE,
               "created_after=2024-01-01T12:00:00Z&"
               "modified_after=2024-03-08T12:00:00Z",
               "E2");
    expect_set(RS_MODEL_EMPLOYEE, "created_after=2024-01-02&created_before=2024-01-05", "E3,E4");
    expect_set(RS_MODEL_EMPLOYEE, "created_after=2030-01-01", "");
    /* the same common filters on every other model */
    expect_set(RS_MODEL_EMPLOYMENT, "created_after=2024-01-07T00:00:00Z", "J9,J10");
    expect_set(RS_MODEL_EMPLOYMENT, "modified_after=2024-03-08T00:00:00Z", "J1,J2");
    expect_set(RS_MODEL_GROUP, "created_before=2024-01-02T00:00:00Z", "G1");
    expect_set(RS_MODEL_GROUP, "modified_before=2024-03-06T00:00:00Z", ""); /* G5 on the bound */
    expect_set(RS_MODEL_GROUP, "modified_before=2024-03-06T00:00:00.000001Z", "G5");
    expect_set(RS_MODEL_TEAM, "created_after=2024-01-02T00:00:00Z", "T3,T4");
    expect_set(RS_MODEL_TEAM, "modified_before=2024-03-08T00:00:00Z", "T4");
    expect_set(RS_MODEL_LOCATION, "modified_after=2024-03-08T00:00:00Z", "L1,L2");
    expect_set(RS_MODEL_COMPANY, "created_after=2024-01-01T00:00:00Z", "C2");
    expect_set(RS_MODEL_COMPANY, "modified_after=2024-03-09T00:00:00Z", "C1");
}

static void test_remote_id_filter(void **state)
{
    (void)state;
    expect_set(RS_MODEL_EMPLOYEE, "remote_id=E3", "E3");
    expect_set(RS_MODEL_EMPLOYEE, "remote_id=e3", "");
    expect_set(RS_MODEL_EMPLOYEE, "remote_id=E7", "");
    expect_set(RS_MODEL_EMPLOYEE, "remote_id=E7&include_deleted_data=true", "E7");
    expect_set(RS_MODEL_EMPLOYEE, "remote_id=EB3", ""); /* account B's */
    expect_set(RS_MODEL_EMPLOYMENT, "remote_id=J10", "J10");
    expect_set(RS_MODEL_GROUP, "remote_id=G5", "G5");
    expect_set(RS_MODEL_TEAM, "remote_id=T4", "T4");
    expect_set(RS_MODEL_LOCATION, "remote_id=L4", "L4");
    expect_set(RS_MODEL_COMPANY, "remote_id=C2", "C2");
}

static void test_include_deleted_data(void **state)
{
    json_t *page;
    json_t *results;

    (void)state;
    expect_set(RS_MODEL_EMPLOYEE, "include_deleted_data=false", "E1,E2,E3,E4,E5,E6");
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, "include_deleted_data=true");
    assert_string_equal(remote_ids(page), "E1,E2,E3,E4,E5,E6,E7");
    results = json_object_get(page, "results");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *e = json_array_get(results, i);

        assert_int_equal(json_is_true(json_object_get(e, "remote_was_deleted")),
                         strcmp(str(e, "remote_id"), "E7") == 0);
    }
    json_decref(page);
    expect_set(RS_MODEL_EMPLOYMENT, "include_deleted_data=true", "J1,J2,J3,J4,J5,J6,J7,J8,J9,J10");
    expect_set(RS_MODEL_GROUP, "include_deleted_data=1", "G1,G2,G3,G4,G5,G6");
    expect_set(RS_MODEL_GROUP, "include_deleted_data=1&is_commonly_used_as_team=true", "G1,G3,G6");
}

static void test_include_remote_data(void **state)
{
    json_t *page, *e, *remote, *obj;

    (void)state;
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, "include_remote_data=true&remote_id=E2");
    e = json_array_get(json_object_get(page, "results"), 0);
    remote = json_object_get(e, "remote_data");
    assert_true(json_is_array(remote));
    assert_int_equal(json_array_size(remote), 1);
    assert_string_equal(str(json_array_get(remote, 0), "path"), "/employees/E2");
    assert_string_equal(str(json_object_get(json_array_get(remote, 0), "data"), "first_name"),
                        "Alan");
    json_decref(page);
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, "include_remote_data=false&remote_id=E2");
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(page, "results"), 0), "remote_data")));
    json_decref(page);

    obj = retrieve_ok(RS_MODEL_TEAM, id_a(RS_MODEL_TEAM, "T2"), "include_remote_data=true");
    assert_string_equal(str(json_array_get(json_object_get(obj, "remote_data"), 0), "path"),
                        "/teams/T2");
    json_decref(obj);
    obj = retrieve_ok(RS_MODEL_TEAM, id_a(RS_MODEL_TEAM, "T2"), "");
    assert_true(json_is_null(json_object_get(obj, "remote_data")));
    assert_string_equal(str(obj, "parent_team"), id_a(RS_MODEL_TEAM, "T1"));
    json_decref(obj);
}

static void test_employee_filters(void **state)
{
    char qs[512];

    (void)state;
    snprintf(qs, sizeof(qs), "company_id=%s", id_a(RS_MODEL_COMPANY, "C1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E2");
    snprintf(qs, sizeof(qs), "company_id=%s", id_a(RS_MODEL_COMPANY, "C2"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E3,E4");
    expect_set(RS_MODEL_EMPLOYEE, "display_full_name=Ada%20Lovelace", "E1");
    expect_set(RS_MODEL_EMPLOYEE, "display_full_name=Ada", "");
    expect_set(RS_MODEL_EMPLOYEE, "employee_number=3", "E3");
    expect_set(RS_MODEL_EMPLOYEE, "employment_status=ACTIVE", "E1,E2");
    expect_set(RS_MODEL_EMPLOYEE, "employment_status=INACTIVE", "E3,E5");
    expect_set(RS_MODEL_EMPLOYEE, "employment_status=PENDING", "E4");
    /* through the employee's employments; deleted employments and employees do not count */
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=FULL_TIME", "E1,E2,E3");
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=FULL_TIME&include_deleted_data=true",
               "E1,E2,E3,E7");
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=CONTRACTOR", "E3");
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=INTERN", "E4");
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=PART_TIME", "E5");
    expect_set(RS_MODEL_EMPLOYEE, "employment_type=FREELANCE", "");
    expect_set(RS_MODEL_EMPLOYEE, "first_name=Ada", "E1,E4");
    expect_set(RS_MODEL_EMPLOYEE, "first_name=ada", "");
    expect_set(RS_MODEL_EMPLOYEE, "first_name=%C3%89dith", "E6");
    /* groups: comma-separated, any of */
    snprintf(qs, sizeof(qs), "groups=%s", id_a(RS_MODEL_GROUP, "G1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E2");
    snprintf(qs, sizeof(qs), "groups=%s,%s", id_a(RS_MODEL_GROUP, "G2"),
             id_a(RS_MODEL_GROUP, "G3"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E3");
    snprintf(qs, sizeof(qs), "groups=%s,%s", id_a(RS_MODEL_GROUP, "G4"),
             id_a(RS_MODEL_GROUP, "G1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E2,E5");
    snprintf(qs, sizeof(qs), "groups=%s", id_a(RS_MODEL_GROUP, "G5"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "");
    snprintf(qs, sizeof(qs), "home_location_id=%s", id_a(RS_MODEL_LOCATION, "L2"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E3");
    expect_set(RS_MODEL_EMPLOYEE, "job_title=Engineer", "E2,E3,E5");
    expect_set(RS_MODEL_EMPLOYEE, "job_title=CTO", "E1");
    expect_set(RS_MODEL_EMPLOYEE, "job_title=Manager", ""); /* J8 is deleted */
    expect_set(RS_MODEL_EMPLOYEE, "job_title=Senior%20Engineer", "E2");
    expect_set(RS_MODEL_EMPLOYEE, "last_name=Hopper", "E3");
    snprintf(qs, sizeof(qs), "manager_id=%s", id_a(RS_MODEL_EMPLOYEE, "E1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E2,E3");
    snprintf(qs, sizeof(qs), "manager_id=%s", id_a(RS_MODEL_EMPLOYEE, "E2"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E4,E5");
    expect_set(RS_MODEL_EMPLOYEE, "pay_group_id=" PG1, "E1,E3");
    expect_set(RS_MODEL_EMPLOYEE, "pay_group_id=" PG2, "E2");
    expect_set(RS_MODEL_EMPLOYEE, "personal_email=grace@home.example", "E3");
    /* start: E5 2018, E3 2019, E1 2020-01-01, E2 2021, E4 2024; bounds exclusive */
    expect_set(RS_MODEL_EMPLOYEE, "started_after=2020-01-01T00:00:00Z", "E2,E4");
    expect_set(RS_MODEL_EMPLOYEE, "started_after=2019-12-31T23:00:00%2B02:00", "E1,E2,E4");
    expect_set(RS_MODEL_EMPLOYEE, "started_after=2019-12-31T23:00:00-02:00", "E2,E4");
    expect_set(RS_MODEL_EMPLOYEE, "started_before=2020-01-01", "E3,E5");
    expect_set(RS_MODEL_EMPLOYEE, "started_after=2019-01-01&started_before=2022-01-01", "E1,E2,E3");
    snprintf(qs, sizeof(qs), "team_id=%s", id_a(RS_MODEL_TEAM, "T2"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E2,E3");
    /* termination: E5 2022-12-31T12:00Z, E3 2023-05-01; nobody else has one */
    expect_set(RS_MODEL_EMPLOYEE, "terminated_after=2023-01-01", "E3");
    expect_set(RS_MODEL_EMPLOYEE, "terminated_before=2023-01-01", "E5");
    expect_set(RS_MODEL_EMPLOYEE, "terminated_after=2022-12-31T12:00:00Z", "E3");
    expect_set(RS_MODEL_EMPLOYEE, "terminated_before=2022-12-31T12:00:00.000001Z", "E5");
    expect_set(RS_MODEL_EMPLOYEE, "work_email=alan@acme.example", "E2");
    snprintf(qs, sizeof(qs), "work_location_id=%s", id_a(RS_MODEL_LOCATION, "L1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E1,E2");
    snprintf(qs, sizeof(qs), "work_location_id=%s", id_a(RS_MODEL_LOCATION, "L3"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E3,E4");
    /* filters combine with AND */
    snprintf(qs, sizeof(qs), "company_id=%s&employment_status=ACTIVE&first_name=Alan",
             id_a(RS_MODEL_COMPANY, "C1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "E2");
    expect_set(RS_MODEL_EMPLOYEE, "first_name=Ada&employment_type=INTERN&job_title=Intern", "E4");
    expect_set(RS_MODEL_EMPLOYEE, "first_name=Ada&employment_status=INACTIVE", "");
}

static void test_group_team_location_filters(void **state)
{
    char qs[256];

    (void)state;
    expect_set(RS_MODEL_GROUP, "is_commonly_used_as_team=true", "G1,G3");
    expect_set(RS_MODEL_GROUP, "is_commonly_used_as_team=false", "G2,G4");
    expect_set(RS_MODEL_GROUP, "names=Engineering,CC-100", "G1,G2");
    expect_set(RS_MODEL_GROUP, "names=Platform", "G3");
    expect_set(RS_MODEL_GROUP, "names=R%26D%20%22Lab%22,Nope", "G5");
    expect_set(RS_MODEL_GROUP, "names=Old", "");
    expect_set(RS_MODEL_GROUP, "types=DEPARTMENT", "G1,G5");
    expect_set(RS_MODEL_GROUP, "types=TEAM,COST_CENTER", "G2,G3");
    expect_set(RS_MODEL_GROUP, "types=GROUP", "");
    expect_set(RS_MODEL_GROUP, "types=DEPARTMENT&is_commonly_used_as_team=true&names=Engineering",
               "G1");
    snprintf(qs, sizeof(qs), "parent_team_id=%s", id_a(RS_MODEL_TEAM, "T1"));
    expect_set(RS_MODEL_TEAM, qs, "T2,T3");
    snprintf(qs, sizeof(qs), "parent_team_id=%s", id_a(RS_MODEL_TEAM, "T2"));
    expect_set(RS_MODEL_TEAM, qs, "T4");
    snprintf(qs, sizeof(qs), "parent_team_id=%s", id_a(RS_MODEL_TEAM, "T4"));
    expect_set(RS_MODEL_TEAM, qs, "");
    expect_set(RS_MODEL_LOCATION, "location_type=WORK", "L1,L3");
    expect_set(RS_MODEL_LOCATION, "location_type=HOME", "L2");
}

/* Walks kind with qs (without cursor) forward via next; returns pages of remote ids. */
/* Orders two remote ids of employments by their ids (the tie-breaker of equal sort keys). */
static void by_id(const char *a, const char *b, char *out, size_t len)
{
    struct rs_uuid account, ia, ib;

    assert_int_equal(rs_uuid_parse(ACCOUNT_A, &account), RS_OK);
    assert_int_equal(rs_model_id(&account, RS_MODEL_EMPLOYMENT, a, &ia), RS_OK);
    assert_int_equal(rs_model_id(&account, RS_MODEL_EMPLOYMENT, b, &ib), RS_OK);
    snprintf(out, len, "%s,%s", memcmp(ia.b, ib.b, 16) < 0 ? a : b,
             memcmp(ia.b, ib.b, 16) < 0 ? b : a);
}

/* "a,b,c" → "c,b,a" */
static void reverse_list(const char *list, char *out, size_t len)
{
    char copy[256], *items[32], *save = NULL;
    size_t k = 0, used = 0;

    snprintf(copy, sizeof(copy), "%s", list);
    for (char *t = strtok_r(copy, ",", &save); t && k < 32; t = strtok_r(NULL, ",", &save))
        items[k++] = t;
    out[0] = '\0';
    while (k > 0) {
        k--;
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", items[k]);
    }
}

static void test_employments(void **state)
{
    char nulls[32], ties[32], expected[256], reversed[256], got[256], previous[128];
    char pages[16][RT_HRIS_PAGE_TEXT];
    size_t n;
    char qs[256];

    (void)state;
    snprintf(qs, sizeof(qs), "employee_id=%s", id_a(RS_MODEL_EMPLOYEE, "E2"));
    expect_set(RS_MODEL_EMPLOYMENT, qs, "J2,J6");
    snprintf(qs, sizeof(qs), "employee_id=%s", id_a(RS_MODEL_EMPLOYEE, "E5"));
    expect_set(RS_MODEL_EMPLOYMENT, qs, "J5");
    snprintf(qs, sizeof(qs), "employee_id=%s&include_deleted_data=true",
             id_a(RS_MODEL_EMPLOYEE, "E5"));
    expect_set(RS_MODEL_EMPLOYMENT, qs, "J5,J8");

    /* effective_date: J4, J7 null (first ascending), J2 and J9 tied, ties broken by id */
    by_id("J4", "J7", nulls, sizeof(nulls));
    by_id("J2", "J9", ties, sizeof(ties));
    snprintf(expected, sizeof(expected), "%s,J5,J3,J1,%s,J10,J6", nulls, ties);
    reverse_list(expected, reversed, sizeof(reversed)); /* descending: ties reversed too */
    for (int size = 1; size <= 10; size++) {
        snprintf(qs, sizeof(qs), "order_by=effective_date&page_size=%d", size);
        n = rt_hris_walk(&fx, ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs, pages, 16, previous,
                         sizeof(previous));
        rt_hris_join(pages, n, got, sizeof(got));
        if (strcmp(got, expected) != 0)
            fail_msg("page_size %d ascending: %s, expected %s", size, got, expected);
        assert_int_equal(n, (9 + size - 1) / size);
        if (n > 1)
            rt_hris_walk_back(&fx, ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs, pages, n, previous);

        snprintf(qs, sizeof(qs), "order_by=-effective_date&page_size=%d", size);
        n = rt_hris_walk(&fx, ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs, pages, 16, previous,
                         sizeof(previous));
        rt_hris_join(pages, n, got, sizeof(got));
        if (strcmp(got, reversed) != 0)
            fail_msg("page_size %d descending: %s, expected %s", size, got, reversed);
        if (n > 1)
            rt_hris_walk_back(&fx, ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs, pages, n, previous);
    }
    /* the effective_date in the output is the normalized one */
    snprintf(qs, sizeof(qs), "order_by=-effective_date&page_size=1");
    {
        json_t *page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs);
        json_t *first = json_array_get(json_object_get(page, "results"), 0);

        assert_string_equal(str(first, "effective_date"), "2023-01-01T00:00:00Z");
        assert_string_equal(str(first, "employee"), id_a(RS_MODEL_EMPLOYEE, "E2"));
        json_decref(page);
    }
    /* a filter and an order together */
    snprintf(qs, sizeof(qs), "order_by=-effective_date&employee_id=%s",
             id_a(RS_MODEL_EMPLOYEE, "E3"));
    {
        json_t *page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYMENT, qs);

        assert_string_equal(remote_ids_in_order(page), "J3,J7");
        json_decref(page);
    }
}

static void test_bad_requests(void **state)
{
    json_t *obj = NULL;

    (void)state;
    expect_400(RS_MODEL_EMPLOYEE, "page_size=0", "page_size");
    expect_400(RS_MODEL_EMPLOYEE, "employment_status=RETIRED", "employment_status");
    expect_400(RS_MODEL_EMPLOYEE, "cursor=AAAA", "cursor");
    expect_400(RS_MODEL_EMPLOYMENT, "order_by=job_title", "order_by");
    expect_400(RS_MODEL_GROUP, "types=SQUAD", "types");
    expect_400(RS_MODEL_LOCATION, "location_type=OFFICE", "location_type");
    expect_400(RS_MODEL_TEAM, "expand=members", "expand");
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_A, RS_MODEL_EMPLOYEE, "E1", "", &obj),
                     RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "id");
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_A, RS_MODEL_EMPLOYEE,
                                      id_a(RS_MODEL_EMPLOYEE, "E1"), "expand=boss", &obj),
                     RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "expand");
    /* an id of another model is not found here */
    assert_int_equal(
        rt_hris_retrieve(&fx, ACCOUNT_A, RS_MODEL_TEAM, id_a(RS_MODEL_EMPLOYEE, "E1"), "", &obj),
        RS_ERR_NOTFOUND);
    assert_null(obj);
}

static void test_retrieve(void **state)
{
    json_t *obj;

    (void)state;
    obj = retrieve_ok(RS_MODEL_EMPLOYEE, id_a(RS_MODEL_EMPLOYEE, "E3"), "first_name=Nobody");
    assert_string_equal(str(obj, "remote_id"), "E3");
    assert_string_equal(str(obj, "termination_date"), "2023-05-01T00:00:00Z");
    assert_string_equal(str(obj, "created_at"), "2024-01-03T00:00:00Z");
    assert_string_equal(str(obj, "modified_at"), "2024-03-08T00:00:00Z");
    assert_int_equal(json_array_size(json_object_get(obj, "groups")), 2);
    json_decref(obj);
    /* upper-case ids are accepted */
    {
        char upper[RS_UUID_STR_LEN];

        snprintf(upper, sizeof(upper), "%s", id_a(RS_MODEL_COMPANY, "C2"));
        for (char *p = upper; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        obj = retrieve_ok(RS_MODEL_COMPANY, upper, "");
        assert_string_equal(str(obj, "id"), id_a(RS_MODEL_COMPANY, "C2"));
        assert_string_equal(str(obj, "legal_name"), "Beta Inc");
        json_decref(obj);
    }
}

static void test_tenant_isolation(void **state)
{
    json_t *page, *obj = NULL, *results;
    char qs[256], cursor[RS_CURSOR_MAX_LEN];

    (void)state;
    /* A sees its own six, with A's ids, never B's rows with the same remote ids */
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, "");
    results = json_object_get(page, "results");
    assert_string_equal(remote_ids(page), "E1,E2,E3,E4,E5,E6");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *e = json_array_get(results, i);

        assert_string_equal(str(e, "id"), id_a(RS_MODEL_EMPLOYEE, str(e, "remote_id")));
    }
    json_decref(page);
    page = list_ok(ACCOUNT_B, RS_MODEL_EMPLOYEE, "");
    results = json_object_get(page, "results");
    assert_string_equal(remote_ids(page), "E1,E2,EB3");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *e = json_array_get(results, i);

        assert_string_equal(str(e, "id"),
                            rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, str(e, "remote_id")));
    }
    json_decref(page);
    /* B's filters find nothing in A, and A's filters nothing in B */
    snprintf(qs, sizeof(qs), "company_id=%s", rt_hris_id(ACCOUNT_B, RS_MODEL_COMPANY, "C1"));
    expect_set(RS_MODEL_EMPLOYEE, qs, "");
    page = list_ok(ACCOUNT_B, RS_MODEL_EMPLOYEE, "first_name=Ada&employment_type=FULL_TIME");
    assert_string_equal(remote_ids(page), "E1");
    assert_string_equal(str(json_array_get(json_object_get(page, "results"), 0), "id"),
                        rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "E1"));
    json_decref(page);
    expect_set(RS_MODEL_COMPANY, "", "C1,C2");
    page = list_ok(ACCOUNT_B, RS_MODEL_COMPANY, "");
    assert_string_equal(remote_ids(page), "C1");
    assert_string_equal(str(json_array_get(json_object_get(page, "results"), 0), "legal_name"),
                        "B Corp");
    json_decref(page);

    /* a cursor issued for A does not work for B */
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, "page_size=2");
    assert_true(json_is_string(json_object_get(page, "next")));
    snprintf(cursor, sizeof(cursor), "%s", str(page, "next"));
    json_decref(page);
    snprintf(qs, sizeof(qs), "page_size=2&cursor=%s", cursor);
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE, qs);
    assert_string_equal(remote_ids_in_order(page), "E4,E3");
    json_decref(page);
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_B, RS_MODEL_EMPLOYEE, qs, &page), RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "cursor");
    assert_null(page);
    /* nor on another endpoint of A */
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_A, RS_MODEL_TEAM, qs, &page), RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "cursor");

    /* retrieve of B's id as A: not found, whatever the model */
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_A, RS_MODEL_EMPLOYEE,
                                      rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "E1"), "", &obj),
                     RS_ERR_NOTFOUND);
    assert_null(obj);
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_A, RS_MODEL_EMPLOYEE,
                                      rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "EB3"), "", &obj),
                     RS_ERR_NOTFOUND);
    assert_int_equal(
        rt_hris_retrieve(&fx, ACCOUNT_B, RS_MODEL_TEAM, id_a(RS_MODEL_TEAM, "T2"), "", &obj),
        RS_ERR_NOTFOUND);
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_B, RS_MODEL_EMPLOYEE,
                                      rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "E1"), "", &obj),
                     RS_OK);
    json_decref(obj);

    /* B's EB3 names A's E1 as manager: expansion does not reach into A */
    assert_int_equal(rt_hris_retrieve(&fx, ACCOUNT_B, RS_MODEL_EMPLOYEE,
                                      rt_hris_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "EB3"),
                                      "expand=manager", &obj),
                     RS_OK);
    assert_true(json_is_string(json_object_get(obj, "manager")));
    assert_string_equal(str(obj, "manager"), id_a(RS_MODEL_EMPLOYEE, "E1"));
    json_decref(obj);
}

static void test_expansion(void **state)
{
    json_t *obj, *manager, *team, *groups, *jobs, *page, *results;

    (void)state;
    obj = retrieve_ok(RS_MODEL_EMPLOYEE, id_a(RS_MODEL_EMPLOYEE, "E4"),
                      "expand=manager,team,groups,employments");
    manager = json_object_get(obj, "manager");
    assert_true(json_is_object(manager));
    assert_string_equal(str(manager, "remote_id"), "E2");
    assert_string_equal(str(manager, "id"), id_a(RS_MODEL_EMPLOYEE, "E2"));
    assert_string_equal(str(manager, "first_name"), "Alan");
    assert_string_equal(str(manager, "modified_at"), "2024-03-09T00:00:00Z");
    /* one level only: the manager's own relations stay ids */
    assert_string_equal(str(manager, "manager"), id_a(RS_MODEL_EMPLOYEE, "E1"));
    assert_string_equal(str(manager, "team"), id_a(RS_MODEL_TEAM, "T2"));
    team = json_object_get(obj, "team");
    assert_true(json_is_object(team));
    assert_string_equal(str(team, "name"), "Apps");
    assert_string_equal(str(team, "parent_team"), id_a(RS_MODEL_TEAM, "T1"));
    /* E4 has no groups at all */
    assert_true(json_is_null(json_object_get(obj, "groups")));
    jobs = json_object_get(obj, "employments");
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(str(json_array_get(jobs, 0), "job_title"), "Intern");
    /* not asked for: still ids */
    assert_string_equal(str(obj, "company"), id_a(RS_MODEL_COMPANY, "C2"));
    assert_string_equal(str(obj, "work_location"), id_a(RS_MODEL_LOCATION, "L3"));
    json_decref(obj);

    /* groups and employments keep their order; an id with no row stays an id */
    obj = retrieve_ok(RS_MODEL_EMPLOYEE, id_a(RS_MODEL_EMPLOYEE, "E5"),
                      "expand=groups&expand=employments");
    groups = json_object_get(obj, "groups");
    assert_int_equal(json_array_size(groups), 2);
    assert_string_equal(str(json_array_get(groups, 0), "name"), "Sales");
    assert_string_equal(json_string_value(json_array_get(groups, 1)), id_a(RS_MODEL_GROUP, "G404"));
    jobs = json_object_get(obj, "employments");
    assert_int_equal(json_array_size(jobs), 2);
    assert_string_equal(str(json_array_get(jobs, 0), "remote_id"), "J5");
    assert_string_equal(str(json_array_get(jobs, 1), "remote_id"), "J8");
    assert_true(json_is_true(json_object_get(json_array_get(jobs, 1), "remote_was_deleted")));
    json_decref(obj);

    /* in a list: each row's relations, including shared ones */
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYEE,
                   "expand=company,work_location,home_location,groups,pay_group&"
                   "employment_status=ACTIVE");
    results = json_object_get(page, "results");
    assert_string_equal(remote_ids_in_order(page), "E2,E1");
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_array_get(results, i);

        assert_string_equal(str(json_object_get(e, "company"), "legal_name"), "Acme GmbH");
        assert_string_equal(str(json_object_get(e, "work_location"), "name"), "HQ");
        assert_string_equal(str(json_array_get(json_object_get(e, "groups"), 0), "name"),
                            "Engineering");
        /* pay groups are not stored: the id stays */
        assert_true(json_is_string(json_object_get(e, "pay_group")));
    }
    assert_true(json_is_null(json_object_get(json_array_get(results, 0), "home_location")));
    assert_string_equal(
        str(json_object_get(json_array_get(results, 1), "home_location"), "location_type"), "HOME");
    assert_string_equal(
        str(json_array_get(json_object_get(json_array_get(results, 1), "groups"), 1), "type"),
        "COST_CENTER");
    assert_true(json_is_string(json_object_get(json_array_get(results, 0), "manager")));
    json_decref(page);

    /* employments ⇢ employee; teams ⇢ parent_team */
    page = list_ok(ACCOUNT_A, RS_MODEL_EMPLOYMENT,
                   "expand=employee&order_by=-effective_date&"
                   "page_size=1");
    assert_string_equal(
        str(json_object_get(json_array_get(json_object_get(page, "results"), 0), "employee"),
            "display_full_name"),
        "Alan Turing");
    json_decref(page);
    obj = retrieve_ok(RS_MODEL_TEAM, id_a(RS_MODEL_TEAM, "T4"), "expand=parent_team");
    assert_string_equal(str(json_object_get(obj, "parent_team"), "name"), "Platform");
    json_decref(obj);
    obj = retrieve_ok(RS_MODEL_TEAM, id_a(RS_MODEL_TEAM, "T1"), "expand=parent_team");
    assert_true(json_is_null(json_object_get(obj, "parent_team")));
    json_decref(obj);
}

static int setup(void **state)
{
    static const char *const tables[] = {"employees", "employments", "groups",
                                         "teams",     "locations",   "companies"};

    (void)state;
    if (rt_hris_open(&fx, ORG_ID) != 0)
        return -1;
    rt_hris_add_account(&fx, ORG_ID, ACCOUNT_A, "origin-a");
    rt_hris_add_account(&fx, ORG_ID, ACCOUNT_B, "origin-b");
    rt_hris_begin(&fx, ACCOUNT_A);
    write_structure();
    write_people();
    rt_hris_commit(&fx);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        set_times(tables[i]);
    PQclear(
        run("UPDATE employees SET remote_was_deleted = true WHERE remote_id = 'E7'", NULL, NULL));
    PQclear(
        run("UPDATE employments SET remote_was_deleted = true WHERE remote_id = 'J8'", NULL, NULL));
    PQclear(run("UPDATE groups SET remote_was_deleted = true WHERE remote_id = 'G6'", NULL, NULL));
    write_account_b();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rt_hris_close(&fx);
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_default_listing),
        T(test_common_time_filters),
        T(test_remote_id_filter),
        T(test_include_deleted_data),
        T(test_include_remote_data),
        T(test_employee_filters),
        T(test_group_team_location_filters),
        T(test_employments),
        T(test_bad_requests),
        T(test_retrieve),
        T(test_tenant_isolation),
        T(test_expansion),
    };

    rs_log_set_level(RS_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
