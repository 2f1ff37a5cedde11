/*
 * Normalized-model writer: render + hash each record, queue COPY rows, then upsert only what
 * changed. The sync engine and the demo seeder both write through here.
 */
#include "roster/rs_store.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_buf.h"
#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define BATCH_MAX_BYTES ((size_t)256 << 20)
#define ROW_MAX_BYTES   ((size_t)16 << 20)
#define HASH_LEN        32

struct rs_store_batch {
    struct rs_uuid account;
    char account_text[RS_UUID_STR_LEN];
    const struct rs_model *model;
    struct rs_buf copy;       /* COPY text rows */
    struct rs_buf normalized; /* scratch for one record */
    size_t rows;
    size_t invalid;
};

enum rs_err rs_store_batch_new(const struct rs_uuid *account, enum rs_model_kind kind,
                               struct rs_store_batch **out)
{
    struct rs_store_batch *batch = calloc(1, sizeof(*batch));

    if (!batch)
        return RS_ERR_NOMEM;
    batch->account = *account;
    rs_uuid_format(account, batch->account_text);
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

static enum rs_err copy_row(struct rs_store_batch *batch, const struct rs_record *record,
                            const struct rs_uuid *id_ptr, const char *remote_data,
                            size_t remote_data_len, const uint8_t hash[HASH_LEN])
{
    struct rs_buf *out = &batch->copy;
    struct rs_uuid id = *id_ptr;
    char id_text[RS_UUID_STR_LEN], hex[2 * HASH_LEN + 1];
    enum rs_err err;

    sodium_bin2hex(hex, sizeof(hex), hash, HASH_LEN);
    err = rs_buf_appendf(out, "%s\t%s\t", batch->account_text, rs_uuid_format(&id, id_text));
    if (err == RS_OK)
        err = copy_text(out, record->remote_id, strlen(record->remote_id));
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = copy_text(out, batch->normalized.data, batch->normalized.len);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = remote_data ? copy_text(out, remote_data, remote_data_len)
                          : rs_buf_append(out, "\\N", 2);
    if (err == RS_OK)
        err = rs_buf_appendf(out, "\t\\\\x%s", hex);
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

enum rs_err rs_store_batch_add(struct rs_store_batch *batch, const struct rs_record *record,
                               struct rs_errbuf *eb)
{
    enum rs_err err;
    char *remote_data = NULL;
    size_t remote_data_len = 0, mark = batch->copy.len;
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
    if (record->remote_data) {
        /* kept in the provider's key order ({path, data} as Merge serves it); part of the hash */
        remote_data = json_dumps(record->remote_data, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!remote_data) {
            err = RS_ERR_NOMEM;
            goto out;
        }
        remote_data_len = strlen(remote_data);
    }
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
    free(remote_data);
    return err;
}

/* "linked_account_id, id, remote_id, normalized, remote_data, content_hash, <filter columns>" */
static enum rs_err column_list(const struct rs_model *model, const char *prefix, struct rs_buf *out)
{
    static const char *const common[] = {"linked_account_id", "id",          "remote_id",
                                         "normalized",        "remote_data", "content_hash"};
    enum rs_err err = RS_OK;

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]) && err == RS_OK; i++)
        err = rs_buf_appendf(out, "%s%s%s", i ? ", " : "", prefix, common[i]);
    for (size_t i = 0; i < model->nfields && err == RS_OK; i++) {
        if (model->fields[i].column)
            err = rs_buf_appendf(out, ", %s%s", prefix, model->fields[i].column);
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

static enum rs_err copy_in(struct rs_store_batch *batch, struct rs_db *db, const char *columns,
                           struct rs_errbuf *eb)
{
    PGconn *conn = rs_db_conn(db);
    PGresult *res = NULL;
    char sql[1024];
    enum rs_err err = RS_ERR_DB;

    if (!conn)
        return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "database connection lost");
    snprintf(sql, sizeof(sql), "COPY rs_stage_%s (%s) FROM STDIN", batch->model->path, columns);
    res = PQexec(conn, sql);
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
    if (err != RS_OK)
        rs_errbuf_set(eb, err, "COPY into staging failed: %s", PQerrorMessage(conn));
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    return err;
}

static enum rs_err upsert(struct rs_store_batch *batch, struct rs_db *db, const char *columns,
                          struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    const char *table = batch->model->path;
    struct rs_buf sql, updates;
    PGresult *res = NULL;
    enum rs_err err;

    rs_buf_init(&sql, 64 * 1024);
    rs_buf_init(&updates, 16 * 1024);
    err = update_list(batch->model, &updates);
    if (err == RS_OK)
        err = rs_buf_appendf(&sql,
                             "WITH up AS (INSERT INTO %s (%s) SELECT DISTINCT ON (id) %s "
                             "FROM rs_stage_%s ORDER BY id, rs_seq DESC "
                             "ON CONFLICT (linked_account_id, id) DO UPDATE SET %s "
                             "WHERE %s.content_hash <> EXCLUDED.content_hash "
                             "OR %s.remote_was_deleted RETURNING (xmax = 0) AS inserted) "
                             "SELECT count(*) FILTER (WHERE inserted), "
                             "count(*) FILTER (WHERE NOT inserted) FROM up",
                             table, columns, columns, table, updates.data, table, table);
    if (err != RS_OK)
        goto out;
    res = rs_db_exec(db, sql.data, 0, NULL, false, false, &err);
    if (!res) {
        rs_errbuf_set(eb, err, "upsert into %s failed", table);
        goto out;
    }
    size_t inserted = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    size_t updated = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    stats->inserted += inserted;
    stats->updated += updated;
    stats->unchanged += batch->rows - inserted - updated;
out:
    PQclear(res);
    rs_buf_cleanup(&sql);
    rs_buf_cleanup(&updates);
    return err;
}

enum rs_err rs_store_batch_flush(struct rs_store_batch *batch, struct rs_db *db,
                                 struct rs_store_stats *stats, struct rs_errbuf *eb)
{
    const char *table = batch->model->path;
    struct rs_buf columns;
    PGresult *res = NULL;
    char sql[512];
    enum rs_err err;

    stats->invalid += batch->invalid;
    batch->invalid = 0;
    if (batch->rows == 0)
        return RS_OK;
    /* staged rows vanish at commit: outside a transaction they would vanish before the upsert */
    if (!rs_db_conn(db) || PQtransactionStatus(rs_db_conn(db)) != PQTRANS_INTRANS)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "rs_store_batch_flush outside a transaction");
    rs_buf_init(&columns, 4096);
    if ((err = column_list(batch->model, "", &columns)) != RS_OK)
        goto out;
    /*
     * The staging table lives as long as the session; rows vanish at commit. rs_seq keeps the
     * order rows were added in, so that when a remote id comes twice in one flush (a page
     * shifted under a paginated read) the last version wins instead of failing the upsert.
     */
    snprintf(sql, sizeof(sql),
             "CREATE TEMP TABLE IF NOT EXISTS rs_stage_%s (LIKE %s INCLUDING DEFAULTS, "
             "rs_seq bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DELETE ROWS",
             table, table);
    res = rs_db_exec(db, sql, 0, NULL, false, false, &err);
    if (!res)
        goto out;
    PQclear(res);
    res = NULL;
    if ((err = copy_in(batch, db, columns.data, eb)) != RS_OK)
        goto out;
    if ((err = upsert(batch, db, columns.data, stats, eb)) != RS_OK)
        goto out;
    snprintf(sql, sizeof(sql), "TRUNCATE rs_stage_%s", table);
    res = rs_db_exec(db, sql, 0, NULL, false, false, &err);
out:
    PQclear(res);
    rs_buf_cleanup(&columns);
    rs_buf_reset(&batch->copy);
    batch->rows = 0;
    return err;
}
