/*
 * The sync engine, shared inside gateway/: the queue of sync jobs in PostgreSQL (sync_queue.c),
 * one sync run from provider pages to applied rows (sync_run.c), and the worker threads that
 * claim and run them (sync_worker.c). All coordination between threads and processes goes
 * through the syncs table: leases with FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY wake-ups.
 */
#ifndef ROSTER_SYNC_INT_H
#define ROSTER_SYNC_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gw_int.h"
#include "roster/prov.h"
#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_httpc.h"
#include "roster/rs_uuid.h"

#define SYNC_NOTIFY_CHANNEL "roster_sync"

/* A claimed sync job. */
struct sync_job {
    struct rs_uuid id, account;
    char id_text[RS_UUID_STR_LEN], account_text[RS_UUID_STR_LEN];
    bool full;           /* as queued; the run may upgrade an incremental sync to full */
    const char *trigger; /* static string */
    int attempts;        /* including this one */
};

/* sync_queue.c */
/*
 * Queues a sync of account unless one is already queued, running or paused (*queued tells).
 * kind "FULL" or "INCREMENTAL"; trigger "INITIAL", "SCHEDULE" or "MANUAL". Wakes idle
 * workers (NOTIFY, delivered at commit when inside a transaction).
 */
enum rs_err sync_queue_add(struct rs_db *db, const char *account, const char *kind,
                           const char *trigger, bool *queued, struct rs_errbuf *eb) RS_MUST_CHECK;
/* Queues a scheduled sync for every COMPLETE account whose next_sync_at has come. */
enum rs_err sync_queue_schedule_due(struct rs_db *db, int *queued,
                                    struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Claims the oldest due QUEUED sync, or a SYNCING one whose lease expired (its worker died),
 * leasing it to owner for lease_s seconds. *claimed is false when there is none.
 */
enum rs_err sync_queue_claim(struct rs_db *db, const char *owner, int64_t lease_s,
                             struct sync_job *job, bool *claimed,
                             struct rs_errbuf *eb) RS_MUST_CHECK;
/* Extends the lease; RS_ERR_CONFLICT when another worker holds it now (stop the run). */
enum rs_err sync_queue_heartbeat(struct rs_db *db, const struct sync_job *job, const char *owner,
                                 int64_t lease_s, struct rs_errbuf *eb) RS_MUST_CHECK;
/* Gives a job back (shutdown): QUEUED again, to run at once elsewhere. */
enum rs_err sync_queue_release(struct rs_db *db, const struct sync_job *job, const char *owner,
                               struct rs_errbuf *eb) RS_MUST_CHECK;

/* sync_run.c */
struct sync_runner {
    const struct gw_app *app;
    struct rs_db *db;
    struct rs_db *stage_db; /* the staging thread's own connection (rs_stage) */
    struct rs_httpc *http;
    char owner[96];        /* lease owner: host:pid:thread */
    atomic_bool *stopping; /* set at shutdown: the run gives its job back */
    /* the adapter of an integration slug: NULL is prov_find (tests put their own adapters) */
    const struct prov_ops *(*find_adapter)(const char *slug);
};

/*
 * Runs one claimed sync to its end: DONE (applied), FAILED (nothing applied; a reason; 401/403
 * sets the account to RELINK_NEEDED), PAUSED (the mass-change guard held it), or given back to
 * the queue at shutdown. Returns RS_OK when the job reached one of those states, an error when
 * even recording the outcome failed (the lease then expires and another worker retries).
 */
enum rs_err sync_run(struct sync_runner *runner, const struct sync_job *job) RS_MUST_CHECK;

/*
 * Applies a PAUSED sync's staged rows (approve) or drops them (discard), for the admin API.
 * RS_ERR_NOTFOUND when sync is not a PAUSED sync of account; RS_ERR_CONFLICT when the staged
 * rows were lost (a database crash) and approving is impossible.
 */
enum rs_err sync_run_approve(struct rs_db *db, const char *account, const char *sync,
                             struct rs_errbuf *eb) RS_MUST_CHECK;
enum rs_err sync_run_discard(struct rs_db *db, const char *account, const char *sync,
                             struct rs_errbuf *eb) RS_MUST_CHECK;

/* sync_worker.c */
struct sync_pool;
/* Starts cfg->sync_workers threads (none when 0). */
enum rs_err sync_pool_start(const struct gw_app *app, struct sync_pool **out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Asks every worker to stop and waits up to grace_ms; a worker still inside a provider
 * request is abandoned (its lease expires and another process takes the sync over).
 */
void sync_pool_stop(struct sync_pool *pool, int64_t grace_ms);

#endif
