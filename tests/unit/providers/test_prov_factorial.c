/*
 * Unit tests for providers/prov_factorial.c with inline answers shaped like the sandbox's
 * (there is no documented Factorial fixture): the requests (phases, cursors, bearer, the
 * incremental filter), the records of every phase, the OAuth declaration, and edge cases
 * (nulls, missing keys, unknown enums, non-ASCII, huge strings, wrong types, odd paging).
 */
#include "roster/prov.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_capture.h"
#include "rt_prov.h"

#include "roster/rs_model.h"
#include "roster/rs_time.h"
#include "roster/rs_uuid.h"

#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"
#define API     "https://api.factorialhr.com/api/2026-07-01/resources/"
#define NOW     "2026-05-04T10:00:00Z"

/* ---- fixture */

static int setup(void **state)
{
    int64_t now_us;
    struct rt_prov *f;

    assert_int_equal(rs_time_parse(NOW, &now_us), RS_OK);
    f = rt_prov_new("factorial", ACCOUNT, now_us, NULL);
    f->sync.token = json_pack("{s:s, s:s, s:I, s:s}", "access_token", "fac-at-123", "refresh_token",
                              "fac-rt-456", "expires_at_us", (json_int_t)(now_us + 3600000000),
                              "scope", "read");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    rt_prov_free(*state);
    return 0;
}

/* One request (that must be for resource) and its answer. */
static void step(struct rt_prov *f, const char *resource, const char *body)
{
    bool done = true;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_false(done);
    if (!strstr(f->req.url, resource))
        fail_msg("asked %s, expected %s", f->req.url, resource);
    assert_int_equal(rt_prov_feed(f, body), RS_OK);
}

#define EMPTY                                                                                      \
    "{\"data\":[],\"meta\":{\"has_next_page\":false,\"has_previous_page\":false,"                  \
    "\"limit\":100,\"total\":0}}"
#define LAST_META "\"meta\":{\"has_next_page\":false,\"has_previous_page\":false,\"limit\":100}"

/* Answers the phases before employees with empty pages. */
static void skip_to_employees(struct rt_prov *f)
{
    step(f, "companies/legal_entities", EMPTY);
    step(f, "locations/locations", EMPTY);
    step(f, "teams/teams", EMPTY);
}

static void finish(struct rt_prov *f)
{
    bool done = false;

    step(f, "contracts/contract_versions", EMPTY);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_true(done);
}

/* The first element of an array field is the UUID of (kind, remote_id). */
static void assert_first_ref(const struct rt_prov *f, const json_t *rec, const char *field,
                             enum rs_model_kind kind, const char *remote_id)
{
    char uuid[RS_UUID_STR_LEN];
    const json_t *first = json_array_get(json_object_get(rec, field), 0);

    assert_true(json_is_string(first));
    assert_string_equal(json_string_value(first), rt_prov_uuid(f, kind, remote_id, uuid));
}

static const char *remote_path(const struct rt_prov *f, enum rs_model_kind kind, const char *id)
{
    const json_t *remote = json_object_get(rt_capture_record(&f->cap, kind, id), "remote_data");

    return json_string_value(json_object_get(json_array_get(remote, 0), "path"));
}

/* ---- tests */

static void test_declaration(void **state)
{
    struct rt_prov *f = *state;
    const struct prov_oauth *o = f->ops->oauth;
    char url[256];
    json_t *extra = json_pack("{s:s}", "subdomain", "x");

    assert_string_equal(f->ops->name, "Factorial");
    assert_int_equal(f->ops->auth, PROV_AUTH_OAUTH2_CODE);
    assert_int_equal(f->ops->nfields, 0);
    assert_true(f->ops->caps & PROV_CAP_INCREMENTAL);
    assert_non_null(o);
    assert_int_equal(o->nfields, 0);
    assert_non_null(o->scopes);
    assert_false(o->client_auth_basic);
    assert_int_equal(
        o->endpoint(f->credentials, NULL, PROV_OAUTH_AUTHORIZE, url, sizeof(url), &f->eb), RS_OK);
    assert_string_equal(url, "https://api.factorialhr.com/oauth/authorize");
    assert_int_equal(o->endpoint(f->credentials, "http://127.0.0.1:8090/factorial/",
                                 PROV_OAUTH_TOKEN, url, sizeof(url), &f->eb),
                     RS_OK);
    assert_string_equal(url, "http://127.0.0.1:8090/factorial/oauth/token");
    assert_int_equal(o->endpoint(f->credentials, NULL, PROV_OAUTH_REVOKE, url, sizeof(url), &f->eb),
                     RS_OK);
    assert_string_equal(url, "https://api.factorialhr.com/oauth/revoke");
    assert_int_equal(o->endpoint(f->credentials, NULL, PROV_OAUTH_TOKEN, url, 10, &f->eb),
                     RS_ERR_TOOBIG);
    assert_int_equal(prov_check_oauth_credentials(f->ops, f->credentials, &f->eb), RS_OK);
    assert_int_equal(prov_check_oauth_credentials(f->ops, extra, &f->eb), RS_ERR_INVALID);
    assert_int_equal(prov_check_oauth_credentials(prov_find("personio"), f->credentials, &f->eb),
                     RS_ERR_INVALID);
    json_decref(extra);
}

static void test_requests_and_token(void **state)
{
    struct rt_prov *f = *state;
    bool done = true;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_false(done);
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url, API "companies/legal_entities?limit=100");
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BEARER);
    assert_string_equal(f->req.secret, "fac-at-123");
    assert_null(f->req.body);
    f->sync.base_url = "http://127.0.0.1:8090/factorial";
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_string_equal(
        f->req.url,
        "http://127.0.0.1:8090/factorial/api/2026-07-01/resources/companies/legal_entities"
        "?limit=100");
    /* adapters never refresh: a token that cannot be sent is an auth error */
    json_object_set_new(f->sync.token, "expires_at_us", json_integer(f->sync.now_us));
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
    assert_non_null(strstr(f->eb.msg, "expired"));
    assert_null(strstr(f->eb.msg, "fac-at-123"));
    json_object_del(f->sync.token, "expires_at_us"); /* unknown expiry: sent */
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    json_object_set_new(f->sync.token, "invalid", json_true());
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
    json_object_del(f->sync.token, "invalid");
    json_object_set_new(f->sync.token, "access_token", json_string("has space"));
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
    json_decref(f->sync.token);
    f->sync.token = NULL;
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
}

static const char entities[] =
    "{\"data\":[{\"id\":\"901\",\"company_id\":\"71234\",\"country\":\"de\",\"legal_name\":"
    "\"Sandbox GmbH\",\"currency\":\"EUR\",\"tin\":\"DE123\"}]," LAST_META "}";
static const char locations1[] =
    "{\"data\":[{\"id\":\"131001\",\"name\":\"M\\u00fcnchen\",\"country\":\"de\",\"city\":"
    "\"M\\u00fcnchen\",\"main\":true}],\"meta\":{\"has_next_page\":true,\"limit\":1,"
    "\"end_cursor\":\"MA==\"}}";
static const char locations2[] =
    "{\"data\":[{\"id\":131002,\"name\":\"Z\\u00fcrich\",\"country\":\"CH\",\"state\":null}],"
    "\"meta\":{\"has_next_page\":false,\"limit\":1,\"end_cursor\":\"MQ==\"}}";
static const char teams[] =
    "{\"data\":[{\"id\":59001,\"name\":\"Platform\",\"employee_ids\":[4000002,4000003],"
    "\"lead_ids\":[]},{\"id\":59002,\"name\":\"Payments\",\"employee_ids\":[4000004]}]," LAST_META
    "}";
static const char employees[] =
    "{\"data\":["
    "{\"id\":4000001,\"first_name\":\"Elena\",\"last_name\":\"Lef\\u00e8vre\",\"full_name\":"
    "\"Elena Lef\\u00e8vre\",\"preferred_name\":null,\"gender\":\"female\",\"email\":"
    "\"elena@sandbox.example\",\"login_email\":\"elena@sandbox.example\",\"personal_email\":"
    "\"e@mail.example\",\"phone_number\":\"+49 151 1\",\"birthday_on\":\"1990-02-03\","
    "\"company_id\":71234,\"legal_entity_id\":901,\"location_id\":131001,\"manager_id\":null,"
    "\"team_ids\":[],\"company_identifier\":\"SBX-00000\",\"seniority_calculation_date\":"
    "\"2013-01-05\",\"terminated_on\":null,\"is_terminating\":false,\"active\":true,"
    "\"created_at\":\"2012-12-16T19:30:58Z\",\"updated_at\":\"2025-01-02T09:00:00Z\"},"
    "{\"id\":4000002,\"first_name\":\"\\u7f8e\\u54b2\",\"last_name\":\"O'Brien\",\"email\":null,"
    "\"login_email\":\"misaki@sandbox.example\",\"manager_id\":4000001,\"location_id\":131002,"
    "\"legal_entity_id\":901,\"team_ids\":[59001],\"seniority_calculation_date\":\"2020-01-01\","
    "\"terminated_on\":\"2026-03-31\",\"active\":false}"
    "],\"meta\":{\"has_next_page\":true,\"limit\":2,\"end_cursor\":\"MSs/\"}}";
static const char employees2[] =
    "{\"data\":[{\"id\":4000003,\"first_name\":\"Ana\",\"last_name\":\"Ruiz\",\"team_ids\":"
    "[\"59001\",59002],\"seniority_calculation_date\":\"2026-06-01\",\"active\":true,"
    "\"gender\":\"unexpected\"}]," LAST_META "}";
static const char contracts[] =
    "{\"data\":["
    "{\"id\":9000001,\"employee_id\":4000001,\"effective_on\":\"2013-01-05\",\"starts_on\":"
    "\"2013-01-05\",\"job_title\":\"CEO\",\"working_time_percentage_in_cents\":10000},"
    "{\"id\":9000002,\"employee_id\":4000002,\"effective_on\":\"2020-01-01\",\"starts_on\":"
    "\"2020-01-01\",\"ends_on\":\"2026-03-31\",\"job_title\":\"Engineer\","
    "\"working_time_percentage_in_cents\":\"5000\"},"
    "{\"id\":9000003,\"employee_id\":4000003,\"effective_on\":\"2026-06-01\",\"starts_on\":"
    "\"2026-06-01\",\"job_title\":\"Designer\",\"working_time_percentage_in_cents\":null},"
    "{\"id\":9000004,\"employee_id\":4000001,\"effective_on\":\"2027-01-01\",\"starts_on\":"
    "\"2013-01-05\",\"job_title\":\"Chair\"}"
    "]," LAST_META "}";

static void run_full_sync(struct rt_prov *f)
{
    step(f, "companies/legal_entities?limit=100", entities);
    step(f, "locations/locations?limit=100", locations1);
    step(f, "locations/locations?limit=100&after_id=MA%3D%3D", locations2);
    step(f, "teams/teams?limit=100", teams);
    step(f, "employees/employees?limit=100", employees);
    /* the cursor goes back escaped */
    step(f, "employees/employees?limit=100&after_id=MSs%2F", employees2);
    finish(f);
}

static void test_full_sync_records(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;

    run_full_sync(f);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    rec = rt_capture_find(&f->cap, RS_MODEL_COMPANY, "901");
    rt_prov_expect_str(rec, "legal_name", "Sandbox GmbH");
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "eins"), 0)),
                        "DE123");
    /* and "company", for the employee who names no legal entity */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 2);
    rec = rt_capture_find(&f->cap, RS_MODEL_LOCATION, "131001");
    rt_prov_expect_str(rec, "name", "München");
    rt_prov_expect_str(rec, "country", "DE");
    rt_prov_expect_str(rec, "location_type", "WORK");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "131002"), "country", "CH");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_TEAM, "59001"), "name", "Platform");
    rec = rt_capture_find(&f->cap, RS_MODEL_GROUP, "team:59002");
    rt_prov_expect_str(rec, "type", "TEAM");
    assert_true(json_is_true(json_object_get(rec, "is_commonly_used_as_team")));
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 3);

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000001");
    rt_prov_expect_str(rec, "employee_number", "SBX-00000");
    rt_prov_expect_str(rec, "display_full_name", "Elena Lefèvre");
    rt_prov_expect_str(rec, "work_email", "elena@sandbox.example");
    rt_prov_expect_str(rec, "personal_email", "e@mail.example");
    rt_prov_expect_str(rec, "mobile_phone_number", "+49 151 1");
    rt_prov_expect_str(rec, "gender", "FEMALE");
    rt_prov_expect_str(rec, "date_of_birth", "1990-02-03T00:00:00Z");
    rt_prov_expect_str(rec, "hire_date", "2013-01-05T00:00:00Z");
    rt_prov_expect_str(rec, "start_date", "2013-01-05T00:00:00Z");
    rt_prov_expect_str(rec, "employment_status", "ACTIVE");
    rt_prov_expect_str(rec, "manager", NULL);
    rt_prov_expect_str(rec, "team", NULL);
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 0);
    rt_prov_expect_ref(f, rec, "company", RS_MODEL_COMPANY, "901");
    rt_prov_expect_ref(f, rec, "work_location", RS_MODEL_LOCATION, "131001");
    assert_first_ref(f, rec, "employments", RS_MODEL_EMPLOYMENT, "4000001");
    assert_string_equal(remote_path(f, RS_MODEL_EMPLOYEE, "4000001"),
                        "/api/2026-07-01/resources/employees/employees");
    assert_string_equal(remote_path(f, RS_MODEL_LOCATION, "131002"),
                        "/api/2026-07-01/resources/locations/locations");

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000002");
    rt_prov_expect_str(rec, "first_name", "美咲");
    rt_prov_expect_str(rec, "display_full_name", "美咲 O'Brien");
    rt_prov_expect_str(rec, "work_email", "misaki@sandbox.example"); /* login_email stands in */
    rt_prov_expect_str(rec, "employment_status", "INACTIVE");
    rt_prov_expect_str(rec, "termination_date", "2026-03-31T00:00:00Z");
    rt_prov_expect_ref(f, rec, "manager", RS_MODEL_EMPLOYEE, "4000001");
    rt_prov_expect_ref(f, rec, "team", RS_MODEL_TEAM, "59001");
    assert_first_ref(f, rec, "groups", RS_MODEL_GROUP, "team:59001");

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000003");
    rt_prov_expect_str(rec, "employment_status", "PENDING"); /* starts 2026-06-01 */
    rt_prov_expect_str(rec, "gender", NULL);                 /* unknown enum */
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 2);
    rt_prov_expect_ref(f, rec, "company", RS_MODEL_COMPANY, "company"); /* no legal entity named */
}

static void test_contracts(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;

    skip_to_employees(f);
    step(f, "employees/employees", EMPTY);
    step(f, "contracts/contract_versions", contracts);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 3); /* the 2027 change waits */
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000001");
    rt_prov_expect_str(rec, "job_title", "CEO");
    rt_prov_expect_str(rec, "employment_type", "FULL_TIME");
    rt_prov_expect_str(rec, "effective_date", "2013-01-05T00:00:00Z");
    rt_prov_expect_ref(f, rec, "employee", RS_MODEL_EMPLOYEE, "4000001");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000002"), "employment_type",
                       "PART_TIME");
    /* a hire that has not started yet is the current contract */
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000003");
    rt_prov_expect_str(rec, "job_title", "Designer");
    rt_prov_expect_str(rec, "employment_type", NULL);
}

static void test_status_rules(void **state)
{
    struct rt_prov *f = *state;

    skip_to_employees(f);
    step(f, "employees/employees",
         "{\"data\":["
         "{\"id\":1,\"terminated_on\":\"2026-09-30\",\"active\":true,\"is_terminating\":true},"
         "{\"id\":2,\"active\":false},"
         "{\"id\":3,\"terminated_on\":\"2019-05-01\",\"seniority_calculation_date\":\"2021-02-01\","
         "\"active\":true},"
         "{\"id\":4,\"terminated_on\":\"2026-05-04T23:00:00+02:00\"},"
         "{\"id\":5,\"active\":\"false\"},"
         "{\"id\":6}"
         "]," LAST_META "}");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1"), "employment_status",
                       "ACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "2"), "employment_status",
                       "INACTIVE");
    /* rehired since the termination: active, and the old date is not shown */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "employment_status",
                       "ACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "termination_date", NULL);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4"), "employment_status",
                       "INACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5"), "employment_status",
                       "INACTIVE");
    /* nothing known: every field null, an id and the default company */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "employment_status",
                       "ACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "first_name", NULL);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "display_full_name", NULL);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company"));
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY),
                     1); /* once, however many refer to it */
}

static void test_bad_records_skipped(void **state)
{
    struct rt_prov *f = *state;
    char *huge = malloc(200001), *body = malloc(300000);

    memset(huge, 'x', 200000);
    huge[200000] = '\0';
    snprintf(body, 300000,
             "{\"data\":["
             "{\"id\":10,\"first_name\":{\"nested\":1}},"
             "{\"id\":11,\"team_ids\":{\"0\":59001}},"
             "{\"id\":12,\"manager_id\":[1,2]},"
             "{\"id\":13,\"seniority_calculation_date\":\"soon\"},"
             "{\"id\":1.5},{\"first_name\":\"no id\"},\"a string\",null,"
             "{\"id\":\"a\\u0000b\"},"
             "{\"id\":14,\"team_ids\":[{\"x\":1}]},"
             "{\"id\":15,\"first_name\":\"%s\",\"last_name\":\"\\u00c5ngstr\\u00f6m\"},"
             "{\"id\":16,\"birthday_on\":\"0000-00-00\"}"
             "]," LAST_META "}",
             huge);
    skip_to_employees(f);
    step(f, "employees/employees", body);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 2);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 10);
    assert_true(rt_capture_skipped_with(&f->cap, "first_name"));
    assert_true(rt_capture_skipped_with(&f->cap, "team_ids"));
    assert_true(rt_capture_skipped_with(&f->cap, "manager_id"));
    assert_true(rt_capture_skipped_with(&f->cap, "without a usable id"));
    assert_int_equal(json_string_length(json_object_get(
                         rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "15"), "first_name")),
                     200000);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "15"), "last_name", "Ångström");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "16"), "date_of_birth", NULL);
    /* contract versions: no employee, a percentage that is not a number */
    step(f, "contracts/contract_versions",
         "{\"data\":[{\"id\":1,\"job_title\":\"x\"},{\"id\":2,\"employee_id\":15,"
         "\"working_time_percentage_in_cents\":\"lots\"},{\"id\":3,\"employee_id\":15,"
         "\"job_title\":[1]},{\"id\":4,\"employee_id\":15,\"job_title\":\"ok\"}]," LAST_META "}");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 1);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 13);
    free(huge);
    free(body);
}

static void test_unit_edge_cases(void **state)
{
    struct rt_prov *f = *state;

    step(f, "companies/legal_entities",
         "{\"data\":[{\"id\":\"902\",\"legal_name\":{\"x\":1}},{\"id\":903,\"legal_name\":null}]"
         "," LAST_META "}");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "903"), "legal_name", NULL);
    step(f, "locations/locations",
         "{\"data\":[{\"name\":\"no id\"},{\"id\":\"7\",\"country\":\"Deutschland\"}]," LAST_META
         "}");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "7"), "country", "Deutschland");
    step(f, "teams/teams",
         "{\"data\":[{\"id\":1,\"name\":[\"x\"]},{\"id\":2,\"name\":\"\",\"employee_ids\":"
         "[\"e1\",{\"bad\":1},null]}]," LAST_META "}");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_TEAM), 1);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_TEAM, "2"), "name", NULL);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 3);
}

/* Employees without team_ids get their team from the teams' employee_ids. */
static void test_team_membership_fallback(void **state)
{
    struct rt_prov *f = *state;

    step(f, "companies/legal_entities", EMPTY);
    step(f, "locations/locations", EMPTY);
    step(f, "teams/teams", teams);
    step(f, "employees/employees",
         "{\"data\":[{\"id\":4000003},{\"id\":4000004,\"team_ids\":null},{\"id\":4000009},"
         "{\"id\":4000002,\"team_ids\":[]}]," LAST_META "}");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000003"), "team",
                       RS_MODEL_TEAM, "59001");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000004"), "team",
                       RS_MODEL_TEAM, "59002");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000009"), "team", NULL);
    /* an explicit empty list wins over the membership */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000002"), "team", NULL);
    finish(f);
    assert_null(json_object_get(f->sync.state, "members")); /* not carried past the sync */
}

static void test_paging_tolerance(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    json_t *page = json_pack("{s:[], s:{s:s}}", "data", "meta", "end_cursor", "c1");
    char *text;

    /* a bare array is one whole page */
    step(f, "companies/legal_entities", "[{\"id\":\"901\",\"legal_name\":\"A\"}]");
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "901"));
    /* has_next_page without a cursor: by page number */
    step(f, "locations/locations", "{\"data\":[{\"id\":\"1\"}],\"meta\":{\"has_next_page\":true}}");
    step(f, "locations/locations?limit=100&page=2",
         "{\"data\":[{\"id\":\"2\"}],\"meta\":{\"has_next_page\":false}}");
    /* no has_next_page: a full page with a cursor means more */
    for (int i = 0; i < 100; i++)
        json_array_append_new(json_object_get(page, "data"), json_pack("{s:i}", "id", 100 + i));
    text = json_dumps(page, 0);
    step(f, "teams/teams?limit=100", text);
    step(f, "teams/teams?limit=100&after_id=c1", "{\"data\":[{\"id\":7}],\"meta\":{}}");
    step(f, "employees/employees?limit=100", text);
    free(text);
    json_decref(page);
    /* a server that ignores the cursor answers the same page again: refused */
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    page = json_pack("{s:[{s:i}], s:{s:s}}", "data", "id", 100, "meta", "end_cursor", "c1");
    text = json_dumps(page, 0);
    assert_int_equal(rt_prov_feed(f, text), RS_ERR_UPSTREAM);
    free(text);
    json_decref(page);
    assert_int_equal(rt_prov_feed(f, "{\"data\":[{\"id\":1}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"data\":{\"id\":1}}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"error\":\"x\"}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, ""), RS_ERR_UPSTREAM);
}

static void test_incremental(void **state)
{
    struct rt_prov *f = *state;
    bool done;

    f->sync.full = false;
    assert_int_equal(rs_time_parse("2026-05-04T00:30:00Z", &f->sync.since_us), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_null(strstr(f->req.url, "updated_at_gteq"));
    skip_to_employees(f);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    /* the filter keeps only the date, in a zone not documented: from the day before */
    assert_string_equal(f->req.url, API "employees/employees?limit=100&updated_at_gteq=2026-05-03");
    assert_int_equal(rt_prov_feed(f, EMPTY), RS_OK);
    finish(f);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY),
                     0); /* no default company on a partial */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_declaration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_and_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_sync_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contracts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_records_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_membership_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_tolerance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
