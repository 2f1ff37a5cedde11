/*
 * Integration tests for gateway/gw_oauth.c against the PostgreSQL fixture, called on a stack
 * request (no socket) with a test-only OAuth adapter: create, replace, get, delete, the secret
 * never rendered, validation errors naming the member, organizations isolated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gw_int.h"
#include "roster/lf_oauth.h"
#include "roster/prov.h"
#include "roster/rs_log.h"
#include "rt_pg.h"

#define ORG_A      "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ORG_B      "6f1d3b5f-9b63-4d1a-8e6d-1d8b3a2c0f02"
#define MASTER_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SECRET     "cs-9f86d081884c7d659a2feaa0c55ad015"

static enum rs_err test_endpoint(const json_t *fields, const char *base_url,
                                 enum prov_oauth_endpoint which, char *out, size_t outlen,
                                 struct rs_errbuf *eb)
{
    (void)fields;
    (void)base_url;
    (void)which;
    (void)eb;
    snprintf(out, outlen, "https://hr.example/oauth");
    return RS_OK;
}

static const struct prov_oauth test_oauth = {NULL, 0, "employees:read", true, test_endpoint, NULL};
static const struct prov_ops test_ops = {.slug = "testhr", .name = "TestHR", .oauth = &test_oauth};

struct fixture {
    char name[64], conninfo[1024];
    struct rs_db *db;
    struct rs_config cfg;
    struct gw_app app;
};

static struct fixture fx;

static int setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res;

    (void)state;
    memset(&fx, 0, sizeof(fx));
    rs_log_set_level(RS_LOG_ERROR);
    if (rt_pg_migrated_db(fx.name, sizeof(fx.name), fx.conninfo, sizeof(fx.conninfo)) != RS_OK ||
        rs_db_open(fx.conninfo, 5, false, &fx.db, &eb) != RS_OK ||
        rs_config_load(&fx.cfg, NULL, NULL, &eb) != RS_OK ||
        rs_vault_new(MASTER_KEY, &fx.app.vault, &eb) != RS_OK)
        return -1;
    fx.app.cfg = &fx.cfg;
    res = rs_db_exec(
        fx.db, "INSERT INTO organizations (id, name) VALUES ('" ORG_A "', 'A'), ('" ORG_B "', 'B')",
        0, NULL, false, false, &err);
    PQclear(res);
    return res ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rs_vault_free(fx.app.vault);
    rs_config_cleanup(&fx.cfg);
    rs_db_free(fx.db);
    rt_pg_drop_db(fx.name);
    return 0;
}

static void req_init(struct gw_req *req, const char *org)
{
    memset(req, 0, sizeof(*req));
    req->db = fx.db;
    req->app = &fx.app;
    snprintf(req->org_text, sizeof(req->org_text), "%s", org);
}

/* PUT body (JSON text) as org: the error, and the rendered client when RS_OK (new reference). */
static enum rs_err put(const char *org, const char *text, json_t **out, bool *created,
                       struct rs_errbuf *eb)
{
    struct gw_req req;
    struct rs_buf body;
    json_t *doc = json_loads(text, 0, NULL);
    enum rs_err err;

    assert_non_null(doc);
    req_init(&req, org);
    rs_buf_init(&body, 16384);
    err = gw_oauth_client_put(&req, &test_ops, doc, &body, created);
    *eb = req.eb;
    *out = err == RS_OK ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    if (err == RS_OK)
        assert_null(strstr(body.data, SECRET)); /* never rendered */
    rs_buf_cleanup(&body);
    json_decref(doc);
    return err;
}

static enum rs_err get(const char *org, json_t **out)
{
    struct gw_req req;
    struct rs_buf body;
    enum rs_err err;

    req_init(&req, org);
    rs_buf_init(&body, 16384);
    err = gw_oauth_client_get(&req, &test_ops, &body);
    *out = err == RS_OK ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    rs_buf_cleanup(&body);
    return err;
}

static void test_put_get_delete(void **state)
{
    struct rs_errbuf eb;
    struct gw_req req;
    struct lf_oauth_client *client = NULL;
    json_t *shown = NULL;
    bool created = false;

    (void)state;
    assert_int_equal(put(ORG_A, "{\"client_id\":\"cid-1\",\"client_secret\":\"" SECRET "\"}",
                         &shown, &created, &eb),
                     RS_OK);
    assert_true(created);
    assert_string_equal(json_string_value(json_object_get(shown, "integration")), "testhr");
    assert_string_equal(json_string_value(json_object_get(shown, "client_id")), "cid-1");
    assert_true(json_is_true(json_object_get(shown, "client_secret_set")));
    assert_true(json_is_null(json_object_get(shown, "scopes")));
    assert_string_equal(json_string_value(json_object_get(shown, "default_scopes")),
                        "employees:read");
    assert_true(json_is_null(json_object_get(shown, "redirect_uri")));
    assert_int_equal(strlen(json_string_value(json_object_get(shown, "created_at"))), 20);
    assert_null(json_object_get(shown, "client_secret"));
    json_decref(shown);
    /* replace: 200 semantics (created false), new values */
    assert_int_equal(put(ORG_A,
                         "{\"client_id\":\"cid-2\",\"client_secret\":\"" SECRET "x\","
                         "\"scopes\":\"a b\",\"redirect_uri\":\"https://r.example/cb\"}",
                         &shown, &created, &eb),
                     RS_OK);
    assert_false(created);
    assert_string_equal(json_string_value(json_object_get(shown, "scopes")), "a b");
    json_decref(shown);
    assert_int_equal(get(ORG_A, &shown), RS_OK);
    assert_string_equal(json_string_value(json_object_get(shown, "client_id")), "cid-2");
    assert_string_equal(json_string_value(json_object_get(shown, "redirect_uri")),
                        "https://r.example/cb");
    json_decref(shown);
    /* stored sealed, opens to what was sent */
    assert_int_equal(lf_oauth_client_load(fx.db, fx.app.vault, ORG_A, "testhr", true, &client, &eb),
                     RS_OK);
    assert_string_equal(client->client_secret, SECRET "x");
    lf_oauth_client_free(client);
    /* another organization sees nothing of it */
    assert_int_equal(get(ORG_B, &shown), RS_ERR_NOTFOUND);
    req_init(&req, ORG_B);
    assert_int_equal(gw_oauth_client_delete(&req, &test_ops), RS_ERR_NOTFOUND);
    req_init(&req, ORG_A);
    assert_int_equal(gw_oauth_client_delete(&req, &test_ops), RS_OK);
    assert_int_equal(gw_oauth_client_delete(&req, &test_ops), RS_ERR_NOTFOUND);
    assert_int_equal(get(ORG_A, &shown), RS_ERR_NOTFOUND);
}

static void expect_invalid(const char *body, const char *param)
{
    struct rs_errbuf eb;
    json_t *shown = NULL;
    bool created = false;

    if (put(ORG_A, body, &shown, &created, &eb) != RS_ERR_INVALID)
        fail_msg("accepted: %s", body);
    if (strcmp(eb.param, param) != 0)
        fail_msg("%s: param \"%s\", want \"%s\" (%s)", body, eb.param, param, eb.msg);
    assert_null(strstr(eb.msg, SECRET));
}

static void test_validation(void **state)
{
    json_t *shown = NULL;
    char big[1200];

    (void)state;
    expect_invalid("{\"client_secret\":\"" SECRET "\"}", "client_id");
    expect_invalid("{\"client_id\":\"c\"}", "client_secret");
    expect_invalid("{\"client_id\":\"\",\"client_secret\":\"s\"}", "client_id");
    expect_invalid("{\"client_id\":7,\"client_secret\":\"s\"}", "client_id");
    expect_invalid("{\"client_id\":\"c\",\"client_secret\":\"a\\nb\"}", "client_secret");
    expect_invalid("{\"client_id\":\"c\",\"client_secret\":\"s\",\"redirect_uri\":\"ftp://x\"}",
                   "redirect_uri");
    expect_invalid("{\"client_id\":\"c\",\"client_secret\":\"s\",\"scopes\":[]}", "scopes");
    expect_invalid("{\"client_id\":\"c\",\"client_secret\":\"s\",\"secret\":\"oops\"}", "body");
    snprintf(big, sizeof(big), "{\"client_id\":\"c\",\"client_secret\":\"%01030d\"}", 0);
    expect_invalid(big, "client_secret");
    assert_int_equal(get(ORG_A, &shown), RS_ERR_NOTFOUND); /* nothing was stored */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
