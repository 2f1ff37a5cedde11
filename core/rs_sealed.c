/*
 * The table of sealed columns and the helpers around it: AAD per row, sealing into and opening
 * from bytea hex text with errors that name the row, and the key rotation of `rosterd
 * rotate-key` (docs/design/vault.md).
 */
#include "roster/rs_sealed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "roster/rs_log.h"

/* How long one rotation batch waits for a row another transaction holds (a token refresh
   holds its account's row for the length of one provider call, retries included). */
#define ROTATE_LOCK_TIMEOUT "SET LOCAL lock_timeout = '300s'"
#define NIL_UUID            "00000000-0000-0000-0000-000000000000"
#define SQL_MAX             1024

static const struct rs_sealed_column columns[RS_SEALED_COUNT] = {
    {RS_SEALED_CREDENTIALS, "linked_accounts", "credentials", "id", NULL, "", "", "linked account ",
     NULL, "credentials"},
    {RS_SEALED_ACCESS_TOKEN, "linked_accounts", "access_token", "id", NULL, "", "/token",
     "linked account ", NULL, "provider token"},
    {RS_SEALED_OAUTH_CLIENT_SECRET, "oauth_clients", "client_secret", "organization_id",
     "integration", "/oauth/", "", "organization ", ", OAuth client ", "client secret"},
    {RS_SEALED_LINK_OAUTH_STATE, "link_oauth_states", "secrets", "id", NULL, "", "/oauth-state",
     "OAuth authorization ", NULL, "PKCE verifier"},
    {RS_SEALED_WEBHOOK_SECRET, "webhook_endpoints", "secret", "id", NULL, "", "/webhook",
     "webhook endpoint ", NULL, "signing secret"},
    {RS_SEALED_WEBHOOK_PREVIOUS, "webhook_endpoints", "previous_secret", "id", NULL, "", "/webhook",
     "webhook endpoint ", NULL, "previous signing secret"},
};

const struct rs_sealed_column *rs_sealed_columns(size_t *n)
{
    *n = RS_SEALED_COUNT;
    return columns;
}

enum rs_err rs_sealed_aad(enum rs_sealed_kind kind, const char *key1, const char *key2,
                          char out[RS_SEALED_AAD_MAX])
{
    const struct rs_sealed_column *col = &columns[kind];
    int n;

    if (!key1 || !key1[0] || (col->key2 && (!key2 || !key2[0])))
        return RS_ERR_INVALID;
    n = snprintf(out, RS_SEALED_AAD_MAX, "%s%s%s%s", key1, col->aad_sep, col->key2 ? key2 : "",
                 col->aad_suffix);
    return n < 0 || n >= RS_SEALED_AAD_MAX ? RS_ERR_INVALID : RS_OK;
}

/* "linked account <id>" / "organization <id>, OAuth client <slug>", for messages. */
static const char *owner_text(const struct rs_sealed_column *col, const char *key1,
                              const char *key2, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%.64s%s%.64s", col->owner1, key1 ? key1 : "?",
             col->key2 ? col->owner2 : "", col->key2 && key2 ? key2 : "");
    return out;
}

enum rs_err rs_sealed_seal(const struct rs_vault *vault, enum rs_sealed_kind kind, const char *key1,
                           const char *key2, const void *plain, size_t n, char **hex_out)
{
    char aad[RS_SEALED_AAD_MAX];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    enum rs_err err;

    if ((err = rs_sealed_aad(kind, key1, key2, aad)) != RS_OK)
        return err;
    if ((err = rs_vault_seal(vault, aad, plain, n, &sealed, &sealed_len)) != RS_OK)
        return err;
    *hex_out = malloc(2 * sealed_len + 3);
    if (*hex_out) {
        memcpy(*hex_out, "\\x", 2);
        sodium_bin2hex(*hex_out + 2, 2 * sealed_len + 1, sealed, sealed_len);
    }
    free(sealed);
    return *hex_out ? RS_OK : RS_ERR_NOMEM;
}

enum rs_err rs_sealed_seal_json(const struct rs_vault *vault, enum rs_sealed_kind kind,
                                const char *key1, const char *key2, const json_t *value,
                                char **hex_out)
{
    char *plain = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
    enum rs_err err;

    if (!plain)
        return RS_ERR_NOMEM;
    err = rs_sealed_seal(vault, kind, key1, key2, plain, strlen(plain), hex_out);
    sodium_memzero(plain, strlen(plain));
    free(plain);
    return err;
}

/* Why sealed (n bytes) did not open for its row, as a sentence in eb. */
static enum rs_err explain(const struct rs_vault *vault, const struct rs_sealed_column *col,
                           const char *owner, const uint8_t *sealed, size_t n, struct rs_errbuf *eb)
{
    char key_id[17];

    switch (rs_vault_key_of(vault, sealed, n, key_id)) {
    case RS_VAULT_NOT_SEALED:
        return rs_errbuf_set(eb, RS_ERR_CRYPTO, "%s of %s: the stored value is not sealed",
                             col->what, owner);
    case RS_VAULT_KEY_UNKNOWN:
        return rs_errbuf_set(eb, RS_ERR_CRYPTO,
                             "%s of %s: sealed under key id %s, which is neither "
                             "ROSTER_MASTER_KEY nor in ROSTER_MASTER_KEYS_RETIRED",
                             col->what, owner, key_id);
    case RS_VAULT_KEY_CURRENT:
    case RS_VAULT_KEY_RETIRED:
        break;
    }
    return rs_errbuf_set(eb, RS_ERR_CRYPTO,
                         "%s of %s: does not authenticate under key id %s (the value was "
                         "changed, or belongs to another row)",
                         col->what, owner, key_id);
}

enum rs_err rs_sealed_open(const struct rs_vault *vault, enum rs_sealed_kind kind, const char *key1,
                           const char *key2, const char *hex, uint8_t **plain, size_t *len,
                           struct rs_errbuf *eb)
{
    const struct rs_sealed_column *col = &columns[kind];
    char aad[RS_SEALED_AAD_MAX], owner[160];
    unsigned char *bytes = NULL;
    size_t n = 0;
    enum rs_err err;

    owner_text(col, key1, key2, owner, sizeof(owner));
    if (!hex || !hex[0])
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "%s of %s: none stored", col->what, owner);
    if (rs_sealed_aad(kind, key1, key2, aad) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s of %s: bad row key", col->what, owner);
    bytes = PQunescapeBytea((const unsigned char *)hex, &n);
    if (!bytes)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory");
    err = rs_vault_open(vault, aad, bytes, n, plain, len);
    if (err == RS_ERR_CRYPTO)
        explain(vault, col, owner, bytes, n, eb);
    else if (err != RS_OK)
        rs_errbuf_set(eb, err, "out of memory opening %s", col->what);
    PQfreemem(bytes);
    return err;
}

enum rs_err rs_sealed_open_json(const struct rs_vault *vault, enum rs_sealed_kind kind,
                                const char *key1, const char *key2, const char *hex, json_t **out,
                                struct rs_errbuf *eb)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    char owner[160];
    enum rs_err err = rs_sealed_open(vault, kind, key1, key2, hex, &plain, &len, eb);

    if (err != RS_OK)
        return err;
    *out = json_loadb((const char *)plain, len, 0, NULL);
    rs_vault_free_plain(plain);
    if (!*out)
        return rs_errbuf_set(eb, RS_ERR_CRYPTO, "%s of %s: opened, but not JSON",
                             columns[kind].what,
                             owner_text(&columns[kind], key1, key2, owner, sizeof(owner)));
    return RS_OK;
}

/* ---- rotation ---- */

struct rotation {
    struct rs_db *db;
    const struct rs_vault *vault;
    int batch;
    char key_hex[2 + 2 * RS_VAULT_KEY_ID_LEN + 1]; /* the current key id as bytea hex text */
    struct rs_sealed_rotation *out;
    rs_sealed_failure_fn on_failure;
    void *arg;
    struct rs_errbuf *eb;
};

/* Runs sql; NULL with *err and eb set on failure. */
static PGresult *run(struct rotation *rot, const char *sql, int n, const char *const *params,
                     enum rs_err *err)
{
    PGresult *res = rs_db_exec(rot->db, sql, n, params, false, false, err);

    if (!res)
        rs_errbuf_set(rot->eb, *err, "rotate-key: a statement on the database failed");
    return res;
}

static enum rs_err table_exists(struct rotation *rot, const struct rs_sealed_column *col,
                                bool *exists)
{
    const char *params[1] = {col->table};
    enum rs_err err;
    PGresult *res = run(rot, "SELECT to_regclass($1) IS NOT NULL", 1, params, &err);

    if (!res)
        return err;
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return RS_OK;
}

/*
 * The next batch of values not under the current key after (last1, last2), locked. $1 key id,
 * $2 start (no lower bound), $3 last key1, $4 last key2 (two-key columns only).
 */
static void select_sql(const struct rotation *rot, const struct rs_sealed_column *col, char *out)
{
    const char *c = col->column;

    if (col->key2)
        snprintf(out, SQL_MAX,
                 "SELECT %s::text, %s, %s FROM %s WHERE %s IS NOT NULL AND substring(%s FROM %d "
                 "FOR %d) IS DISTINCT FROM $1::bytea AND ($2::boolean OR (%s, %s) > ($3::uuid, "
                 "$4)) ORDER BY %s, %s LIMIT %d FOR UPDATE",
                 col->key1, col->key2, c, col->table, c, c, RS_VAULT_KEY_ID_OFFSET + 1,
                 RS_VAULT_KEY_ID_LEN, col->key1, col->key2, col->key1, col->key2, rot->batch);
    else
        snprintf(out, SQL_MAX,
                 "SELECT %s::text, NULL, %s FROM %s WHERE %s IS NOT NULL AND substring(%s FROM %d "
                 "FOR %d) IS DISTINCT FROM $1::bytea AND ($2::boolean OR %s > $3::uuid) "
                 "ORDER BY %s LIMIT %d FOR UPDATE",
                 col->key1, c, col->table, c, c, RS_VAULT_KEY_ID_OFFSET + 1, RS_VAULT_KEY_ID_LEN,
                 col->key1, col->key1, rot->batch);
}

/* $1 new value, $2 key1, $3 the value read (the row is written only if it still holds it), $4 key2.
 */
static void update_sql(const struct rs_sealed_column *col, char *out)
{
    snprintf(out, SQL_MAX,
             "UPDATE %s SET %s = $1::bytea WHERE %s = $2::uuid AND %s = $3::bytea%s%s%s",
             col->table, col->column, col->key1, col->column, col->key2 ? " AND " : "",
             col->key2 ? col->key2 : "", col->key2 ? " = $4" : "");
}

/* Opens one value with whichever key it names and writes it back sealed under the current key. */
static enum rs_err reseal(struct rotation *rot, const struct rs_sealed_column *col,
                          const char *update, const char *key1, const char *key2, const char *hex)
{
    struct rs_errbuf why = {{0}, {0}};
    uint8_t *plain = NULL;
    size_t len = 0;
    char *fresh = NULL;
    PGresult *res = NULL;
    enum rs_err err = rs_sealed_open(rot->vault, col->kind, key1, key2, hex, &plain, &len, &why);

    if (err == RS_ERR_CRYPTO || err == RS_ERR_INVALID) {
        rot->out->failed[col->kind]++;
        rs_log(RS_LOG_WARN, "cannot re-seal", "table=%s column=%s detail=\"%s\"", col->table,
               col->column, why.msg);
        if (rot->on_failure)
            rot->on_failure(rot->arg, col, key1, key2, why.msg);
        return RS_OK; /* the others are still re-sealed */
    }
    if (err != RS_OK)
        return rs_errbuf_set(rot->eb, err, "%s", why.msg);
    err = rs_sealed_seal(rot->vault, col->kind, key1, key2, plain, len, &fresh);
    rs_vault_free_plain(plain);
    if (err != RS_OK)
        return rs_errbuf_set(rot->eb, err, "rotate-key: cannot seal a value");
    const char *params[4] = {fresh, key1, hex, key2};
    res = run(rot, update, col->key2 ? 4 : 3, params, &err);
    if (res && strcmp(PQcmdTuples(res), "1") == 0)
        rot->out->resealed[col->kind]++;
    PQclear(res);
    free(fresh);
    return err;
}

/* One batch in its own transaction; *more when it was full (there may be more rows). */
static enum rs_err rotate_batch(struct rotation *rot, const struct rs_sealed_column *col,
                                const char *select, const char *update, char last1[64],
                                char last2[128], bool *start, bool *more)
{
    const char *params[4] = {rot->key_hex, *start ? "true" : "false", last1, last2};
    PGresult *res = NULL;
    enum rs_err err = rs_db_command(rot->db, "BEGIN");
    int rows = 0;

    if (err == RS_OK)
        err = rs_db_command(rot->db, ROTATE_LOCK_TIMEOUT);
    if (err == RS_OK)
        res = run(rot, select, col->key2 ? 4 : 3, params, &err);
    if (res)
        rows = PQntuples(res);
    for (int i = 0; err == RS_OK && i < rows; i++)
        err = reseal(rot, col, update, PQgetvalue(res, i, 0),
                     PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    if (err == RS_OK && rows > 0) {
        snprintf(last1, 64, "%s", PQgetvalue(res, rows - 1, 0));
        snprintf(last2, 128, "%s",
                 PQgetisnull(res, rows - 1, 1) ? "" : PQgetvalue(res, rows - 1, 1));
        *start = false;
    }
    PQclear(res);
    if (err == RS_OK)
        err = rs_db_command(rot->db, "COMMIT");
    if (err != RS_OK) {
        if (!rot->eb->msg[0])
            rs_errbuf_set(rot->eb, err, "rotate-key: a transaction on %s failed", col->table);
        if (rs_db_command(rot->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
    *more = rows == rot->batch;
    return err;
}

/* How many values are under the current key, and how many under any other, now. */
static enum rs_err count_after(struct rotation *rot, const struct rs_sealed_column *col)
{
    char sql[SQL_MAX];
    const char *params[1] = {rot->key_hex};
    enum rs_err err;
    PGresult *res;
    size_t other;

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FILTER (WHERE substring(%s FROM %d FOR %d) = $1::bytea), "
             "count(*) FILTER (WHERE substring(%s FROM %d FOR %d) <> $1::bytea) FROM %s "
             "WHERE %s IS NOT NULL",
             col->column, RS_VAULT_KEY_ID_OFFSET + 1, RS_VAULT_KEY_ID_LEN, col->column,
             RS_VAULT_KEY_ID_OFFSET + 1, RS_VAULT_KEY_ID_LEN, col->table, col->column);
    if (!(res = run(rot, sql, 1, params, &err)))
        return err;
    rot->out->current[col->kind] = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    other = strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    rot->out->stray[col->kind] =
        other > rot->out->failed[col->kind] ? other - rot->out->failed[col->kind] : 0;
    PQclear(res);
    return RS_OK;
}

static enum rs_err rotate_column(struct rotation *rot, const struct rs_sealed_column *col)
{
    char select[SQL_MAX], update[SQL_MAX], last1[64] = NIL_UUID, last2[128] = "";
    bool exists = false, start = true, more = true;
    enum rs_err err = table_exists(rot, col, &exists);

    if (err != RS_OK || !exists)
        return err;
    select_sql(rot, col, select);
    update_sql(col, update);
    while (err == RS_OK && more)
        err = rotate_batch(rot, col, select, update, last1, last2, &start, &more);
    return err == RS_OK ? count_after(rot, col) : err;
}

enum rs_err rs_sealed_rotate(struct rs_db *db, const struct rs_vault *vault, int batch,
                             struct rs_sealed_rotation *out, rs_sealed_failure_fn on_failure,
                             void *arg, struct rs_errbuf *eb)
{
    struct rotation rot = {db, vault, batch > 0 ? batch : 50, "", out, on_failure, arg, eb};
    size_t failed = 0, stray = 0;
    enum rs_err err = RS_OK;

    memset(out, 0, sizeof(*out));
    memcpy(rot.key_hex, "\\x", 2);
    rs_vault_key_id(vault, rot.key_hex + 2);
    for (size_t k = 0; k < RS_SEALED_COUNT && err == RS_OK; k++) {
        err = rotate_column(&rot, &columns[k]);
        failed += out->failed[k];
        stray += out->stray[k];
    }
    if (err != RS_OK)
        return err;
    if (failed)
        return rs_errbuf_set(eb, RS_ERR_CRYPTO, "%zu sealed value(s) could not be opened", failed);
    if (stray)
        return rs_errbuf_set(eb, RS_ERR_CONFLICT,
                             "%zu value(s) were sealed under another key while rotating: a "
                             "process still seals with an old ROSTER_MASTER_KEY; restart every "
                             "rosterd with the new key and run rotate-key again",
                             stray);
    return RS_OK;
}
