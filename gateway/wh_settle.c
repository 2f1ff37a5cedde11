/*
 * Recording what webhook deliveries did, in batches: one statement per batch records each
 * message's outcome in the queue (delivered: its row deleted; retried later, dead, or given
 * back unsent: its row updated), inserts the attempts and keeps the endpoints' failing_since;
 * endpoints that answered 410 or failed for too long are then disabled, their messages parked and
 * an Issue raised. And the retention of old messages.
 */
#include "wh_int.h"
#include "wh_sql.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_httpc.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_time.h"

#define CLEANUP_BATCH 20000 /* messages per endpoint deleted by one retention pass */

/* Appends text as a JSON string of printable ASCII (anything else becomes '?'). */
static enum rs_err append_ascii(struct rs_buf *out, const char *text, size_t len)
{
    char clean[WH_SNIPPET_MAX + 1];
    size_t n = len < WH_SNIPPET_MAX ? len : WH_SNIPPET_MAX;

    for (size_t i = 0; i < n; i++)
        clean[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
    return rs_buf_append_json_str(out, clean, n);
}

/* The outcome of one finished attempt: next try, dead, and why. */
static void outcome(const struct wh_settler *s, const struct wh_delivery *d, bool *dead,
                    int64_t *retry_ms, const char **error)
{
    int64_t after_ms = 0;

    *dead = false;
    *retry_ms = 0;
    *error = NULL;
    if (wh_delivery_ok(d))
        return;
    if (d->refused)
        *error = "the endpoint's address is private or loopback (refused)";
    else if (d->code != CURLE_OK)
        *error = curl_easy_strerror((CURLcode)d->code);
    if (!wh_retry_delay_ms(s->schedule, d->failures + 1, randombytes_random(), retry_ms)) {
        *dead = true;
        return;
    }
    if ((d->status == 429 || d->status == 503) &&
        rs_httpc_parse_retry_after(d->retry_after, rs_time_now_us(), &after_ms))
        *retry_ms = wh_retry_honour(*retry_ms, after_ms / 1000);
}

/* What a settle records, for /metrics once it is recorded. */
struct tally {
    size_t succeeded, failed, dead;
    int64_t latency_ms;
};

/* One record of the settle statement's JSON (counted in t when attempted). */
static enum rs_err record(const struct wh_settler *s, const struct wh_delivery *d, bool attempted,
                          struct rs_buf *out, struct tally *t)
{
    char at[RS_TIME_ISO_LEN];
    const char *error = NULL;
    int64_t retry_ms = 0;
    bool dead = false;
    enum rs_err err;

    if (attempted) {
        outcome(s, d, &dead, &retry_ms, &error);
        *(wh_delivery_ok(d) ? &t->succeeded : &t->failed) += 1;
        t->dead += dead;
        t->latency_ms += d->latency_ms;
    }
    err = rs_buf_appendf(out,
                         "%s{\"e\":\"%s\",\"m\":\"%s\",\"l\":\"%s\",\"k\":%d,\"a\":%d,\"ok\":%s,"
                         "\"dead\":%s,\"code\":",
                         out->len > 1 ? "," : "", d->target->id, d->id, d->lease, attempted,
                         d->attempt, attempted && wh_delivery_ok(d) ? "true" : "false",
                         dead ? "true" : "false");
    if (err == RS_OK)
        err =
            d->status > 0 ? rs_buf_appendf(out, "%ld", d->status) : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_appendf(
            out, ",\"ms\":%lld,\"at\":\"%s\",\"rm\":%lld,\"la\":", (long long)d->latency_ms,
            rs_time_format(attempted ? d->attempted_us : rs_time_now_us(), at),
            (long long)retry_ms);
    if (err == RS_OK)
        err = d->account[0] ? rs_buf_appendf(out, "\"%s\"", d->account)
                            : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_appendf(out, ",\"g\":%s,\"resp\":", d->grp);
    if (err == RS_OK)
        err = d->response_len ? append_ascii(out, d->response, d->response_len)
                              : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"err\":");
    if (err == RS_OK)
        err = error ? rs_buf_append_json_str(out, error, strlen(error))
                    : rs_buf_append_str(out, "null");
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

/* Appends id to a "{…" literal unless it is there already. */
static enum rs_err add_id(struct rs_buf *lit, const char *id)
{
    if (lit->data && strstr(lit->data, id))
        return RS_OK;
    return rs_buf_appendf(lit, "%s%s", lit->len > 1 ? "," : "", id);
}

static void disable_endpoints(const struct wh_settler *s, const char *ids, bool gone,
                              wh_disabled_fn on_disabled, void *arg);

/* The settle statement's JSON of done and released; the endpoints that failed, and gone (410). */
static enum rs_err settle_json(const struct wh_settler *s, const struct wh_delivery *done,
                               const struct wh_delivery *released, struct rs_buf *json,
                               struct rs_buf *failing, struct rs_buf *gone, struct tally *t)
{
    enum rs_err err = rs_buf_append(json, "[", 1);

    if (err == RS_OK)
        err = rs_buf_append(failing, "{", 1);
    if (err == RS_OK)
        err = rs_buf_append(gone, "{", 1);
    for (const struct wh_delivery *d = done; d && err == RS_OK; d = d->next) {
        err = record(s, d, true, json, t);
        if (err == RS_OK && !wh_delivery_ok(d))
            err = add_id(d->status == 410 ? gone : failing, d->target->id);
    }
    for (const struct wh_delivery *d = released; d && err == RS_OK; d = d->next)
        err = record(s, d, false, json, t);
    if (err == RS_OK)
        err = rs_buf_append(json, "]", 1);
    if (err == RS_OK)
        err = rs_buf_append(failing, "}", 1);
    return err == RS_OK ? rs_buf_append(gone, "}", 1) : err;
}

enum rs_err wh_settle(const struct wh_settler *s, const struct wh_delivery *done,
                      const struct wh_delivery *released, wh_disabled_fn on_disabled, void *arg)
{
    struct rs_buf json, failing, gone;
    struct tally tally = {0, 0, 0, 0};
    const char *params[1];
    int64_t t0 = rs_time_mono_us();
    enum rs_err err;
    PGresult *res = NULL;

    rs_buf_init(&json, 256 << 20);
    rs_buf_init(&failing, 1 << 20);
    rs_buf_init(&gone, 1 << 20);
    err = settle_json(s, done, released, &json, &failing, &gone, &tally);
    params[0] = json.data;
    if (err == RS_OK &&
        !(res = rs_db_exec(s->db, WH_SQL_SETTLE, 1, params, false, WH_PLAN_ONCE, &err)))
        rs_log(RS_LOG_ERROR, "webhook outcomes not recorded", "error=%s", rs_err_name(err));
    if (res)
        gw_metrics_webhooks(tally.succeeded, tally.failed, tally.dead, tally.latency_ms);
    RS_LOG(RS_LOG_DEBUG, "webhook settle", "bytes=%zu us=%lld", json.len,
           (long long)(rs_time_mono_us() - t0));
    PQclear(res);
    /* unrecorded, the messages come back when their lease ends: at least once, never lost */
    if (err == RS_OK && failing.len > 2)
        disable_endpoints(s, failing.data, false, on_disabled, arg);
    if (err == RS_OK && gone.len > 2)
        disable_endpoints(s, gone.data, true, on_disabled, arg);
    rs_buf_cleanup(&json);
    rs_buf_cleanup(&failing);
    rs_buf_cleanup(&gone);
    return err;
}

/*
 * Disables the endpoints of ids that answered 410 (gone) or whose deliveries have all failed
 * for webhook_disable_after_s, parks their pending messages and raises an Issue, in one
 * transaction. $2 NULL: 410s.
 */
#define SQL_DISABLE                                                                                \
    "UPDATE webhook_endpoints e SET enabled = false, modified_at = now(), disabled_reason = CASE " \
    "WHEN $2::int IS NULL THEN 'disabled by rosterd: the receiver answered 410 Gone' ELSE "        \
    "'disabled by rosterd: every delivery failed since ' || to_char(e.failing_since AT TIME ZONE " \
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END WHERE e.id = ANY ($1::uuid[]) AND e.enabled "    \
    "AND "                                                                                         \
    "($2::int IS NULL OR e.failing_since < now() - make_interval(secs => $2::int)) "               \
    "RETURNING e.id, e.organization_id, e.disabled_reason"
static enum rs_err disable_all(const struct wh_settler *s, const PGresult *res,
                               wh_disabled_fn on_disabled, void *arg, struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;

    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        const char *params[1] = {PQgetvalue(res, i, 0)};
        PGresult *parked = rs_db_exec(s->db, WH_SQL_PARK, 1, params, false, false, &err);

        PQclear(parked);
        if (err == RS_OK)
            err = rs_outbox_endpoint_issue(s->db, PQgetvalue(res, i, 1), params[0], true,
                                           PQgetvalue(res, i, 2), eb);
        if (err == RS_OK)
            on_disabled(arg, params[0]);
        rs_log(RS_LOG_WARN, "webhook endpoint disabled", "endpoint=%s reason=\"%s\"", params[0],
               PQgetvalue(res, i, 2));
    }
    return err;
}

/* Is any of the failing endpoints of ids due to be disabled? (Most settles say no.) */
#define SQL_DUE_DISABLE                                                                            \
    "SELECT 1 FROM webhook_endpoints WHERE id = ANY ($1::uuid[]) AND enabled AND failing_since < " \
    "now() - make_interval(secs => $2::int) LIMIT 1"

static void disable_endpoints(const struct wh_settler *s, const char *ids, bool gone,
                              wh_disabled_fn on_disabled, void *arg)
{
    char after[24];
    const char *params[2] = {ids, gone ? NULL : after};
    struct rs_errbuf eb = {{0}, {0}};
    PGresult *res = NULL;
    int disabled;
    enum rs_err err;

    snprintf(after, sizeof(after), "%lld", (long long)s->disable_after_s);
    if (!gone) {
        res = rs_db_exec(s->db, SQL_DUE_DISABLE, 2, params, false, true, &err);
        bool due = res && PQntuples(res) > 0;
        PQclear(res);
        res = NULL;
        if (!due)
            return;
    }
    err = rs_db_command(s->db, "BEGIN");
    /* an Issue event is an event: durable at commit, like those the syncs write */
    if (err == RS_OK)
        err = rs_db_command(s->db, "SET LOCAL synchronous_commit = on");
    if (err == RS_OK && !(res = rs_db_exec(s->db, SQL_DISABLE, 2, params, false, true, &err)))
        rs_errbuf_set(&eb, err, "cannot disable the endpoints");
    if (err == RS_OK)
        err = disable_all(s, res, on_disabled, arg, &eb);
    disabled = res ? PQntuples(res) : 0;
    PQclear(res);
    if (err == RS_OK)
        err = rs_db_command(s->db, "COMMIT");
    for (int i = 0; err == RS_OK && i < disabled; i++)
        gw_metrics_webhook_disabled();
    if (err != RS_OK) {
        rs_log(RS_LOG_ERROR, "webhook endpoints not disabled", "detail=\"%s\"", eb.msg);
        if (rs_db_command(s->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
}

/*
 * Delivered and dead messages past the retention (the oldest ids first), with their queue rows
 * (dead ones) and attempts. A pending message stays, however old.
 */
#define SQL_CLEANUP                                                                                \
    "WITH floor AS (SELECT encode(substring(int8send(floor(extract(epoch FROM now() - "            \
    "make_interval(days => $1::int)) * 1000)::int8) FROM 3) || "                                   \
    "'\\x00000000000000000000'::bytea, 'hex')::uuid AS id), "                                      \
    "old AS (SELECT o.endpoint_id, o.id FROM webhook_endpoints e CROSS JOIN floor CROSS JOIN "     \
    "LATERAL (SELECT m.endpoint_id, m.id FROM webhook_messages m WHERE m.endpoint_id = e.id AND "  \
    "m.id < floor.id AND NOT EXISTS (SELECT 1 FROM webhook_queue q WHERE q.endpoint_id = "         \
    "m.endpoint_id AND q.id = m.id AND q.status = 'PENDING') LIMIT $2::int) o), "                  \
    "dm AS (DELETE FROM webhook_messages m USING old WHERE m.endpoint_id = old.endpoint_id AND "   \
    "m.id = old.id RETURNING m.endpoint_id, m.id), "                                               \
    "dq AS (DELETE FROM webhook_queue q USING dm WHERE q.endpoint_id = dm.endpoint_id AND q.id = " \
    "dm.id RETURNING 1), "                                                                         \
    "da AS (DELETE FROM webhook_attempts a USING dm WHERE a.endpoint_id = dm.endpoint_id AND "     \
    "a.message_id = dm.id RETURNING 1), "                                                          \
    "dd AS (DELETE FROM webhook_deleted_accounts WHERE deleted_at < now() - make_interval(days "   \
    "=> $1::int) RETURNING 1) SELECT (SELECT count(*) FROM dm), (SELECT count(*) FROM da), "       \
    "(SELECT count(*) FROM dq), (SELECT count(*) FROM dd)"

void wh_retention(struct rs_db *db, int64_t retention_days)
{
    char days[16], batch[16];
    const char *params[2] = {days, batch};
    enum rs_err err;
    PGresult *res;

    snprintf(days, sizeof(days), "%lld", (long long)retention_days);
    snprintf(batch, sizeof(batch), "%d", CLEANUP_BATCH);
    res = rs_db_exec(db, SQL_CLEANUP, 2, params, false, false, &err);
    if (res && strcmp(PQgetvalue(res, 0, 0), "0") != 0)
        rs_log(RS_LOG_INFO, "webhook messages past retention deleted", "messages=%s attempts=%s",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    PQclear(res);
}
