/*
 * The queue of sync jobs, as SQL over the syncs table: add, schedule what is due, claim with a
 * lease (FOR UPDATE SKIP LOCKED; an expired lease of a dead worker is taken over), heartbeat
 * and release. A partial unique index keeps one queued/running/paused sync per account.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define SQL_ADD                                                                                    \
    "WITH add AS (INSERT INTO syncs (linked_account_id, id, kind, trigger, status) "               \
    "SELECT la.id, gen_random_uuid(), $2, $3, 'QUEUED' FROM linked_accounts la "                   \
    "WHERE la.id = $1::uuid ON CONFLICT (linked_account_id) "                                      \
    "WHERE status IN ('QUEUED', 'SYNCING', 'PAUSED') DO NOTHING RETURNING 1) "                     \
    "SELECT count(*), pg_notify('" SYNC_NOTIFY_CHANNEL "', '') FROM add"

enum rs_err sync_queue_add(struct rs_db *db, const char *account, const char *kind,
                           const char *trigger, bool *queued, struct rs_errbuf *eb)
{
    const char *params[3] = {account, kind, trigger};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_ADD, 3, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot queue a sync");
    *queued = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    return RS_OK;
}

/* next_sync_at moves forward in the same statement, so two schedulers never queue twice. */
#define SQL_SCHEDULE_DUE                                                                           \
    "WITH due AS (UPDATE linked_accounts la SET next_sync_at = now() + "                           \
    "make_interval(secs => la.sync_interval_s) WHERE la.status = 'COMPLETE' AND "                  \
    "la.next_sync_at <= now() AND NOT EXISTS (SELECT 1 FROM syncs s WHERE "                        \
    "s.linked_account_id = la.id AND s.status IN ('QUEUED', 'SYNCING', 'PAUSED')) "                \
    "RETURNING la.id), add AS (INSERT INTO syncs (linked_account_id, id, kind, trigger, status) "  \
    "SELECT id, gen_random_uuid(), 'INCREMENTAL', 'SCHEDULE', 'QUEUED' FROM due "                  \
    "ON CONFLICT (linked_account_id) WHERE status IN ('QUEUED', 'SYNCING', 'PAUSED') "             \
    "DO NOTHING RETURNING 1) SELECT count(*) FROM add"

enum rs_err sync_queue_schedule_due(struct rs_db *db, int *queued, struct rs_errbuf *eb)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_SCHEDULE_DUE, 0, NULL, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot schedule due syncs");
    *queued = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return RS_OK;
}

#define SQL_CLAIM                                                                                  \
    "WITH job AS (SELECT linked_account_id, id FROM syncs WHERE (status = 'QUEUED' AND "           \
    "run_after <= now()) OR (status = 'SYNCING' AND lease_expires_at < now()) "                    \
    "ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED) "                                          \
    "UPDATE syncs s SET status = 'SYNCING', lease_owner = $1, lease_expires_at = now() + "         \
    "make_interval(secs => $2::int), attempts = s.attempts + 1, started_at = now() "               \
    "FROM job WHERE s.linked_account_id = job.linked_account_id AND s.id = job.id "                \
    "RETURNING s.id, s.linked_account_id, s.kind, s.trigger, s.attempts"

static const char *trigger_name(const char *text)
{
    static const char *const names[] = {"INITIAL", "SCHEDULE", "MANUAL"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i], text) == 0)
            return names[i];
    }
    return "SCHEDULE";
}

enum rs_err sync_queue_claim(struct rs_db *db, const char *owner, int64_t lease_s,
                             struct sync_job *job, bool *claimed, struct rs_errbuf *eb)
{
    char lease[24];
    const char *params[2] = {owner, lease};
    enum rs_err err;
    PGresult *res;

    snprintf(lease, sizeof(lease), "%lld", (long long)lease_s);
    *claimed = false;
    res = rs_db_exec(db, SQL_CLAIM, 2, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot claim a sync");
    if (PQntuples(res) == 1 && rs_uuid_parse(PQgetvalue(res, 0, 0), &job->id) == RS_OK &&
        rs_uuid_parse(PQgetvalue(res, 0, 1), &job->account) == RS_OK) {
        rs_uuid_format(&job->id, job->id_text);
        rs_uuid_format(&job->account, job->account_text);
        job->full = strcmp(PQgetvalue(res, 0, 2), "FULL") == 0;
        job->trigger = trigger_name(PQgetvalue(res, 0, 3));
        job->attempts = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
        *claimed = true;
    }
    PQclear(res);
    return RS_OK;
}

#define SQL_HEARTBEAT                                                                              \
    "UPDATE syncs SET lease_expires_at = now() + make_interval(secs => $3::int) "                  \
    "WHERE linked_account_id = $1::uuid AND id = $2::uuid AND status = 'SYNCING' "                 \
    "AND lease_owner = $4"

enum rs_err sync_queue_heartbeat(struct rs_db *db, const struct sync_job *job, const char *owner,
                                 int64_t lease_s, struct rs_errbuf *eb)
{
    char lease[24];
    const char *params[4] = {job->account_text, job->id_text, lease, owner};
    enum rs_err err;
    PGresult *res;

    snprintf(lease, sizeof(lease), "%lld", (long long)lease_s);
    res = rs_db_exec(db, SQL_HEARTBEAT, 4, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot extend the sync's lease");
    err = strcmp(PQcmdTuples(res), "1") == 0
              ? RS_OK
              : rs_errbuf_set(eb, RS_ERR_CONFLICT, "the sync's lease was taken over");
    PQclear(res);
    return err;
}

#define SQL_RELEASE                                                                                \
    "UPDATE syncs SET status = 'QUEUED', lease_owner = NULL, lease_expires_at = NULL, "            \
    "run_after = now() WHERE linked_account_id = $1::uuid AND id = $2::uuid AND "                  \
    "status = 'SYNCING' AND lease_owner = $3"

enum rs_err sync_queue_release(struct rs_db *db, const struct sync_job *job, const char *owner,
                               struct rs_errbuf *eb)
{
    const char *params[3] = {job->account_text, job->id_text, owner};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_RELEASE, 3, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot release the sync");
    PQclear(res);
    return RS_OK;
}
