/*
 * The write path of the normalized model: records are rendered, hashed and batched as COPY
 * rows, staged per sync in PostgreSQL (memory stays bounded by a page), and applied in one
 * transaction that upserts only the rows whose content hash changed (so a no-change resync
 * writes nothing and modified_at stays put) and, after a complete full sync, marks what
 * vanished as deleted. See docs/design/store.md.
 */
#ifndef ROSTER_RS_STORE_H
#define ROSTER_RS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_uuid.h"

/* One normalized record. All members are borrowed for the duration of the call. */
struct rs_record {
    const char *remote_id;     /* the provider's id; required, non-empty */
    const json_t *fields;      /* object keyed by wire names (relations already as UUIDs) */
    const json_t *remote_data; /* array of {"path", "data"}, or NULL */
    bool out_of_scope;         /* selective sync: seen (so never swept) but neither stored nor
                                  updated; set by the sync engine, never by adapters */
};

struct rs_store_stats {
    size_t inserted;  /* rows that did not exist */
    size_t updated;   /* rows whose content changed (or that came back from deletion) */
    size_t unchanged; /* rows whose content hash was the same: not written */
    size_t invalid;   /* records refused by rs_store_batch_add */
    size_t deleted;   /* rows marked remote_was_deleted by a sweep */
};

/* What applying a sync would do to the active employees (the mass-change guard's input). */
struct rs_store_impact {
    size_t active;      /* employees ACTIVE and not deleted now */
    size_t deactivated; /* of those, staged with another status */
    size_t deleted;     /* of those, absent from the staged data (sweeping syncs only) */
};

struct rs_store_batch;

/*
 * A batch for one model of one linked account, staging under sync_id (NULL: a fresh random
 * id, for writers that apply at once with rs_store_batch_flush). RS_ERR_NOMEM on failure.
 */
enum rs_err rs_store_batch_new(const struct rs_uuid *account, enum rs_model_kind kind,
                               const struct rs_uuid *sync_id,
                               struct rs_store_batch **out) RS_MUST_CHECK;
void rs_store_batch_free(struct rs_store_batch *batch);
/* Rows added since the last stage/flush. */
size_t rs_store_batch_count(const struct rs_store_batch *batch);

/*
 * Renders and hashes record and queues it. A record with a missing or oversized remote id or
 * a value of the wrong type is refused with RS_ERR_INVALID (detail in eb) and counted as
 * invalid at the next stage/flush; the batch stays usable.
 */
enum rs_err rs_store_batch_add(struct rs_store_batch *batch, const struct rs_record *record,
                               struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * COPYs the queued rows into the staging table of the batch's model under its sync id and
 * empties the batch (memory stays bounded by what was added since). Staged rows persist until
 * rs_store_apply or rs_store_discard; they are in UNLOGGED tables, so a database crash loses
 * them (rs_store_staged_count tells). Adds refused records to stats->invalid.
 */
enum rs_err rs_store_batch_stage(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb) RS_MUST_CHECK;

/* Rows staged for sync_id (all models). */
enum rs_err rs_store_staged_count(struct rs_db *db, const struct rs_uuid *sync_id, size_t *out,
                                  struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Fresh statistics for the staging tables, in a short transaction of its own: call it once
 * after staging a sync and before rs_store_impact / rs_store_apply. The tables fill up within
 * one sync, long before autovacuum looks, and without it the planner takes 100,000 staged
 * rows for a handful and picks nested loops that never finish. Must not be called inside a
 * transaction.
 */
enum rs_err rs_store_analyze(struct rs_db *db, struct rs_errbuf *eb) RS_MUST_CHECK;

/* Counts what applying sync_id would do to the account's active employees. */
enum rs_err rs_store_impact(struct rs_db *db, const struct rs_uuid *account,
                            const struct rs_uuid *sync_id, bool sweep, struct rs_store_impact *out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Applies the rows staged for sync_id to every model of the account: upserts the in-scope rows
 * whose content hash changed (modified_at moves only then; created_at is first-seen time; the
 * last staged version of a remote id wins), and when sweep (a complete full sync) marks
 * remote_was_deleted on rows of the account that were not staged at all. Employments of
 * out-of-scope employees are out of scope too. Must run in the caller's transaction; deletes
 * the staged rows. stats (RS_MODEL_COUNT entries) receives per-model counts.
 */
enum rs_err rs_store_apply(struct rs_db *db, const struct rs_uuid *account,
                           const struct rs_uuid *sync_id, bool sweep,
                           struct rs_store_stats stats[RS_MODEL_COUNT],
                           struct rs_errbuf *eb) RS_MUST_CHECK;

struct rs_outbox_plan;
/*
 * rs_store_apply that also writes the model events plan asks for (rs_outbox_plan_sync, in the
 * same transaction): each upsert's and sweep's statement inserts, from its RETURNING, one
 * outbox message per changed row and endpoint that wants it (<Model>.added for an insert,
 * .changed for an update, .removed for a row the sweep marks deleted), carrying the row as
 * stored. A NULL or inactive plan writes no event, with the statements rs_store_apply runs.
 */
enum rs_err rs_store_apply_events(struct rs_db *db, const struct rs_uuid *account,
                                  const struct rs_uuid *sync_id, bool sweep,
                                  const struct rs_outbox_plan *plan,
                                  struct rs_store_stats stats[RS_MODEL_COUNT],
                                  struct rs_errbuf *eb) RS_MUST_CHECK;

/* Deletes the rows staged for sync_id (a failed, discarded or restarted sync). */
enum rs_err rs_store_discard(struct rs_db *db, const struct rs_uuid *sync_id,
                             struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * For writers that apply at once (the example seeder, tests): stages the batch and applies
 * that model's rows without a sweep. Must run inside the caller's transaction (refused with
 * RS_ERR_INTERNAL otherwise). Adds to *stats and empties the batch.
 */
enum rs_err rs_store_batch_flush(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
