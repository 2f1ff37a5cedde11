/*
 * The Merge-compatible read API: list (keyset pages over (sort, id) with authenticated
 * cursors), retrieve by id, expansion of relations, and /groups/types.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include "roster/rs_time.h"

/* Binary result column 7 (after GW_ROW_COLUMNS): the sort key of the row. */
#define SORT_COLUMN          7
#define PG_TIMESTAMP_NOBEGIN INT64_MIN

static int64_t sort_value(const PGresult *res, int i)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(res, i, SORT_COLUMN);
    uint64_t v = 0;

    for (int k = 0; k < 8; k++)
        v = (v << 8) | p[k];
    return (int64_t)v == PG_TIMESTAMP_NOBEGIN ? INT64_MIN : (int64_t)v + RS_TIME_PG_EPOCH_US;
}

static const char *sort_expression(const struct gw_list_query *q)
{
    return strcmp(q->sort_column, "effective_date") == 0
               ? "COALESCE(t.effective_date, '-infinity'::timestamptz)"
               : "t.modified_at";
}

/* Adds the keyset condition for a cursor; the scan direction is ascending unless descending. */
static enum rs_err keyset_condition(struct gw_list_query *q, bool descending, struct rs_buf *sql)
{
    char when[RS_TIME_ISO_LEN], id[RS_UUID_STR_LEN];
    int n;

    if (q->cursor.sort_us == INT64_MIN)
        snprintf(when, sizeof(when), "-infinity");
    else
        rs_time_format(q->cursor.sort_us, when);
    rs_uuid_format(&q->cursor.id, id);
    if (q->nparams + 2 > GW_MAX_SQL_PARAMS)
        return RS_ERR_INVALID;
    q->owned[q->nparams] = strdup(when);
    q->params[q->nparams] = q->owned[q->nparams];
    q->owned[q->nparams + 1] = strdup(id);
    q->params[q->nparams + 1] = q->owned[q->nparams + 1];
    if (!q->owned[q->nparams] || !q->owned[q->nparams + 1])
        return RS_ERR_NOMEM;
    n = q->nparams + 1;
    q->nparams += 2;
    return rs_buf_appendf(sql, " AND (%s, t.id) %s ($%d::timestamptz, $%d::uuid)",
                          sort_expression(q), descending ? "<" : ">", n, n + 1);
}

static enum rs_err list_sql(struct gw_list_query *q, bool descending, struct rs_buf *sql)
{
    const char *dir = descending ? "DESC" : "ASC";
    enum rs_err err;

    err =
        rs_buf_appendf(sql,
                       "SELECT t.id, t.remote_id, t.created_at, t.modified_at, t.normalized, "
                       "t.remote_was_deleted, %s, %s FROM %s t "
                       "WHERE t.linked_account_id = $1::uuid%s",
                       q->include_remote_data ? "t.remote_data" : "NULL::text", sort_expression(q),
                       q->model->path, q->include_deleted ? "" : " AND NOT t.remote_was_deleted");
    if (err == RS_OK && q->where.len)
        err = rs_buf_append(sql, q->where.data, q->where.len);
    if (err == RS_OK && q->has_cursor)
        err = keyset_condition(q, descending, sql);
    if (err == RS_OK)
        err = rs_buf_appendf(sql, " ORDER BY %s %s, t.id %s LIMIT %d", sort_expression(q), dir, dir,
                             q->page_size + 1);
    return err;
}

/* Loads the rows of `model` whose ids are the keys of `wanted`, as rendered objects in it. */
static enum rs_err load_related(struct gw_req *req, const struct rs_model *model, json_t *wanted)
{
    struct rs_buf ids, sql;
    const char *key, *params[2];
    json_t *value;
    PGresult *res = NULL;
    enum rs_err err;

    rs_buf_init(&ids, 8 << 20);
    rs_buf_init(&sql, 4096);
    err = rs_buf_append(&ids, "{", 1);
    json_object_foreach(wanted, key, value)
    {
        if (err == RS_OK)
            err = rs_buf_appendf(&ids, "%s%s", ids.len > 1 ? "," : "", key);
    }
    if (err == RS_OK)
        err = rs_buf_append(&ids, "}", 1);
    if (err == RS_OK)
        err = rs_buf_appendf(&sql,
                             "SELECT " GW_ROW_COLUMNS " FROM %s t WHERE t.linked_account_id = "
                             "$1::uuid AND t.id = ANY($2::uuid[])",
                             model->path);
    if (err != RS_OK)
        goto out;
    params[0] = req->account.id_text;
    params[1] = ids.data;
    res = rs_db_exec(req->db, sql.data, 2, params, true, true, &err);
    if (!res)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        struct gw_row row;
        char id[RS_UUID_STR_LEN];

        gw_row_from_result(res, i, &row);
        json_object_set_new(wanted, rs_uuid_format(&row.id, id), gw_render_row_json(&row, false));
    }
out:
    PQclear(res);
    rs_buf_cleanup(&ids);
    rs_buf_cleanup(&sql);
    return err;
}

/* Replaces id strings in field of every object by the related object, where one was found. */
static void substitute(json_t **objs, size_t n, const struct rs_field *field, json_t *related)
{
    for (size_t i = 0; i < n; i++) {
        json_t *value = json_object_get(objs[i], field->name), *item;
        size_t k;

        if (json_is_string(value)) {
            json_t *found = json_object_get(related, json_string_value(value));
            if (json_is_object(found))
                json_object_set(objs[i], field->name, found);
        } else if (json_is_array(value)) {
            json_array_foreach(value, k, item)
            {
                json_t *found =
                    json_is_string(item) ? json_object_get(related, json_string_value(item)) : NULL;
                if (json_is_object(found))
                    json_array_set(value, k, found);
            }
        }
    }
}

static void collect_ids(json_t **objs, size_t n, const struct rs_field *field, json_t *wanted)
{
    for (size_t i = 0; i < n; i++) {
        json_t *value = json_object_get(objs[i], field->name), *item;
        size_t k;

        if (json_is_string(value))
            json_object_set_new(wanted, json_string_value(value), json_null());
        json_array_foreach(value, k, item)
        {
            if (json_is_string(item))
                json_object_set_new(wanted, json_string_value(item), json_null());
        }
    }
}

static enum rs_err expand(struct gw_req *req, const struct gw_list_query *q, json_t **objs,
                          size_t n)
{
    enum rs_err err = RS_OK;

    for (size_t f = 0; f < q->model->nfields && err == RS_OK; f++) {
        const struct rs_field *field = &q->model->fields[f];
        json_t *wanted;

        if (!(q->expand & (UINT64_C(1) << f)) || field->target == RS_MODEL_NONE)
            continue;
        wanted = json_object();
        if (!wanted)
            return RS_ERR_NOMEM;
        collect_ids(objs, n, field, wanted);
        if (json_object_size(wanted) > 0)
            err = load_related(req, rs_model_get(field->target), wanted);
        if (err == RS_OK)
            substitute(objs, n, field, wanted);
        json_decref(wanted);
    }
    return err;
}

/* Appends rows [0, n) of res (in `order`, an index permutation) to out as a JSON array body. */
static enum rs_err render_rows(struct gw_req *req, const struct gw_list_query *q,
                               const PGresult *res, const int *order, size_t n, struct rs_buf *out)
{
    json_t **objs = NULL;
    enum rs_err err = RS_OK;
    struct gw_row row;

    if (!q->expand) {
        for (size_t i = 0; i < n && err == RS_OK; i++) {
            gw_row_from_result(res, order[i], &row);
            err = rs_buf_append_str(out, i ? "," : "");
            if (err == RS_OK)
                err = gw_render_row(&row, q->include_remote_data, out);
        }
        return err;
    }
    objs = calloc(n ? n : 1, sizeof(*objs));
    if (!objs)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < n && err == RS_OK; i++) {
        gw_row_from_result(res, order[i], &row);
        objs[i] = gw_render_row_json(&row, q->include_remote_data);
        if (!objs[i])
            err = RS_ERR_NOMEM;
    }
    if (err == RS_OK)
        err = expand(req, q, objs, n);
    for (size_t i = 0; i < n; i++) {
        char *text = err == RS_OK ? json_dumps(objs[i], JSON_COMPACT) : NULL;

        if (err == RS_OK)
            err = text ? rs_buf_appendf(out, "%s%s", i ? "," : "", text) : RS_ERR_NOMEM;
        free(text);
        json_decref(objs[i]);
    }
    free(objs);
    return err;
}

static enum rs_err render_cursor(struct gw_req *req, const struct gw_list_query *q,
                                 const PGresult *res, int row_index, bool backward,
                                 struct rs_buf *out)
{
    struct rs_cursor cur = {.backward = backward, .sort_us = sort_value(res, row_index)};
    char text[RS_CURSOR_MAX_LEN];

    memcpy(cur.id.b, PQgetvalue(res, row_index, 0), 16);
    rs_cursor_encode(&cur, q->cursor_context, req->app->cursor_key, text);
    return rs_buf_appendf(out, "\"%s\"", text);
}

/*
 * Writes {"next", "previous", "results"} for the fetched rows. The query fetched one row more
 * than a page to learn whether another page exists in the scan direction.
 */
static enum rs_err render_page(struct gw_req *req, const struct gw_list_query *q,
                               const PGresult *res, struct rs_buf *out)
{
    bool backward = q->has_cursor && q->cursor.backward;
    int fetched = PQntuples(res), n = fetched > q->page_size ? q->page_size : fetched;
    bool more = fetched > q->page_size;
    int order[101];
    enum rs_err err;

    for (int i = 0; i < n; i++)
        order[i] = backward ? n - 1 - i : i; /* a backward scan comes newest-first */
    err = rs_buf_append_str(out, "{\"next\":");
    if (err == RS_OK)
        err = (n > 0 && (backward || more)) ? render_cursor(req, q, res, order[n - 1], false, out)
                                            : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"previous\":");
    if (err == RS_OK)
        err = (n > 0 && (backward ? more : q->has_cursor))
                  ? render_cursor(req, q, res, order[0], true, out)
                  : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"results\":[");
    if (err == RS_OK)
        err = render_rows(req, q, res, order, (size_t)n, out);
    return err == RS_OK ? rs_buf_append_str(out, "]}") : err;
}

enum rs_err gw_hris_list(struct gw_req *req, const struct rs_model *model, struct rs_buf *out)
{
    struct gw_list_query q;
    struct rs_buf sql;
    PGresult *res = NULL;
    enum rs_err err;
    bool descending;

    rs_buf_init(&sql, 512 * 1024);
    if ((err = gw_query_parse_list(req, model, &q)) != RS_OK)
        goto out;
    descending = q.sort_desc != (q.has_cursor && q.cursor.backward);
    if ((err = list_sql(&q, descending, &sql)) != RS_OK)
        goto out;
    res = rs_db_exec(req->db, sql.data, q.nparams, q.params, true, true, &err);
    if (!res)
        goto out;
    err = render_page(req, &q, res, out);
out:
    PQclear(res);
    gw_query_cleanup(&q);
    rs_buf_cleanup(&sql);
    return err;
}

/* "<account>|<data version>|<path>?<query>": what a rendered page depends on. */
static enum rs_err cache_key(struct gw_req *req, struct rs_buf *key)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

    return rs_buf_appendf(key, "%s|%lld|%s?%s", req->account.id_text,
                          (long long)req->account.data_version, req->path, query ? query : "");
}

/*
 * Serves the page from the cache, or renders it with render and keeps it. Only 200 replies
 * are kept; errors are never cached.
 */
static void serve(struct gw_req *req, enum rs_err (*render)(struct gw_req *, struct rs_buf *))
{
    struct gw_cache *cache = req->app->cache;
    const struct gw_cache_entry *entry = NULL;
    struct rs_buf key, body;
    enum rs_err err = RS_OK;

    rs_buf_init(&key, 128 * 1024);
    rs_buf_init(&body, 256 << 20);
    if (cache && cache_key(req, &key) == RS_OK &&
        (entry = gw_cache_get(cache, key.data, key.len)) != NULL) {
        gw_reply_cached(req, 200, entry);
        goto out;
    }
    err = render(req, &body);
    if (err != RS_OK) {
        gw_reply_error(req, err);
    } else if (cache && key.len > 0) {
        size_t len = body.len;
        entry = gw_cache_put(cache, key.data, key.len, rs_buf_steal(&body), len);
        if (entry)
            gw_reply_cached(req, 200, entry);
        else
            gw_reply_error(req, RS_ERR_NOMEM);
    } else {
        gw_reply_json(req, 200, &body);
    }
out:
    rs_buf_cleanup(&key);
    rs_buf_cleanup(&body);
}

static enum rs_err render_list(struct gw_req *req, struct rs_buf *out)
{
    return gw_hris_list(req, rs_model_get(req->route->model), out);
}

void gw_handle_list(struct gw_req *req)
{
    serve(req, render_list);
}

enum rs_err gw_hris_retrieve(struct gw_req *req, const struct rs_model *model, const char *id_text,
                             struct rs_buf *out)
{
    struct gw_list_query q;
    struct rs_buf sql;
    struct rs_uuid id;
    char id_canonical[RS_UUID_STR_LEN];
    const char *params[2];
    PGresult *res = NULL;
    enum rs_err err;
    int order[1] = {0};

    rs_buf_init(&sql, 4096);
    if ((err = gw_query_parse_retrieve(req, model, &q)) != RS_OK)
        goto out;
    if (rs_uuid_parse(id_text, &id) != RS_OK) {
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "id", "id must be a UUID");
        goto out;
    }
    params[0] = req->account.id_text;
    params[1] = rs_uuid_format(&id, id_canonical);
    err = rs_buf_appendf(&sql,
                         "SELECT t.id, t.remote_id, t.created_at, t.modified_at, t.normalized, "
                         "t.remote_was_deleted, %s FROM %s t WHERE t.linked_account_id = $1::uuid "
                         "AND t.id = $2::uuid",
                         q.include_remote_data ? "t.remote_data" : "NULL::text", model->path);
    if (err != RS_OK)
        goto out;
    res = rs_db_exec(req->db, sql.data, 2, params, true, true, &err);
    if (!res)
        goto out;
    if (PQntuples(res) == 0) {
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no %s with this id", model->name);
        goto out;
    }
    err = render_rows(req, &q, res, order, 1, out);
out:
    PQclear(res);
    gw_query_cleanup(&q);
    rs_buf_cleanup(&sql);
    return err;
}

static enum rs_err render_retrieve(struct gw_req *req, struct rs_buf *out)
{
    return gw_hris_retrieve(req, rs_model_get(req->route->model), req->params[0], out);
}

void gw_handle_retrieve(struct gw_req *req)
{
    serve(req, render_retrieve);
}

void gw_handle_group_types(struct gw_req *req)
{
    static const char sql[] = "SELECT DISTINCT type FROM groups WHERE linked_account_id = "
                              "$1::uuid AND NOT remote_was_deleted AND type IS NOT NULL "
                              "ORDER BY 1";
    const char *params[1] = {req->account.id_text};
    struct rs_buf body;
    PGresult *res;
    enum rs_err err;

    rs_buf_init(&body, 1 << 20);
    res = rs_db_exec(req->db, sql, 1, params, false, true, &err);
    if (res)
        err = rs_buf_append_str(&body, "{\"types\":[");
    for (int i = 0; res && err == RS_OK && i < PQntuples(res); i++) {
        err = rs_buf_append_str(&body, i ? "," : "");
        if (err == RS_OK)
            err = rs_buf_append_json_str(&body, PQgetvalue(res, i, 0),
                                         (size_t)PQgetlength(res, i, 0));
    }
    if (res && err == RS_OK)
        err = rs_buf_append_str(&body, "]}");
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&body);
}
