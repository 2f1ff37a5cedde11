/*
 * Webhook dispatchers: threads with their own database connection (LISTEN roster_webhooks)
 * and libcurl multi handle. Each claims due messages in batches (FOR UPDATE SKIP LOCKED, a
 * lease per claim; per account, a later group waits for an earlier one), delivers them with a
 * bounded number in flight per endpoint, and records the outcomes in batches: delivered,
 * retried later, dead-lettered, endpoints disabled after 410 or days of failures.
 */
#include "wh_int.h"
#include "wh_sql.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "roster/rs_httpc.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_sealed.h"
#include "roster/rs_time.h"

#define CLAIM_MAX        512  /* messages per claim */
#define HELD_MAX         4096 /* messages a dispatcher holds (waiting or in flight) */
#define QUEUE_FACTOR     8    /* an endpoint's claimed messages: concurrency × this */
#define SETTLE_MAX       512  /* outcomes recorded per statement */
#define SETTLE_DELAY_US  50000
#define CLEANUP_EVERY_US (INT64_C(600) * 1000000)

struct wh_dispatcher {
    const struct gw_app *app;
    int index;
    atomic_bool *stopping;
    pthread_t thread;
    bool started;
    struct rs_db *db;
    uint64_t listening; /* the rs_db_session that LISTENs (0: none) */
    struct wh_sender *sender;
    struct wh_schedule schedule;
    int concurrency;
    int64_t lease_s;
    struct wh_target **targets;
    size_t ntargets, cap;
    int held;                 /* queued + running */
    struct wh_delivery *done; /* finished, not recorded yet */
    int ndone;
    int64_t first_done_us;
    struct wh_delivery *released; /* claimed, never started: given back at the next settle */
    bool want_claim;
    int64_t next_poll_us, next_cleanup_us;
};

struct wh_pool {
    atomic_bool stopping;
    int n;
    struct wh_dispatcher *d;
};

/* ---- targets ---- */

static struct wh_target *find_target(struct wh_dispatcher *w, const char *id)
{
    for (size_t i = 0; i < w->ntargets; i++) {
        if (strcmp(w->targets[i]->id, id) == 0)
            return w->targets[i];
    }
    return NULL;
}

static void target_free(struct wh_target *t)
{
    if (!t)
        return;
    sodium_memzero(&t->key, sizeof(t->key));
    sodium_memzero(&t->previous, sizeof(t->previous));
    free(t->url);
    free(t);
}

static struct wh_target *add_target(struct wh_dispatcher *w, const char *id)
{
    struct wh_target *t = find_target(w, id);

    if (t)
        return t;
    if (w->ntargets == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct wh_target **grown = realloc(w->targets, cap * sizeof(*grown));

        if (!grown)
            return NULL;
        w->targets = grown;
        w->cap = cap;
    }
    if (!(t = calloc(1, sizeof(*t))))
        return NULL;
    snprintf(t->id, sizeof(t->id), "%s", id);
    w->targets[w->ntargets++] = t;
    return t;
}

/* Forgets endpoints with nothing held (their keys are read again at their next claim). */
static void prune_targets(struct wh_dispatcher *w)
{
    size_t kept = 0;

    for (size_t i = 0; i < w->ntargets; i++) {
        if (w->targets[i]->running + w->targets[i]->queued > 0)
            w->targets[kept++] = w->targets[i];
        else
            target_free(w->targets[i]);
    }
    w->ntargets = kept;
}

/* Opens a sealed secret of endpoint t into key; false when it cannot be opened. */
static bool open_key(struct wh_dispatcher *w, enum rs_sealed_kind kind, const char *id,
                     const char *hex, struct rs_sign_key *key)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    struct rs_errbuf eb = {{0}, {0}};
    bool ok = rs_sealed_open(w->app->vault, kind, id, NULL, hex, &plain, &len, &eb) == RS_OK &&
              rs_sign_key_from_secret((const char *)plain, key) == RS_OK;

    if (!ok)
        rs_log(RS_LOG_ERROR, "webhook secret cannot be opened", "endpoint=%s detail=\"%s\"", id,
               eb.msg);
    rs_vault_free_plain(plain);
    return ok;
}

#define SQL_TARGETS                                                                                \
    "SELECT id, url, secret, CASE WHEN previous_expires_at > now() THEN previous_secret END "      \
    "FROM webhook_endpoints WHERE id = ANY ($1::uuid[])"

/* Refreshes url and keys of the endpoints named in ids; an unreadable secret disables t. */
static enum rs_err load_targets(struct wh_dispatcher *w, const char *ids, struct rs_errbuf *eb)
{
    const char *params[1] = {ids};
    enum rs_err err;
    PGresult *res = rs_db_exec(w->db, SQL_TARGETS, 1, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the webhook endpoints");
    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        struct wh_target *t = add_target(w, PQgetvalue(res, i, 0));
        char *url = strdup(PQgetvalue(res, i, 1));

        if (!t || !url) {
            free(url);
            err = RS_ERR_NOMEM;
            break;
        }
        free(t->url);
        t->url = url;
        t->disabled = !open_key(w, RS_SEALED_WEBHOOK_SECRET, t->id, PQgetvalue(res, i, 2), &t->key);
        t->previous.len = 0;
        if (!PQgetisnull(res, i, 3) &&
            !open_key(w, RS_SEALED_WEBHOOK_PREVIOUS, t->id, PQgetvalue(res, i, 3), &t->previous))
            t->previous.len = 0; /* the new secret alone still signs */
    }
    PQclear(res);
    return err;
}

/* ---- claiming ---- */

/* "{a,b}" of the held endpoints' ids and "{n,m}" of their rooms. */
static enum rs_err rooms(struct wh_dispatcher *w, struct rs_buf *ids, struct rs_buf *room)
{
    enum rs_err err = rs_buf_append(ids, "{", 1);

    if (err == RS_OK)
        err = rs_buf_append(room, "{", 1);
    for (size_t i = 0; i < w->ntargets && err == RS_OK; i++) {
        const struct wh_target *t = w->targets[i];
        int left = QUEUE_FACTOR * w->concurrency - t->running - t->queued;

        err = rs_buf_appendf(ids, "%s%s", i ? "," : "", t->id);
        if (err == RS_OK)
            err = rs_buf_appendf(room, "%s%d", i ? "," : "", left > 0 && !t->disabled ? left : 0);
    }
    if (err == RS_OK)
        err = rs_buf_append(ids, "}", 1);
    return err == RS_OK ? rs_buf_append(room, "}", 1) : err;
}

static void enqueue(struct wh_target *t, struct wh_delivery *d)
{
    d->next = NULL;
    if (t->tail)
        t->tail->next = d;
    else
        t->head = d;
    t->tail = d;
    t->queued++;
}

/* A delivery of row i of a claim, its body rendered; NULL when out of memory. */
static struct wh_delivery *delivery_of(struct wh_dispatcher *w, const PGresult *res, int i,
                                       const json_t *accounts, const char *lease)
{
    struct wh_delivery *d = calloc(1, sizeof(*d));
    const char *account = PQgetisnull(res, i, PQfnumber(res, "wh_account"))
                              ? ""
                              : PQgetvalue(res, i, PQfnumber(res, "wh_account"));
    struct rs_buf body;

    if (!d)
        return NULL;
    d->target = find_target(w, PQgetvalue(res, i, PQfnumber(res, "wh_endpoint")));
    snprintf(d->id, sizeof(d->id), "%s", PQgetvalue(res, i, PQfnumber(res, "wh_id")));
    snprintf(d->account, sizeof(d->account), "%s", account);
    snprintf(d->lease, sizeof(d->lease), "%s", lease);
    snprintf(d->grp, sizeof(d->grp), "%s", PQgetvalue(res, i, PQfnumber(res, "wh_grp")));
    d->attempt = (int)strtol(PQgetvalue(res, i, PQfnumber(res, "wh_attempts")), NULL, 10) + 1;
    d->failures = (int)strtol(PQgetvalue(res, i, PQfnumber(res, "wh_failures")), NULL, 10);
    d->start_by_us =
        rs_time_mono_us() + w->lease_s * 1000000 - w->app->cfg->webhook_timeout_ms * 1000 - 1000000;
    rs_buf_init(&body, 64 << 20);
    if (!d->target || !d->target->url ||
        wh_render_body(res, i, d->target->url,
                       account[0] ? json_string_value(json_object_get(accounts, account)) : NULL,
                       &body) != RS_OK) {
        rs_buf_cleanup(&body);
        free(d);
        return NULL;
    }
    d->body_len = body.len;
    d->body = rs_buf_steal(&body);
    return d;
}

/* The distinct endpoints of a claim's rows, as a uuid[] literal (malloc'd). */
static char *claimed_endpoints(const PGresult *res)
{
    struct rs_buf lit;
    char *out = NULL;
    enum rs_err err;

    rs_buf_init(&lit, 64 << 20);
    err = rs_buf_append(&lit, "{", 1);
    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        const char *id = PQgetvalue(res, i, PQfnumber(res, "wh_endpoint"));

        if (lit.data && strstr(lit.data, id))
            continue;
        err = rs_buf_appendf(&lit, "%s%s", lit.len > 1 ? "," : "", id);
    }
    if (err == RS_OK && rs_buf_append(&lit, "}", 1) == RS_OK)
        out = rs_buf_steal(&lit);
    rs_buf_cleanup(&lit);
    return out;
}

/* Turns a claim's rows into queued deliveries (or, when they cannot be sent, releases). */
static void take_claim(struct wh_dispatcher *w, const PGresult *res, const char *lease)
{
    struct rs_errbuf eb = {{0}, {0}};
    char *endpoints = claimed_endpoints(res);
    json_t *accounts = NULL;

    if (!endpoints || load_targets(w, endpoints, &eb) != RS_OK ||
        !(accounts = wh_render_accounts(w->db, res, &eb)))
        rs_log(RS_LOG_ERROR, "webhook claim not usable", "detail=\"%s\"", eb.msg);
    for (int i = 0; i < PQntuples(res); i++) {
        struct wh_delivery *d = accounts ? delivery_of(w, res, i, accounts, lease) : NULL;

        /* what cannot be sent now goes back when its lease ends: never unsigned, never lost */
        if (!d)
            continue;
        enqueue(d->target, d);
        w->held++;
    }
    json_decref(accounts);
    free(endpoints);
}

static void claim(struct wh_dispatcher *w)
{
    char lease[RS_UUID_STR_LEN], room_default[16], limit[16], lease_s[24];
    struct rs_buf ids, room;
    struct rs_uuid lease_id;
    int want = HELD_MAX - w->held, batch = want < CLAIM_MAX ? want : CLAIM_MAX;
    const char *params[6] = {NULL, NULL, room_default, limit, lease_s, lease};
    enum rs_err err;
    PGresult *res = NULL;

    w->want_claim = false;
    if (want <= 0)
        return;
    rs_uuid_v4(&lease_id);
    rs_uuid_format(&lease_id, lease);
    snprintf(room_default, sizeof(room_default), "%d", QUEUE_FACTOR * w->concurrency);
    snprintf(limit, sizeof(limit), "%d", batch);
    snprintf(lease_s, sizeof(lease_s), "%lld", (long long)w->lease_s);
    rs_buf_init(&ids, 1 << 20);
    rs_buf_init(&room, 1 << 20);
    err = rooms(w, &ids, &room);
    params[0] = ids.data;
    params[1] = room.data;
    int64_t t0 = rs_time_mono_us();
    if (err == RS_OK)
        res = rs_db_exec(w->db, WH_SQL_CLAIM, 6, params, false, WH_PLAN_ONCE, &err);
    if (res) {
        RS_LOG(RS_LOG_DEBUG, "webhook claim", "rows=%d us=%lld held=%d", PQntuples(res),
               (long long)(rs_time_mono_us() - t0), w->held);
        take_claim(w, res, lease);
        /* a full batch: more may be due */
        w->want_claim = PQntuples(res) >= batch;
    }
    PQclear(res);
    rs_buf_cleanup(&ids);
    rs_buf_cleanup(&room);
}

/* ---- sending ---- */

/* Puts d on the list of what the next settle gives back (it was never sent). */
static void release(struct wh_dispatcher *w, struct wh_delivery *d)
{
    d->next = w->released;
    w->released = d;
}

/* Starts what may start: per endpoint up to the concurrency, first claimed first. */
static void start_ready(struct wh_dispatcher *w, bool stopping)
{
    int64_t now = rs_time_mono_us();

    for (size_t i = 0; i < w->ntargets; i++) {
        struct wh_target *t = w->targets[i];

        while (t->head && (stopping || t->disabled || t->running < w->concurrency)) {
            struct wh_delivery *d = t->head;

            t->head = d->next;
            if (!t->head)
                t->tail = NULL;
            t->queued--;
            /* past its start-by time its lease could end mid-flight: another may send it */
            if (stopping || t->disabled || now > d->start_by_us ||
                wh_sender_start(w->sender, d) != RS_OK) {
                release(w, d);
                continue;
            }
            t->running++;
        }
    }
}

static void on_done(void *arg, struct wh_delivery *d)
{
    struct wh_dispatcher *w = arg;

    d->target->running--;
    if (w->ndone == 0)
        w->first_done_us = rs_time_mono_us();
    d->next = w->done;
    w->done = d;
    w->ndone++;
}

/* ---- recording outcomes ---- */

static void on_disabled(void *arg, const char *endpoint)
{
    struct wh_target *t = find_target(arg, endpoint);

    if (t)
        t->disabled = true; /* what waits for it is given back, parked, at the next settle */
}

/* Records what finished and what is given back (wh_settle.c), and forgets them. */
static void settle(struct wh_dispatcher *w)
{
    struct wh_settler s = {w->db, &w->schedule, w->app->cfg->webhook_disable_after_s};
    struct wh_delivery *d;

    (void)wh_settle(&s, w->done, w->released, on_disabled, w);
    while ((d = w->done) != NULL) {
        w->done = d->next;
        w->held--;
        wh_delivery_free(d);
    }
    while ((d = w->released) != NULL) {
        w->released = d->next;
        w->held--;
        wh_delivery_free(d);
    }
    w->ndone = 0;
    w->want_claim = true; /* room again, and a later group may be free now */
}

/* A new connection: LISTEN (its WH_SESSION_OPTIONS are in force from its start). */
static void prepare_connection(struct wh_dispatcher *w)
{
    uint64_t session = rs_db_session(w->db);

    if (session == 0 || session == w->listening ||
        rs_db_command(w->db, "LISTEN " RS_OUTBOX_CHANNEL) != RS_OK)
        return;
    w->listening = session;
    wh_sender_watch(w->sender, PQsocket(rs_db_conn(w->db)));
    w->want_claim = true; /* notifications sent while it was not listening are lost */
}

/* Drains notifications: any means something was committed for the dispatchers. */
static void read_notifications(struct wh_dispatcher *w)
{
    PGconn *conn = rs_db_conn(w->db);
    PGnotify *note;

    if (!conn || PQconsumeInput(conn) == 0)
        return;
    while ((note = PQnotifies(conn)) != NULL) {
        PQfreemem(note);
        w->want_claim = true;
    }
}

/* ---- the loop ---- */

/* Claimed messages waiting for a free slot. */
static int queued(const struct wh_dispatcher *w)
{
    int n = 0;

    for (size_t i = 0; i < w->ntargets; i++)
        n += w->targets[i]->queued;
    return n;
}

/*
 * Whether what finished should be recorded now: a full batch, a batch old enough, or nothing
 * else to wait for (none in flight, none waiting to start).
 */
static bool settle_due(const struct wh_dispatcher *w)
{
    if (w->ndone == 0 && !w->released)
        return false;
    return w->ndone >= SETTLE_MAX || rs_time_mono_us() - w->first_done_us >= SETTLE_DELAY_US ||
           (wh_sender_running(w->sender) == 0 && queued(w) == 0);
}

/*
 * Whether to claim now: asked to (a NOTIFY, the poll, a settle, a full claim), and room for
 * at least half a claim beside what is held and not yet finished, so the next batch is
 * claimed while the current one is still being delivered.
 */
static bool claim_due(const struct wh_dispatcher *w)
{
    return w->want_claim && w->held - w->ndone < HELD_MAX - CLAIM_MAX / 2 &&
           (w->ntargets == 0 || queued(w) < QUEUE_FACTOR * w->concurrency / 2);
}

/* How long the loop may wait for the network or a NOTIFY, in milliseconds. */
static int wait_ms(const struct wh_dispatcher *w, bool stopping)
{
    int64_t now = rs_time_mono_us(), until = w->next_poll_us;

    if (stopping)
        return 50;
    if (claim_due(w))
        return 0;
    if (w->ndone > 0 && w->first_done_us + SETTLE_DELAY_US < until)
        until = w->first_done_us + SETTLE_DELAY_US;
    if (until <= now)
        return 0;
    return until - now > 1000000 ? 1000 : (int)((until - now + 999) / 1000);
}

/* One turn: claim, start, move transfers on, record; false once stopped and drained. */
static bool turn(struct wh_dispatcher *w, bool stopping, int64_t give_up_us)
{
    bool notified = false;
    int64_t now = rs_time_mono_us();

    if (!stopping && rs_db_ensure(w->db) == RS_OK) {
        prepare_connection(w);
        if (now >= w->next_poll_us) {
            w->want_claim = true;
            w->next_poll_us = now + w->app->cfg->webhook_poll_ms * 1000;
        }
        if (w->index == 0 && now >= w->next_cleanup_us) {
            w->next_cleanup_us = now + CLEANUP_EVERY_US;
            wh_retention(w->db, w->app->cfg->webhook_retention_days);
        }
        if (claim_due(w))
            claim(w);
    }
    start_ready(w, stopping);
    if (w->listening != 0 && rs_db_session(w->db) != w->listening) {
        w->listening = 0; /* lost: its socket is closed, and its number may be reused */
        wh_sender_watch(w->sender, -1);
    }
    wh_sender_run(w->sender, wait_ms(w, stopping), &notified, on_done, w);
    if (notified)
        read_notifications(w);
    if (settle_due(w) || (stopping && (w->ndone > 0 || w->released)))
        settle(w);
    /* recorded outcomes name their target: forget targets only when none waits to be */
    if (!stopping && w->ndone == 0 && !w->released)
        prune_targets(w);
    return !stopping || (wh_sender_running(w->sender) > 0 && rs_time_mono_us() < give_up_us);
}

static void on_abandoned(void *arg, struct wh_delivery *d)
{
    struct wh_dispatcher *w = arg;

    d->target->running--;
    release(w, d);
}

static void *dispatcher_main(void *arg)
{
    struct wh_dispatcher *w = arg;
    int64_t give_up_us = 0;

    for (;;) {
        bool stopping = atomic_load(w->stopping);

        if (stopping && give_up_us == 0)
            give_up_us = rs_time_mono_us() + w->app->cfg->shutdown_grace_ms * 1000;
        if (!turn(w, stopping, give_up_us))
            break;
    }
    if (wh_sender_running(w->sender) > 0) {
        /* still waiting for their receivers: given back unanswered, so another process (or
           this one, restarted) sends them again once their lease ends */
        rs_log(RS_LOG_WARN, "webhook deliveries abandoned at shutdown", "count=%d",
               wh_sender_running(w->sender));
        wh_sender_abort(w->sender, on_abandoned, w);
        settle(w);
    }
    return NULL;
}

static enum rs_err dispatcher_init(struct wh_dispatcher *w, struct wh_pool *pool,
                                   const struct gw_app *app, int index, struct rs_errbuf *eb)
{
    const struct rs_config *cfg = app->cfg;
    enum rs_err err;

    w->app = app;
    w->index = index;
    w->stopping = &pool->stopping;
    w->concurrency = (int)cfg->webhook_endpoint_concurrency;
    /* long enough for a message to wait its turn behind QUEUE_FACTOR rounds and be sent */
    w->lease_s = (cfg->webhook_timeout_ms * (QUEUE_FACTOR + 1) + 999) / 1000 + 2;
    if (wh_schedule_parse(cfg->webhook_retry_schedule_ms, &w->schedule) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "webhook_retry_schedule_ms is not a schedule");
    err = rs_db_open_with(cfg->database_url, (int)cfg->db_connect_timeout_s, true,
                          WH_SESSION_OPTIONS, &w->db, eb);
    if (err != RS_OK)
        return err;
    rs_db_set_retry_interval(w->db, cfg->db_retry_interval_ms);
    return wh_sender_new(cfg->webhook_timeout_ms, cfg->allow_private_upstreams,
                         HELD_MAX < 1024 ? HELD_MAX : 1024, &w->sender);
}

enum rs_err wh_pool_start(const struct gw_app *app, struct wh_pool **out, struct rs_errbuf *eb)
{
    struct wh_pool *pool = calloc(1, sizeof(*pool));
    enum rs_err err = RS_OK;

    if (!pool)
        return RS_ERR_NOMEM;
    pool->n = (int)app->cfg->webhook_dispatchers;
    pool->d = calloc((size_t)(pool->n ? pool->n : 1), sizeof(*pool->d));
    if (!pool->d)
        err = RS_ERR_NOMEM;
    for (int i = 0; i < pool->n && err == RS_OK; i++) {
        err = dispatcher_init(&pool->d[i], pool, app, i, eb);
        if (err == RS_OK &&
            pthread_create(&pool->d[i].thread, NULL, dispatcher_main, &pool->d[i]) != 0)
            err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "cannot start webhook dispatchers");
        pool->d[i].started = err == RS_OK;
    }
    if (err != RS_OK) {
        wh_pool_stop(pool, 0);
        return err;
    }
    rs_log(RS_LOG_INFO, "webhook dispatchers started", "dispatchers=%d", pool->n);
    *out = pool;
    return RS_OK;
}

/* Frees what a joined dispatcher still holds. */
static void dispatcher_cleanup(struct wh_dispatcher *w)
{
    for (size_t i = 0; i < w->ntargets; i++) {
        struct wh_delivery *d = w->targets[i]->head;

        while (d) {
            struct wh_delivery *next = d->next;
            wh_delivery_free(d);
            d = next;
        }
        target_free(w->targets[i]);
    }
    free(w->targets);
    wh_sender_free(w->sender);
    rs_db_free(w->db);
}

void wh_pool_stop(struct wh_pool *pool, int64_t grace_ms)
{
    (void)grace_ms; /* each dispatcher gives its deliveries shutdown_grace_ms */
    if (!pool)
        return;
    atomic_store(&pool->stopping, true);
    for (int i = 0; i < pool->n; i++) {
        if (pool->d[i].started && pool->d[i].sender)
            wh_sender_wakeup(pool->d[i].sender);
    }
    for (int i = 0; i < pool->n; i++) {
        if (pool->d[i].started)
            pthread_join(pool->d[i].thread, NULL);
        dispatcher_cleanup(&pool->d[i]);
    }
    free(pool->d);
    free(pool);
}
