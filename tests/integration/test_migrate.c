/*
 * Integration tests for core/rs_migrate.c against the PostgreSQL fixture: a fresh database gets
 * every migration once, re-runs change nothing, and concurrent runners apply each exactly once.
 */
#include "roster/rs_migrate.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "rt_pg.h"

/* Snapshots of a database are compared as text; this bounds them. */
#define SNAPSHOT_MAX 65536

struct fresh_db {
    char name[64];
    char conninfo[1024];
};

static int migration_count(void)
{
    int n = 0;

    while (rs_migrations[n].name)
        n++;
    return n;
}

static void fresh_db(struct fresh_db *f)
{
    assert_int_equal(rt_pg_create_db(f->name, sizeof(f->name), f->conninfo, sizeof(f->conninfo)),
                     RS_OK);
}

static struct rs_db *open_db(const struct fresh_db *f)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;

    if (rs_db_open(f->conninfo, 5, false, &db, &eb) != RS_OK)
        fail_msg("rs_db_open: %s", eb.msg);
    return db;
}

/* Every row of a query, as text: "a|b\n" per row (caller frees). */
static char *dump(struct rs_db *db, const char *sql)
{
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res = rs_db_query(db, sql, 0, NULL, &err);
    char *text = calloc(1, SNAPSHOT_MAX);
    size_t used = 0;

    assert_non_null(text);
    if (!res)
        fail_msg("%s: %s", sql, rs_err_name(err));
    for (int row = 0; row < PQntuples(res); row++) {
        for (int col = 0; col < PQnfields(res); col++) {
            used += (size_t)snprintf(text + used, SNAPSHOT_MAX - used, "%s%s", col ? "|" : "",
                                     PQgetvalue(res, row, col));
            assert_true(used < SNAPSHOT_MAX);
        }
        used += (size_t)snprintf(text + used, SNAPSHOT_MAX - used, "\n");
        assert_true(used < SNAPSHOT_MAX);
    }
    PQclear(res);
    return text;
}

#define SQL_RECORDED "SELECT name, applied_at FROM schema_migrations ORDER BY name"
#define SQL_SCHEMA                                                                                 \
    "SELECT n.nspname, c.relname, c.relkind, "                                                     \
    "(SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) "             \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "                               \
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "                                 \
    "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"

/* schema_migrations holds exactly the names of rs_migrations, in order. */
static void assert_recorded_all(struct rs_db *db)
{
    char *names = dump(db, "SELECT name FROM schema_migrations ORDER BY name");
    char want[4096];
    size_t used = 0;

    want[0] = '\0';
    for (int i = 0; rs_migrations[i].name; i++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s\n", rs_migrations[i].name);
    assert_string_equal(names, want);
    free(names);
}

static void test_fresh_then_rerun(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct fresh_db f;
    struct rs_db *db;
    char *recorded;
    char *schema;
    char *after;
    int applied = -1;

    (void)state;
    assert_true(migration_count() >= 1);
    fresh_db(&f);
    db = open_db(&f);
    if (rs_migrate_run(db, &applied, &eb) != RS_OK)
        fail_msg("first run: %s", eb.msg);
    assert_int_equal(applied, migration_count());
    assert_recorded_all(db);

    recorded = dump(db, SQL_RECORDED);
    schema = dump(db, SQL_SCHEMA);
    applied = -1;
    assert_int_equal(rs_migrate_run(db, &applied, &eb), RS_OK);
    assert_int_equal(applied, 0);
    after = dump(db, SQL_RECORDED);
    assert_string_equal(after, recorded);
    free(after);
    after = dump(db, SQL_SCHEMA);
    assert_string_equal(after, schema);
    free(after);
    free(recorded);
    free(schema);
    /* the advisory lock was released: another session can take it at once */
    assert_int_equal(rs_db_command(db, "SELECT 1"), RS_OK);
    rs_db_free(db);
    db = open_db(&f);
    assert_int_equal(rs_migrate_run(db, NULL, &eb), RS_OK);
    rs_db_free(db);
    rt_pg_drop_db(f.name);
}

/*
 * A migration already recorded is skipped: only the rest run. The last one is marked, since
 * later migrations build on earlier ones (0002 alters what 0001 creates).
 */
static void test_recorded_migration_is_skipped(void **state)
{
    const char *first[] = {rs_migrations[migration_count() - 1].name};
    struct rs_errbuf eb = {{0}, {0}};
    enum rs_err err = RS_ERR_INTERNAL;
    struct fresh_db f;
    struct rs_db *db;
    int applied = -1;

    (void)state;
    fresh_db(&f);
    db = open_db(&f);
    assert_int_equal(rs_db_command(db, "CREATE TABLE schema_migrations (name text PRIMARY KEY, "
                                       "applied_at timestamptz NOT NULL DEFAULT now())"),
                     RS_OK);
    PQclear(rs_db_query(db, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, first, &err));
    assert_int_equal(err, RS_OK);
    assert_int_equal(rs_migrate_run(db, &applied, &eb), RS_OK);
    assert_int_equal(applied, migration_count() - 1);
    assert_recorded_all(db);
    rs_db_free(db);
    rt_pg_drop_db(f.name);
}

struct runner {
    const struct fresh_db *f;
    pthread_barrier_t *start;
    enum rs_err open_err;
    enum rs_err err;
    int applied;
    struct rs_errbuf eb;
};

/* No cmocka assertions here: they may only run on the main thread. */
static void *run_migrations(void *arg)
{
    struct runner *r = arg;
    struct rs_db *db = NULL;

    r->open_err = rs_db_open(r->f->conninfo, 5, false, &db, &r->eb);
    pthread_barrier_wait(r->start);
    if (r->open_err == RS_OK)
        r->err = rs_migrate_run(db, &r->applied, &r->eb);
    rs_db_free(db);
    return NULL;
}

static void test_concurrent_runs_apply_once(void **state)
{
    struct runner runners[2];
    pthread_t threads[2];
    pthread_barrier_t start;
    struct fresh_db f;
    struct rs_db *db;

    (void)state;
    for (int round = 0; round < 3; round++) {
        fresh_db(&f);
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        for (int i = 0; i < 2; i++) {
            memset(&runners[i], 0, sizeof(runners[i]));
            runners[i].f = &f;
            runners[i].start = &start;
            runners[i].err = RS_ERR_INTERNAL;
            assert_int_equal(pthread_create(&threads[i], NULL, run_migrations, &runners[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(threads[i], NULL), 0);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < 2; i++) {
            if (runners[i].open_err != RS_OK || runners[i].err != RS_OK)
                fail_msg("runner %d: %s", i, runners[i].eb.msg);
        }
        assert_int_equal(runners[0].applied + runners[1].applied, migration_count());
        db = open_db(&f);
        assert_recorded_all(db);
        rs_db_free(db);
        rt_pg_drop_db(f.name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_then_rerun),
        cmocka_unit_test(test_recorded_migration_is_skipped),
        cmocka_unit_test(test_concurrent_runs_apply_once),
    };

    rs_log_set_level(RS_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
