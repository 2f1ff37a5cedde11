/*
 * One sync run: the adapter's requests go out through rs_httpc, its pages come back as
 * normalized records, which are scope-filtered and staged; at the end the mass-change guard
 * decides, and the staged rows are applied in one transaction (or nothing is, on failure).
 * This file is where a sync decides to delete: only a complete FULL sync sweeps.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "roster/lf_oauth.h"
#include "roster/prov.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_sealed.h"
#include "roster/rs_stage.h"
#include "roster/rs_store.h"
#include "roster/rs_time.h"
#include "wh_int.h"

#define FAILED_RETRY_S         300 /* a failed sync is retried after at most this long */
#define INCREMENTAL_OVERLAP_US INT64_C(120000000) /* re-read changes this far back */
#define FULL_SYNC_EVERY_S      86400              /* a full sync at least this often */
#define MAX_ATTEMPTS           5 /* a sync whose workers keep dying is given up after this */
#define FAILING_STREAK         3 /* failed syncs in a row that raise an Issue */
/* a sync that applied clears every connection problem its account had */
#define ISSUES_CLEARED_BY_SYNC                                                                     \
    (RS_ISSUE_BIT(RS_ISSUE_CREDENTIALS) | RS_ISSUE_BIT(RS_ISSUE_SYNC_FAILING) |                    \
     RS_ISSUE_BIT(RS_ISSUE_MASS_CHANGE))

struct run {
    struct sync_runner *runner;
    const struct sync_job *job;
    const struct prov_ops *ops;
    struct rs_uuid stage_id;
    json_t *credentials, *scope;
    char *base_url;
    double guard_share;
    long guard_min;
    bool token_changed, token_retried;
    bool oauth; /* OAuth tokens: lf_oauth_token_fresh is their only writer, not save_token */
    struct prov_sync ps;
    struct rs_stage *stage; /* while fetching */
    struct rs_store_stats stats[RS_MODEL_COUNT];
    size_t skipped[RS_MODEL_COUNT];
    int pages, requests;
    int64_t started_us, fetched_us; /* monotonic: the run's start, the end of its fetch */
    int64_t started_wall_us;        /* wall clock: the data's freshness in sync_completed */
    struct rs_throttle throttle;
    struct rs_errbuf eb;
    char reason[300];
};

static void run_cleanup(struct run *r)
{
    rs_stage_free(r->stage);
    json_decref(r->credentials);
    json_decref(r->scope);
    json_decref(r->ps.state);
    json_decref(r->ps.token);
    free(r->base_url);
}

#define SQL_ACCOUNT                                                                                \
    "SELECT integration, credentials, base_url, sync_scope::text, guard_max_share, "               \
    "guard_min_count, access_token, status, last_full_sync_at IS NULL OR last_full_sync_at < "     \
    "now() - make_interval(secs => $2::int), "                                                     \
    "COALESCE((extract(epoch FROM last_sync_since) * 1000000)::int8, 0) "                          \
    "FROM linked_accounts WHERE id = $1::uuid"

static enum rs_err load_account(struct run *r)
{
    char every[16];
    const char *params[2] = {r->job->account_text, every};
    struct rs_errbuf eb = {{0}, {0}};
    enum rs_err err;
    PGresult *res;

    snprintf(every, sizeof(every), "%d", FULL_SYNC_EVERY_S);
    res = rs_db_exec(r->runner->db, SQL_ACCOUNT, 2, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(&r->eb, err, "cannot load the linked account");
    if (PQntuples(res) != 1) {
        err = rs_errbuf_set(&r->eb, RS_ERR_NOTFOUND, "the linked account is gone");
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 7), "COMPLETE") != 0) {
        err = rs_errbuf_set(&r->eb, RS_ERR_FORBIDDEN, "the linked account is %s, not COMPLETE",
                            PQgetvalue(res, 0, 7));
        goto out;
    }
    r->ops = (r->runner->find_adapter ? r->runner->find_adapter : prov_find)(PQgetvalue(res, 0, 0));
    if (!r->ops || !r->ops->next_request) {
        err =
            rs_errbuf_set(&r->eb, RS_ERR_INTERNAL, "no sync adapter for %s", PQgetvalue(res, 0, 0));
        goto out;
    }
    err = rs_sealed_open_json(r->runner->app->vault, RS_SEALED_CREDENTIALS, r->job->account_text,
                              NULL, PQgetvalue(res, 0, 1), &r->credentials, &r->eb);
    if (err != RS_OK) {
        err = RS_ERR_CRYPTO; /* an operator's key problem, not the customer's: no relink */
        goto out;
    }
    if (!PQgetisnull(res, 0, 2) && !(r->base_url = strdup(PQgetvalue(res, 0, 2)))) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    r->scope = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
    r->guard_share = strtod(PQgetvalue(res, 0, 4), NULL);
    r->guard_min = strtol(PQgetvalue(res, 0, 5), NULL, 10);
    if (!PQgetisnull(res, 0, 6) &&
        rs_sealed_open_json(r->runner->app->vault, RS_SEALED_ACCESS_TOKEN, r->job->account_text,
                            NULL, PQgetvalue(res, 0, 6), &r->ps.token, &eb) != RS_OK)
        rs_log(RS_LOG_WARN, "cached provider token dropped", "detail=\"%s\"", eb.msg);
    r->ps.full = r->job->full || strcmp(PQgetvalue(res, 0, 8), "t") == 0 ||
                 !(r->ops->caps & PROV_CAP_INCREMENTAL);
    r->ps.since_us = r->ps.full ? 0 : strtoll(PQgetvalue(res, 0, 9), NULL, 10);
    if (!r->ps.full && r->ps.since_us > INCREMENTAL_OVERLAP_US)
        r->ps.since_us -= INCREMENTAL_OVERLAP_US;
    r->ps.full = r->ps.full || r->ps.since_us <= 0;
    err = RS_OK;
out:
    PQclear(res);
    return err;
}

/* Selective sync: is this employee record in the account's scope? */
static bool in_scope(const struct run *r, const json_t *fields)
{
    const json_t *wanted = json_object_get(r->scope, "group_ids");
    const json_t *excluded = json_object_get(r->scope, "exclude_emails");
    const char *emails[2] = {json_string_value(json_object_get(fields, "work_email")),
                             json_string_value(json_object_get(fields, "personal_email"))};
    json_t *item, *group;
    size_t i, j;

    json_array_foreach(excluded, i, item)
    {
        for (int e = 0; e < 2; e++) {
            if (emails[e] && json_is_string(item) &&
                strcasecmp(emails[e], json_string_value(item)) == 0)
                return false;
        }
    }
    if (json_array_size(wanted) == 0)
        return true;
    json_array_foreach(json_object_get(fields, "groups"), i, group)
    {
        json_array_foreach(wanted, j, item)
        {
            if (json_is_string(group) && json_is_string(item) &&
                strcasecmp(json_string_value(group), json_string_value(item)) == 0)
                return true;
        }
    }
    return false;
}

static enum rs_err sink_record(void *arg, enum rs_model_kind kind, const struct rs_record *rec)
{
    struct run *r = arg;
    struct rs_record scoped = *rec;
    struct rs_errbuf eb = {{0}, {0}};
    enum rs_err err;

    if (kind == RS_MODEL_EMPLOYEE)
        scoped.out_of_scope = !in_scope(r, rec->fields);
    err = rs_stage_add(r->stage, kind, &scoped, &eb);
    if (err == RS_ERR_INVALID) {
        RS_LOG(RS_LOG_DEBUG, "record refused", "model=%s detail=\"%s\"", rs_model_get(kind)->name,
               eb.msg);
        return RS_OK; /* counted as invalid by the stage; one bad record never stops a sync */
    }
    if (err != RS_OK)
        r->eb = eb;
    return err;
}

static void sink_skipped(void *arg, enum rs_model_kind kind, const char *why)
{
    struct run *r = arg;

    r->skipped[kind]++;
    RS_LOG(RS_LOG_DEBUG, "provider record skipped", "model=%s why=\"%s\"", rs_model_get(kind)->name,
           why);
}

/* What an HTTP status that did not succeed means for the sync. */
static enum rs_err status_error(struct run *r, long status)
{
    if (status == 401 || status == 403)
        return rs_errbuf_set(&r->eb, RS_ERR_AUTH,
                             "%s rejected the credentials (HTTP %ld): relink the account",
                             r->ops->name, status);
    if (status == 429)
        return rs_errbuf_set(&r->eb, RS_ERR_RATELIMIT, "%s kept rate-limiting (HTTP 429)",
                             r->ops->name);
    return rs_errbuf_set(&r->eb, RS_ERR_UPSTREAM, "%s answered HTTP %ld", r->ops->name, status);
}

/*
 * An OAuth account's token through the locked refresh: the stored one while it is valid and
 * not `rejected` (the access token a provider just answered 401 to), else a refreshed one.
 */
static enum rs_err oauth_token(struct run *r, const char *rejected)
{
    struct lf_oauth_io io = {r->runner->db, r->runner->http, r->runner->app->vault};
    json_t *token = NULL;
    enum rs_err err = lf_oauth_token_fresh(&io, r->ops, r->job->account_text, rejected,
                                           rs_time_now_us(), &token, &r->eb);

    if (err != RS_OK)
        return err;
    json_decref(r->ps.token);
    r->ps.token = token;
    return RS_OK;
}

/*
 * After a non-2xx answer: a 401 to a provider token is retried once with a new token (an
 * OAuth account's refreshed, a client-credentials token marked invalid so that the adapter
 * asks for another); anything else ends the sync (status_error).
 */
static enum rs_err after_refusal(struct run *r, long status)
{
    char rejected[LF_OAUTH_TOKEN_MAX + 1];
    const char *access;
    enum rs_err err;

    if (status != 401 || r->token_retried || !(r->oauth || r->ps.token))
        return status_error(r, status);
    r->token_retried = true;
    if (!r->oauth) {
        r->token_changed = true;
        json_object_set_new(r->ps.token, "invalid", json_true());
        return RS_OK;
    }
    access = json_string_value(json_object_get(r->ps.token, "access_token"));
    snprintf(rejected, sizeof(rejected), "%s", access ? access : "");
    err = oauth_token(r, rejected[0] ? rejected : NULL);
    sodium_memzero(rejected, sizeof(rejected));
    return err;
}

static enum rs_err send_request(struct run *r, const struct prov_request *req,
                                struct rs_http_response *resp)
{
    /* every adapter parses JSON; some providers (BambooHR v1) answer XML without this */
    static const struct rs_http_header accept = {"Accept", "application/json"};
    struct rs_http_request hreq = {
        .headers = &accept,
        .nheaders = 1,
        .method = req->method,
        .url = req->url,
        .basic_user = req->auth == PROV_REQ_AUTH_BASIC ? req->user : NULL,
        .basic_password = req->auth == PROV_REQ_AUTH_BASIC ? req->secret : NULL,
        .bearer = req->auth == PROV_REQ_AUTH_BEARER ? req->secret : NULL,
        .body = req->body,
        .body_len = req->body_len,
        .content_type = req->content_type[0] ? req->content_type : NULL,
        .rate_reset_header = r->ops->rate_reset_header,
    };

    r->requests++;
    return rs_httpc_send(r->runner->http, &r->throttle, &hreq, resp, &r->eb);
}

/* Makes the adapter's next request and feeds the answer back. *done when there is none. */
static enum rs_err step(struct run *r, bool *done)
{
    struct prov_request req;
    struct rs_http_response resp;
    struct prov_sink sink = {sink_record, sink_skipped, r};
    enum rs_err err;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    r->ps.now_us = rs_time_now_us();
    err = r->ops->next_request(&r->ps, &req, done, &r->eb);
    if (err != RS_OK || *done)
        goto out;
    if ((err = send_request(r, &req, &resp)) != RS_OK)
        goto out;
    if (resp.status < 200 || resp.status > 299) {
        err = after_refusal(r, resp.status);
        goto out;
    }
    struct prov_response presp = {resp.status, resp.body.data ? resp.body.data : "", resp.body.len};
    json_t *token_before = json_deep_copy(r->ps.token);
    err = r->ops->parse_response(&r->ps, &presp, &sink, &r->eb);
    if (!json_equal(token_before, r->ps.token))
        r->token_changed = true;
    json_decref(token_before);
    if (err == RS_OK && req.page >= 0)
        r->pages++;
out:
    prov_request_cleanup(&req);
    rs_http_response_cleanup(&resp);
    return err;
}

/* Waits until every record is staged and stops the staging thread. */
static enum rs_err stage_all(struct run *r)
{
    enum rs_err err = rs_stage_finish(r->stage, r->stats, &r->eb);

    rs_stage_free(r->stage);
    r->stage = NULL;
    return err;
}

/* Pages until the adapter is done; between pages, heartbeat and watch for shutdown. */
static enum rs_err fetch(struct run *r)
{
    const struct rs_config *cfg = r->runner->app->cfg;
    bool done = false;
    enum rs_err err = RS_OK;
    int64_t last_beat = rs_time_mono_us();

    while (!done && err == RS_OK) {
        if (atomic_load(r->runner->stopping))
            return rs_errbuf_set(&r->eb, RS_ERR_UNAVAILABLE, "shutting down");
        err = step(r, &done);
        /* a quarter of the lease between heartbeats: the lease never lapses for a live worker,
           and a fast provider's pages do not each cost a commit */
        if (err == RS_OK && rs_time_mono_us() - last_beat >= cfg->sync_lease_s * 250000) {
            err = sync_queue_heartbeat(r->runner->db, r->job, r->runner->owner, cfg->sync_lease_s,
                                       &r->eb);
            last_beat = rs_time_mono_us();
        }
    }
    return err == RS_OK ? stage_all(r) : err;
}

/* {"Employee": {"inserted": …}, …, "pages": n, "requests": n, "full": bool} */
static json_t *stats_json(const struct run *r)
{
    json_t *out = json_object();

    for (int k = 0; out && k < RS_MODEL_COUNT; k++) {
        const struct rs_store_stats *s = &r->stats[k];

        json_object_set_new(out, rs_model_get((enum rs_model_kind)k)->name,
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "inserted",
                                      (json_int_t)s->inserted, "updated", (json_int_t)s->updated,
                                      "unchanged", (json_int_t)s->unchanged, "deleted",
                                      (json_int_t)s->deleted, "invalid", (json_int_t)s->invalid,
                                      "skipped", (json_int_t)r->skipped[k]));
    }
    if (out) {
        json_object_set_new(out, "pages", json_integer(r->pages));
        json_object_set_new(out, "requests", json_integer(r->requests));
        json_object_set_new(out, "full", json_boolean(r->ps.full));
        /* how long fetching, parsing and staging took (the rest until finished_at: the apply) */
        if (r->fetched_us)
            json_object_set_new(out, "fetch_ms",
                                json_integer((r->fetched_us - r->started_us) / 1000));
    }
    return out;
}

/* Runs sql with params; RS_ERR_CONFLICT when it touched no row and must_touch is set. */
static enum rs_err exec(struct run *r, const char *sql, int n, const char *const *params,
                        bool must_touch)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(r->runner->db, sql, n, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(&r->eb, err, "sync bookkeeping failed");
    if (must_touch && strcmp(PQcmdTuples(res), "0") == 0)
        err = rs_errbuf_set(&r->eb, RS_ERR_CONFLICT, "the sync's lease was taken over");
    PQclear(res);
    return err;
}

#define SQL_FINISH                                                                                 \
    "UPDATE syncs SET status = $3, reason = $4, stats = $5::jsonb, finished_at = "                 \
    "clock_timestamp(), "                                                                          \
    "kind = CASE WHEN $6::boolean THEN 'FULL' ELSE 'INCREMENTAL' END, stage_id = $7::uuid, "       \
    "lease_owner = NULL, lease_expires_at = NULL WHERE linked_account_id = $1::uuid AND "          \
    "id = $2::uuid AND status = 'SYNCING' AND lease_owner = $8"

static enum rs_err record_outcome(struct run *r, const char *status, const char *reason)
{
    json_t *doc = stats_json(r);
    char *stats = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    char stage[RS_UUID_STR_LEN];
    const char *params[8] = {r->job->account_text,
                             r->job->id_text,
                             status,
                             reason,
                             stats ? stats : "{}",
                             r->ps.full ? "true" : "false",
                             rs_uuid_format(&r->stage_id, stage),
                             r->runner->owner};
    enum rs_err err = exec(r, SQL_FINISH, 8, params, true);

    free(stats);
    json_decref(doc);
    return err;
}

#define SQL_ACCOUNT_DONE                                                                           \
    "UPDATE linked_accounts la SET next_sync_at = now() + make_interval(secs => "                  \
    "la.sync_interval_s), last_sync_since = s.started_at, last_full_sync_at = CASE WHEN "          \
    "s.kind = 'FULL' THEN s.started_at ELSE la.last_full_sync_at END, modified_at = now() "        \
    "FROM syncs s WHERE la.id = $1::uuid AND s.linked_account_id = la.id AND s.id = $2::uuid"
#define SQL_ACCOUNT_PAUSED "UPDATE linked_accounts SET next_sync_at = NULL WHERE id = $1::uuid"
#define SQL_ACCOUNT_FAILED                                                                         \
    "UPDATE linked_accounts SET next_sync_at = now() + make_interval(secs => "                     \
    "LEAST(sync_interval_s, $2::int)) WHERE id = $1::uuid"
/* credentials replaced (a relink) after this sync started are not the ones that were refused */
#define SQL_ACCOUNT_RELINK                                                                         \
    "UPDATE linked_accounts la SET status = 'RELINK_NEEDED', status_detail = $2, "                 \
    "next_sync_at = NULL, modified_at = now() FROM syncs s WHERE la.id = $1::uuid AND "            \
    "s.linked_account_id = la.id AND s.id = $3::uuid AND (la.completed_at IS NULL OR "             \
    "la.completed_at <= s.started_at)"

/* The mass-change guard: would applying this sync deactivate or delete too many people? */
static enum rs_err guard(struct run *r, bool *tripped)
{
    struct rs_store_impact impact;
    size_t affected;
    enum rs_err err =
        rs_store_impact(r->runner->db, &r->job->account, &r->stage_id, r->ps.full, &impact, &r->eb);

    *tripped = false;
    if (err != RS_OK)
        return err;
    affected = impact.deactivated + impact.deleted;
    if ((double)affected > r->guard_share * (double)impact.active &&
        affected >= (size_t)r->guard_min) {
        *tripped = true;
        snprintf(r->reason, sizeof(r->reason),
                 "mass-change guard: %zu of %zu active employees would be deactivated (%zu) or "
                 "deleted (%zu); approve or discard this sync",
                 affected, impact.active, impact.deactivated, impact.deleted);
    }
    return RS_OK;
}

/*
 * Heartbeats stop while the apply runs, so its lease may run out. Locking the sync's row for the
 * apply's transaction keeps workers that take over expired leases (FOR UPDATE SKIP LOCKED) from
 * taking over a sync whose worker is alive and applying it.
 */
#define SQL_HOLD_LEASE                                                                             \
    "SELECT 1 FROM syncs WHERE linked_account_id = $1::uuid AND id = $2::uuid AND "                \
    "status = 'SYNCING' AND lease_owner = $3 FOR UPDATE"

/*
 * Applies the staged rows with the events the organization's endpoints want, written by the
 * apply's own statements, then LinkedAccount.sync_completed after them (a later group), all in
 * the finishing transaction: the events exist if and only if the sync is committed.
 */
static enum rs_err apply_with_events(struct run *r)
{
    struct rs_outbox_plan plan;
    enum rs_err err = rs_outbox_plan_sync(r->runner->db, &r->job->account, &plan, &r->eb);

    if (err == RS_OK)
        err = rs_store_apply_events(r->runner->db, &r->job->account, &r->stage_id, r->ps.full,
                                    &plan, r->stats, &r->eb);
    if (err == RS_OK)
        err = wh_event_sync_completed(r->runner->db, r->job->account_text, r->ops->name,
                                      r->ops->slug, plan.initial, r->started_wall_us, &r->eb);
    return err;
}

/* In one transaction: guard, then apply and mark DONE, or hold as PAUSED. */
/* The run's outcome in the process's metrics (gw_metrics.c). */
static void count_outcome(const struct run *r, enum gw_sync_outcome outcome)
{
    size_t written[3] = {0, 0, 0};

    for (int k = 0; outcome == GW_SYNC_DONE && k < RS_MODEL_COUNT; k++) {
        written[0] += r->stats[k].inserted;
        written[1] += r->stats[k].updated;
        written[2] += r->stats[k].deleted;
    }
    gw_metrics_sync(outcome, rs_time_mono_us() - r->started_us, written[0], written[1], written[2]);
}

static enum rs_err finish_done(struct run *r)
{
    const char *params[3] = {r->job->account_text, r->job->id_text, r->runner->owner};
    enum rs_err err = rs_store_analyze(r->runner->db, &r->eb);
    bool tripped = false;

    if (err == RS_OK)
        err = rs_db_command(r->runner->db, "BEGIN");

    if (err == RS_OK)
        err = exec(r, SQL_HOLD_LEASE, 3, params, true);
    if (err == RS_OK)
        err = guard(r, &tripped);
    if (err == RS_OK && tripped) {
        err = record_outcome(r, "PAUSED", r->reason);
        if (err == RS_OK)
            err = exec(r, SQL_ACCOUNT_PAUSED, 1, params, false);
        if (err == RS_OK)
            err = rs_outbox_issue_open(r->runner->db, r->job->account_text, RS_ISSUE_MASS_CHANGE,
                                       r->reason, &r->eb);
    } else if (err == RS_OK) {
        err = apply_with_events(r);
        if (err == RS_OK)
            err = record_outcome(r, "DONE", NULL);
        if (err == RS_OK)
            err = exec(r, SQL_ACCOUNT_DONE, 2, params, false);
        if (err == RS_OK)
            err = rs_outbox_issue_resolve(r->runner->db, r->job->account_text,
                                          ISSUES_CLEARED_BY_SYNC, &r->eb);
    }
    if (err == RS_OK)
        err = rs_db_command(r->runner->db, "COMMIT");
    if (err != RS_OK && rs_db_command(r->runner->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    if (err == RS_OK)
        count_outcome(r, tripped ? GW_SYNC_PAUSED : GW_SYNC_DONE);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, tripped ? "sync paused" : "sync done",
               "sync=%s full=%d pages=%d employees_inserted=%zu updated=%zu unchanged=%zu "
               "deleted=%zu",
               r->job->id_text, r->ps.full, r->pages, r->stats[RS_MODEL_EMPLOYEE].inserted,
               r->stats[RS_MODEL_EMPLOYEE].updated, r->stats[RS_MODEL_EMPLOYEE].unchanged,
               r->stats[RS_MODEL_EMPLOYEE].deleted);
    return err;
}

/* Failed syncs of the account since its last applied one (this one included). */
#define SQL_FAILED_IN_A_ROW                                                                        \
    "SELECT count(*) FROM syncs s WHERE s.linked_account_id = $1::uuid AND s.status = 'FAILED' "   \
    "AND s.finished_at > COALESCE((SELECT max(d.finished_at) FROM syncs d WHERE "                  \
    "d.linked_account_id = $1::uuid AND d.status = 'DONE'), '-infinity')"

/* FAILING_STREAK failed syncs in a row raise an Issue (one failure is not a problem yet). */
static enum rs_err failing_streak(struct run *r, const char *reason)
{
    const char *params[1] = {r->job->account_text};
    char description[400];
    enum rs_err err;
    PGresult *res = rs_db_exec(r->runner->db, SQL_FAILED_IN_A_ROW, 1, params, false, true, &err);
    long failed = res ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;

    PQclear(res);
    if (!res)
        return rs_errbuf_set(&r->eb, err, "cannot count the failed syncs");
    if (failed < FAILING_STREAK)
        return RS_OK;
    snprintf(description, sizeof(description), "the last %ld syncs failed; the latest: %s", failed,
             reason);
    return rs_outbox_issue_open(r->runner->db, r->job->account_text, RS_ISSUE_SYNC_FAILING,
                                description, &r->eb);
}

/* Nothing is applied; the reason is kept; 401/403 also puts the account to RELINK_NEEDED. */
static enum rs_err finish_failed(struct run *r, enum rs_err cause)
{
    char retry[16], reason[sizeof(r->eb.msg)];
    const char *params[3] = {r->job->account_text, retry, r->job->id_text};
    struct rs_errbuf eb = {{0}, {0}};
    enum rs_err err;

    snprintf(reason, sizeof(reason), "%s", r->eb.msg[0] ? r->eb.msg : rs_err_name(cause));
    if (rs_store_discard(r->runner->db, &r->stage_id, &eb) != RS_OK)
        rs_log(RS_LOG_WARN, "cannot drop staged rows", "sync=%s", r->job->id_text);
    snprintf(retry, sizeof(retry), "%d", FAILED_RETRY_S);
    err = rs_db_command(r->runner->db, "BEGIN");
    if (err == RS_OK)
        err = record_outcome(r, "FAILED", reason);
    if (err == RS_OK && cause == RS_ERR_AUTH) {
        params[1] = reason;
        err = exec(r, SQL_ACCOUNT_RELINK, 3, params, false);
        if (err == RS_OK)
            err = rs_outbox_issue_open(r->runner->db, r->job->account_text, RS_ISSUE_CREDENTIALS,
                                       reason, &r->eb);
    } else if (err == RS_OK) {
        err = exec(r, SQL_ACCOUNT_FAILED, 2, params, false);
        if (err == RS_OK)
            err = failing_streak(r, reason);
    }
    if (err == RS_OK)
        err = rs_db_command(r->runner->db, "COMMIT");
    if (err != RS_OK && rs_db_command(r->runner->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    count_outcome(r, GW_SYNC_FAILED);
    rs_log(RS_LOG_WARN, "sync failed", "sync=%s error=%s reason=\"%s\"", r->job->id_text,
           rs_err_name(cause), reason);
    return err;
}

/* Seals the adapter's token (or clears it) when the run changed it. */
static void save_token(struct run *r)
{
    char *hex = NULL;
    const char *params[2] = {r->job->account_text, NULL};

    if (!r->token_changed || r->oauth)
        return;
    if (r->ps.token && rs_sealed_seal_json(r->runner->app->vault, RS_SEALED_ACCESS_TOKEN,
                                           r->job->account_text, NULL, r->ps.token, &hex) != RS_OK)
        return; /* out of memory: the next sync asks for a token again */
    params[1] = hex;
    if (exec(r, "UPDATE linked_accounts SET access_token = $2::bytea WHERE id = $1::uuid", 2,
             params, false) != RS_OK)
        rs_log(RS_LOG_WARN, "cannot store the provider token", "account=%s", r->job->account_text);
    free(hex);
}

static enum rs_err prepare(struct run *r)
{
    char name[32];
    enum rs_err err;

    /* each attempt stages under its own key, so a worker that lost its lease cannot mix rows
       into the attempt that took over; earlier attempts' rows are dropped here */
    for (int a = 1; a <= r->job->attempts; a++) {
        struct rs_uuid old;
        struct rs_errbuf eb = {{0}, {0}};

        snprintf(name, sizeof(name), "attempt:%d", a);
        rs_uuid_v5(&r->job->id, name, strlen(name), a == r->job->attempts ? &r->stage_id : &old);
        if (a < r->job->attempts && rs_store_discard(r->runner->db, &old, &eb) != RS_OK)
            return rs_errbuf_set(&r->eb, RS_ERR_DB, "cannot drop an earlier attempt's rows");
    }
    if (r->job->attempts > MAX_ATTEMPTS)
        return rs_errbuf_set(&r->eb, RS_ERR_INTERNAL,
                             "gave up after %d attempts (each worker running it stopped)",
                             r->job->attempts - 1);
    if ((err = load_account(r)) != RS_OK)
        return err;
    r->oauth = lf_oauth_uses_oauth(r->ops, r->credentials);
    if (r->oauth && (err = oauth_token(r, NULL)) != RS_OK)
        return err;
    r->ps.credentials = r->credentials;
    r->ps.base_url = r->base_url;
    r->ps.account = r->job->account;
    r->ps.state = json_object();
    r->throttle.rate_per_s = r->ops->rate_per_s;
    r->throttle.burst = r->ops->burst;
    if (!r->ps.state)
        return RS_ERR_NOMEM;
    return rs_stage_new(r->runner->stage_db, &r->job->account, &r->stage_id, &r->stage, &r->eb);
}

enum rs_err sync_run(struct sync_runner *runner, const struct sync_job *job)
{
    struct run r;
    enum rs_err err;

    memset(&r, 0, sizeof(r));
    r.runner = runner;
    r.job = job;
    r.started_us = rs_time_mono_us();
    r.started_wall_us = rs_time_now_us();
    rs_log_set_context(NULL, job->account_text);
    rs_log(RS_LOG_INFO, "sync started", "sync=%s trigger=%s attempt=%d", job->id_text, job->trigger,
           job->attempts);
    err = prepare(&r);
    if (err == RS_OK)
        err = fetch(&r);
    r.fetched_us = rs_time_mono_us();
    /* the staging thread is stopped before anything else touches this attempt's rows */
    rs_stage_free(r.stage);
    r.stage = NULL;
    if (err == RS_OK) {
        err = finish_done(&r);
    } else if (err == RS_ERR_UNAVAILABLE && atomic_load(runner->stopping)) {
        err = rs_store_discard(runner->db, &r.stage_id, &r.eb);
        if (err == RS_OK)
            err = sync_queue_release(runner->db, job, runner->owner, &r.eb);
    } else if (err == RS_ERR_CONFLICT) {
        /* another worker owns the sync now: leave it alone, drop only this attempt's rows */
        err = rs_store_discard(runner->db, &r.stage_id, &r.eb);
    } else {
        err = finish_failed(&r, err);
    }
    save_token(&r);
    run_cleanup(&r);
    rs_log_clear_context();
    return err;
}

#define SQL_PAUSED                                                                                 \
    "SELECT s.stage_id, s.kind, (extract(epoch FROM s.started_at) * 1000000)::int8, "              \
    "la.integration FROM syncs s JOIN linked_accounts la ON la.id = s.linked_account_id WHERE "    \
    "s.linked_account_id = $1::uuid AND s.id = $2::uuid AND s.status = 'PAUSED' FOR UPDATE OF s"
/* an approval merges what applying did into each model's counts ($4; NULL: discarded) */
#define SQL_DECIDE                                                                                 \
    "UPDATE syncs SET status = $3, finished_at = clock_timestamp(), reason = CASE WHEN $3 = "      \
    "'DONE' THEN "                                                                                 \
    "'approved by an operator' ELSE 'discarded by an operator' END, stats = CASE WHEN $4::jsonb "  \
    "IS NULL THEN stats ELSE stats || (SELECT jsonb_object_agg(a.key, COALESCE(stats -> a.key, "   \
    "'{}'::jsonb) || a.value) FROM jsonb_each($4::jsonb) a) END "                                  \
    "WHERE linked_account_id = $1::uuid AND id = $2::uuid"
#define SQL_AFTER_DECISION                                                                         \
    "UPDATE linked_accounts la SET next_sync_at = now() + make_interval(secs => "                  \
    "la.sync_interval_s), last_sync_since = CASE WHEN $2::boolean THEN s.started_at ELSE "         \
    "la.last_sync_since END, last_full_sync_at = CASE WHEN $2::boolean AND s.kind = 'FULL' THEN "  \
    "s.started_at ELSE la.last_full_sync_at END FROM syncs s WHERE la.id = $1::uuid AND "          \
    "s.linked_account_id = la.id AND s.id = $3::uuid"

/* A PAUSED sync, locked: its staging key, whether it sweeps, and what sync_completed says. */
struct paused {
    struct rs_uuid account, stage;
    bool full;
    int64_t started_us;
    char integration[64];
};

static enum rs_err lock_paused(struct rs_db *db, const char *account, const char *sync,
                               struct paused *out, struct rs_errbuf *eb)
{
    const char *params[2] = {account, sync};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_PAUSED, 2, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the sync");
    if (PQntuples(res) != 1 || rs_uuid_parse(PQgetvalue(res, 0, 0), &out->stage) != RS_OK ||
        rs_uuid_parse(account, &out->account) != RS_OK) {
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no paused sync with this id on this account");
    } else {
        out->full = strcmp(PQgetvalue(res, 0, 1), "FULL") == 0;
        out->started_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        snprintf(out->integration, sizeof(out->integration), "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    return err;
}

/* An approval applies what the sync staged, with its events, as a finishing sync would. */
static enum rs_err approve_apply(struct rs_db *db, const char *account, const struct paused *p,
                                 struct rs_store_stats stats[RS_MODEL_COUNT], struct rs_errbuf *eb)
{
    const struct prov_ops *ops = prov_find(p->integration);
    struct rs_outbox_plan plan;
    enum rs_err err = rs_outbox_plan_sync(db, &p->account, &plan, eb);

    if (err == RS_OK)
        err = rs_store_apply_events(db, &p->account, &p->stage, p->full, &plan, stats, eb);
    if (err == RS_OK)
        err = wh_event_sync_completed(db, account, ops ? ops->name : p->integration, p->integration,
                                      plan.initial, p->started_us, eb);
    if (err == RS_OK)
        err = rs_outbox_issue_resolve(db, account, ISSUES_CLEARED_BY_SYNC, eb);
    return err;
}

/* {"Employee": {"inserted": n, "updated": n, "unchanged": n, "deleted": n}, …}; NULL: no memory */
static char *applied_stats(const struct rs_store_stats stats[RS_MODEL_COUNT])
{
    json_t *doc = json_object();
    char *text = NULL;

    for (int k = 0; doc && k < RS_MODEL_COUNT; k++) {
        const struct rs_store_stats *s = &stats[k];
        json_t *counts = json_pack("{s:I, s:I, s:I, s:I}", "inserted", (json_int_t)s->inserted,
                                   "updated", (json_int_t)s->updated, "unchanged",
                                   (json_int_t)s->unchanged, "deleted", (json_int_t)s->deleted);

        if (json_object_set_new(doc, rs_model_get((enum rs_model_kind)k)->name, counts) != 0)
            goto out;
    }
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
out:
    json_decref(doc);
    return text;
}

static enum rs_err decide(struct rs_db *db, const char *account, const char *sync, bool approve,
                          struct rs_errbuf *eb)
{
    struct rs_store_stats stats[RS_MODEL_COUNT];
    struct paused p;
    size_t staged = 0;
    char *applied = NULL;
    const char *p4[4] = {account, sync, approve ? "DONE" : "DISCARDED", NULL};
    const char *pa[3] = {account, approve ? "true" : "false", sync};
    enum rs_err err = approve ? rs_store_analyze(db, eb) : RS_OK;
    PGresult *res = NULL;

    if (err == RS_OK)
        err = rs_db_command(db, "BEGIN");

    memset(stats, 0, sizeof(stats));
    memset(&p, 0, sizeof(p));
    if (err == RS_OK)
        err = lock_paused(db, account, sync, &p, eb);
    if (err == RS_OK && approve)
        err = rs_store_staged_count(db, &p.stage, &staged, eb);
    if (err == RS_OK && approve && staged == 0)
        err = rs_errbuf_set(eb, RS_ERR_CONFLICT,
                            "the staged rows of this sync are gone (the "
                            "database restarted): discard it and resync");
    if (err == RS_OK && approve)
        err = approve_apply(db, account, &p, stats, eb);
    /* discarding ends the held state the mass-change Issue was about */
    if (err == RS_OK && !approve)
        err = rs_store_discard(db, &p.stage, eb);
    if (err == RS_OK && !approve)
        err = rs_outbox_issue_resolve(db, account, RS_ISSUE_BIT(RS_ISSUE_MASS_CHANGE), eb);
    if (err == RS_OK && approve) {
        applied = applied_stats(stats);
        p4[3] = applied;
        err = applied ? RS_OK : RS_ERR_NOMEM;
    }
    if (err == RS_OK && !(res = rs_db_exec(db, SQL_DECIDE, 4, p4, false, true, &err)))
        rs_errbuf_set(eb, err, "cannot record the decision");
    PQclear(res);
    free(applied);
    if (err == RS_OK && !(res = rs_db_exec(db, SQL_AFTER_DECISION, 3, pa, false, true, &err)))
        rs_errbuf_set(eb, err, "cannot reschedule the account");
    PQclear(res);
    if (err == RS_OK)
        err = rs_db_command(db, "COMMIT");
    if (err != RS_OK && rs_db_command(db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    return err;
}

enum rs_err sync_run_approve(struct rs_db *db, const char *account, const char *sync,
                             struct rs_errbuf *eb)
{
    return decide(db, account, sync, true, eb);
}

enum rs_err sync_run_discard(struct rs_db *db, const char *account, const char *sync,
                             struct rs_errbuf *eb)
{
    return decide(db, account, sync, false, eb);
}
