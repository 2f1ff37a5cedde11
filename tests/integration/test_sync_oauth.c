/*
 * Integration tests of the sync engine's OAuth path (gateway/sync_run.c with
 * linkflow/lf_oauth_token.c) against the PostgreSQL fixture, a test-only adapter and a
 * provider of our own (tests/support/rt_stub.c) serving a token endpoint and one page of
 * records: an expired token is refreshed before the first request, a 401 is answered with
 * one refresh and a retry, a second 401 and invalid_grant put the account to RELINK_NEEDED,
 * and the run never stores the adapter's copy of an OAuth token over the refreshed one.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sync_int.h"
#include "roster/lf_oauth.h"
#include "roster/rs_log.h"
#include "roster/rs_sealed.h"
#include "roster/rs_time.h"
#include "rt_pg.h"
#include "rt_stub.h"

#define ORG_ID     "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ACCOUNT    "0f8fad5b-d9cb-469f-a165-70867728950e"
#define MASTER_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define HOUR_US    INT64_C(3600000000)

/* ---- the provider: a token endpoint and a records endpoint that checks the bearer */

struct provider {
    pthread_mutex_t mu;
    bool grant_refused; /* the token endpoint answers invalid_grant */
    char refuse[128];   /* the records endpoint answers 401 to this access token */
    bool refuse_all;    /* the records endpoint answers 401 to everything */
    int issued, token_calls, record_calls;
    char last_bearer[128];
};

struct fixture {
    char name[64], conninfo[1024];
    struct rs_config cfg;
    struct gw_app app;
    struct rs_db *db;
    struct rt_stub *stub;
    struct provider prov;
};

static struct fixture fx;

static void provider(void *arg, const struct rt_stub_request *req, struct rt_stub_reply *reply)
{
    struct provider *p = arg;
    const char *auth = strcasestr(req->headers, "Authorization: Bearer ");
    char bearer[128] = "";

    if (auth)
        sscanf(auth + strlen("Authorization: Bearer "), "%127[^\r\n]", bearer);
    pthread_mutex_lock(&p->mu);
    if (strcmp(req->path, "/testhr/oauth/token") == 0) {
        p->token_calls++;
        reply->status = p->grant_refused ? 400 : 200;
        if (p->grant_refused)
            snprintf(reply->body, sizeof(reply->body), "{\"error\":\"invalid_grant\"}");
        else
            snprintf(reply->body, sizeof(reply->body),
                     "{\"access_token\":\"at-%d\",\"refresh_token\":\"rt-%d\","
                     "\"expires_in\":3600,\"token_type\":\"Bearer\"}",
                     p->issued + 1, p->issued + 1);
        p->issued += !p->grant_refused;
    } else if (strcmp(req->path, "/testhr/records") == 0) {
        p->record_calls++;
        snprintf(p->last_bearer, sizeof(p->last_bearer), "%s", bearer);
        bool refused = p->refuse_all || !bearer[0] || strcmp(bearer, p->refuse) == 0;
        reply->status = refused ? 401 : 200;
        snprintf(reply->body, sizeof(reply->body), "%s",
                 refused ? "{\"error\":\"unauthorized\"}"
                         : "{\"companies\":[{\"id\":\"c1\",\"name\":\"Acme GmbH\"}]}");
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- a test-only adapter: one GET of /records with the OAuth bearer, one Company */

static enum rs_err next_request(const struct prov_sync *sync, struct prov_request *req, bool *done,
                                struct rs_errbuf *eb)
{
    const char *access = json_string_value(json_object_get(sync->token, "access_token"));

    if (json_is_true(json_object_get(sync->state, "done"))) {
        *done = true;
        return RS_OK;
    }
    if (prov_request_url(sync, "https://testhr.example", "/records", req->url, sizeof(req->url)) !=
        RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "URL too long");
    snprintf(req->method, sizeof(req->method), "GET");
    req->auth = PROV_REQ_AUTH_BEARER;
    snprintf(req->secret, sizeof(req->secret), "%s", access ? access : "");
    return RS_OK;
}

static enum rs_err parse_response(struct prov_sync *sync, const struct prov_response *resp,
                                  const struct prov_sink *sink, struct rs_errbuf *eb)
{
    json_t *doc = json_loadb(resp->body, resp->len, 0, NULL);
    const json_t *company = json_array_get(json_object_get(doc, "companies"), 0);
    json_t *fields = json_pack("{s:O?}", "legal_name", json_object_get(company, "name"));
    struct rs_record rec = {json_string_value(json_object_get(company, "id")), fields, NULL, false};
    enum rs_err err = rec.remote_id ? sink->record(sink->arg, RS_MODEL_COMPANY, &rec)
                                    : rs_errbuf_set(eb, RS_ERR_UPSTREAM, "no company");

    /* what an adapter might do to the token it was given: the engine must not store it */
    json_object_set_new(sync->token, "touched_by_adapter", json_true());
    json_object_set_new(sync->state, "done", json_true());
    json_decref(fields);
    json_decref(doc);
    return err;
}

static const struct prov_field api_fields[] = {{"api_key", "API key", "", NULL, true}};
static const struct prov_oauth test_oauth = {NULL, 0, "read", false, rt_stub_oauth_endpoint, NULL};
static const struct prov_ops test_ops = {
    .slug = "testhr",
    .name = "TestHR",
    .fields = api_fields,
    .nfields = 1,
    .next_request = next_request,
    .parse_response = parse_response,
    .oauth = &test_oauth,
};

static const struct prov_ops *find_adapter(const char *slug)
{
    return strcmp(slug, "testhr") == 0 ? &test_ops : NULL;
}

/* ---- fixture */

static PGresult *run(const char *sql, int n, const char *const *params)
{
    return rt_pg_exec(fx.db, sql, n, params);
}

static const char *account_column(const char *column)
{
    static char value[8192];
    char sql[128];
    const char *params[1] = {ACCOUNT};
    PGresult *res;

    snprintf(sql, sizeof(sql), "SELECT %s FROM linked_accounts WHERE id = $1::uuid", column);
    res = run(sql, 1, params);
    snprintf(value, sizeof(value), "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

static json_t *stored_token(void)
{
    struct rs_errbuf eb = {{0}, {0}};
    json_t *token = NULL;

    if (rs_sealed_open_json(fx.app.vault, RS_SEALED_ACCESS_TOKEN, ACCOUNT, NULL,
                            account_column("access_token"), &token, &eb) != RS_OK)
        fail_msg("stored token: %s", eb.msg);
    return token;
}

static void store_token(const char *access, int64_t expires_at_us)
{
    json_t *token = json_pack("{s:s, s:s, s:I}", "access_token", access, "refresh_token", "rt-0",
                              "expires_at_us", (json_int_t)expires_at_us);
    struct rs_errbuf eb = {{0}, {0}};

    assert_int_equal(lf_oauth_token_save(fx.db, fx.app.vault, ACCOUNT, token, &eb), RS_OK);
    json_decref(token);
}

static int setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct lf_oauth_client client = {.client_id = "cid", .client_secret = "csecret"};
    json_t *creds = json_object(); /* no API key: the account links with OAuth */
    char base_url[128], *sealed = NULL;
    const char *params[3] = {ACCOUNT, NULL, base_url};

    (void)state;
    memset(&fx, 0, sizeof(fx));
    rs_log_set_level(RS_LOG_ERROR);
    pthread_mutex_init(&fx.prov.mu, NULL);
    if (rt_pg_migrated_db(fx.name, sizeof(fx.name), fx.conninfo, sizeof(fx.conninfo)) != RS_OK ||
        rs_config_load(&fx.cfg, NULL, NULL, &eb) != RS_OK ||
        rs_db_open(fx.conninfo, 5, false, &fx.db, &eb) != RS_OK ||
        rs_vault_new(MASTER_KEY, &fx.app.vault, &eb) != RS_OK ||
        !(fx.stub = rt_stub_start(provider, &fx.prov)))
        return -1;
    fx.app.cfg = &fx.cfg;
    snprintf(base_url, sizeof(base_url), "%s/testhr", rt_stub_url(fx.stub));
    assert_int_equal(
        rs_sealed_seal_json(fx.app.vault, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, creds, &sealed),
        RS_OK);
    params[1] = sealed;
    PQclear(run("INSERT INTO organizations (id, name) VALUES ('" ORG_ID "', 'O')", 0, NULL));
    PQclear(run("INSERT INTO linked_accounts (id, organization_id, integration, "
                "end_user_origin_id, end_user_organization_name, end_user_email_address, status, "
                "credentials, base_url) VALUES ($1::uuid, '" ORG_ID "', 'testhr', 'o', 'Acme', "
                "'hr@acme.example', 'COMPLETE', $2::bytea, $3)",
                3, params));
    free(sealed);
    json_decref(creds);
    if (lf_oauth_client_save(fx.db, fx.app.vault, ORG_ID, "testhr", &client, NULL, &eb) != RS_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rt_stub_stop(fx.stub);
    rs_vault_free(fx.app.vault);
    rs_config_cleanup(&fx.cfg);
    rs_db_free(fx.db);
    rt_pg_drop_db(fx.name);
    pthread_mutex_destroy(&fx.prov.mu);
    return 0;
}

/* Queues, claims and runs one full sync as a worker would; returns the sync's final row. */
static const char *sync_once(void)
{
    static char outcome[512];
    struct rs_httpc_options opts = {.max_attempts = 1, .allow_private = true};
    atomic_bool stopping = false;
    struct sync_runner runner = {
        .app = &fx.app, .db = fx.db, .stopping = &stopping, .find_adapter = find_adapter};
    struct sync_job job;
    struct rs_errbuf eb = {{0}, {0}};
    bool queued = false, claimed = false;
    PGresult *res;

    snprintf(runner.owner, sizeof(runner.owner), "test:%d", 1);
    assert_int_equal(rs_db_open(fx.conninfo, 5, false, &runner.stage_db, &eb), RS_OK);
    assert_int_equal(rs_httpc_new(&opts, &runner.http), RS_OK);
    assert_int_equal(sync_queue_add(fx.db, ACCOUNT, "FULL", "MANUAL", &queued, &eb), RS_OK);
    assert_int_equal(sync_queue_claim(fx.db, runner.owner, 60, &job, &claimed, &eb), RS_OK);
    assert_true(claimed);
    assert_int_equal(sync_run(&runner, &job), RS_OK);
    rs_httpc_free(runner.http);
    rs_db_free(runner.stage_db);
    res = run("SELECT status || ' ' || COALESCE(reason, '') FROM syncs ORDER BY queued_at DESC "
              "LIMIT 1",
              0, NULL);
    snprintf(outcome, sizeof(outcome), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

static void expect_counts(int token_calls, int record_calls)
{
    pthread_mutex_lock(&fx.prov.mu);
    int tokens = fx.prov.token_calls, records = fx.prov.record_calls;
    pthread_mutex_unlock(&fx.prov.mu);
    if (tokens != token_calls || records != record_calls)
        fail_msg("token calls %d (want %d), record calls %d (want %d)", tokens, token_calls,
                 records, record_calls);
}

/* ---- tests */

static void test_expired_token_refreshed_before_first_request(void **state)
{
    json_t *token;

    (void)state;
    store_token("at-0", rs_time_now_us() - 1);
    assert_string_equal(sync_once(), "DONE ");
    expect_counts(1, 1);
    assert_string_equal(fx.prov.last_bearer, "at-1");
    assert_string_equal(account_column("status"), "COMPLETE");
    token = stored_token();
    assert_string_equal(json_string_value(json_object_get(token, "access_token")), "at-1");
    assert_string_equal(json_string_value(json_object_get(token, "refresh_token")), "rt-1");
    /* the adapter's copy (it set a field) was not stored over the refreshed token */
    assert_null(json_object_get(token, "touched_by_adapter"));
    json_decref(token);
    /* the next sync reuses the stored token: no token call */
    assert_string_equal(sync_once(), "DONE ");
    expect_counts(1, 2);
    assert_string_equal(account_column("(SELECT count(*) FROM companies)"), "1");
}

static void test_401_refreshes_once_and_retries(void **state)
{
    (void)state;
    store_token("at-0", rs_time_now_us() + HOUR_US); /* valid, but the provider revoked it */
    snprintf(fx.prov.refuse, sizeof(fx.prov.refuse), "at-0");
    assert_string_equal(sync_once(), "DONE ");
    expect_counts(1, 2);
    assert_string_equal(fx.prov.last_bearer, "at-1");
}

static void test_second_401_needs_relink(void **state)
{
    const char *outcome;

    (void)state;
    store_token("at-0", rs_time_now_us() + HOUR_US);
    fx.prov.refuse_all = true;
    outcome = sync_once();
    if (strncmp(outcome, "FAILED ", 7) != 0 || !strstr(outcome, "401"))
        fail_msg("outcome: %s", outcome);
    expect_counts(1, 2); /* one refresh, one retry, no more */
    assert_string_equal(account_column("status"), "RELINK_NEEDED");
}

static void test_invalid_grant_needs_relink(void **state)
{
    const char *outcome;

    (void)state;
    store_token("at-0", rs_time_now_us() - 1);
    fx.prov.grant_refused = true;
    outcome = sync_once();
    if (strncmp(outcome, "FAILED ", 7) != 0 || !strstr(outcome, "invalid_grant"))
        fail_msg("outcome: %s", outcome);
    expect_counts(1, 0);
    assert_string_equal(account_column("status"), "RELINK_NEEDED");
    assert_non_null(strstr(account_column("status_detail"), "invalid_grant"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expired_token_refreshed_before_first_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_401_refreshes_once_and_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_401_needs_relink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_grant_needs_relink, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
