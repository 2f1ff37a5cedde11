/*
 * Normalized-model writer: render + hash each record, queue COPY rows, stage them per sync,
 * then apply: upsert only what changed, sweep what vanished. The sync engine and the example
 * seeder both write through here (docs/design/store.md).
 */
#include "roster/rs_store.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_buf.h"
#include "roster/rs_log.h"
#include "roster/rs_time.h"

#include "rs_int.h"

#define BATCH_MAX_BYTES ((size_t)256 << 20)
#define ROW_MAX_BYTES   ((size_t)16 << 20)
#define HASH_LEN        32

struct rs_store_batch {
    struct rs_uuid account;
    char account_text[RS_UUID_STR_LEN];
    struct rs_uuid sync_id;
    char sync_text[RS_UUID_STR_LEN];
    const struct rs_model *model;
    struct rs_buf copy;       /* COPY text rows */
    struct rs_buf normalized; /* scratch for one record */
    size_t rows;
    size_t invalid;
};

enum rs_err rs_store_batch_new(const struct rs_uuid *account, enum rs_model_kind kind,
                               const struct rs_uuid *sync_id, struct rs_store_batch **out)
{
    struct rs_store_batch *batch = calloc(1, sizeof(*batch));

    if (!batch)
        return RS_ERR_NOMEM;
    batch->account = *account;
    rs_uuid_format(account, batch->account_text);
    if (sync_id)
        batch->sync_id = *sync_id;
    else
        rs_uuid_v4(&batch->sync_id);
    rs_uuid_format(&batch->sync_id, batch->sync_text);
    batch->model = rs_model_get(kind);
    rs_buf_init(&batch->copy, BATCH_MAX_BYTES);
    rs_buf_init(&batch->normalized, ROW_MAX_BYTES);
    *out = batch;
    return RS_OK;
}

void rs_store_batch_free(struct rs_store_batch *batch)
{
    if (!batch)
        return;
    rs_buf_cleanup(&batch->copy);
    rs_buf_cleanup(&batch->normalized);
    free(batch);
}

size_t rs_store_batch_count(const struct rs_store_batch *batch)
{
    return batch->rows;
}

size_t rs_store_batch_bytes(const struct rs_store_batch *batch)
{
    return batch->copy.len;
}

size_t rs_store_batch_invalid(const struct rs_store_batch *batch)
{
    return batch->invalid;
}

/* Appends bytes escaped for COPY's text format (backslash, tab, newline, CR). */
static enum rs_err copy_text(struct rs_buf *out, const char *text, size_t n)
{
    enum rs_err err = RS_OK;
    size_t start = 0;

    for (size_t i = 0; i < n && err == RS_OK; i++) {
        const char *esc = NULL;

        switch (text[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\0':
            esc = "";
            break; /* PostgreSQL text cannot hold NUL; drop it */
        default:
            continue;
        }
        err = rs_buf_append(out, text + start, i - start);
        if (err == RS_OK)
            err = rs_buf_append_str(out, esc);
        start = i + 1;
    }
    if (err == RS_OK)
        err = rs_buf_append(out, text + start, n - start);
    return err;
}

static enum rs_err copy_uuid_array(struct rs_buf *out, const json_t *value)
{
    enum rs_err err = rs_buf_append(out, "{", 1);
    size_t i;
    json_t *item;

    json_array_foreach(value, i, item)
    {
        if (err == RS_OK && i > 0)
            err = rs_buf_append(out, ",", 1);
        if (err == RS_OK)
            err = rs_buf_append_str(out, json_string_value(item));
    }
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

/* One filter column's COPY value, from a record already validated by rs_model_render. */
static enum rs_err copy_column(struct rs_buf *out, const struct rs_field *field,
                               const json_t *value)
{
    int64_t us;
    char text[RS_TIME_ISO_LEN];

    /* An array column is NOT NULL: a record without the relation has an empty list. */
    if ((!value || json_is_null(value)) && field->type == RS_FT_REFS)
        return rs_buf_append(out, "{}", 2);
    if (!value || json_is_null(value))
        return rs_buf_append(out, "\\N", 2);
    switch (field->type) {
    case RS_FT_DATETIME:
        if (rs_time_parse(json_string_value(value), &us) != RS_OK)
            return RS_ERR_INVALID;
        return rs_buf_append_str(out, rs_time_format(us, text));
    case RS_FT_BOOL:
        return rs_buf_append(out, json_is_true(value) ? "t" : "f", 1);
    case RS_FT_REFS:
        return copy_uuid_array(out, value);
    case RS_FT_UUID:
    case RS_FT_REF:
        /* the renderer accepted it as a UUID; lower-case is not required by PostgreSQL */
    case RS_FT_STRING:
        return copy_text(out, json_string_value(value), json_string_length(value));
    default:
        return RS_ERR_INTERNAL;
    }
}

/*
 * Appends JSON text escaped for COPY. Our JSON (rendered fields, json_dumps) never holds a raw
 * tab, newline, CR or NUL (JSON escapes them), so only backslashes need doubling: a memchr
 * scan instead of copy_text's byte-by-byte one, on the bulk of every row.
 */
static enum rs_err copy_json(struct rs_buf *out, const char *json, size_t n)
{
    const char *end = json + n;
    enum rs_err err = RS_OK;

    while (err == RS_OK && json < end) {
        const char *slash = memchr(json, '\\', (size_t)(end - json));
        size_t run = slash ? (size_t)(slash - json) + 1 : (size_t)(end - json);

        err = rs_buf_append(out, json, run);
        if (err == RS_OK && slash)
            err = rs_buf_append(out, "\\", 1);
        json += run;
    }
    return err;
}

static enum rs_err copy_row(struct rs_store_batch *batch, const struct rs_record *record,
                            const struct rs_uuid *id, const char *remote_data,
                            size_t remote_data_len, const uint8_t hash[HASH_LEN])
{
    struct rs_buf *out = &batch->copy;
    char id_text[RS_UUID_STR_LEN], hex[2 * HASH_LEN + 1];
    enum rs_err err;

    sodium_bin2hex(hex, sizeof(hex), hash, HASH_LEN);
    rs_uuid_format(id, id_text);
    /* sync_id, in_scope, linked_account_id, id, remote_id, normalized, remote_data, hash */
    err = rs_buf_append(out, batch->sync_text, RS_UUID_STR_LEN - 1);
    if (err == RS_OK)
        err = rs_buf_append(out, record->out_of_scope ? "\tf\t" : "\tt\t", 3);
    if (err == RS_OK)
        err = rs_buf_append(out, batch->account_text, RS_UUID_STR_LEN - 1);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = rs_buf_append(out, id_text, RS_UUID_STR_LEN - 1);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = copy_text(out, record->remote_id, strlen(record->remote_id));
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = copy_json(out, batch->normalized.data, batch->normalized.len);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = remote_data ? copy_json(out, remote_data, remote_data_len)
                          : rs_buf_append(out, "\\N", 2);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t\\\\x", 4);
    if (err == RS_OK)
        err = rs_buf_append(out, hex, 2 * HASH_LEN);
    for (size_t i = 0; i < batch->model->nfields && err == RS_OK; i++) {
        const struct rs_field *field = &batch->model->fields[i];

        if (!field->column)
            continue;
        err = rs_buf_append(out, "\t", 1);
        if (err == RS_OK)
            err = copy_column(out, field, json_object_get(record->fields, field->name));
    }
    return err == RS_OK ? rs_buf_append(out, "\n", 1) : err;
}

enum rs_err rs_store_batch_add_dumped(struct rs_store_batch *batch, const struct rs_record *record,
                                      const char *remote_data, size_t remote_data_len,
                                      struct rs_errbuf *eb)
{
    enum rs_err err;
    size_t mark = batch->copy.len;
    uint8_t hash[HASH_LEN];
    crypto_generichash_state state;
    struct rs_uuid id;

    rs_buf_reset(&batch->normalized);
    if (!record->remote_id ||
        rs_model_id(&batch->account, batch->model->kind, record->remote_id, &id) != RS_OK) {
        err = rs_errbuf_param(eb, RS_ERR_INVALID, "remote_id",
                              "%s record without a remote id, or one over %d bytes",
                              batch->model->name, RS_MODEL_REMOTE_ID_MAX);
        goto out;
    }
    if ((err = rs_model_render(batch->model, record->fields, &batch->normalized, eb)) != RS_OK)
        goto out;
    crypto_generichash_init(&state, NULL, 0, HASH_LEN);
    crypto_generichash_update(&state, (const uint8_t *)batch->normalized.data,
                              batch->normalized.len);
    crypto_generichash_update(&state, (const uint8_t *)"\0", 1);
    if (remote_data)
        crypto_generichash_update(&state, (const uint8_t *)remote_data, remote_data_len);
    crypto_generichash_final(&state, hash, HASH_LEN);
    err = copy_row(batch, record, &id, remote_data, remote_data_len, hash);
    if (err == RS_OK)
        batch->rows++;
out:
    if (err != RS_OK) {
        batch->copy.len = mark; /* drop a half-written row */
        if (batch->copy.data)
            batch->copy.data[mark] = '\0';
        if (err == RS_ERR_INVALID || err == RS_ERR_TOOBIG)
            batch->invalid++;
    }
    return err;
}

char *rs_store_remote_data_dump(const json_t *remote_data, size_t *len)
{
    /* kept in the provider's key order ({path, data} as Merge serves it); part of the hash */
    char *text = json_dumps(remote_data, JSON_COMPACT | JSON_ENCODE_ANY);

    *len = text ? strlen(text) : 0;
    return text;
}

enum rs_err rs_store_batch_add(struct rs_store_batch *batch, const struct rs_record *record,
                               struct rs_errbuf *eb)
{
    enum rs_err err;
    char *remote_data = NULL;
    size_t remote_data_len = 0;

    if (record->remote_data &&
        !(remote_data = rs_store_remote_data_dump(record->remote_data, &remote_data_len)))
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory serializing remote_data");
    err = rs_store_batch_add_dumped(batch, record, remote_data, remote_data_len, eb);
    free(remote_data);
    return err;
}

/* "linked_account_id, id, remote_id, normalized, remote_data, content_hash, <filter columns>" */
static enum rs_err column_list(const struct rs_model *model, struct rs_buf *out)
{
    static const char *const common[] = {"linked_account_id", "id",          "remote_id",
                                         "normalized",        "remote_data", "content_hash"};
    enum rs_err err = RS_OK;

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]) && err == RS_OK; i++)
        err = rs_buf_appendf(out, "%s%s", i ? ", " : "", common[i]);
    for (size_t i = 0; i < model->nfields && err == RS_OK; i++) {
        if (model->fields[i].column)
            err = rs_buf_appendf(out, ", %s", model->fields[i].column);
    }
    return err;
}

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

static enum rs_err copy_in(struct rs_store_batch *batch, struct rs_db *db, struct rs_errbuf *eb)
{
    PGconn *conn = rs_db_conn(db);
    PGresult *res = NULL;
    struct rs_buf sql;
    enum rs_err err;

    if (!conn || rs_db_ensure(db) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "database connection lost");
    conn = rs_db_conn(db);
    rs_buf_init(&sql, 8192);
    err = rs_buf_appendf(&sql, "COPY sync_stage_%s (sync_id, in_scope, ", batch->model->path);
    if (err == RS_OK)
        err = column_list(batch->model, &sql);
    if (err == RS_OK)
        err = rs_buf_append_str(&sql, ") FROM STDIN");
    if (err != RS_OK)
        goto out;
    err = RS_ERR_DB;
    res = PQexec(conn, sql.data);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        goto out;
    if (PQputCopyData(conn, batch->copy.data ? batch->copy.data : "", (int)batch->copy.len) != 1 ||
        PQputCopyEnd(conn, NULL) != 1)
        goto out;
    PQclear(res);
    res = PQgetResult(conn);
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        err = RS_OK;
out:
    if (err == RS_ERR_DB)
        rs_errbuf_set(eb, err, "COPY into staging failed: %s", PQerrorMessage(conn));
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    rs_buf_cleanup(&sql);
    return err;
}

enum rs_err rs_store_batch_stage(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;

    stats->invalid += batch->invalid;
    batch->invalid = 0;
    if (batch->rows > 0)
        err = copy_in(batch, db, eb);
    rs_buf_reset(&batch->copy);
    batch->rows = 0;
    return err;
}

/* Runs sql (with $1 = sync id, $2 = account) and reads up to three counts from row 0. */
static enum rs_err counts(struct rs_db *db, const char *sql, const char *sync_text,
                          const char *account_text, size_t out[3], struct rs_errbuf *eb)
{
    const char *params[2] = {sync_text, account_text};
    enum rs_err err;
    /* not prepared: each runs once per sync, and a plan for the actual values (with the
       staging tables' fresh statistics) matters far more than planning time */
    PGresult *res = rs_db_exec(db, sql, account_text ? 2 : 1, params, false, false, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "staging statement failed");
    for (int i = 0; i < PQnfields(res) && i < 3; i++)
        out[i] = PQntuples(res) ? strtoull(PQgetvalue(res, 0, i), NULL, 10) : 0;
    PQclear(res);
    return RS_OK;
}

static enum rs_err upsert_model(struct rs_db *db, const struct rs_model *model,
                                const char *sync_text, const char *account_text,
                                struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    const char *table = model->path;
    struct rs_buf sql, updates, columns;
    size_t n[3] = {0, 0, 0};
    enum rs_err err;

    rs_buf_init(&sql, 64 * 1024);
    rs_buf_init(&updates, 16 * 1024);
    rs_buf_init(&columns, 8 * 1024);
    err = update_list(model, &updates);
    if (err == RS_OK)
        err = column_list(model, &columns);
    if (err == RS_OK)
        err = rs_buf_appendf(
            &sql,
            "WITH up AS (INSERT INTO %s (%s) SELECT DISTINCT ON (id) %s FROM sync_stage_%s "
            "WHERE sync_id = $1::uuid AND linked_account_id = $2::uuid AND in_scope "
            "ORDER BY id, rs_seq DESC ON CONFLICT (linked_account_id, id) DO UPDATE SET %s "
            "WHERE %s.content_hash <> EXCLUDED.content_hash OR %s.remote_was_deleted "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), "
            "(SELECT count(DISTINCT id) FROM sync_stage_%s WHERE sync_id = $1::uuid AND in_scope) "
            "FROM up",
            table, columns.data, columns.data, table, updates.data, table, table, table);
    if (err == RS_OK)
        err = counts(db, sql.data, sync_text, account_text, n, eb);
    if (err == RS_OK) {
        stats->inserted += n[0];
        stats->updated += n[1];
        stats->unchanged += n[2] - n[0] - n[1];
    }
    rs_buf_cleanup(&sql);
    rs_buf_cleanup(&updates);
    rs_buf_cleanup(&columns);
    return err;
}

/* Marks the account's rows of model that this full sync did not see as deleted. */
static enum rs_err sweep_model(struct rs_db *db, const struct rs_model *model,
                               const char *sync_text, const char *account_text,
                               struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    char sql[1024];
    size_t n[3] = {0, 0, 0};
    enum rs_err err;

    snprintf(sql, sizeof(sql),
             "WITH gone AS (UPDATE %s t SET remote_was_deleted = true, modified_at = now() "
             "WHERE t.linked_account_id = $2::uuid AND NOT t.remote_was_deleted AND NOT EXISTS "
             "(SELECT 1 FROM sync_stage_%s s WHERE s.sync_id = $1::uuid AND s.id = t.id) "
             "RETURNING 1) SELECT count(*) FROM gone",
             model->path, model->path);
    err = counts(db, sql, sync_text, account_text, n, eb);
    stats->deleted += n[0];
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

        err = upsert_model(db, model, sync_text, account_text, &stats[k], eb);
        if (err == RS_OK && sweep)
            err = sweep_model(db, model, sync_text, account_text, &stats[k], eb);
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
    const struct rs_model *model = batch->model;
    enum rs_err err;

    if (!rs_db_conn(db) || PQtransactionStatus(rs_db_conn(db)) != PQTRANS_INTRANS)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "rs_store_batch_flush outside a transaction");
    struct rs_store_stats before = *stats;

    err = rs_store_batch_stage(batch, db, stats, eb);
    if (err == RS_OK)
        err = upsert_model(db, model, batch->sync_text, batch->account_text, stats, eb);
    if (err == RS_OK && stats->inserted + stats->updated > before.inserted + before.updated)
        err = bump_version(db, batch->account_text, eb);
    if (err == RS_OK)
        err = rs_store_discard(db, &batch->sync_id, eb);
    return err;
}
