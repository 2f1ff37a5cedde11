/*
 * Integration tests for linkflow/lf_oauth_token.c and lf_oauth_client.c against the PostgreSQL
 * fixture and a token endpoint of our own (tests/support/rt_stub.c): two workers refreshing
 * one account at once make exactly one token call and end with the same token, the rotated
 * refresh token is the one stored, a rejected token is refreshed once, invalid_grant puts the
 * account to RELINK_NEEDED, a 5xx or a timeout leaves everything as it was; OAuth clients;
 * a pg_dump holds none of the secrets.
 */
#include "roster/lf_oauth.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_sealed.h"
#include "roster/rs_time.h"
#include "rt_pg.h"
#include "rt_stub.h"

#define ORG_ID     "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ORG_OTHER  "6f1d3b5f-9b63-4d1a-8e6d-1d8b3a2c0f02"
#define ACCOUNT    "0f8fad5b-d9cb-469f-a165-70867728950e"
#define MASTER_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define OTHER_KEY  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define CLIENT_ID  "roster-test-client"
#define HOUR_US    INT64_C(3600000000)

/* ---- the token endpoint's script */

enum mode { ISSUE, INVALID_GRANT, UNAVAILABLE };

struct script {
    pthread_mutex_t mu;
    enum mode mode;
    int delay_ms;
    int issued;
    char prefix[40]; /* random: what the issued tokens start with */
};

struct fixture {
    char name[64];
    char conninfo[1024];
    struct rs_db *db;
    struct rs_vault *vault;
    struct rt_stub *stub;
    struct script script;
    char client_secret[48]; /* random */
    char refresh_token[48]; /* random: the stored refresh token before any refresh */
    char api_secret[48];    /* random: a credential stored sealed */
};

static struct fixture fx;

static void random_text(const char *prefix, char *out, size_t outlen)
{
    uint8_t bytes[16];
    char hex[33];

    randombytes_buf(bytes, sizeof(bytes));
    snprintf(out, outlen, "%s%s", prefix, sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes)));
}

static void token_endpoint(void *arg, const struct rt_stub_request *req,
                           struct rt_stub_reply *reply)
{
    struct script *s = arg;

    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/testhr/oauth/token") != 0)
        return; /* 404 */
    pthread_mutex_lock(&s->mu);
    reply->delay_ms = s->delay_ms;
    if (s->mode == INVALID_GRANT) {
        reply->status = 400;
        snprintf(reply->body, sizeof(reply->body),
                 "{\"error\":\"invalid_grant\",\"error_description\":\"revoked\"}");
    } else if (s->mode == UNAVAILABLE) {
        reply->status = 503;
        snprintf(reply->body, sizeof(reply->body), "{}");
    } else {
        s->issued++;
        reply->status = 200;
        snprintf(reply->body, sizeof(reply->body),
                 "{\"access_token\":\"%s-at-%d\",\"refresh_token\":\"%s-rt-%d\","
                 "\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"read\"}",
                 s->prefix, s->issued, s->prefix, s->issued);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- a test-only adapter: its token endpoint is base_url + /oauth/token */

static const struct prov_field api_fields[] = {{"api_key", "API key", "", NULL, true}};
static const struct prov_oauth test_oauth = {NULL, 0, "read", true, rt_stub_oauth_endpoint, NULL};
static const struct prov_ops test_ops = {
    .slug = "testhr", .name = "TestHR", .fields = api_fields, .nfields = 1, .oauth = &test_oauth};

/* ---- database helpers */

static PGresult *run(const char *sql, int n, const char *const *params)
{
    return rt_pg_exec(fx.db, sql, n, params);
}

/* Row 0 column c of sql (one parameter) into static storage; "(null)" for NULL. */
static const char *scalar(const char *sql, const char *p1, int c)
{
    static char value[8192];
    const char *params[1] = {p1};
    PGresult *res = run(sql, p1 ? 1 : 0, params);

    assert_int_equal(PQntuples(res), 1);
    snprintf(value, sizeof(value), "%s", PQgetisnull(res, 0, c) ? "(null)" : PQgetvalue(res, 0, c));
    PQclear(res);
    return value;
}

/* The stored token, opened (new reference). */
static json_t *stored_token(void)
{
    struct rs_errbuf eb = {{0}, {0}};
    char hex[8192];
    json_t *token = NULL;

    snprintf(hex, sizeof(hex), "%s",
             scalar("SELECT access_token FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0));
    if (rs_sealed_open_json(fx.vault, RS_SEALED_ACCESS_TOKEN, ACCOUNT, NULL, hex, &token, &eb) !=
        RS_OK)
        fail_msg("the stored token does not open: %s", eb.msg);
    return token;
}

static void store_token(const char *access, const char *refresh, int64_t expires_at_us)
{
    json_t *token =
        json_pack("{s:s, s:I}", "access_token", access, "expires_at_us", (json_int_t)expires_at_us);
    struct rs_errbuf eb = {{0}, {0}};

    if (refresh)
        json_object_set_new(token, "refresh_token", json_string(refresh));
    assert_int_equal(lf_oauth_token_save(fx.db, fx.vault, ACCOUNT, token, &eb), RS_OK);
    json_decref(token);
}

static void add_account(void)
{
    char base_url[128], *credentials = NULL;
    json_t *creds = json_pack("{s:s}", "tenant_secret", fx.api_secret);
    const char *params[3] = {ACCOUNT, NULL, base_url};

    snprintf(base_url, sizeof(base_url), "%s/testhr", rt_stub_url(fx.stub));
    assert_int_equal(
        rs_sealed_seal_json(fx.vault, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, creds, &credentials),
        RS_OK);
    params[1] = credentials;
    PQclear(run("INSERT INTO linked_accounts (id, organization_id, integration, "
                "end_user_origin_id, end_user_organization_name, end_user_email_address, status, "
                "credentials, base_url, next_sync_at) VALUES ($1::uuid, '" ORG_ID "', 'testhr', "
                "'o-1', 'Acme', 'hr@acme.example', 'COMPLETE', $2::bytea, $3, now())",
                3, params));
    free(credentials);
    json_decref(creds);
}

static void save_client(const char *org, bool *created)
{
    struct lf_oauth_client client = {.client_id = CLIENT_ID, .client_secret = fx.client_secret};
    struct rs_errbuf eb = {{0}, {0}};

    if (lf_oauth_client_save(fx.db, fx.vault, org, "testhr", &client, created, &eb) != RS_OK)
        fail_msg("client_save: %s", eb.msg);
}

static int setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};

    (void)state;
    memset(&fx, 0, sizeof(fx));
    rs_log_set_level(RS_LOG_ERROR);
    pthread_mutex_init(&fx.script.mu, NULL);
    random_text("", fx.script.prefix, sizeof(fx.script.prefix));
    random_text("cs-", fx.client_secret, sizeof(fx.client_secret));
    random_text("rt0-", fx.refresh_token, sizeof(fx.refresh_token));
    random_text("api-", fx.api_secret, sizeof(fx.api_secret));
    if (rt_pg_migrated_db(fx.name, sizeof(fx.name), fx.conninfo, sizeof(fx.conninfo)) != RS_OK ||
        rs_db_open(fx.conninfo, 5, false, &fx.db, &eb) != RS_OK ||
        rs_vault_new(MASTER_KEY, &fx.vault, &eb) != RS_OK ||
        !(fx.stub = rt_stub_start(token_endpoint, &fx.script))) {
        fprintf(stderr, "setup: %s\n", eb.msg);
        return -1;
    }
    PQclear(run("INSERT INTO organizations (id, name) VALUES ('" ORG_ID "', 'Org'), ('" ORG_OTHER
                "', 'Other')",
                0, NULL));
    add_account();
    save_client(ORG_ID, NULL);
    store_token("at-0", fx.refresh_token, rs_time_now_us() - 1); /* expired */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rt_stub_stop(fx.stub);
    rs_vault_free(fx.vault);
    rs_db_free(fx.db);
    rt_pg_drop_db(fx.name);
    pthread_mutex_destroy(&fx.script.mu);
    return 0;
}

static void no_sleep(void *arg, int64_t us)
{
    (void)arg;
    (void)us;
}

static struct rs_httpc *client_new(int attempts, int64_t timeout_ms)
{
    struct rs_httpc_options opts = {
        .max_attempts = attempts, .timeout_ms = timeout_ms, .allow_private = true};
    struct rs_httpc *http = NULL;

    assert_int_equal(rs_httpc_new(&opts, &http), RS_OK);
    rs_httpc_set_sleep_hook(http, no_sleep, NULL);
    return http;
}

/* lf_oauth_token_fresh on fx.db; *access receives the token's access token (static storage). */
static enum rs_err fresh(const char *rejected, const char **access, struct rs_errbuf *eb)
{
    static char copy[256];
    struct rs_httpc *http = client_new(2, 5000);
    struct lf_oauth_io io = {fx.db, http, fx.vault};
    json_t *token = NULL;
    enum rs_err err;

    rs_errbuf_clear(eb);
    err = lf_oauth_token_fresh(&io, &test_ops, ACCOUNT, rejected, rs_time_now_us(), &token, eb);
    snprintf(copy, sizeof(copy), "%s",
             token ? json_string_value(json_object_get(token, "access_token")) : "");
    *access = copy;
    json_decref(token);
    rs_httpc_free(http);
    return err;
}

static void set_mode(enum mode mode, int delay_ms)
{
    pthread_mutex_lock(&fx.script.mu);
    fx.script.mode = mode;
    fx.script.delay_ms = delay_ms;
    pthread_mutex_unlock(&fx.script.mu);
}

static const char *issued(const char *kind, int n)
{
    static char text[2][96];
    static int slot;
    char *out = text[slot++ % 2];

    snprintf(out, 96, "%s-%s-%d", fx.script.prefix, kind, n);
    return out;
}

/* ---- tests */

static void test_valid_token_is_reused(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;

    (void)state;
    store_token("at-valid", fx.refresh_token, rs_time_now_us() + HOUR_US);
    assert_int_equal(fresh(NULL, &access, &eb), RS_OK);
    assert_string_equal(access, "at-valid");
    assert_int_equal(rt_stub_count(fx.stub), 0);
    /* within five minutes of its end it is refreshed ahead of time */
    store_token("at-ending", fx.refresh_token, rs_time_now_us() + 4 * 60 * INT64_C(1000000));
    assert_int_equal(fresh(NULL, &access, &eb), RS_OK);
    assert_string_equal(access, issued("at", 1));
    assert_int_equal(rt_stub_count(fx.stub), 1);
}

struct racer {
    pthread_barrier_t *start;
    enum rs_err err;
    char access[256];
    char detail[256];
    int64_t done_us;
};

static void *race(void *arg)
{
    struct racer *me = arg;
    struct rs_db *db = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_httpc *http = NULL;
    json_t *token = NULL;

    me->err = rs_db_open(fx.conninfo, 5, false, &db, &eb);
    if (me->err == RS_OK)
        me->err = rs_httpc_new(&(struct rs_httpc_options){.max_attempts = 1, .allow_private = true},
                               &http);
    pthread_barrier_wait(me->start);
    if (me->err == RS_OK) {
        struct lf_oauth_io io = {db, http, fx.vault};
        me->err =
            lf_oauth_token_fresh(&io, &test_ops, ACCOUNT, NULL, rs_time_now_us(), &token, &eb);
    }
    me->done_us = rs_time_mono_us();
    snprintf(me->access, sizeof(me->access), "%s",
             token ? json_string_value(json_object_get(token, "access_token")) : "");
    snprintf(me->detail, sizeof(me->detail), "%s", eb.msg);
    json_decref(token);
    rs_httpc_free(http);
    rs_db_free(db);
    return NULL;
}

/* Two workers find the token expired at once: one refreshes, the other waits and reuses it. */
static void test_racing_refreshes_make_one_call(void **state)
{
    pthread_barrier_t start;
    struct racer racers[2];
    pthread_t threads[2];
    struct rt_stub_request seen;
    json_t *stored;
    char basic[256], credentials[128];

    (void)state;
    set_mode(ISSUE, 400); /* the refresh takes long enough for the other worker to queue */
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].start = &start;
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++) {
        if (racers[i].err != RS_OK)
            fail_msg("worker %d: %s (%s)", i, rs_err_name(racers[i].err), racers[i].detail);
        assert_string_equal(racers[i].access, issued("at", 1));
    }
    assert_int_equal(rt_stub_count(fx.stub), 1);
    /* the one call: a refresh grant with the stored refresh token, the client in Basic */
    assert_int_equal(rt_stub_request(fx.stub, 0, &seen), 0);
    snprintf(credentials, sizeof(credentials), "grant_type=refresh_token&refresh_token=%s",
             fx.refresh_token);
    assert_string_equal(seen.body, credentials);
    snprintf(credentials, sizeof(credentials), "%s:%s", CLIENT_ID, fx.client_secret);
    sodium_bin2base64(basic, sizeof(basic), (const uint8_t *)credentials, strlen(credentials),
                      sodium_base64_VARIANT_ORIGINAL);
    assert_non_null(strstr(seen.headers, basic));
    assert_non_null(strcasestr(seen.headers, "Content-Type: application/x-www-form-urlencoded"));
    /* the rotated refresh token is the one stored */
    stored = stored_token();
    assert_string_equal(json_string_value(json_object_get(stored, "access_token")),
                        issued("at", 1));
    assert_string_equal(json_string_value(json_object_get(stored, "refresh_token")),
                        issued("rt", 1));
    assert_string_equal(json_string_value(json_object_get(stored, "scope")), "read");
    assert_true(json_integer_value(json_object_get(stored, "expires_at_us")) >
                rs_time_now_us() + HOUR_US - 60 * INT64_C(1000000));
    json_decref(stored);
}

/* A token a provider answered 401 to is refreshed once; a worker with the same stale token
   then gets the new one without another call. */
static void test_rejected_token_is_refreshed_once(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;

    (void)state;
    store_token("at-live", fx.refresh_token, rs_time_now_us() + HOUR_US);
    assert_int_equal(fresh("at-live", &access, &eb), RS_OK);
    assert_string_equal(access, issued("at", 1));
    assert_int_equal(fresh("at-live", &access, &eb), RS_OK);
    assert_string_equal(access, issued("at", 1));
    assert_int_equal(rt_stub_count(fx.stub), 1);
    /* the new one rejected in turn: refreshed with the rotated refresh token */
    assert_int_equal(fresh(issued("at", 1), &access, &eb), RS_OK);
    assert_string_equal(access, issued("at", 2));
    {
        struct rt_stub_request seen;
        assert_int_equal(rt_stub_request(fx.stub, 1, &seen), 0);
        assert_non_null(strstr(seen.body, issued("rt", 1)));
    }
}

static void test_invalid_grant_needs_relink(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;
    char before[8192];

    (void)state;
    snprintf(before, sizeof(before), "%s",
             scalar("SELECT access_token FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0));
    set_mode(INVALID_GRANT, 0);
    assert_int_equal(fresh(NULL, &access, &eb), RS_ERR_AUTH);
    assert_string_equal(access, "");
    assert_non_null(strstr(eb.msg, "invalid_grant"));
    assert_string_equal(
        scalar("SELECT status FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0),
        "RELINK_NEEDED");
    const char *detail =
        scalar("SELECT status_detail FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0);
    if (!strstr(detail, "TestHR") || !strstr(detail, "invalid_grant") || !strstr(detail, "relink"))
        fail_msg("status_detail: %s", detail);
    assert_null(strstr(detail, fx.refresh_token));
    assert_string_equal(
        scalar("SELECT next_sync_at FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0),
        "(null)");
    assert_string_equal(
        scalar("SELECT access_token FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0), before);
}

static void test_no_refresh_token_needs_relink(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;

    (void)state;
    store_token("at-old", NULL, rs_time_now_us() - 1);
    assert_int_equal(fresh(NULL, &access, &eb), RS_ERR_AUTH);
    assert_int_equal(rt_stub_count(fx.stub), 0);
    assert_non_null(
        strstr(scalar("SELECT status_detail FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0),
               "no refresh token"));
}

/* 5xx and timeouts: transient, nothing changes; a token call is never retried. */
static void test_transient_failures_change_nothing(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;
    char before[8192];
    struct rs_httpc *slow = client_new(1, 1000);
    struct lf_oauth_io io = {fx.db, slow, fx.vault};
    json_t *token = NULL;

    (void)state;
    snprintf(before, sizeof(before), "%s",
             scalar("SELECT access_token FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0));
    set_mode(UNAVAILABLE, 0);
    assert_int_equal(fresh(NULL, &access, &eb), RS_ERR_UPSTREAM);
    assert_non_null(strstr(eb.msg, "503"));
    /* one attempt although the client allows two: a retried refresh whose first attempt the
       provider accepted would send a spent refresh token */
    assert_int_equal(rt_stub_count(fx.stub), 1);
    set_mode(ISSUE, 2500); /* answers after the client gave up */
    assert_int_equal(
        lf_oauth_token_fresh(&io, &test_ops, ACCOUNT, NULL, rs_time_now_us(), &token, &eb),
        RS_ERR_UPSTREAM);
    assert_null(token);
    assert_string_equal(
        scalar("SELECT status FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0), "COMPLETE");
    assert_string_equal(
        scalar("SELECT status_detail FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0),
        "(null)");
    assert_string_equal(
        scalar("SELECT access_token FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0), before);
    rs_httpc_free(slow);
}

static void test_missing_client_or_key(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_vault *other = NULL;
    const char *access = NULL;
    json_t *token = NULL;

    (void)state;
    /* a vault without the key the token was sealed under: a clear error, nothing changes */
    assert_int_equal(rs_vault_new(OTHER_KEY, &other, &eb), RS_OK);
    {
        struct lf_oauth_io io = {fx.db, NULL, other};
        assert_int_equal(
            lf_oauth_token_fresh(&io, &test_ops, ACCOUNT, NULL, rs_time_now_us(), &token, &eb),
            RS_ERR_CRYPTO);
    }
    if (!strstr(eb.msg, ACCOUNT) || !strstr(eb.msg, "4d6cfaa5c7fce986") ||
        !strstr(eb.msg, "ROSTER_MASTER_KEYS_RETIRED"))
        fail_msg("unclear: %s", eb.msg);
    rs_vault_free(other);
    /* no OAuth client in the organization */
    assert_int_equal(lf_oauth_client_delete(fx.db, ORG_ID, "testhr", &eb), RS_OK);
    assert_int_equal(fresh(NULL, &access, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "oauth-clients/testhr"));
    assert_int_equal(rt_stub_count(fx.stub), 0);
    assert_string_equal(
        scalar("SELECT status FROM linked_accounts WHERE id = $1::uuid", ACCOUNT, 0), "COMPLETE");
    /* no such account */
    {
        struct lf_oauth_io io = {fx.db, NULL, fx.vault};
        assert_int_equal(lf_oauth_token_fresh(&io, &test_ops,
                                              "7c9e6679-7425-40de-944b-e07fc1f90ae7", NULL,
                                              rs_time_now_us(), &token, &eb),
                         RS_ERR_NOTFOUND);
    }
}

/* The link flow's code exchange: the form the endpoint receives and the token it returns. */
static void test_code_exchange(void **state)
{
    struct lf_oauth_client client = {.client_id = CLIENT_ID, .client_secret = fx.client_secret};
    struct lf_oauth_grant grant = {.type = LF_OAUTH_GRANT_CODE,
                                   .code = "c0de/1",
                                   .redirect_uri = "https://roster.example/link/oauth/callback",
                                   .code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"};
    struct rs_httpc *http = client_new(1, 5000);
    struct rs_errbuf eb = {{0}, {0}};
    struct rt_stub_request seen;
    json_t *fields = json_object(), *token = NULL;
    char base_url[128];
    int64_t now = rs_time_now_us();

    (void)state;
    snprintf(base_url, sizeof(base_url), "%s/testhr", rt_stub_url(fx.stub));
    if (lf_oauth_token_call(http, &test_ops, fields, base_url, &client, &grant, now, NULL, &token,
                            &eb) != RS_OK)
        fail_msg("code exchange: %s", eb.msg);
    assert_string_equal(json_string_value(json_object_get(token, "access_token")), issued("at", 1));
    assert_string_equal(json_string_value(json_object_get(token, "refresh_token")),
                        issued("rt", 1));
    assert_int_equal(json_integer_value(json_object_get(token, "expires_at_us")), now + HOUR_US);
    assert_int_equal(rt_stub_request(fx.stub, 0, &seen), 0);
    assert_string_equal(seen.method, "POST");
    assert_string_equal(seen.body, "grant_type=authorization_code&code=c0de%2F1"
                                   "&redirect_uri=https%3A%2F%2Froster.example%2Flink%2Foauth%2F"
                                   "callback&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWF"
                                   "OEjXk");
    assert_non_null(strcasestr(seen.headers, "Authorization: Basic "));
    assert_non_null(strcasestr(seen.headers, "Accept: application/json"));
    /* the code refused: permanent, reported as such */
    json_decref(token);
    token = NULL;
    set_mode(INVALID_GRANT, 0);
    assert_int_equal(lf_oauth_token_call(http, &test_ops, fields, base_url, &client, &grant, now,
                                         NULL, &token, &eb),
                     RS_ERR_AUTH);
    assert_null(token);
    json_decref(fields);
    rs_httpc_free(http);
}

static void test_oauth_clients(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct lf_oauth_client *client = NULL;
    bool created = true;
    char hex[4096];

    (void)state;
    /* replace: the same key, created false; a new org: created true */
    save_client(ORG_ID, &created);
    assert_false(created);
    save_client(ORG_OTHER, &created);
    assert_true(created);
    assert_int_equal(lf_oauth_client_load(fx.db, fx.vault, ORG_ID, "testhr", true, &client, &eb),
                     RS_OK);
    assert_string_equal(client->client_id, CLIENT_ID);
    assert_string_equal(client->client_secret, fx.client_secret);
    assert_null(client->scopes);
    assert_int_equal(strlen(client->created_at), 20);
    lf_oauth_client_free(client);
    client = NULL;
    assert_int_equal(lf_oauth_client_load(fx.db, fx.vault, ORG_ID, "testhr", false, &client, &eb),
                     RS_OK);
    assert_null(client->client_secret);
    lf_oauth_client_free(client);
    client = NULL;
    /* the secret is bound to its row: another organization's copy does not open */
    snprintf(hex, sizeof(hex), "%s",
             scalar("SELECT client_secret FROM oauth_clients WHERE organization_id = $1::uuid",
                    ORG_OTHER, 0));
    {
        const char *params[1] = {hex};
        PQclear(run(
            "UPDATE oauth_clients SET client_secret = $1::bytea WHERE organization_id = '" ORG_ID
            "'",
            1, params));
    }
    assert_int_equal(lf_oauth_client_load(fx.db, fx.vault, ORG_ID, "testhr", true, &client, &eb),
                     RS_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, "does not authenticate"));
    assert_int_equal(lf_oauth_client_delete(fx.db, ORG_ID, "testhr", &eb), RS_OK);
    assert_int_equal(lf_oauth_client_delete(fx.db, ORG_ID, "testhr", &eb), RS_ERR_NOTFOUND);
    assert_int_equal(lf_oauth_client_load(fx.db, fx.vault, ORG_ID, "testhr", true, &client, &eb),
                     RS_ERR_NOTFOUND);
    assert_null(client);
}

/* After a refresh, nothing secret is in a dump: not the client secret, any token, credentials. */
static void test_dump_holds_no_secret(void **state)
{
    struct rs_errbuf eb;
    const char *access = NULL;
    const char *secrets[6];
    char *dump = NULL;

    (void)state;
    assert_int_equal(fresh(NULL, &access, &eb), RS_OK);
    secrets[0] = fx.client_secret;
    secrets[1] = fx.refresh_token;
    secrets[2] = fx.api_secret;
    secrets[3] = issued("at", 1);
    secrets[4] = issued("rt", 1);
    secrets[5] = fx.script.prefix; /* no fragment of an issued token either */
    assert_int_equal(rt_pg_dump(fx.conninfo, &dump), RS_OK);
    /* the dump has the rows: the client id and the account are there in plaintext by design */
    assert_non_null(strstr(dump, CLIENT_ID));
    assert_non_null(strstr(dump, ACCOUNT));
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (strstr(dump, secrets[i]))
            fail_msg("the dump holds secret #%zu in plaintext", i);
    }
    free(dump);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_token_is_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_racing_refreshes_make_one_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_token_is_refreshed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_grant_needs_relink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_refresh_token_needs_relink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_failures_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_client_or_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_holds_no_secret, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
