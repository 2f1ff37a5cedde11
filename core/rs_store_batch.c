/*
 * Staging rows of the normalized model: render + hash each record into COPY text, then COPY a
 * batch into its model's staging table (a row rs_stage found already stored goes as a marker,
 * without its JSON; docs/design/store.md). The apply side is rs_store.c.
 */
#include "roster/rs_store.h"

#include <stdio.h>
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

/*
 * A COPY row starts "<sync id>\t<in_scope>\t<unchanged>\t<account id>\t<id>\t<remote id>\t
 * <normalized>\t<remote_data>\t\\\\x<hash hex>\t<filter columns>\n": the unchanged flag and the
 * id sit at fixed offsets, the hash right after remote_data.
 */
#define UUID_TEXT_LEN    (RS_UUID_STR_LEN - 1)
#define ROW_UNCHANGED_AT (UUID_TEXT_LEN + 3)
#define ROW_ID_AT        (2 * UUID_TEXT_LEN + 6)
#define ROW_HASH_AFTER   4       /* "\t\\\\x" between remote_data and the hash */
#define MARKER_JSON      "\t\\N" /* an empty normalized, a NULL remote_data */

/* Where one row's parts are in the batch's COPY text, to send it as a marker instead. */
struct row_span {
    struct rs_store_row_key key;
    size_t start;    /* the row's first byte */
    size_t json;     /* normalized's first byte */
    size_t json_end; /* the tab after remote_data */
};

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
    struct row_span *spans; /* one per row */
    size_t spans_cap;
    bool *unchanged; /* per row once rs_store_batch_mark_unchanged marked one, else NULL */
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
    free(batch->spans);
    free(batch->unchanged);
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

const struct rs_store_row_key *rs_store_batch_key(const struct rs_store_batch *batch, size_t i)
{
    return &batch->spans[i].key;
}

enum rs_err rs_store_batch_mark_unchanged(struct rs_store_batch *batch, size_t i)
{
    if (!batch->unchanged && !(batch->unchanged = calloc(batch->rows, sizeof(bool))))
        return RS_ERR_NOMEM;
    batch->unchanged[i] = true;
    return RS_OK;
}

const struct rs_model *rs_store_batch_model(const struct rs_store_batch *batch)
{
    return batch->model;
}

const struct rs_uuid *rs_store_batch_account(const struct rs_store_batch *batch)
{
    return &batch->account;
}

const struct rs_uuid *rs_store_batch_sync_id(const struct rs_store_batch *batch)
{
    return &batch->sync_id;
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
    struct row_span span = {.start = out->len};

    memcpy(span.key.id, id->b, sizeof(span.key.id));
    memcpy(span.key.hash, hash, sizeof(span.key.hash));

    err = rs_buf_append(out, batch->sync_text, RS_UUID_STR_LEN - 1);
    if (err == RS_OK)
        err = rs_buf_append(out, record->out_of_scope ? "\tf\tf\t" : "\tt\tf\t", 5);
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
    span.json = out->len;
    if (err == RS_OK)
        err = copy_json(out, batch->normalized.data, batch->normalized.len);
    if (err == RS_OK)
        err = rs_buf_append(out, "\t", 1);
    if (err == RS_OK)
        err = remote_data ? copy_json(out, remote_data, remote_data_len)
                          : rs_buf_append(out, "\\N", 2);
    span.json_end = out->len;
    if (err == RS_OK)
        err = rs_buf_append(out, "\t\\\\x", ROW_HASH_AFTER);
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
    if (err == RS_OK)
        err = rs_buf_append(out, "\n", 1);
    if (err == RS_OK && batch->rows == batch->spans_cap) {
        size_t cap = batch->spans_cap ? 2 * batch->spans_cap : 256;
        struct row_span *spans = realloc(batch->spans, cap * sizeof(*spans));

        if (!spans)
            return RS_ERR_NOMEM;
        batch->spans = spans;
        batch->spans_cap = cap;
    }
    if (err == RS_OK)
        batch->spans[batch->rows] = span;
    return err;
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

/* Appends a value the way jansson itself serializes it. */
static enum rs_err dump_by_jansson(const json_t *value, struct rs_buf *out)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    enum rs_err err = text ? rs_buf_append_str(out, text) : RS_ERR_NOMEM;

    free(text);
    return err;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20)
            return true;
    }
    return false;
}

/* A string without control characters as json_dumps writes it: '"' and '\\' escaped. */
static enum rs_err dump_plain_string(const char *s, size_t n, struct rs_buf *out)
{
    size_t run = 0;
    enum rs_err err = rs_buf_append(out, "\"", 1);

    for (size_t i = 0; i < n && err == RS_OK; i++) {
        if (s[i] != '"' && s[i] != '\\')
            continue;
        err = rs_buf_append(out, s + run, i - run);
        if (err == RS_OK)
            err = rs_buf_append(out, s[i] == '"' ? "\\\"" : "\\\\", 2);
        run = i + 1;
    }
    if (err == RS_OK)
        err = rs_buf_append(out, s + run, n - run);
    return err == RS_OK ? rs_buf_append(out, "\"", 1) : err;
}

/*
 * value serialized byte for byte as json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) does (object
 * keys in insertion order), but straight into a buffer: jansson's dump goes through a callback
 * per token, which made it a quarter of a sync's CPU. What is rare in provider records — reals,
 * strings or keys with control characters — is left to jansson, so the bytes, and so the
 * content hashes of stored rows, stay the same (tests/unit/core/test_rs_store_dump.c).
 */
static enum rs_err dump_json(const json_t *value, struct rs_buf *out)
{
    enum rs_err err = RS_OK;
    char number[32];
    const char *key;
    json_t *item;
    size_t i = 0;

    switch (json_typeof(value)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)value, key, item)
        {
            if (has_control(key, strlen(key)))
                return dump_by_jansson(value, out);
        }
        err = rs_buf_append(out, "{", 1);
        json_object_foreach((json_t *)value, key, item)
        {
            if (err == RS_OK && i++ > 0)
                err = rs_buf_append(out, ",", 1);
            if (err == RS_OK)
                err = dump_plain_string(key, strlen(key), out);
            if (err == RS_OK)
                err = rs_buf_append(out, ":", 1);
            if (err == RS_OK)
                err = dump_json(item, out);
        }
        return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
    case JSON_ARRAY:
        err = rs_buf_append(out, "[", 1);
        json_array_foreach(value, i, item)
        {
            if (err == RS_OK && i > 0)
                err = rs_buf_append(out, ",", 1);
            if (err == RS_OK)
                err = dump_json(item, out);
        }
        return err == RS_OK ? rs_buf_append(out, "]", 1) : err;
    case JSON_STRING:
        if (has_control(json_string_value(value), json_string_length(value)))
            return dump_by_jansson(value, out);
        return dump_plain_string(json_string_value(value), json_string_length(value), out);
    case JSON_INTEGER:
        snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return rs_buf_append_str(out, number);
    case JSON_TRUE:
        return rs_buf_append(out, "true", 4);
    case JSON_FALSE:
        return rs_buf_append(out, "false", 5);
    case JSON_NULL:
        return rs_buf_append(out, "null", 4);
    default:
        return dump_by_jansson(value, out);
    }
}

char *rs_store_remote_data_dump(const json_t *remote_data, size_t *len)
{
    /* kept in the provider's key order ({path, data} as Merge serves it); part of the hash */
    struct rs_buf out;

    rs_buf_init(&out, BATCH_MAX_BYTES);
    if (dump_json(remote_data, &out) != RS_OK || !out.data) {
        rs_buf_cleanup(&out);
        *len = 0;
        return NULL;
    }
    *len = out.len;
    return rs_buf_steal(&out);
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

enum rs_err rs_store_column_list(const struct rs_model *model, struct rs_buf *out)
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

/* Bytes [from, to) of the batch's COPY text to the server. */
static bool put(const struct rs_store_batch *batch, PGconn *conn, size_t from, size_t to)
{
    return to == from || PQputCopyData(conn, batch->copy.data + from, (int)(to - from)) == 1;
}

/* The COPY data: every row as it is, or as a marker when its content is already stored. */
static enum rs_err send_rows(const struct rs_store_batch *batch, PGconn *conn)
{
    size_t from = 0; /* first byte not sent yet */

    for (size_t i = 0; batch->unchanged && i < batch->rows; i++) {
        const struct row_span *span = &batch->spans[i];

        if (!batch->unchanged[i])
            continue;
        /* the rows before, then this one with unchanged = t and without its JSON */
        if (!put(batch, conn, from, span->start + ROW_UNCHANGED_AT) ||
            PQputCopyData(conn, "t", 1) != 1 ||
            !put(batch, conn, span->start + ROW_UNCHANGED_AT + 1, span->json) ||
            PQputCopyData(conn, MARKER_JSON, sizeof(MARKER_JSON) - 1) != 1)
            return RS_ERR_DB;
        from = span->json_end;
    }
    return put(batch, conn, from, batch->copy.len) ? RS_OK : RS_ERR_DB;
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
    err = rs_buf_appendf(&sql, "COPY sync_stage_%s (sync_id, in_scope, unchanged, ",
                         batch->model->path);
    if (err == RS_OK)
        err = rs_store_column_list(batch->model, &sql);
    if (err == RS_OK)
        err = rs_buf_append_str(&sql, ") FROM STDIN");
    if (err != RS_OK)
        goto out;
    err = RS_ERR_DB;
    res = PQexec(conn, sql.data);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        goto out;
    if (send_rows(batch, conn) != RS_OK || PQputCopyEnd(conn, NULL) != 1)
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
    free(batch->unchanged);
    batch->unchanged = NULL;
    return err;
}
