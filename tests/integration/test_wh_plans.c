/*
 * The webhook dispatchers prepare their claim and settle once (generic plans), possibly while
 * the queue is empty. Their sessions' options (WH_SESSION_OPTIONS) must keep those plans on
 * keys: no sequential scan of the queue or the messages, no hash or merge join, which an empty
 * table favours and a sync's hundred thousand messages make slow. Checked on an empty queue,
 * the worst case, with PostgreSQL's own EXPLAIN of the generic plans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_buf.h"
#include "roster/rs_db.h"
#include "rt_pg.h"
#include "wh_sql.h"

static char db_name[64], conninfo[512];

static int group_setup(void **state)
{
    (void)state;
    return rt_pg_migrated_db(db_name, sizeof(db_name), conninfo, sizeof(conninfo)) == RS_OK ? 0
                                                                                            : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    rt_pg_drop_db(db_name);
    return 0;
}

/* The generic plan of `execute` (after `prepare`) on db, as EXPLAIN's text (malloc'd). */
static char *generic_plan(struct rs_db *db, const char *prepare, const char *execute)
{
    struct rs_buf plan;
    enum rs_err err;
    PGresult *res;
    char *out;

    assert_int_equal(rs_db_command(db, prepare), RS_OK);
    res = rs_db_exec(db, execute, 0, NULL, false, false, &err);
    assert_non_null(res);
    rs_buf_init(&plan, 1 << 20);
    for (int i = 0; i < PQntuples(res); i++) {
        assert_int_equal(rs_buf_append_str(&plan, PQgetvalue(res, i, 0)), RS_OK);
        assert_int_equal(rs_buf_append(&plan, "\n", 1), RS_OK);
    }
    PQclear(res);
    out = rs_buf_steal(&plan);
    rs_buf_cleanup(&plan);
    return out;
}

#define PREPARE_CLAIM "PREPARE claim(uuid[], int[], int, int, int, uuid) AS " WH_SQL_CLAIM
#define EXPLAIN_CLAIM                                                                              \
    "EXPLAIN (COSTS off) EXECUTE claim('{}', '{}', 512, 512, 137, "                                \
    "'0f8fad5b-d9cb-469f-a165-70867728950e')"
#define PREPARE_SETTLE "PREPARE settle(json) AS " WH_SQL_SETTLE
#define EXPLAIN_SETTLE "EXPLAIN (COSTS off) EXECUTE settle('[]')"

/* True when plan reaches a table without a key or joins by hashing or merging. */
static bool scans(const char *plan)
{
    return strstr(plan, "Seq Scan on webhook_queue") ||
           strstr(plan, "Seq Scan on webhook_messages") || strstr(plan, "Hash Join") ||
           strstr(plan, "Hash Left Join") || strstr(plan, "Hash Anti Join") ||
           strstr(plan, "Merge Join");
}

static void test_plans_stay_on_keys(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;
    char *plan;

    (void)state;
    assert_int_equal(rs_db_open_with(conninfo, 5, false, WH_SESSION_OPTIONS, &db, &eb), RS_OK);
    plan = generic_plan(db, PREPARE_CLAIM, EXPLAIN_CLAIM);
    if (scans(plan))
        fail_msg("the claim's generic plan scans or hashes:\n%s", plan);
    /* the due index, in its order, and the lease's update by primary key */
    assert_non_null(strstr(plan, "Index Scan using webhook_queue_due"));
    assert_non_null(strstr(plan, "Index Scan using webhook_queue_pkey"));
    free(plan);
    plan = generic_plan(db, PREPARE_SETTLE, EXPLAIN_SETTLE);
    if (scans(plan))
        fail_msg("the settle's generic plan scans or hashes:\n%s", plan);
    assert_non_null(strstr(plan, "Index Scan using webhook_queue_pkey"));
    free(plan);
    rs_db_free(db);
}

/* Without those options, an empty queue does get the plans they rule out: they are needed. */
static void test_default_session_would_scan(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;
    char *claim, *settle;

    (void)state;
    assert_int_equal(rs_db_open(conninfo, 5, false, &db, &eb), RS_OK);
    claim = generic_plan(db, PREPARE_CLAIM, EXPLAIN_CLAIM);
    settle = generic_plan(db, PREPARE_SETTLE, EXPLAIN_SETTLE);
    if (!scans(claim) && !scans(settle))
        fail_msg("a default session plans on keys too; WH_SESSION_OPTIONS may no longer be "
                 "needed:\n%s\n%s",
                 claim, settle);
    free(claim);
    free(settle);
    rs_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans_stay_on_keys),
        cmocka_unit_test(test_default_session_would_scan),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
