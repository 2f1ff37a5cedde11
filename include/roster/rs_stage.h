/*
 * Staging pipeline of one sync: records are rendered and hashed on the caller's thread (as
 * rs_store_batch_add does) and COPYed into the staging tables by a background thread on its
 * own connection, so that PostgreSQL loads one batch while the caller fetches and parses the
 * next page. Rows keep the order they were added in (one COPY at a time, first in first out),
 * which the apply's "last copy of a record wins" relies on. In a large sync, a record whose
 * content the account already has stored is staged as a marker (its identity and filter
 * columns, no JSON), so a no-change resync moves almost nothing. See docs/design/store.md.
 */
#ifndef ROSTER_RS_STAGE_H
#define ROSTER_RS_STAGE_H

#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_store.h"
#include "roster/rs_uuid.h"

struct rs_stage;

/*
 * Starts staging for account under sync_id. db (borrowed) is used only by the background
 * thread, from now until rs_stage_finish or rs_stage_free returns: give it a connection of
 * its own. RS_ERR_NOMEM, or RS_ERR_INTERNAL when the thread cannot start.
 */
enum rs_err rs_stage_new(struct rs_db *db, const struct rs_uuid *account,
                         const struct rs_uuid *sync_id, struct rs_stage **out,
                         struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Adds one record of kind. RS_ERR_INVALID: the record was refused (detail in eb; counted as
 * invalid, the stage stays usable). Any other error means staging failed (a COPY of an
 * earlier batch, or memory): stop, and rs_stage_free. When the background thread is behind by
 * more than a couple of batches this waits for it, which bounds memory.
 */
enum rs_err rs_stage_add(struct rs_stage *stage, enum rs_model_kind kind,
                         const struct rs_record *record, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Stages what is still buffered, waits until every row is in the staging tables and stops
 * the thread; adds each model's invalid count to stats[kind].invalid. The first staging
 * error if any (nothing more is staged after it).
 */
enum rs_err rs_stage_finish(struct rs_stage *stage, struct rs_store_stats stats[RS_MODEL_COUNT],
                            struct rs_errbuf *eb) RS_MUST_CHECK;

/* Stops the thread if still running (rows already COPYed stay staged) and frees everything. */
void rs_stage_free(struct rs_stage *stage);

#endif
