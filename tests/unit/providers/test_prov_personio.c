/*
 * Unit tests for providers/prov_personio.c, driven like the sync engine drives it: the auth
 * request, the token cache, employee pages (Personio's documented example and a page saved
 * from roster-sandbox, both under tests/unit/providers/fixtures/personio/), paging, the
 * incremental request, and malformed answers. No sockets, no database.
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

#define ACCOUNT   "0f8fad5b-d9cb-469f-a165-70867728950e"
#define NOW_US    INT64_C(1767258000000000) /* 2026-01-01T09:00:00Z */
#define HOUR_US   INT64_C(3600000000)
#define TOKEN     "papi-0123456789abcdef"
#define EMP_PATH  "/v1/company/employees"
#define AUTH_BODY "{\"success\":true,\"data\":{\"token\":\"" TOKEN "\"}}"

/* Personio has only employee rows: a skip of any other kind would be a mapping bug. */
static void skipped_employee(void *arg, enum rs_model_kind kind, const char *why)
{
    struct prov_sink capture = rt_capture_sink(arg);

    assert_int_equal(kind, RS_MODEL_EMPLOYEE);
    capture.skipped(arg, kind, why);
}

/* ---- one sync as the engine holds it */

static struct rt_prov *t_new(const char *base_url)
{
    struct rt_prov *t = rt_prov_new(
        "personio", ACCOUNT, NOW_US,
        json_pack("{s:s, s:s}", "client_id", "roster-client", "client_secret", "s3cr\"et\\x"));

    t->sync.base_url = base_url;
    t->sink.skipped = skipped_employee;
    return t;
}

/* A new sync run of the same linked account: fresh state, the token carried over. */
static void t_next_sync(struct rt_prov *t, bool full, int64_t since_us, int64_t now_us)
{
    json_decref(t->sync.state);
    t->sync.state = json_object();
    t->sync.full = full;
    t->sync.since_us = since_us;
    t->sync.now_us = now_us;
    rt_capture_clear(&t->cap);
}

/* Runs the auth exchange: the next request must be POST /v1/auth. */
static void t_authenticate(struct rt_prov *t)
{
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "POST");
    assert_int_equal(t->req.page, -1);
    assert_int_equal(rt_prov_feed(t, AUTH_BODY), RS_OK);
}

/* ---- fixtures and lookups */

static char *read_fixture(const char *name, size_t *len)
{
    return rt_fixture_read("tests/unit/providers/fixtures/personio", name, len);
}

static json_t *load_fixture(const char *name)
{
    size_t len;
    char *text = read_fixture(name, &len);
    json_error_t error;
    json_t *root = json_loadb(text, len, 0, &error);

    if (!root)
        fail_msg("%s: %s", name, error.text);
    free(text);
    return root;
}

/* The array fields[key] holds exactly the refs to the given remote ids, in order. */
static void expect_refs(const struct rt_prov *t, const json_t *fields, const char *key,
                        enum rs_model_kind kind, size_t n, const char *const *remote_ids)
{
    const json_t *refs = json_object_get(fields, key);
    char uuid[RS_UUID_STR_LEN];

    assert_true(json_is_array(refs));
    assert_int_equal(json_array_size(refs), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(refs, i)),
                            rt_prov_uuid(t, kind, remote_ids[i], uuid));
}

/* The id attribute of an employee (or of a nested supervisor) as text. */
static const char *row_id(const json_t *row, char *out, size_t len)
{
    const json_t *value =
        json_object_get(json_object_get(json_object_get(row, "attributes"), "id"), "value");

    if (json_is_integer(value))
        snprintf(out, len, "%lld", (long long)json_integer_value(value));
    else
        snprintf(out, len, "%s", json_is_string(value) ? json_string_value(value) : "");
    return out;
}

/* ---- synthetic employees in Personio's attribute shape */

static json_t *attr(json_t *value_owned)
{
    return json_pack("{s:s, s:o, s:s, s:n}", "label", "L", "value",
                     value_owned ? value_owned : json_null(), "type", "standard", "universal_id");
}

static json_t *unit(const char *type, json_int_t id, const char *name)
{
    return json_pack("{s:s, s:{s:I, s:s}}", "type", type, "attributes", "id", id, "name", name);
}

/* Sets attribute key of row (an {"type", "attributes"} object) to value. */
static void set_attr(json_t *row, const char *key, json_t *value_owned)
{
    assert_int_equal(
        json_object_set_new(json_object_get(row, "attributes"), key, attr(value_owned)), 0);
}

static json_t *employee_row(json_int_t id)
{
    json_t *row = json_pack("{s:s, s:{}}", "type", "Employee", "attributes");
    char email[64];

    snprintf(email, sizeof(email), "e%lld@example.com", (long long)id);
    set_attr(row, "id", json_integer(id));
    set_attr(row, "first_name", json_string("Ada"));
    set_attr(row, "last_name", json_string("Lovelace"));
    set_attr(row, "email", json_string(email));
    set_attr(row, "status", json_string("active"));
    set_attr(row, "employment_type", json_string("internal"));
    set_attr(row, "weekly_working_hours", json_string("40"));
    set_attr(row, "hire_date", json_string("2020-03-01 00:00:00+01:00"));
    set_attr(row, "department", unit("Department", 10, "Engineering"));
    return row;
}

static json_t *page_of(json_t *rows_owned, json_int_t offset, json_int_t limit, json_int_t total)
{
    return json_pack("{s:b, s:{s:I, s:I, s:I}, s:I, s:I, s:o}", "success", 1, "metadata",
                     "total_elements", total, "current_page", offset / limit, "total_pages",
                     (total + limit - 1) / limit, "offset", offset, "limit", limit, "data",
                     rows_owned);
}

/* Rows with ids first … first+n-1. */
static json_t *rows_from(json_int_t first, size_t n)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, employee_row(first + (json_int_t)i));
    return rows;
}

/* Feeds one synthetic employee page to an authenticated sync. */
static enum rs_err t_feed_rows(struct rt_prov *t, json_t *rows_owned)
{
    json_t *page = page_of(rows_owned, 0, 100, (json_int_t)json_array_size(rows_owned));
    enum rs_err err;

    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "GET");
    err = rt_prov_feed_json(t, page);
    json_decref(page);
    return err;
}

/* ---- tests: the adapter's declaration */

static void test_declaration(void **state)
{
    const struct prov_ops *ops = prov_find("personio");

    (void)state;
    assert_non_null(ops);
    assert_string_equal(ops->slug, "personio");
    assert_string_equal(ops->name, "Personio");
    assert_string_equal(ops->color, "#1B1B1B");
    assert_int_equal(ops->auth, PROV_AUTH_OAUTH2_CLIENT);
    assert_int_equal(ops->nfields, 2);
    assert_string_equal(ops->fields[0].name, "client_id");
    assert_false(ops->fields[0].secret);
    assert_string_equal(ops->fields[1].name, "client_secret");
    assert_true(ops->fields[1].secret);
    assert_true(ops->caps & PROV_CAP_INCREMENTAL);
    assert_true(ops->rate_per_s == 5.0);
    assert_true(ops->burst == 15.0);
    assert_null(ops->rate_reset_header);
    assert_non_null(ops->next_request);
    assert_non_null(ops->parse_response);
}

/* ---- tests: auth and the token cache */

static void test_auth_request(void **state)
{
    struct rt_prov *t = t_new(NULL);
    json_t *body;
    json_error_t error;

    (void)state;
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "POST");
    assert_string_equal(t->req.url, "https://api.personio.de/v1/auth");
    assert_int_equal(t->req.auth, PROV_REQ_AUTH_NONE);
    assert_string_equal(t->req.content_type, "application/json");
    assert_int_equal(t->req.page, -1);
    assert_non_null(t->req.body);
    /* the secret holds a quote and a backslash: the body must still be exact JSON */
    body = json_loadb(t->req.body, t->req.body_len, 0, &error);
    assert_non_null(body);
    assert_int_equal(json_object_size(body), 2);
    assert_string_equal(json_string_value(json_object_get(body, "client_id")), "roster-client");
    assert_string_equal(json_string_value(json_object_get(body, "client_secret")), "s3cr\"et\\x");
    json_decref(body);
    rt_prov_free(t);

    /* the base_url override keeps its own path prefix */
    t = t_new("http://127.0.0.1:8090/personio/");
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.url, "http://127.0.0.1:8090/personio/v1/auth");
    rt_prov_free(t);
}

static void test_auth_needs_credentials(void **state)
{
    struct rt_prov *t = t_new(NULL);
    bool done = false;

    (void)state;
    json_object_del(t->credentials, "client_secret");
    assert_int_equal(t->ops->next_request(&t->sync, &t->req, &done, &t->eb), RS_ERR_INVALID);
    assert_non_null(strstr(t->eb.msg, "client_secret"));
    assert_null(t->req.body);
    rt_prov_free(t);
}

static void test_auth_response_then_employees(void **state)
{
    struct rt_prov *t = t_new(NULL);
    const json_t *expires;

    (void)state;
    t_authenticate(t);
    assert_true(json_is_object(t->sync.token));
    assert_string_equal(json_string_value(json_object_get(t->sync.token, "access_token")), TOKEN);
    expires = json_object_get(t->sync.token, "expires_at_us");
    assert_true(json_is_integer(expires));
    assert_true(json_integer_value(expires) == NOW_US + 23 * HOUR_US);
    assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 0);

    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "GET");
    assert_string_equal(t->req.url,
                        "https://api.personio.de/v1/company/employees?limit=100&offset=0");
    assert_int_equal(t->req.auth, PROV_REQ_AUTH_BEARER);
    assert_string_equal(t->req.secret, TOKEN);
    assert_null(t->req.body);
    assert_string_equal(t->req.content_type, "");
    assert_int_equal(t->req.page, 0);
    rt_prov_free(t);

    t = t_new("http://127.0.0.1:8090/personio");
    t_authenticate(t);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.url,
                        "http://127.0.0.1:8090/personio/v1/company/employees?limit=100&offset=0");
    rt_prov_free(t);
}

static void test_auth_response_malformed(void **state)
{
    static const char *const bodies[] = {
        "{\"success\":true,\"data\":{}}",
        "{\"success\":true,\"data\":{\"token\":\"\"}}",
        "{\"success\":true,\"data\":{\"token\":42}}",
        "{\"success\":true,\"data\":{\"token\":\"papi-a\\r\\nX-Evil: 1\"}}",
        "{\"success\":false,\"error\":{\"code\":0,\"message\":\"Wrong credentials.\"}}",
        "{\"success\":false,\"data\":{\"token\":\"papi-x\"}}",
        "{\"success\":true,\"data\":[]}", /* a page where the token was asked for */
        "{\"success\":true}",
        "[]",
        "",
        "{\"success\":true,\"data\":{\"token\":\"papi-",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct rt_prov *t = t_new(NULL);

        assert_false(rt_prov_next_ok(t));
        if (rt_prov_feed(t, bodies[i]) != RS_ERR_UPSTREAM)
            fail_msg("body %zu was accepted: %s", i, bodies[i]);
        assert_null(t->sync.token);
        assert_false(rt_prov_next_ok(t)); /* still asking for a token */
        assert_string_equal(t->req.method, "POST");
        rt_prov_free(t);
    }
}

static void test_token_reused_across_syncs(void **state)
{
    struct rt_prov *t = t_new(NULL);
    json_t *token;

    (void)state;
    t_authenticate(t);
    assert_int_equal(t_feed_rows(t, rows_from(1, 1)), RS_OK);
    assert_true(rt_prov_next_ok(t));

    /* an hour later, the next sync goes straight to the employees */
    t_next_sync(t, true, 0, NOW_US + HOUR_US);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "GET");
    assert_string_equal(t->req.secret, TOKEN);

    /* 23 h after it was issued, it is no longer trusted */
    t_next_sync(t, true, 0, NOW_US + 23 * HOUR_US);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "POST");
    assert_string_equal(t->req.url, "https://api.personio.de/v1/auth");

    /* a token the engine flagged invalid after a 401 is replaced, in place */
    t_next_sync(t, true, 0, NOW_US + HOUR_US);
    token = t->sync.token;
    assert_int_equal(json_object_set_new(token, "invalid", json_true()), 0);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "POST");
    assert_int_equal(rt_prov_feed(t, "{\"success\":true,\"data\":{\"token\":\"papi-fresh\"}}"),
                     RS_OK);
    assert_ptr_equal(t->sync.token, token);
    assert_null(json_object_get(token, "invalid"));
    assert_string_equal(json_string_value(json_object_get(token, "access_token")), "papi-fresh");
    assert_true(json_integer_value(json_object_get(token, "expires_at_us")) ==
                NOW_US + 24 * HOUR_US);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.method, "GET");
    assert_string_equal(t->req.secret, "papi-fresh");
    rt_prov_free(t);
}

static void test_token_garbage_means_auth(void **state)
{
    static const char *const tokens[] = {
        "{}",
        "{\"access_token\":\"papi-x\"}",
        "{\"access_token\":\"papi-x\",\"expires_at_us\":\"soon\"}",
        "{\"access_token\":\"\",\"expires_at_us\":99999999999999999}",
        "{\"access_token\":7,\"expires_at_us\":99999999999999999}",
        "[]",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        struct rt_prov *t = t_new(NULL);

        t->sync.token = json_loads(tokens[i], 0, NULL);
        assert_non_null(t->sync.token);
        assert_false(rt_prov_next_ok(t));
        if (strcmp(t->req.method, "POST") != 0)
            fail_msg("token %s was used", tokens[i]);
        /* and the answer replaces it */
        assert_int_equal(rt_prov_feed(t, AUTH_BODY), RS_OK);
        assert_false(rt_prov_next_ok(t));
        assert_string_equal(t->req.secret, TOKEN);
        rt_prov_free(t);
    }
}

/* ---- tests: Personio's documented example */

static void test_fixture_employee(void **state)
{
    struct rt_prov *t = t_new(NULL);
    size_t len;
    char *body = read_fixture("employees.json", &len);
    json_t *raw = load_fixture("employees.json");
    const json_t *emp, *entry, *remote;

    (void)state;
    t_authenticate(t);
    assert_false(rt_prov_next_ok(t));
    assert_int_equal(rt_prov_feed_len(t, body, len), RS_OK);
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 0);

    entry = rt_capture_record(&t->cap, RS_MODEL_EMPLOYEE, "1");
    emp = json_object_get(entry, "fields");
    rt_prov_expect_str(emp, "employee_number", "1");
    rt_prov_expect_str(emp, "first_name", "Alexander");
    rt_prov_expect_str(emp, "last_name", "Bergmann");
    /* the example's preferred name is the full name: the preferred first name is kept */
    rt_prov_expect_str(emp, "preferred_name", "Alexander");
    rt_prov_expect_str(emp, "display_full_name", "Alexander Bergmann");
    rt_prov_expect_str(emp, "work_email", "alexander.bergmann@demo.email");
    rt_prov_expect_str(emp, "personal_email", NULL);
    rt_prov_expect_str(emp, "mobile_phone_number", NULL);
    rt_prov_expect_str(emp, "gender", "MALE");
    rt_prov_expect_str(emp, "employment_status", "ACTIVE");
    /* "2014-11-09 00:00:00+01:00" is the 9th in Munich (the 8th, 23:00, in UTC) */
    rt_prov_expect_str(emp, "hire_date", "2014-11-09T00:00:00Z");
    rt_prov_expect_str(emp, "start_date", "2014-11-09T00:00:00Z");
    rt_prov_expect_str(emp, "termination_date", NULL);
    /* an instant, not a date: the offset applies */
    rt_prov_expect_str(emp, "remote_created_at", "2017-05-23T07:49:03Z");
    rt_prov_expect_ref(t, emp, "manager", RS_MODEL_EMPLOYEE, "2");
    rt_prov_expect_ref(t, emp, "team", RS_MODEL_TEAM, "59026");
    rt_prov_expect_ref(t, emp, "work_location", RS_MODEL_LOCATION, "131014");
    rt_prov_expect_ref(t, emp, "company", RS_MODEL_COMPANY, "7033");
    expect_refs(t, emp, "groups", RS_MODEL_GROUP, 2,
                (const char *const[]){"department:281521", "cost_center:82957"});
    expect_refs(t, emp, "employments", RS_MODEL_EMPLOYMENT, 1, (const char *const[]){"1"});

    remote = json_object_get(entry, "remote_data");
    assert_int_equal(json_array_size(remote), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(remote, 0), "path")),
                        EMP_PATH);
    assert_true(json_equal(json_object_get(json_array_get(remote, 0), "data"),
                           json_array_get(json_object_get(raw, "data"), 0)));
    free(body);
    json_decref(raw);
    rt_prov_free(t);
}

static void test_fixture_related(void **state)
{
    struct rt_prov *t = t_new(NULL);
    size_t len;
    char *body = read_fixture("employees.json", &len);
    const json_t *rec;

    (void)state;
    t_authenticate(t);
    assert_false(rt_prov_next_ok(t));
    assert_int_equal(rt_prov_feed_len(t, body, len), RS_OK);

    rec = rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1");
    rt_prov_expect_ref(t, rec, "employee", RS_MODEL_EMPLOYEE, "1");
    rt_prov_expect_str(rec, "job_title", "CTO");
    rt_prov_expect_str(rec, "employment_type", "CONTRACTOR"); /* "external", whatever the hours */
    rt_prov_expect_str(rec, "effective_date", "2014-11-09T00:00:00Z");
    rec = json_object_get(rt_capture_record(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "remote_data");
    assert_true(json_is_null(rec)); /* the employee's remote_data has the record */

    rec = rt_capture_find(&t->cap, RS_MODEL_GROUP, "department:281521");
    rt_prov_expect_str(rec, "name", "Customer Support");
    rt_prov_expect_str(rec, "type", "DEPARTMENT");
    assert_true(json_is_false(json_object_get(rec, "is_commonly_used_as_team")));
    rt_prov_expect_str(rec, "parent_group", NULL);
    rec = rt_capture_find(&t->cap, RS_MODEL_GROUP, "cost_center:82957");
    rt_prov_expect_str(rec, "name", "Cost center 1");
    rt_prov_expect_str(rec, "type", "COST_CENTER");
    rec = rt_capture_find(&t->cap, RS_MODEL_TEAM, "59026");
    rt_prov_expect_str(rec, "name", "T_X");
    rt_prov_expect_str(rec, "parent_team", NULL);
    rec = rt_capture_find(&t->cap, RS_MODEL_LOCATION, "131014");
    rt_prov_expect_str(rec, "name", "Munich");
    rt_prov_expect_str(rec, "location_type", "WORK");
    rec = rt_capture_find(&t->cap, RS_MODEL_COMPANY, "7033");
    rt_prov_expect_str(rec, "legal_name", "CS Demo GmbH");
    rt_prov_expect_str(rec, "display_name", "CS Demo GmbH");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(rt_capture_record(&t->cap, RS_MODEL_COMPANY, "7033"),
                                           "remote_data"),
                           0),
            "path")),
        EMP_PATH);

    /* one of each, and no stand-in company: the subcompany is the company */
    assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 7);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_COMPANY), 1);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_GROUP), 2);

    /* 1 row with limit 20 is a short page: the sync is over */
    assert_true(rt_prov_next_ok(t));
    free(body);
    rt_prov_free(t);
}

static void test_fixture_truncated_and_malformed(void **state)
{
    size_t len;
    char *body = read_fixture("employees.json", &len);
    static const char *const bad[] = {
        "{\"success\":true,\"data\":",
        "{\"success\":true,\"data\":[{]}",
        "not json",
        "{\"success\":false,\"data\":[]}",
        "{\"success\":\"yes\",\"data\":[]}",
        "{\"success\":true,\"data\":{}}",
        "{\"success\":true,\"data\":\"employees\"}",
        "{\"success\":true,\"rows\":[]}",
        "null",
        "",
    };

    (void)state;
    for (size_t cut = 1; cut < len; cut += len / 7) {
        struct rt_prov *t = t_new(NULL);

        t_authenticate(t);
        assert_false(rt_prov_next_ok(t));
        assert_int_equal(rt_prov_feed_len(t, body, cut), RS_ERR_UPSTREAM);
        assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 0);
        rt_prov_free(t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rt_prov *t = t_new(NULL);

        t_authenticate(t);
        assert_false(rt_prov_next_ok(t));
        if (rt_prov_feed(t, bad[i]) != RS_ERR_UPSTREAM)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 0);
        assert_false(rt_prov_next_ok(t)); /* nothing moved: the engine fails the sync */
        assert_string_equal(t->req.url,
                            "https://api.personio.de/v1/company/employees?limit=100&offset=0");
        rt_prov_free(t);
    }
    free(body);
}

/* ---- tests: the page saved from roster-sandbox (30 employees, seed 1) */

/*
 * Every manager the page names is an employee of the page, and each employee's manager ref is
 * its supervisor's; returns how many have one.
 */
static size_t check_managers(const struct rt_prov *t, const json_t *rows)
{
    const json_t *row, *emp;
    char id[32], manager[32];
    size_t i, managed = 0;

    json_array_foreach(rows, i, row)
    {
        const json_t *sup = json_object_get(
            json_object_get(json_object_get(row, "attributes"), "supervisor"), "value");

        emp = rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, row_id(row, id, sizeof(id)));
        if (json_is_null(sup)) {
            rt_prov_expect_str(emp, "manager", NULL);
            continue;
        }
        row_id(sup, manager, sizeof(manager));
        (void)rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, manager);
        rt_prov_expect_ref(t, emp, "manager", RS_MODEL_EMPLOYEE, manager);
        managed++;
    }
    return managed;
}

static void test_sandbox_page(void **state)
{
    struct rt_prov *t = t_new("http://127.0.0.1:8090/personio");
    json_t *page = load_fixture("sandbox_page.json");
    const json_t *emp;

    (void)state;
    t_authenticate(t);
    assert_false(rt_prov_next_ok(t));
    assert_int_equal(rt_prov_feed_json(t, page), RS_OK);
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 0);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 30);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYMENT), 30);
    /* 8 departments + 8 cost centers, 12 teams, 7 offices, 4 subcompanies: each once */
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_GROUP), 16);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_TEAM), 12);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_LOCATION), 7);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_COMPANY), 4);
    assert_true(rt_prov_next_ok(t)); /* 30 < 100 */

    /* everyone but the CEO has a manager, and every manager is among the 30 */
    assert_int_equal(check_managers(t, json_object_get(page, "data")), 29);
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "1000001"), "manager", NULL);

    /* the one leaver: INACTIVE, with the calendar dates of a summer (+02:00) offset */
    emp = rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "1000009");
    rt_prov_expect_str(emp, "employment_status", "INACTIVE");
    rt_prov_expect_str(emp, "termination_date", "2016-07-09T00:00:00Z");
    rt_prov_expect_str(emp, "hire_date", "2014-05-24T00:00:00Z");
    rt_prov_expect_str(emp, "remote_created_at", "2014-05-12T11:42:24Z");
    rt_prov_expect_str(emp, "gender", "OTHER"); /* "diverse" */
    rt_prov_expect_ref(t, emp, "work_location", RS_MODEL_LOCATION, "131003");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_LOCATION, "131003"), "name", "São Paulo");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1000009"), "job_title",
                       "IT Administrator");

    /* a nickname is a preferred first name */
    emp = rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "1000010");
    rt_prov_expect_str(emp, "first_name", "Björn");
    rt_prov_expect_str(emp, "preferred_name", "Sunny");
    rt_prov_expect_str(emp, "display_full_name", "Sunny 李");
    rt_prov_expect_ref(t, emp, "company", RS_MODEL_COMPANY, "7001");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_COMPANY, "7001"), "display_name",
                       "Sandbox Inc.");

    /* no team: null, not a dangling ref */
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "1000001"), "team", NULL);
    /* 30 h internal is part time; external is a contractor */
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1000023"), "employment_type",
                       "PART_TIME");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1000020"), "employment_type",
                       "CONTRACTOR");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1000001"), "employment_type",
                       "FULL_TIME");
    json_decref(page);
    rt_prov_free(t);
}

/* ---- tests: paging */

static void expect_offset(struct rt_prov *t, const char *offset_and_more)
{
    char url[512];

    snprintf(url, sizeof(url), "https://api.personio.de/v1/company/employees?limit=100&offset=%s",
             offset_and_more);
    assert_false(rt_prov_next_ok(t));
    assert_string_equal(t->req.url, url);
}

static void feed_page(struct rt_prov *t, json_t *rows_owned, json_int_t offset, json_int_t limit,
                      json_int_t total)
{
    json_t *page = page_of(rows_owned, offset, limit, total);

    assert_int_equal(rt_prov_feed_json(t, page), RS_OK);
    json_decref(page);
}

static void test_paging(void **state)
{
    struct rt_prov *t = t_new(NULL);

    (void)state;
    t_authenticate(t);
    expect_offset(t, "0");
    assert_int_equal(t->req.page, 0);
    feed_page(t, rows_from(1, 100), 0, 100, 250);
    expect_offset(t, "100");
    assert_int_equal(t->req.page, 1);
    feed_page(t, rows_from(101, 100), 100, 100, 250);
    expect_offset(t, "200");
    assert_int_equal(t->req.page, 2);
    feed_page(t, rows_from(201, 50), 200, 100, 250);
    assert_true(rt_prov_next_ok(t));
    assert_true(rt_prov_next_ok(t)); /* and stays done */
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 250);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYMENT), 250);
    (void)rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "250");
    /* derived records once per sync, not once per employee */
    assert_int_equal(rt_capture_count_remote_id(&t->cap, RS_MODEL_GROUP, "department:10"), 1);
    /* no subcompany anywhere: the one stand-in company */
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_COMPANY), 1);
    rt_prov_expect_ref(t, rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "7"), "company",
                       RS_MODEL_COMPANY, "company");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_COMPANY, "company"), "display_name", NULL);
    rt_prov_free(t);
}

static void test_paging_stops(void **state)
{
    struct rt_prov *t = t_new(NULL);

    (void)state;
    /* a full page that reaches total_elements is the last one */
    t_authenticate(t);
    expect_offset(t, "0");
    feed_page(t, rows_from(1, 100), 0, 100, 100);
    assert_true(rt_prov_next_ok(t));

    /* a server that clamps limit to 50 (and says so) keeps paging by 50 */
    t_next_sync(t, true, 0, NOW_US);
    expect_offset(t, "0");
    feed_page(t, rows_from(1, 50), 0, 50, 120);
    expect_offset(t, "50");
    feed_page(t, rows_from(51, 50), 50, 50, 120);
    expect_offset(t, "100");
    feed_page(t, rows_from(101, 20), 100, 50, 120);
    assert_true(rt_prov_next_ok(t));
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 120);

    /* an empty organization: done, and the account still has its company */
    t_next_sync(t, true, 0, NOW_US);
    expect_offset(t, "0");
    feed_page(t, json_array(), 0, 100, 0);
    assert_true(rt_prov_next_ok(t));
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 0);
    assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 1);
    (void)rt_capture_find(&t->cap, RS_MODEL_COMPANY, "company");
    rt_prov_free(t);
}

/* ---- tests: incremental */

static void test_incremental_request(void **state)
{
    struct rt_prov *t = t_new(NULL);
    int64_t since;

    (void)state;
    assert_int_equal(rs_time_parse("2025-01-02T09:00:00.5Z", &since), RS_OK);
    t_authenticate(t);
    t_next_sync(t, false, since, NOW_US);
    /* the documented form, 2022-12-24T08:15:30: no zone, UTC, floored to the second */
    expect_offset(t, "0&updated_since=2025-01-02T09%3A00%3A00");
    assert_string_equal(t->req.method, "GET");
    assert_string_equal(t->req.secret, TOKEN);

    /* a full sync ignores since */
    t_next_sync(t, true, since, NOW_US);
    expect_offset(t, "0");
    rt_prov_free(t);
}

static void test_incremental_paging_honoured(void **state)
{
    struct rt_prov *t = t_new(NULL);

    (void)state;
    t_authenticate(t);
    t_next_sync(t, false, NOW_US - HOUR_US, NOW_US);
    expect_offset(t, "0&updated_since=2026-01-01T08%3A00%3A00");
    feed_page(t, rows_from(1, 100), 0, 100, 130);
    expect_offset(t, "100&updated_since=2026-01-01T08%3A00%3A00");
    feed_page(t, rows_from(101, 30), 100, 100, 130);
    assert_true(rt_prov_next_ok(t));
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 130);
    /* an incremental sync delivers what changed, and no stand-in beyond what employees name */
    assert_int_equal(rt_capture_count_remote_id(&t->cap, RS_MODEL_COMPANY, "company"), 1);
    rt_prov_free(t);
}

static void test_incremental_paging_ignored(void **state)
{
    struct rt_prov *t = t_new(NULL);
    json_t *page;

    (void)state;
    t_authenticate(t);
    t_next_sync(t, false, NOW_US - HOUR_US, NOW_US);
    /* every change at once, more than limit, and no metadata to tell the total */
    page = page_of(rows_from(1, 150), 0, 100, 150);
    json_object_del(page, "metadata");
    expect_offset(t, "0&updated_since=2026-01-01T08%3A00%3A00");
    assert_int_equal(rt_prov_feed_json(t, page), RS_OK);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 150);
    /* so it asks on, and the same page again means offset was ignored: done, nothing twice */
    expect_offset(t, "150&updated_since=2026-01-01T08%3A00%3A00");
    assert_int_equal(rt_prov_feed_json(t, page), RS_OK);
    assert_true(rt_prov_next_ok(t));
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 150);
    json_decref(page);

    /* the same with metadata: total_elements ends it at once */
    t_next_sync(t, false, NOW_US - HOUR_US, NOW_US);
    expect_offset(t, "0&updated_since=2026-01-01T08%3A00%3A00");
    feed_page(t, rows_from(1, 150), 0, 100, 150);
    assert_true(rt_prov_next_ok(t));

    /* nothing changed */
    t_next_sync(t, false, NOW_US - HOUR_US, NOW_US);
    expect_offset(t, "0&updated_since=2026-01-01T08%3A00%3A00");
    feed_page(t, json_array(), 0, 100, 0);
    assert_true(rt_prov_next_ok(t));
    assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 0);
    rt_prov_free(t);
}

/* ---- tests: values */

/*
 * A new full sync (the token kept) whose one page holds row (owned); returns the employee's
 * fields, or NULL when it was skipped.
 */
static const json_t *map_one(struct rt_prov *t, json_t *row_owned)
{
    json_t *rows = json_array();
    char id[64];

    row_id(row_owned, id, sizeof(id));
    json_array_append_new(rows, row_owned);
    t_next_sync(t, true, 0, NOW_US);
    assert_int_equal(t_feed_rows(t, rows), RS_OK);
    assert_true(rt_prov_next_ok(t));
    return rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY)
               ? NULL
               : rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, id);
}

static struct rt_prov *t_ready(void)
{
    struct rt_prov *t = t_new(NULL);

    t_authenticate(t);
    return t;
}

static void test_statuses_and_dates(void **state)
{
    static const struct {
        const char *status, *hire, *termination;
        const char *want_status, *want_hire, *want_termination;
    } cases[] = {
        {"active", "2014-11-09 00:00:00+01:00", NULL, "ACTIVE", "2014-11-09T00:00:00Z", NULL},
        {"onboarding", "2026-02-01 00:00:00+01:00", NULL, "PENDING", "2026-02-01T00:00:00Z", NULL},
        {"leave", "2021-05-03 00:00:00+02:00", NULL, "ACTIVE", "2021-05-03T00:00:00Z", NULL},
        {"inactive", "2010-01-01", "2016-07-09 00:00:00+02:00", "INACTIVE", "2010-01-01T00:00:00Z",
         "2016-07-09T00:00:00Z"},
        {"INACTIVE", "2010-01-01T00:00:00+14:00", "2011-12-31 00:00:00-10:00", "INACTIVE",
         "2010-01-01T00:00:00Z", "2011-12-31T00:00:00Z"},
        /* an unexpected status is null, and the employee still arrives */
        {"on_sabbatical", "", NULL, NULL, NULL, NULL},
    };
    struct rt_prov *t = t_ready();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *row = employee_row(1);
        const json_t *emp;

        set_attr(row, "status", json_string(cases[i].status));
        set_attr(row, "hire_date", json_string(cases[i].hire));
        set_attr(row, "termination_date",
                 cases[i].termination ? json_string(cases[i].termination) : NULL);
        emp = map_one(t, row);
        assert_non_null(emp);
        rt_prov_expect_str(emp, "employment_status", cases[i].want_status);
        rt_prov_expect_str(emp, "hire_date", cases[i].want_hire);
        rt_prov_expect_str(emp, "start_date", cases[i].want_hire);
        rt_prov_expect_str(emp, "termination_date", cases[i].want_termination);
        rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "effective_date",
                           cases[i].want_hire);
    }
    rt_prov_free(t);
}

static void test_genders(void **state)
{
    static const char *const cases[][2] = {
        {"male", "MALE"},   {"Female", "FEMALE"},         {"diverse", "OTHER"},
        {"other", "OTHER"}, {"non-binary", "NON-BINARY"}, {"unknown", NULL},
        {"", NULL},
    };
    struct rt_prov *t = t_ready();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *row = employee_row(1);

        set_attr(row, "gender", json_string(cases[i][0]));
        rt_prov_expect_str(map_one(t, row), "gender", cases[i][1]);
    }
    rt_prov_free(t);
}

static void test_employment_types(void **state)
{
    static const struct {
        const char *type, *want;
    } cases[] = {
        {"internal", "FULL_TIME"},
        {"external", "CONTRACTOR"},
        {"freelance", NULL},
    };
    static const char *const hours[][2] = {
        {"40", "FULL_TIME"},    {"35", "FULL_TIME"}, {"34,5", "PART_TIME"},     {"30", "PART_TIME"},
        {"29.5", "PART_TIME"},  {"20", "PART_TIME"}, {"0", "FULL_TIME"},        {"", "FULL_TIME"},
        {"forty", "FULL_TIME"}, {"-5", "FULL_TIME"}, {"20 hours", "FULL_TIME"},
    };
    struct rt_prov *t = t_ready();
    json_t *row;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        row = employee_row(1);
        set_attr(row, "employment_type", json_string(cases[i].type));
        assert_non_null(map_one(t, row));
        rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                           cases[i].want);
    }
    for (size_t i = 0; i < sizeof(hours) / sizeof(hours[0]); i++) {
        row = employee_row(1);
        set_attr(row, "weekly_working_hours", json_string(hours[i][0]));
        assert_non_null(map_one(t, row));
        rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                           hours[i][1]);
    }
    /* hours as a number, or missing, or of a strange type: only a number below 35 counts */
    row = employee_row(1);
    set_attr(row, "weekly_working_hours", json_real(37.5));
    assert_non_null(map_one(t, row));
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                       "FULL_TIME");
    row = employee_row(1);
    set_attr(row, "weekly_working_hours", json_integer(16));
    assert_non_null(map_one(t, row));
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                       "PART_TIME");
    row = employee_row(1);
    json_object_del(json_object_get(row, "attributes"), "weekly_working_hours");
    assert_non_null(map_one(t, row));
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                       "FULL_TIME");
    row = employee_row(1);
    set_attr(row, "weekly_working_hours", json_pack("{s:i}", "h", 20));
    assert_non_null(map_one(t, row));
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "1"), "employment_type",
                       "FULL_TIME");
    rt_prov_free(t);
}

static void test_names(void **state)
{
    static const struct {
        const char *first, *last, *preferred;
        const char *want_preferred, *want_display;
    } cases[] = {
        {"Alexander", "Bergmann", "Alexander Bergmann", "Alexander", "Alexander Bergmann"},
        {"Alexander", "Bergmann", "Alex Bergmann", "Alex", "Alex Bergmann"},
        {"Alexander", "Bergmann", "Alex", "Alex", "Alex Bergmann"},
        {"Alexander", "Bergmann", NULL, NULL, "Alexander Bergmann"},
        {"Alexander", "Bergmann", "", NULL, "Alexander Bergmann"},
        {"Zoë", "Nguyễn", "Zoë Nguyễn", "Zoë", "Zoë Nguyễn"},
        {"Björn", "李", "Sunny", "Sunny", "Sunny 李"},
        {"美咲", "Jensen", NULL, NULL, "美咲 Jensen"},
        /* a preferred name that only resembles the last name is left alone */
        {"Ann", "Lee", "Ashlee", "Ashlee", "Ashlee Lee"},
        {"Ann", "Lee", "Lee", "Lee", "Lee Lee"},
        {"Ann", "Lee", "  Lee", "  Lee", "  Lee Lee"},
        {NULL, "Lee", NULL, NULL, "Lee"},
        {"Ann", NULL, NULL, NULL, "Ann"},
        {NULL, NULL, NULL, NULL, NULL},
    };
    struct rt_prov *t = t_ready();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *row = employee_row(1);
        const json_t *emp;

        set_attr(row, "first_name", cases[i].first ? json_string(cases[i].first) : NULL);
        set_attr(row, "last_name", cases[i].last ? json_string(cases[i].last) : NULL);
        set_attr(row, "preferred_name",
                 cases[i].preferred ? json_string(cases[i].preferred) : NULL);
        emp = map_one(t, row);
        assert_non_null(emp);
        rt_prov_expect_str(emp, "first_name", cases[i].first);
        rt_prov_expect_str(emp, "last_name", cases[i].last);
        rt_prov_expect_str(emp, "preferred_name", cases[i].want_preferred);
        rt_prov_expect_str(emp, "display_full_name", cases[i].want_display);
    }
    rt_prov_free(t);
}

static void test_nulls_and_missing_keys(void **state)
{
    static const char *const keys[] = {
        "first_name", "last_name",       "preferred_name",       "email",      "gender",
        "status",     "position",        "supervisor",           "hire_date",  "termination_date",
        "created_at", "employment_type", "weekly_working_hours", "department", "cost_centers",
        "team",       "office",          "subcompany",
    };
    struct rt_prov *t = t_ready();

    (void)state;
    for (int missing = 0; missing < 2; missing++) {
        json_t *row = employee_row(3);
        json_t *attrs = json_object_get(row, "attributes");
        const json_t *emp, *job;

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (missing)
                json_object_del(attrs, keys[i]);
            else
                set_attr(row, keys[i], NULL);
        }
        emp = map_one(t, row);
        assert_non_null(emp);
        rt_prov_expect_str(emp, "employee_number", "3");
        for (size_t i = 0; i < 10; i++) {
            static const char *const nulls[] = {
                "first_name",        "last_name",  "preferred_name",
                "display_full_name", "work_email", "gender",
                "employment_status", "manager",    "hire_date",
                "remote_created_at",
            };
            rt_prov_expect_str(emp, nulls[i], NULL);
        }
        rt_prov_expect_str(emp, "team", NULL);
        rt_prov_expect_str(emp, "work_location", NULL);
        expect_refs(t, emp, "groups", RS_MODEL_GROUP, 0, NULL);
        rt_prov_expect_ref(t, emp, "company", RS_MODEL_COMPANY, "company");
        job = rt_capture_find(&t->cap, RS_MODEL_EMPLOYMENT, "3");
        rt_prov_expect_str(job, "job_title", NULL);
        rt_prov_expect_str(job, "employment_type", NULL);
        rt_prov_expect_str(job, "effective_date", NULL);
        /* the employee, its employment, the stand-in company: nothing else */
        assert_int_equal(rt_capture_count(&t->cap, RT_CAPTURE_ANY), 3);
        (void)rt_capture_find(&t->cap, RS_MODEL_COMPANY, "company");
    }
    rt_prov_free(t);
}

static void test_units(void **state)
{
    struct rt_prov *t = t_ready();
    json_t *rows = json_array(), *row;
    const json_t *emp;

    (void)state;
    /* a unit without an id is known by its name; an id may be text; duplicates collapse */
    row = employee_row(1);
    set_attr(row, "department",
             json_pack("{s:s, s:{s:n, s:s}}", "type", "Department", "attributes", "id", "name",
                       "Sales"));
    set_attr(row, "team",
             json_pack("{s:s, s:{s:s, s:s}}", "type", "Team", "attributes", "id", "t-1", "name",
                       "Tigers"));
    set_attr(row, "office",
             json_pack("{s:s, s:{s:s}}", "type", "Office", "attributes", "name", "Zürich"));
    set_attr(row, "cost_centers",
             json_pack("[o, o, o]", unit("CostCenter", 5, "CC 5"), unit("CostCenter", 6, "CC 6"),
                       unit("CostCenter", 5, "CC 5")));
    set_attr(row, "subcompany", json_pack("{s:s, s:{}}", "type", "Subcompany", "attributes"));
    json_array_append_new(rows, row);
    /* a second employee in the same units: nothing derived twice */
    row = employee_row(2);
    set_attr(row, "department",
             json_pack("{s:s, s:{s:s}}", "type", "Department", "attributes", "name", "Sales"));
    set_attr(row, "cost_centers", json_pack("[o]", unit("CostCenter", 6, "CC 6")));
    json_array_append_new(rows, row);
    t_next_sync(t, true, 0, NOW_US);
    assert_int_equal(t_feed_rows(t, json_incref(rows)), RS_OK);
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 0);

    emp = rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "1");
    expect_refs(t, emp, "groups", RS_MODEL_GROUP, 3,
                (const char *const[]){"department:Sales", "cost_center:5", "cost_center:6"});
    rt_prov_expect_ref(t, emp, "team", RS_MODEL_TEAM, "t-1");
    rt_prov_expect_ref(t, emp, "work_location", RS_MODEL_LOCATION, "Zürich");
    rt_prov_expect_ref(t, emp, "company", RS_MODEL_COMPANY,
                       "company"); /* the subcompany names nothing */
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_GROUP, "department:Sales"), "name",
                       "Sales");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_TEAM, "t-1"), "name", "Tigers");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_LOCATION, "Zürich"), "name", "Zürich");
    rt_prov_expect_str(rt_capture_find(&t->cap, RS_MODEL_GROUP, "cost_center:6"), "type",
                       "COST_CENTER");
    emp = rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "2");
    expect_refs(t, emp, "groups", RS_MODEL_GROUP, 2,
                (const char *const[]){"department:Sales", "cost_center:6"});
    assert_int_equal(rt_capture_count_remote_id(&t->cap, RS_MODEL_GROUP, "department:Sales"), 1);
    assert_int_equal(rt_capture_count_remote_id(&t->cap, RS_MODEL_GROUP, "cost_center:5"), 1);
    assert_int_equal(rt_capture_count_remote_id(&t->cap, RS_MODEL_GROUP, "cost_center:6"), 1);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_COMPANY), 1);
    /* the derived records carry the nested value they came from */
    assert_true(json_equal(
        json_object_get(
            json_array_get(
                json_object_get(rt_capture_record(&t->cap, RS_MODEL_TEAM, "t-1"), "remote_data"),
                0),
            "data"),
        json_object_get(
            json_object_get(json_object_get(json_array_get(rows, 0), "attributes"), "team"),
            "value")));
    json_decref(rows);
    rt_prov_free(t);
}

static void test_huge_and_odd_strings(void **state)
{
    struct rt_prov *t = t_ready();
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    const json_t *emp;
    json_t *row;

    (void)state;
    assert_non_null(big);
    /* 100 KB of "é": kept whole, never cut inside a character */
    for (size_t i = 0; i < n; i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[n] = '\0';
    row = employee_row(1);
    set_attr(row, "first_name", json_string(big));
    set_attr(row, "department", unit("Department", 10, big));
    emp = map_one(t, row);
    assert_non_null(emp);
    assert_int_equal(strlen(json_string_value(json_object_get(emp, "first_name"))), n);
    assert_int_equal(strlen(json_string_value(json_object_get(emp, "display_full_name"))),
                     n + strlen(" Lovelace"));
    assert_string_equal(json_string_value(json_object_get(
                            rt_capture_find(&t->cap, RS_MODEL_GROUP, "department:10"), "name")),
                        big);

    /* a unit known only by a 100 KB name has no usable id: the employee is skipped */
    row = employee_row(1);
    set_attr(row, "team", json_pack("{s:s, s:{s:s}}", "type", "Team", "attributes", "name", big));
    assert_null(map_one(t, row));
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 1);
    assert_non_null(strstr(rt_capture_skip_why(&t->cap, 0), "team"));
    assert_null(strstr(rt_capture_skip_why(&t->cap, 0), "\xc3\xa9")); /* never the value */

    /* an employee id longer than any remote id: skipped */
    row = employee_row(1);
    big[600] = '\0';
    set_attr(row, "id", json_string(big));
    assert_null(map_one(t, row));
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 1);

    /* an escaped NUL inside a name does not stop the employee (the store drops it) */
    row = employee_row(1);
    set_attr(row, "first_name", json_stringn("A\0B", 3));
    emp = map_one(t, row);
    assert_non_null(emp);
    assert_int_equal(json_string_length(json_object_get(emp, "first_name")), 3);
    /* but an id cut short at a NUL could be another employee's */
    row = employee_row(1);
    set_attr(row, "id", json_stringn("12\0x", 4));
    assert_null(map_one(t, row));
    row = employee_row(1);
    set_attr(row, "team",
             json_pack("{s:s, s:{s:s%}}", "type", "Team", "attributes", "id", "7\0x", (size_t)3));
    assert_null(map_one(t, row));

    /* a name with a NUL is a fine name, but not an id */
    row = employee_row(1);
    set_attr(row, "department",
             json_pack("{s:s, s:{s:i, s:s%}}", "type", "Department", "attributes", "id", 5, "name",
                       "R\0D", (size_t)3));
    assert_non_null(map_one(t, row));
    row = employee_row(1);
    set_attr(row, "department",
             json_pack("{s:s, s:{s:s%}}", "type", "Department", "attributes", "name", "R\0D",
                       (size_t)3));
    assert_null(map_one(t, row));

    /* an id as text is fine, and the numbers of JSON are formatted */
    row = employee_row(1);
    set_attr(row, "id", json_string("E-0042"));
    emp = map_one(t, row);
    assert_non_null(emp);
    rt_prov_expect_str(emp, "employee_number", "E-0042");
    free(big);
    rt_prov_free(t);
}

static void test_wrong_types_skipped(void **state)
{
    static const struct {
        const char *attr, *value_json;
    } cases[] = {
        {"id", "{\"x\":1}"},
        {"id", "true"},
        {"id", "\"\""},
        {"first_name", "{\"a\":1}"},
        {"email", "[\"a@b.c\"]"},
        {"status", "[\"active\"]"},
        {"hire_date", "\"yesterday\""},
        {"hire_date", "\"2021-02-30\""},
        {"created_at", "12"},
        {"supervisor", "{\"type\":\"Employee\",\"attributes\":{\"id\":{\"value\":[2]}}}"},
        {"department", "\"Engineering\""},
        {"department", "{\"type\":\"Department\",\"attributes\":[1]}"},
        {"department", "{\"type\":\"Department\",\"attributes\":{\"id\":{\"x\":1}}}"},
        {"department", "{\"type\":\"Department\",\"attributes\":{\"id\":1,\"name\":5}}"},
        {"cost_centers", "{\"type\":\"CostCenter\",\"attributes\":{\"id\":1}}"},
        {"cost_centers", "[\"x\"]"},
        {"team", "7"},
        {"position", "{\"title\":\"CTO\"}"},
        {"employment_type", "{}"},
    };
    struct rt_prov *t = t_ready();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *rows = json_array(), *bad = employee_row(1);

        set_attr(bad, cases[i].attr, json_loads(cases[i].value_json, JSON_DECODE_ANY, NULL));
        json_array_append_new(rows, bad);
        json_array_append_new(rows, employee_row(2));
        t_next_sync(t, true, 0, NOW_US);
        assert_int_equal(t_feed_rows(t, rows), RS_OK);
        if (rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY) != 1)
            fail_msg("%s = %s: %zu skipped", cases[i].attr, cases[i].value_json,
                     rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY));
        if (strcmp(cases[i].attr, "id") != 0 &&
            !strstr(rt_capture_skip_why(&t->cap, 0), cases[i].attr))
            fail_msg("%s: reason \"%s\" does not name it", cases[i].attr,
                     rt_capture_skip_why(&t->cap, 0));
        /* the bad employee left nothing behind; the good one arrived whole */
        assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 1);
        assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYMENT), 1);
        (void)rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "2");
        assert_true(rt_prov_next_ok(t));
    }
    rt_prov_free(t);
}

static void test_odd_rows_skipped(void **state)
{
    struct rt_prov *t = t_ready();
    json_t *rows = json_pack("[s, i, n, [], {}, {s:s}, {s:s, s:[]}, {s:{s:{s:n}}}, o]", "row", 7,
                             "type", "Employee", "type", "Employee", "attributes", "attributes",
                             "id", "value", employee_row(9));
    json_t *row;

    (void)state;
    t_next_sync(t, true, 0, NOW_US);
    assert_int_equal(t_feed_rows(t, rows), RS_OK);
    assert_int_equal(rt_capture_count_skipped(&t->cap, RT_CAPTURE_ANY), 8);
    assert_int_equal(rt_capture_count(&t->cap, RS_MODEL_EMPLOYEE), 1);
    (void)rt_capture_find(&t->cap, RS_MODEL_EMPLOYEE, "9");

    /* lenient where Personio's shape only varies: a supervisor given as a bare name */
    row = employee_row(4);
    set_attr(row, "supervisor", json_string("Grace Hopper"));
    set_attr(row, "weekly_working_hours", json_true());
    rt_prov_expect_str(map_one(t, row), "manager", NULL);
    rt_prov_free(t);
}

static void test_sink_error_aborts(void **state)
{
    struct rt_prov *t = t_ready();
    json_t *page = load_fixture("employees.json");

    (void)state;
    for (int at = 1; at <= 7; at++) {
        t_next_sync(t, true, 0, NOW_US);
        rt_capture_fail_at(&t->cap, (size_t)at);
        assert_false(rt_prov_next_ok(t));
        assert_int_equal(rt_prov_feed_json(t, page), RS_ERR_DB);
        assert_false(rt_prov_next_ok(t)); /* the page was not consumed */
        assert_string_equal(t->req.url,
                            "https://api.personio.de/v1/company/employees?limit=100&offset=0");
    }
    json_decref(page);
    rt_prov_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declaration),
        cmocka_unit_test(test_auth_request),
        cmocka_unit_test(test_auth_needs_credentials),
        cmocka_unit_test(test_auth_response_then_employees),
        cmocka_unit_test(test_auth_response_malformed),
        cmocka_unit_test(test_token_reused_across_syncs),
        cmocka_unit_test(test_token_garbage_means_auth),
        cmocka_unit_test(test_fixture_employee),
        cmocka_unit_test(test_fixture_related),
        cmocka_unit_test(test_fixture_truncated_and_malformed),
        cmocka_unit_test(test_sandbox_page),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_paging_stops),
        cmocka_unit_test(test_incremental_request),
        cmocka_unit_test(test_incremental_paging_honoured),
        cmocka_unit_test(test_incremental_paging_ignored),
        cmocka_unit_test(test_statuses_and_dates),
        cmocka_unit_test(test_genders),
        cmocka_unit_test(test_employment_types),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_nulls_and_missing_keys),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_huge_and_odd_strings),
        cmocka_unit_test(test_wrong_types_skipped),
        cmocka_unit_test(test_odd_rows_skipped),
        cmocka_unit_test(test_sink_error_aborts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
