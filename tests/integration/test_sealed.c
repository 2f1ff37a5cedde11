/*
 * Integration tests for core/rs_sealed.c's key rotation against the PostgreSQL fixture: every
 * sealed column is re-sealed under the new key and still opens once the old key is dropped; a
 * second run does nothing; a value under an unknown key is reported by its row and the rest
 * still rotates; a row written concurrently is never overwritten with a stale value; a value
 * written under the old key behind the rotation is reported as stray.
 */
#include "roster/rs_sealed.h"

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
#include "rt_pg.h"
#include "rt_proc.h"

#define ORG_ID     "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define KEY_A      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* key id 4d6cfaa5c7fce986 */
#define KEY_B      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* key id 8c8586853d1917d7 */
#define KEY_C      "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define ID_B       "\\x8c8586853d1917d7"
#define ACCT_1     "10000000-0000-4000-8000-000000000001"
#define ACCT_2     "20000000-0000-4000-8000-000000000002"
#define ACCT_3     "30000000-0000-4000-8000-000000000003"
#define ACCT_C     "40000000-0000-4000-8000-000000000004" /* sealed under key C */
#define ACCT_0     "05000000-0000-4000-8000-000000000000" /* written behind the rotation */
#define SESSION_ID "60000000-0000-4000-8000-000000000006" /* a link session */
#define STATE_ID   "70000000-0000-4000-8000-000000000007" /* its OAuth authorization */

struct fixture {
    char name[64];
    char conninfo[1024];
    struct rs_db *db;
    struct rs_vault *a, *b, *c, *rotating; /* rotating: B sealing, A retired */
    char failures[1024];
    int nfailures;
};

static struct fixture fx;

static struct rs_vault *vault(const char *key, const char *retired)
{
    struct rs_vault *v = NULL;
    struct rs_errbuf eb = {{0}, {0}};

    if (rs_vault_new(key, &v, &eb) != RS_OK || rs_vault_add_retired(v, retired, &eb) != RS_OK)
        fail_msg("vault: %s", eb.msg);
    return v;
}

static long count(const char *sql)
{
    PGresult *res = rt_pg_exec(fx.db, sql, 0, NULL);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return n;
}

/* Seals text for (kind, key1, key2) under v as bytea hex (static storage, 4 slots). */
static const char *sealed(const struct rs_vault *v, enum rs_sealed_kind kind, const char *key1,
                          const char *key2, const char *text)
{
    static char slots[4][4096];
    static int next;
    char *out = slots[next++ % 4], *hex = NULL;

    assert_int_equal(rs_sealed_seal(v, kind, key1, key2, text, strlen(text), &hex), RS_OK);
    snprintf(out, 4096, "%s", hex);
    free(hex);
    return out;
}

static void add_account(struct rs_db *db, const struct rs_vault *v, const char *id,
                        const char *secret, const char *token)
{
    char origin[64];
    const char *params[4] = {id, origin, NULL, NULL};

    snprintf(origin, sizeof(origin), "origin-%s", id);
    params[2] = sealed(v, RS_SEALED_CREDENTIALS, id, NULL, secret);
    params[3] = token ? sealed(v, RS_SEALED_ACCESS_TOKEN, id, NULL, token) : NULL;
    PQclear(
        rt_pg_exec(db,
                   "INSERT INTO linked_accounts (id, organization_id, integration, "
                   "end_user_origin_id, end_user_organization_name, end_user_email_address, "
                   "status, credentials, access_token) VALUES ($1::uuid, '" ORG_ID "', "
                   "'bamboohr', $2, 'Acme', 'hr@acme.example', 'COMPLETE', $3::bytea, $4::bytea)",
                   4, params));
}

/* The opened value of a column of row key1 (and integration "testhr" for oauth_clients). */
static const char *opened(const struct rs_vault *v, enum rs_sealed_kind kind, const char *key1)
{
    static char text[4096];
    size_t n;
    const struct rs_sealed_column *col = &rs_sealed_columns(&n)[kind];
    char sql[256];
    const char *params[1] = {key1};
    struct rs_errbuf eb = {{0}, {0}};
    uint8_t *plain = NULL;
    size_t len = 0;
    PGresult *res;

    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s = $1::uuid", col->column, col->table,
             col->key1);
    res = rt_pg_exec(fx.db, sql, 1, params);
    assert_int_equal(PQntuples(res), 1);
    if (rs_sealed_open(v, kind, key1, col->key2 ? "testhr" : NULL, PQgetvalue(res, 0, 0), &plain,
                       &len, &eb) != RS_OK)
        fail_msg("%s.%s of %s does not open: %s", col->table, col->column, key1, eb.msg);
    snprintf(text, sizeof(text), "%s", (const char *)plain);
    rs_vault_free_plain(plain);
    PQclear(res);
    return text;
}

static int setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    const char *params[1];

    (void)state;
    memset(&fx, 0, sizeof(fx));
    rs_log_set_level(RS_LOG_ERROR);
    if (rt_pg_migrated_db(fx.name, sizeof(fx.name), fx.conninfo, sizeof(fx.conninfo)) != RS_OK ||
        rs_db_open(fx.conninfo, 5, false, &fx.db, &eb) != RS_OK)
        return -1;
    fx.a = vault(KEY_A, NULL);
    fx.b = vault(KEY_B, NULL);
    fx.c = vault(KEY_C, NULL);
    fx.rotating = vault(KEY_B, KEY_A);
    PQclear(rt_pg_exec(fx.db, "INSERT INTO organizations (id, name) VALUES ('" ORG_ID "', 'O')", 0,
                       NULL));
    add_account(fx.db, fx.a, ACCT_1, "{\"api_key\":\"one\"}", "{\"access_token\":\"t1\"}");
    add_account(fx.db, fx.a, ACCT_2, "{\"api_key\":\"two\"}", NULL);
    add_account(fx.db, fx.a, ACCT_3, "{\"api_key\":\"three\"}", "{\"access_token\":\"t3\"}");
    params[0] = sealed(fx.a, RS_SEALED_OAUTH_CLIENT_SECRET, ORG_ID, "testhr", "client-secret");
    PQclear(rt_pg_exec(fx.db,
                       "INSERT INTO oauth_clients (organization_id, integration, client_id, "
                       "client_secret) VALUES ('" ORG_ID "', 'testhr', 'cid', $1::bytea)",
                       1, params));
    /* an OAuth authorization in flight, of a link session */
    PQclear(rt_pg_exec(fx.db,
                       "INSERT INTO link_sessions (id, organization_id, token_hash, "
                       "end_user_origin_id, end_user_organization_name, end_user_email_address, "
                       "expiry_mins, expires_at) VALUES ('" SESSION_ID "', '" ORG_ID "', '\\x01', "
                       "'o', 'Acme', 'hr@acme.example', 60, now() + interval '1 hour')",
                       0, NULL));
    params[0] = sealed(fx.a, RS_SEALED_LINK_OAUTH_STATE, STATE_ID, NULL, "{\"code_verifier\":1}");
    PQclear(rt_pg_exec(
        fx.db,
        "INSERT INTO link_oauth_states (id, state_hash, link_session_id, integration, "
        "redirect_uri, secrets, expires_at) VALUES ('" STATE_ID "', '\\x02', '" SESSION_ID
        "', 'testhr', 'http://x/cb', $1::bytea, now() + interval '10 minutes')",
        1, params));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rs_vault_free(fx.a);
    rs_vault_free(fx.b);
    rs_vault_free(fx.c);
    rs_vault_free(fx.rotating);
    rs_db_free(fx.db);
    rt_pg_drop_db(fx.name);
    return 0;
}

static void on_failure(void *arg, const struct rs_sealed_column *column, const char *key1,
                       const char *key2, const char *why)
{
    (void)arg;
    (void)key2;
    fx.nfailures++;
    snprintf(fx.failures + strlen(fx.failures), sizeof(fx.failures) - strlen(fx.failures),
             "%s.%s %s: %s\n", column->table, column->column, key1, why);
}

static enum rs_err rotate(struct rs_db *db, int batch, struct rs_sealed_rotation *done)
{
    struct rs_errbuf eb = {{0}, {0}};

    return rs_sealed_rotate(db, fx.rotating, batch, done, on_failure, NULL, &eb);
}

static void expect_counts(const struct rs_sealed_rotation *done, size_t creds, size_t tokens,
                          size_t secrets)
{
    assert_int_equal(done->resealed[RS_SEALED_CREDENTIALS], creds);
    assert_int_equal(done->resealed[RS_SEALED_ACCESS_TOKEN], tokens);
    assert_int_equal(done->resealed[RS_SEALED_OAUTH_CLIENT_SECRET], secrets);
}

/* Everything moves to key B; a second run changes nothing; key A can then be dropped. */
static void test_rotate_everything(void **state)
{
    struct rs_sealed_rotation done;

    (void)state;
    assert_int_equal(rotate(fx.db, 2, &done), RS_OK); /* batches of 2: several transactions */
    expect_counts(&done, 3, 2, 1);
    assert_int_equal(done.current[RS_SEALED_CREDENTIALS], 3);
    assert_int_equal(done.current[RS_SEALED_ACCESS_TOKEN], 2);
    assert_int_equal(done.current[RS_SEALED_OAUTH_CLIENT_SECRET], 1);
    assert_int_equal(fx.nfailures, 0);
    assert_int_equal(count("SELECT count(*) FROM linked_accounts WHERE substring(credentials "
                           "FROM 4 FOR 8) <> '" ID_B "'::bytea OR substring(access_token FROM 4 "
                           "FOR 8) <> '" ID_B "'::bytea"),
                     0);
    /* the old key alone no longer opens anything; the new one alone opens everything */
    assert_string_equal(opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_1), "{\"api_key\":\"one\"}");
    assert_string_equal(opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_3), "{\"api_key\":\"three\"}");
    assert_string_equal(opened(fx.b, RS_SEALED_ACCESS_TOKEN, ACCT_3), "{\"access_token\":\"t3\"}");
    assert_string_equal(opened(fx.b, RS_SEALED_OAUTH_CLIENT_SECRET, ORG_ID), "client-secret");
    assert_int_equal(done.resealed[RS_SEALED_LINK_OAUTH_STATE], 1);
    assert_string_equal(opened(fx.b, RS_SEALED_LINK_OAUTH_STATE, STATE_ID),
                        "{\"code_verifier\":1}");
    assert_int_equal(rotate(fx.db, 50, &done), RS_OK);
    expect_counts(&done, 0, 0, 0);
    assert_int_equal(done.current[RS_SEALED_CREDENTIALS], 3);
}

/* A value under a key nobody configured is named by its row; the rest still rotates. */
static void test_unknown_key_reported(void **state)
{
    struct rs_sealed_rotation done;

    (void)state;
    add_account(fx.db, fx.c, ACCT_C, "{\"api_key\":\"lost\"}", NULL);
    assert_int_equal(rotate(fx.db, 50, &done), RS_ERR_CRYPTO);
    expect_counts(&done, 3, 2, 1);
    assert_int_equal(done.failed[RS_SEALED_CREDENTIALS], 1);
    assert_int_equal(done.stray[RS_SEALED_CREDENTIALS], 0);
    assert_int_equal(fx.nfailures, 1);
    if (!strstr(fx.failures, "linked_accounts.credentials " ACCT_C) ||
        !strstr(fx.failures, "linked account " ACCT_C) ||
        !strstr(fx.failures, "ROSTER_MASTER_KEYS_RETIRED"))
        fail_msg("unclear failure: %s", fx.failures);
    assert_null(strstr(fx.failures, "lost"));
    /* run again: only the same row fails */
    fx.nfailures = 0;
    assert_int_equal(rotate(fx.db, 50, &done), RS_ERR_CRYPTO);
    expect_counts(&done, 0, 0, 0);
    assert_int_equal(fx.nfailures, 1);
}

/* ---- a concurrent writer holding a row the rotation needs */

struct rotation_run {
    struct rs_sealed_rotation done;
    enum rs_err err;
};

static void *rotate_thread(void *arg)
{
    struct rotation_run *run = arg;
    struct rs_db *db = NULL;
    struct rs_errbuf eb = {{0}, {0}};

    run->err = rs_db_open(fx.conninfo, 5, false, &db, &eb);
    if (run->err == RS_OK)
        run->err = rs_sealed_rotate(db, fx.rotating, 50, &run->done, on_failure, NULL, &eb);
    rs_db_free(db);
    return NULL;
}

/* Waits (deadline) until a session of this database waits for a row lock. */
static void wait_for_lock_wait(void)
{
    long long deadline = rt_now_ms() + 20000;

    while (count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                 "wait_event_type = 'Lock'") == 0) {
        if (rt_now_ms() > deadline)
            fail_msg("the rotation never waited for the locked row");
        rt_poll_pause(10);
    }
}

/*
 * Holds ACCT_3's row, lets the rotation block on it, then writes `value` (sealed by writer) as
 * its credentials and commits; before committing, also inserts ACCT_0 under key A when
 * `behind`. Returns the rotation's outcome.
 */
static void race_writer(const struct rs_vault *writer, const char *value, bool behind,
                        struct rotation_run *run)
{
    struct rs_db *db = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    pthread_t thread;
    const char *params[2] = {ACCT_3, NULL};

    assert_int_equal(rs_db_open(fx.conninfo, 5, false, &db, &eb), RS_OK);
    assert_int_equal(rs_db_command(db, "BEGIN"), RS_OK);
    PQclear(
        rt_pg_exec(db, "SELECT 1 FROM linked_accounts WHERE id = $1::uuid FOR UPDATE", 1, params));
    assert_int_equal(pthread_create(&thread, NULL, rotate_thread, run), 0);
    wait_for_lock_wait();
    params[1] = sealed(writer, RS_SEALED_CREDENTIALS, ACCT_3, NULL, value);
    PQclear(rt_pg_exec(db, "UPDATE linked_accounts SET credentials = $2::bytea WHERE id = $1::uuid",
                       2, params));
    if (behind)
        add_account(fx.db, fx.a, ACCT_0, "{\"api_key\":\"late\"}", NULL);
    assert_int_equal(rs_db_command(db, "COMMIT"), RS_OK);
    pthread_join(thread, NULL);
    rs_db_free(db);
}

/* A writer with the new key commits while the rotation waits: its value stays as written. */
static void test_concurrent_write_not_overwritten(void **state)
{
    struct rotation_run run;
    char before[4096];

    (void)state;
    race_writer(fx.rotating, "{\"api_key\":\"new\"}", false, &run);
    assert_int_equal(run.err, RS_OK);
    assert_int_equal(run.done.resealed[RS_SEALED_CREDENTIALS], 2); /* ACCT_3 was not its work */
    assert_string_equal(opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_3), "{\"api_key\":\"new\"}");
    snprintf(before, sizeof(before), "%s", opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_1));
    assert_string_equal(before, "{\"api_key\":\"one\"}");
}

/* A writer still on the old key commits while the rotation waits: its value is re-sealed, not
   the one the rotation would have read before; a value written behind the rotation is stray. */
static void test_concurrent_old_key_write(void **state)
{
    struct rotation_run run;

    (void)state;
    race_writer(fx.a, "{\"api_key\":\"from-an-old-server\"}", true, &run);
    assert_int_equal(run.err, RS_ERR_CONFLICT);
    assert_int_equal(run.done.resealed[RS_SEALED_CREDENTIALS], 3);
    assert_int_equal(run.done.stray[RS_SEALED_CREDENTIALS], 1); /* ACCT_0 */
    assert_string_equal(opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_3),
                        "{\"api_key\":\"from-an-old-server\"}");
    /* the stray value goes at the next run */
    {
        struct rs_sealed_rotation done;
        assert_int_equal(rotate(fx.db, 50, &done), RS_OK);
        expect_counts(&done, 1, 0, 0);
        assert_string_equal(opened(fx.b, RS_SEALED_CREDENTIALS, ACCT_0), "{\"api_key\":\"late\"}");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotate_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_write_not_overwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_old_key_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
