/*
 * End to end, key rotation on a real database while rosterd serves and syncs against
 * roster-sandbox: linked under key A; rosterd restarted with B and A retired (a cursor issued
 * under A still pages); `rosterd rotate-key` while syncs run re-seals every value under B;
 * BambooHR and Personio keep syncing, also once A is dropped; rotate-key with a key that
 * opens nothing names each account and fails; a pg_dump holds none of the secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "roster/rs_vault.h"
#include "rt_api.h"
#include "rt_http.h"
#include "rt_pg.h"
#include "rt_proc.h"
#include "rt_sync.h"

#define EMPLOYEES 40
#define SEED      3
#define ADMIN_LA  "/api/admin/v1/linked-accounts"
#define NSECRETS  2

static struct rt_sync_env env;
static char key_a[64], key_b[64], key_c[64];
static char env_key[3][96], env_retired[96]; /* "ROSTER_MASTER_KEY=…" for A, B, C */

static void random_key(char out[64])
{
    uint8_t bytes[32];

    randombytes_buf(bytes, sizeof(bytes));
    sodium_bin2base64(out, 64, bytes, sizeof(bytes), sodium_base64_VARIANT_ORIGINAL);
}

/* A long random secret no text in the database could hold by chance. */
static void random_secret(char out[64])
{
    uint8_t bytes[24];
    char hex[49];

    randombytes_buf(bytes, sizeof(bytes));
    snprintf(out, 64, "e2e%s", sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes)));
}

/* Stops the running rosterd (it must exit cleanly) and starts one with these key settings. */
static void restart_rosterd(const char *key_env, const char *retired_env)
{
    const char *extra[] = {"ROSTER_SYNC_WORKERS=2",
                           "ROSTER_SYNC_POLL_MS=100",
                           "ROSTER_UPSTREAM_MAX_ATTEMPTS=3",
                           "ROSTER_UPSTREAM_TIMEOUT_MS=10000",
                           key_env,
                           retired_env,
                           NULL};
    struct rt_rosterd_opts opts = {
        .database_url = env.conninfo, .allow_private_upstreams = true, .extra_env = extra};

    rt_proc_stop(env.rosterd, 15000);
    assert_true(rt_proc_exited_cleanly(env.rosterd));
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
    assert_int_equal(rt_proc_start_rosterd(&opts, &env.rosterd), RS_OK);
}

/* `rosterd rotate-key` with these keys: its stdout (caller frees) and exit status. */
static char *rotate_key(const char *key_env, const char *retired_env, int *status)
{
    const char *bin = getenv("ROSTERD_BIN");
    char db_env[1100];
    const char *argv[] = {bin, "rotate-key", NULL};
    const char *child_env[] = {
        db_env, key_env,
        retired_env ? retired_env : "ROSTER_MASTER_KEYS_RETIRED=", "ROSTER_LOG_LEVEL=warn", NULL};
    char *out = NULL;

    snprintf(db_env, sizeof(db_env), "ROSTER_DATABASE_URL=%s", env.conninfo);
    assert_non_null(bin);
    assert_int_equal(rt_proc_run(argv, child_env, 120000, &out, status), RS_OK);
    fprintf(stderr, "rotate-key said:\n%s", out ? out : "");
    return out;
}

/* How many sealed values are not under the key with this id (hex). */
static long not_under(PGconn *sql, const char *key_id_hex)
{
    const char *params[1] = {key_id_hex};
    PGresult *res = PQexecParams(
        sql,
        "SELECT (SELECT count(*) FROM linked_accounts WHERE substring(credentials FROM 4 FOR 8) "
        "<> decode($1, 'hex')) + (SELECT count(*) FROM linked_accounts WHERE access_token IS NOT "
        "NULL AND substring(access_token FROM 4 FOR 8) <> decode($1, 'hex'))",
        1, NULL, params, NULL, NULL, 0);
    long n;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("SQL: %s", PQerrorMessage(sql));
    n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void key_id_of(const char *b64, char out[17])
{
    struct rs_vault *v = NULL;
    struct rs_errbuf eb = {{0}, {0}};

    assert_int_equal(rs_vault_new(b64, &v, &eb), RS_OK);
    rs_vault_key_id(v, out);
    rs_vault_free(v);
}

/* The `next` cursor of the first page of 10 employees of acct (copied into out). */
static void first_page_next(const struct rt_sync_account *acct, char *out, size_t len)
{
    json_t *page =
        rt_sync_call(&env, acct, "GET", NULL, 200, "/api/hris/v1/employees?page_size=10");
    const char *next = rt_sync_str(page, "next");

    assert_non_null(next);
    snprintf(out, len, "%s", next);
    json_decref(page);
}

static long page_status(const struct rt_sync_account *acct, const char *cursor)
{
    char url[RT_API_URL_MAX], escaped[256];
    struct rt_resp r = {0};
    long status;

    assert_true(rt_http_escape(cursor, escaped, sizeof(escaped)));
    rt_api_url(url, env.rosterd, "/api/hris/v1/employees?page_size=10&cursor=%s", escaped);
    rt_api_get(url, env.key, acct->token, &r);
    status = r.status;
    rt_resp_cleanup(&r);
    return status;
}

static void expect_line(const char *out, const char *prefix, const char *needle)
{
    const char *line = out ? strstr(out, prefix) : NULL;
    const char *end = line ? strchr(line, '\n') : NULL;

    if (!line || !end || !memmem(line, (size_t)(end - line), needle, strlen(needle)))
        fail_msg("rotate-key's line \"%s\" lacks \"%s\"", prefix, needle);
}

static void test_rotation_while_serving(void **state)
{
    struct rt_sync_account bamboo, personio, secret_accts[NSECRETS];
    char secrets[NSECRETS][64], id_b[17], id_a[17], cursor[256], needle[160];
    const char *start_env[] = {env_key[0], NULL};
    PGconn *sql = NULL;
    char *out = NULL, *dump = NULL;
    json_t *sync;
    int status = -1;

    (void)state;
    random_key(key_a);
    random_key(key_b);
    random_key(key_c);
    snprintf(env_key[0], sizeof(env_key[0]), "ROSTER_MASTER_KEY=%s", key_a);
    snprintf(env_key[1], sizeof(env_key[1]), "ROSTER_MASTER_KEY=%s", key_b);
    snprintf(env_key[2], sizeof(env_key[2]), "ROSTER_MASTER_KEY=%s", key_c);
    snprintf(env_retired, sizeof(env_retired), "ROSTER_MASTER_KEYS_RETIRED=%s", key_a);
    key_id_of(key_a, id_a);
    key_id_of(key_b, id_b);
    assert_int_equal(rt_sync_env_start(&env, EMPLOYEES, SEED, start_env), 0);
    sql = PQconnectdb(env.conninfo);
    assert_int_equal(PQstatus(sql), CONNECTION_OK);

    /* under key A: two sandbox accounts that sync, and accounts with long random secrets */
    rt_sync_link(&env, &rt_sync_bamboohr, &bamboo, NULL);
    rt_sync_link(&env, &rt_sync_personio, &personio, NULL); /* caches a sealed token */
    for (int i = 0; i < NSECRETS; i++) {
        char body[512];
        json_t *created;

        random_secret(secrets[i]);
        snprintf(body, sizeof(body),
                 "{\"integration\":\"bamboohr\",\"end_user_origin_id\":\"secret-%d\","
                 "\"end_user_organization_name\":\"Secret %d\",\"end_user_email_address\":"
                 "\"hr@secret.example\",\"credentials\":{\"subdomain\":\"secret\",\"api_key\":"
                 "\"%s\"}}",
                 i, i, secrets[i]);
        created = rt_sync_call(&env, NULL, "POST", body, 201, ADMIN_LA);
        snprintf(secret_accts[i].id, sizeof(secret_accts[i].id), "%s", rt_sync_str(created, "id"));
        json_decref(created);
    }
    assert_int_equal(not_under(sql, id_a), 0);
    first_page_next(&bamboo, cursor, sizeof(cursor));

    /* 1. restart with B sealing and A retired: everything still opens, old cursors page */
    restart_rosterd(env_key[1], env_retired);
    assert_int_equal(page_status(&bamboo, cursor), 200);
    json_decref(rt_sync_expect(&env, &bamboo, "FULL", "DONE"));

    /* 2. rotate-key while both sandbox accounts sync */
    json_decref(rt_sync_call(&env, NULL, "POST", "{\"kind\":\"FULL\"}", 202, ADMIN_LA "/%s/syncs",
                             bamboo.id));
    json_decref(rt_sync_call(&env, NULL, "POST", "{\"kind\":\"FULL\"}", 202, ADMIN_LA "/%s/syncs",
                             personio.id));
    out = rotate_key(env_key[1], env_retired, &status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_line(out, "linked_accounts.credentials:", "4 under key");
    expect_line(out, "linked_accounts.credentials:", "0 failed, 0 under another key");
    expect_line(out, "linked_accounts.access_token:", "0 failed, 0 under another key");
    expect_line(out, "oauth_clients.client_secret:", "0 re-sealed");
    free(out);
    assert_int_equal(not_under(sql, id_b), 0);
    sync = rt_sync_wait(&env, &bamboo, NULL);
    assert_string_equal(rt_sync_str(sync, "status"), "DONE");
    json_decref(sync);
    sync = rt_sync_wait(&env, &personio, NULL);
    assert_string_equal(rt_sync_str(sync, "status"), "DONE");
    json_decref(sync);
    /* idempotent: nothing left to do */
    out = rotate_key(env_key[1], env_retired, &status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_line(out, "linked_accounts.credentials:", "0 re-sealed");
    free(out);

    /* 3. drop A: the accounts keep syncing; a cursor of A's time is now refused */
    restart_rosterd(env_key[1], "ROSTER_MASTER_KEYS_RETIRED=");
    json_decref(rt_sync_expect(&env, &bamboo, "FULL", "DONE"));
    json_decref(rt_sync_expect(&env, &personio, "FULL", "DONE"));
    json_decref(rt_sync_expect(&env, &bamboo, "INCREMENTAL", "DONE"));
    assert_int_equal(page_status(&bamboo, cursor), 400);

    /* a key that opens nothing: every account named, nothing changed, exit status 1 */
    out = rotate_key(env_key[2], NULL, &status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    snprintf(needle, sizeof(needle), "linked account %s: sealed under key id %s", bamboo.id, id_b);
    assert_non_null(strstr(out, needle));
    for (int i = 0; i < NSECRETS; i++) {
        snprintf(needle, sizeof(needle), "linked account %s", secret_accts[i].id);
        assert_non_null(strstr(out, needle));
        assert_null(strstr(out, secrets[i]));
    }
    expect_line(out, "linked_accounts.credentials:", "0 re-sealed");
    expect_line(out, "linked_accounts.credentials:", "4 failed");
    free(out);
    assert_int_equal(not_under(sql, id_b), 0);

    /* no secret in a dump of the database (whose rows are there: the control) */
    assert_int_equal(rt_pg_dump(env.conninfo, &dump), RS_OK);
    assert_non_null(strstr(dump, secret_accts[0].id));
    assert_non_null(strstr(dump, "Secret 1"));
    for (int i = 0; i < NSECRETS; i++) {
        if (strstr(dump, secrets[i]))
            fail_msg("the dump holds account %s's API key in plaintext", secret_accts[i].id);
    }
    free(dump);
    PQfinish(sql);
    assert_int_equal(rt_sync_env_stop(&env), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_while_serving),
    };
    int failed;

    if (sodium_init() < 0)
        return 1;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (env.rosterd || env.sandbox)
        rt_sync_env_stop(&env);
    return failed;
}
