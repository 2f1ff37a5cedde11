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

#include "roster/rs_model.h"
#include "roster/rs_time.h"
#include "roster/rs_uuid.h"

#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"
#define API     "https://api.factorialhr.com/api/2026-07-01/resources/"
#define NOW     "2026-05-04T10:00:00Z"

/* ---- fixture */

struct fixture {
    const struct prov_ops *ops;
    json_t *credentials;
    struct prov_sync sync;
    struct rt_capture cap;
    struct prov_sink sink;
    struct prov_request req;
    struct rs_errbuf eb;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->ops = prov_find("factorial");
    assert_non_null(f->ops);
    f->credentials = json_object();
    f->sync.credentials = f->credentials;
    assert_int_equal(rs_uuid_parse(ACCOUNT, &f->sync.account), RS_OK);
    f->sync.full = true;
    assert_int_equal(rs_time_parse(NOW, &f->sync.now_us), RS_OK);
    f->sync.state = json_object();
    f->sync.token = json_pack("{s:s, s:s, s:I, s:s}", "access_token", "fac-at-123", "refresh_token",
                              "fac-rt-456", "expires_at_us",
                              (json_int_t)(f->sync.now_us + 3600000000), "scope", "read");
    rt_capture_init(&f->cap);
    f->sink = rt_capture_sink(&f->cap);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    prov_request_cleanup(&f->req);
    json_decref(f->credentials);
    json_decref(f->sync.state);
    json_decref(f->sync.token);
    rt_capture_cleanup(&f->cap);
    free(f);
    return 0;
}

static enum rs_err next(struct fixture *f, bool *done)
{
    prov_request_cleanup(&f->req);
    return f->ops->next_request(&f->sync, &f->req, done, &f->eb);
}

static enum rs_err parse(struct fixture *f, const char *body)
{
    struct prov_response resp = {200, body, strlen(body)};

    return f->ops->parse_response(&f->sync, &resp, &f->sink, &f->eb);
}

/* One request (that must be for resource) and its answer. */
static void step(struct fixture *f, const char *resource, const char *body)
{
    bool done = true;

    assert_int_equal(next(f, &done), RS_OK);
    assert_false(done);
    if (!strstr(f->req.url, resource))
        fail_msg("asked %s, expected %s", f->req.url, resource);
    assert_int_equal(parse(f, body), RS_OK);
}

#define EMPTY                                                                                      \
    "{\"data\":[],\"meta\":{\"has_next_page\":false,\"has_previous_page\":false,"                  \
    "\"limit\":100,\"total\":0}}"
#define LAST_META "\"meta\":{\"has_next_page\":false,\"has_previous_page\":false,\"limit\":100}"

/* Answers the phases before employees with empty pages. */
static void skip_to_employees(struct fixture *f)
{
    step(f, "companies/legal_entities", EMPTY);
    step(f, "locations/locations", EMPTY);
    step(f, "teams/teams", EMPTY);
}

static void finish(struct fixture *f)
{
    bool done = false;

    step(f, "contracts/contract_versions", EMPTY);
    assert_int_equal(next(f, &done), RS_OK);
    assert_true(done);
}

static const char *uuid_of(enum rs_model_kind kind, const char *remote_id, char *out)
{
    struct rs_uuid account, id;

    assert_int_equal(rs_uuid_parse(ACCOUNT, &account), RS_OK);
    assert_int_equal(rs_model_id(&account, kind, remote_id, &id), RS_OK);
    return rs_uuid_format(&id, out);
}

static void assert_field(const json_t *rec, const char *field, const char *want)
{
    const json_t *value = json_object_get(rec, field);

    if (!want) {
        if (value && !json_is_null(value))
            fail_msg("%s: want null, got %s", field, json_string_value(value));
        return;
    }
    if (!json_is_string(value) || strcmp(json_string_value(value), want) != 0)
        fail_msg("%s: want %s, got %s", field, want,
                 json_is_string(value) ? json_string_value(value) : "(not a string)");
}

static void assert_ref(const json_t *rec, const char *field, enum rs_model_kind kind,
                       const char *remote_id)
{
    char uuid[RS_UUID_STR_LEN];

    assert_field(rec, field, uuid_of(kind, remote_id, uuid));
}

/* The first element of an array field is the UUID of (kind, remote_id). */
static void assert_first_ref(const json_t *rec, const char *field, enum rs_model_kind kind,
                             const char *remote_id)
{
    char uuid[RS_UUID_STR_LEN];
    const json_t *first = json_array_get(json_object_get(rec, field), 0);

    assert_true(json_is_string(first));
    assert_string_equal(json_string_value(first), uuid_of(kind, remote_id, uuid));
}

static const char *remote_path(const struct fixture *f, enum rs_model_kind kind, const char *id)
{
    const json_t *remote = json_object_get(rt_capture_record(&f->cap, kind, id), "remote_data");

    return json_string_value(json_object_get(json_array_get(remote, 0), "path"));
}

/* ---- tests */

static void test_declaration(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    bool done = true;

    assert_int_equal(next(f, &done), RS_OK);
    assert_false(done);
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url, API "companies/legal_entities?limit=100");
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BEARER);
    assert_string_equal(f->req.secret, "fac-at-123");
    assert_null(f->req.body);
    f->sync.base_url = "http://127.0.0.1:8090/factorial";
    assert_int_equal(next(f, &done), RS_OK);
    assert_string_equal(
        f->req.url,
        "http://127.0.0.1:8090/factorial/api/2026-07-01/resources/companies/legal_entities"
        "?limit=100");
    /* adapters never refresh: a token that cannot be sent is an auth error */
    json_object_set_new(f->sync.token, "expires_at_us", json_integer(f->sync.now_us));
    assert_int_equal(next(f, &done), RS_ERR_AUTH);
    assert_non_null(strstr(f->eb.msg, "expired"));
    assert_null(strstr(f->eb.msg, "fac-at-123"));
    json_object_del(f->sync.token, "expires_at_us"); /* unknown expiry: sent */
    assert_int_equal(next(f, &done), RS_OK);
    json_object_set_new(f->sync.token, "invalid", json_true());
    assert_int_equal(next(f, &done), RS_ERR_AUTH);
    json_object_del(f->sync.token, "invalid");
    json_object_set_new(f->sync.token, "access_token", json_string("has space"));
    assert_int_equal(next(f, &done), RS_ERR_AUTH);
    json_decref(f->sync.token);
    f->sync.token = NULL;
    assert_int_equal(next(f, &done), RS_ERR_AUTH);
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

static void run_full_sync(struct fixture *f)
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
    struct fixture *f = *state;
    const json_t *rec;

    run_full_sync(f);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    rec = rt_capture_find(&f->cap, RS_MODEL_COMPANY, "901");
    assert_field(rec, "legal_name", "Sandbox GmbH");
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "eins"), 0)),
                        "DE123");
    /* and "company", for the employee who names no legal entity */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 2);
    rec = rt_capture_find(&f->cap, RS_MODEL_LOCATION, "131001");
    assert_field(rec, "name", "München");
    assert_field(rec, "country", "DE");
    assert_field(rec, "location_type", "WORK");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "131002"), "country", "CH");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_TEAM, "59001"), "name", "Platform");
    rec = rt_capture_find(&f->cap, RS_MODEL_GROUP, "team:59002");
    assert_field(rec, "type", "TEAM");
    assert_true(json_is_true(json_object_get(rec, "is_commonly_used_as_team")));
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 3);

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000001");
    assert_field(rec, "employee_number", "SBX-00000");
    assert_field(rec, "display_full_name", "Elena Lefèvre");
    assert_field(rec, "work_email", "elena@sandbox.example");
    assert_field(rec, "personal_email", "e@mail.example");
    assert_field(rec, "mobile_phone_number", "+49 151 1");
    assert_field(rec, "gender", "FEMALE");
    assert_field(rec, "date_of_birth", "1990-02-03T00:00:00Z");
    assert_field(rec, "hire_date", "2013-01-05T00:00:00Z");
    assert_field(rec, "start_date", "2013-01-05T00:00:00Z");
    assert_field(rec, "employment_status", "ACTIVE");
    assert_field(rec, "manager", NULL);
    assert_field(rec, "team", NULL);
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 0);
    assert_ref(rec, "company", RS_MODEL_COMPANY, "901");
    assert_ref(rec, "work_location", RS_MODEL_LOCATION, "131001");
    assert_first_ref(rec, "employments", RS_MODEL_EMPLOYMENT, "4000001");
    assert_string_equal(remote_path(f, RS_MODEL_EMPLOYEE, "4000001"),
                        "/api/2026-07-01/resources/employees/employees");
    assert_string_equal(remote_path(f, RS_MODEL_LOCATION, "131002"),
                        "/api/2026-07-01/resources/locations/locations");

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000002");
    assert_field(rec, "first_name", "美咲");
    assert_field(rec, "display_full_name", "美咲 O'Brien");
    assert_field(rec, "work_email", "misaki@sandbox.example"); /* login_email stands in */
    assert_field(rec, "employment_status", "INACTIVE");
    assert_field(rec, "termination_date", "2026-03-31T00:00:00Z");
    assert_ref(rec, "manager", RS_MODEL_EMPLOYEE, "4000001");
    assert_ref(rec, "team", RS_MODEL_TEAM, "59001");
    assert_first_ref(rec, "groups", RS_MODEL_GROUP, "team:59001");

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000003");
    assert_field(rec, "employment_status", "PENDING"); /* starts 2026-06-01 */
    assert_field(rec, "gender", NULL);                 /* unknown enum */
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 2);
    assert_ref(rec, "company", RS_MODEL_COMPANY, "company"); /* no legal entity named */
}

static void test_contracts(void **state)
{
    struct fixture *f = *state;
    const json_t *rec;

    skip_to_employees(f);
    step(f, "employees/employees", EMPTY);
    step(f, "contracts/contract_versions", contracts);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 3); /* the 2027 change waits */
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000001");
    assert_field(rec, "job_title", "CEO");
    assert_field(rec, "employment_type", "FULL_TIME");
    assert_field(rec, "effective_date", "2013-01-05T00:00:00Z");
    assert_ref(rec, "employee", RS_MODEL_EMPLOYEE, "4000001");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000002"), "employment_type",
                 "PART_TIME");
    /* a hire that has not started yet is the current contract */
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4000003");
    assert_field(rec, "job_title", "Designer");
    assert_field(rec, "employment_type", NULL);
}

static void test_status_rules(void **state)
{
    struct fixture *f = *state;

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
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1"), "employment_status", "ACTIVE");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "2"), "employment_status", "INACTIVE");
    /* rehired since the termination: active, and the old date is not shown */
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "employment_status", "ACTIVE");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "termination_date", NULL);
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4"), "employment_status", "INACTIVE");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5"), "employment_status", "INACTIVE");
    /* nothing known: every field null, an id and the default company */
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "employment_status", "ACTIVE");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "first_name", NULL);
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "display_full_name", NULL);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company"));
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY),
                     1); /* once, however many refer to it */
}

static void test_bad_records_skipped(void **state)
{
    struct fixture *f = *state;
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
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "15"), "last_name", "Ångström");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "16"), "date_of_birth", NULL);
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
    struct fixture *f = *state;

    step(f, "companies/legal_entities",
         "{\"data\":[{\"id\":\"902\",\"legal_name\":{\"x\":1}},{\"id\":903,\"legal_name\":null}]"
         "," LAST_META "}");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
    assert_field(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "903"), "legal_name", NULL);
    step(f, "locations/locations",
         "{\"data\":[{\"name\":\"no id\"},{\"id\":\"7\",\"country\":\"Deutschland\"}]," LAST_META
         "}");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "7"), "country", "Deutschland");
    step(f, "teams/teams",
         "{\"data\":[{\"id\":1,\"name\":[\"x\"]},{\"id\":2,\"name\":\"\",\"employee_ids\":"
         "[\"e1\",{\"bad\":1},null]}]," LAST_META "}");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_TEAM), 1);
    assert_field(rt_capture_find(&f->cap, RS_MODEL_TEAM, "2"), "name", NULL);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 3);
}

/* Employees without team_ids get their team from the teams' employee_ids. */
static void test_team_membership_fallback(void **state)
{
    struct fixture *f = *state;

    step(f, "companies/legal_entities", EMPTY);
    step(f, "locations/locations", EMPTY);
    step(f, "teams/teams", teams);
    step(f, "employees/employees",
         "{\"data\":[{\"id\":4000003},{\"id\":4000004,\"team_ids\":null},{\"id\":4000009},"
         "{\"id\":4000002,\"team_ids\":[]}]," LAST_META "}");
    assert_ref(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000003"), "team", RS_MODEL_TEAM,
               "59001");
    assert_ref(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000004"), "team", RS_MODEL_TEAM,
               "59002");
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000009"), "team", NULL);
    /* an explicit empty list wins over the membership */
    assert_field(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4000002"), "team", NULL);
    finish(f);
    assert_null(json_object_get(f->sync.state, "members")); /* not carried past the sync */
}

static void test_paging_tolerance(void **state)
{
    struct fixture *f = *state;
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
    assert_int_equal(next(f, &done), RS_OK);
    page = json_pack("{s:[{s:i}], s:{s:s}}", "data", "id", 100, "meta", "end_cursor", "c1");
    text = json_dumps(page, 0);
    assert_int_equal(parse(f, text), RS_ERR_UPSTREAM);
    free(text);
    json_decref(page);
    assert_int_equal(parse(f, "{\"data\":[{\"id\":1}"), RS_ERR_UPSTREAM);
    assert_int_equal(parse(f, "{\"data\":{\"id\":1}}"), RS_ERR_UPSTREAM);
    assert_int_equal(parse(f, "{\"error\":\"x\"}"), RS_ERR_UPSTREAM);
    assert_int_equal(parse(f, ""), RS_ERR_UPSTREAM);
}

static void test_incremental(void **state)
{
    struct fixture *f = *state;
    bool done;

    f->sync.full = false;
    assert_int_equal(rs_time_parse("2026-05-04T00:30:00Z", &f->sync.since_us), RS_OK);
    assert_int_equal(next(f, &done), RS_OK);
    assert_null(strstr(f->req.url, "updated_at_gteq"));
    skip_to_employees(f);
    assert_int_equal(next(f, &done), RS_OK);
    /* the filter keeps only the date, in a zone not documented: from the day before */
    assert_string_equal(f->req.url, API "employees/employees?limit=100&updated_at_gteq=2026-05-03");
    assert_int_equal(parse(f, EMPTY), RS_OK);
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
