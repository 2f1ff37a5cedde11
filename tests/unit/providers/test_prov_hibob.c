/*
 * Unit tests for providers/prov_hibob.c: the two requests it builds (named lists, then one
 * people search) and the records it makes of the documented fixture, of answers captured from
 * roster-sandbox and of hostile answers (tests/unit/providers/fixtures/hibob). No sockets.
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
#include "rt_fixture.h"

#include "roster/rs_model.h"
#include "roster/rs_time.h"
#include "roster/rs_uuid.h"

#define ACCOUNT     "7d444840-9dc0-11d1-b245-5ffdce74fad2"
#define NOW         "2026-05-04T10:00:00Z"
#define NO_LISTS    "{}"
#define SEARCH_PATH "/v1/people/search"

/* ---- fixtures */

static int setup(void **state)
{
    int64_t now_us;

    assert_int_equal(rs_time_parse(NOW, &now_us), RS_OK);
    *state = rt_prov_new("hibob", ACCOUNT, now_us,
                         json_pack("{s:s, s:s}", "service_user_id", "SERVICE-1234",
                                   "service_user_token", "t0ken-abcdef"));
    return 0;
}

static int teardown(void **state)
{
    rt_prov_free(*state);
    return 0;
}

/* The bytes of tests/unit/providers/fixtures/hibob/<name> (NUL-terminated; free() it). */
static char *read_fixture(const char *name)
{
    return rt_fixture_read("tests/unit/providers/fixtures/hibob", name, NULL);
}

static json_t *load_fixture(const char *name)
{
    char *text = read_fixture(name);
    json_t *root = json_loads(text, 0, NULL);

    free(text);
    assert_non_null(root);
    return root;
}

/* Drives the sync up to the people search: requests the lists and answers them with lists. */
static void answer_lists(struct rt_prov *f, const char *lists)
{
    assert_false(rt_prov_next_ok(f));
    assert_int_equal(f->req.page, -1);
    assert_int_equal(rt_prov_feed(f, lists), RS_OK);
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.method, "POST");
}

/* Feeds {"employees": [people...]} after empty lists; people is borrowed. */
static void answer_people(struct rt_prov *f, const char *lists, const json_t *people)
{
    json_t *body = json_pack("{s:o}", "employees", json_deep_copy(people));

    answer_lists(f, lists);
    assert_int_equal(rt_prov_feed_json(f, body), RS_OK);
    json_decref(body);
    assert_true(rt_prov_next_ok(f));
}

/* obj.a.b, or NULL. */
static const json_t *nested(const json_t *obj, const char *a, const char *b)
{
    return json_object_get(json_object_get(obj, a), b);
}

/* groups is exactly [ref of department remote id] (or [] for NULL). */
static void assert_groups(struct rt_prov *f, const json_t *fields, const char *department)
{
    const json_t *groups = json_object_get(fields, "groups");
    char uuid[RS_UUID_STR_LEN];

    assert_true(json_is_array(groups));
    assert_int_equal(json_array_size(groups), department ? 1 : 0);
    if (department)
        assert_string_equal(json_string_value(json_array_get(groups, 0)),
                            rt_prov_uuid(f, RS_MODEL_GROUP, department, uuid));
}

/* ---- the adapter's declaration and its requests */

static void test_declaration(void **state)
{
    struct rt_prov *f = *state;
    struct rs_errbuf eb;

    assert_string_equal(f->ops->slug, "hibob");
    assert_string_equal(f->ops->name, "HiBob");
    assert_string_equal(f->ops->color, "#E42C64");
    assert_int_equal(f->ops->auth, PROV_AUTH_BASIC);
    assert_int_equal(f->ops->nfields, 2);
    assert_string_equal(f->ops->fields[0].name, "service_user_id");
    assert_string_equal(f->ops->fields[1].name, "service_user_token");
    assert_true(f->ops->fields[1].secret);
    assert_int_equal(f->ops->caps & PROV_CAP_INCREMENTAL, 0);
    assert_true(f->ops->rate_per_s > 0.83 && f->ops->rate_per_s < 0.84); /* 50 a minute */
    assert_true(f->ops->burst == 5);
    assert_string_equal(f->ops->rate_reset_header, "x-ratelimit-reset");
    assert_int_equal(prov_check_credentials(f->ops, f->credentials, &eb), RS_OK);
}

static void test_lists_request(void **state)
{
    struct rt_prov *f = *state;

    /* first the named lists: a metadata call, GET, Basic service user */
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url,
                        "https://api.hibob.com/v1/company/named-lists?includeArchived=true");
    assert_int_equal(f->req.page, -1);
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BASIC);
    assert_string_equal(f->req.user, "SERVICE-1234");
    assert_string_equal(f->req.secret, "t0ken-abcdef");
    assert_null(f->req.body);
    assert_string_equal(f->req.content_type, "");
    /* next_request is pure: asking again asks for the same thing */
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.method, "GET");
}

/* Every field the mapping reads, in the order the adapter asks for them. */
static const char *const search_fields[] = {
    "root.id",
    "root.firstName",
    "root.surname",
    "root.email",
    "root.displayName",
    "root.fullName",
    "root.companyId",
    "root.creationDateTime",
    "work.startDate",
    "work.manager",
    "work.reportsTo",
    "work.department",
    "work.site",
    "work.title",
    "work.workMobile",
    "home.privateEmail",
    "home.legalGender",
    "internal.status",
    "internal.terminationDate",
};

static void test_search_request(void **state)
{
    struct rt_prov *f = *state;
    char *lists = read_fixture("sandbox_named_lists.json");
    const size_t nfields = sizeof(search_fields) / sizeof(search_fields[0]);
    json_t *body, *fields;

    /* one search after the lists: POST, leavers included, machine values */
    answer_lists(f, lists);
    free(lists);
    assert_string_equal(f->req.url, "https://api.hibob.com/v1/people/search");
    assert_int_equal(f->req.page, 0);
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BASIC);
    assert_string_equal(f->req.user, "SERVICE-1234");
    assert_string_equal(f->req.secret, "t0ken-abcdef");
    assert_string_equal(f->req.content_type, "application/json");
    assert_non_null(f->req.body);
    assert_int_equal(f->req.body_len, strlen(f->req.body));
    body = json_loadb(f->req.body, f->req.body_len, 0, NULL);
    assert_non_null(body);
    assert_true(json_is_true(json_object_get(body, "showInactive")));
    assert_null(json_object_get(body, "humanReadable")); /* ids, not display names */
    assert_null(json_object_get(body, "filters"));
    fields = json_object_get(body, "fields");
    assert_int_equal(json_array_size(fields), nfields);
    for (size_t i = 0; i < nfields; i++)
        assert_string_equal(json_string_value(json_array_get(fields, i)), search_fields[i]);
    json_decref(body);

    assert_int_equal(rt_prov_feed(f, "{\"employees\": []}"), RS_OK);
    assert_true(rt_prov_next_ok(f)); /* no pagination: one answer is everything */
    assert_true(rt_prov_next_ok(f));
}

static void test_base_url(void **state)
{
    struct rt_prov *f = *state;

    f->sync.base_url = "http://127.0.0.1:8090/hibob/";
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.url,
                        "http://127.0.0.1:8090/hibob/v1/company/named-lists?includeArchived=true");
    assert_int_equal(rt_prov_feed(f, NO_LISTS), RS_OK);
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.url, "http://127.0.0.1:8090/hibob/v1/people/search");
}

static void test_bad_credentials(void **state)
{
    struct rt_prov *f = *state;
    struct rs_errbuf eb;
    bool done = false;

    json_object_del(f->credentials, "service_user_token");
    assert_int_equal(f->ops->next_request(&f->sync, &f->req, &done, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "service_user_token"));
    assert_null(f->req.body);
    assert_string_equal(f->req.secret, "");

    /* a colon in the user would move the user:token boundary of HTTP Basic */
    json_object_set_new(f->credentials, "service_user_token", json_string("t0ken-abcdef"));
    json_object_set_new(f->credentials, "service_user_id", json_string("a:b"));
    assert_int_equal(f->ops->next_request(&f->sync, &f->req, &done, &eb), RS_ERR_INVALID);
    assert_string_equal(f->req.secret, "");
    assert_string_equal(f->req.user, "");

    json_object_set_new(f->credentials, "service_user_id", json_integer(5));
    assert_int_equal(f->ops->next_request(&f->sync, &f->req, &done, &eb), RS_ERR_INVALID);
}

/* ---- the documented fixture (cartography's test data: names, reportsTo as a name) */

static void test_documented_employees(void **state)
{
    struct rt_prov *f = *state;
    json_t *fixture = load_fixture("employees.json");
    const json_t *john, *jane, *remote;
    char uuid[RS_UUID_STR_LEN];

    answer_people(f, NO_LISTS, json_object_get(fixture, "employees"));
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 2);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 2);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "1337"));

    john = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1234");
    assert_non_null(john);
    rt_prov_expect_str(john, "first_name", "John");
    rt_prov_expect_str(john, "last_name", "Doe");
    rt_prov_expect_str(john, "display_full_name", "John Doe");
    rt_prov_expect_str(john, "preferred_name", NULL);
    rt_prov_expect_str(john, "employee_number", NULL);
    rt_prov_expect_str(john, "work_email", "john.doe@domain.tld");
    rt_prov_expect_str(john, "personal_email", "john.doe@gmail.com");
    rt_prov_expect_str(john, "mobile_phone_number", "0601020304");
    rt_prov_expect_str(john, "gender", "MALE");
    rt_prov_expect_str(john, "start_date", "2022-10-10T00:00:00Z");
    rt_prov_expect_str(john, "hire_date", "2022-10-10T00:00:00Z");
    rt_prov_expect_str(john, "termination_date", NULL);
    /* no offset: UTC, microseconds kept */
    rt_prov_expect_str(john, "remote_created_at", "2022-09-16T07:47:44.938494Z");
    /* no internal.status in this fixture and nothing in the dates says otherwise: unknown */
    rt_prov_expect_str(john, "employment_status", NULL);
    rt_prov_expect_ref(f, john, "manager", RS_MODEL_EMPLOYEE,
                       "5678"); /* work.manager, not reportsTo */
    rt_prov_expect_ref(f, john, "company", RS_MODEL_COMPANY, "1337");
    rt_prov_expect_ref(f, john, "work_location", RS_MODEL_LOCATION, "Other - France");
    rt_prov_expect_str(john, "team", NULL);
    assert_groups(f, john, "department:R&D");
    assert_int_equal(json_array_size(json_object_get(john, "employments")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(john, "employments"), 0)),
                        rt_prov_uuid(f, RS_MODEL_EMPLOYMENT, "1234", uuid));

    remote = json_object_get(rt_capture_record(&f->cap, RS_MODEL_EMPLOYEE, "1234"), "remote_data");
    assert_int_equal(json_array_size(remote), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(remote, 0), "path")),
                        SEARCH_PATH);
    assert_true(json_equal(json_object_get(json_array_get(remote, 0), "data"),
                           json_array_get(json_object_get(fixture, "employees"), 0)));

    jane = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5678");
    assert_non_null(jane);
    rt_prov_expect_str(jane, "gender", "FEMALE");
    rt_prov_expect_str(jane, "manager", NULL);
    rt_prov_expect_str(jane, "personal_email", "jjsmith@gmail.com");

    json_decref(fixture);
}

static void test_documented_units(void **state)
{
    struct rt_prov *f = *state;
    json_t *fixture = load_fixture("employees.json");
    const json_t *job, *group, *site;

    answer_people(f, NO_LISTS, json_object_get(fixture, "employees"));
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    job = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "1234");
    assert_non_null(job);
    rt_prov_expect_ref(f, job, "employee", RS_MODEL_EMPLOYEE, "1234");
    rt_prov_expect_str(job, "job_title", "Doctor");
    rt_prov_expect_str(job, "effective_date", "2022-10-10T00:00:00Z");
    rt_prov_expect_str(job, "employment_type", NULL);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "5678"), "job_title",
                       "R&D Director");

    /* units no list carries are derived from the names, once each although two people share */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 1);
    group = rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:R&D");
    assert_non_null(group);
    rt_prov_expect_str(group, "name", "R&D");
    rt_prov_expect_str(group, "type", "DEPARTMENT");
    assert_true(json_is_false(json_object_get(group, "is_commonly_used_as_team")));
    rt_prov_expect_str(group, "parent_group", NULL);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 1);
    site = rt_capture_find(&f->cap, RS_MODEL_LOCATION, "Other - France");
    assert_non_null(site);
    rt_prov_expect_str(site, "name", "Other - France");
    rt_prov_expect_str(site, "location_type", "WORK");
    json_decref(fixture);
}

/* ---- answers captured from roster-sandbox (30 people, seed 1; showInactive true) */

/* Feeds the captured sandbox answers; returns the people search answer (json_decref it). */
static json_t *answer_sandbox(struct rt_prov *f)
{
    char *lists = read_fixture("sandbox_named_lists.json");
    json_t *people = load_fixture("sandbox_people_search.json");

    answer_people(f, lists, json_object_get(people, "employees"));
    free(lists);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    return people;
}

static void test_sandbox_counts(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = answer_sandbox(f);
    const json_t *list = json_object_get(people, "employees");
    size_t active = 0, inactive = 0, managed = 0;

    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 30);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 30);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "601737"));
    /* every unit came from the named lists, by item id; none was derived from a name */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 8);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 7);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *raw = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(raw, "id"));
        const char *manager = json_string_value(nested(raw, "work", "manager"));
        const json_t *person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, id);
        const char *status = json_string_value(json_object_get(person, "employment_status"));

        assert_non_null(status);
        active += strcmp(status, "ACTIVE") == 0;
        inactive += strcmp(status, "INACTIVE") == 0;
        managed += manager != NULL;
        rt_prov_expect_ref(f, person, "manager", RS_MODEL_EMPLOYEE, manager);
        rt_prov_expect_ref(f, person, "company", RS_MODEL_COMPANY, "601737");
        assert_int_equal(json_array_size(json_object_get(person, "groups")), 1);
        assert_non_null(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, id));
    }
    assert_int_equal(active, 29);
    assert_int_equal(inactive, 1);
    assert_int_equal(managed, 29); /* all but the CEO */
    json_decref(people);
}

static void test_sandbox_people(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = answer_sandbox(f);
    const json_t *person;

    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:281505"), "name",
                       "Customer Support");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "131001"), "name", "München");
    assert_non_null(json_array_get(
        json_object_get(rt_capture_record(&f->cap, RS_MODEL_GROUP, "department:281505"),
                        "remote_data"),
        0));
    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3000000000000000000"); /* the CEO */
    rt_prov_expect_str(person, "first_name", "Elena");
    rt_prov_expect_str(person, "last_name", "Lefèvre");
    rt_prov_expect_str(person, "manager", NULL);
    assert_groups(f, person, "department:281508"); /* "Operations", resolved to its item */
    rt_prov_expect_ref(f, person, "work_location", RS_MODEL_LOCATION, "131001");
    rt_prov_expect_str(person, "remote_created_at", "2012-12-16T19:30:58.101565Z");
    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3000000000000039595");
    rt_prov_expect_str(person, "first_name", "美咲");
    assert_groups(f, person, "department:281505");
    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3000000000000063352"); /* the leaver */
    rt_prov_expect_str(person, "employment_status", "INACTIVE");
    rt_prov_expect_str(person, "termination_date", "2016-07-09T00:00:00Z");
    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3000000000000023757");
    rt_prov_expect_str(person, "display_full_name", "Tomás Hoffmann");
    json_decref(people);
}

static void test_sandbox_preferred_name(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = answer_sandbox(f);
    const json_t *list = json_object_get(people, "employees");
    size_t preferred = 0;

    /* displayName carries the preferred first name; first_name stays the legal one */
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *raw = json_array_get(list, i);
        const json_t *person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE,
                                               json_string_value(json_object_get(raw, "id")));

        rt_prov_expect_str(person, "display_full_name",
                           json_string_value(json_object_get(raw, "displayName")));
        rt_prov_expect_str(person, "first_name",
                           json_string_value(json_object_get(raw, "firstName")));
        preferred +=
            !json_equal(json_object_get(raw, "displayName"), json_object_get(raw, "fullName"));
    }
    assert_true(preferred > 0);
    json_decref(people);
}

/* ---- the manager: work.manager, else reportsTo {id}; a reportsTo name is not an id */

static void test_manager_shapes(void **state)
{
    struct rt_prov *f = *state;
    json_t *people =
        json_pack("[{s:s, s:{s:{s:s}}},"      /* reportsTo object only */
                  " {s:s, s:{s:s}},"          /* reportsTo a display name */
                  " {s:s, s:{s:i}},"          /* manager a number */
                  " {s:s, s:{s:[]}},"         /* reportsTo an array */
                  " {s:s, s:{s:s, s:{s:i}}}," /* manager empty, reportsTo {id: 9} */
                  " {s:s, s:{s:s, s:s}}]",    /* manager wins over the name */
                  "id", "1", "work", "reportsTo", "id", "77", "id", "2", "work", "reportsTo",
                  "Jane Smith", "id", "3", "work", "manager", 42, "id", "4", "work", "reportsTo",
                  "id", "5", "work", "manager", "", "reportsTo", "id", 9, "id", "6", "work",
                  "manager", "1", "reportsTo", "Someone Else");

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 6);
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1"), "manager",
                       RS_MODEL_EMPLOYEE, "77");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "2"), "manager", NULL);
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "manager",
                       RS_MODEL_EMPLOYEE, "42");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4"), "manager", NULL);
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5"), "manager",
                       RS_MODEL_EMPLOYEE, "9");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "manager",
                       RS_MODEL_EMPLOYEE, "1");
    json_decref(people);
}

/* ---- status: internal.status, future starts, termination dates (now is 2026-05-04) */

static void test_status(void **state)
{
    struct rt_prov *f = *state;
    json_t *people =
        json_pack("[{s:s, s:{s:s}, s:{s:s}},"      /* Active, starts next month */
                  " {s:s, s:{s:s, s:s}},"          /* Inactive with a date */
                  " {s:s, s:{s:s}},"               /* an unexpected status */
                  " {s:s, s:{s:s}},"               /* no status, work.terminationDate past */
                  " {s:s, s:{s:s}},"               /* no status, start ahead */
                  " {s:s, s:{s:i}},"               /* status a number */
                  " {s:s, s:{s:s, s:s}, s:{s:s}}," /* Inactive, internal date wins over work's */
                  " {s:s, s:{s:s}, s:{s:s}}]",     /* Active, started */
                  "id", "p", "internal", "status", "Active", "work", "startDate", "2026-06-01",
                  "id", "t", "internal", "status", "Inactive", "terminationDate", "2025-01-31",
                  "id", "u", "internal", "status", "On Sabbatical", "id", "w", "work",
                  "terminationDate", "2025-02-01", "id", "f", "work", "startDate", "2027-01-01",
                  "id", "n", "internal", "status", 5, "id", "b", "internal", "status", "inactive",
                  "terminationDate", "2024-12-31", "work", "terminationDate", "2020-01-01", "id",
                  "a", "internal", "status", "Active", "work", "startDate", "2026-05-04");

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "p"), "employment_status",
                       "PENDING");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "t"), "employment_status",
                       "INACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "t"), "termination_date",
                       "2025-01-31T00:00:00Z");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "u"), "employment_status", NULL);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "w"), "employment_status",
                       "INACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "w"), "termination_date",
                       "2025-02-01T00:00:00Z");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "f"), "employment_status",
                       "PENDING");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "n"), "employment_status", NULL);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "b"), "employment_status",
                       "INACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "b"), "termination_date",
                       "2024-12-31T00:00:00Z");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "a"), "employment_status",
                       "ACTIVE");
    json_decref(people);
}

/* ---- odd values: nulls, missing keys, unknown enums, non-ASCII, wrong types */

static void test_sparse_and_odd_values(void **state)
{
    struct rt_prov *f = *state;
    const json_t *person;
    json_t *people =
        json_pack("[{s:s}," /* an id and nothing else */
                  " {s:s, s:n, s:n, s:n, s:n, s:{s:n, s:n, s:n}, s:{s:n}, s:{s:n}},"
                  " {s:i, s:i, s:s, s:{s:s}},"                    /* numbers where strings belong */
                  " {s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}}," /* non-ASCII everywhere */
                  " {s:s, s:[], s:s}]", /* work an array: no work fields */
                  "id", "only", "id", "nulls", "firstName", "surname", "email", "creationDateTime",
                  "work", "startDate", "department", "site", "home", "legalGender", "internal",
                  "status", "id", 4711, "firstName", 7, "surname", "Seven", "work", "site", "",
                  "id", "ü", "firstName", "Zoë", "surname", "Ångström", "displayName",
                  "Zoë Ångström", "email", "zoë@exämple.de", "home", "legalGender", "Alien", "work",
                  "department", "Forschung & Entwicklung", "id", "arr", "work", "firstName", "Arr");

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 5);

    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "only");
    rt_prov_expect_str(person, "first_name", NULL);
    rt_prov_expect_str(person, "display_full_name", NULL);
    rt_prov_expect_str(person, "start_date", NULL);
    rt_prov_expect_str(person, "employment_status", NULL);
    rt_prov_expect_str(person, "work_location", NULL);
    assert_groups(f, person, NULL);
    rt_prov_expect_ref(f, person, "company", RS_MODEL_COMPANY,
                       "company"); /* no companyId anywhere */
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company"));
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "only"), "job_title", NULL);

    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "nulls");
    rt_prov_expect_str(person, "gender", NULL);
    assert_groups(f, person, NULL);

    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4711");
    assert_non_null(person);
    rt_prov_expect_str(person, "first_name", "7");
    rt_prov_expect_str(person, "display_full_name",
                       "7 Seven");                     /* composed: no display name given */
    rt_prov_expect_str(person, "work_location", NULL); /* "" is no site */

    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "ü");
    rt_prov_expect_str(person, "first_name", "Zoë");
    rt_prov_expect_str(person, "display_full_name", "Zoë Ångström");
    rt_prov_expect_str(person, "work_email", "zoë@exämple.de");
    rt_prov_expect_str(person, "gender", NULL); /* unknown value: null, record kept */
    assert_groups(f, person, "department:Forschung & Entwicklung");
    rt_prov_expect_str(
        rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:Forschung & Entwicklung"), "name",
        "Forschung & Entwicklung");

    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "arr");
    rt_prov_expect_str(person, "first_name", "Arr");
    rt_prov_expect_str(person, "start_date", NULL);
    json_decref(people);
}

static void test_unmappable_records_skipped(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = json_pack("[i, s, n,"          /* not objects */
                               " {s:s},"            /* no id */
                               " {s:{}, s:s},"      /* id an object */
                               " {s:s},"            /* id "" */
                               " {s:s, s:{s:[s]}}," /* title an array */
                               " {s:s, s:{s:s}},"   /* start date that is no date */
                               " {s:s, s:{s:[]}},"  /* department an array */
                               " {s:s, s:{s:b}},"   /* site a boolean */
                               " {s:s, s:s}]",      /* a good one after all that */
                               5, "x", "firstName", "Nobody", "id", "firstName", "Objecty", "id",
                               "", "id", "title", "work", "title", "Chief", "id", "date", "work",
                               "startDate", "soon", "id", "dep", "work", "department", "id", "site",
                               "work", "site", 1, "id", "ok", "firstName", "Okay");

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 1);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 1);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "ok"));
    assert_int_equal(rt_capture_count_remote_id(&f->cap, RS_MODEL_EMPLOYMENT, "title"), 0);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RS_MODEL_EMPLOYEE), 10);
    /* the reason names the provider field, never its value */
    assert_true(rt_capture_skipped_with(&f->cap, "work.title") > 0);
    assert_int_equal(rt_capture_skipped_with(&f->cap, "Chief"), 0);
    json_decref(people);
}

/* 100 KB values: kept whole when they are text, refused as ids when they would be ids */
static void test_huge_strings(void **state)
{
    struct rt_prov *f = *state;
    const size_t size = 100 * 1024;
    char *huge = malloc(size + 1);
    json_t *people;
    const json_t *person;

    assert_non_null(huge);
    for (size_t i = 0; i + 2 <= size; i += 2)
        memcpy(huge + i, "\xc3\xa9", 2); /* é: a cut in the middle would be invalid UTF-8 */
    huge[size] = '\0';
    people = json_pack("[{s:s, s:s, s:s, s:{s:s, s:s, s:s}}, {s:s}]", "id", "big", "firstName",
                       huge, "surname", "X", "work", "department", huge, "title", huge, "manager",
                       huge, "id", huge);

    answer_people(f, NO_LISTS, people);
    person = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "big");
    assert_non_null(person);
    assert_int_equal(strlen(json_string_value(json_object_get(person, "first_name"))), size);
    assert_string_equal(json_string_value(json_object_get(person, "first_name")), huge);
    assert_int_equal(strlen(json_string_value(json_object_get(
                         rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "big"), "job_title"))),
                     size);
    assert_groups(f, person, NULL);              /* no department id can be that long */
    rt_prov_expect_str(person, "manager", NULL); /* nor a manager's */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 0);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RS_MODEL_GROUP), 1);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RS_MODEL_EMPLOYEE), 1); /* the 100 KB id */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 1);
    json_decref(people);
    free(huge);
}

/* ---- departments and sites against the named lists */

static void test_unit_values(void **state)
{
    struct rt_prov *f = *state;
    char *lists = read_fixture("sandbox_named_lists.json");
    json_t *people = json_pack(
        "[{s:s, s:{s:s, s:s}},"     /* item ids, as machine mode answers */
        " {s:s, s:{s:i, s:i}},"     /* the same as numbers */
        " {s:s, s:{s:{s:s, s:s}}}," /* {id, name} */
        " {s:s, s:{s:{s:s, s:s}}}," /* {id, name} with an id no list has */
        " {s:s, s:{s:{s:s}}},"      /* {name} known by name */
        " {s:s, s:{s:s, s:s}},"     /* names unknown to the lists */
        " {s:s, s:{s:s}}]",         /* and again: derived once */
        "id", "ids", "work", "department", "281502", "site", "131002", "id", "nums", "work",
        "department", 281502, "site", 131002, "id", "obj", "work", "department", "id", "281503",
        "name", "Sales", "id", "new", "work", "department", "id", "999", "name", "Skunkworks", "id",
        "byname", "work", "department", "name", "Finance", "id", "unk", "work", "department",
        "Moonshots", "site", "Mars Base", "id", "unk2", "work", "department", "Moonshots");

    answer_people(f, lists, people);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "ids"), "department:281502");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "ids"), "work_location",
                       RS_MODEL_LOCATION, "131002");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "nums"), "department:281502");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "nums"), "work_location",
                       RS_MODEL_LOCATION, "131002");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "obj"), "department:281503");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "new"), "department:999");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:999"), "name",
                       "Skunkworks");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "byname"), "department:281506");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "unk"), "department:Moonshots");
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "unk2"), "department:Moonshots");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "unk"), "work_location",
                       RS_MODEL_LOCATION, "Mars Base");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_LOCATION, "Mars Base"), "location_type",
                       "WORK");
    /* 8 listed + 999 + Moonshots, each delivered once; 7 listed sites + Mars Base */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 10);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 8);
    json_decref(people);
    free(lists);
}

/* The list set as an array of {name, values} with nested children (Bob's generated SDKs). */
static void test_named_list_shapes(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = json_pack("[{s:s, s:{s:s}}]", "id", "e", "work", "department", "Backend");
    const json_t *backend;
    char deep[4096];
    size_t n = 0;

    answer_people(f,
                  "[{\"name\": \"title\", \"values\": [{\"id\": 1, \"value\": \"CEO\"}]},"
                  " {\"name\": \"department\", \"values\": ["
                  "  {\"id\": 1, \"value\": \"Eng\", \"children\": ["
                  "    {\"id\": 2, \"name\": \"Backend\", \"children\": []}]},"
                  "  {\"value\": \"no id\"}, 7, {\"id\": 3}]}]",
                  people);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 3);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:1"), "name", "Eng");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:1"), "parent_group",
                       NULL);
    backend = rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:2");
    rt_prov_expect_str(backend, "name", "Backend");
    rt_prov_expect_ref(f, backend, "parent_group", RS_MODEL_GROUP, "department:1");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:3"), "name",
                       "3");                                                /* no name: id */
    assert_int_equal(rt_capture_count_skipped(&f->cap, RS_MODEL_GROUP), 2); /* no id, not an item */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 0);      /* no site list */
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "e"), "department:2");
    json_decref(people);

    /* a hierarchy nested 20 deep: followed to a bound, the rest reported */
    json_object_clear(f->sync.state);
    rt_capture_clear(&f->cap);
    n += (size_t)snprintf(deep, sizeof(deep), "{\"department\": {\"items\": [");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"id\": \"d%d\", \"children\": [", i);
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]}");
    snprintf(deep + n, sizeof(deep) - n, "]}}");
    assert_false(rt_prov_next_ok(f));
    assert_int_equal(rt_prov_feed(f, deep), RS_OK);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 17);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RS_MODEL_GROUP), 1);
}

/* Lists whose shape is not what we know are no list at all: people still come through. */
static void test_named_lists_unknown_shape(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = json_pack("[{s:s, s:{s:s}}]", "id", "e", "work", "department", "R&D");

    answer_people(f, "{\"department\": 5, \"site\": {\"items\": {}}}", people);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
    assert_groups(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "e"), "department:R&D");
    json_decref(people);
}

/* ---- envelopes: the sync fails, nothing is delivered, the request is asked again */

static void test_bad_envelopes(void **state)
{
    struct rt_prov *f = *state;
    static const char *const bad_people[] = {
        "{\"employees\": {}}",
        "{\"employees\": null}",
        "{}",
        "[]",
        "",
        "nope",
        "{\"employees\": [{\"id\": \"1\"}]} trailing",
    };
    char *search = read_fixture("sandbox_people_search.json");

    assert_false(rt_prov_next_ok(f));
    assert_int_equal(rt_prov_feed(f, "<html>502 Bad Gateway</html>"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"department\": {\"items\": [{\"id\": 1"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed_len(f, NULL, 0), RS_ERR_UPSTREAM);
    assert_int_equal(rt_capture_count(&f->cap, RT_CAPTURE_ANY), 0);
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.method, "GET"); /* still the lists */

    assert_int_equal(rt_prov_feed(f, NO_LISTS), RS_OK);
    for (size_t i = 0; i < sizeof(bad_people) / sizeof(bad_people[0]); i++)
        assert_int_equal(rt_prov_feed(f, bad_people[i]), RS_ERR_UPSTREAM);
    /* truncated in the middle, as a dropped connection leaves it */
    assert_int_equal(rt_prov_feed_len(f, search, strlen(search) / 2), RS_ERR_UPSTREAM);
    assert_int_equal(rt_capture_count(&f->cap, RT_CAPTURE_ANY), 0);
    assert_false(rt_prov_next_ok(f));
    assert_string_equal(f->req.method, "POST"); /* the search is asked again */

    /* the whole answer is fine */
    assert_int_equal(rt_prov_feed(f, search), RS_OK);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 30);
    assert_true(rt_prov_next_ok(f));
    free(search);
}

static void test_empty_company(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = json_array();

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 0);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1); /* every account has one */
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company"));
    json_decref(people);
}

static void test_answer_after_done(void **state)
{
    struct rt_prov *f = *state;
    json_t *people = json_array();

    answer_people(f, NO_LISTS, people);
    assert_int_equal(rt_prov_feed(f, "{\"employees\": []}"), RS_ERR_INTERNAL);
    json_decref(people);
}

/* A sink that refuses: the error stops the parse and comes back as is. */
static enum rs_err refuse_record(void *arg, enum rs_model_kind kind, const struct rs_record *record)
{
    (void)kind;
    (void)record;
    ++*(int *)arg;
    return RS_ERR_DB;
}

static void test_sink_error_aborts(void **state)
{
    struct rt_prov *f = *state;
    char *search = read_fixture("sandbox_people_search.json");
    int calls = 0;

    assert_false(rt_prov_next_ok(f));
    assert_int_equal(rt_prov_feed(f, NO_LISTS), RS_OK);
    f->sink.record = refuse_record;
    f->sink.arg = &calls;
    assert_int_equal(rt_prov_feed(f, search), RS_ERR_DB);
    assert_int_equal(calls, 1);
    assert_false(rt_prov_next_ok(f)); /* not done */
    free(search);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_declaration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documented_employees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documented_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_people, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_preferred_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manager_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_and_odd_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmappable_records_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_list_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_lists_unknown_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_company, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_after_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_aborts, setup, teardown),
    };

    return cmocka_run_group_tests_name("prov_hibob", tests, NULL, NULL);
}
