/*
 * End to end: the real rosterd over real HTTP against real PostgreSQL — authentication and
 * tenant isolation, 4xx errors that name the parameter, cursor pagination, the admin API,
 * request limits, metrics and a graceful shutdown under load; the OAuth clients' admin API's
 * refusals (no built-in integration links with OAuth yet).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "rt_api.h"
#include "rt_http.h"
#include "rt_pg.h"
#include "rt_proc.h"

#define HRIS        "/api/hris/v1/"
#define ADMIN_LA    "/api/admin/v1/linked-accounts"
#define A_EMPLOYEES 250
#define B_EMPLOYEES 60

static const char *const models[] = {"employees", "employments", "groups",
                                     "teams",     "locations",   "companies"};
#define NMODELS (sizeof(models) / sizeof(models[0]))

/* What every test of this program shares: one database, two rosterds, two organizations. */
struct api_env {
    char db_name[64];
    char conninfo[1024];
    PGconn *sql;
    struct rt_proc *main;   /* ROSTER_ALLOW_PRIVATE_UPSTREAMS=1 */
    struct rt_proc *strict; /* private upstreams refused, ROSTER_MAX_BODY_BYTES=2048 */
    char *key_a, *key_b;
    char acct_a[64], token_a[128];
    char acct_b[64], token_b[128];
};

static struct api_env env;
static bool teardown_failed;

/* ---- helpers --------------------------------------------------------------------------------- */

/* Runs a one-row, one-column query with up to two text parameters; returns it as a number. */
static long long sql_number(const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = {p1, p2};
    PGresult *res = PQexecParams(env.sql, sql, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
    long long value;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        char message[512];
        snprintf(message, sizeof(message), "%s", PQerrorMessage(env.sql));
        PQclear(res);
        fail_msg("SQL failed: %s: %s", sql, message);
    }
    value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return value;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int group_teardown(void **state);

static int group_setup(void **state)
{
    static const char *const strict_env[] = {"ROSTER_MAX_BODY_BYTES=2048", NULL};
    struct rt_rosterd_opts main_opts = {.allow_private_upstreams = true};
    struct rt_rosterd_opts strict_opts = {.extra_env = strict_env};

    if (rt_pg_migrated_db(env.db_name, sizeof(env.db_name), env.conninfo, sizeof(env.conninfo)) !=
        RS_OK)
        return -1;
    env.sql = PQconnectdb(env.conninfo);
    main_opts.database_url = strict_opts.database_url = env.conninfo;
    if (PQstatus(env.sql) != CONNECTION_OK ||
        rt_proc_start_rosterd(&main_opts, &env.main) != RS_OK ||
        rt_proc_start_rosterd(&strict_opts, &env.strict) != RS_OK ||
        !(env.key_a = rt_api_create_org(env.conninfo, "Org A")) ||
        !(env.key_b = rt_api_create_org(env.conninfo, "Org B"))) {
        group_teardown(state);
        return -1;
    }
    rt_api_link_account(env.main, env.key_a, "a-main", env.acct_a, env.token_a);
    rt_api_link_account(env.main, env.key_b, "b-main", env.acct_b, env.token_b);
    rt_api_seed(env.conninfo, env.acct_a, A_EMPLOYEES);
    rt_api_seed(env.conninfo, env.acct_b, B_EMPLOYEES);
    /*
     * One seed writes every row with the same modified_at. Spread them (ties included) before
     * anything reads them, so that a page order by id alone would not pass for the
     * (modified_at, id) order.
     */
    if (sql_number("WITH u AS (UPDATE employees SET modified_at = created_at + "
                   "make_interval(secs => abs(hashtext(remote_id)) % 17) "
                   "WHERE linked_account_id = $1 RETURNING 1) SELECT count(*) FROM u",
                   env.acct_a, NULL) != A_EMPLOYEES) {
        group_teardown(state);
        return -1;
    }
    return 0;
}

/* Stops p (if started) and checks that it exited cleanly. */
static bool stopped_cleanly(struct rt_proc *p)
{
    if (!p)
        return true;
    rt_proc_stop(p, 15000);
    return rt_proc_exited_cleanly(p);
}

static int group_teardown(void **state)
{
    (void)state;
    if (!stopped_cleanly(env.main) || !stopped_cleanly(env.strict))
        teardown_failed = true;
    rt_proc_free(env.main);
    rt_proc_free(env.strict);
    PQfinish(env.sql);
    rt_pg_drop_db(env.db_name);
    free(env.key_a);
    free(env.key_b);
    memset(&env, 0, sizeof(env)); /* idempotent: setup calls it when it fails */
    return teardown_failed ? -1 : 0;
}

/* ---- authentication and isolation ------------------------------------------------------------ */

static void test_auth_failures(void **state)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    struct rt_req basic = {.url = rt_api_url(url, env.main, HRIS "employees"),
                           .headers = (const char *const[]){"Authorization: Basic YTpi", NULL}};

    (void)state;
    rt_api_get(rt_api_url(url, env.main, HRIS "employees"), env.key_a, env.token_a, &r);
    rt_api_expect_status(&r, 200, "valid key and token (control)");
    rt_resp_cleanup(&r);

    rt_api_get(url, NULL, NULL, &r);
    rt_api_expect_error(&r, 401, NULL, "no Authorization");
    rt_resp_cleanup(&r);
    assert_int_equal(rt_http_do(&basic, &r), RS_OK);
    rt_api_expect_error(&r, 401, NULL, "Basic instead of Bearer");
    rt_resp_cleanup(&r);
    rt_api_get(url, "rk_wrong-key-of-nobody", env.token_a, &r);
    rt_api_expect_error(&r, 401, NULL, "wrong API key");
    rt_resp_cleanup(&r);
    rt_api_get(url, env.key_a, NULL, &r);
    rt_api_expect_error(&r, 401, NULL, "no X-Account-Token");
    rt_resp_cleanup(&r);
    rt_api_get(url, env.key_a, "at_wrong-token", &r);
    rt_api_expect_error(&r, 401, NULL, "wrong account token");
    rt_resp_cleanup(&r);

    /* organization-level routes need the key too */
    rt_api_get(rt_api_url(url, env.main, HRIS "linked-accounts"), NULL, NULL, &r);
    rt_api_expect_error(&r, 401, NULL, "linked-accounts without a key");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.main, ADMIN_LA), "rk_wrong", NULL, &r);
    rt_api_expect_error(&r, 401, NULL, "admin list with a wrong key");
    rt_resp_cleanup(&r);
}

/* The first id of a listing of `model` as seen by key + token (must exist). */
static void first_id(const char *model, const char *key, const char *token, char out[64])
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    json_t *results;

    rt_api_get(rt_api_url(url, env.main, HRIS "%s?page_size=1", model), key, token, &r);
    results = rt_api_results(&r, model);
    if (json_array_size(results) != 1)
        fail_msg("%s of B: expected one row, got %zu", model, json_array_size(results));
    snprintf(out, 64, "%s", rt_api_str(json_array_get(results, 0), "id"));
    rt_resp_cleanup(&r);
}

static void test_cross_org_token_rejected(void **state)
{
    char url[RT_API_URL_MAX], id[64];
    struct rt_resp r = {0};

    (void)state;
    for (size_t i = 0; i < NMODELS; i++) {
        first_id(models[i], env.key_b, env.token_b, id);
        rt_api_get(rt_api_url(url, env.main, HRIS "%s/%s", models[i], id), env.key_b, env.token_b,
                   &r);
        rt_api_expect_status(&r, 200, "B retrieves its own row (control)");
        rt_resp_cleanup(&r);

        rt_api_get(rt_api_url(url, env.main, HRIS "%s", models[i]), env.key_a, env.token_b, &r);
        rt_api_expect_error(&r, 401, NULL, "list with A's key and B's token");
        rt_resp_cleanup(&r);
        rt_api_get(rt_api_url(url, env.main, HRIS "%s/%s", models[i], id), env.key_a, env.token_b,
                   &r);
        rt_api_expect_error(&r, 401, NULL, "retrieve with A's key and B's token");
        rt_resp_cleanup(&r);
        /* A's own token cannot reach B's rows either */
        rt_api_get(rt_api_url(url, env.main, HRIS "%s/%s", models[i], id), env.key_a, env.token_a,
                   &r);
        rt_api_expect_error(&r, 404, NULL, "A's credentials, B's row id");
        rt_resp_cleanup(&r);
    }
    rt_api_get(rt_api_url(url, env.main, HRIS "groups/types"), env.key_b, env.token_b, &r);
    rt_api_expect_status(&r, 200, "B's groups/types (control)");
    rt_resp_cleanup(&r);
    rt_api_get(url, env.key_a, env.token_b, &r);
    rt_api_expect_error(&r, 401, NULL, "groups/types with A's key and B's token");
    rt_resp_cleanup(&r);

    rt_api_get(rt_api_url(url, env.main, HRIS "account-details"), env.key_b, env.token_b, &r);
    rt_api_expect_status(&r, 200, "B's account-details (control)");
    assert_string_equal(rt_api_str(r.json, "id"), env.acct_b);
    rt_resp_cleanup(&r);
    rt_api_get(url, env.key_a, env.token_b, &r);
    rt_api_expect_error(&r, 401, NULL, "account-details with A's key and B's token");
    rt_resp_cleanup(&r);
}

/* True when a listing of linked accounts (walked page by page) has an item with id. */
static bool accounts_list_has(const char *path, const char *key, const char *id)
{
    char url[RT_API_URL_MAX], cursor[512];
    struct rt_resp r = {0};
    bool found = false;

    rt_api_url(url, env.main, "%s?page_size=1", path);
    for (int page = 0; page < 100; page++) {
        json_t *results;
        const char *next;

        rt_api_get(url, key, NULL, &r);
        results = rt_api_results(&r, path);
        for (size_t i = 0; i < json_array_size(results); i++)
            found = found || strcmp(rt_api_str(json_array_get(results, i), "id"), id) == 0;
        next = rt_api_str(r.json, "next");
        if (!next) {
            rt_resp_cleanup(&r);
            return found;
        }
        assert_true(rt_http_escape(next, cursor, sizeof(cursor)));
        rt_api_url(url, env.main, "%s?page_size=1&cursor=%s", path, cursor);
        rt_resp_cleanup(&r);
    }
    fail_msg("%s: more than 100 pages", path);
    return false;
}

static void test_cross_org_accounts_invisible(void **state)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    rt_api_get(rt_api_url(url, env.main, ADMIN_LA "/%s", env.acct_b), env.key_a, NULL, &r);
    rt_api_expect_error(&r, 404, NULL, "admin GET of B's account with A's key");
    rt_resp_cleanup(&r);
    rt_api_send("DELETE", url, env.key_a, NULL, &r);
    rt_api_expect_error(&r, 404, NULL, "admin DELETE of B's account with A's key");
    rt_resp_cleanup(&r);
    rt_api_get(url, env.key_b, NULL, &r);
    rt_api_expect_status(&r, 200, "B's account survives A's DELETE");
    assert_string_equal(rt_api_str(r.json, "id"), env.acct_b);
    rt_resp_cleanup(&r);

    assert_true(accounts_list_has(HRIS "linked-accounts", env.key_a, env.acct_a));
    assert_false(accounts_list_has(HRIS "linked-accounts", env.key_a, env.acct_b));
    assert_true(accounts_list_has(ADMIN_LA, env.key_a, env.acct_a));
    assert_false(accounts_list_has(ADMIN_LA, env.key_a, env.acct_b));
    assert_true(accounts_list_has(HRIS "linked-accounts", env.key_b, env.acct_b));
    assert_false(accounts_list_has(HRIS "linked-accounts", env.key_b, env.acct_a));
}

/* ---- 400s, 404, 405 -------------------------------------------------------------------------- */

static void test_bad_query_parameters(void **state)
{
    static const struct {
        const char *query, *param;
    } cases[] = {
        {"modified_after=2024-13-01", "modified_after"},
        {"created_before=yesterday", "created_before"},
        {"manager_id=xyz", "manager_id"},
        {"page_size=0", "page_size"},
        {"page_size=1000", "page_size"},
        {"page_size=abc", "page_size"},
        {"expand=foo", "expand"},
        {"expand=manager,foo", "expand"},
        {"employment_status=FOO", "employment_status"},
        {"first_name=%FF", "first_name"},       /* not UTF-8: PostgreSQL would refuse it */
        {"remote_id=%C3%28", "remote_id"},      /* a cut sequence */
        {"work_email=%ED%A0%80", "work_email"}, /* a surrogate */
    };
    static const char *const valid[] = {"modified_after=2024-12-01", "page_size=100",
                                        "employment_status=ACTIVE", "expand=manager",
                                        "first_name=Zo%C3%AB"};
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        rt_api_get(rt_api_url(url, env.main, HRIS "employees?%s", valid[i]), env.key_a, env.token_a,
                   &r);
        rt_api_expect_status(&r, 200, valid[i]);
        rt_resp_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rt_api_get(rt_api_url(url, env.main, HRIS "employees?%s", cases[i].query), env.key_a,
                   env.token_a, &r);
        rt_api_expect_error(&r, 400, cases[i].param, cases[i].query);
        rt_resp_cleanup(&r);
    }
    rt_api_get(rt_api_url(url, env.main, HRIS "employees/not-a-uuid"), env.key_a, env.token_a, &r);
    rt_api_expect_error(&r, 400, "id", "/employees/not-a-uuid");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.main, HRIS "linked-accounts?end_user_origin_id=%%FF"), env.key_a,
               NULL, &r);
    rt_api_expect_error(&r, 400, "end_user_origin_id", "linked-accounts filter not UTF-8");
    rt_resp_cleanup(&r);
}

/* The `next` cursor of the first page of path (page_size small enough to have one). */
static char *next_cursor(const char *path, const char *key, const char *token)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    char *cursor;

    rt_api_get(rt_api_url(url, env.main, "%s", path), key, token, &r);
    rt_api_results(&r, path);
    if (!rt_api_str(r.json, "next"))
        fail_msg("%s has no next page", path);
    cursor = strdup(rt_api_str(r.json, "next"));
    rt_resp_cleanup(&r);
    assert_non_null(cursor);
    return cursor;
}

static void expect_cursor_status(const char *path, const char *cursor, long status,
                                 const char *what)
{
    char url[RT_API_URL_MAX], escaped[512];
    struct rt_resp r = {0};

    assert_true(rt_http_escape(cursor, escaped, sizeof(escaped)));
    rt_api_get(
        rt_api_url(url, env.main, "%s%scursor=%s", path, strchr(path, '?') ? "&" : "?", escaped),
        env.key_a, env.token_a, &r);
    if (status == 200)
        rt_api_results(&r, what);
    else
        rt_api_expect_error(&r, status, "cursor", what);
    rt_resp_cleanup(&r);
}

/* One base64url character replaced by another that differs in its top (always used) bit. */
static char flipped(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *at = strchr(alphabet, c);

    return at && c ? alphabet[(at - alphabet) ^ 32] : 'A';
}

static void test_bad_cursors(void **state)
{
    char *mine = next_cursor(HRIS "employees?page_size=10", env.key_a, env.token_a);
    char *of_b = next_cursor(HRIS "employees?page_size=10", env.key_b, env.token_b);
    char *of_teams = next_cursor(HRIS "teams?page_size=5", env.key_a, env.token_a);
    size_t len = strlen(mine);

    (void)state;
    expect_cursor_status(HRIS "employees?page_size=10", mine, 200, "A's own cursor (control)");
    /* every single-character change is caught, not only some */
    for (size_t i = 0; i < len; i++) {
        char *tampered = strdup(mine), what[64];

        assert_non_null(tampered);
        tampered[i] = flipped(tampered[i]);
        snprintf(what, sizeof(what), "cursor with character %zu flipped", i);
        expect_cursor_status(HRIS "employees?page_size=10", tampered, 400, what);
        free(tampered);
    }
    expect_cursor_status(HRIS "employees?page_size=10", "not-a-cursor", 400, "garbage cursor");
    expect_cursor_status(HRIS "employees?page_size=10", of_b, 400, "B's cursor with A's token");
    expect_cursor_status(HRIS "employees?page_size=10", of_teams, 400, "a /teams cursor");
    expect_cursor_status(HRIS "teams?page_size=5", mine, 400, "an /employees cursor on /teams");
    expect_cursor_status(HRIS "teams?page_size=5", of_teams, 200, "the /teams cursor (control)");
    free(mine);
    free(of_b);
    free(of_teams);
}

static void test_bad_admin_bodies(void **state)
{
    static const struct {
        const char *body, *param;
    } cases[] = {
        {"{}", "integration"},
        {"{\"integration\":\"bamboohr\"}", "end_user_origin_id"},
        {"{\"integration\":\"bamboohr\",\"end_user_origin_id\":\"x\","
         "\"end_user_organization_name\":\"X\",\"end_user_email_address\":\"a@b.c\"}",
         "credentials"},
        {"{\"integration\":\"bamboohr\",\"end_user_origin_id\":\"x\","
         "\"end_user_organization_name\":\"X\",\"end_user_email_address\":\"a@b.c\","
         "\"credentials\":{\"subdomain\":\"acme\"}}",
         "credentials"},
        {"{\"integration\":\"no-such-hris\",\"end_user_origin_id\":\"x\","
         "\"end_user_organization_name\":\"X\",\"end_user_email_address\":\"a@b.c\","
         "\"credentials\":{}}",
         "integration"},
    };
    static const char *const not_json[] = {"{\"integration\":", "not json", "[1,2]", ""};
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    rt_api_url(url, env.main, ADMIN_LA);
    for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++) {
        rt_api_send("POST", url, env.key_a, not_json[i], &r);
        rt_api_expect_error(&r, 400, NULL, not_json[i]);
        assert_string_equal(rt_api_str(r.json, "error"), "invalid");
        rt_resp_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rt_api_send("POST", url, env.key_a, cases[i].body, &r);
        rt_api_expect_error(&r, 400, cases[i].param, cases[i].body);
        rt_resp_cleanup(&r);
    }
}

/* /api/admin/v1/oauth-clients/{integration}: every refusal is the one JSON error, by HTTP. */
static void test_oauth_clients_refused(void **state)
{
    static const char body[] = "{\"client_id\":\"c\",\"client_secret\":\"s3cr3t-e2e\"}";
    static const char *const methods[] = {"PUT", "GET", "DELETE"};
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        const char *with = strcmp(methods[i], "PUT") == 0 ? body : NULL;

        rt_api_send(methods[i],
                    rt_api_url(url, env.main, "/api/admin/v1/oauth-clients/no-such-hris"),
                    env.key_a, with, &r);
        rt_api_expect_error(&r, 404, "integration", "an unknown integration");
        rt_resp_cleanup(&r);
        /* Personio links by client credentials: there is no OAuth client to configure */
        rt_api_send(methods[i], rt_api_url(url, env.main, "/api/admin/v1/oauth-clients/personio"),
                    env.key_a, with, &r);
        rt_api_expect_error(&r, 400, "integration", "an integration without OAuth");
        assert_non_null(strstr(rt_api_str(r.json, "detail"), "OAuth"));
        assert_null(strstr(r.body, "s3cr3t-e2e"));
        rt_resp_cleanup(&r);
        rt_api_send(methods[i], url, NULL, with, &r);
        rt_api_expect_error(&r, 401, NULL, "no API key");
        rt_resp_cleanup(&r);
    }
    rt_api_send("POST", url, env.key_a, body, &r);
    rt_api_expect_error(&r, 405, NULL, "POST on an oauth client");
    rt_resp_cleanup(&r);
}

/* An OAuth client for Factorial: set, read back without its secret, replaced, removed. */
static void test_oauth_client_lifecycle(void **state)
{
    static const char body[] = "{\"client_id\":\"roster-app\",\"client_secret\":\"s3cr3t-e2e\"}";
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    rt_api_url(url, env.main, "/api/admin/v1/oauth-clients/factorial");
    rt_api_send("PUT", url, env.key_a, body, &r);
    assert_true(r.status == 200 || r.status == 201);
    assert_string_equal(rt_api_str(r.json, "client_id"), "roster-app");
    assert_null(strstr(r.body, "s3cr3t-e2e"));
    rt_resp_cleanup(&r);
    rt_api_send("GET", url, env.key_a, NULL, &r);
    rt_api_expect_status(&r, 200, "GET an oauth client");
    assert_string_equal(rt_api_str(r.json, "client_id"), "roster-app");
    assert_null(strstr(r.body, "s3cr3t-e2e"));
    rt_resp_cleanup(&r);
    /* another organization sees none */
    rt_api_send("GET", url, env.key_b, NULL, &r);
    assert_int_equal(r.status, 404);
    rt_resp_cleanup(&r);
    rt_api_send("DELETE", url, env.key_a, NULL, &r);
    assert_true(r.status == 200 || r.status == 204);
    rt_resp_cleanup(&r);
    rt_api_send("GET", url, env.key_a, NULL, &r);
    assert_int_equal(r.status, 404);
    rt_resp_cleanup(&r);
}

static void test_private_base_url(void **state)
{
    static const char *const private_urls[] = {"http://127.0.0.1:9/bamboohr", "http://localhost:9/",
                                               "http://10.1.2.3/", "http://[::1]:9/"};
    struct rt_resp r = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(private_urls) / sizeof(private_urls[0]); i++) {
        rt_api_create_account(env.strict, env.key_a, "e2e-private-refused", "sandbox-key-1",
                              private_urls[i], &r);
        rt_api_expect_error(&r, 400, "base_url", private_urls[i]);
        rt_resp_cleanup(&r);
    }
    /* control: the same request where private upstreams are allowed */
    rt_api_create_account(env.main, env.key_a, "e2e-private-allowed", "sandbox-key-1",
                          private_urls[0], &r);
    rt_api_expect_status(&r, 201, "base_url on 127.0.0.1 with private upstreams allowed");
    rt_resp_cleanup(&r);
}

static void test_unknown_path_and_method(void **state)
{
    static const struct {
        const char *method, *path;
        long status;
    } cases[] = {
        {"GET", "/nope", 404},
        {"GET", HRIS "nope", 404},
        {"GET", HRIS "employees/a/b", 404},
        {"POST", HRIS "employees", 405},
        {"DELETE", HRIS "employees", 405},
        {"PUT", ADMIN_LA, 405},
        {"POST", "/healthz", 405},
    };
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rt_api_send(cases[i].method, rt_api_url(url, env.main, "%s", cases[i].path), env.key_a,
                    NULL, &r);
        rt_api_expect_error(&r, cases[i].status, NULL, cases[i].path);
        rt_resp_cleanup(&r);
    }
}

/* ---- pagination ------------------------------------------------------------------------------ */

/* Ids of a page's results, as a new JSON array of strings. */
static json_t *page_ids(const struct rt_resp *r, const char *what)
{
    json_t *ids = json_array(), *results = rt_api_results(r, what);

    for (size_t i = 0; i < json_array_size(results); i++)
        json_array_append_new(ids, json_string(rt_api_str(json_array_get(results, i), "id")));
    return ids;
}

/* The employee ids of A in (modified_at, id) order, straight from the database. */
static json_t *expected_order(void)
{
    const char *params[1] = {env.acct_a};
    PGresult *res = PQexecParams(env.sql,
                                 "SELECT id::text FROM employees WHERE linked_account_id = $1 "
                                 "AND NOT remote_was_deleted ORDER BY modified_at, id",
                                 1, NULL, params, NULL, NULL, 0);
    json_t *ids = json_array();

    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(ids, json_string(PQgetvalue(res, i, 0)));
    PQclear(res);
    return ids;
}

/* Follows `direction` links from url; returns the pages (arrays of ids) in walk order. */
static json_t *walk(const char *start_url, const char *direction, char **last_other)
{
    char url[RT_API_URL_MAX], escaped[512];
    json_t *pages = json_array();
    struct rt_resp r = {0};
    bool forward = strcmp(direction, "next") == 0;

    snprintf(url, sizeof(url), "%s", start_url);
    for (int n = 0; n < 50; n++) {
        const char *link, *other;

        rt_api_get(url, env.key_a, env.token_a, &r);
        json_array_append_new(pages, page_ids(&r, url));
        link = rt_api_str(r.json, direction);
        other = rt_api_str(r.json, forward ? "previous" : "next");
        if (forward && n == 0 && !json_is_null(json_object_get(r.json, "previous")))
            fail_msg("the first page has a previous cursor");
        if ((n > 0 || !forward) && !other)
            fail_msg("page %d walking %s has no link back", n, direction);
        if (!link) {
            if (!json_is_null(json_object_get(r.json, direction)))
                fail_msg("the end of the walk has a non-null %s", direction);
            *last_other = other ? strdup(other) : NULL;
            rt_resp_cleanup(&r);
            return pages;
        }
        assert_true(rt_http_escape(link, escaped, sizeof(escaped)));
        rt_api_url(url, env.main, HRIS "employees?page_size=37&cursor=%s", escaped);
        rt_resp_cleanup(&r);
    }
    fail_msg("more than 50 pages walking %s", direction);
    return NULL;
}

static json_t *flatten(json_t *pages)
{
    json_t *all = json_array();

    for (size_t i = 0; i < json_array_size(pages); i++)
        json_array_extend(all, json_array_get(pages, i));
    return all;
}

static void test_pagination_forward_and_back(void **state)
{
    char url[RT_API_URL_MAX], escaped[512];
    char *previous = NULL, *unused = NULL;
    json_t *forward, *backward, *ids, *want, *seen = json_object();
    size_t i, npages;
    bool id_ordered = true;

    (void)state;
    want = expected_order();
    forward = walk(rt_api_url(url, env.main, HRIS "employees?page_size=37"), "next", &previous);
    ids = flatten(forward);
    npages = json_array_size(forward);
    assert_int_equal(npages, (A_EMPLOYEES + 36) / 37);
    assert_int_equal(json_array_size(json_array_get(forward, npages - 1)), A_EMPLOYEES % 37);
    assert_int_equal(json_array_size(ids), A_EMPLOYEES);
    for (i = 0; i < json_array_size(ids); i++) {
        const char *id = json_string_value(json_array_get(ids, i));

        if (json_object_get(seen, id))
            fail_msg("id %s appears twice", id);
        json_object_set_new(seen, id, json_true());
        if (i > 0 && strcmp(json_string_value(json_array_get(ids, i - 1)), id) > 0)
            id_ordered = false;
    }
    assert_false(id_ordered); /* else the test could not tell modified_at order from id order */
    if (!json_equal(ids, want))
        fail_msg("the walk's order is not (modified_at, id)");

    /* back from the last page: the same pages, in reverse */
    assert_non_null(previous);
    assert_true(rt_http_escape(previous, escaped, sizeof(escaped)));
    backward = walk(rt_api_url(url, env.main, HRIS "employees?page_size=37&cursor=%s", escaped),
                    "previous", &unused);
    assert_int_equal(json_array_size(backward), npages - 1);
    for (i = 0; i < npages - 1; i++) {
        if (!json_equal(json_array_get(backward, i), json_array_get(forward, npages - 2 - i)))
            fail_msg("backward page %zu differs from forward page %zu", i, npages - 2 - i);
    }
    free(previous);
    free(unused);
    json_decref(seen);
    json_decref(forward);
    json_decref(backward);
    json_decref(ids);
    json_decref(want);
}

/* Checks that every result has team (and manager, unless null) expanded into an object. */
static size_t check_expanded(const struct rt_resp *r, const char *what)
{
    json_t *results = rt_api_results(r, what);
    size_t managers = 0;

    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *item = json_array_get(results, i);
        const json_t *team = json_object_get(item, "team");
        const json_t *manager = json_object_get(item, "manager");

        if (!json_is_object(team) || !rt_api_str(team, "id") || !rt_api_str(team, "name"))
            fail_msg("%s: team of %s is not an expanded object", what, rt_api_str(item, "id"));
        if (json_is_object(manager) && rt_api_str(manager, "id") &&
            rt_api_str(manager, "remote_id"))
            managers++;
        else if (!json_is_null(manager))
            fail_msg("%s: manager of %s is neither null nor an object", what,
                     rt_api_str(item, "id"));
    }
    return managers;
}

static void test_expand_forms(void **state)
{
    char url[RT_API_URL_MAX];
    struct rt_resp plain = {0}, comma = {0}, repeated = {0};
    json_t *first;

    (void)state;
    rt_api_get(rt_api_url(url, env.main, HRIS "employees?page_size=100"), env.key_a, env.token_a,
               &plain);
    first = json_array_get(rt_api_results(&plain, "no expand"), 0);
    assert_true(json_is_string(json_object_get(first, "team"))); /* control: ids, not objects */

    rt_api_get(rt_api_url(url, env.main, HRIS "employees?page_size=100&expand=manager,team"),
               env.key_a, env.token_a, &comma);
    rt_api_get(rt_api_url(url, env.main, HRIS "employees?page_size=100&expand=manager&expand=team"),
               env.key_a, env.token_a, &repeated);
    assert_true(check_expanded(&comma, "expand=manager,team") > 0);
    assert_true(check_expanded(&repeated, "expand=manager&expand=team") > 0);
    assert_true(json_equal(comma.json, repeated.json));
    rt_resp_cleanup(&plain);
    rt_resp_cleanup(&comma);
    rt_resp_cleanup(&repeated);
}

/* ---- admin API ------------------------------------------------------------------------------- */

static long long account_rows(const char *id)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM employees WHERE linked_account_id = $1) + "
        "(SELECT count(*) FROM employments WHERE linked_account_id = $1) + "
        "(SELECT count(*) FROM groups WHERE linked_account_id = $1) + "
        "(SELECT count(*) FROM teams WHERE linked_account_id = $1) + "
        "(SELECT count(*) FROM locations WHERE linked_account_id = $1) + "
        "(SELECT count(*) FROM companies WHERE linked_account_id = $1)";

    return sql_number(sql, id, NULL);
}

/* Creates an account of org A with api_key as its secret credential; checks the 201. */
static void create_fresh_account(const char *origin, const char *api_key, char id[64],
                                 char token[128])
{
    struct rt_resp r = {0};

    rt_api_create_account(env.main, env.key_a, origin, api_key, NULL, &r);
    rt_api_expect_status(&r, 201, "create");
    assert_string_equal(rt_api_str(r.json, "status"), "COMPLETE");
    assert_non_null(rt_api_str(r.json, "id"));
    assert_non_null(rt_api_str(r.json, "account_token"));
    snprintf(id, 64, "%s", rt_api_str(r.json, "id"));
    snprintf(token, 128, "%s", rt_api_str(r.json, "account_token"));
    assert_true(strlen(token) >= 32);
    rt_resp_cleanup(&r);
}

/* The token is shown once, and neither it nor the credential is stored or shown in clear. */
static void check_secrets_hidden(const char *id, const char *token, const char *secret)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    rt_api_get(rt_api_url(url, env.main, ADMIN_LA "/%s", id), env.key_a, NULL, &r);
    rt_api_expect_status(&r, 200, "admin GET");
    assert_string_equal(rt_api_str(r.json, "id"), id);
    assert_string_equal(rt_api_str(json_object_get(r.json, "integration"), "slug"), "bamboohr");
    assert_null(strstr(r.body, token));
    assert_null(strstr(r.body, secret));
    rt_resp_cleanup(&r);
    assert_true(accounts_list_has(ADMIN_LA, env.key_a, id));
    rt_api_get(rt_api_url(url, env.main, ADMIN_LA "?page_size=100"), env.key_a, NULL, &r);
    rt_api_expect_status(&r, 200, "admin list");
    assert_null(strstr(r.body, token));
    rt_resp_cleanup(&r);
    /* the row: credentials sealed (the plaintext is in no column), the token only hashed */
    assert_int_equal(sql_number("SELECT count(*) FROM linked_accounts la WHERE id = $1 AND "
                                "credentials IS NOT NULL AND length(credentials) > 16 AND "
                                "position(convert_to($2, 'UTF8') in credentials) = 0 AND "
                                "position($2 in la::text) = 0",
                                id, secret),
                     1);
    assert_int_equal(sql_number("SELECT count(*) FROM linked_accounts la WHERE id = $1 AND "
                                "position($2 in la::text) = 0 AND "
                                "position(convert_to($2, 'UTF8') in account_token_hash) = 0",
                                id, token),
                     1);
}

/* DELETE: 204, then the token is refused and the account and its rows are gone. */
static void delete_and_check_gone(const char *id, const char *token)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    rt_api_send("DELETE", rt_api_url(url, env.main, ADMIN_LA "/%s", id), env.key_a, NULL, &r);
    rt_api_expect_status(&r, 204, "DELETE");
    assert_int_equal(r.body_len, 0);
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.main, HRIS "employees"), env.key_a, token, &r);
    rt_api_expect_error(&r, 401, NULL, "the deleted account's token");
    rt_resp_cleanup(&r);
    rt_api_get(rt_api_url(url, env.main, ADMIN_LA "/%s", id), env.key_a, NULL, &r);
    rt_api_expect_error(&r, 404, NULL, "GET of the deleted account");
    rt_resp_cleanup(&r);
    rt_api_send("DELETE", url, env.key_a, NULL, &r);
    rt_api_expect_error(&r, 404, NULL, "second DELETE");
    rt_resp_cleanup(&r);
    assert_int_equal(account_rows(id), 0);
    assert_int_equal(sql_number("SELECT count(*) FROM linked_accounts WHERE id = $1", id, NULL), 0);
}

static void test_admin_lifecycle(void **state)
{
    static const char secret[] = "e2e-plaintext-api-key-7f3a9c";
    char url[RT_API_URL_MAX], id[64], token[128];
    struct rt_resp r = {0};

    (void)state;
    create_fresh_account("e2e-lifecycle", secret, id, token);
    rt_api_create_account(env.main, env.key_a, "e2e-lifecycle", secret, NULL, &r);
    rt_api_expect_error(&r, 409, NULL, "same end_user_origin_id and integration");
    rt_resp_cleanup(&r);
    check_secrets_hidden(id, token, secret);

    rt_api_seed(env.conninfo, id, 30);
    rt_api_get(rt_api_url(url, env.main, HRIS "employees"), env.key_a, token, &r);
    assert_int_equal(json_array_size(rt_api_results(&r, "the new account's employees")), 30);
    rt_resp_cleanup(&r);
    assert_true(account_rows(id) > 30);
    delete_and_check_gone(id, token);
}

/* ---- limits ---------------------------------------------------------------------------------- */

static void test_uri_too_long(void **state)
{
    char url[RT_API_URL_MAX];
    char padding[9001];
    struct rt_resp r = {0};

    (void)state;
    memset(padding, 'a', sizeof(padding) - 1);
    padding[sizeof(padding) - 1] = '\0';
    padding[7900] = '\0'; /* control: under the 8192-byte default */
    rt_api_get(rt_api_url(url, env.main, HRIS "employees?pad=%s", padding), env.key_a, env.token_a,
               &r);
    rt_api_expect_status(&r, 200, "a 7.9 kB URI");
    rt_resp_cleanup(&r);
    padding[7900] = 'a';
    rt_api_get(rt_api_url(url, env.main, HRIS "employees?pad=%s", padding), env.key_a, env.token_a,
               &r);
    rt_api_expect_error(&r, 414, NULL, "a 9 kB URI");
    rt_resp_cleanup(&r);
}

static void test_body_too_large(void **state)
{
    char url[RT_API_URL_MAX], body[4097];
    const char *const no_expect[] = {"Expect:", NULL};
    const char *const with_expect[] = {"Expect: 100-continue", NULL};
    const char *const *variants[] = {no_expect, with_expect};
    struct rt_resp r = {0};

    (void)state;
    memset(body, ' ', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    body[0] = '{';
    body[sizeof(body) - 2] = '}';
    rt_api_url(url, env.strict, ADMIN_LA);
    /* control: a small bad body is read and refused as JSON, not for its size */
    rt_api_send("POST", url, env.key_a, "{}", &r);
    rt_api_expect_error(&r, 400, "integration", "small body on the strict rosterd");
    rt_resp_cleanup(&r);
    for (size_t i = 0; i < 2; i++) {
        struct rt_req req = {.method = "POST",
                             .url = url,
                             .api_key = env.key_a,
                             .body = body,
                             .headers = variants[i]};

        assert_int_equal(rt_http_do(&req, &r), RS_OK);
        rt_api_expect_status(&r, 413, variants[i][0]);
        rt_resp_cleanup(&r);
    }
}

/* ---- metrics --------------------------------------------------------------------------------- */

/* The value of the sample whose name and labels are exactly `series`, or -1. */
static double metric(const char *text, const char *series)
{
    size_t len = strlen(series);

    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, len) == 0 && line[len] == ' ')
            return strtod(line + len + 1, NULL);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return -1;
}

/* The sum of samples whose text starts with prefix. */
static double metric_sum(const char *text, const char *prefix)
{
    size_t len = strlen(prefix);
    double sum = 0;

    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, len) == 0) {
            const char *space = strchr(line, ' ');
            sum += space ? strtod(space + 1, NULL) : 0;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return sum;
}

static char *scrape(const struct rt_proc *p)
{
    char url[RT_API_URL_MAX], type[128];
    struct rt_resp r = {0};
    char *text;

    rt_api_get(rt_api_url(url, p, "/metrics"), NULL, NULL, &r);
    rt_api_expect_status(&r, 200, "/metrics");
    assert_true(rt_resp_header(&r, "Content-Type", type, sizeof(type)));
    assert_non_null(strstr(type, "text/plain"));
    text = r.body;
    r.body = NULL;
    rt_resp_cleanup(&r);
    return text;
}

#define REQUESTS(route, status)                                                                    \
    "roster_http_requests_total{route=\"" route "\",status=\"" status "\"}"
#define DURATION(kind, route) "roster_http_request_duration_seconds_" kind "{route=\"" route "\""

/* The buckets of route's histogram are cumulative; returns the +Inf bucket's value. */
static double check_buckets(const char *text, const char *bucket_prefix)
{
    size_t len = strlen(bucket_prefix);
    const char *line = strstr(text, bucket_prefix);
    double previous = 0;
    int buckets = 0;

    for (; line && strncmp(line, bucket_prefix, len) == 0; buckets++) {
        double value = strtod(strchr(line, ' ') + 1, NULL);

        if (value < previous)
            fail_msg("bucket %d of %s is below the one before", buckets, bucket_prefix);
        previous = value;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (buckets < 2)
        fail_msg("%s has %d buckets", bucket_prefix, buckets);
    return previous;
}

/* Ends rosterd p's database sessions (named rt_metrics); returns once they are gone. */
static void kill_sessions(void)
{
    long long deadline = rt_now_ms() + 10000;

    assert_true(sql_number("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = 'rt_metrics'",
                           NULL, NULL) >= 1);
    while (sql_number("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'rt_metrics'",
                      NULL, NULL) > 0) {
        if (rt_now_ms() > deadline)
            fail_msg("rosterd's sessions are still there 10 s after pg_terminate_backend");
        rt_poll_pause(10);
    }
}

/* Known requests to rosterd p, one of them failing in the database. */
static void make_requests(const struct rt_proc *p)
{
    static const struct {
        const char *path;
        bool key, token;
        long status;
    } calls[] = {
        {"/healthz", false, false, 200},
        {"/healthz", false, false, 200},
        {"/healthz", false, false, 200},
        {HRIS "employees", true, false, 401},
        {HRIS "employees?page_size=5", true, true, 200},
        {"/no-such-route", false, false, 404},
    };
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};

    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        rt_api_get(rt_api_url(url, p, "%s", calls[i].path), calls[i].key ? env.key_a : NULL,
                   calls[i].token ? env.token_a : NULL, &r);
        rt_api_expect_status(&r, calls[i].status, calls[i].path);
        rt_resp_cleanup(&r);
    }
    /* every session is gone: the next statement fails, whichever worker runs it */
    kill_sessions();
    rt_api_get(rt_api_url(url, p, HRIS "employees"), env.key_a, env.token_a, &r);
    rt_api_expect_error(&r, 503, NULL, "a request on a lost database session");
    rt_resp_cleanup(&r);
}

/* A rosterd of its own, so that every count is known exactly. */
static void test_metrics(void **state)
{
    char database_url[1200];
    struct rt_rosterd_opts opts = {.database_url = database_url};
    struct rt_proc *p = NULL;
    char *text;

    (void)state;
    snprintf(database_url, sizeof(database_url), "%s application_name=rt_metrics", env.conninfo);
    assert_int_equal(rt_proc_start_rosterd(&opts, &p), RS_OK);
    make_requests(p);
    text = scrape(p);

    assert_true(metric(text, REQUESTS("healthz", "200")) == 3);
    assert_true(metric(text, REQUESTS("employees.list", "401")) == 1);
    assert_true(metric(text, REQUESTS("employees.list", "200")) == 1);
    assert_true(metric(text, REQUESTS("employees.list", "503")) == 1);
    assert_true(metric(text, REQUESTS("unmatched", "404")) == 1);
    assert_non_null(strstr(text, "# TYPE roster_http_requests_total counter"));
    assert_non_null(strstr(text, "# TYPE roster_http_request_duration_seconds histogram"));
    /* the histogram counts what the counter counts, and its buckets are cumulative */
    assert_true(metric_sum(text, "roster_http_requests_total{route=\"employees.list\",") == 3);
    assert_true(metric(text, DURATION("count", "employees.list") "}") == 3);
    assert_true(check_buckets(text, DURATION("bucket", "employees.list") ",le=") == 3);
    assert_true(check_buckets(text, DURATION("bucket", "healthz") ",le=") == 3);
    assert_true(metric(text, DURATION("sum", "healthz") "}") >= 0);
    assert_non_null(strstr(text, "# TYPE roster_db_errors_total counter"));
    assert_true(metric(text, "roster_db_errors_total") >= 1);
    free(text);
    rt_proc_stop(p, 15000);
    assert_true(rt_proc_exited_cleanly(p));
    rt_proc_free(p);
}

/* ---- graceful shutdown ----------------------------------------------------------------------- */

#define SHUTDOWN_REQUESTS 50
#define LIST_200          "path=\"/api/hris/v1/employees\" status=200"
#define SHUTDOWN_GRACE_MS 8000

struct shutdown_run {
    CURLM *multi;
    struct rt_resp resp[SHUTDOWN_REQUESTS];
    int completed;
};

/* One round of the transfers: progress, then collect the finished ones. */
static void drive_once(struct shutdown_run *run)
{
    CURLMsg *msg;
    int running = 0, left;

    if (curl_multi_perform(run->multi, &running) != CURLM_OK)
        fail_msg("curl_multi_perform failed");
    while ((msg = curl_multi_info_read(run->multi, &left))) {
        CURL *easy = msg->easy_handle;
        char *private = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private);
        curl_multi_remove_handle(run->multi, easy);
        rt_http_finish(easy, msg->data.result, (struct rt_resp *)private);
        run->completed++;
    }
    if (running > 0)
        curl_multi_poll(run->multi, NULL, 0, 10, NULL);
}

/* rosterd sessions of this database blocked on a lock. */
static long long sessions_waiting_on_lock(void)
{
    return sql_number("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name = 'rosterd' AND wait_event_type = 'Lock'",
                      NULL, NULL);
}

/* A transfer that got no response must have failed at the connection, never mid-body. */
static bool check_transfer(const struct rt_resp *resp, int i)
{
    if (resp->status == 0) {
        if (resp->code != CURLE_GOT_NOTHING && resp->code != CURLE_RECV_ERROR &&
            resp->code != CURLE_SEND_ERROR && resp->code != CURLE_COULDNT_CONNECT)
            fail_msg("request %d failed oddly: %s (%s)", i, curl_easy_strerror(resp->code),
                     resp->errbuf);
        return false;
    }
    if (resp->code != CURLE_OK || resp->status != 200)
        fail_msg("request %d: status %ld, %s: an incomplete or failed answer", i, resp->status,
                 curl_easy_strerror(resp->code));
    if (json_array_size(json_object_get(resp->json, "results")) != 100)
        fail_msg("request %d: the 200 body is not a complete page of 100 (%zu bytes)", i,
                 resp->body_len);
    return true;
}

/*
 * Starts the requests; returns, with their number, once workers are inside some of them,
 * blocked on the table lock (one worker may have accepted every connection: one or two).
 */
static long long start_blocked_requests(struct shutdown_run *run, const char *url)
{
    long long deadline = rt_now_ms() + 30000;

    for (int i = 0; i < SHUTDOWN_REQUESTS; i++) {
        struct rt_req req = {.url = url, .api_key = env.key_a, .account_token = env.token_a};
        CURL *easy = rt_http_prepare(&req, &run->resp[i]);

        assert_non_null(easy);
        assert_int_equal(curl_multi_add_handle(run->multi, easy), CURLM_OK);
    }
    for (;;) {
        long long blocked = sessions_waiting_on_lock();

        if (blocked > 0)
            return blocked;
        drive_once(run);
        if (rt_now_ms() > deadline)
            fail_msg("no rosterd worker reached the locked table within 30 s");
    }
}

/* SIGTERM; returns once rosterd has logged that it is shutting down. */
static long long terminate(struct shutdown_run *run, struct rt_proc *p)
{
    long long signalled = rt_now_ms();

    assert_int_equal(rt_proc_signal(p, SIGTERM), RS_OK);
    while (!rt_proc_log_contains(p, "shutting down")) {
        drive_once(run);
        if (rt_now_ms() > signalled + 10000)
            fail_msg("rosterd did not log \"shutting down\" within 10 s of SIGTERM");
    }
    return signalled;
}

/*
 * ~50 requests for a 100-row page are in flight, and workers inside some of them (held by a
 * lock on the employees table), when rosterd gets SIGTERM; then the lock is released. Every
 * request that gets an answer gets a complete 200, those in progress at the signal included,
 * and rosterd exits 0 within the grace period.
 */
static void test_graceful_shutdown(void **state)
{
    static const char *const extra[] = {"ROSTER_SHUTDOWN_GRACE_MS=8000", "ROSTER_HTTP_WORKERS=2",
                                        NULL};
    struct rt_rosterd_opts opts = {.database_url = env.conninfo, .extra_env = extra};
    struct shutdown_run *run = calloc(1, sizeof(*run));
    struct rt_proc *p = NULL;
    PGconn *locker = PQconnectdb(env.conninfo);
    char url[RT_API_URL_MAX];
    struct rt_resp after = {0};
    long long signalled, in_progress;
    int answered = 0;

    (void)state;
    assert_non_null(run);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    assert_int_equal(rt_proc_start_rosterd(&opts, &p), RS_OK);
    run->multi = curl_multi_init();
    assert_non_null(run->multi);
    rt_api_url(url, p, HRIS "employees?page_size=100&expand=manager,team");
    PQclear(PQexec(locker, "BEGIN"));
    PQclear(PQexec(locker, "LOCK TABLE employees IN ACCESS EXCLUSIVE MODE"));
    in_progress = start_blocked_requests(run, url);
    assert_int_equal(run->completed, 0); /* all 50 in flight */
    signalled = terminate(run, p);
    PQclear(PQexec(locker, "COMMIT"));
    while (run->completed < SHUTDOWN_REQUESTS) {
        drive_once(run);
        if (rt_now_ms() > signalled + 60000)
            fail_msg("requests still running 60 s after SIGTERM");
    }
    if (rt_proc_wait(p, SHUTDOWN_GRACE_MS + 5000, NULL) != RS_OK) {
        rt_proc_dump_log(p, 30);
        fail_msg("rosterd still runs %d ms after SIGTERM", SHUTDOWN_GRACE_MS + 5000);
    }
    assert_true(rt_proc_exited_cleanly(p));
    assert_true(rt_now_ms() - signalled < SHUTDOWN_GRACE_MS + 2000);
    for (int i = 0; i < SHUTDOWN_REQUESTS; i++)
        answered += check_transfer(&run->resp[i], i);
    fprintf(stderr, "shutdown: %lld worker(s) inside a request at SIGTERM; %d of %d answered\n",
            in_progress, answered, SHUTDOWN_REQUESTS);
    /* at least the requests in progress at the signal were finished, after it */
    assert_true(answered >= in_progress);
    assert_true(rt_proc_log_count_after(p, "shutting down", LIST_200) >= in_progress);
    assert_false(rt_proc_log_contains(p, "grace expired"));
    /* and it no longer listens */
    assert_int_not_equal(rt_http_get(url, env.key_a, env.token_a, &after), RS_OK);
    rt_resp_cleanup(&after);
    for (int i = 0; i < SHUTDOWN_REQUESTS; i++)
        rt_resp_cleanup(&run->resp[i]);
    curl_multi_cleanup(run->multi);
    free(run);
    PQfinish(locker);
    rt_proc_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_failures),
        cmocka_unit_test(test_cross_org_token_rejected),
        cmocka_unit_test(test_cross_org_accounts_invisible),
        cmocka_unit_test(test_bad_query_parameters),
        cmocka_unit_test(test_bad_cursors),
        cmocka_unit_test(test_bad_admin_bodies),
        cmocka_unit_test(test_oauth_clients_refused),
        cmocka_unit_test(test_oauth_client_lifecycle),
        cmocka_unit_test(test_private_base_url),
        cmocka_unit_test(test_unknown_path_and_method),
        cmocka_unit_test(test_pagination_forward_and_back),
        cmocka_unit_test(test_expand_forms),
        cmocka_unit_test(test_admin_lifecycle),
        cmocka_unit_test(test_uri_too_long),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_graceful_shutdown),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

    return failed || teardown_failed ? 1 : 0;
}
