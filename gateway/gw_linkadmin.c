/*
 * The admin API over link sessions (Bearer API key): list the organization's links with their
 * status, get one, revoke one, re-issue one (a new link for the same end user; the old one
 * stops working), and the organization's link settings (return URL, postMessage origin).
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "roster/lf_session.h"
#include "roster/lf_token.h"
#include "roster/prov.h"
#include "roster/rs_log.h"
#include "roster/rs_time.h"

static enum rs_err time_field(struct rs_buf *out, const char *key, int64_t us)
{
    char iso[RS_TIME_ISO_LEN];

    if (!us)
        return rs_buf_appendf(out, ",\"%s\":null", key);
    return rs_buf_appendf(out, ",\"%s\":\"%s\"", key, rs_time_format(us, iso));
}

static enum rs_err text_field(struct rs_buf *out, const char *key, const char *value)
{
    enum rs_err err = rs_buf_appendf(out, ",\"%s\":", key);

    if (err != RS_OK)
        return err;
    if (!value || !*value)
        return rs_buf_append_str(out, "null");
    return rs_buf_append_json_str(out, value, strlen(value));
}

/* One link as the admin API shows it. */
static enum rs_err link_json(const struct lf_session *s, struct rs_buf *out)
{
    enum rs_err err = rs_buf_appendf(out, "{\"id\":\"%s\",\"status\":\"%s\"", s->id_text,
                                     lf_token_state_name(s->state));

    if (err == RS_OK)
        err = text_field(out, "end_user_origin_id", s->origin_id);
    if (err == RS_OK)
        err = text_field(out, "end_user_organization_name", s->end_user_org_name);
    if (err == RS_OK)
        err = text_field(out, "end_user_email_address", s->email);
    if (err == RS_OK)
        err = text_field(out, "integration", s->integration);
    if (err == RS_OK)
        err = rs_buf_appendf(out, ",\"magic_link\":%s,\"link_expiry_mins\":%d",
                             s->magic_link ? "true" : "false", s->expiry_mins);
    if (err == RS_OK)
        err = time_field(out, "created_at", s->created_us);
    if (err == RS_OK)
        err = time_field(out, "expires_at", s->expires_us);
    if (err == RS_OK)
        err = time_field(out, "completed_at", s->used_us);
    if (err == RS_OK)
        err = time_field(out, "revoked_at", s->revoked_us);
    if (err == RS_OK)
        err = text_field(out, "linked_account_id", s->linked_account);
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

static const char *const state_conditions[][2] = {
    {"ACTIVE", " AND s.revoked_at IS NULL AND s.used_at IS NULL AND s.expires_at > now()"},
    {"COMPLETED", " AND s.revoked_at IS NULL AND s.used_at IS NOT NULL"},
    {"EXPIRED", " AND s.revoked_at IS NULL AND s.used_at IS NULL AND s.expires_at <= now()"},
    {"REVOKED", " AND s.revoked_at IS NOT NULL"},
};

static enum rs_err list_sql(struct gw_req *req, const struct rs_cursor *cursor, int page_size,
                            struct rs_buf *sql, const char **params, char owned[2][40], int *n)
{
    const char *status = evhttp_find_header(&req->query, "status");
    const char *origin = evhttp_find_header(&req->query, "end_user_origin_id");
    enum rs_err err = rs_buf_append_str(sql, "SELECT " LF_SESSION_COLUMNS " FROM " LF_SESSION_FROM
                                             " WHERE s.organization_id = $1::uuid");
    size_t k = 0;

    params[(*n)++] = req->org_text;
    if (status) {
        for (k = 0; k < 4 && strcmp(state_conditions[k][0], status) != 0; k++)
            continue;
        if (k == 4)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "status",
                                   "status must be ACTIVE, COMPLETED, EXPIRED or REVOKED");
        err = rs_buf_append_str(sql, state_conditions[k][1]);
    }
    if (err == RS_OK && origin) {
        params[(*n)++] = origin;
        err = rs_buf_appendf(sql, " AND s.end_user_origin_id = $%d", *n);
    }
    if (err == RS_OK && cursor) {
        snprintf(owned[0], 40, "%lld", (long long)cursor->sort_us);
        params[(*n)++] = owned[0];
        params[(*n)++] = rs_uuid_format(&cursor->id, owned[1]);
        err = rs_buf_appendf(sql,
                             " AND ((extract(epoch FROM s.created_at) * 1000000)::int8, s.id) < "
                             "($%d::int8, $%d::uuid)",
                             *n - 1, *n);
    }
    if (err == RS_OK)
        err = rs_buf_appendf(sql, " ORDER BY s.created_at DESC, s.id DESC LIMIT %d", page_size + 1);
    return err;
}

static enum rs_err list_page(struct gw_req *req, const char *context, const PGresult *res,
                             int page_size, struct rs_buf *out)
{
    int fetched = PQntuples(res), n = fetched > page_size ? page_size : fetched;
    struct lf_session s;
    enum rs_err err = rs_buf_append_str(out, "{\"next\":");

    if (err == RS_OK && fetched > page_size) {
        struct rs_cursor cur = {.backward = false};
        char text[RS_CURSOR_MAX_LEN];

        if ((err = lf_session_from_row(res, n - 1, &s)) == RS_OK) {
            cur.sort_us = s.created_us;
            cur.id = s.id;
            err = rs_buf_appendf(out, "\"%s\"",
                                 rs_cursor_encode(&cur, context, req->app->cursor_key, text));
        }
    } else if (err == RS_OK) {
        err = rs_buf_append_str(out, "null");
    }
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"previous\":null,\"results\":[");
    for (int i = 0; i < n && err == RS_OK; i++) {
        err = lf_session_from_row(res, i, &s);
        if (err == RS_OK && i)
            err = rs_buf_append(out, ",", 1);
        if (err == RS_OK)
            err = link_json(&s, out);
    }
    return err == RS_OK ? rs_buf_append_str(out, "]}") : err;
}

void gw_handle_admin_links_list(struct gw_req *req)
{
    char context[96], owned[2][40];
    const char *params[5];
    struct rs_cursor cursor;
    struct rs_buf sql, body;
    PGresult *res = NULL;
    int page_size, n = 0;
    bool has_cursor;
    enum rs_err err;

    rs_buf_init(&sql, 16 * 1024);
    rs_buf_init(&body, 16 << 20);
    snprintf(context, sizeof(context), "%s/link-tokens", req->org_text);
    err = gw_query_page(req, context, &page_size, &has_cursor, &cursor);
    if (err == RS_OK && has_cursor && cursor.backward)
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "cursor", "cursor is not of this list");
    if (err == RS_OK)
        err = list_sql(req, has_cursor ? &cursor : NULL, page_size, &sql, params, owned, &n);
    if (err == RS_OK)
        res = rs_db_exec(req->db, sql.data, n, params, false, false, &err);
    if (res)
        err = list_page(req, context, res, page_size, &body);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&sql);
    rs_buf_cleanup(&body);
}

/* The link of the path, of the caller's organization. */
static enum rs_err path_link(struct gw_req *req, struct lf_session *s)
{
    char id[RS_UUID_STR_LEN];
    enum rs_err err = gw_req_path_id(req, id);

    return err == RS_OK ? lf_session_by_id(req->db, req->org_text, id, s, &req->eb) : err;
}

static void reply_link(struct gw_req *req, enum rs_err err, const struct lf_session *s)
{
    struct rs_buf body;

    rs_buf_init(&body, 64 * 1024);
    if (err == RS_OK)
        err = link_json(s, &body);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
}

void gw_handle_admin_link_get(struct gw_req *req)
{
    struct lf_session s;

    reply_link(req, path_link(req, &s), &s);
}

void gw_handle_admin_link_revoke(struct gw_req *req)
{
    struct lf_session s;
    enum rs_err err = path_link(req, &s);

    if (err == RS_OK)
        err = lf_session_revoke(req->db, req->org_text, s.id_text, &req->eb);
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "link revoked", "session=%s org=%s", s.id_text, req->org_text);
        err = lf_session_by_id(req->db, req->org_text, s.id_text, &s, &req->eb);
    }
    reply_link(req, err, &s);
}

/* The optional {"link_expiry_mins": n} of a re-issue (default: the old link's lifetime). */
static enum rs_err reissue_expiry(struct gw_req *req, const struct lf_session *old, int *mins)
{
    json_t *body = NULL;
    size_t len;
    enum rs_err err = RS_OK;

    *mins = old->expiry_mins;
    (void)gw_req_body(req, &len);
    if (len == 0)
        return RS_OK;
    if ((err = gw_req_json_body(req, &body)) == RS_OK && json_object_get(body, "link_expiry_mins"))
        err = lf_token_expiry(json_object_get(body, "link_expiry_mins"), mins, &req->eb);
    json_decref(body);
    return err;
}

static enum rs_err reissue(struct gw_req *req, const struct lf_session *old, struct rs_buf *out)
{
    char token[RS_TOKEN_MAX_LEN] = "", id[RS_UUID_STR_LEN];
    struct lf_session_new n = {
        .org_text = req->org_text,
        .origin_id = old->origin_id,
        .end_user_org_name = old->end_user_org_name,
        .email = old->email,
        .integration = old->integration[0] ? old->integration : NULL,
        .base_url = old->base_url[0] ? old->base_url : NULL,
        .linked_account = old->linked_account[0] ? old->linked_account : NULL,
        .reissued_from = old->id_text,
        .magic_link = true,
    };
    enum rs_err err = reissue_expiry(req, old, &n.expiry_mins);

    if (err == RS_OK && old->state == LF_LINK_ACTIVE)
        err = lf_session_revoke(req->db, req->org_text, old->id_text, &req->eb);
    if (err == RS_OK)
        err = lf_session_create(req->db, &n, token, id, &req->eb);
    if (err == RS_OK)
        err = rs_buf_appendf(out, "{\"id\":\"%s\",\"reissued_from\":\"%s\",\"token\":", id,
                             old->id_text);
    if (err == RS_OK)
        err = gw_link_token_json(req, token, n.integration ? prov_find(n.integration) : NULL, true,
                                 out);
    if (err == RS_OK)
        err = rs_buf_append(out, "}", 1);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "link re-issued", "session=%s old=%s org=%s", id, old->id_text,
               req->org_text);
    sodium_memzero(token, sizeof(token));
    return err;
}

void gw_handle_admin_link_reissue(struct gw_req *req)
{
    struct lf_session old;
    struct rs_buf body;
    enum rs_err err;

    rs_buf_init(&body, 64 * 1024);
    err = path_link(req, &old);
    if (err == RS_OK && old.state == LF_LINK_COMPLETED)
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT,
                            "this link completed a connection; create a new link-token instead");
    if (err == RS_OK)
        err = rs_db_command(req->db, "BEGIN");
    if (err == RS_OK) {
        err = reissue(req, &old, &body);
        if (err == RS_OK)
            err = rs_db_command(req->db, "COMMIT");
        if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
    if (err == RS_OK)
        gw_reply_json(req, 201, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
}

/* ---- settings ---- */

#define SQL_SETTINGS                                                                               \
    "SELECT json_build_object('return_url', link_return_url, 'opener_origin', "                    \
    "link_opener_origin)::text FROM organizations WHERE id = $1::uuid"
#define SQL_SETTINGS_UPDATE                                                                        \
    "UPDATE organizations SET link_return_url = CASE WHEN $2::boolean THEN $3 ELSE "               \
    "link_return_url END, link_opener_origin = CASE WHEN $4::boolean THEN $5 ELSE "                \
    "link_opener_origin END WHERE id = $1::uuid"

/*
 * An absolute http(s) URL with a host, without user info or fragment; origin_only also refuses
 * a path (other than "/"), a query and a port-less mismatch: what postMessage takes.
 */
static bool url_ok(const char *text, bool origin_only)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *fragment = NULL, *path = NULL, *query = NULL;
    bool ok = u && strlen(text) <= LF_URL_MAX && !strpbrk(text, " \t\r\n\"<>\\") &&
              curl_url_set(u, CURLUPART_URL, text, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
              curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK &&
              curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) != CURLUE_OK;

    if (ok && origin_only) {
        ok = curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK &&
             curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") == 0 &&
             text[strlen(text) - 1] != '/';
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(fragment);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return ok;
}

/* A settings member: absent (*given false), null (clears), or a valid URL. */
static enum rs_err setting(struct gw_req *req, const json_t *body, const char *name,
                           bool origin_only, bool *given, const char **value)
{
    const json_t *v = json_object_get(body, name);

    *given = v != NULL;
    *value = NULL;
    if (!v || json_is_null(v))
        return RS_OK;
    if (!json_is_string(v) || !url_ok(json_string_value(v), origin_only))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name,
                               origin_only ? "%s must be an origin such as https://app.example.com"
                                           : "%s must be an http(s) URL without user or fragment",
                               name);
    *value = json_string_value(v);
    return RS_OK;
}

static void reply_settings(struct gw_req *req)
{
    const char *params[1] = {req->org_text};
    struct rs_buf body;
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, SQL_SETTINGS, 1, params, false, true, &err);

    rs_buf_init(&body, 16 * 1024);
    if (res && PQntuples(res) == 1)
        err = rs_buf_append(&body, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    else if (res)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "organization not found");
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&body);
}

void gw_handle_admin_link_settings_get(struct gw_req *req)
{
    reply_settings(req);
}

void gw_handle_admin_link_settings_patch(struct gw_req *req)
{
    json_t *body = NULL;
    const char *ret = NULL, *origin = NULL;
    bool has_ret = false, has_origin = false;
    PGresult *res = NULL;
    enum rs_err err = gw_req_json_body(req, &body);

    if (err == RS_OK)
        err = setting(req, body, "return_url", false, &has_ret, &ret);
    if (err == RS_OK)
        err = setting(req, body, "opener_origin", true, &has_origin, &origin);
    if (err == RS_OK) {
        const char *params[5] = {req->org_text, has_ret ? "true" : "false", ret,
                                 has_origin ? "true" : "false", origin};
        res = rs_db_exec(req->db, SQL_SETTINGS_UPDATE, 5, params, false, true, &err);
    }
    PQclear(res);
    json_decref(body);
    if (err != RS_OK) {
        gw_reply_error(req, err);
        return;
    }
    rs_log(RS_LOG_INFO, "link settings changed", "org=%s", req->org_text);
    reply_settings(req);
}
