/*
 * The write path of the normalized model: records are rendered, hashed and batched as COPY
 * rows; a flush loads them into a staging table and upserts only the rows whose content hash
 * changed (so a no-change resync writes nothing and modified_at stays put).
 */
#ifndef ROSTER_RS_STORE_H
#define ROSTER_RS_STORE_H

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
};

struct rs_store_stats {
    size_t inserted;  /* rows that did not exist */
    size_t updated;   /* rows whose content changed (or that came back from deletion) */
    size_t unchanged; /* rows whose content hash was the same: not written */
    size_t invalid;   /* records refused by rs_store_batch_add */
};

struct rs_store_batch;

/* A batch for one model of one linked account. Returns RS_ERR_NOMEM on failure. */
enum rs_err rs_store_batch_new(const struct rs_uuid *account, enum rs_model_kind kind,
                               struct rs_store_batch **out) RS_MUST_CHECK;
void rs_store_batch_free(struct rs_store_batch *batch);
/* Rows added since the last flush. */
size_t rs_store_batch_count(const struct rs_store_batch *batch);

/*
 * Renders and hashes record and queues it. A record with a missing remote id or a value of
 * the wrong type is refused with RS_ERR_INVALID (detail in eb) and counted as invalid at the
 * next flush; the batch stays usable.
 */
enum rs_err rs_store_batch_add(struct rs_store_batch *batch, const struct rs_record *record,
                               struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Writes the queued rows: COPY into a temporary staging table, then one upsert that skips
 * rows whose content hash is unchanged. Must run inside the caller's transaction (the caller
 * decides when the data becomes visible). Adds to *stats and empties the batch.
 */
enum rs_err rs_store_batch_flush(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
