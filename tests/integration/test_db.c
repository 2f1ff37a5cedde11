/*
 * Integration tests for core/rs_db.c against the PostgreSQL fixture: results, the prepared
 * statement cache, error mapping and logging, reconnection and its rate limit.
 */
#include "roster/rs_db.h"

#include <arpa/inet.h>
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "rt_pg.h"

struct db_test {
    char name[64];
    char conninfo[1024];
};

static struct db_test test_db;

static int group_setup(void **state)
{
    (void)state;
    rs_log_set_level(RS_LOG_INFO);
    return rt_pg_create_db(test_db.name, sizeof(test_db.name), test_db.conninfo,
                           sizeof(test_db.conninfo)) == RS_OK
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    rt_pg_drop_db(test_db.name);
    return 0;
}

static struct rs_db *open_db(void)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;

    if (rs_db_open(test_db.conninfo, 5, false, &db, &eb) != RS_OK)
        fail_msg("rs_db_open: %s", eb.msg);
    return db;
}

/* Runs sql with up to 3 text parameters and returns row 0, column 0 (static storage). */
static const char *scalar(struct rs_db *db, const char *sql, int n, const char *p1, const char *p2,
                          bool cache)
{
    static char value[256];
    const char *params[] = {p1, p2};
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res = rs_db_exec(db, sql, n, params, false, cache, &err);

    if (!res)
        fail_msg("%s: %s", sql, rs_err_name(err));
    assert_int_equal(err, RS_OK);
    assert_true(PQntuples(res) >= 1);
    snprintf(value, sizeof(value), "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends stderr (where rs_log writes) to a temporary file until capture_end. */
struct capture {
    FILE *file;
    int saved_fd;
    char text[16384];
};

static void capture_begin(struct capture *cap)
{
    fflush(stderr);
    cap->file = tmpfile();
    assert_non_null(cap->file);
    cap->saved_fd = dup(STDERR_FILENO);
    assert_true(cap->saved_fd >= 0);
    assert_true(dup2(fileno(cap->file), STDERR_FILENO) >= 0);
}

static const char *capture_end(struct capture *cap)
{
    size_t n;

    fflush(stderr);
    assert_true(dup2(cap->saved_fd, STDERR_FILENO) >= 0);
    close(cap->saved_fd);
    rewind(cap->file);
    n = fread(cap->text, 1, sizeof(cap->text) - 1, cap->file);
    cap->text[n] = '\0';
    fclose(cap->file);
    return cap->text;
}

static unsigned count_substr(const char *haystack, const char *needle)
{
    unsigned count = 0;

    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        count++;
    return count;
}

static void test_text_and_binary_results(void **state)
{
    const char *params[] = {"305419896", "-2", "h\xc3\xa9llo", NULL};
    struct rs_db *db = open_db();
    enum rs_err err = RS_ERR_INTERNAL;
    uint32_t be32;
    uint64_t be64;
    PGresult *res;

    (void)state;
    assert_true(rs_db_is_up(db));
    assert_non_null(rs_db_conn(db));
    assert_string_equal(scalar(db, "SELECT $1::int + 1", 1, "41", NULL, false), "42");
    assert_string_equal(scalar(db, "SELECT $1::text IS NULL", 1, NULL, NULL, false), "t");

    res = rs_db_exec(db, "SELECT $1::int4, $2::int8, $3::text, $4::text", 4, params, true, false,
                     &err);
    assert_non_null(res);
    assert_int_equal(err, RS_OK);
    assert_int_equal(PQfformat(res, 0), 1);
    assert_int_equal(PQgetlength(res, 0, 0), 4);
    memcpy(&be32, PQgetvalue(res, 0, 0), 4);
    assert_int_equal(ntohl(be32), 305419896);
    assert_int_equal(PQgetlength(res, 0, 1), 8);
    memcpy(&be64, PQgetvalue(res, 0, 1), 8);
    assert_int_equal((int64_t)be64toh(be64), -2);
    assert_int_equal(PQgetlength(res, 0, 2), 6);
    assert_memory_equal(PQgetvalue(res, 0, 2), "h\xc3\xa9llo", 6);
    assert_true(PQgetisnull(res, 0, 3));
    PQclear(res);

    res = rs_db_query(db, "SELECT g FROM generate_series(1, 3) g", 0, NULL, &err);
    assert_non_null(res);
    assert_int_equal(PQntuples(res), 3);
    assert_string_equal(PQgetvalue(res, 2, 0), "3");
    assert_int_equal(PQfformat(res, 0), 0);
    PQclear(res);
    rs_db_free(db);
}

static void test_session_settings(void **state)
{
    struct rs_db *db = open_db();

    (void)state;
    assert_string_equal(scalar(db, "SHOW timezone", 0, NULL, NULL, false), "UTC");
    assert_string_equal(
        scalar(db, "SELECT current_setting('application_name')", 0, NULL, NULL, false), "rosterd");
    assert_string_equal(
        scalar(db, "SELECT '2021-09-15 12:00:00+02'::timestamptz::text", 0, NULL, NULL, false),
        "2021-09-15 10:00:00+00");
    assert_int_equal(rs_db_command(db, "BEGIN"), RS_OK);
    assert_int_equal(rs_db_command(db, "CREATE TABLE session_t (x int)"), RS_OK);
    assert_int_equal(rs_db_command(db, "ROLLBACK"), RS_OK);
    assert_string_equal(scalar(db, "SELECT to_regclass('session_t') IS NULL", 0, NULL, NULL, false),
                        "t");
    assert_int_equal(rs_db_ping(db), RS_OK);
    rs_db_free(db);
}

/* A URI works as well as key=value, and the URI's own options are kept beside ours. */
static void test_uri_conninfo(void **state)
{
    const char *pgdir = getenv("ROSTER_TEST_PGDIR");
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;
    char uri[1024];

    (void)state;
    if (!pgdir)
        skip();
    snprintf(uri, sizeof(uri),
             "postgresql:///%s?host=%s/sock&port=5432&user=postgres&options=-c%%20search_path%%3Dx",
             test_db.name, pgdir);
    assert_int_equal(rs_db_open(uri, 5, false, &db, &eb), RS_OK);
    assert_string_equal(scalar(db, "SELECT current_database()", 0, NULL, NULL, false),
                        test_db.name);
    assert_string_equal(scalar(db, "SHOW search_path", 0, NULL, NULL, false), "x");
    assert_string_equal(scalar(db, "SHOW timezone", 0, NULL, NULL, false), "UTC");
    rs_db_free(db);
}

static long scalar_long(struct rs_db *db, const char *sql)
{
    return strtol(scalar(db, sql, 0, NULL, NULL, false), NULL, 10);
}

#define SQL_OUR_PREPARED "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'rs\\_s%'"

static void test_statement_cache(void **state)
{
    struct rs_db *db = open_db();
    char sql[64];
    char arg[16];
    char want[32];

    (void)state;
    /* the same text twice: prepared once, executed twice with its own parameters */
    assert_string_equal(scalar(db, "SELECT $1::int * 2", 1, "21", NULL, true), "42");
    assert_string_equal(scalar(db, "SELECT $1::int * 2", 1, "50", NULL, true), "100");
    assert_int_equal(scalar_long(db, SQL_OUR_PREPARED), 1);
    assert_int_equal(scalar_long(db, "SELECT count(*) FROM pg_prepared_statements "
                                     "WHERE statement = 'SELECT $1::int * 2'"),
                     1);

    /* far more statements than the cache holds: every answer stays right */
    for (int i = 0; i < 150; i++) {
        snprintf(sql, sizeof(sql), "SELECT $1::int + %d", i);
        snprintf(arg, sizeof(arg), "%d", i * 7);
        snprintf(want, sizeof(want), "%d", i * 8);
        assert_string_equal(scalar(db, sql, 1, arg, NULL, true), want);
    }
    /* evicted statements were deallocated on the server */
    assert_true(scalar_long(db, SQL_OUR_PREPARED) <= 64);
    assert_true(scalar_long(db, SQL_OUR_PREPARED) >= 32);
    /* evicted ones (the oldest) and cached ones (the newest) both still work */
    for (int i = 0; i < 150; i += 7) {
        snprintf(sql, sizeof(sql), "SELECT $1::int + %d", i);
        snprintf(want, sizeof(want), "%d", i + 1);
        assert_string_equal(scalar(db, sql, 1, "1", NULL, true), want);
    }
    assert_true(scalar_long(db, SQL_OUR_PREPARED) <= 64);
    /* a statement the server refuses is not cached, and the connection stays usable */
    assert_null(rs_db_exec(db, "SELEC 1", 0, NULL, false, true, NULL));
    assert_string_equal(scalar(db, "SELECT $1::int * 2", 1, "4", NULL, true), "8");
    rs_db_free(db);
}

static void test_errors_are_mapped(void **state)
{
    const char *one[] = {"1"};
    struct rs_db *db = open_db();
    enum rs_err err = RS_OK;
    uint64_t before;

    (void)state;
    assert_int_equal(rs_db_command(db, "CREATE TABLE conflict_t (id int PRIMARY KEY)"), RS_OK);
    PQclear(rs_db_exec(db, "INSERT INTO conflict_t VALUES ($1)", 1, one, false, true, &err));
    assert_int_equal(err, RS_OK);
    before = rs_db_error_count();
    /* cached and uncached paths map the unique violation the same way */
    assert_null(rs_db_exec(db, "INSERT INTO conflict_t VALUES ($1)", 1, one, false, true, &err));
    assert_int_equal(err, RS_ERR_CONFLICT);
    assert_null(rs_db_exec(db, "INSERT INTO conflict_t VALUES ($1)", 1, one, false, false, &err));
    assert_int_equal(err, RS_ERR_CONFLICT);
    assert_null(rs_db_exec(db, "SELECT * FROM no_such_table", 0, NULL, false, false, &err));
    assert_int_equal(err, RS_ERR_DB);
    assert_int_equal(rs_db_command(db, "SELEC 1"), RS_ERR_DB);
    /* unique violations are answers (409), not database failures: only the last two count */
    assert_int_equal(rs_db_error_count(), before + 2);
    /* none of that is a lost connection */
    assert_true(rs_db_is_up(db));
    assert_int_equal(rs_db_ping(db), RS_OK);
    rs_db_free(db);
}

/* Failures are logged with their SQLSTATE but never with a parameter's value. */
static void test_log_hides_parameters(void **state)
{
    const char *bad_int[] = {"s3cret-token-1"};
    const char *dup_key[] = {"s3cret-token-2"};
    struct rs_db *db = open_db();
    struct capture cap;
    enum rs_err err = RS_OK;
    const char *log;

    (void)state;
    assert_int_equal(rs_db_command(db, "CREATE TABLE secret_t (k text PRIMARY KEY)"), RS_OK);
    PQclear(rs_db_exec(db, "INSERT INTO secret_t VALUES ($1)", 1, dup_key, false, true, &err));
    assert_int_equal(err, RS_OK);
    rs_log_set_level(RS_LOG_DEBUG); /* unique violations are logged at debug level */
    capture_begin(&cap);
    assert_null(rs_db_exec(db, "SELECT $1::int", 1, bad_int, false, true, &err));
    assert_null(rs_db_exec(db, "INSERT INTO secret_t VALUES ($1)", 1, dup_key, false, true, &err));
    log = capture_end(&cap);
    rs_log_set_level(RS_LOG_INFO);
    assert_int_equal(err, RS_ERR_CONFLICT);
    if (!strstr(log, "sqlstate=22P02") || !strstr(log, "sqlstate=23505"))
        fail_msg("failures not logged with their SQLSTATE:\n%s", log);
    if (strstr(log, "s3cret"))
        fail_msg("a parameter reached the log:\n%s", log);
    assert_non_null(strstr(log, "invalid input syntax for type integer"));
    rs_db_free(db);
}

/* A handle's own session options hold in every session, a reconnected one too. */
static void test_session_options(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL, *killer = open_db();
    char pid[32];
    int64_t deadline;

    (void)state;
    assert_int_equal(rs_db_open_with(test_db.conninfo, 5, false, "-c enable_seqscan=off", &db, &eb),
                     RS_OK);
    rs_db_set_retry_interval(db, 100);
    assert_string_equal(scalar(db, "SHOW enable_seqscan", 0, NULL, NULL, false), "off");
    assert_string_equal(scalar(db, "SHOW timezone", 0, NULL, NULL, false), "UTC"); /* ours too */
    assert_string_equal(scalar(killer, "SHOW enable_seqscan", 0, NULL, NULL, false), "on");
    snprintf(pid, sizeof(pid), "%s", scalar(db, "SELECT pg_backend_pid()", 0, NULL, NULL, false));
    assert_string_equal(
        scalar(killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, pid, NULL, false), "t");
    PQclear(rs_db_exec(db, "SELECT 1", 0, NULL, false, false, NULL));
    deadline = mono_ms() + 100 + 2000;
    while (rs_db_ensure(db) != RS_OK && mono_ms() < deadline)
        usleep(10 * 1000);
    assert_string_not_equal(scalar(db, "SELECT pg_backend_pid()", 0, NULL, NULL, false), pid);
    assert_string_equal(scalar(db, "SHOW enable_seqscan", 0, NULL, NULL, false), "off");
    rs_db_free(db);
    rs_db_free(killer);
}

static void test_reconnect_after_termination(void **state)
{
    const char *pid_param[1];
    struct rs_db *db = open_db();
    struct rs_db *killer = open_db();
    enum rs_err err = RS_ERR_INTERNAL;
    char old_pid[32];
    int64_t deadline;
    PGresult *res;

    (void)state;
    rs_db_set_retry_interval(db, 200);
    assert_string_equal(scalar(db, "SELECT $1::int + 1", 1, "1", NULL, true), "2");
    assert_int_equal(rs_db_session(db), 1);
    snprintf(old_pid, sizeof(old_pid), "%s",
             scalar(db, "SELECT pg_backend_pid()", 0, NULL, NULL, false));
    pid_param[0] = old_pid;
    /* the 5 s timeout makes pg_terminate_backend wait until the backend is gone */
    assert_string_equal(
        scalar(killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, old_pid, NULL, false), "t");

    res = rs_db_exec(db, "SELECT $1::int + 1", 1, pid_param, false, true, &err);
    if (res) {
        assert_int_equal(err, RS_OK); /* it reconnected on its own */
        PQclear(res);
    } else {
        assert_int_equal(err, RS_ERR_UNAVAILABLE);
        assert_false(rs_db_is_up(db));
    }
    /* rs_db_ensure brings it back within the retry interval (plus scheduling slack) */
    deadline = mono_ms() + 200 + 2000;
    while (rs_db_ensure(db) != RS_OK && mono_ms() < deadline)
        usleep(10 * 1000);
    assert_int_equal(rs_db_ensure(db), RS_OK);
    assert_true(rs_db_is_up(db));
    /* a new session, whatever address its PGconn got: LISTENs and SETs are redone */
    assert_int_equal(rs_db_session(db), 2);
    assert_string_not_equal(scalar(db, "SELECT pg_backend_pid()", 0, NULL, NULL, false), old_pid);
    /* the statement cache was cleared with the old session: the cached text prepares anew */
    assert_string_equal(scalar(db, "SELECT $1::int + 1", 1, "41", NULL, true), "42");
    assert_string_equal(scalar(db, "SHOW timezone", 0, NULL, NULL, false), "UTC");
    rs_db_free(killer);
    rs_db_free(db);
}

static void test_unreachable_server(void **state)
{
    const char *bad = "host=/nonexistent/roster-test port=5432 dbname=x password=hunter2";
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;
    struct capture cap;
    const char *log;

    (void)state;
    assert_int_equal(rs_db_open(bad, 1, false, &db, &eb), RS_ERR_UNAVAILABLE);
    assert_null(db);
    assert_true(eb.msg[0] != '\0');
    assert_null(strstr(eb.msg, "hunter2"));
    assert_int_equal(rs_db_open("host=/x password='hunter2", 1, true, &db, &eb), RS_ERR_INVALID);
    assert_null(strstr(eb.msg, "hunter2"));

    /* lazy: a handle that is down and tries again on first use */
    assert_int_equal(rs_db_open(bad, 1, true, &db, &eb), RS_OK);
    assert_false(rs_db_is_up(db));
    assert_null(rs_db_conn(db));
    rs_db_set_retry_interval(db, 60000);
    capture_begin(&cap);
    assert_int_equal(rs_db_ping(db), RS_ERR_UNAVAILABLE);
    /* within the retry interval: no further attempt, an immediate answer */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(rs_db_ensure(db), RS_ERR_UNAVAILABLE);
        assert_int_equal(rs_db_ping(db), RS_ERR_UNAVAILABLE);
    }
    log = capture_end(&cap);
    assert_int_equal(count_substr(log, "database connection failed"), 1);
    assert_null(strstr(log, "hunter2"));
    /* past the interval it tries again */
    rs_db_set_retry_interval(db, 10);
    usleep(30 * 1000);
    capture_begin(&cap);
    assert_int_equal(rs_db_ensure(db), RS_ERR_UNAVAILABLE);
    log = capture_end(&cap);
    assert_int_equal(count_substr(log, "database connection failed"), 1);
    rs_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_binary_results),
        cmocka_unit_test(test_session_settings),
        cmocka_unit_test(test_uri_conninfo),
        cmocka_unit_test(test_statement_cache),
        cmocka_unit_test(test_errors_are_mapped),
        cmocka_unit_test(test_log_hides_parameters),
        cmocka_unit_test(test_reconnect_after_termination),
        cmocka_unit_test(test_session_options),
        cmocka_unit_test(test_unreachable_server),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
