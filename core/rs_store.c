/*
 * Applying a sync's staged rows to the normalized model: upsert only what changed, sweep what
 * a full sync did not see, measure a sync's impact for the mass-change guard, drop staged rows
 * (docs/design/store.md). Staging them is rs_store_batch.c.
 */
#include "roster/rs_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster/rs_buf.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"

#include "rs_int.h"

/* "normalized = EXCLUDED.normalized, …" for every column an update rewrites. */
static enum rs_err update_list(const struct rs_model *model, struct rs_buf *out)
{
    enum rs_err err = rs_buf_append_str(
        out, "normalized = EXCLUDED.normalized, remote_data = EXCLUDED.remote_data, "
             "content_hash = EXCLUDED.content_hash, remote_was_deleted = false, "
             "modified_at = now()");

    for (size_t i = 0; i < model->nfields && err == RS_OK; i++) {
        const char *column = model->fields[i].column;

        if (column)
            err = rs_buf_appendf(out, ", %s = EXCLUDED.%s", column, column);
    }
    return err;
}

/* Runs sql with n parameters ($1 = sync id, $2 = account, …) and reads up to three counts
   from row 0. */
static enum rs_err counts_n(struct rs_db *db, const char *sql, int n, const char *const *params,
                            size_t out[3], struct rs_errbuf *eb)
{
    enum rs_err err;
    /* not prepared: each runs once per sync, and a plan for the actual values (with the
       staging tables' fresh statistics) matters far more than planning time */
    PGresult *res = rs_db_exec(db, sql, n, params, false, false, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "staging statement failed");
    for (int i = 0; i < PQnfields(res) && i < 3; i++)
        out[i] = PQntuples(res) ? strtoull(PQgetvalue(res, 0, i), NULL, 10) : 0;
    PQclear(res);
    return RS_OK;
}

/* Runs sql (with $1 = sync id, $2 = account) and reads up to three counts from row 0. */
static enum rs_err counts(struct rs_db *db, const char *sql, const char *sync_text,
                          const char *account_text, size_t out[3], struct rs_errbuf *eb)
{
    const char *params[2] = {sync_text, account_text};

    return counts_n(db, sql, account_text ? 2 : 1, params, out, eb);
}

/*
 * The outbox's part of a model statement: a CTE inserting one message per row of `source` (the
 * statement's RETURNING) and endpoint that wants its event type ($3 group, $4 organization,
 * $5 initial sync). Empty when the plan wants no event of this model.
 */
static enum rs_err events_cte(const struct rs_model *model, const struct rs_outbox_plan *plan,
                              bool sweep, struct rs_buf *out)
{
    char added[RS_EVENT_NAME_MAX], changed[RS_EVENT_NAME_MAX], removed[RS_EVENT_NAME_MAX];
    char type[3 * RS_EVENT_NAME_MAX + 64], initial[RS_EVENT_NAME_MAX + 96] = "";
    unsigned wanted = plan && plan->active ? plan->wanted[model->kind] : 0;

    if (sweep ? !(wanted & RS_OUTBOX_REMOVED) : !(wanted & (RS_OUTBOX_ADDED | RS_OUTBOX_CHANGED)))
        return RS_OK;
    rs_outbox_model_event(model->kind, RS_OUTBOX_ADDED, added);
    rs_outbox_model_event(model->kind, RS_OUTBOX_CHANGED, changed);
    rs_outbox_model_event(model->kind, RS_OUTBOX_REMOVED, removed);
    if (sweep)
        snprintf(type, sizeof(type), "'%s'", removed);
    else
        snprintf(type, sizeof(type), "CASE WHEN r.inserted THEN '%s' ELSE '%s' END", added,
                 changed);
    /* a first sync's .added go only to the endpoints that asked for them */
    if (!sweep)
        snprintf(initial, sizeof(initial),
                 " AND (u.type <> '%s' OR NOT $5::boolean OR e.initial_sync_events)", added);
    return rs_buf_appendf(
        out,
        ", ev AS (INSERT INTO webhook_messages (endpoint_id, id, linked_account_id, grp, "
        "event_type, record_id, remote_id, record_created_at, record_modified_at, normalized, "
        "remote_was_deleted) SELECT e.id, roster_uuid7(), $2::uuid, $3::int8, u.type, u.id, "
        "u.remote_id, u.created_at, u.modified_at, u.normalized, u.remote_was_deleted FROM "
        "(SELECT r.*, %s AS type FROM %s r) u JOIN webhook_endpoints e ON e.organization_id = "
        "$4::uuid AND e.enabled AND (e.events IS NULL OR u.type = ANY (e.events))%s RETURNING 1)",
        type, sweep ? "gone" : "up", initial);
}

/*
 * Runs a model statement whose first CTE is `head` (it defines "up" or "gone") and whose
 * selection is `tail`, with the outbox's CTE in between when the plan wants events of this
 * model, then reads its counts.
 */
static enum rs_err model_statement(struct rs_db *db, const struct rs_model *model,
                                   const struct rs_outbox_plan *plan, bool sweep,
                                   const char *sync_text, const char *account_text,
                                   struct rs_buf *sql, const char *tail, size_t n[3],
                                   struct rs_errbuf *eb)
{
    size_t before = sql->len;
    enum rs_err err = events_cte(model, plan, sweep, sql);
    bool events = sql->len > before;
    const char *params[5] = {sync_text, account_text, plan ? plan->group : NULL,
                             plan ? plan->org : NULL, plan && plan->initial ? "true" : "false"};

    if (err == RS_OK)
        err = rs_buf_append_str(sql, tail);
    if (err != RS_OK)
        return err;
    /* the sweep's statement has no $5: an unused parameter would have no type */
    return counts_n(db, sql->data, events ? (sweep ? 4 : 5) : 2, params, n, eb);
}

/* The columns a model event needs, returned by the upsert and the sweep. */
#define EVENT_COLUMNS "id, remote_id, created_at, modified_at, normalized, remote_was_deleted"

static enum rs_err upsert_model(struct rs_db *db, const struct rs_model *model,
                                const struct rs_outbox_plan *plan, const char *sync_text,
                                const char *account_text, struct rs_store_stats *stats,
                                struct rs_errbuf *eb)
{
    const char *table = model->path;
    bool events = plan && plan->active && (plan->wanted[model->kind] & ~RS_OUTBOX_REMOVED);
    struct rs_buf sql, updates, columns, tail;
    size_t staged[3] = {0, 0, 0}, n[3] = {0, 0, 0};
    char count_sql[256];
    enum rs_err err;

    /* in-scope rows and distinct records: a provider that sent no record twice (the usual
       case) needs no dedupe, and skipping it spares a sort of every staged row's JSON */
    snprintf(count_sql, sizeof(count_sql),
             "SELECT count(*), count(DISTINCT id) FROM sync_stage_%s "
             "WHERE sync_id = $1::uuid AND linked_account_id = $2::uuid AND in_scope",
             table);
    if ((err = counts(db, count_sql, sync_text, account_text, staged, eb)) != RS_OK)
        return err;
    rs_buf_init(&sql, 64 * 1024);
    rs_buf_init(&updates, 16 * 1024);
    rs_buf_init(&columns, 8 * 1024);
    rs_buf_init(&tail, 1024);
    err = update_list(model, &updates);
    if (err == RS_OK)
        err = rs_store_column_list(model, &columns);
    if (err == RS_OK)
        err = rs_buf_appendf(
            &sql,
            /* the last copy of each record wins; a marker (unchanged) writes nothing */
            "WITH up AS (INSERT INTO %s (%s) SELECT %s FROM (SELECT %s * "
            "FROM sync_stage_%s WHERE sync_id = $1::uuid AND linked_account_id = $2::uuid "
            "AND in_scope %s) s WHERE NOT s.unchanged "
            "ON CONFLICT (linked_account_id, id) DO UPDATE SET %s "
            "WHERE %s.content_hash <> EXCLUDED.content_hash OR %s.remote_was_deleted "
            "RETURNING (xmax = 0) AS inserted%s)",
            table, columns.data, columns.data, staged[0] == staged[1] ? "" : "DISTINCT ON (id)",
            table, staged[0] == staged[1] ? "" : "ORDER BY id, rs_seq DESC", updates.data, table,
            table, events ? ", " EVENT_COLUMNS : "");
    if (err == RS_OK)
        err = rs_buf_append_str(&tail, " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER "
                                       "(WHERE NOT inserted) FROM up");
    if (err == RS_OK)
        err = model_statement(db, model, plan, false, sync_text, account_text, &sql, tail.data, n,
                              eb);
    if (err == RS_OK) {
        stats->inserted += n[0];
        stats->updated += n[1];
        stats->unchanged += staged[1] - n[0] - n[1];
    }
    rs_buf_cleanup(&sql);
    rs_buf_cleanup(&updates);
    rs_buf_cleanup(&columns);
    rs_buf_cleanup(&tail);
    return err;
}

/* Whether the account has a row of model not marked deleted. */
static enum rs_err has_live_rows(struct rs_db *db, const struct rs_model *model,
                                 const char *account_text, bool *out, struct rs_errbuf *eb)
{
    char sql[256];
    const char *params[1] = {account_text};
    enum rs_err err;
    PGresult *res;

    snprintf(sql, sizeof(sql),
             "SELECT EXISTS (SELECT 1 FROM %s WHERE linked_account_id = $1::uuid AND NOT "
             "remote_was_deleted)",
             model->path);
    if (!(res = rs_db_exec(db, sql, 1, params, false, true, &err)))
        return rs_errbuf_set(eb, err, "cannot look for stored %s", model->path);
    *out = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return RS_OK;
}

/* Marks the account's rows of model that this full sync did not see as deleted. */
static enum rs_err sweep_model(struct rs_db *db, const struct rs_model *model,
                               const struct rs_outbox_plan *plan, const char *sync_text,
                               const char *account_text, struct rs_store_stats *stats,
                               struct rs_errbuf *eb)
{
    bool events = plan && plan->active && (plan->wanted[model->kind] & RS_OUTBOX_REMOVED);
    struct rs_buf sql;
    size_t n[3] = {0, 0, 0};
    enum rs_err err;

    rs_buf_init(&sql, 16 * 1024);
    err = rs_buf_appendf(
        &sql,
        "WITH gone AS (UPDATE %s t SET remote_was_deleted = true, modified_at = now() "
        "WHERE t.linked_account_id = $2::uuid AND NOT t.remote_was_deleted AND NOT EXISTS "
        "(SELECT 1 FROM sync_stage_%s s WHERE s.sync_id = $1::uuid AND s.id = t.id) "
        "RETURNING %s)",
        model->path, model->path,
        events ? "t.id, t.remote_id, t.created_at, t.modified_at, t.normalized, "
                 "t.remote_was_deleted"
               : "1");
    if (err == RS_OK)
        err = model_statement(db, model, plan, true, sync_text, account_text, &sql,
                              " SELECT count(*) FROM gone", n, eb);
    stats->deleted += n[0];
    rs_buf_cleanup(&sql);
    return err;
}

enum rs_err rs_store_analyze(struct rs_db *db, struct rs_errbuf *eb)
{
    /* its own short transaction: a small sample is plenty for row counts, and the locks
       ANALYZE takes are released at once instead of at the apply's commit */
    enum rs_err err = rs_db_command(db, "BEGIN");

    if (err == RS_OK)
        err = rs_db_command(db, "SET LOCAL default_statistics_target = 10");
    if (err == RS_OK)
        err = rs_db_command(db, "ANALYZE sync_stage_companies, sync_stage_locations, "
                                "sync_stage_teams, sync_stage_groups, sync_stage_employees, "
                                "sync_stage_employments");
    if (err == RS_OK)
        err = rs_db_command(db, "COMMIT");
    else if (rs_db_command(db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    return err == RS_OK ? RS_OK : rs_errbuf_set(eb, err, "cannot analyze the staging tables");
}

/* Employments of employees that are out of scope are out of scope too. */
#define SQL_SCOPE_EMPLOYMENTS                                                                      \
    "UPDATE sync_stage_employments s SET in_scope = false WHERE s.sync_id = $1::uuid "             \
    "AND s.in_scope AND s.employee_id IN (SELECT e.id FROM sync_stage_employees e "                \
    "WHERE e.sync_id = $1::uuid AND NOT e.in_scope)"

/* Invalidates the account's cached pages (the version comes back with every request's auth). */
static enum rs_err bump_version(struct rs_db *db, const char *account_text, struct rs_errbuf *eb)
{
    size_t ignored[3];

    return counts(db,
                  "UPDATE linked_accounts SET data_version = data_version + 1 "
                  "WHERE id = $1::uuid",
                  account_text, NULL, ignored, eb);
}

enum rs_err rs_store_apply(struct rs_db *db, const struct rs_uuid *account,
                           const struct rs_uuid *sync_id, bool sweep,
                           struct rs_store_stats stats[RS_MODEL_COUNT], struct rs_errbuf *eb)
{
    return rs_store_apply_events(db, account, sync_id, sweep, NULL, stats, eb);
}

enum rs_err rs_store_apply_events(struct rs_db *db, const struct rs_uuid *account,
                                  const struct rs_uuid *sync_id, bool sweep,
                                  const struct rs_outbox_plan *plan,
                                  struct rs_store_stats stats[RS_MODEL_COUNT], struct rs_errbuf *eb)
{
    char sync_text[RS_UUID_STR_LEN], account_text[RS_UUID_STR_LEN];
    size_t ignored[3];
    enum rs_err err;

    if (!rs_db_conn(db) || PQtransactionStatus(rs_db_conn(db)) != PQTRANS_INTRANS)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "rs_store_apply outside a transaction");
    rs_uuid_format(sync_id, sync_text);
    rs_uuid_format(account, account_text);
    /* the dedupe sort and the sweep's hash join of a large sync fit in memory instead of
       spilling to disk; SET LOCAL ends with the transaction */
    err = rs_db_command(db, "SET LOCAL work_mem = '256MB'");
    if (err == RS_OK)
        err = counts(db, SQL_SCOPE_EMPLOYMENTS, sync_text, NULL, ignored, eb);
    bool any = false;

    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++) {
        const struct rs_model *model = rs_model_get((enum rs_model_kind)k);
        struct rs_store_stats before = stats[k];
        bool had_rows = sweep;

        /* a model the account had no live row of (its first sync) has nothing to sweep: every
           row is about to come from this staging, so the sweep's anti-join would find none */
        if (sweep)
            err = has_live_rows(db, model, account_text, &had_rows, eb);
        if (err == RS_OK)
            err = upsert_model(db, model, plan, sync_text, account_text, &stats[k], eb);
        if (err == RS_OK && had_rows)
            err = sweep_model(db, model, plan, sync_text, account_text, &stats[k], eb);
        any = any || stats[k].inserted + stats[k].updated + stats[k].deleted >
                         before.inserted + before.updated + before.deleted;
    }
    if (err == RS_OK && any)
        err = bump_version(db, account_text, eb);
    return err == RS_OK ? rs_store_discard(db, sync_id, eb) : err;
}

enum rs_err rs_store_discard(struct rs_db *db, const struct rs_uuid *sync_id, struct rs_errbuf *eb)
{
    char sync_text[RS_UUID_STR_LEN], sql[256];
    size_t ignored[3];
    enum rs_err err = RS_OK;

    rs_uuid_format(sync_id, sync_text);
    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++) {
        snprintf(sql, sizeof(sql), "DELETE FROM sync_stage_%s WHERE sync_id = $1::uuid",
                 rs_model_get((enum rs_model_kind)k)->path);
        err = counts(db, sql, sync_text, NULL, ignored, eb);
    }
    return err;
}

enum rs_err rs_store_staged_count(struct rs_db *db, const struct rs_uuid *sync_id, size_t *out,
                                  struct rs_errbuf *eb)
{
    char sync_text[RS_UUID_STR_LEN], sql[256];
    size_t n[3];
    enum rs_err err = RS_OK;

    rs_uuid_format(sync_id, sync_text);
    *out = 0;
    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM sync_stage_%s WHERE sync_id = $1::uuid",
                 rs_model_get((enum rs_model_kind)k)->path);
        n[0] = 0;
        err = counts(db, sql, sync_text, NULL, n, eb);
        *out += n[0];
    }
    return err;
}

#define SQL_IMPACT                                                                                 \
    "SELECT (SELECT count(*) FROM employees WHERE linked_account_id = $2::uuid AND NOT "           \
    "remote_was_deleted AND employment_status = 'ACTIVE'), "                                       \
    "(SELECT count(*) FROM employees t JOIN (SELECT DISTINCT ON (id) id, employment_status "       \
    "FROM sync_stage_employees WHERE sync_id = $1::uuid AND in_scope ORDER BY id, rs_seq DESC) s " \
    "ON s.id = t.id WHERE t.linked_account_id = $2::uuid AND NOT t.remote_was_deleted AND "        \
    "t.employment_status = 'ACTIVE' AND s.employment_status IS DISTINCT FROM 'ACTIVE'), "          \
    "(SELECT count(*) FROM employees t WHERE $3::boolean AND t.linked_account_id = $2::uuid AND "  \
    "NOT t.remote_was_deleted AND t.employment_status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM "   \
    "sync_stage_employees s WHERE s.sync_id = $1::uuid AND s.id = t.id))"

enum rs_err rs_store_impact(struct rs_db *db, const struct rs_uuid *account,
                            const struct rs_uuid *sync_id, bool sweep, struct rs_store_impact *out,
                            struct rs_errbuf *eb)
{
    char sync_text[RS_UUID_STR_LEN], account_text[RS_UUID_STR_LEN];
    const char *params[3] = {rs_uuid_format(sync_id, sync_text),
                             rs_uuid_format(account, account_text), sweep ? "true" : "false"};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_IMPACT, 3, params, false, false, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "impact query failed");
    out->active = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    out->deactivated = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    out->deleted = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    return RS_OK;
}

enum rs_err rs_store_batch_flush(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    const struct rs_model *model = rs_store_batch_model(batch);
    const struct rs_uuid *sync_id = rs_store_batch_sync_id(batch);
    char sync_text[RS_UUID_STR_LEN], account_text[RS_UUID_STR_LEN];
    struct rs_store_stats before = *stats;
    enum rs_err err;

    if (!rs_db_conn(db) || PQtransactionStatus(rs_db_conn(db)) != PQTRANS_INTRANS)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "rs_store_batch_flush outside a transaction");
    rs_uuid_format(sync_id, sync_text);
    rs_uuid_format(rs_store_batch_account(batch), account_text);
    err = rs_store_batch_stage(batch, db, stats, eb);
    if (err == RS_OK)
        err = upsert_model(db, model, NULL, sync_text, account_text, stats, eb);
    if (err == RS_OK && stats->inserted + stats->updated > before.inserted + before.updated)
        err = bump_version(db, account_text, eb);
    if (err == RS_OK)
        err = rs_store_discard(db, sync_id, eb);
    return err;
}
