/*
 * The read API in-process for integration tests: a migrated database, writes through rs_store,
 * and gateway calls on stack requests, with cursor walks in both directions.
 */
#include "rt_hris.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_pg.h"

#define MAX_IDS 512

/* Appends "<sep><item>" to out without ever running past len. */
static void append_item(char *out, size_t len, size_t *used, const char *item)
{
    int n;

    if (*used >= len)
        return;
    n = snprintf(out + *used, len - *used, "%s%s", *used ? "," : "", item);
    if (n < 0 || (size_t)n >= len - *used)
        fail_msg("joined ids do not fit %zu bytes", len);
    *used += (size_t)n;
}

int rt_hris_open(struct rt_hris *fx, const char *org)
{
    struct rs_errbuf eb = {{0}, {0}};
    PGresult *res;

    memset(fx, 0, sizeof(*fx));
    for (int i = 0; i < RS_CURSOR_KEY_LEN; i++)
        fx->app.cursor_key[i] = (uint8_t)(0x40 + i);
    if (rt_pg_migrated_db(fx->name, sizeof(fx->name), fx->conninfo, sizeof(fx->conninfo)) != RS_OK)
        return -1;
    if (rs_db_open(fx->conninfo, 5, false, &fx->db, &eb) != RS_OK) {
        fprintf(stderr, "rt_hris: rs_db_open: %s\n", eb.msg);
        return -1;
    }
    res = rs_db_exec(fx->db, "INSERT INTO organizations (id, name) VALUES ($1::uuid, 'Org')", 1,
                     &org, false, false, NULL);
    PQclear(res);
    return res ? 0 : -1;
}

void rt_hris_close(struct rt_hris *fx)
{
    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        rs_store_batch_free(fx->batch[k]);
        fx->batch[k] = NULL;
    }
    rs_db_free(fx->db);
    fx->db = NULL;
    rt_pg_drop_db(fx->name);
    fx->name[0] = '\0';
}

PGresult *rt_hris_sql(struct rt_hris *fx, const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = {p1, p2};
    int n = p2 ? 2 : p1 ? 1 : 0;
    return rt_pg_exec(fx->db, sql, n, params);
}

long rt_hris_sql_long(struct rt_hris *fx, const char *sql, const char *p1, const char *p2)
{
    PGresult *res = rt_hris_sql(fx, sql, p1, p2);
    long value;

    if (PQntuples(res) < 1)
        fail_msg("%s: no rows", sql);
    value = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return value;
}

void rt_hris_add_account(struct rt_hris *fx, const char *org, const char *id, const char *origin)
{
    const char *params[3] = {id, org, origin};
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res = rs_db_exec(
        fx->db,
        "INSERT INTO linked_accounts (id, organization_id, integration, end_user_origin_id, "
        "end_user_organization_name, end_user_email_address, status) VALUES ($1::uuid, "
        "$2::uuid, 'hibob', $3, 'Acme', 'hr@acme.example', 'COMPLETE')",
        3, params, false, false, &err);

    if (!res)
        fail_msg("adding linked account %s: %s", id, rs_err_name(err));
    PQclear(res);
}

const char *rt_hris_id(const char *account, enum rs_model_kind kind, const char *remote_id)
{
    static char slots[64][RS_UUID_STR_LEN];
    static unsigned next;
    struct rs_uuid ns, id;
    char *out = slots[next++ % 64];

    assert_int_equal(rs_uuid_parse(account, &ns), RS_OK);
    if (rs_model_id(&ns, kind, remote_id, &id) != RS_OK)
        fail_msg("rt_hris: remote id %s refused", remote_id);
    return rs_uuid_format(&id, out);
}

void rt_hris_begin(struct rt_hris *fx, const char *account)
{
    struct rs_uuid ns;

    snprintf(fx->account, sizeof(fx->account), "%s", account);
    assert_int_equal(rs_uuid_parse(account, &ns), RS_OK);
    for (int k = 0; k < RS_MODEL_COUNT; k++)
        assert_int_equal(rs_store_batch_new(&ns, (enum rs_model_kind)k, NULL, &fx->batch[k]),
                         RS_OK);
    assert_int_equal(rs_db_command(fx->db, "BEGIN"), RS_OK);
}

void rt_hris_put(struct rt_hris *fx, enum rs_model_kind kind, const char *remote_id, json_t *fields)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_record record;
    char path[128];
    json_t *remote;

    assert_non_null(fields);
    assert_non_null(fx->batch[kind]);
    snprintf(path, sizeof(path), "/%s/%s", rs_model_get(kind)->path, remote_id);
    remote = json_pack("[{s:s, s:O}]", "path", path, "data", fields);
    record = (struct rs_record){.remote_id = remote_id, .fields = fields, .remote_data = remote};
    if (rs_store_batch_add(fx->batch[kind], &record, &eb) != RS_OK)
        fail_msg("%s %s refused: %s", rs_model_get(kind)->name, remote_id, eb.msg);
    json_decref(remote);
    json_decref(fields);
}

json_t *rt_hris_ref(struct rt_hris *fx, enum rs_model_kind kind, const char *rid)
{
    return rid ? json_string(rt_hris_id(fx->account, kind, rid)) : json_null();
}

void rt_hris_commit(struct rt_hris *fx)
{
    struct rs_store_stats stats = {0};
    struct rs_errbuf eb = {{0}, {0}};

    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        if (rs_store_batch_flush(fx->batch[k], fx->db, &stats, &eb) != RS_OK)
            fail_msg("flush: %s", eb.msg);
        rs_store_batch_free(fx->batch[k]);
        fx->batch[k] = NULL;
    }
    assert_int_equal(rs_db_command(fx->db, "COMMIT"), RS_OK);
    assert_int_equal(stats.invalid, 0);
}

static void req_init(struct rt_hris *fx, struct gw_req *req, const char *account, const char *qs)
{
    memset(req, 0, sizeof(*req));
    req->db = fx->db;
    req->app = &fx->app;
    assert_int_equal(rs_uuid_parse(account, &req->account.id), RS_OK);
    snprintf(req->account.id_text, sizeof(req->account.id_text), "%s", account);
    TAILQ_INIT(&req->query);
    if (evhttp_parse_query_str(qs, &req->query) != 0)
        fail_msg("bad test query string %s", qs);
}

/* Runs a list (id NULL) or retrieve; parses the body on success. */
static enum rs_err call(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                        const char *id, const char *qs, json_t **out)
{
    struct gw_req req;
    struct rs_buf body;
    json_error_t jerr;
    enum rs_err err;

    req_init(fx, &req, account, qs);
    rs_buf_init(&body, 64 << 20);
    err = id ? gw_hris_retrieve(&req, rs_model_get(kind), id, &body)
             : gw_hris_list(&req, rs_model_get(kind), &body);
    fx->eb = req.eb;
    *out = NULL;
    if (err == RS_OK) {
        *out = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!*out)
            fail_msg("output is not JSON (%s): %.300s", jerr.text, body.data);
    }
    rs_buf_cleanup(&body);
    evhttp_clear_headers(&req.query);
    return err;
}

enum rs_err rt_hris_list(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                         const char *qs, json_t **out)
{
    return call(fx, account, kind, NULL, qs, out);
}

enum rs_err rt_hris_retrieve(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                             const char *id, const char *qs, json_t **out)
{
    return call(fx, account, kind, id, qs, out);
}

json_t *rt_hris_list_ok(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                        const char *qs)
{
    static const char *const envelope[] = {"next", "previous", "results"};
    json_t *page = NULL, *value;
    enum rs_err err = rt_hris_list(fx, account, kind, qs, &page);
    const char *key;
    size_t nkeys = 0;

    if (err != RS_OK)
        fail_msg("list %s?%s: %s (%s: %s)", rs_model_get(kind)->path, qs, rs_err_name(err),
                 fx->eb.param, fx->eb.msg);
    json_object_foreach(page, key, value)
    {
        assert_true(nkeys < 3);
        assert_string_equal(key, envelope[nkeys]);
        assert_true(nkeys == 2 ? json_is_array(value)
                               : json_is_null(value) || json_is_string(value));
        nkeys++;
    }
    assert_int_equal(nkeys, 3);
    return page;
}

const char *rt_hris_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int compare_ids(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);

    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

const char *rt_hris_remote_ids(const json_t *page, bool sorted)
{
    static char joined[8192];
    const char *ids[MAX_IDS];
    const json_t *results = json_object_get(page, "results");
    size_t n = json_array_size(results), used = 0;

    assert_true(n <= MAX_IDS);
    for (size_t i = 0; i < n; i++) {
        ids[i] = rt_hris_str(json_array_get(results, i), "remote_id");
        assert_non_null(ids[i]);
    }
    if (sorted)
        qsort(ids, n, sizeof(ids[0]), compare_ids);
    joined[0] = '\0';
    for (size_t i = 0; i < n; i++)
        append_item(joined, sizeof(joined), &used, ids[i]);
    return joined;
}

size_t rt_hris_walk(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                    const char *qs, char pages[][RT_HRIS_PAGE_TEXT], size_t max_pages,
                    char *last_previous, size_t len)
{
    char query[512], cursor[RS_CURSOR_MAX_LEN] = "";
    size_t n = 0;
    json_t *page;

    for (;;) {
        snprintf(query, sizeof(query), "%s%s%s", qs, cursor[0] ? "&cursor=" : "", cursor);
        page = rt_hris_list_ok(fx, account, kind, query);
        assert_true(n < max_pages);
        snprintf(pages[n], RT_HRIS_PAGE_TEXT, "%s", rt_hris_remote_ids(page, false));
        assert_int_equal(json_is_null(json_object_get(page, "previous")), n == 0);
        n++;
        if (json_is_null(json_object_get(page, "next")))
            break;
        snprintf(cursor, sizeof(cursor), "%s", rt_hris_str(page, "next"));
        json_decref(page);
    }
    snprintf(last_previous, len, "%s", n > 1 ? rt_hris_str(page, "previous") : "");
    json_decref(page);
    return n;
}

/* The page after cursor `next` must be `expected`. */
static void check_next(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                       const char *qs, const char *next, const char *expected)
{
    char query[512];
    json_t *page;

    snprintf(query, sizeof(query), "%s&cursor=%s", qs, next);
    page = rt_hris_list_ok(fx, account, kind, query);
    if (strcmp(rt_hris_remote_ids(page, false), expected) != 0)
        fail_msg("next of a backward page is %s, expected %s", rt_hris_remote_ids(page, false),
                 expected);
    json_decref(page);
}

void rt_hris_walk_back(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                       const char *qs, char pages[][RT_HRIS_PAGE_TEXT], size_t npages,
                       const char *previous)
{
    char query[512], cursor[RS_CURSOR_MAX_LEN];
    size_t i = npages - 1;
    json_t *page;

    snprintf(cursor, sizeof(cursor), "%s", previous);
    while (i > 0) {
        i--;
        snprintf(query, sizeof(query), "%s&cursor=%s", qs, cursor);
        page = rt_hris_list_ok(fx, account, kind, query);
        if (strcmp(rt_hris_remote_ids(page, false), pages[i]) != 0)
            fail_msg("backward page %zu is %s, forward it was %s", i,
                     rt_hris_remote_ids(page, false), pages[i]);
        /* going back there is always a next page: the one we came from */
        assert_true(json_is_string(json_object_get(page, "next")));
        check_next(fx, account, kind, qs, rt_hris_str(page, "next"), pages[i + 1]);
        assert_int_equal(json_is_null(json_object_get(page, "previous")), i == 0);
        if (i > 0)
            snprintf(cursor, sizeof(cursor), "%s", rt_hris_str(page, "previous"));
        json_decref(page);
    }
}

void rt_hris_join(char pages[][RT_HRIS_PAGE_TEXT], size_t n, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        append_item(out, len, &used, pages[i]);
}
