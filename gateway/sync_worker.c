/*
 * Sync worker threads: each has its own database connection and HTTP client, queues what the
 * schedule says is due, claims one sync at a time and runs it; when idle it sleeps on
 * LISTEN roster_sync (a new sync wakes it) or the poll interval, whichever comes first.
 */
#include "sync_int.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

struct sync_worker {
    struct sync_runner runner;
    pthread_t thread;
    bool started;
    atomic_bool finished;
    uint64_t listening; /* the rs_db_session LISTEN was issued on (0: none) */
};

struct sync_pool {
    atomic_bool stopping;
    int n;
    struct sync_worker *workers;
};

/* (Re-)issues LISTEN whenever the connection is new. */
static void ensure_listening(struct sync_worker *w)
{
    uint64_t session = rs_db_session(w->runner.db);

    if (session == 0 || session == w->listening ||
        rs_db_command(w->runner.db, "LISTEN " SYNC_NOTIFY_CHANNEL) != RS_OK)
        return;
    w->listening = session;
}

/* Waits for a NOTIFY or the poll interval, and drains pending notifications. */
static void idle_wait(struct sync_worker *w)
{
    PGconn *conn = rs_db_conn(w->runner.db);
    int timeout = (int)w->runner.app->cfg->sync_poll_ms;
    PGnotify *note;

    if (!conn || rs_db_session(w->runner.db) != w->listening || PQsocket(conn) < 0) {
        usleep((useconds_t)timeout * 1000);
        return;
    }
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    if (poll(&pfd, 1, timeout) > 0)
        PQconsumeInput(conn);
    while ((note = PQnotifies(conn)) != NULL)
        PQfreemem(note);
}

/* One round: queue due syncs, then claim and run one. Returns true when it ran something. */
static bool round_once(struct sync_worker *w)
{
    const struct rs_config *cfg = w->runner.app->cfg;
    struct rs_errbuf eb = {{0}, {0}};
    struct sync_job job;
    bool claimed = false;
    int queued = 0;

    if (rs_db_ensure(w->runner.db) != RS_OK)
        return false;
    ensure_listening(w);
    if (sync_queue_schedule_due(w->runner.db, &queued, &eb) != RS_OK)
        return false;
    if (sync_queue_claim(w->runner.db, w->runner.owner, cfg->sync_lease_s, &job, &claimed, &eb) !=
            RS_OK ||
        !claimed)
        return false;
    if (sync_run(&w->runner, &job) != RS_OK)
        rs_log(RS_LOG_ERROR, "sync outcome not recorded", "sync=%s", job.id_text);
    return true;
}

static void *worker_main(void *arg)
{
    struct sync_worker *w = arg;

    while (!atomic_load(w->runner.stopping)) {
        if (!round_once(w) && !atomic_load(w->runner.stopping))
            idle_wait(w);
    }
    atomic_store(&w->finished, true);
    return NULL;
}

static enum rs_err worker_init(struct sync_worker *w, struct sync_pool *pool,
                               const struct gw_app *app, int index, struct rs_errbuf *eb)
{
    const struct rs_config *cfg = app->cfg;
    struct rs_httpc_options opts = {
        .timeout_ms = cfg->upstream_timeout_ms,
        .max_attempts = (int)cfg->upstream_max_attempts,
        .allow_private = cfg->allow_private_upstreams,
    };
    char host[64] = "host";
    enum rs_err err;

    gethostname(host, sizeof(host) - 1);
    snprintf(w->runner.owner, sizeof(w->runner.owner), "%s:%d:%d", host, (int)getpid(), index);
    w->runner.app = app;
    w->runner.stopping = &pool->stopping;
    err = rs_db_open(cfg->database_url, (int)cfg->db_connect_timeout_s, true, &w->runner.db, eb);
    if (err == RS_OK)
        err = rs_db_open(cfg->database_url, (int)cfg->db_connect_timeout_s, true,
                         &w->runner.stage_db, eb);
    if (err == RS_OK) {
        rs_db_set_retry_interval(w->runner.db, cfg->db_retry_interval_ms);
        rs_db_set_retry_interval(w->runner.stage_db, cfg->db_retry_interval_ms);
        err = rs_httpc_new(&opts, &w->runner.http);
    }
    return err;
}

enum rs_err sync_pool_start(const struct gw_app *app, struct sync_pool **out, struct rs_errbuf *eb)
{
    struct sync_pool *pool = calloc(1, sizeof(*pool));
    enum rs_err err = RS_OK;

    if (!pool)
        return RS_ERR_NOMEM;
    pool->n = (int)app->cfg->sync_workers;
    pool->workers = calloc((size_t)(pool->n ? pool->n : 1), sizeof(*pool->workers));
    if (!pool->workers)
        err = RS_ERR_NOMEM;
    for (int i = 0; i < pool->n && err == RS_OK; i++) {
        err = worker_init(&pool->workers[i], pool, app, i, eb);
        if (err == RS_OK &&
            pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) != 0)
            err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "cannot start sync workers");
        pool->workers[i].started = err == RS_OK;
    }
    if (err != RS_OK) {
        sync_pool_stop(pool, 0);
        return err;
    }
    rs_log(RS_LOG_INFO, "sync workers started", "workers=%d", pool->n);
    *out = pool;
    return RS_OK;
}

void sync_pool_stop(struct sync_pool *pool, int64_t grace_ms)
{
    int64_t deadline = rs_time_mono_us() + grace_ms * 1000;
    bool abandoned = false;

    if (!pool)
        return;
    atomic_store(&pool->stopping, true);
    for (int i = 0; i < pool->n; i++) {
        struct sync_worker *w = &pool->workers[i];

        while (w->started && !atomic_load(&w->finished) && rs_time_mono_us() < deadline)
            usleep(20000);
        if (w->started && !atomic_load(&w->finished)) {
            /* still inside a provider request: its lease will expire and the sync will be
               taken over; the process is exiting, so the thread and its resources go with it */
            abandoned = true;
            continue;
        }
        if (w->started)
            pthread_join(w->thread, NULL);
        rs_httpc_free(w->runner.http);
        rs_db_free(w->runner.db);
        rs_db_free(w->runner.stage_db);
    }
    if (abandoned) {
        rs_log(RS_LOG_WARN, "sync workers abandoned at shutdown", NULL);
        return; /* never free what a running thread still uses */
    }
    free(pool->workers);
    free(pool);
}
