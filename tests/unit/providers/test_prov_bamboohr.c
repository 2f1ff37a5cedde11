/*
 * Unit tests for providers/prov_bamboohr.c: the requests it builds (meta/lists, then dataset
 * pages, full and incremental) and the records it makes of fixture answers shaped as BambooHR
 * documents them (tests/unit/providers/fixtures/bamboohr). No sockets, no database.
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

#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"

/* ---- fixtures */

static int setup(void **state)
{
    int64_t now_us;

    assert_int_equal(rs_time_parse("2026-05-04T10:00:00Z", &now_us), RS_OK);
    *state = rt_prov_new("bamboohr", ACCOUNT, now_us,
                         json_pack("{s:s, s:s}", "subdomain", "acme", "api_key", "k3y-0123456789"));
    return 0;
}

static int teardown(void **state)
{
    rt_prov_free(*state);
    return 0;
}

static char *read_fixture(const char *name)
{
    return rt_fixture_read("tests/unit/providers/fixtures/bamboohr", name, NULL);
}

static enum rs_err parse_fixture(struct rt_prov *f, const char *name)
{
    char *body = read_fixture(name);
    enum rs_err err = rt_prov_feed(f, body);

    free(body);
    return err;
}

/* Lists, then pages 1 and 2 of the dataset, as a full sync sees them. */
static void run_full_sync(struct rt_prov *f)
{
    bool done = true;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "dataset_page1.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "dataset_page2.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_true(done);
}

/* ---- tests */

static void test_declaration(void **state)
{
    struct rt_prov *f = *state;

    assert_string_equal(f->ops->slug, "bamboohr");
    assert_int_equal(f->ops->auth, PROV_AUTH_BASIC);
    assert_true(f->ops->caps & PROV_CAP_INCREMENTAL);
    assert_true(f->ops->rate_per_s == 0);
    assert_null(f->ops->rate_reset_header);
    assert_non_null(f->ops->next_request);
    assert_non_null(f->ops->parse_response);
}

static void test_lists_request(void **state)
{
    struct rt_prov *f = *state;
    bool done = true;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_false(done);
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url, "https://acme.bamboohr.com/api/v1/meta/lists");
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BASIC);
    assert_string_equal(f->req.user, "k3y-0123456789");
    assert_string_equal(f->req.secret, "x");
    assert_null(f->req.body);
    assert_int_equal(f->req.page, -1);
}

static void test_base_url(void **state)
{
    struct rt_prov *f = *state;
    bool done;

    f->sync.base_url = "http://127.0.0.1:8090/bamboohr/";
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_string_equal(f->req.url, "http://127.0.0.1:8090/bamboohr/api/v1/meta/lists");
}

static void test_bad_credentials(void **state)
{
    struct rt_prov *f = *state;
    bool done;

    json_object_set_new(f->credentials, "subdomain", json_string("evil.example/x"));
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_INVALID);
    json_object_del(f->credentials, "subdomain");
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_INVALID);
}

static void test_lists_records(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    const json_t *rec;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    /* three departments (one archived) and two divisions; the shirt-size list is not a unit */
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 5);
    rec = rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:18");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "name", "Engineering");
    rt_prov_expect_str(rec, "type", "DEPARTMENT");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:27"), "name",
                       "Marketing");
    rec = rt_capture_find(&f->cap, RS_MODEL_GROUP, "division:41");
    rt_prov_expect_str(rec, "name", "Europe");
    rt_prov_expect_str(rec, "type", "BUSINESS_UNIT");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 2);
    rec = rt_capture_find(&f->cap, RS_MODEL_LOCATION, "5");
    rt_prov_expect_str(rec, "name", "Salt Lake City");
    rt_prov_expect_str(rec, "location_type", "WORK");
    assert_int_equal(rt_capture_count_remote_id(&f->cap, RS_MODEL_GROUP, "department:7"), 0);
    rec = rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "display_name", "acme");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 0);
}

static void test_dataset_request(void **state)
{
    struct rt_prov *f = *state;
    bool done = true;
    json_t *body, *names;
    bool has_id = false, has_status = false;
    size_t i;
    json_t *name;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_false(done);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, "https://acme.bamboohr.com/api/v2/datasets/employee/data");
    assert_string_equal(f->req.content_type, "application/json");
    assert_string_equal(f->req.user, "k3y-0123456789");
    assert_int_equal(f->req.page, 0);
    body = json_loadb(f->req.body, f->req.body_len, 0, NULL);
    assert_non_null(body);
    assert_int_equal(json_integer_value(json_object_get(body, "page")), 1);
    assert_int_equal(json_integer_value(json_object_get(body, "pageSize")), 1000);
    /* every employee: no filter at all on a full sync, so no status filter either */
    assert_null(json_object_get(body, "filter"));
    names = json_object_get(body, "fields");
    json_array_foreach(names, i, name)
    {
        has_id |= strcmp(json_string_value(name), "id") == 0;
        has_status |= strcmp(json_string_value(name), "status") == 0;
    }
    assert_true(has_id && has_status);
    json_decref(body);
}

static void test_incremental_filter(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    json_t *body;

    f->sync.full = false;
    assert_int_equal(rs_time_parse("2025-01-02T09:00:00.250Z", &f->sync.since_us), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    body = json_loadb(f->req.body, f->req.body_len, 0, NULL);
    assert_non_null(body);
    /* one second back: lastChanged is shown to the second and gt excludes that second */
    assert_string_equal(json_string_value(json_object_get(body, "filter")),
                        "lastChanged gt '2025-01-02T08:59:59Z'");
    json_decref(body);
}

static void test_employees(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;
    char uuid[RS_UUID_STR_LEN];

    run_full_sync(f);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 3);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYMENT), 3);

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "employee_number", "1");
    rt_prov_expect_str(rec, "first_name", "Charlotte");
    rt_prov_expect_str(rec, "display_full_name", "Charlotte Abbott");
    rt_prov_expect_str(rec, "work_email", "cabbott@efficientoffice.com");
    rt_prov_expect_str(rec, "mobile_phone_number", "801-724-6600");
    rt_prov_expect_str(rec, "hire_date", "2016-06-05T00:00:00Z");
    rt_prov_expect_str(rec, "start_date", "2016-06-05T00:00:00Z");
    rt_prov_expect_str(rec, "employment_status", "ACTIVE");
    rt_prov_expect_str(rec, "termination_date", NULL);
    rt_prov_expect_ref(f, rec, "manager", RS_MODEL_EMPLOYEE, "9");
    rt_prov_expect_ref(f, rec, "company", RS_MODEL_COMPANY, "company");
    rt_prov_expect_ref(f, rec, "work_location", RS_MODEL_LOCATION, "5");
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "groups"), 0)),
                        rt_prov_uuid(f, RS_MODEL_GROUP, "department:18", uuid));
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "groups"), 1)),
                        rt_prov_uuid(f, RS_MODEL_GROUP, "division:40", uuid));
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "employments"), 0)),
                        rt_prov_uuid(f, RS_MODEL_EMPLOYMENT, "4", uuid));

    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "4");
    assert_non_null(rec);
    rt_prov_expect_ref(f, rec, "employee", RS_MODEL_EMPLOYEE, "4");
    rt_prov_expect_str(rec, "job_title", "Sr. HR Administrator");
    rt_prov_expect_str(rec, "employment_type", "FULL_TIME");
}

static void test_terminated(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;

    run_full_sync(f);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "employment_status", "INACTIVE");
    rt_prov_expect_str(rec, "termination_date", "2023-04-30T00:00:00Z");
    rt_prov_expect_str(rec, "personal_email", "ashley.adams@example.com");
    rt_prov_expect_str(rec, "manager", NULL);
    /* Sales only: no division */
    assert_int_equal(json_array_size(json_object_get(rec, "groups")), 1);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "5");
    rt_prov_expect_str(rec, "job_title", "Account Executive");
    rt_prov_expect_str(rec, "employment_type", NULL); /* "Terminated" is no employment type */
}

static void test_future_hire(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;

    run_full_sync(f);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "employment_status", "PENDING");
    /* no displayName: the preferred name and the last name */
    rt_prov_expect_str(rec, "display_full_name", "Chris Allen");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYMENT, "6"), "employment_type",
                       "PART_TIME");
}

static void test_unlisted_location(void **state)
{
    struct rt_prov *f = *state;
    const json_t *rec;

    run_full_sync(f);
    /* "Lindon, Utah" is in no list: a Location keyed by its name, delivered once for two people */
    rec = rt_capture_find(&f->cap, RS_MODEL_LOCATION, "Lindon, Utah");
    assert_non_null(rec);
    rt_prov_expect_str(rec, "name", "Lindon, Utah");
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 3);
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5"), "work_location",
                       RS_MODEL_LOCATION, "Lindon, Utah");
    rt_prov_expect_ref(f, rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "work_location",
                       RS_MODEL_LOCATION, "Lindon, Utah");
}

static void test_remote_data(void **state)
{
    struct rt_prov *f = *state;
    const json_t *remote;

    run_full_sync(f);
    remote = json_object_get(rt_capture_record(&f->cap, RS_MODEL_EMPLOYEE, "4"), "remote_data");
    assert_true(json_is_array(remote));
    assert_string_equal(json_string_value(json_object_get(json_array_get(remote, 0), "path")),
                        "/api/v2/datasets/employee/data");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(remote, 0), "data"), "firstName")),
                        "Charlotte");
}

/* links.next alone (no totalPages) keeps paging; an empty page stops. */
static void test_paging_by_links(void **state)
{
    struct rt_prov *f = *state;
    bool done;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, "[]"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, "{\"data\":[{\"fields\":{\"id\":\"1\"}}],"
                                     "\"links\":{\"next\":\"https://x/?page=2\"},\"meta\":{}}"),
                     RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_false(done);
    assert_int_equal(f->req.page, 1);
    assert_int_equal(rt_prov_feed(f, "{\"data\":[],\"links\":{\"next\":\"https://x/?page=3\"},"
                                     "\"meta\":{\"page\":2,\"totalPages\":9}}"),
                     RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_true(done);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 1);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_COMPANY), 1);
}

static void test_upstream_errors(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    char *page;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, "<lists><list fieldId=\"17\"/></lists>"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"lists\":[]}"), RS_ERR_UPSTREAM);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    /* truncated, malformed, missing envelope, a page other than the one asked for */
    page = read_fixture("dataset_page1.json");
    page[strlen(page) / 2] = '\0';
    assert_int_equal(rt_prov_feed(f, page), RS_ERR_UPSTREAM);
    free(page);
    assert_int_equal(rt_prov_feed(f, "{\"data\":"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "[]"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"data\":[]}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"data\":{},\"meta\":{}}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_prov_feed(f, "{\"data\":[],\"meta\":{\"page\":3}}"), RS_ERR_UPSTREAM);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 0);
}

/* A row of the wrong shape is skipped and counted; its neighbours are delivered. */
static void test_bad_rows_skipped(void **state)
{
    struct rt_prov *f = *state;
    bool done;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, "{\"data\":["
                                     "{\"fields\":{\"id\":\"1\",\"hireDate\":{\"y\":2020}}},"
                                     "{\"fields\":{\"firstName\":\"No id\"}},"
                                     "{\"nofields\":true},"
                                     "{\"fields\":{\"id\":\"2\",\"hireDate\":\"2020-13-45\"}},"
                                     "{\"fields\":{\"id\":3,\"hireDate\":\"2020-02-03\"}}],"
                                     "\"meta\":{\"page\":1,\"totalPages\":1}}"),
                     RS_OK);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 4);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE), 1);
    assert_non_null(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"));
    assert_non_null(strstr(rt_capture_skip_why(&f->cap, 0), "hireDate"));
}

/* Same option id in two group lists: two groups (department:3, division:3); a live option
 * beats an archived namesake. */
static void test_option_ids(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    const json_t *rec;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(
        rt_prov_feed(f, "[{\"alias\":\"division\",\"options\":[{\"id\":3,\"name\":\"EMEA\"}]},"
                        "{\"alias\":\"department\",\"options\":["
                        "{\"id\":3,\"name\":\"Ops\"},"
                        "{\"id\":8,\"name\":\"Ops\",\"archived\":\"yes\"},"
                        "{\"id\":9,\"name\":\"Legal\",\"archived\":\"yes\"},"
                        "{\"name\":\"no id\"}]}]"),
        RS_OK);
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:3"), "name", "Ops");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_GROUP, "division:3"), "name", "EMEA");
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 1);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(
        rt_prov_feed(f, "{\"data\":[{\"fields\":{\"id\":\"1\",\"jobInformationDepartment\":\"Ops\","
                        "\"jobInformationDivision\":\"EMEA\"}},"
                        "{\"fields\":{\"id\":\"2\",\"jobInformationDepartment\":\"Legal\"}}],"
                        "\"meta\":{\"page\":1,\"totalPages\":1}}"),
        RS_OK);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1");
    assert_non_null(rec);
    {
        char uuid[RS_UUID_STR_LEN];
        const json_t *groups = json_object_get(rec, "groups");

        assert_string_equal(json_string_value(json_array_get(groups, 0)),
                            rt_prov_uuid(f, RS_MODEL_GROUP, "department:3", uuid));
        assert_string_equal(json_string_value(json_array_get(groups, 1)),
                            rt_prov_uuid(f, RS_MODEL_GROUP, "division:3", uuid));
        groups = json_object_get(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "2"), "groups");
        assert_string_equal(json_string_value(json_array_get(groups, 0)),
                            rt_prov_uuid(f, RS_MODEL_GROUP, "department:9", uuid));
    }
}

/* Names of any length, cut nowhere: a long one matches its option; a long unlisted one is no
 * unit (longer than a remote id may be); a long option id is skipped. */
static void test_long_names(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    char name[700], lists[1600], page[2000];
    const json_t *rec;

    memset(name, 0, sizeof(name));
    for (size_t i = 0; i + 2 < 600; i += 2)
        memcpy(name + i, "\xc3\xa9", 2); /* é, 2 bytes: 598 bytes in all */
    snprintf(lists, sizeof(lists),
             "[{\"alias\":\"department\",\"options\":[{\"id\":12,\"name\":\"%s\"},"
             "{\"id\":\"%070d\",\"name\":\"Long id\"}]}]",
             name, 7);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, lists), RS_OK);
    assert_string_equal(json_string_value(json_object_get(
                            rt_capture_find(&f->cap, RS_MODEL_GROUP, "department:12"), "name")),
                        name);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_GROUP), 1);
    assert_int_equal(rt_capture_count_skipped(&f->cap, RT_CAPTURE_ANY), 1);
    snprintf(page, sizeof(page),
             "{\"data\":[{\"fields\":{\"id\":\"1\",\"jobInformationDepartment\":\"%s\","
             "\"jobInformationLocation\":\"%sx\"}}],\"meta\":{\"page\":1}}",
             name, name);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, page), RS_OK);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1");
    assert_non_null(rec);
    {
        char uuid[RS_UUID_STR_LEN];

        assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "groups"), 0)),
                            rt_prov_uuid(f, RS_MODEL_GROUP, "department:12", uuid));
    }
    rt_prov_expect_str(rec, "work_location", NULL);
    assert_int_equal(rt_capture_count(&f->cap, RS_MODEL_LOCATION), 0);
}

/* A termination older than the (re)hire date is a past employment's; status edge cases. */
static void test_rehire(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    const json_t *rec;

    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(rt_prov_feed(f, "[]"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(
        rt_prov_feed(f, "{\"data\":["
                        "{\"fields\":{\"id\":\"1\",\"status\":\"Active\","
                        "\"hireDate\":\"2024-02-01\",\"terminationDate\":\"2023-01-31\"}},"
                        "{\"fields\":{\"id\":\"2\",\"status\":\"Active\","
                        "\"hireDate\":\"2020-02-01\",\"terminationDate\":\"2026-01-31\"}},"
                        "{\"fields\":{\"id\":\"3\",\"status\":\"Active\","
                        "\"hireDate\":\"2020-02-01\",\"terminationDate\":\"2026-12-31\"}},"
                        "{\"fields\":{\"id\":\"4\",\"status\":\"Weird\"}},"
                        "{\"fields\":{\"id\":\"5\",\"status\":\"Inactive\","
                        "\"hireDate\":\"2026-05-01\",\"employmentStatus\":\"Intern\"}},"
                        "{\"fields\":{\"id\":\"6\",\"status\":\"Inactive\","
                        "\"hireDate\":\"2020-02-01\",\"employmentStatus\":\"Terminated\"}},"
                        "{\"fields\":{\"id\":\"7\",\"status\":\"Inactive\","
                        "\"terminationDate\":\"2026-12-31\"}}],"
                        "\"meta\":{\"page\":1,\"totalPages\":1}}"),
        RS_OK);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "1");
    rt_prov_expect_str(rec, "employment_status", "ACTIVE");
    rt_prov_expect_str(rec, "termination_date", NULL);
    rec = rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "2");
    rt_prov_expect_str(rec, "employment_status", "INACTIVE");
    rt_prov_expect_str(rec, "termination_date", "2026-01-31T00:00:00Z");
    /* leaving later this year: still active */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "3"), "employment_status",
                       "ACTIVE");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "4"), "employment_status", NULL);
    /* Inactive and nothing says they left: a hire whose start BambooHR has not reached yet */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "5"), "employment_status",
                       "PENDING");
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "6"), "employment_status",
                       "INACTIVE");
    /* a termination takes effect when BambooHR says so, even before its date */
    rt_prov_expect_str(rt_capture_find(&f->cap, RS_MODEL_EMPLOYEE, "7"), "employment_status",
                       "INACTIVE");
}

/* ---- the OAuth way to connect: subdomain only, the link flow's access token as a bearer */

static void test_oauth_declaration(void **state)
{
    struct rt_prov *f = *state;
    const struct prov_oauth *o = f->ops->oauth;
    json_t *pre = json_pack("{s:s}", "subdomain", "acme");
    json_t *bad = json_pack("{s:s}", "subdomain", "evil.example/x");
    struct rs_errbuf eb;
    char url[256];

    assert_non_null(o);
    assert_int_equal(o->nfields, 1);
    assert_string_equal(o->fields[0].name, "subdomain");
    assert_non_null(o->scopes);
    assert_false(o->client_auth_basic);
    assert_int_equal(o->endpoint(pre, NULL, PROV_OAUTH_AUTHORIZE, url, sizeof(url), &eb), RS_OK);
    assert_string_equal(url, "https://acme.bamboohr.com/authorize.php");
    assert_int_equal(o->endpoint(pre, NULL, PROV_OAUTH_TOKEN, url, sizeof(url), &eb), RS_OK);
    assert_string_equal(url, "https://acme.bamboohr.com/token.php?request=token");
    assert_int_equal(o->endpoint(pre, NULL, PROV_OAUTH_REVOKE, url, sizeof(url), &eb), RS_OK);
    assert_string_equal(url, "https://acme.bamboohr.com/token.php?request=revoke");
    assert_int_equal(
        o->endpoint(pre, "http://127.0.0.1:8090/bamboohr", PROV_OAUTH_TOKEN, url, sizeof(url), &eb),
        RS_OK);
    assert_string_equal(url, "http://127.0.0.1:8090/bamboohr/token.php?request=token");
    assert_int_equal(o->endpoint(bad, NULL, PROV_OAUTH_AUTHORIZE, url, sizeof(url), &eb),
                     RS_ERR_INVALID);
    assert_int_equal(o->endpoint(f->sync.state, NULL, PROV_OAUTH_AUTHORIZE, url, sizeof(url), &eb),
                     RS_ERR_INVALID);
    /* an OAuth connection keeps the subdomain only; an API-key one still needs the key */
    assert_int_equal(prov_check_oauth_credentials(f->ops, pre, &eb), RS_OK);
    assert_int_equal(prov_check_oauth_credentials(f->ops, f->credentials, &eb), RS_ERR_INVALID);
    assert_int_equal(prov_check_oauth_credentials(f->ops, bad, &eb), RS_ERR_INVALID);
    assert_int_equal(prov_check_credentials(f->ops, pre, &eb), RS_ERR_INVALID);
    assert_int_equal(prov_check_credentials(f->ops, f->credentials, &eb), RS_OK);
    json_decref(pre);
    json_decref(bad);
}

static void test_oauth_bearer(void **state)
{
    struct rt_prov *f = *state;
    bool done;
    const json_t *rec;

    json_object_del(f->credentials, "api_key");
    f->sync.token = json_pack("{s:s, s:s, s:I, s:s}", "access_token", "bamboohr-at-1",
                              "refresh_token", "bamboohr-rt-1", "expires_at_us",
                              (json_int_t)(f->sync.now_us + 3600000000), "scope", "field");
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_string_equal(f->req.url, "https://acme.bamboohr.com/api/v1/meta/lists");
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BEARER);
    assert_string_equal(f->req.secret, "bamboohr-at-1");
    assert_string_equal(f->req.user, "");
    /* the rest of the sync is the API key's, record for record */
    assert_int_equal(parse_fixture(f, "meta_lists.json"), RS_OK);
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BEARER);
    assert_string_equal(f->req.method, "POST");
    assert_int_equal(parse_fixture(f, "dataset_page1.json"), RS_OK);
    rec = rt_capture_find(&f->cap, RS_MODEL_COMPANY, "company");
    rt_prov_expect_str(rec, "display_name", "acme");
    assert_true(rt_capture_count(&f->cap, RS_MODEL_EMPLOYEE) > 0);
    /* no usable token: an auth error, never a refresh attempt */
    json_object_set_new(f->sync.token, "invalid", json_true());
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
    json_object_del(f->sync.token, "invalid");
    json_object_set_new(f->sync.token, "expires_at_us", json_integer(f->sync.now_us - 1));
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
    /* an API key, when there is one, is what is sent */
    json_object_set_new(f->credentials, "api_key", json_string("k3y-0123456789"));
    assert_int_equal(rt_prov_next(f, &done), RS_OK);
    assert_int_equal(f->req.auth, PROV_REQ_AUTH_BASIC);
    json_object_del(f->credentials, "api_key");
    json_decref(f->sync.token);
    f->sync.token = NULL;
    assert_int_equal(rt_prov_next(f, &done), RS_ERR_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_declaration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incremental_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_employees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_hire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlisted_location, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_by_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth_declaration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth_bearer, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
