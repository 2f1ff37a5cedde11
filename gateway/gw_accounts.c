/*
 * Linked accounts as Merge shows them: /account-details (the account of the X-Account-Token)
 * and /linked-accounts (the organization's accounts, filtered and paginated), plus the JSON
 * rendering the admin API shares.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include "roster/prov.h"
#include "roster/rs_time.h"

enum {
    C_ID,
    C_INTEGRATION,
    C_CATEGORY,
    C_ORIGIN,
    C_ORG_NAME,
    C_EMAIL,
    C_STATUS,
    C_BASE_URL,
    C_CREATED,
    C_COMPLETED,
    C_CREATED_US,
    C_STATUS_DETAIL,
    C_LAST_ERROR,
    C_DEACTIVATED
};

static enum rs_err text_field(struct rs_buf *out, const char *key, const PGresult *res, int i,
                              int col)
{
    enum rs_err err = rs_buf_appendf(out, ",\"%s\":", key);

    if (err != RS_OK)
        return err;
    if (PQgetisnull(res, i, col))
        return rs_buf_append_str(out, "null");
    return rs_buf_append_json_str(out, PQgetvalue(res, i, col), (size_t)PQgetlength(res, i, col));
}

static enum rs_err integration_object(struct rs_buf *out, const char *slug)
{
    const struct prov_ops *ops = prov_find(slug);
    const char *name = ops ? ops->name : slug, *color = ops ? ops->color : "#000000";
    enum rs_err err = rs_buf_append_str(out, ",\"integration\":{\"name\":");

    if (err == RS_OK)
        err = rs_buf_append_json_str(out, name, strlen(name));
    if (err == RS_OK)
        err = rs_buf_appendf(out,
                             ",\"categories\":[\"hris\"],\"image\":null,"
                             "\"square_image\":null,\"color\":\"%s\",\"slug\":",
                             color);
    if (err == RS_OK)
        err = rs_buf_append_json_str(out, slug, strlen(slug));
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"passthrough_available\":false,"
                                     "\"available_model_operations\":[]}");
    return err;
}

/*
 * Merge's AccountDetails, fields in the SDK's order. webhook_listener_url is "" because Roster
 * has no listener for provider webhooks yet (the SDK requires a string there).
 */
static enum rs_err render_details(const PGresult *res, int i, const struct prov_ops *ops,
                                  struct rs_buf *out)
{
    const char *slug = PQgetvalue(res, i, C_INTEGRATION), *name = ops ? ops->name : slug;
    enum rs_err err =
        rs_buf_appendf(out, "{\"id\":\"%s\",\"integration\":", PQgetvalue(res, i, C_ID));

    if (err == RS_OK)
        err = rs_buf_append_json_str(out, name, strlen(name));
    if (err == RS_OK)
        err = text_field(out, "integration_slug", res, i, C_INTEGRATION);
    if (err == RS_OK)
        err = text_field(out, "category", res, i, C_CATEGORY);
    if (err == RS_OK)
        err = text_field(out, "end_user_origin_id", res, i, C_ORIGIN);
    if (err == RS_OK)
        err = text_field(out, "end_user_organization_name", res, i, C_ORG_NAME);
    if (err == RS_OK)
        err = text_field(out, "end_user_email_address", res, i, C_EMAIL);
    if (err == RS_OK)
        err = text_field(out, "status", res, i, C_STATUS);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"webhook_listener_url\":\"\",\"is_duplicate\":null,"
                                     "\"account_type\":\"PRODUCTION\"");
    if (err == RS_OK)
        err = text_field(out, "completed_at", res, i, C_COMPLETED);
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

/* Merge's LinkedAccount list item (SDK order); the admin view adds base_url and created_at. */
static enum rs_err render_linked(const PGresult *res, int i, bool admin, struct rs_buf *out)
{
    enum rs_err err = rs_buf_appendf(out, "{\"id\":\"%s\"", PQgetvalue(res, i, C_ID));

    if (err == RS_OK)
        err = text_field(out, "category", res, i, C_CATEGORY);
    if (err == RS_OK)
        err = text_field(out, "status", res, i, C_STATUS);
    if (err == RS_OK)
        err = text_field(out, "status_detail", res, i, C_STATUS_DETAIL);
    if (err == RS_OK)
        err = text_field(out, "end_user_origin_id", res, i, C_ORIGIN);
    if (err == RS_OK)
        err = text_field(out, "end_user_organization_name", res, i, C_ORG_NAME);
    if (err == RS_OK)
        err = text_field(out, "end_user_email_address", res, i, C_EMAIL);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"subdomain\":null,\"webhook_listener_url\":\"\","
                                     "\"is_duplicate\":null");
    if (err == RS_OK)
        err = integration_object(out, PQgetvalue(res, i, C_INTEGRATION));
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"account_type\":\"PRODUCTION\"");
    if (err == RS_OK)
        err = text_field(out, "completed_at", res, i, C_COMPLETED);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"integration_specific_fields\":null");
    if (err == RS_OK && admin)
        err = text_field(out, "base_url", res, i, C_BASE_URL);
    if (err == RS_OK && admin)
        err = text_field(out, "created_at", res, i, C_CREATED);
    if (err == RS_OK && admin)
        err = text_field(out, "last_error", res, i, C_LAST_ERROR);
    if (err == RS_OK && admin)
        err = text_field(out, "deactivated_at", res, i, C_DEACTIVATED);
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

enum rs_err gw_render_account(const PGresult *res, int i, enum gw_account_view view,
                              struct rs_buf *out)
{
    if (view == GW_ACCOUNT_DETAILS)
        return render_details(res, i, prov_find(PQgetvalue(res, i, C_INTEGRATION)), out);
    return render_linked(res, i, view == GW_ACCOUNT_ADMIN, out);
}

void gw_handle_account_details(struct gw_req *req)
{
    static const char sql[] = "SELECT " GW_ACCOUNT_COLUMNS " FROM linked_accounts la "
                              "WHERE la.id = $1::uuid AND la.organization_id = $2::uuid";
    const char *params[2] = {req->account.id_text, req->org_text};
    struct rs_buf body;
    PGresult *res;
    enum rs_err err;

    rs_buf_init(&body, 1 << 20);
    res = rs_db_exec(req->db, sql, 2, params, false, true, &err);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "linked account not found");
    else if (res)
        err = gw_render_account(res, 0, GW_ACCOUNT_DETAILS, &body);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&body);
}

void gw_handle_linked_accounts(struct gw_req *req)
{
    gw_list_accounts(req, GW_ACCOUNT_LINKED);
}

static const char *const status_values[] = {"COMPLETE", "INCOMPLETE", "RELINK_NEEDED", "IDLE"};

struct account_filter {
    const char *name;
    const char *condition; /* %d = the parameter's number */
    bool uuid_list;        /* comma-separated UUIDs turned into a uuid[] literal */
    bool text_list;        /* comma-separated values turned into a text[] literal */
};

static const struct account_filter account_filters[] = {
    {"id", " AND la.id = $%d::uuid", false, false},
    {"ids", " AND la.id = ANY($%d::uuid[])", true, false},
    {"end_user_origin_id", " AND la.end_user_origin_id = $%d", false, false},
    {"end_user_origin_ids", " AND la.end_user_origin_id = ANY($%d::text[])", false, true},
    {"end_user_email_address", " AND la.end_user_email_address = $%d", false, false},
    {"end_user_organization_name", " AND la.end_user_organization_name = $%d", false, false},
    {"integration_name", " AND la.integration = lower($%d)", false, false},
    {"category", " AND la.category = $%d", false, false},
    {"status", " AND la.status = $%d", false, false},
};
#define NFILTERS (sizeof(account_filters) / sizeof(account_filters[0]))

/* Validates one filter value; list filters become array literals in *owned. */
static enum rs_err filter_value(struct gw_req *req, const struct account_filter *f,
                                const char *value, char **owned)
{
    struct rs_uuid uuid;
    struct rs_buf lit;
    enum rs_err err = RS_OK;

    if (strcmp(f->name, "id") == 0 && rs_uuid_parse(value, &uuid) != RS_OK)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, f->name, "id must be a UUID");
    if (strcmp(f->name, "status") == 0) {
        bool ok = false;
        for (size_t i = 0; i < 4; i++)
            ok = ok || strcmp(status_values[i], value) == 0;
        if (!ok)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "status",
                                   "status must be COMPLETE, INCOMPLETE, RELINK_NEEDED or IDLE");
    }
    if (!f->uuid_list && !f->text_list) {
        *owned = strdup(value);
        return *owned ? RS_OK : RS_ERR_NOMEM;
    }
    rs_buf_init(&lit, 64 * 1024);
    err = rs_buf_append(&lit, "{", 1);
    for (const char *p = value; err == RS_OK;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[128];

        if (len == 0 || len >= sizeof(item) ||
            (memcpy(item, p, len), item[len] = '\0',
             f->uuid_list && rs_uuid_parse(item, &uuid) != RS_OK) ||
            strpbrk(item, "\"\\{}") != NULL) {
            rs_buf_cleanup(&lit);
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, f->name,
                                   "%s must be a comma-separated list of %s", f->name,
                                   f->uuid_list ? "UUIDs" : "plain values");
        }
        err = rs_buf_appendf(&lit, "%s\"%s\"", p == value ? "" : ",", item);
        if (!comma)
            break;
        p = comma + 1;
    }
    if (err == RS_OK)
        err = rs_buf_append(&lit, "}", 1);
    *owned = err == RS_OK ? rs_buf_steal(&lit) : NULL;
    rs_buf_cleanup(&lit);
    return err;
}

/* The conditions are the literals of account_filters, so the non-literal format is safe. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static enum rs_err accounts_sql(struct gw_req *req, const struct rs_cursor *cursor, int page_size,
                                struct rs_buf *sql, char **owned, int *nparams)
{
    enum rs_err err =
        rs_buf_append_str(sql, "SELECT " GW_ACCOUNT_COLUMNS " FROM linked_accounts la WHERE "
                               "la.organization_id = $1::uuid");

    owned[0] = strdup(req->org_text);
    *nparams = 1;
    for (size_t i = 0; i < NFILTERS && err == RS_OK; i++) {
        const char *value = evhttp_find_header(&req->query, account_filters[i].name);

        if (!value)
            continue;
        err = filter_value(req, &account_filters[i], value, &owned[*nparams]);
        if (err == RS_OK)
            err = rs_buf_appendf(sql, account_filters[i].condition, ++*nparams);
    }
    if (err == RS_OK && cursor) {
        char when[RS_TIME_ISO_LEN + 2], id[RS_UUID_STR_LEN];

        snprintf(when, sizeof(when), "%lld", (long long)cursor->sort_us);
        owned[*nparams] = strdup(when);
        owned[*nparams + 1] = strdup(rs_uuid_format(&cursor->id, id));
        err = rs_buf_appendf(sql,
                             " AND ((extract(epoch from la.created_at) * 1000000)::int8, la.id) "
                             "%s ($%d::int8, $%d::uuid)",
                             cursor->backward ? "<" : ">", *nparams + 1, *nparams + 2);
        *nparams += 2;
    }
    if (err == RS_OK)
        err = rs_buf_appendf(sql, " ORDER BY la.created_at %s, la.id %s LIMIT %d",
                             cursor && cursor->backward ? "DESC" : "ASC",
                             cursor && cursor->backward ? "DESC" : "ASC", page_size + 1);
    return err;
}
#pragma GCC diagnostic pop

static enum rs_err account_cursor(struct gw_req *req, const char *context, const PGresult *res,
                                  int row, bool backward, struct rs_buf *out)
{
    struct rs_cursor cur = {.backward = backward};
    char text[RS_CURSOR_MAX_LEN];

    cur.sort_us = strtoll(PQgetvalue(res, row, C_CREATED_US), NULL, 10);
    if (rs_uuid_parse(PQgetvalue(res, row, C_ID), &cur.id) != RS_OK)
        return RS_ERR_INTERNAL;
    return rs_buf_appendf(out, "\"%s\"",
                          rs_cursor_encode(&cur, context, req->app->cursor_key, text));
}

static enum rs_err accounts_page(struct gw_req *req, const char *context, const PGresult *res,
                                 int page_size, const struct rs_cursor *cursor,
                                 enum gw_account_view view, struct rs_buf *out)
{
    bool backward = cursor && cursor->backward;
    int fetched = PQntuples(res), n = fetched > page_size ? page_size : fetched;
    bool more = fetched > page_size;
    enum rs_err err = rs_buf_append_str(out, "{\"next\":");

    if (err == RS_OK)
        err = n > 0 && (backward || more)
                  ? account_cursor(req, context, res, backward ? 0 : n - 1, false, out)
                  : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"previous\":");
    if (err == RS_OK)
        err = n > 0 && (backward ? more : cursor != NULL)
                  ? account_cursor(req, context, res, backward ? n - 1 : 0, true, out)
                  : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"results\":[");
    for (int k = 0; k < n && err == RS_OK; k++) {
        err = rs_buf_append_str(out, k ? "," : "");
        if (err == RS_OK)
            err = gw_render_account(res, backward ? n - 1 - k : k, view, out);
    }
    return err == RS_OK ? rs_buf_append_str(out, "]}") : err;
}

void gw_list_accounts(struct gw_req *req, enum gw_account_view view)
{
    char context[96], *owned[NFILTERS + 4] = {0};
    struct rs_cursor cursor;
    struct rs_buf sql, body;
    PGresult *res = NULL;
    int page_size, nparams = 0;
    bool has_cursor;
    enum rs_err err;

    rs_buf_init(&sql, 64 * 1024);
    rs_buf_init(&body, 64 << 20);
    snprintf(context, sizeof(context), "%s/linked-accounts", req->org_text);
    err = gw_query_page(req, context, &page_size, &has_cursor, &cursor);
    if (err == RS_OK)
        err = accounts_sql(req, has_cursor ? &cursor : NULL, page_size, &sql, owned, &nparams);
    if (err == RS_OK)
        res = rs_db_exec(req->db, sql.data, nparams, (const char *const *)owned, false, true, &err);
    if (res)
        err = accounts_page(req, context, res, page_size, has_cursor ? &cursor : NULL, view, &body);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    for (size_t i = 0; i < NFILTERS + 4; i++)
        free(owned[i]);
    rs_buf_cleanup(&sql);
    rs_buf_cleanup(&body);
}
