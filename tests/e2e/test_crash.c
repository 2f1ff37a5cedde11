/*
 * End to end: rosterd killed with SIGKILL in the middle of a large sync — while it fetches pages,
 * and while it applies them — then restarted on the same database. The dead worker's lease
 * expires, attempt 2 takes the sync over, and the account ends up exactly like an account synced
 * without interruption from the same sandbox company: no duplicates, nothing missing.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "rt_api.h"
#include "rt_http.h"
#include "rt_pg.h"
#include "rt_proc.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

#define EMPLOYEES          20000 /* 20 dataset pages: a sync takes seconds, not milliseconds */
#define PAGES_BEFORE_HOLD  8     /* dataset pages answered before the sandbox holds one */
#define LEASE_S            10    /* ROSTER_SYNC_LEASE_S: the smallest the configuration allows */
#define SYNC_DEADLINE_MS   180000
#define STEP_DEADLINE_MS   60000
#define RESYNC_DEADLINE_MS 60000 /* a no-change resync of EMPLOYEES takes seconds */
#define DATASET_PATH       "/api/v2/datasets/employee/data"

/* Every model table; rows are compared by remote id, ids by what they name. */
static const char *const tables[] = {"employees", "employments", "groups",
                                     "teams",     "locations",   "companies"};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

struct crash_env {
    char db_name[64];
    char conninfo[1024];
    PGconn *sql;
    char master_key[96]; /* ROSTER_MASTER_KEY=…, the same for every rosterd of the test */
    struct rt_proc *sandbox;
    struct rt_proc *rosterd;
    char *key;
    char base_url[128];
    char reference[64]; /* an account synced once, without interruption */
};

static struct crash_env env;
static bool teardown_failed;

/* ---- SQL ------------------------------------------------------------------------------------- */

/* Runs sql with up to two text parameters; the result must be rows or a command's success. */
static PGresult *sql_exec(const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = {p1, p2};
    PGresult *res = PQexecParams(env.sql, sql, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);

    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        char message[512];

        snprintf(message, sizeof(message), "%s", PQerrorMessage(env.sql));
        PQclear(res);
        fail_msg("SQL failed: %s: %s", sql, message);
    }
    return res;
}

/* Row 0, column 0 of a one-row query as a number. */
static long long sql_number(const char *sql, const char *p1, const char *p2)
{
    PGresult *res = sql_exec(sql, p1, p2);
    long long value;

    if (PQntuples(res) != 1) {
        PQclear(res);
        fail_msg("SQL returned no single row: %s", sql);
    }
    value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return value;
}

/* Row 0, column 0 of a query as text into out ("" when there is no row). */
static void sql_text(const char *sql, const char *p1, char *out, size_t len)
{
    PGresult *res = sql_exec(sql, p1, NULL);

    snprintf(out, len, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
}

/* Rows of account in table. */
static long long account_rows(const char *table, const char *account)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE linked_account_id = $1::uuid", table);
    return sql_number(sql, account, NULL);
}

/* Rows in every staging table, whichever sync they belong to. */
static long long staged_rows(void)
{
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof(sql), "SELECT 0");

    for (size_t i = 0; i < NTABLES; i++)
        used += (size_t)snprintf(sql + used, sizeof(sql) - used,
                                 " + (SELECT count(*) FROM sync_stage_%s)", tables[i]);
    return sql_number(sql, NULL, NULL);
}

/* No sync left rows in staging (a finished sync drops its own, a takeover its predecessor's). */
static void expect_nothing_staged(void)
{
    long long left = staged_rows();

    if (left != 0)
        fail_msg("%lld rows left in the staging tables", left);
}

/* ---- processes ------------------------------------------------------------------------------- */

/* rosterd with `workers` sync workers, a short lease and a fast poll; false if it did not start. */
static bool start_rosterd(const char *workers)
{
    char workers_env[48];
    const char *const extra[] = {
        env.master_key, workers_env, "ROSTER_SYNC_LEASE_S=" STR(LEASE_S), "ROSTER_SYNC_POLL_MS=100",
        /* a held page must not time out before the test kills */
        "ROSTER_UPSTREAM_TIMEOUT_MS=120000", "ROSTER_ACCESS_LOG=false", NULL};
    struct rt_rosterd_opts opts = {
        .database_url = env.conninfo, .allow_private_upstreams = true, .extra_env = extra};

    snprintf(workers_env, sizeof(workers_env), "ROSTER_SYNC_WORKERS=%s", workers);
    return rt_proc_start_rosterd(&opts, &env.rosterd) == RS_OK;
}

/* SIGKILL, then reaped: it must have died of that signal, not exited by itself before. */
static void kill_rosterd(void)
{
    int status = 0;

    assert_int_equal(rt_proc_signal(env.rosterd, SIGKILL), RS_OK);
    assert_int_equal(rt_proc_wait(env.rosterd, 10000, &status), RS_OK);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        rt_proc_dump_log(env.rosterd, 30);
        fail_msg("rosterd ended with status 0x%x, not by SIGKILL", status);
    }
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
}

/* A control API call to the sandbox that must answer want; the answer stays in r. */
static void sandbox_call(const char *method, const char *path, const char *body, long want,
                         struct rt_resp *r)
{
    char url[256];
    struct rt_req req = {.method = method, .url = url, .body = body};

    snprintf(url, sizeof(url), "%s%s", rt_proc_url(env.sandbox), path);
    if (rt_http_do(&req, r) != RS_OK)
        fail_msg("%s %s: no answer (%s)", method, url, r->errbuf);
    rt_api_expect_status(r, want, path);
}

/* ---- syncs ----------------------------------------------------------------------------------- */

/* A bamboohr account on the sandbox (its initial full sync is queued at once). */
static void link_account(const char *origin, char id[64])
{
    struct rt_resp r = {0};

    rt_api_create_account(env.rosterd, env.key, origin, "sandbox", env.base_url, &r);
    rt_api_expect_status(&r, 201, "link an account to the sandbox");
    snprintf(id, 64, "%s", rt_api_str(r.json, "id"));
    rt_resp_cleanup(&r);
}

#define SQL_LAST_SYNC                                                                              \
    "SELECT status || ' ' || COALESCE(reason, '') FROM syncs WHERE linked_account_id = $1::uuid "  \
    "ORDER BY queued_at DESC LIMIT 1"

static void wait_sync_done(const char *account, int deadline_ms)
{
    long long deadline = rt_now_ms() + deadline_ms;
    char state[512];

    for (;;) {
        sql_text(SQL_LAST_SYNC, account, state, sizeof(state));
        if (strncmp(state, "DONE", 4) == 0)
            return;
        if (strncmp(state, "QUEUED", 6) != 0 && strncmp(state, "SYNCING", 7) != 0) {
            rt_proc_dump_log(env.rosterd, 30);
            fail_msg("the sync of %s ended as %s", account, state);
        }
        if (rt_now_ms() > deadline) {
            rt_proc_dump_log(env.rosterd, 30);
            fail_msg("the sync of %s is still %s after %d ms", account, state, deadline_ms);
        }
        rt_poll_pause(100);
    }
}

/* sql (a count, with up to two parameters) must give want; what says what it counts. */
static void expect_count(const char *what, long long want, const char *sql, const char *p1,
                         const char *p2)
{
    long long got = sql_number(sql, p1, p2);

    if (got != want)
        fail_msg("%s: %lld, want %lld", what, got, want);
}

/* The account's only sync is DONE, FULL, took `attempts` attempts and deleted nothing. */
static void expect_one_done_sync(const char *account, int attempts)
{
    char want[16];

    snprintf(want, sizeof(want), "%d", attempts);
    expect_count("syncs of the account", 1,
                 "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid", account, NULL);
    expect_count("DONE full syncs with that many attempts", 1,
                 "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid "
                 "AND status = 'DONE' AND kind = 'FULL' AND attempts = $2::int",
                 account, want);
    expect_count("employees the sync inserted", EMPLOYEES,
                 "SELECT (stats->'Employee'->>'inserted')::int8 FROM syncs "
                 "WHERE linked_account_id = $1::uuid",
                 account, NULL);
    expect_count("rows the sync marked deleted", 0,
                 "SELECT COALESCE(sum((v->>'deleted')::int8), 0) FROM syncs s, "
                 "jsonb_each(s.stats) e(k, v) WHERE s.linked_account_id = $1::uuid "
                 "AND jsonb_typeof(v) = 'object'",
                 account, NULL);
}

/* ---- comparison with the reference ----------------------------------------------------------- */

/* id → "<table>:<remote_id>" for every row of account (a JSON object used as a map). */
static json_t *id_map(const char *account)
{
    json_t *map = json_object();
    char sql[256];

    assert_non_null(map);
    for (size_t t = 0; t < NTABLES; t++) {
        snprintf(sql, sizeof(sql),
                 "SELECT id::text, remote_id FROM %s WHERE linked_account_id = $1::uuid",
                 tables[t]);
        PGresult *res = sql_exec(sql, account, NULL);

        for (int i = 0; i < PQntuples(res); i++)
            json_object_set_new(map, PQgetvalue(res, i, 0),
                                json_sprintf("%s:%s", tables[t], PQgetvalue(res, i, 1)));
        PQclear(res);
    }
    return map;
}

/* Replaces, in place, every string of value that is an id in map by what the id names. */
static void replace_ids(json_t *value, const json_t *map)
{
    const char *key;
    json_t *item, *named;
    size_t i;

    if (json_is_object(value)) {
        json_object_foreach(value, key, item)
        {
            named = json_is_string(item) ? json_object_get(map, json_string_value(item)) : NULL;
            if (named)
                json_object_set(value, key, named); /* replaces; the key stays */
            else
                replace_ids(item, map);
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item)
        {
            named = json_is_string(item) ? json_object_get(map, json_string_value(item)) : NULL;
            if (named)
                json_array_set(value, i, named);
            else
                replace_ids(item, map);
        }
    }
}

/* True when two normalized rows say the same once their ids are replaced by remote ids. */
static bool same_normalized(const char *mine, const json_t *my_map, const char *theirs,
                            const json_t *their_map)
{
    json_t *a = json_loads(mine, 0, NULL), *b = json_loads(theirs, 0, NULL);
    bool same = a && b;

    if (same) {
        replace_ids(a, my_map);
        replace_ids(b, their_map);
        same = json_equal(a, b);
    }
    json_decref(a);
    json_decref(b);
    return same;
}

/*
 * Pairs the rows of account and of the reference in table by remote id. Returns how many
 * remote ids are missing on one side or differ (normalized JSON with ids as remote ids,
 * remote_data, remote_was_deleted); prints the first few.
 */
#define SQL_PAIRS                                                                                  \
    "SELECT COALESCE(a.remote_id, b.remote_id), a.normalized, b.normalized, "                      \
    "a.remote_data IS NOT DISTINCT FROM b.remote_data, a.remote_was_deleted, "                     \
    "b.remote_was_deleted FROM (SELECT * FROM %s WHERE linked_account_id = $1::uuid) a "           \
    "FULL JOIN (SELECT * FROM %s WHERE linked_account_id = $2::uuid) b "                           \
    "ON a.remote_id = b.remote_id"

static long differing_rows(const char *table, const char *account, const json_t *my_map,
                           const json_t *their_map)
{
    char sql[512];
    PGresult *res;
    long differing = 0;

    snprintf(sql, sizeof(sql), SQL_PAIRS, table, table);
    res = sql_exec(sql, account, env.reference);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *why = NULL;

        if (PQgetisnull(res, i, 1))
            why = "missing";
        else if (PQgetisnull(res, i, 2))
            why = "not in the reference";
        else if (!same_normalized(PQgetvalue(res, i, 1), my_map, PQgetvalue(res, i, 2), their_map))
            why = "normalized differs";
        else if (strcmp(PQgetvalue(res, i, 3), "t") != 0)
            why = "remote_data differs";
        else if (strcmp(PQgetvalue(res, i, 4), "f") != 0 || strcmp(PQgetvalue(res, i, 5), "f"))
            why = "marked remote_was_deleted";
        if (why && ++differing <= 5)
            fprintf(stderr, "%s remote_id %s: %s\n", table, PQgetvalue(res, i, 0), why);
    }
    PQclear(res);
    return differing;
}

/*
 * The account holds exactly what the reference holds: the same rows per table by remote id,
 * each once, with the same content; every sandbox employee is there; nothing is left staged.
 */
static void expect_same_as_reference(const char *account)
{
    json_t *mine = id_map(account), *theirs = id_map(env.reference);
    char want[16], sql[256];
    long differing = 0;

    for (size_t t = 0; t < NTABLES; t++) {
        long long rows = account_rows(tables[t], account);

        snprintf(sql, sizeof(sql),
                 "SELECT count(DISTINCT remote_id) FROM %s WHERE linked_account_id = $1::uuid",
                 tables[t]);
        expect_count("distinct remote ids (no duplicates)", rows, sql, account, NULL);
        if (rows != account_rows(tables[t], env.reference))
            fail_msg("%s: %lld rows, the reference has %lld", tables[t], rows,
                     account_rows(tables[t], env.reference));
        differing += differing_rows(tables[t], account, mine, theirs);
    }
    if (differing > 0)
        fail_msg("%ld rows differ from the uninterrupted sync's", differing);
    if (json_object_size(mine) != json_object_size(theirs))
        fail_msg("%zu ids, the reference has %zu", json_object_size(mine),
                 json_object_size(theirs));
    /* nothing missing: BambooHR ids 1 … EMPLOYEES, each an employee and an employment */
    snprintf(want, sizeof(want), "%d", EMPLOYEES);
    expect_count("employees", EMPLOYEES,
                 "SELECT count(*) FROM employees WHERE linked_account_id = $1::uuid", account,
                 NULL);
    expect_count("employments", EMPLOYEES,
                 "SELECT count(*) FROM employments WHERE linked_account_id = $1::uuid", account,
                 NULL);
    expect_count("employees with a BambooHR id of the sandbox company", EMPLOYEES,
                 "SELECT count(DISTINCT remote_id) FROM employees WHERE linked_account_id = "
                 "$1::uuid AND (CASE WHEN remote_id ~ '^[0-9]{1,9}$' THEN remote_id::int "
                 "ELSE 0 END) BETWEEN 1 AND $2::int",
                 account, want);
    expect_count("companies", 1,
                 "SELECT count(*) FROM companies WHERE linked_account_id = $1::uuid", account,
                 NULL);
    expect_nothing_staged();
    json_decref(mine);
    json_decref(theirs);
}

/* Nothing of the account's sync is applied: every table is empty for it. */
static void expect_nothing_applied(const char *account)
{
    for (size_t t = 0; t < NTABLES; t++) {
        if (account_rows(tables[t], account) != 0)
            fail_msg("%s has %lld rows of the killed sync", tables[t],
                     account_rows(tables[t], account));
    }
}

/* The sync of account, after the kill: still SYNCING in its first attempt; its lease's end. */
static void expect_orphaned_sync(const char *account, char *lease_end, size_t len)
{
    expect_count("SYNCING syncs of the account in attempt 1", 1,
                 "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid "
                 "AND status = 'SYNCING' AND attempts = 1",
                 account, NULL);
    sql_text("SELECT lease_expires_at FROM syncs WHERE linked_account_id = $1::uuid", account,
             lease_end, len);
}

/* After the restart: attempt 2 took the sync over, and not before the dead worker's lease ended. */
static void expect_takeover(const char *account, const char *lease_end)
{
    if (!rt_proc_log_contains(env.rosterd, "attempt=2"))
        fail_msg("the restarted rosterd logged no attempt=2");
    expect_count("syncs taken over after the dead worker's lease ended", 1,
                 "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid "
                 "AND started_at >= $2::timestamptz",
                 account, lease_end);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int group_teardown(void **state)
{
    (void)state;
    if (env.rosterd) {
        rt_proc_stop(env.rosterd, 15000);
        teardown_failed = teardown_failed || !rt_proc_exited_cleanly(env.rosterd);
    }
    if (env.sandbox) {
        rt_proc_stop(env.sandbox, 15000);
        teardown_failed = teardown_failed || !rt_proc_exited_cleanly(env.sandbox);
    }
    rt_proc_free(env.rosterd);
    rt_proc_free(env.sandbox);
    PQfinish(env.sql);
    rt_pg_drop_db(env.db_name);
    free(env.key);
    sodium_memzero(env.master_key, sizeof(env.master_key));
    memset(&env, 0, sizeof(env)); /* idempotent: setup calls it when it fails */
    return teardown_failed ? -1 : 0;
}

/* A master key for the whole test: a restarted rosterd must open the sealed credentials. */
static bool make_master_key(void)
{
    const char prefix[] = "ROSTER_MASTER_KEY=";
    unsigned char key[32];

    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        return false;
    memcpy(env.master_key, prefix, sizeof(prefix) - 1);
    sodium_bin2base64(env.master_key + sizeof(prefix) - 1,
                      sizeof(env.master_key) - (sizeof(prefix) - 1), key, sizeof(key),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    return true;
}

static int group_setup(void **state)
{
    static const char *const sandbox_args[] = {"--employees", STR(EMPLOYEES), NULL};
    long long start = rt_now_ms();

    if (rt_pg_migrated_db(env.db_name, sizeof(env.db_name), env.conninfo, sizeof(env.conninfo)) !=
        RS_OK)
        return -1;
    env.sql = PQconnectdb(env.conninfo);
    if (PQstatus(env.sql) != CONNECTION_OK || !make_master_key() ||
        rt_proc_start_sandbox(sandbox_args, &env.sandbox) != RS_OK || !start_rosterd("1") ||
        !(env.key = rt_api_create_org(env.conninfo, "Crash"))) {
        group_teardown(state);
        return -1;
    }
    snprintf(env.base_url, sizeof(env.base_url), "%s/bamboohr", rt_proc_url(env.sandbox));
    /* the reference: the same company, synced without interruption */
    link_account("reference", env.reference);
    wait_sync_done(env.reference, SYNC_DEADLINE_MS);
    expect_one_done_sync(env.reference, 1);
    expect_nothing_staged();
    fprintf(stderr, "crash: reference sync of %d employees done in %lld ms\n", EMPLOYEES,
            rt_now_ms() - start);
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

/* Until the sandbox holds a dataset page (the fault fired) and the sync has staged rows. */
static void wait_for_held_page(void)
{
    long long deadline = rt_now_ms() + STEP_DEADLINE_MS;

    for (;;) {
        struct rt_resp r = {0};
        json_int_t fired;

        sandbox_call("GET", "/_control/faults", NULL, 200, &r);
        fired = json_integer_value(
            json_object_get(json_array_get(json_object_get(r.json, "faults"), 0), "fired"));
        rt_resp_cleanup(&r);
        if (fired == 1 && staged_rows() > 0)
            return;
        if (rt_now_ms() > deadline) {
            rt_proc_dump_log(env.rosterd, 30);
            fail_msg("no dataset page held with rows staged after %d ms", STEP_DEADLINE_MS);
        }
        rt_poll_pause(20);
    }
}

/*
 * Killed while fetching: the sandbox holds a dataset page past the first staged batch, so the
 * kill lands mid-sync, with rows staged and more pages to come.
 */
static void test_kill_while_fetching(void **state)
{
    static const char fault[] = "{\"provider\":\"bamboohr\",\"path_contains\":\"" DATASET_PATH
                                "\",\"kind\":\"slow\",\"delay_ms\":60000,"
                                "\"after\":" STR(PAGES_BEFORE_HOLD) ",\"count\":1}";
    char account[64], lease_end[64];
    struct rt_resp r = {0};
    long long start = rt_now_ms(), killed, staged;

    (void)state;
    sandbox_call("POST", "/_control/faults", fault, 201, &r);
    rt_resp_cleanup(&r);
    link_account("killed-while-fetching", account);
    wait_for_held_page();
    kill_rosterd();
    killed = rt_now_ms();
    sandbox_call("DELETE", "/_control/faults", NULL, 200, &r);
    rt_resp_cleanup(&r);

    /* dead: nothing applied, part of the rows staged by attempt 1, the sync still SYNCING */
    expect_nothing_applied(account);
    staged = staged_rows();
    if (staged <= 0 || staged >= 2 * EMPLOYEES)
        fail_msg("%lld rows staged at the kill: not part-way through the sync", staged);
    expect_orphaned_sync(account, lease_end, sizeof(lease_end));

    assert_true(start_rosterd("1"));
    wait_sync_done(account, SYNC_DEADLINE_MS);
    expect_takeover(account, lease_end);
    expect_one_done_sync(account, 2);
    expect_same_as_reference(account);
    fprintf(stderr,
            "crash: killed while fetching after %lld ms; taken over and done %lld ms later\n",
            killed - start, rt_now_ms() - killed);
}

#define SQL_BLOCKED_APPLY                                                                          \
    "SELECT COALESCE(max(pid), 0) FROM pg_stat_activity WHERE datname = current_database() "       \
    "AND application_name = 'rosterd' AND wait_event_type = 'Lock' "                               \
    "AND $1::int = ANY (pg_blocking_pids(pid)) AND query LIKE 'WITH up AS (INSERT INTO "           \
    "companies%'"

/* The pid of rosterd's backend once its apply waits for the locker's lock on companies. */
static long long wait_for_blocked_apply(PGconn *locker)
{
    long long deadline = rt_now_ms() + SYNC_DEADLINE_MS, pid = 0;
    char locker_pid[16];

    snprintf(locker_pid, sizeof(locker_pid), "%d", PQbackendPID(locker));
    while ((pid = sql_number(SQL_BLOCKED_APPLY, locker_pid, NULL)) == 0) {
        if (rt_now_ms() > deadline) {
            rt_proc_dump_log(env.rosterd, 30);
            fail_msg("rosterd's apply did not block on companies within %d ms", SYNC_DEADLINE_MS);
        }
        rt_poll_pause(20);
    }
    return pid;
}

static void locker_command(PGconn *locker, const char *sql)
{
    PGresult *res = PQexec(locker, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(locker));
    PQclear(res);
}

/*
 * Killed while applying: the test holds a SHARE lock on companies, the last table the apply
 * writes, so rosterd is killed inside the apply transaction after it has upserted employees,
 * employments, groups and locations. PostgreSQL rolls that transaction back once its orphaned
 * backend finds the client gone; the takeover then applies everything.
 */
static void test_kill_while_applying(void **state)
{
    PGconn *locker = PQconnectdb(env.conninfo);
    char account[64], lease_end[64], backend[24];
    long long start = rt_now_ms(), killed, deadline, staged;

    (void)state;
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    locker_command(locker, "BEGIN");
    locker_command(locker, "LOCK TABLE companies IN SHARE MODE");
    link_account("killed-while-applying", account);
    snprintf(backend, sizeof(backend), "%lld", wait_for_blocked_apply(locker));
    /* the apply has written the other tables, in its open transaction only */
    expect_count("tables the blocked apply has written", 4,
                 "SELECT count(*) FROM pg_locks WHERE pid = $1::int AND granted AND mode = "
                 "'RowExclusiveLock' AND relation IN ('employees'::regclass, "
                 "'employments'::regclass, 'groups'::regclass, 'locations'::regclass)",
                 backend, NULL);
    expect_nothing_applied(account);
    kill_rosterd();
    killed = rt_now_ms();
    locker_command(locker, "ROLLBACK");
    PQfinish(locker);

    /* the orphaned backend finishes its statement, cannot answer, and rolls back */
    deadline = rt_now_ms() + STEP_DEADLINE_MS;
    while (sql_number("SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", backend, NULL) !=
           0) {
        if (rt_now_ms() > deadline)
            fail_msg("the killed rosterd's backend %s still runs after %d ms", backend,
                     STEP_DEADLINE_MS);
        rt_poll_pause(20);
    }
    expect_nothing_applied(account);
    staged = staged_rows();
    if (staged < 2 * EMPLOYEES) /* everything is staged before the apply begins */
        fail_msg("%lld rows staged at the kill, want at least %d", staged, 2 * EMPLOYEES);
    expect_orphaned_sync(account, lease_end, sizeof(lease_end));

    assert_true(start_rosterd("1"));
    wait_sync_done(account, SYNC_DEADLINE_MS);
    expect_takeover(account, lease_end);
    expect_one_done_sync(account, 2);
    expect_same_as_reference(account);
    fprintf(stderr,
            "crash: killed while applying after %lld ms; taken over and done %lld ms later\n",
            killed - start, rt_now_ms() - killed);
}

/*
 * Not a crash: a live worker whose apply outlasts its lease (the test holds the lock on
 * companies past the lease's end) keeps its sync. The idle second worker must not take it over
 * as if its worker had died — that attempt would fetch everything again, and the first one's
 * finished apply would be thrown away when it found its lease gone.
 */
static void test_slow_apply_not_taken_over(void **state)
{
    PGconn *locker = PQconnectdb(env.conninfo);
    char account[64];
    long long deadline;

    (void)state;
    rt_proc_stop(env.rosterd, 15000);
    assert_true(rt_proc_exited_cleanly(env.rosterd));
    rt_proc_free(env.rosterd);
    env.rosterd = NULL;
    assert_true(start_rosterd("2"));
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    locker_command(locker, "BEGIN");
    locker_command(locker, "LOCK TABLE companies IN SHARE MODE");
    link_account("slow-apply", account);
    wait_for_blocked_apply(locker);

    /* past the lease's end, long enough for the idle worker to poll for expired leases often */
    deadline = rt_now_ms() + STEP_DEADLINE_MS;
    while (sql_number("SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid AND "
                      "lease_expires_at < now() - interval '1 second'",
                      account, NULL) == 0) {
        if (sql_number("SELECT max(attempts) FROM syncs WHERE linked_account_id = $1::uuid",
                       account, NULL) > 1)
            fail_msg("the sync was taken over while its worker was applying it");
        if (rt_now_ms() > deadline)
            fail_msg("the lease did not run out within %d ms", STEP_DEADLINE_MS);
        rt_poll_pause(50);
    }
    locker_command(locker, "ROLLBACK");
    PQfinish(locker);
    wait_sync_done(account, SYNC_DEADLINE_MS);
    expect_one_done_sync(account, 1);
    if (rt_proc_log_contains(env.rosterd, "attempt=2"))
        fail_msg("a second attempt started");
    expect_same_as_reference(account);
}

/* Runs sql with the simple protocol (VACUUM refuses to run any other way). */
static void sql_simple(const char *sql)
{
    PGresult *res = PQexec(env.sql, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(env.sql));
    PQclear(res);
}

/*
 * Leaves table as a vacuum between syncs leaves a staging table: pages the last sync filled, next
 * to no live rows, statistics saying so (here: the reference's rows staged under a sync id no
 * sync has, all but the last deleted, VACUUM ANALYZE, the last deleted too). Autovacuum, off for
 * the table from now on, cannot correct them by chance.
 */
static void stale_statistics(const char *table, const char *columns)
{
    static const char other_sync[] = "00000000-0000-5000-8000-00000000dead";
    char sql[1024];

    snprintf(sql, sizeof(sql), "ALTER TABLE sync_stage_%s SET (autovacuum_enabled = off)", table);
    sql_simple(sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO sync_stage_%s (sync_id, in_scope, %s) SELECT $2::uuid, true, %s "
             "FROM %s WHERE linked_account_id = $1::uuid",
             table, columns, columns, table);
    PQclear(sql_exec(sql, env.reference, other_sync));
    snprintf(sql, sizeof(sql),
             "DELETE FROM sync_stage_%s WHERE ctid <> (SELECT max(ctid) FROM sync_stage_%s)", table,
             table);
    PQclear(sql_exec(sql, NULL, NULL));
    snprintf(sql, sizeof(sql), "VACUUM ANALYZE sync_stage_%s", table);
    sql_simple(sql);
    snprintf(sql, sizeof(sql), "DELETE FROM sync_stage_%s", table);
    sql_simple(sql);
}

/*
 * Not a crash either: the staging tables are empty between syncs, and that is what their
 * statistics say once autovacuum has looked — while a sync fills them with thousands of rows.
 * Planned with those statistics, the guard's and the apply's joins over staged rows expect one
 * row and run as nested loops that scan every staged row for every staged row: minutes at this
 * size, a sync that never ends at 100,000. A no-change resync must still take seconds and write
 * nothing.
 */
static void test_stale_staging_statistics(void **state)
{
    struct rt_resp r = {0};
    char url[RT_API_URL_MAX];
    long long start = rt_now_ms();

    (void)state;
    stale_statistics("employees", "linked_account_id, id, remote_id, normalized, content_hash, "
                                  "employment_status");
    stale_statistics("employments", "linked_account_id, id, remote_id, normalized, content_hash, "
                                    "employee_id");
    rt_api_send(
        "POST",
        rt_api_url(url, env.rosterd, "/api/admin/v1/linked-accounts/%s/syncs", env.reference),
        env.key, "{\"kind\":\"FULL\"}", &r);
    rt_api_expect_status(&r, 202, "queue a full resync of the reference");
    rt_resp_cleanup(&r);
    wait_sync_done(env.reference, RESYNC_DEADLINE_MS);
    expect_count("rows the no-change resync wrote", 0,
                 "SELECT COALESCE(sum((v->>'inserted')::int8 + (v->>'updated')::int8 + "
                 "(v->>'deleted')::int8), 0) FROM syncs s, jsonb_each(s.stats) e(k, v) "
                 "WHERE s.linked_account_id = $1::uuid AND s.trigger = 'MANUAL' "
                 "AND jsonb_typeof(v) = 'object'",
                 env.reference, NULL);
    expect_nothing_staged();
    fprintf(stderr, "crash: no-change resync with stale staging statistics done in %lld ms\n",
            rt_now_ms() - start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_while_fetching),
        cmocka_unit_test(test_kill_while_applying),
        cmocka_unit_test(test_slow_apply_not_taken_over),
        cmocka_unit_test(test_stale_staging_statistics),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

    return failed || teardown_failed ? 1 : 0;
}
