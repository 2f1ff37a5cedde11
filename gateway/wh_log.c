/*
 * The delivery log and replay of the admin API: an endpoint's messages (newest first, by
 * status and event), one message with the body it is sent with, its attempts (status, latency,
 * the start of the answer), and replay of one message or of every message since a time, with
 * the original webhook-id.
 */
#include "wh_int.h"

#include <stdlib.h>
#include <string.h>

#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_time.h"

#define ATTEMPT_JSON                                                                               \
    "json_build_object('attempt', a.attempt, 'attempted_at', to_char(a.attempted_at AT TIME "      \
    "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'result', a.result, 'status_code', "        \
    "a.status_code, 'latency_ms', a.latency_ms, 'response', a.response, 'error', a.error)"
/*
 * A message as the log shows it, aliases m and q (MESSAGE_FROM: its queue row, none once
 * delivered); parked: its endpoint is disabled.
 */
#define MESSAGE_JSON                                                                               \
    "json_build_object('id', m.id, 'event', m.event_type, 'linked_account_id', "                   \
    "m.linked_account_id, 'status', COALESCE(q.status, 'DELIVERED'), 'attempts', "                 \
    "COALESCE(q.attempts, (SELECT max(a.attempt) FROM webhook_attempts a WHERE a.endpoint_id = "   \
    "m.endpoint_id AND a.message_id = m.id), 0), 'next_attempt_at', CASE WHEN q.status = "         \
    "'PENDING' AND q.next_attempt_at < 'infinity' THEN to_char(q.next_attempt_at AT TIME ZONE "    \
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') END, 'parked', COALESCE(q.status = 'PENDING' "    \
    "AND "                                                                                         \
    "q.next_attempt_at = 'infinity', false), 'created_at', to_char(m.created_at AT TIME ZONE "     \
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'delivered_at', CASE WHEN q.id IS NULL THEN "    \
    "(SELECT to_char(max(a.attempted_at) AT TIME ZONE 'UTC', "                                     \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "                                                        \
    "FROM webhook_attempts a WHERE a.endpoint_id = m.endpoint_id AND a.message_id = m.id AND "     \
    "a.result = 'SUCCESS') END, 'last_attempt', (SELECT " ATTEMPT_JSON " FROM webhook_attempts a " \
    "WHERE a.endpoint_id = m.endpoint_id AND a.message_id = m.id ORDER BY a.attempt DESC LIMIT "   \
    "1))::text"
#define MESSAGE_FROM                                                                               \
    "webhook_messages m LEFT JOIN webhook_queue q ON q.endpoint_id = m.endpoint_id AND q.id = "    \
    "m.id"
#define MESSAGE_STATUS "COALESCE(q.status, 'DELIVERED')"

static const char *const statuses[] = {"PENDING", "DELIVERED", "DEAD", NULL};

/* A status filter: NULL, or one of statuses (400 naming param otherwise). */
static enum rs_err read_status(struct gw_req *req, const char *param, const char *value)
{
    for (size_t i = 0; value && statuses[i]; i++) {
        if (strcmp(statuses[i], value) == 0)
            return RS_OK;
    }
    if (!value)
        return RS_OK;
    return rs_errbuf_param(&req->eb, RS_ERR_INVALID, param, "%s must be PENDING, DELIVERED or DEAD",
                           param);
}

/* Replies with rows' first column (JSON texts) as {"next", "previous": null, "results"}. */
static void reply_page(struct gw_req *req, const PGresult *res, int page_size, const char *next)
{
    json_t *page = json_pack("{s:s?, s:n, s:[]}", "next", next, "previous", "results");
    json_t *results = json_object_get(page, "results");
    struct rs_buf body;
    char *text;
    int n = PQntuples(res) < page_size ? PQntuples(res) : page_size;

    for (int i = 0; results && i < n; i++)
        json_array_append_new(results, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    text = page ? json_dumps(page, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    rs_buf_init(&body, 64 << 20);
    if (text && rs_buf_append_str(&body, text) == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, RS_ERR_NOMEM);
    free(text);
    json_decref(page);
    rs_buf_cleanup(&body);
}

#define DELIVERIES_WHERE                                                                           \
    " AND ($3::text IS NULL OR m.event_type = $3) AND ($4::uuid IS NULL OR m.id < $4::uuid) "      \
    "ORDER BY m.id DESC LIMIT $5::int"
/* any status, or DELIVERED: newest messages first */
#define SQL_DELIVERIES                                                                             \
    "SELECT " MESSAGE_JSON ", m.id FROM " MESSAGE_FROM " WHERE m.endpoint_id = $1::uuid AND "      \
    "($2::text IS NULL OR " MESSAGE_STATUS " = $2)" DELIVERIES_WHERE
/* PENDING or DEAD: from the queue, which holds only those (not a walk over the delivered) */
#define SQL_DELIVERIES_QUEUED                                                                      \
    "SELECT " MESSAGE_JSON ", m.id FROM webhook_queue q JOIN webhook_messages m ON m.endpoint_id " \
    "= q.endpoint_id AND m.id = q.id WHERE q.endpoint_id = $1::uuid AND q.status = $2 AND "        \
    "m.endpoint_id = $1::uuid" DELIVERIES_WHERE

void wh_handle_deliveries(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], context[96], after[RS_UUID_STR_LEN], limit[16];
    char next[RS_CURSOR_MAX_LEN];
    const char *status = evhttp_find_header(&req->query, "status");
    const char *event = evhttp_find_header(&req->query, "event");
    const char *params[5] = {id, status, event, NULL, limit};
    struct rs_cursor cursor;
    bool has_cursor = false;
    int page_size = 100;
    PGresult *res = NULL;
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    snprintf(context, sizeof(context), "%s/deliveries", id);
    if (err == RS_OK)
        err = read_status(req, "status", status);
    if (err == RS_OK && event && !rs_outbox_event_known(event))
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "event", "unknown event type \"%.60s\"",
                              event);
    if (err == RS_OK)
        err = gw_query_page(req, context, &page_size, &has_cursor, &cursor);
    if (err == RS_OK && has_cursor)
        params[3] = rs_uuid_format(&cursor.id, after);
    snprintf(limit, sizeof(limit), "%d", page_size + 1);
    if (err == RS_OK)
        res = rs_db_exec(req->db,
                         status && strcmp(status, "DELIVERED") != 0 ? SQL_DELIVERIES_QUEUED
                                                                    : SQL_DELIVERIES,
                         5, params, false, false, &err);
    if (err != RS_OK) {
        gw_reply_error(req, err);
        return;
    }
    next[0] = '\0';
    if (PQntuples(res) > page_size) {
        struct rs_cursor last = {.backward = false, .sort_us = 0};

        if (rs_uuid_parse(PQgetvalue(res, page_size - 1, 1), &last.id) == RS_OK)
            rs_cursor_encode(&last, context, req->app->cursor_key, next);
    }
    reply_page(req, res, page_size, next[0] ? next : NULL);
    PQclear(res);
}

/* The message id of the path ({id} 1) as UUID text; 400 otherwise. */
static enum rs_err path_message(struct gw_req *req, char id[RS_UUID_STR_LEN])
{
    struct rs_uuid uuid;

    if (rs_uuid_parse(req->params[1], &uuid) != RS_OK)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "message_id",
                               "the message id must be a UUID");
    rs_uuid_format(&uuid, id);
    return RS_OK;
}

#define SQL_MESSAGE                                                                                \
    "SELECT " MESSAGE_JSON ", e.url, " WH_MESSAGE_COLUMNS " FROM " MESSAGE_FROM " JOIN "           \
    "webhook_endpoints e ON e.id = m.endpoint_id WHERE m.endpoint_id = $1::uuid AND m.id = "       \
    "$2::uuid"

/* The message with "payload": the body it is sent with (rendered now, as the next attempt). */
static enum rs_err message_json(struct gw_req *req, const PGresult *res, json_t **out)
{
    struct rs_errbuf eb = {{0}, {0}};
    json_t *accounts = wh_render_accounts(req->db, res, &eb);
    const char *account = PQgetisnull(res, 0, PQfnumber(res, "wh_account"))
                              ? NULL
                              : PQgetvalue(res, 0, PQfnumber(res, "wh_account"));
    struct rs_buf body;
    enum rs_err err = accounts ? RS_OK : rs_errbuf_set(&req->eb, RS_ERR_DB, "%s", eb.msg);

    rs_buf_init(&body, 64 << 20);
    if (err == RS_OK)
        err = wh_render_body(res, 0, PQgetvalue(res, 0, 1),
                             account ? json_string_value(json_object_get(accounts, account)) : NULL,
                             &body);
    *out = err == RS_OK ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    if (*out)
        json_object_set_new(*out, "payload", json_loadb(body.data, body.len, 0, NULL));
    else if (err == RS_OK)
        err = RS_ERR_NOMEM;
    rs_buf_cleanup(&body);
    json_decref(accounts);
    return err;
}

void wh_handle_message_get(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], message[RS_UUID_STR_LEN];
    const char *params[2] = {id, message};
    PGresult *res = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    struct rs_buf body;
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    rs_buf_init(&body, 64 << 20);
    if (err == RS_OK)
        err = path_message(req, message);
    if (err == RS_OK)
        res = rs_db_exec(req->db, SQL_MESSAGE, 2, params, false, false, &err);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no message with this id at this endpoint");
    if (err == RS_OK)
        err = message_json(req, res, &doc);
    if (err == RS_OK && !(text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        err = RS_ERR_NOMEM;
    if (err == RS_OK)
        err = rs_buf_append_str(&body, text);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    free(text);
    json_decref(doc);
    rs_buf_cleanup(&body);
    PQclear(res);
}

#define SQL_ATTEMPTS                                                                               \
    "SELECT " ATTEMPT_JSON "::text FROM webhook_messages m JOIN webhook_attempts a ON "            \
    "a.endpoint_id = m.endpoint_id AND a.message_id = m.id WHERE m.endpoint_id = $1::uuid AND "    \
    "m.id = $2::uuid ORDER BY a.attempt DESC LIMIT 100"
#define SQL_EXISTS "SELECT 1 FROM webhook_messages WHERE endpoint_id = $1::uuid AND id = $2::uuid"

void wh_handle_message_attempts(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], message[RS_UUID_STR_LEN];
    const char *params[2] = {id, message};
    PGresult *res = NULL;
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    if (err == RS_OK)
        err = path_message(req, message);
    if (err == RS_OK)
        res = rs_db_exec(req->db, SQL_EXISTS, 2, params, false, false, &err);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no message with this id at this endpoint");
    PQclear(res);
    res = NULL;
    if (err == RS_OK)
        res = rs_db_exec(req->db, SQL_ATTEMPTS, 2, params, false, false, &err);
    if (err == RS_OK)
        reply_page(req, res, 100, NULL);
    else
        gw_reply_error(req, err);
    PQclear(res);
}

/*
 * A replayed message is queued again (or, still queued, starts its schedule afresh); its id
 * (webhook-id) stays, and its attempts go on being numbered from the last.
 */
#define REPLAY_INSERT                                                                              \
    "INSERT INTO webhook_queue (endpoint_id, id, linked_account_id, grp, attempts) SELECT "        \
    "m.endpoint_id, m.id, m.linked_account_id, m.grp, COALESCE((SELECT max(a.attempt) FROM "       \
    "webhook_attempts a WHERE a.endpoint_id = m.endpoint_id AND a.message_id = m.id), 0) "         \
    "FROM " MESSAGE_FROM " WHERE m.endpoint_id = $1::uuid AND "
#define REPLAY_CONFLICT                                                                            \
    " ON CONFLICT (endpoint_id, id) DO UPDATE SET status = 'PENDING', failures = 0, "              \
    "next_attempt_at = now(), lease_id = NULL, lease_until = NULL RETURNING *"
#define SQL_REPLAY_ONE                                                                             \
    "WITH q AS (" REPLAY_INSERT "m.id = $2::uuid" REPLAY_CONFLICT ") SELECT " MESSAGE_JSON         \
    ", pg_notify('" RS_OUTBOX_CHANNEL "', '') FROM q JOIN webhook_messages m ON m.endpoint_id = "  \
    "q.endpoint_id AND m.id = q.id"
/* the ids are time-ordered: the primary key bounds the scan at the first possible id */
#define SQL_REPLAY_SINCE                                                                           \
    "WITH q AS (" REPLAY_INSERT "m.id >= encode(substring(int8send(floor(extract(epoch FROM "      \
    "$2::timestamptz) * 1000)::int8) FROM 3) || '\\x00000000000000000000'::bytea, 'hex')::uuid "   \
    "AND m.created_at >= $2::timestamptz AND ($3::text IS NULL OR " MESSAGE_STATUS                 \
    " = $3)" REPLAY_CONFLICT ") SELECT count(*), pg_notify('" RS_OUTBOX_CHANNEL "', '') FROM q"

/* The path's endpoint, which must be enabled for a replay. */
static enum rs_err replayable(struct gw_req *req, char id[RS_UUID_STR_LEN])
{
    bool enabled = false;
    enum rs_err err = wh_path_endpoint(req, id, &enabled);

    if (err == RS_OK && !enabled)
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT,
                            "the endpoint is disabled: enable it (PATCH {\"enabled\": true}), "
                            "which also resumes its pending messages");
    return err;
}

void wh_handle_message_replay(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], message[RS_UUID_STR_LEN];
    const char *params[2] = {id, message};
    struct rs_buf body;
    PGresult *res = NULL;
    enum rs_err err = replayable(req, id);

    rs_buf_init(&body, 1 << 20);
    if (err == RS_OK)
        err = path_message(req, message);
    if (err == RS_OK)
        res = rs_db_exec(req->db, SQL_REPLAY_ONE, 2, params, false, false, &err);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no message with this id at this endpoint");
    if (err == RS_OK)
        err = rs_buf_append_str(&body, PQgetvalue(res, 0, 0));
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook message replayed", "endpoint=%s message=%s", id, message);
        gw_reply_json(req, 202, &body);
    } else {
        gw_reply_error(req, err);
    }
    rs_buf_cleanup(&body);
    PQclear(res);
}

static const char *const replay_members[] = {"since", "status", NULL};

void wh_handle_endpoint_replay(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], since[RS_TIME_ISO_LEN];
    const char *params[3] = {id, since, NULL};
    json_t *body = NULL;
    struct rs_buf out;
    int64_t since_us = 0;
    PGresult *res = NULL;
    enum rs_err err = replayable(req, id);

    rs_buf_init(&out, 4096);
    if (err == RS_OK)
        err = gw_req_json_body(req, &body);
    if (err == RS_OK)
        err = wh_check_members(body, replay_members, &req->eb);
    if (err == RS_OK &&
        (!json_is_string(json_object_get(body, "since")) ||
         rs_time_parse(json_string_value(json_object_get(body, "since")), &since_us) != RS_OK))
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "since",
                              "since is required: an ISO-8601 date-time");
    params[2] = json_string_value(json_object_get(body, "status"));
    if (err == RS_OK && json_object_get(body, "status") && !params[2])
        err = rs_errbuf_param(&req->eb, RS_ERR_INVALID, "status", "status must be a string");
    if (err == RS_OK)
        err = read_status(req, "status", params[2]);
    rs_time_format(since_us, since);
    if (err == RS_OK)
        res = rs_db_exec(req->db, SQL_REPLAY_SINCE, 3, params, false, false, &err);
    if (err == RS_OK)
        err = rs_buf_appendf(&out, "{\"replayed\":%s}", PQgetvalue(res, 0, 0));
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook messages replayed", "endpoint=%s since=%s count=%s", id, since,
               PQgetvalue(res, 0, 0));
        gw_reply_json(req, 202, &out);
    } else {
        gw_reply_error(req, err);
    }
    rs_buf_cleanup(&out);
    PQclear(res);
    json_decref(body);
}
