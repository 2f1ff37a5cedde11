/*
 * The admin API over webhook endpoints (Bearer API key = organization): create (the signing
 * secret is shown once), list, get, update, delete, and rotate the secret (the previous one
 * keeps signing beside the new one for a grace period). Secrets are sealed with the vault.
 */
#include "wh_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_sealed.h"

#define MAX_ENDPOINTS 100 /* per organization */

/* An endpoint as the API shows it (never a secret), alias e. */
#define ENDPOINT_JSON                                                                              \
    "json_build_object('id', e.id, 'url', e.url, 'events', e.events, 'enabled', e.enabled, "       \
    "'initial_sync_events', e.initial_sync_events, 'disabled_reason', e.disabled_reason, "         \
    "'failing_since', to_char(e.failing_since AT TIME ZONE 'UTC', "                                \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'previous_secret_expires_at', CASE WHEN "                  \
    "e.previous_expires_at > now() THEN to_char(e.previous_expires_at AT TIME ZONE 'UTC', "        \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END, 'created_at', to_char(e.created_at AT TIME ZONE "      \
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'modified_at', to_char(e.modified_at AT TIME "      \
    "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text"

static const char *const endpoint_members[] = {"url", "events", "enabled", "initial_sync_events",
                                               NULL};

/* Replies with a JSON text from PostgreSQL made compact, plus "secret" when given. */
static void reply_endpoint(struct gw_req *req, int status, const char *text, const char *secret)
{
    json_t *doc = json_loads(text, 0, NULL);
    char *out = NULL;
    struct rs_buf body;

    if (doc && secret)
        json_object_set_new(doc, "secret", json_string(secret));
    out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!out) {
        gw_reply_error(req, RS_ERR_NOMEM);
        return;
    }
    rs_buf_init(&body, 1 << 20);
    if (rs_buf_append_str(&body, out) == RS_OK)
        gw_reply_json(req, status, &body);
    else
        gw_reply_error(req, RS_ERR_NOMEM);
    if (secret)
        sodium_memzero(out, strlen(out));
    free(out);
    rs_buf_cleanup(&body);
}

enum rs_err wh_path_endpoint(struct gw_req *req, char id[RS_UUID_STR_LEN], bool *enabled)
{
    static const char sql[] = "SELECT enabled FROM webhook_endpoints WHERE id = $1::uuid AND "
                              "organization_id = $2::uuid";
    PGresult *res = NULL;
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        err = gw_req_owned_row(req, sql, id, "webhook endpoint", &res);
    if (err == RS_OK && enabled)
        *enabled = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return err;
}

/* What a create or an update asks for; NULL / -1 members were not given. */
struct endpoint_input {
    const char *url;
    bool events_given;
    char *events; /* text[] literal; NULL: every type */
    int enabled, initial_sync_events;
};

static enum rs_err read_bool(struct gw_req *req, const json_t *body, const char *name, int *out)
{
    const json_t *value = json_object_get(body, name);

    *out = -1;
    if (!value)
        return RS_OK;
    if (!json_is_boolean(value))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s must be true or false", name);
    *out = json_is_true(value);
    return RS_OK;
}

static enum rs_err read_input(struct gw_req *req, const json_t *body, bool create,
                              struct endpoint_input *in)
{
    bool allow_private = req->app->cfg->allow_private_upstreams;
    enum rs_err err = wh_check_members(body, endpoint_members, &req->eb);

    memset(in, 0, sizeof(*in));
    if (err == RS_OK && (create || json_object_get(body, "url")))
        err = wh_check_url(json_object_get(body, "url"), allow_private, &in->url, &req->eb);
    in->events_given = json_object_get(body, "events") != NULL;
    if (err == RS_OK)
        err = wh_check_events(json_object_get(body, "events"), &in->events, &req->eb);
    if (err == RS_OK)
        err = read_bool(req, body, "enabled", &in->enabled);
    if (err == RS_OK)
        err = read_bool(req, body, "initial_sync_events", &in->initial_sync_events);
    return err;
}

#define SQL_COUNT "SELECT count(*) FROM webhook_endpoints WHERE organization_id = $1::uuid"
#define SQL_CREATE                                                                                 \
    "INSERT INTO webhook_endpoints AS e (id, organization_id, url, events, enabled, "              \
    "initial_sync_events, secret) VALUES ($1::uuid, $2::uuid, $3, $4::text[], $5::boolean, "       \
    "$6::boolean, $7::bytea) RETURNING " ENDPOINT_JSON

static enum rs_err insert_endpoint(struct gw_req *req, const struct endpoint_input *in,
                                   const char *id, const char *secret, PGresult **out)
{
    char *sealed = NULL;
    const char *count_params[1] = {req->org_text};
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, SQL_COUNT, 1, count_params, false, true, &err);

    if (res && strtol(PQgetvalue(res, 0, 0), NULL, 10) >= MAX_ENDPOINTS)
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT,
                            "an organization has at most %d webhook endpoints", MAX_ENDPOINTS);
    PQclear(res);
    if (err == RS_OK)
        err = rs_sealed_seal(req->app->vault, RS_SEALED_WEBHOOK_SECRET, id, NULL, secret,
                             strlen(secret), &sealed);
    if (err != RS_OK)
        return err;
    const char *params[7] = {id,
                             req->org_text,
                             in->url,
                             in->events,
                             in->enabled == 0 ? "false" : "true",
                             in->initial_sync_events == 0 ? "false" : "true",
                             sealed};
    *out = rs_db_exec(req->db, SQL_CREATE, 7, params, false, true, &err);
    free(sealed);
    return err;
}

void wh_handle_endpoint_create(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], secret[RS_SIGN_SECRET_MAX];
    struct endpoint_input in = {0};
    struct rs_uuid uuid;
    json_t *body = NULL;
    PGresult *res = NULL;
    enum rs_err err = gw_req_json_body(req, &body);

    rs_sign_secret_new(secret);
    if (err == RS_OK)
        err = read_input(req, body, true, &in);
    rs_uuid_v4(&uuid);
    rs_uuid_format(&uuid, id);
    if (err == RS_OK)
        err = insert_endpoint(req, &in, id, secret, &res);
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook endpoint created", "endpoint=%s org=%s", id, req->org_text);
        reply_endpoint(req, 201, PQgetvalue(res, 0, 0), secret);
    } else {
        gw_reply_error(req, err);
    }
    sodium_memzero(secret, sizeof(secret));
    PQclear(res);
    free(in.events);
    json_decref(body);
}

void wh_handle_endpoint_list(struct gw_req *req)
{
    static const char sql[] = "SELECT " ENDPOINT_JSON " FROM webhook_endpoints e WHERE "
                              "e.organization_id = $1::uuid ORDER BY e.created_at, e.id";
    const char *params[1] = {req->org_text};
    struct rs_buf body;
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, 1, params, false, true, &err);
    json_t *results = json_array();

    rs_buf_init(&body, 64 << 20);
    for (int i = 0; res && results && i < PQntuples(res); i++)
        json_array_append_new(results, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    if (err == RS_OK) {
        json_t *page = json_pack("{s:n, s:n, s:O}", "next", "previous", "results", results);
        char *text = page ? json_dumps(page, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

        err = text ? rs_buf_append_str(&body, text) : RS_ERR_NOMEM;
        free(text);
        json_decref(page);
    }
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    json_decref(results);
    rs_buf_cleanup(&body);
    PQclear(res);
}

void wh_handle_endpoint_get(struct gw_req *req)
{
    static const char sql[] = "SELECT " ENDPOINT_JSON " FROM webhook_endpoints e WHERE "
                              "e.id = $1::uuid AND e.organization_id = $2::uuid";
    char id[RS_UUID_STR_LEN];
    PGresult *res = NULL;
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        err = gw_req_owned_row(req, sql, id, "webhook endpoint", &res);
    if (err == RS_OK)
        reply_endpoint(req, 200, PQgetvalue(res, 0, 0), NULL);
    else
        gw_reply_error(req, err);
    PQclear(res);
}

#define SQL_LOCK                                                                                   \
    "SELECT enabled FROM webhook_endpoints WHERE id = $1::uuid AND organization_id = $2::uuid "    \
    "FOR UPDATE"
#define SQL_UPDATE                                                                                 \
    "UPDATE webhook_endpoints e SET url = COALESCE($3, e.url), events = CASE WHEN $4::boolean "    \
    "THEN $5::text[] ELSE e.events END, enabled = COALESCE($6::boolean, e.enabled), "              \
    "initial_sync_events = COALESCE($7::boolean, e.initial_sync_events), disabled_reason = CASE "  \
    "WHEN $6::boolean IS NULL THEN e.disabled_reason END, failing_since = CASE WHEN $6::boolean "  \
    "AND NOT e.enabled THEN NULL ELSE e.failing_since END, modified_at = now() WHERE e.id = "      \
    "$1::uuid AND e.organization_id = $2::uuid RETURNING " ENDPOINT_JSON
/* enabled again: each parked message starts its schedule afresh */
#define SQL_UNPARK                                                                                 \
    "WITH u AS (UPDATE webhook_queue SET next_attempt_at = now(), failures = 0 WHERE "             \
    "endpoint_id = $1::uuid AND status = 'PENDING' AND next_attempt_at = 'infinity' RETURNING 1) " \
    "SELECT count(*), pg_notify('" RS_OUTBOX_CHANNEL "', '') FROM u"

static enum rs_err exec(struct gw_req *req, const char *sql, int n, const char *const *params,
                        PGresult **keep)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, n, params, false, true, &err);

    if (keep)
        *keep = res;
    else
        PQclear(res);
    return err;
}

/* The update, with what enabling or disabling means for its messages and its issue. */
static enum rs_err update_endpoint(struct gw_req *req, const char *id,
                                   const struct endpoint_input *in, PGresult **out)
{
    const char *params[7] = {id,
                             req->org_text,
                             in->url,
                             in->events_given ? "true" : "false",
                             in->events,
                             in->enabled < 0 ? NULL
                             : in->enabled   ? "true"
                                             : "false",
                             in->initial_sync_events < 0 ? NULL
                             : in->initial_sync_events   ? "true"
                                                         : "false"};
    PGresult *res = NULL;
    enum rs_err err = gw_req_owned_row(req, SQL_LOCK, id, "webhook endpoint", &res);
    bool was_enabled = err == RS_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

    PQclear(res);
    if (err == RS_OK)
        err = exec(req, SQL_UPDATE, 7, params, out);
    if (err == RS_OK && was_enabled && in->enabled == 0)
        err = exec(req, WH_SQL_PARK, 1, params, NULL);
    if (err == RS_OK && !was_enabled && in->enabled == 1) {
        err = exec(req, SQL_UNPARK, 1, params, NULL);
        if (err == RS_OK)
            err = rs_outbox_endpoint_issue(req->db, req->org_text, id, false, NULL, &req->eb);
    }
    return err;
}

void wh_handle_endpoint_patch(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    struct endpoint_input in = {0};
    json_t *body = NULL;
    PGresult *res = NULL;
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    if (err == RS_OK)
        err = gw_req_json_body(req, &body);
    if (err == RS_OK)
        err = read_input(req, body, false, &in);
    if (err == RS_OK)
        err = rs_db_command(req->db, "BEGIN");
    if (err == RS_OK) {
        err = update_endpoint(req, id, &in, &res);
        if (err == RS_OK)
            err = rs_db_command(req->db, "COMMIT");
        if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook endpoint updated", "endpoint=%s enabled=%d", id, in.enabled);
        reply_endpoint(req, 200, PQgetvalue(res, 0, 0), NULL);
    } else {
        gw_reply_error(req, err);
    }
    PQclear(res);
    free(in.events);
    json_decref(body);
}

/* its messages, queue and attempts go with it (migrations 0008 and 0010) */
#define SQL_DELETE                                                                                 \
    "DELETE FROM webhook_endpoints WHERE id = $1::uuid AND organization_id = $2::uuid"

void wh_handle_endpoint_delete(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    const char *params[2] = {id, req->org_text};
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    if (err == RS_OK)
        err = rs_db_command(req->db, "BEGIN");
    if (err == RS_OK) {
        err = exec(req, SQL_DELETE, 2, params, NULL);
        if (err == RS_OK)
            err = rs_outbox_endpoint_issue(req->db, req->org_text, id, false, NULL, &req->eb);
        if (err == RS_OK)
            err = rs_db_command(req->db, "COMMIT");
        if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook endpoint deleted", "endpoint=%s org=%s", id, req->org_text);
        gw_reply_text(req, 204, "application/json", "", 0);
    } else {
        gw_reply_error(req, err);
    }
}

/* The current secret becomes the previous one (it keeps signing for the grace period). */
#define SQL_ROTATE                                                                                 \
    "UPDATE webhook_endpoints e SET previous_secret = CASE WHEN $3::int > 0 THEN e.secret END, "   \
    "previous_expires_at = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) "     \
    "END, secret = $4::bytea, modified_at = now() WHERE e.id = $1::uuid AND e.organization_id = "  \
    "$2::uuid RETURNING " ENDPOINT_JSON

void wh_handle_endpoint_rotate(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN], secret[RS_SIGN_SECRET_MAX], grace[24], *sealed = NULL;
    const char *params[4] = {id, req->org_text, grace, NULL};
    PGresult *res = NULL;
    enum rs_err err = wh_path_endpoint(req, id, NULL);

    rs_sign_secret_new(secret);
    snprintf(grace, sizeof(grace), "%lld", (long long)req->app->cfg->webhook_secret_grace_s);
    if (err == RS_OK)
        err = rs_sealed_seal(req->app->vault, RS_SEALED_WEBHOOK_SECRET, id, NULL, secret,
                             strlen(secret), &sealed);
    params[3] = sealed;
    if (err == RS_OK)
        err = exec(req, SQL_ROTATE, 4, params, &res);
    if (err == RS_OK && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no webhook endpoint with this id");
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "webhook secret rotated", "endpoint=%s grace_s=%s", id, grace);
        reply_endpoint(req, 200, PQgetvalue(res, 0, 0), secret);
    } else {
        gw_reply_error(req, err);
    }
    sodium_memzero(secret, sizeof(secret));
    free(sealed);
    PQclear(res);
}
