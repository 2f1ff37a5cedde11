/*
 * Sync over HTTP: Merge's /sync-status and /sync-status/resync for the app, and the admin API's
 * sync settings (schedule, selective sync, mass-change guard), history, "sync now", and the
 * approve/discard decision on a sync the guard paused.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "roster/rs_log.h"
#include "sync_int.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define SQL_STATUS                                                                                 \
    "SELECT (SELECT " ISO(                                                                         \
        "started_at") " FROM syncs WHERE linked_account_id = la.id AND "                           \
                      "started_at IS NOT NULL ORDER BY started_at DESC LIMIT 1), " ISO(            \
                          "f.finished_at") ", f.status, "                                          \
                                           "EXISTS (SELECT 1 FROM syncs WHERE linked_account_id "  \
                                           "= la.id AND status IN ('QUEUED', "                     \
                                           "'SYNCING')), EXISTS (SELECT 1 FROM syncs WHERE "       \
                                           "linked_account_id = la.id AND status = "               \
                                           "'PAUSED'), NOT EXISTS (SELECT 1 FROM syncs WHERE "     \
                                           "linked_account_id = la.id AND status = "               \
                                           "'DONE'), " ISO(                                        \
                                               "la.next_sync_at") ", la.status, la.sync_scope <> " \
                                                                  "'{}'::jsonb "                   \
                                                                  "FROM linked_accounts la LEFT "  \
                                                                  "JOIN LATERAL (SELECT "          \
                                                                  "finished_at, status FROM "      \
                                                                  "syncs WHERE "                   \
                                                                  "linked_account_id = la.id AND " \
                                                                  "finished_at IS NOT NULL ORDER " \
                                                                  "BY finished_at DESC LIMIT 1) "  \
                                                                  "f "                             \
                                                                  "ON true WHERE la.id = $1::uuid"

enum { S_START, S_FINISHED, S_RESULT, S_SYNCING, S_PAUSED, S_INITIAL, S_NEXT, S_ACCOUNT, S_SCOPE };

static const char *result_name(const char *status)
{
    if (strcmp(status, "DONE") == 0 || strcmp(status, "PAUSED") == 0)
        return status;
    return "FAILED"; /* FAILED, and a DISCARDED sync: nothing of it was applied */
}

static const char *status_name(const PGresult *res)
{
    if (strcmp(PQgetvalue(res, 0, S_ACCOUNT), "COMPLETE") != 0)
        return "DISABLED";
    if (strcmp(PQgetvalue(res, 0, S_PAUSED), "t") == 0)
        return "PAUSED";
    if (strcmp(PQgetvalue(res, 0, S_SYNCING), "t") == 0)
        return "SYNCING";
    return PQgetisnull(res, 0, S_RESULT) ? "SYNCING" : result_name(PQgetvalue(res, 0, S_RESULT));
}

static enum rs_err time_or_null(struct rs_buf *out, const char *key, const PGresult *res, int col)
{
    if (PQgetisnull(res, 0, col))
        return rs_buf_appendf(out, ",\"%s\":null", key);
    return rs_buf_appendf(out, ",\"%s\":\"%s\"", key, PQgetvalue(res, 0, col));
}

/* One SyncStatus object per model, all from the account's single sync stream. */
static enum rs_err render_statuses(const PGresult *res, struct rs_buf *out)
{
    enum rs_err err = rs_buf_append(out, "[", 1);

    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++) {
        const struct rs_model *m = rs_model_get((enum rs_model_kind)k);

        err = rs_buf_appendf(out, "%s{\"model_name\":\"%s\",\"model_id\":\"%s\"", k ? "," : "",
                             m->name, m->model_id);
        if (err == RS_OK)
            err = time_or_null(out, "last_sync_start", res, S_START);
        if (err == RS_OK)
            err = time_or_null(out, "next_sync_start", res, S_NEXT);
        if (err == RS_OK)
            err = PQgetisnull(res, 0, S_RESULT)
                      ? rs_buf_append_str(out, ",\"last_sync_result\":null")
                      : rs_buf_appendf(out, ",\"last_sync_result\":\"%s\"",
                                       result_name(PQgetvalue(res, 0, S_RESULT)));
        if (err == RS_OK)
            err = time_or_null(out, "last_sync_finished", res, S_FINISHED);
        if (err == RS_OK)
            err = rs_buf_appendf(out,
                                 ",\"status\":\"%s\",\"is_initial_sync\":%s,"
                                 "\"selective_sync_configurations_usage\":%s}",
                                 status_name(res),
                                 strcmp(PQgetvalue(res, 0, S_INITIAL), "t") == 0 ? "true" : "false",
                                 strcmp(PQgetvalue(res, 0, S_SCOPE), "t") == 0 ? "\"IN_LAST_SYNC\""
                                                                               : "null");
    }
    return err == RS_OK ? rs_buf_append(out, "]", 1) : err;
}

static enum rs_err statuses(struct gw_req *req, struct rs_buf *out)
{
    const char *params[1] = {req->account.id_text};
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, SQL_STATUS, 1, params, false, true, &err);

    if (!res)
        return err;
    err = PQntuples(res) == 1
              ? render_statuses(res, out)
              : rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "linked account not found");
    PQclear(res);
    return err;
}

void gw_handle_sync_status(struct gw_req *req)
{
    struct rs_buf body;
    enum rs_err err;

    rs_buf_init(&body, 1 << 20);
    err = rs_buf_append_str(&body, "{\"next\":null,\"previous\":null,\"results\":");
    if (err == RS_OK)
        err = statuses(req, &body);
    if (err == RS_OK)
        err = rs_buf_append(&body, "}", 1);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
}

/*
 * RS_ERR_CONFLICT unless account is COMPLETE: a sync of an account that needs a relink would
 * fail at once, and its failure would schedule a retry the scheduler never runs.
 */
static enum rs_err require_complete(struct gw_req *req, const char *account)
{
    static const char sql[] = "SELECT status FROM linked_accounts WHERE id = $1::uuid";
    const char *params[1] = {account};
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, 1, params, false, true, &err);

    if (res && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "COMPLETE") != 0))
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT,
                            "the linked account is not COMPLETE (relink it first)");
    PQclear(res);
    return err;
}

void gw_handle_sync_resync(struct gw_req *req)
{
    struct rs_buf body;
    bool queued = false;
    enum rs_err err = require_complete(req, req->account.id_text);

    rs_buf_init(&body, 1 << 20);
    if (err == RS_OK)
        err = sync_queue_add(req->db, req->account.id_text, "FULL", "MANUAL", &queued, &req->eb);
    if (err == RS_OK)
        err = statuses(req, &body); /* Merge returns the bare array */
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
}

/* The account id of an admin path, checked to belong to the caller's organization. */
static enum rs_err admin_account(struct gw_req *req, char id[RS_UUID_STR_LEN])
{
    static const char sql[] = "SELECT 1 FROM linked_accounts WHERE id = $1::uuid AND "
                              "organization_id = $2::uuid";
    enum rs_err err = gw_req_path_id(req, id);

    return err == RS_OK ? gw_req_owned_row(req, sql, id, "linked account", NULL) : err;
}

#define SQL_SETTINGS                                                                               \
    "SELECT json_build_object('interval_minutes', sync_interval_s / 60, 'scope', sync_scope, "     \
    "'guard', json_build_object('max_share', guard_max_share, 'min_count', guard_min_count), "     \
    "'next_sync_at', " ISO("next_sync_at") ", 'last_full_sync_at', " ISO(                          \
        "last_full_sync_at") ")::text FROM linked_accounts WHERE id = $1::uuid"

static void reply_sql_json(struct gw_req *req, int status, const char *sql, int n,
                           const char *const *params)
{
    struct rs_buf body;
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, n, params, false, true, &err);

    rs_buf_init(&body, 16 << 20);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "not found");
    else if (res)
        err = rs_buf_append(&body, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (err == RS_OK)
        gw_reply_json(req, status, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&body);
}

void gw_handle_admin_sync_settings_get(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    const char *params[1] = {id};
    enum rs_err err = admin_account(req, id);

    if (err != RS_OK) {
        gw_reply_error(req, err);
        return;
    }
    reply_sql_json(req, 200, SQL_SETTINGS, 1, params);
}

/* Validates scope: {"group_ids": [UUID…], "exclude_emails": [string…]}, nothing else. */
static enum rs_err check_scope(struct gw_req *req, const json_t *scope)
{
    const char *key;
    json_t *value, *item;
    size_t i;
    struct rs_uuid uuid;

    if (!json_is_object(scope))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "scope", "scope must be an object");
    json_object_foreach((json_t *)scope, key, value)
    {
        bool ids = strcmp(key, "group_ids") == 0;

        if (!ids && strcmp(key, "exclude_emails") != 0)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "scope",
                                   "scope takes group_ids and exclude_emails only");
        if (!json_is_array(value) || json_array_size(value) > 10000)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "scope", "scope.%s must be a list",
                                   key);
        json_array_foreach(value, i, item)
        {
            if (!json_is_string(item) ||
                (ids && rs_uuid_parse(json_string_value(item), &uuid) != RS_OK))
                return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "scope",
                                       "scope.%s[%zu] must be %s", key, i,
                                       ids ? "a group id (UUID)" : "an email address");
        }
    }
    return RS_OK;
}

#define SQL_SETTINGS_UPDATE                                                                        \
    "UPDATE linked_accounts SET sync_interval_s = COALESCE($2::int * 60, sync_interval_s), "       \
    "sync_scope = COALESCE($3::jsonb, sync_scope), guard_max_share = COALESCE($4::real, "          \
    "guard_max_share), guard_min_count = COALESCE($5::int, guard_min_count), next_sync_at = "      \
    "CASE WHEN $2::int IS NOT NULL AND next_sync_at IS NOT NULL THEN LEAST(next_sync_at, now() + " \
    "make_interval(mins => $2::int)) ELSE next_sync_at END, modified_at = now() "                  \
    "WHERE id = $1::uuid"

struct settings_patch {
    char interval[16], share[32], min_count[16];
    char *scope; /* malloc'd JSON text */
    bool has_interval, has_share, has_min;
};

static enum rs_err read_guard(struct gw_req *req, const json_t *guard, struct settings_patch *p)
{
    const json_t *share = json_object_get(guard, "max_share");
    const json_t *min = json_object_get(guard, "min_count");

    if (!json_is_object(guard))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "guard", "guard must be an object");
    if (share) {
        if (!json_is_number(share) || json_number_value(share) <= 0 || json_number_value(share) > 1)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "guard",
                                   "guard.max_share must be a number in (0, 1]");
        snprintf(p->share, sizeof(p->share), "%.6f", json_number_value(share));
        p->has_share = true;
    }
    if (min) {
        if (!json_is_integer(min) || json_integer_value(min) < 1 ||
            json_integer_value(min) > 1000000)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "guard",
                                   "guard.min_count must be an integer of at least 1");
        snprintf(p->min_count, sizeof(p->min_count), "%lld", (long long)json_integer_value(min));
        p->has_min = true;
    }
    return RS_OK;
}

static enum rs_err read_patch(struct gw_req *req, const json_t *body, struct settings_patch *p)
{
    const json_t *interval = json_object_get(body, "interval_minutes");
    const json_t *scope = json_object_get(body, "scope"), *guard = json_object_get(body, "guard");
    enum rs_err err;

    if (interval) {
        if (!json_is_integer(interval) || json_integer_value(interval) < 5 ||
            json_integer_value(interval) > 1440)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "interval_minutes",
                                   "interval_minutes must be an integer from 5 to 1440");
        snprintf(p->interval, sizeof(p->interval), "%lld", (long long)json_integer_value(interval));
        p->has_interval = true;
    }
    if (scope) {
        if ((err = check_scope(req, scope)) != RS_OK)
            return err;
        if (!(p->scope = json_dumps(scope, JSON_COMPACT)))
            return RS_ERR_NOMEM;
    }
    return guard ? read_guard(req, guard, p) : RS_OK;
}

void gw_handle_admin_sync_settings_patch(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    struct settings_patch p;
    json_t *body = NULL;
    PGresult *res = NULL;
    enum rs_err err;

    memset(&p, 0, sizeof(p));
    err = admin_account(req, id);
    if (err == RS_OK)
        err = gw_req_json_body(req, &body);
    if (err == RS_OK)
        err = read_patch(req, body, &p);
    if (err == RS_OK) {
        const char *params[5] = {id, p.has_interval ? p.interval : NULL, p.scope,
                                 p.has_share ? p.share : NULL, p.has_min ? p.min_count : NULL};
        res = rs_db_exec(req->db, SQL_SETTINGS_UPDATE, 5, params, false, true, &err);
    }
    if (err == RS_OK) {
        const char *params[1] = {id};
        rs_log(RS_LOG_INFO, "sync settings changed", "account=%s", id);
        reply_sql_json(req, 200, SQL_SETTINGS, 1, params);
    } else {
        gw_reply_error(req, err);
    }
    PQclear(res);
    free(p.scope);
    json_decref(body);
}

#define SQL_HISTORY                                                                                                                                                              \
    "SELECT COALESCE(json_agg(json_build_object('id', id, 'kind', kind, 'trigger', trigger, "                                                                                    \
    "'status', status, 'attempts', attempts, 'queued_at', " ISO(                                                                                                                 \
        "queued_at") ", 'started_at', " ISO("started_at") ", 'finished_at', " ISO("finished_at") ", 'reason', reason, 'stats', "                                                 \
                                                                                                 "stats) ORDER BY queued_at DESC), '[]')::text FROM (SELECT * FROM syncs WHERE " \
                                                                                                 "linked_account_id = $1::uuid ORDER BY queued_at DESC LIMIT 50) s"

void gw_handle_admin_syncs_list(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    const char *params[1] = {id};
    enum rs_err err = admin_account(req, id);

    if (err != RS_OK) {
        gw_reply_error(req, err);
        return;
    }
    reply_sql_json(req, 200, "SELECT '{\"results\":' || (" SQL_HISTORY ") || '}'", 1, params);
}

void gw_handle_admin_syncs_create(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    struct rs_buf body;
    json_t *in = NULL;
    const char *kind = "FULL";
    bool queued = false;
    enum rs_err err = admin_account(req, id);

    rs_buf_init(&body, 4096);
    if (err == RS_OK && evbuffer_get_length(evhttp_request_get_input_buffer(req->ev)) > 0)
        err = gw_req_json_body(req, &in);
    if (err == RS_OK && json_object_get(in, "kind")) {
        kind = json_string_value(json_object_get(in, "kind"));
        if (!kind || (strcmp(kind, "FULL") != 0 && strcmp(kind, "INCREMENTAL") != 0))
            err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "kind",
                                  "kind must be FULL or INCREMENTAL");
    }
    if (err == RS_OK)
        err = require_complete(req, id);
    if (err == RS_OK)
        err = sync_queue_add(req->db, id, kind, "MANUAL", &queued, &req->eb);
    if (err == RS_OK)
        err = rs_buf_appendf(&body, "{\"queued\":%s}", queued ? "true" : "false");
    if (err == RS_OK)
        gw_reply_json(req, 202, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
    json_decref(in);
}

static void decide(struct gw_req *req, bool approve)
{
    char id[RS_UUID_STR_LEN], sync[RS_UUID_STR_LEN];
    struct rs_uuid uuid;
    struct rs_buf body;
    enum rs_err err = admin_account(req, id);

    rs_buf_init(&body, 4096);
    if (err == RS_OK && rs_uuid_parse(req->params[1], &uuid) != RS_OK)
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "sync_id", "sync id must be a UUID");
    if (err == RS_OK)
        err = approve ? sync_run_approve(req->db, id, rs_uuid_format(&uuid, sync), &req->eb)
                      : sync_run_discard(req->db, id, rs_uuid_format(&uuid, sync), &req->eb);
    if (err == RS_OK)
        err = rs_buf_appendf(&body, "{\"id\":\"%s\",\"status\":\"%s\"}", sync,
                             approve ? "DONE" : "DISCARDED");
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, approve ? "paused sync approved" : "paused sync discarded",
               "account=%s sync=%s", id, sync);
        gw_reply_json(req, 200, &body);
    } else {
        gw_reply_error(req, err);
    }
    rs_buf_cleanup(&body);
}

void gw_handle_admin_sync_approve(struct gw_req *req)
{
    decide(req, true);
}

void gw_handle_admin_sync_discard(struct gw_req *req)
{
    decide(req, false);
}
