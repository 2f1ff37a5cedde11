/*
 * Integration tests for keyset pagination in gateway/gw_hris.c: 250 rows written in one
 * transaction (so their modified_at ties) walked page by page with `next` and back with
 * `previous`, then the same with interleaved timestamps and with a filter. Each walk must give
 * every row exactly once, in (modified_at, id) order, and the same pages in both directions.
 */
#include "gw_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"
#include "rt_hris.h"

#define ORG_ID    "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ACCOUNT_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ACCOUNT_P "c56a4180-65aa-42ec-a945-5fd21dec0538"

static struct rt_hris fx;

static PGresult *run(const char *sql, const char *p1, const char *p2)
{
    return rt_hris_sql(&fx, sql, p1, p2);
}

static long scalar_long(const char *sql, const char *p1, const char *p2)
{
    return rt_hris_sql_long(&fx, sql, p1, p2);
}

static json_t *list_ok(const char *account, enum rs_model_kind kind, const char *qs)
{
    return rt_hris_list_ok(&fx, account, kind, qs);
}

static const char *str(const json_t *obj, const char *key)
{
    return rt_hris_str(obj, key);
}

#define NROWS 250

static int setup_many(void **state)
{
    char rid[16];

    (void)state;
    if (rt_hris_open(&fx, ORG_ID) != 0)
        return -1;
    rt_hris_add_account(&fx, ORG_ID, ACCOUNT_P, "origin-p");
    rt_hris_add_account(&fx, ORG_ID, ACCOUNT_A, "origin-a");
    rt_hris_begin(&fx, ACCOUNT_P);
    for (int i = 0; i < NROWS; i++) {
        snprintf(rid, sizeof(rid), "L%03d", i);
        rt_hris_put(&fx, RS_MODEL_LOCATION, rid, json_pack("{s:s}", "name", rid));
    }
    rt_hris_commit(&fx);
    /* noise in another account, interleaved in time */
    rt_hris_begin(&fx, ACCOUNT_A);
    for (int i = 0; i < 20; i++) {
        snprintf(rid, sizeof(rid), "L%03d", i);
        rt_hris_put(&fx, RS_MODEL_LOCATION, rid, json_pack("{s:s}", "name", "other"));
    }
    rt_hris_commit(&fx);
    return 0;
}

/* The ids of account P's locations in (modified_at, id) order, as remote ids. */
static void sql_order(char *out, size_t len)
{
    PGresult *res = run("SELECT string_agg(remote_id, ',' ORDER BY modified_at, id) FROM "
                        "locations WHERE linked_account_id = $1::uuid",
                        ACCOUNT_P, NULL);

    snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* Walks forward and back with page_size; compares with the SQL order, each row once. */
static void check_walk(int page_size)
{
    static char pages[NROWS + 1][RT_HRIS_PAGE_TEXT];
    char qs[64], previous[128], got[NROWS * 6], expected[NROWS * 6];
    size_t n;

    snprintf(qs, sizeof(qs), "page_size=%d", page_size);
    n = rt_hris_walk(&fx, ACCOUNT_P, RS_MODEL_LOCATION, qs, pages, NROWS + 1, previous,
                     sizeof(previous));
    assert_int_equal(n, (NROWS + page_size - 1) / page_size);
    for (size_t i = 0; i + 1 < n; i++) {
        size_t commas = 0;

        for (const char *p = pages[i]; *p; p++)
            commas += *p == ',';
        assert_int_equal(commas + 1, (size_t)page_size);
    }
    rt_hris_join(pages, n, got, sizeof(got));
    sql_order(expected, sizeof(expected));
    if (strcmp(got, expected) != 0)
        fail_msg("page_size %d: walked\n%s\nexpected\n%s", page_size, got, expected);
    if (n > 1)
        rt_hris_walk_back(&fx, ACCOUNT_P, RS_MODEL_LOCATION, qs, pages, n, previous);
}

static void test_keyset_ties(void **state)
{
    (void)state;
    /* one transaction: one now() for every row */
    assert_int_equal(scalar_long("SELECT count(DISTINCT modified_at) FROM locations WHERE "
                                 "linked_account_id = $1::uuid",
                                 ACCOUNT_P, NULL),
                     1);
    assert_int_equal(scalar_long("SELECT count(*) FROM locations WHERE linked_account_id = "
                                 "$1::uuid",
                                 ACCOUNT_P, NULL),
                     NROWS);
    /* the default page size is 100 */
    {
        json_t *page = list_ok(ACCOUNT_P, RS_MODEL_LOCATION, "");

        assert_int_equal(json_array_size(json_object_get(page, "results")), 100);
        assert_true(json_is_string(json_object_get(page, "next")));
        json_decref(page);
    }
    check_walk(7);
    check_walk(50); /* the last page is exactly full */
    check_walk(100);
    check_walk(1);
}

static void test_keyset_interleaved(void **state)
{
    json_t *page, *results;
    char cursor[RS_CURSOR_MAX_LEN] = "", qs[160], last_time[32] = "", last_id[40] = "";
    int seen = 0;

    (void)state;
    /* 11 groups of equal modified_at, each spread over the whole id range, plus two outliers */
    PQclear(run("UPDATE locations t SET modified_at = '2024-05-01T00:00:00Z'::timestamptz + "
                "((r.n * 37) % 11) * interval '1 millisecond' FROM (SELECT id, row_number() "
                "OVER (ORDER BY remote_id) AS n FROM locations WHERE linked_account_id = "
                "$1::uuid) r WHERE t.linked_account_id = $1::uuid AND t.id = r.id",
                ACCOUNT_P, NULL));
    PQclear(run("UPDATE locations SET modified_at = '1999-12-31T23:59:59.999999Z' WHERE "
                "linked_account_id = $1::uuid AND remote_id = 'L100'",
                ACCOUNT_P, NULL));
    PQclear(run("UPDATE locations SET modified_at = '2024-05-01T00:00:00.000001Z' WHERE "
                "linked_account_id = $1::uuid AND remote_id = 'L101'",
                ACCOUNT_P, NULL));
    assert_int_equal(scalar_long("SELECT count(DISTINCT modified_at) FROM locations WHERE "
                                 "linked_account_id = $1::uuid",
                                 ACCOUNT_P, NULL),
                     13);
    check_walk(7);
    check_walk(3);
    check_walk(100);
    /* the output itself is in strictly increasing (modified_at, id) order */
    for (;;) {
        snprintf(qs, sizeof(qs), "page_size=9%s%s", cursor[0] ? "&cursor=" : "", cursor);
        page = list_ok(ACCOUNT_P, RS_MODEL_LOCATION, qs);
        results = json_object_get(page, "results");
        for (size_t i = 0; i < json_array_size(results); i++) {
            json_t *row = json_array_get(results, i);
            int64_t a = 0, b = 0;

            if (last_time[0]) {
                assert_int_equal(rs_time_parse(last_time, &a), RS_OK);
                assert_int_equal(rs_time_parse(str(row, "modified_at"), &b), RS_OK);
                assert_true(a <= b);
                if (a == b)
                    assert_true(strcmp(last_id, str(row, "id")) < 0);
            }
            snprintf(last_time, sizeof(last_time), "%s", str(row, "modified_at"));
            snprintf(last_id, sizeof(last_id), "%s", str(row, "id"));
            seen++;
        }
        if (json_is_null(json_object_get(page, "next"))) {
            json_decref(page);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", str(page, "next"));
        json_decref(page);
    }
    assert_int_equal(seen, NROWS);
}

/* Keyset pages over a filtered listing: every match once, forward and back. */
static void test_keyset_with_filter(void **state)
{
    static char pages[NROWS][RT_HRIS_PAGE_TEXT];
    char previous[128], got[NROWS * 6];
    size_t n;

    (void)state;
    PQclear(run("UPDATE locations SET location_type = 'HOME' WHERE linked_account_id = $1::uuid "
                "AND remote_id LIKE '%3'",
                ACCOUNT_P, NULL));
    n = rt_hris_walk(&fx, ACCOUNT_P, RS_MODEL_LOCATION, "page_size=4&location_type=HOME", pages,
                     NROWS, previous, sizeof(previous));
    rt_hris_join(pages, n, got, sizeof(got));
    assert_int_equal(n, 7); /* 25 rows end in 3 */
    rt_hris_walk_back(&fx, ACCOUNT_P, RS_MODEL_LOCATION, "page_size=4&location_type=HOME", pages, n,
                      previous);
    for (const char *p = got; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
        assert_int_equal(p[3], '3');
}

/* Cursors are bound to their listing: another endpoint, another account, a changed byte. */
static void test_cursor_misuse(void **state)
{
    json_t *page, *other = NULL;
    char cursor[RS_CURSOR_MAX_LEN], qs[160];

    (void)state;
    page = list_ok(ACCOUNT_P, RS_MODEL_LOCATION, "page_size=10");
    snprintf(cursor, sizeof(cursor), "%s", str(page, "next"));
    json_decref(page);
    snprintf(qs, sizeof(qs), "page_size=10&cursor=%s", cursor);
    page = list_ok(ACCOUNT_P, RS_MODEL_LOCATION, qs);
    assert_int_equal(json_array_size(json_object_get(page, "results")), 10);
    json_decref(page);
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_P, RS_MODEL_TEAM, qs, &other), RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "cursor");
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_A, RS_MODEL_LOCATION, qs, &other), RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "cursor");
    /* a different page size keeps the position: the cursor names a row, not a page number */
    snprintf(qs, sizeof(qs), "page_size=3&location_type=WORK&cursor=%s", cursor);
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_P, RS_MODEL_LOCATION, qs, &other), RS_OK);
    json_decref(other);
    cursor[10] = cursor[10] == 'A' ? 'B' : 'A';
    snprintf(qs, sizeof(qs), "cursor=%s", cursor);
    assert_int_equal(rt_hris_list(&fx, ACCOUNT_P, RS_MODEL_LOCATION, qs, &other), RS_ERR_INVALID);
    assert_string_equal(fx.eb.param, "cursor");
    assert_null(other);
}

static int teardown(void **state)
{
    (void)state;
    rt_hris_close(&fx);
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_many, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_keyset_ties),
        T(test_keyset_interleaved),
        T(test_keyset_with_filter),
        T(test_cursor_misuse),
    };

    rs_log_set_level(RS_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
