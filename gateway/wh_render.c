/*
 * A webhook message's body: Merge's envelope {hook, linked_account, data} around the event's
 * data, rendered when it is sent. A model event's data is its stored row rendered by the read
 * API's own renderer, so an event and a GET of the same version carry the same bytes.
 */
#include "wh_int.h"

#include <stdlib.h>
#include <string.h>

/* Column `name` of res (which must have it). */
static int column(const PGresult *res, const char *name)
{
    return PQfnumber(res, name);
}

static const char *text_at(const PGresult *res, int i, const char *name)
{
    int c = column(res, name);

    return c < 0 || PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
}

/* The record of a model event as GET /api/hris/v1/<model>/{id} serves it. */
static enum rs_err render_record(const PGresult *res, int i, struct rs_buf *out)
{
    struct gw_row row;
    const char *id = text_at(res, i, "wh_record"), *normalized = text_at(res, i, "wh_normalized");
    const char *created = text_at(res, i, "wh_created_us"),
               *modified = text_at(res, i, "wh_modified_us");
    const char *deleted = text_at(res, i, "wh_deleted");

    memset(&row, 0, sizeof(row));
    if (!id || !normalized || !created || !modified || rs_uuid_parse(id, &row.id) != RS_OK)
        return rs_buf_append_str(out, "null");
    row.remote_id = text_at(res, i, "wh_remote_id");
    row.remote_id = row.remote_id ? row.remote_id : "";
    row.created_us = strtoll(created, NULL, 10);
    row.modified_us = strtoll(modified, NULL, 10);
    row.normalized = normalized;
    row.normalized_len = strlen(normalized);
    row.remote_was_deleted = deleted && deleted[0] == 't';
    return gw_render_row(&row, false, out);
}

enum rs_err wh_render_body(const PGresult *res, int i, const char *target,
                           const char *linked_account, struct rs_buf *out)
{
    const char *event = text_at(res, i, "wh_event"), *data = text_at(res, i, "wh_data");
    enum rs_err err =
        rs_buf_appendf(out, "{\"hook\":{\"id\":\"%s\",\"event\":", text_at(res, i, "wh_endpoint"));

    if (err == RS_OK)
        err = rs_buf_append_json_str(out, event ? event : "", event ? strlen(event) : 0);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"target\":");
    if (err == RS_OK)
        err = rs_buf_append_json_str(out, target, strlen(target));
    if (err == RS_OK)
        err = rs_buf_append_str(out, "},\"linked_account\":");
    if (err == RS_OK)
        err = rs_buf_append_str(out, linked_account ? linked_account : "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"data\":");
    if (err == RS_OK)
        err = data ? rs_buf_append_str(out, data) : render_record(res, i, out);
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

/* "{id,id,…}" of the distinct accounts of res's rows; NULL when out of memory. */
static char *account_ids(const PGresult *res)
{
    struct rs_buf lit;
    json_t *seen = json_object();
    char *out = NULL;
    enum rs_err err;

    rs_buf_init(&lit, 64 << 20);
    err = seen ? rs_buf_append(&lit, "{", 1) : RS_ERR_NOMEM;
    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        const char *id = text_at(res, i, "wh_account");

        if (!id || json_object_get(seen, id))
            continue;
        json_object_set_new(seen, id, json_true());
        err = rs_buf_appendf(&lit, "%s%s", lit.len > 1 ? "," : "", id);
    }
    if (err == RS_OK)
        err = rs_buf_append(&lit, "}", 1);
    if (err == RS_OK)
        out = rs_buf_steal(&lit);
    rs_buf_cleanup(&lit);
    json_decref(seen);
    return out;
}

#define SQL_ACCOUNTS                                                                               \
    "SELECT " GW_ACCOUNT_COLUMNS " FROM linked_accounts la WHERE la.id = ANY ($1::uuid[])"
#define SQL_DELETED                                                                                \
    "SELECT linked_account_id, account FROM webhook_deleted_accounts WHERE linked_account_id = "   \
    "ANY ($1::uuid[])"

json_t *wh_render_accounts(struct rs_db *db, const PGresult *res, struct rs_errbuf *eb)
{
    char *ids = account_ids(res);
    const char *params[1] = {ids};
    json_t *out = json_object();
    struct rs_buf text;
    PGresult *rows = NULL;
    enum rs_err err = ids && out ? RS_OK : RS_ERR_NOMEM;

    rs_buf_init(&text, 1 << 20);
    /* a deleted account's snapshot first: one that exists again (an id reused) wins below */
    if (err == RS_OK && !(rows = rs_db_exec(db, SQL_DELETED, 1, params, false, true, &err)))
        rs_errbuf_set(eb, err, "cannot read the deleted accounts");
    for (int i = 0; rows && i < PQntuples(rows); i++)
        json_object_set_new(out, PQgetvalue(rows, i, 0), json_string(PQgetvalue(rows, i, 1)));
    PQclear(rows);
    rows = NULL;
    if (err == RS_OK && !(rows = rs_db_exec(db, SQL_ACCOUNTS, 1, params, false, true, &err)))
        rs_errbuf_set(eb, err, "cannot read the linked accounts");
    for (int i = 0; rows && i < PQntuples(rows) && err == RS_OK; i++) {
        rs_buf_reset(&text);
        err = gw_render_account(rows, i, GW_ACCOUNT_DETAILS, &text);
        if (err == RS_OK)
            json_object_set_new(out, PQgetvalue(rows, i, 0), json_string(text.data));
    }
    PQclear(rows);
    rs_buf_cleanup(&text);
    free(ids);
    if (err != RS_OK) {
        json_decref(out);
        return NULL;
    }
    return out;
}
