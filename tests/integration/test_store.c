/*
 * Integration tests for core/rs_store.c against the PostgreSQL fixture: inserts, no-change
 * resyncs that write nothing, single-field updates, refused records, filter columns, ids, and
 * COPY escaping, each in a fresh migrated database.
 */
#include "roster/rs_store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "roster/rs_model.h"
#include "roster/rs_stage.h"
#include "rt_pg.h"

#define ORG_ID    "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ACCOUNT_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ACCOUNT_B "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define PAY_GROUP "3b241101-e2bb-4255-8caf-4136c566a962"

struct fixture {
    char name[64];
    char conninfo[1024];
    struct rs_db *db;
    struct rs_uuid account;
};

static struct fixture fx;

/* Runs sql with up to two text parameters; fails the test if it does not succeed. */
static PGresult *run(const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = {p1, p2};
    int n = p2 ? 2 : p1 ? 1 : 0;
    return rt_pg_exec(fx.db, sql, n, params);
}

/* Row 0, column 0 of sql as text ("(null)" for NULL), in static storage. */
static const char *scalar(const char *sql, const char *p1, const char *p2)
{
    static char value[4096];
    PGresult *res = run(sql, p1, p2);

    if (PQntuples(res) < 1)
        fail_msg("%s: no rows", sql);
    snprintf(value, sizeof(value), "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

static long scalar_long(const char *sql, const char *p1, const char *p2)
{
    return strtol(scalar(sql, p1, p2), NULL, 10);
}

static void add_account(const char *id, const char *origin)
{
    PQclear(run("INSERT INTO linked_accounts (id, organization_id, integration, "
                "end_user_origin_id, end_user_organization_name, end_user_email_address, status) "
                "VALUES ($1::uuid, '" ORG_ID "', 'bamboohr', $2, 'Acme', 'hr@acme.example', "
                "'COMPLETE')",
                id, origin));
}

static int setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};

    (void)state;
    memset(&fx, 0, sizeof(fx));
    if (rt_pg_migrated_db(fx.name, sizeof(fx.name), fx.conninfo, sizeof(fx.conninfo)) != RS_OK)
        return -1;
    if (rs_db_open(fx.conninfo, 5, false, &fx.db, &eb) != RS_OK) {
        fprintf(stderr, "rs_db_open: %s\n", eb.msg);
        return -1;
    }
    if (rs_uuid_parse(ACCOUNT_A, &fx.account) != RS_OK)
        return -1;
    PQclear(
        run("INSERT INTO organizations (id, name) VALUES ('" ORG_ID "', 'Test org')", NULL, NULL));
    add_account(ACCOUNT_A, "origin-a");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rs_db_free(fx.db);
    rt_pg_drop_db(fx.name);
    return 0;
}

/* The id text of the record of kind with remote_id in account (static storage, 32 slots). */
static const char *id_of(const char *account_text, enum rs_model_kind kind, const char *remote_id)
{
    static char slots[32][RS_UUID_STR_LEN];
    static int next;
    struct rs_uuid account, id;
    char *out = slots[next++ % 32];

    assert_int_equal(rs_uuid_parse(account_text, &account), RS_OK);
    assert_int_equal(rs_model_id(&account, kind, remote_id, &id), RS_OK);
    return rs_uuid_format(&id, out);
}

struct rec {
    const char *remote_id;
    json_t *fields;      /* owned */
    json_t *remote_data; /* owned, may be NULL */
    enum rs_err expect;  /* what rs_store_batch_add must answer */
    const char *param;   /* for RS_ERR_INVALID: the field the error names */
};

/* Writes recs of kind for account in one transaction; frees the JSON. */
static struct rs_store_stats store_in(const char *account_text, enum rs_model_kind kind,
                                      struct rec *recs, size_t n)
{
    struct rs_store_stats stats = {0};
    struct rs_store_batch *batch = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_uuid account;
    size_t good = 0;

    assert_int_equal(rs_uuid_parse(account_text, &account), RS_OK);
    assert_int_equal(rs_store_batch_new(&account, kind, NULL, &batch), RS_OK);
    assert_int_equal(rs_db_command(fx.db, "BEGIN"), RS_OK);
    for (size_t i = 0; i < n; i++) {
        struct rs_record record = {.remote_id = recs[i].remote_id,
                                   .fields = recs[i].fields,
                                   .remote_data = recs[i].remote_data};
        enum rs_err err;

        rs_errbuf_clear(&eb);
        err = rs_store_batch_add(batch, &record, &eb);
        if (err != recs[i].expect)
            fail_msg("record %zu (%s): %s, expected %s (%s)", i,
                     recs[i].remote_id ? recs[i].remote_id : "(null)", rs_err_name(err),
                     rs_err_name(recs[i].expect), eb.msg);
        if (err == RS_ERR_INVALID && recs[i].param)
            assert_string_equal(eb.param, recs[i].param);
        good += err == RS_OK;
        assert_int_equal(rs_store_batch_count(batch), good);
        json_decref(recs[i].fields);
        json_decref(recs[i].remote_data);
    }
    if (rs_store_batch_flush(batch, fx.db, &stats, &eb) != RS_OK)
        fail_msg("flush: %s", eb.msg);
    assert_int_equal(rs_store_batch_count(batch), 0);
    assert_int_equal(rs_db_command(fx.db, "COMMIT"), RS_OK);
    rs_store_batch_free(batch);
    return stats;
}

static struct rs_store_stats store(enum rs_model_kind kind, struct rec *recs, size_t n)
{
    return store_in(ACCOUNT_A, kind, recs, n);
}

static void assert_stats(struct rs_store_stats s, size_t inserted, size_t updated, size_t unchanged,
                         size_t invalid)
{
    if (s.inserted != inserted || s.updated != updated || s.unchanged != unchanged ||
        s.invalid != invalid)
        fail_msg("stats inserted=%zu updated=%zu unchanged=%zu invalid=%zu, expected "
                 "%zu/%zu/%zu/%zu",
                 s.inserted, s.updated, s.unchanged, s.invalid, inserted, updated, unchanged,
                 invalid);
}

static struct rec ok(const char *remote_id, json_t *fields)
{
    struct rec r = {remote_id, fields, NULL, RS_OK, NULL};

    assert_non_null(fields);
    return r;
}

static struct rec person(const char *remote_id, const char *first, const char *last)
{
    return ok(remote_id, json_pack("{s:s, s:s, s:s, s:[]}", "first_name", first, "last_name", last,
                                   "employment_status", "ACTIVE", "groups"));
}

/* "modified_at|created_at|xmin" of an employee, to see whether its row was written. */
static const char *row_version(const char *remote_id, char out[160])
{
    snprintf(out, 160, "%s",
             scalar("SELECT modified_at::text || '|' || created_at::text || '|' || xmin::text "
                    "FROM employees WHERE linked_account_id = $1::uuid AND remote_id = $2",
                    ACCOUNT_A, remote_id));
    return out;
}

static void test_insert_then_unchanged(void **state)
{
    struct rec first[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Turing"),
                          person("E3", "Grace", "Hopper")};
    struct rec again[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Turing"),
                          person("E3", "Grace", "Hopper")};
    char before[3][160], after[160];
    const char *ids[] = {"E1", "E2", "E3"};

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, first, 3), 3, 0, 0, 0);
    assert_int_equal(scalar_long("SELECT count(*) FROM employees", NULL, NULL), 3);
    /* created_at and modified_at start equal */
    assert_int_equal(
        scalar_long("SELECT count(*) FROM employees WHERE created_at = modified_at", NULL, NULL),
        3);
    for (int i = 0; i < 3; i++)
        row_version(ids[i], before[i]);
    usleep(20 * 1000); /* a rewrite would get a visibly later now() */

    assert_stats(store(RS_MODEL_EMPLOYEE, again, 3), 0, 0, 3, 0);
    /* nothing was written: same timestamps and the same row versions (xmin) */
    for (int i = 0; i < 3; i++)
        assert_string_equal(row_version(ids[i], after), before[i]);
    assert_int_equal(scalar_long("SELECT count(*) FROM employees", NULL, NULL), 3);
}

static void test_one_changed_field(void **state)
{
    struct rec first[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Turing"),
                          person("E3", "Grace", "Hopper")};
    struct rec second[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Türing"),
                           person("E3", "Grace", "Hopper")};
    char e1[160], e2[160], e3[160], after[160], created[64];

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, first, 3), 3, 0, 0, 0);
    row_version("E1", e1);
    row_version("E2", e2);
    row_version("E3", e3);
    snprintf(created, sizeof(created), "%s",
             scalar("SELECT created_at::text FROM employees WHERE remote_id = 'E2'", NULL, NULL));
    usleep(20 * 1000);
    assert_stats(store(RS_MODEL_EMPLOYEE, second, 3), 0, 1, 2, 0);
    assert_string_equal(row_version("E1", after), e1);
    assert_string_equal(row_version("E3", after), e3);
    assert_string_not_equal(row_version("E2", after), e2);
    /* E2: modified_at moved forward, created_at stayed */
    assert_string_equal(scalar("SELECT (modified_at > created_at)::text FROM employees WHERE "
                               "remote_id = 'E2'",
                               NULL, NULL),
                        "true");
    assert_string_equal(
        scalar("SELECT created_at::text FROM employees WHERE remote_id = 'E2'", NULL, NULL),
        created);
    /* the new value is in both the stored JSON and the filter column */
    assert_string_equal(scalar("SELECT last_name || '/' || (normalized::json->>'last_name') "
                               "FROM employees WHERE remote_id = 'E2'",
                               NULL, NULL),
                        "Türing/Türing");
    assert_int_equal(
        scalar_long("SELECT count(*) FROM employees WHERE modified_at > created_at", NULL, NULL),
        1);
}

/* remote_data is part of the content: a change there alone is an update. */
static void test_remote_data_change(void **state)
{
    struct rec first[] = {person("E1", "Ada", "Lovelace")};
    struct rec second[] = {person("E1", "Ada", "Lovelace")};
    struct rec third[] = {person("E1", "Ada", "Lovelace")};

    (void)state;
    first[0].remote_data = json_pack("[{s:s, s:{s:i}}]", "path", "/people", "data", "v", 1);
    second[0].remote_data = json_pack("[{s:s, s:{s:i}}]", "path", "/people", "data", "v", 2);
    third[0].remote_data = json_pack("[{s:s, s:{s:i}}]", "path", "/people", "data", "v", 2);
    assert_stats(store(RS_MODEL_EMPLOYEE, first, 1), 1, 0, 0, 0);
    assert_stats(store(RS_MODEL_EMPLOYEE, second, 1), 0, 1, 0, 0);
    assert_stats(store(RS_MODEL_EMPLOYEE, third, 1), 0, 0, 1, 0);
    assert_string_equal(scalar("SELECT remote_data FROM employees", NULL, NULL),
                        "[{\"path\":\"/people\",\"data\":{\"v\":2}}]");
}

static void test_invalid_records(void **state)
{
    static char long_id[RS_MODEL_REMOTE_ID_MAX + 2];
    struct rec recs[] = {
        person("G1", "Good", "One"),
        {"B1", json_pack("{s:i}", "first_name", 42), NULL, RS_ERR_INVALID, "first_name"},
        {"B2", json_pack("{s:s}", "manager", "not-a-uuid"), NULL, RS_ERR_INVALID, "manager"},
        person("G2", "Good", "Two"),
        {"B3", json_pack("{s:s}", "start_date", "2024-02-30"), NULL, RS_ERR_INVALID, "start_date"},
        {"B4", json_pack("{s:[s]}", "groups", "nope"), NULL, RS_ERR_INVALID, "groups"},
        {"", json_pack("{s:s}", "first_name", "No id"), NULL, RS_ERR_INVALID, "remote_id"},
        {NULL, json_pack("{s:s}", "first_name", "No id"), NULL, RS_ERR_INVALID, "remote_id"},
        {"B5", json_array(), NULL, RS_ERR_INVALID, NULL},
        {long_id, json_pack("{s:s}", "first_name", "Long id"), NULL, RS_ERR_INVALID, "remote_id"},
        person("G3", "Good", "Three"),
    };

    (void)state;
    memset(long_id, 'x', sizeof(long_id) - 1);
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, sizeof(recs) / sizeof(recs[0])), 3, 0, 0, 8);
    assert_int_equal(scalar_long("SELECT count(*) FROM employees", NULL, NULL), 3);
    assert_string_equal(scalar("SELECT string_agg(remote_id, ',' ORDER BY remote_id) FROM "
                               "employees",
                               NULL, NULL),
                        "G1,G2,G3");
    /* a half-written row did not leak into the COPY stream: the good rows are intact */
    assert_string_equal(scalar("SELECT string_agg(first_name || ' ' || last_name, ',' ORDER BY "
                               "remote_id) FROM employees",
                               NULL, NULL),
                        "Good One,Good Two,Good Three");
}

/* A batch of nothing but refused records flushes fine and still counts them. */
static void test_only_invalid(void **state)
{
    struct rec recs[] = {
        {"B1", json_pack("{s:b}", "first_name", 1), NULL, RS_ERR_INVALID, "first_name"},
    };

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, 1), 0, 0, 0, 1);
    assert_int_equal(scalar_long("SELECT count(*) FROM employees", NULL, NULL), 0);
}

static void test_employee_filter_columns(void **state)
{
    const char *company = id_of(ACCOUNT_A, RS_MODEL_COMPANY, "C1");
    const char *g1 = id_of(ACCOUNT_A, RS_MODEL_GROUP, "G1");
    const char *g2 = id_of(ACCOUNT_A, RS_MODEL_GROUP, "G2");
    const char *manager = id_of(ACCOUNT_A, RS_MODEL_EMPLOYEE, "M1");
    char expected[1024];
    struct rec recs[] = {ok(
        "E1", json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s,s], s:s, s:s, s:s,"
                        " s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                        "employee_number", "0042", "company", company, "first_name", "Ada",
                        "last_name", "Lovelace", "display_full_name", "Ada Lovelace", "groups", g1,
                        g2, "work_email", "ada@acme.example", "personal_email", "ada@home.example",
                        "home_location", id_of(ACCOUNT_A, RS_MODEL_LOCATION, "L1"), "work_location",
                        id_of(ACCOUNT_A, RS_MODEL_LOCATION, "L2"), "manager", manager, "team",
                        id_of(ACCOUNT_A, RS_MODEL_TEAM, "T1"), "pay_group", PAY_GROUP,
                        "employment_status", "INACTIVE", "start_date", "2020-01-01T09:00:00+02:00",
                        "termination_date", "2023-05-01"))};

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, 1), 1, 0, 0, 0);
    snprintf(expected, sizeof(expected),
             "0042|%s|Ada|Lovelace|Ada Lovelace|{%s,%s}|ada@acme.example|ada@home.example|%s|%s|"
             "%s|%s|%s|INACTIVE|2020-01-01 07:00:00+00|2023-05-01 00:00:00+00",
             company, g1, g2, id_of(ACCOUNT_A, RS_MODEL_LOCATION, "L1"),
             id_of(ACCOUNT_A, RS_MODEL_LOCATION, "L2"), manager,
             id_of(ACCOUNT_A, RS_MODEL_TEAM, "T1"), PAY_GROUP);
    assert_string_equal(
        scalar("SELECT concat_ws('|', employee_number, company_id, first_name, last_name, "
               "display_full_name, group_ids, work_email, personal_email, home_location_id, "
               "work_location_id, manager_id, team_id, pay_group_id, employment_status, "
               "start_date, termination_date) FROM employees",
               NULL, NULL),
        expected);
    /* every filter column agrees with the stored JSON it was copied from */
    assert_int_equal(
        scalar_long(
            "SELECT count(*) FROM employees e, LATERAL (SELECT e.normalized::jsonb AS j) x "
            "WHERE e.employee_number = j->>'employee_number' "
            "AND e.company_id = (j->>'company')::uuid "
            "AND e.first_name = j->>'first_name' AND e.last_name = j->>'last_name' "
            "AND e.display_full_name = j->>'display_full_name' "
            "AND e.group_ids = ARRAY(SELECT jsonb_array_elements_text(j->'groups'))::uuid[] "
            "AND e.work_email = j->>'work_email' "
            "AND e.personal_email = j->>'personal_email' "
            "AND e.home_location_id = (j->>'home_location')::uuid "
            "AND e.work_location_id = (j->>'work_location')::uuid "
            "AND e.manager_id = (j->>'manager')::uuid AND e.team_id = (j->>'team')::uuid "
            "AND e.pay_group_id = (j->>'pay_group')::uuid "
            "AND e.employment_status = j->>'employment_status' "
            "AND e.start_date = (j->>'start_date')::timestamptz "
            "AND e.termination_date = (j->>'termination_date')::timestamptz",
            NULL, NULL),
        1);
    assert_string_equal(
        scalar("SELECT normalized::jsonb->>'start_date' FROM employees", NULL, NULL),
        "2020-01-01T07:00:00Z");
}

/* Fields left out are NULL columns; an employee without groups gets an empty group list. */
static void test_employee_sparse(void **state)
{
    struct rec recs[] = {
        ok("E1", json_pack("{s:s}", "first_name", "Only")),
        ok("E2", json_pack("{s:s, s:n, s:n}", "first_name", "Nulls", "groups", "manager")),
    };

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, 2), 2, 0, 0, 0);
    assert_int_equal(scalar_long("SELECT count(*) FROM employees WHERE group_ids = '{}' AND "
                                 "manager_id IS NULL AND company_id IS NULL AND start_date IS "
                                 "NULL AND last_name IS NULL",
                                 NULL, NULL),
                     2);
    assert_string_equal(
        scalar("SELECT normalized FROM employees WHERE remote_id = 'E1'", NULL, NULL),
        "{\"employee_number\":null,\"company\":null,\"first_name\":\"Only\","
        "\"last_name\":null,\"preferred_name\":null,\"display_full_name\":null,"
        "\"username\":null,\"groups\":null,\"work_email\":null,"
        "\"personal_email\":null,\"mobile_phone_number\":null,"
        "\"employments\":null,\"home_location\":null,\"work_location\":null,"
        "\"manager\":null,\"team\":null,\"pay_group\":null,\"ssn\":null,"
        "\"gender\":null,\"ethnicity\":null,\"marital_status\":null,"
        "\"date_of_birth\":null,\"hire_date\":null,\"start_date\":null,"
        "\"remote_created_at\":null,\"employment_status\":null,"
        "\"termination_date\":null,\"avatar\":null,\"custom_fields\":null}");
}

static void test_other_filter_columns(void **state)
{
    const char *employee = id_of(ACCOUNT_A, RS_MODEL_EMPLOYEE, "E1");
    const char *parent_group = id_of(ACCOUNT_A, RS_MODEL_GROUP, "G0");
    const char *parent_team = id_of(ACCOUNT_A, RS_MODEL_TEAM, "T0");
    char expected[512];
    struct rec jobs[] = {
        ok("J1", json_pack("{s:s, s:s, s:s, s:s, s:s, s:f}", "employee", employee, "job_title",
                           "Engineer", "employment_type", "FULL_TIME", "pay_group", PAY_GROUP,
                           "effective_date", "2021-06-15T00:00:00-07:00", "pay_rate", 1.5)),
        ok("J2", json_pack("{s:s}", "job_title", "Intern")),
    };
    struct rec groups[] = {
        ok("G1", json_pack("{s:s, s:s, s:s, s:b}", "parent_group", parent_group, "name",
                           "Engineering", "type", "DEPARTMENT", "is_commonly_used_as_team", 1)),
        ok("G2", json_pack("{s:s, s:s, s:b}", "name", "CC-100", "type", "COST_CENTER",
                           "is_commonly_used_as_team", 0)),
        ok("G3", json_pack("{s:s}", "name", "Unknown")),
    };
    struct rec teams[] = {
        ok("T1", json_pack("{s:s, s:s}", "name", "Platform", "parent_team", parent_team)),
        ok("T0", json_pack("{s:s}", "name", "Engineering")),
    };
    struct rec locations[] = {
        ok("L1", json_pack("{s:s, s:s}", "name", "HQ", "location_type", "WORK")),
        ok("L2", json_pack("{s:s}", "name", "Home")),
    };
    struct rec companies[] = {
        ok("C1", json_pack("{s:s, s:[s,s]}", "legal_name", "Acme", "eins", "1", "2")),
    };

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYMENT, jobs, 2), 2, 0, 0, 0);
    snprintf(expected, sizeof(expected), "%s|Engineer|FULL_TIME|%s|2021-06-15 07:00:00+00",
             employee, PAY_GROUP);
    assert_string_equal(scalar("SELECT concat_ws('|', employee_id, job_title, employment_type, "
                               "pay_group_id, effective_date) FROM employments WHERE remote_id "
                               "= 'J1'",
                               NULL, NULL),
                        expected);
    assert_string_equal(scalar("SELECT concat_ws('|', employee_id, job_title, employment_type, "
                               "pay_group_id, effective_date) FROM employments WHERE remote_id "
                               "= 'J2'",
                               NULL, NULL),
                        "Intern");

    assert_stats(store(RS_MODEL_GROUP, groups, 3), 3, 0, 0, 0);
    snprintf(expected, sizeof(expected), "%s|Engineering|DEPARTMENT|t", parent_group);
    assert_string_equal(scalar("SELECT concat_ws('|', parent_group_id, name, type, "
                               "is_commonly_used_as_team) FROM groups WHERE remote_id = 'G1'",
                               NULL, NULL),
                        expected);
    assert_string_equal(scalar("SELECT concat_ws('|', parent_group_id, name, type, "
                               "is_commonly_used_as_team) FROM groups WHERE remote_id = 'G2'",
                               NULL, NULL),
                        "CC-100|COST_CENTER|f");
    assert_string_equal(scalar("SELECT concat_ws('|', parent_group_id, name, type, "
                               "is_commonly_used_as_team::text, 'end') FROM groups WHERE "
                               "remote_id = 'G3'",
                               NULL, NULL),
                        "Unknown|end");

    assert_stats(store(RS_MODEL_TEAM, teams, 2), 2, 0, 0, 0);
    assert_string_equal(
        scalar("SELECT parent_team_id::text FROM teams WHERE remote_id = 'T1'", NULL, NULL),
        parent_team);
    assert_string_equal(
        scalar("SELECT parent_team_id::text FROM teams WHERE remote_id = 'T0'", NULL, NULL),
        "(null)");

    assert_stats(store(RS_MODEL_LOCATION, locations, 2), 2, 0, 0, 0);
    assert_string_equal(scalar("SELECT string_agg(coalesce(location_type, '-'), ',' ORDER BY "
                               "remote_id) FROM locations",
                               NULL, NULL),
                        "WORK,-");
    assert_stats(store(RS_MODEL_COMPANY, companies, 1), 1, 0, 0, 0);
    assert_string_equal(scalar("SELECT normalized FROM companies", NULL, NULL),
                        "{\"legal_name\":\"Acme\",\"display_name\":null,\"eins\":[\"1\",\"2\"]}");
}

/* Ids are UUIDv5 of (account, "<model>:<remote id>"): per account and per model. */
static void test_deterministic_ids(void **state)
{
    struct rec a[] = {person("E1", "Ada", "A"), person("E2", "Bob", "A")};
    struct rec b[] = {person("E1", "Ada", "B"), person("E2", "Bob", "B")};
    struct rec team[] = {ok("E1", json_pack("{s:s}", "name", "Team called E1"))};

    (void)state;
    add_account(ACCOUNT_B, "origin-b");
    assert_stats(store_in(ACCOUNT_A, RS_MODEL_EMPLOYEE, a, 2), 2, 0, 0, 0);
    assert_stats(store_in(ACCOUNT_B, RS_MODEL_EMPLOYEE, b, 2), 2, 0, 0, 0);
    assert_stats(store(RS_MODEL_TEAM, team, 1), 1, 0, 0, 0);
    assert_string_equal(scalar("SELECT id::text FROM employees WHERE linked_account_id = "
                               "$1::uuid AND remote_id = 'E1'",
                               ACCOUNT_A, NULL),
                        "ce99ef40-ee95-5cbc-a0d0-e4ea48e20a05");
    assert_string_equal(scalar("SELECT id::text FROM employees WHERE linked_account_id = "
                               "$1::uuid AND remote_id = 'E1'",
                               ACCOUNT_B, NULL),
                        "b7d0e203-6e5d-5f53-962a-e9a15984930a");
    assert_string_equal(scalar("SELECT id::text FROM teams WHERE remote_id = 'E1'", NULL, NULL),
                        "707d459a-ad32-54c5-bcd1-5b73c08491d1");
    for (int k = 0; k < 2; k++) {
        const char *account = k ? ACCOUNT_B : ACCOUNT_A;

        assert_string_equal(scalar("SELECT id::text FROM employees WHERE linked_account_id = "
                                   "$1::uuid AND remote_id = 'E2'",
                                   account, NULL),
                            id_of(account, RS_MODEL_EMPLOYEE, "E2"));
    }
    /* four rows, four distinct ids, two per account */
    assert_int_equal(scalar_long("SELECT count(DISTINCT id) FROM employees", NULL, NULL), 4);
    assert_int_equal(
        scalar_long("SELECT count(*) FROM employees WHERE linked_account_id = $1::uuid", ACCOUNT_B,
                    NULL),
        2);
    assert_string_equal(scalar("SELECT last_name FROM employees WHERE linked_account_id = "
                               "$1::uuid AND remote_id = 'E1'",
                               ACCOUNT_B, NULL),
                        "B");
}

/* Bytes COPY's text format treats specially survive, in keys, JSON and filter columns. */
static void test_copy_escaping(void **state)
{
    static const char weird[] = "tab\there\nnew\\line\\N \\. \r\"quoted\" ñ 日本 🎉 \\\\t end";
    static const char weird_id[] = "id\t1\n\\N\\\\x é";
    struct rec recs[] = {
        {weird_id,
         json_pack("{s:s, s:s, s:s, s:s}", "first_name", weird, "last_name", "\\", "work_email",
                   "\\N", "display_full_name", "x\x01y"),
         json_pack("[{s:s, s:{s:s}}]", "path", "/people/\t", "data", "raw", weird), RS_OK, NULL},
        person("\\N", "Backslash", "N"),
    };
    const char *id = id_of(ACCOUNT_A, RS_MODEL_EMPLOYEE, weird_id);
    PGresult *res;
    json_t *normalized, *remote;

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, 2), 2, 0, 0, 0);
    res = run("SELECT remote_id, first_name, last_name, work_email, display_full_name, "
              "normalized, remote_data FROM employees WHERE id = $1::uuid",
              id, NULL);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), weird_id);
    assert_string_equal(PQgetvalue(res, 0, 1), weird);
    assert_string_equal(PQgetvalue(res, 0, 2), "\\");
    assert_string_equal(PQgetvalue(res, 0, 3), "\\N");
    assert_false(PQgetisnull(res, 0, 3));
    assert_string_equal(PQgetvalue(res, 0, 4), "x\x01y");
    normalized = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
    remote = json_loads(PQgetvalue(res, 0, 6), 0, NULL);
    assert_non_null(normalized);
    assert_non_null(remote);
    assert_string_equal(json_string_value(json_object_get(normalized, "first_name")), weird);
    assert_string_equal(json_string_value(json_object_get(normalized, "display_full_name")),
                        "x\x01y");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(remote, 0), "data"), "raw")),
                        weird);
    assert_string_equal(json_string_value(json_object_get(json_array_get(remote, 0), "path")),
                        "/people/\t");
    json_decref(normalized);
    json_decref(remote);
    PQclear(res);
    /* the remote id "\N" is a string, not NULL */
    assert_string_equal(scalar("SELECT remote_id FROM employees WHERE id = $1::uuid",
                               id_of(ACCOUNT_A, RS_MODEL_EMPLOYEE, "\\N"), NULL),
                        "\\N");
    /* writing the same weird record again changes nothing */
    recs[0].fields = json_pack("{s:s, s:s, s:s, s:s}", "first_name", weird, "last_name", "\\",
                               "work_email", "\\N", "display_full_name", "x\x01y");
    recs[0].remote_data = json_pack("[{s:s, s:{s:s}}]", "path", "/people/\t", "data", "raw", weird);
    recs[1] = person("\\N", "Backslash", "N");
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, 2), 0, 0, 2, 0);
}

/* A row marked deleted comes back (updated, flag cleared) when the provider sends it again. */
static void test_deleted_row_comes_back(void **state)
{
    struct rec first[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Turing")};
    struct rec again[] = {person("E1", "Ada", "Lovelace"), person("E2", "Alan", "Turing")};

    (void)state;
    assert_stats(store(RS_MODEL_EMPLOYEE, first, 2), 2, 0, 0, 0);
    PQclear(
        run("UPDATE employees SET remote_was_deleted = true WHERE remote_id = 'E2'", NULL, NULL));
    assert_stats(store(RS_MODEL_EMPLOYEE, again, 2), 0, 1, 1, 0);
    assert_int_equal(
        scalar_long("SELECT count(*) FROM employees WHERE remote_was_deleted", NULL, NULL), 0);
}

/* One batch across several flushes in a transaction, and batches across transactions. */
static void test_many_rows_several_flushes(void **state)
{
    struct rs_store_stats stats = {0};
    struct rs_store_batch *batch = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    char rid[32];

    (void)state;
    assert_int_equal(rs_store_batch_new(&fx.account, RS_MODEL_LOCATION, NULL, &batch), RS_OK);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(rs_db_command(fx.db, "BEGIN"), RS_OK);
        for (int i = 0; i < 3000; i++) {
            /* the second round renames only the first half */
            json_t *fields = json_pack("{s:s, s:s}", "name", round && i < 1500 ? "renamed" : "loc",
                                       "location_type", i % 2 ? "HOME" : "WORK");
            struct rs_record record = {.remote_id = rid, .fields = fields};

            snprintf(rid, sizeof(rid), "L%d", i);
            assert_int_equal(rs_store_batch_add(batch, &record, &eb), RS_OK);
            json_decref(fields);
            if (i % 1000 == 999)
                assert_int_equal(rs_store_batch_flush(batch, fx.db, &stats, &eb), RS_OK);
        }
        assert_int_equal(rs_store_batch_flush(batch, fx.db, &stats, &eb), RS_OK);
        assert_int_equal(rs_db_command(fx.db, "COMMIT"), RS_OK);
    }
    rs_store_batch_free(batch);
    assert_stats(stats, 3000, 1500, 1500, 0);
    assert_int_equal(
        scalar_long("SELECT count(*) FROM locations WHERE location_type = 'HOME'", NULL, NULL),
        1500);
    assert_int_equal(scalar_long("SELECT count(*) FROM locations WHERE normalized::jsonb->>'name' "
                                 "= 'renamed'",
                                 NULL, NULL),
                     1500);
}

/* A rolled-back flush leaves nothing behind, and the staging table is clean afterwards. */
static void test_rollback(void **state)
{
    struct rs_store_stats stats = {0};
    struct rs_store_batch *batch = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    json_t *fields = json_pack("{s:s}", "name", "Gone");
    struct rs_record record = {.remote_id = "T1", .fields = fields};
    struct rec later[] = {ok("T2", json_pack("{s:s}", "name", "Kept"))};

    (void)state;
    assert_int_equal(rs_store_batch_new(&fx.account, RS_MODEL_TEAM, NULL, &batch), RS_OK);
    assert_int_equal(rs_db_command(fx.db, "BEGIN"), RS_OK);
    assert_int_equal(rs_store_batch_add(batch, &record, &eb), RS_OK);
    assert_int_equal(rs_store_batch_flush(batch, fx.db, &stats, &eb), RS_OK);
    assert_int_equal(rs_db_command(fx.db, "ROLLBACK"), RS_OK);
    rs_store_batch_free(batch);
    json_decref(fields);
    assert_int_equal(scalar_long("SELECT count(*) FROM teams", NULL, NULL), 0);
    assert_stats(store(RS_MODEL_TEAM, later, 1), 1, 0, 0, 0);
    assert_string_equal(scalar("SELECT string_agg(remote_id, ',') FROM teams", NULL, NULL), "T2");
}

/* The same remote id twice in one flush (a page shifted under a paginated read): last wins. */
static void test_duplicate_in_one_flush(void **state)
{
    struct rec recs[] = {
        ok("D1", json_pack("{s:s}", "name", "first version")),
        ok("D2", json_pack("{s:s}", "name", "other")),
        ok("D1", json_pack("{s:s}", "name", "second version")),
    };

    (void)state;
    /* counts are per distinct record: the first version of D1 is simply superseded */
    assert_stats(store(RS_MODEL_TEAM, recs, 3), 2, 0, 0, 0);
    assert_int_equal(scalar_long("SELECT count(*) FROM teams", NULL, NULL), 2);
    assert_string_equal(scalar("SELECT normalized::jsonb->>'name' FROM teams WHERE remote_id = "
                               "'D1'",
                               NULL, NULL),
                        "second version");
}

/* Staged rows vanish at commit, so a flush outside a transaction is refused, not lost. */
static void test_flush_outside_transaction(void **state)
{
    struct rs_store_stats stats = {0};
    struct rs_store_batch *batch = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    json_t *fields = json_pack("{s:s}", "name", "Nowhere");
    struct rs_record record = {.remote_id = "X1", .fields = fields};

    (void)state;
    assert_int_equal(rs_store_batch_new(&fx.account, RS_MODEL_TEAM, NULL, &batch), RS_OK);
    assert_int_equal(rs_store_batch_add(batch, &record, &eb), RS_OK);
    assert_int_equal(rs_store_batch_flush(batch, fx.db, &stats, &eb), RS_ERR_INTERNAL);
    assert_non_null(strstr(eb.msg, "transaction"));
    rs_store_batch_free(batch);
    json_decref(fields);
}

/* Applies what sync_id staged (no sweep) in one transaction. */
static void apply_staged(const struct rs_uuid *sync_id, struct rs_store_stats *stats)
{
    struct rs_errbuf eb = {{0}, {0}};

    assert_int_equal(rs_db_command(fx.db, "BEGIN"), RS_OK);
    if (rs_store_apply(fx.db, &fx.account, sync_id, false, stats, &eb) != RS_OK)
        fail_msg("apply: %s", eb.msg);
    assert_int_equal(rs_db_command(fx.db, "COMMIT"), RS_OK);
}

#define CROWD 2500 /* more than a staging hand-off: a large sync, which stages markers */

/* Employee P<i> of a crowd, with last name last. */
static struct rec crowd_member(int i, const char *last)
{
    char rid[16];

    snprintf(rid, sizeof(rid), "P%d", i);
    return ok(strdup(rid), json_pack("{s:s, s:s, s:s, s:[]}", "first_name", "Pat", "last_name",
                                     last, "employment_status", "ACTIVE", "groups"));
}

/* Stores the crowd P0..P(CROWD-1), all named "Doe". */
static void store_crowd(void)
{
    struct rec *recs = calloc(CROWD, sizeof(*recs));

    assert_non_null(recs);
    for (int i = 0; i < CROWD; i++)
        recs[i] = crowd_member(i, "Doe");
    assert_stats(store(RS_MODEL_EMPLOYEE, recs, CROWD), CROWD, 0, 0, 0);
    for (int i = 0; i < CROWD; i++)
        free((char *)recs[i].remote_id);
    free(recs);
}

/*
 * Stages the crowd again through rs_stage under sync_id (P<i> renamed to renamed[i] when
 * given), then the extra records; frees their JSON.
 */
static void stage_crowd(const struct rs_uuid *sync_id, const char *const *renamed,
                        struct rec *extra, size_t nextra)
{
    struct rs_store_stats stats[RS_MODEL_COUNT] = {{0}};
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_stage *stage = NULL;
    struct rs_db *stage_db = NULL;

    assert_int_equal(rs_db_open(fx.conninfo, 5, false, &stage_db, &eb), RS_OK);
    assert_int_equal(rs_stage_new(stage_db, &fx.account, sync_id, &stage, &eb), RS_OK);
    for (size_t i = 0; i < CROWD + nextra; i++) {
        struct rec r = i < CROWD ? crowd_member((int)i, renamed && renamed[i] ? renamed[i] : "Doe")
                                 : extra[i - CROWD];
        struct rs_record record = {.remote_id = r.remote_id, .fields = r.fields};

        if (rs_stage_add(stage, RS_MODEL_EMPLOYEE, &record, &eb) != RS_OK)
            fail_msg("stage: %s", eb.msg);
        json_decref(r.fields);
        if (i < CROWD)
            free((char *)r.remote_id);
    }
    if (rs_stage_finish(stage, stats, &eb) != RS_OK)
        fail_msg("finish: %s", eb.msg);
    rs_stage_free(stage);
    rs_db_free(stage_db);
}

/*
 * In a large sync, a record whose content is already stored is staged as a marker (no JSON);
 * one that changed or was marked deleted is staged in full; applying them gives what a full
 * staging would, and writes nothing for the markers.
 */
static void test_unchanged_staged_as_markers(void **state)
{
    static const char *renamed[CROWD];
    struct rs_store_stats stats[RS_MODEL_COUNT] = {{0}};
    struct rs_uuid sync_id;
    char sync_text[RS_UUID_STR_LEN], p0[160], after[160];

    (void)state;
    store_crowd();
    PQclear(
        run("UPDATE employees SET remote_was_deleted = true WHERE remote_id = 'P7'", NULL, NULL));
    snprintf(p0, sizeof(p0), "%s",
             scalar("SELECT xmin::text || modified_at::text FROM employees WHERE remote_id = 'P0'",
                    NULL, NULL));
    renamed[3] = "Döe";
    rs_uuid_v4(&sync_id);
    rs_uuid_format(&sync_id, sync_text);
    stage_crowd(&sync_id, renamed, NULL, 0);
    assert_string_equal(scalar("SELECT string_agg(remote_id || ':' || (normalized = '') || ':' || "
                               "(remote_data IS NULL) || ':' || employment_status, ',' "
                               "ORDER BY remote_id) FROM sync_stage_employees "
                               "WHERE sync_id = $1::uuid AND NOT unchanged",
                               sync_text, NULL),
                        "P3:false:true:ACTIVE,P7:false:true:ACTIVE");
    assert_int_equal(scalar_long("SELECT count(*) FROM sync_stage_employees WHERE unchanged AND "
                                 "normalized = '' AND remote_data IS NULL AND "
                                 "employment_status = 'ACTIVE'",
                                 NULL, NULL),
                     CROWD - 2);
    apply_staged(&sync_id, stats);
    assert_stats(stats[RS_MODEL_EMPLOYEE], 0, 2, CROWD - 2, 0);
    snprintf(after, sizeof(after), "%s",
             scalar("SELECT xmin::text || modified_at::text FROM employees WHERE remote_id = 'P0'",
                    NULL, NULL));
    assert_string_equal(after, p0);
    assert_string_equal(scalar("SELECT normalized::jsonb->>'last_name' FROM employees "
                               "WHERE remote_id = 'P3'",
                               NULL, NULL),
                        "Döe");
    assert_int_equal(
        scalar_long("SELECT count(*) FROM employees WHERE remote_was_deleted", NULL, NULL), 0);
    assert_int_equal(scalar_long("SELECT count(*) FROM sync_stage_employees", NULL, NULL), 0);
}

/* Duplicates across a marker and a full row: the last copy still wins. */
static void test_marker_and_change_of_one_record(void **state)
{
    static const char *renamed[CROWD];
    struct rec back_to_same[] = {crowd_member(0, "Doe")};
    struct rec changed_after[] = {crowd_member(1, "King")};
    struct rs_store_stats stats[RS_MODEL_COUNT] = {{0}};
    struct rs_uuid sync_id;

    (void)state;
    store_crowd();
    /* P0 changed early in the sync, then sent again unchanged: it stays as stored */
    renamed[0] = "Byron";
    rs_uuid_v4(&sync_id);
    stage_crowd(&sync_id, renamed, back_to_same, 1);
    free((char *)back_to_same[0].remote_id);
    apply_staged(&sync_id, stats);
    assert_stats(stats[RS_MODEL_EMPLOYEE], 0, 0, CROWD, 0);
    assert_string_equal(scalar("SELECT normalized::jsonb->>'last_name' FROM employees "
                               "WHERE remote_id = 'P0'",
                               NULL, NULL),
                        "Doe");
    /* P1 staged as a marker, then changed: the change is applied */
    memset(stats, 0, sizeof(stats));
    rs_uuid_v4(&sync_id);
    stage_crowd(&sync_id, NULL, changed_after, 1);
    free((char *)changed_after[0].remote_id);
    apply_staged(&sync_id, stats);
    assert_stats(stats[RS_MODEL_EMPLOYEE], 0, 1, CROWD - 1, 0);
    assert_string_equal(scalar("SELECT normalized::jsonb->>'last_name' FROM employees "
                               "WHERE remote_id = 'P1'",
                               NULL, NULL),
                        "King");
}

/*
 * The staging pipeline: records added on this thread reach the staging tables through the
 * background thread's own connection, in order, with refused records counted.
 */
static void test_stage_pipeline(void **state)
{
    struct rs_store_stats stats[RS_MODEL_COUNT] = {{0}};
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_stage *stage = NULL;
    struct rs_db *stage_db = NULL;
    struct rs_uuid sync_id;
    json_t *remote = json_pack("[{s:s, s:{s:i}}]", "path", "/x", "data", "n", 1);
    char rid[32];

    (void)state;
    assert_int_equal(rs_db_open(fx.conninfo, 5, false, &stage_db, &eb), RS_OK);
    rs_uuid_v4(&sync_id);
    assert_int_equal(rs_stage_new(stage_db, &fx.account, &sync_id, &stage, &eb), RS_OK);
    for (int i = 0; i < 7000; i++) {
        /* the same remote_data object for two records in a row, as adapters deliver them */
        json_t *fields =
            json_pack("{s:s, s:s}", "name", i == 6999 ? "last" : "loc", "location_type", "WORK");
        struct rs_record record = {.remote_id = rid, .fields = fields, .remote_data = remote};

        snprintf(rid, sizeof(rid), "L%d", i % 6000); /* the last 1000 repeat earlier ones */
        assert_int_equal(rs_stage_add(stage, RS_MODEL_LOCATION, &record, &eb), RS_OK);
        json_decref(fields);
    }
    {
        json_t *bad = json_pack("{s:i}", "name", 5);
        struct rs_record record = {.remote_id = "B1", .fields = bad};

        assert_int_equal(rs_stage_add(stage, RS_MODEL_LOCATION, &record, &eb), RS_ERR_INVALID);
        json_decref(bad);
    }
    assert_int_equal(rs_stage_finish(stage, stats, &eb), RS_OK);
    rs_stage_free(stage);
    rs_db_free(stage_db);
    json_decref(remote);
    assert_int_equal(stats[RS_MODEL_LOCATION].invalid, 1);
    apply_staged(&sync_id, stats);
    assert_stats(stats[RS_MODEL_LOCATION], 6000, 0, 0, 1);
    assert_int_equal(scalar_long("SELECT count(*) FROM locations WHERE remote_data = "
                                 "'[{\"path\":\"/x\",\"data\":{\"n\":1}}]'",
                                 NULL, NULL),
                     6000);
    /* L999 was sent last as "last" (record 6999), after its first copy */
    assert_string_equal(scalar("SELECT normalized::jsonb->>'name' FROM locations "
                               "WHERE remote_id = 'L999'",
                               NULL, NULL),
                        "last");
}

/* A COPY that fails in the background surfaces at the next hand-off or at the finish. */
static void test_stage_failure_reported(void **state)
{
    struct rs_store_stats stats[RS_MODEL_COUNT] = {{0}};
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_stage *stage = NULL;
    struct rs_db *stage_db = NULL;
    struct rs_uuid sync_id;
    enum rs_err err = RS_OK;

    (void)state;
    assert_int_equal(rs_db_open(fx.conninfo, 5, false, &stage_db, &eb), RS_OK);
    /* staging into a table that no longer accepts rows: every COPY fails */
    PQclear(run("ALTER TABLE sync_stage_teams ADD CONSTRAINT no_rows CHECK (false) NOT VALID", NULL,
                NULL));
    rs_uuid_v4(&sync_id);
    assert_int_equal(rs_stage_new(stage_db, &fx.account, &sync_id, &stage, &eb), RS_OK);
    for (int i = 0; i < 20000 && err == RS_OK; i++) {
        json_t *fields = json_pack("{s:s}", "name", "team");
        char rid[32];
        struct rs_record record = {.remote_id = rid, .fields = fields};

        snprintf(rid, sizeof(rid), "T%d", i);
        err = rs_stage_add(stage, RS_MODEL_TEAM, &record, &eb);
        json_decref(fields);
    }
    if (err == RS_OK)
        err = rs_stage_finish(stage, stats, &eb);
    assert_int_equal(err, RS_ERR_DB);
    assert_non_null(strstr(eb.msg, "COPY into staging failed"));
    rs_stage_free(stage);
    rs_db_free(stage_db);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_insert_then_unchanged),
        T(test_unchanged_staged_as_markers),
        T(test_marker_and_change_of_one_record),
        T(test_stage_pipeline),
        T(test_stage_failure_reported),
        T(test_one_changed_field),
        T(test_remote_data_change),
        T(test_invalid_records),
        T(test_only_invalid),
        T(test_employee_filter_columns),
        T(test_employee_sparse),
        T(test_other_filter_columns),
        T(test_deterministic_ids),
        T(test_copy_escaping),
        T(test_deleted_row_comes_back),
        T(test_many_rows_several_flushes),
        T(test_rollback),
        T(test_duplicate_in_one_flush),
        T(test_flush_outside_transaction),
    };

    rs_log_set_level(RS_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
