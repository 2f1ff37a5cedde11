/*
 * Link sessions as SQL over link_sessions: create with a fresh link token, find by token or
 * id, complete with a public token, revoke, and the one-time public-token exchange.
 */
#include "roster/lf_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum {
    C_ID,
    C_ORG,
    C_ORG_NAME,
    C_ORIGIN,
    C_END_ORG,
    C_EMAIL,
    C_INTEGRATION,
    C_BASE_URL,
    C_ACCOUNT,
    C_RETURN_URL,
    C_OPENER,
    C_MAGIC,
    C_EXPIRY_MINS,
    C_CREATED,
    C_EXPIRES,
    C_USED,
    C_REVOKED,
    C_NOW
};

static void copy_text(char *dst, size_t len, const PGresult *res, int i, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, i, col) ? "" : PQgetvalue(res, i, col));
}

static int64_t time_us(const PGresult *res, int i, int col)
{
    return PQgetisnull(res, i, col) ? 0 : strtoll(PQgetvalue(res, i, col), NULL, 10);
}

enum rs_err lf_session_from_row(const PGresult *res, int i, struct lf_session *out)
{
    memset(out, 0, sizeof(*out));
    if (rs_uuid_parse(PQgetvalue(res, i, C_ID), &out->id) != RS_OK)
        return RS_ERR_INTERNAL;
    rs_uuid_format(&out->id, out->id_text);
    copy_text(out->org_text, sizeof(out->org_text), res, i, C_ORG);
    copy_text(out->org_name, sizeof(out->org_name), res, i, C_ORG_NAME);
    copy_text(out->origin_id, sizeof(out->origin_id), res, i, C_ORIGIN);
    copy_text(out->end_user_org_name, sizeof(out->end_user_org_name), res, i, C_END_ORG);
    copy_text(out->email, sizeof(out->email), res, i, C_EMAIL);
    copy_text(out->integration, sizeof(out->integration), res, i, C_INTEGRATION);
    copy_text(out->base_url, sizeof(out->base_url), res, i, C_BASE_URL);
    copy_text(out->linked_account, sizeof(out->linked_account), res, i, C_ACCOUNT);
    copy_text(out->return_url, sizeof(out->return_url), res, i, C_RETURN_URL);
    copy_text(out->opener_origin, sizeof(out->opener_origin), res, i, C_OPENER);
    out->magic_link = strcmp(PQgetvalue(res, i, C_MAGIC), "t") == 0;
    out->expiry_mins = (int)strtol(PQgetvalue(res, i, C_EXPIRY_MINS), NULL, 10);
    out->created_us = time_us(res, i, C_CREATED);
    out->expires_us = time_us(res, i, C_EXPIRES);
    out->used_us = time_us(res, i, C_USED);
    out->revoked_us = time_us(res, i, C_REVOKED);
    out->state = lf_token_state(time_us(res, i, C_NOW), out->expires_us, out->used_us != 0,
                                out->revoked_us != 0);
    return RS_OK;
}

#define SQL_CREATE                                                                                 \
    "INSERT INTO link_sessions (id, organization_id, token_hash, end_user_origin_id, "             \
    "end_user_organization_name, end_user_email_address, integration, base_url, magic_link, "      \
    "expiry_mins, expires_at, linked_account_id, reissued_from) VALUES ($1::uuid, $2::uuid, "      \
    "decode($3, 'hex'), $4, $5, $6, $7, $8, $9::boolean, $10::int, now() + make_interval(mins => " \
    "$10::int), $11::uuid, $12::uuid)"

enum rs_err lf_session_create(struct rs_db *db, const struct lf_session_new *n,
                              char token[RS_TOKEN_MAX_LEN], char id[RS_UUID_STR_LEN],
                              struct rs_errbuf *eb)
{
    char hash[LF_HASH_HEX_LEN], mins[16];
    struct rs_uuid uuid;
    PGresult *res;
    enum rs_err err;

    if ((err = rs_token_new(LF_LINK_PREFIX, token, RS_TOKEN_MAX_LEN)) != RS_OK)
        return err;
    lf_token_hash_hex(token, hash);
    rs_uuid_v4(&uuid);
    rs_uuid_format(&uuid, id);
    snprintf(mins, sizeof(mins), "%d", n->expiry_mins);
    const char *params[12] = {id,
                              n->org_text,
                              hash,
                              n->origin_id,
                              n->end_user_org_name,
                              n->email,
                              n->integration,
                              n->base_url,
                              n->magic_link ? "true" : "false",
                              mins,
                              n->linked_account,
                              n->reissued_from};
    res = rs_db_exec(db, SQL_CREATE, 12, params, false, true, &err);
    if (!res) {
        sodium_memzero(token, RS_TOKEN_MAX_LEN);
        return rs_errbuf_set(eb, err, "cannot store the link session");
    }
    PQclear(res);
    return RS_OK;
}

static enum rs_err one_session(struct rs_db *db, const char *sql, int n, const char *const *params,
                               struct lf_session *out, struct rs_errbuf *eb)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(db, sql, n, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the link session");
    if (PQntuples(res) != 1)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such link");
    else
        err = lf_session_from_row(res, 0, out);
    PQclear(res);
    return err;
}

enum rs_err lf_session_by_token(struct rs_db *db, const char *token, bool lock,
                                struct lf_session *out, struct rs_errbuf *eb)
{
    static const char sql[] = "SELECT " LF_SESSION_COLUMNS " FROM " LF_SESSION_FROM
                              " WHERE s.token_hash = decode($1, 'hex')";
    static const char sql_lock[] = "SELECT " LF_SESSION_COLUMNS " FROM " LF_SESSION_FROM
                                   " WHERE s.token_hash = decode($1, 'hex') FOR UPDATE OF s";
    char hash[LF_HASH_HEX_LEN];
    const char *params[1] = {hash};

    if (!lf_token_well_formed(token, LF_LINK_PREFIX))
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such link");
    lf_token_hash_hex(token, hash);
    return one_session(db, lock ? sql_lock : sql, 1, params, out, eb);
}

enum rs_err lf_session_by_id(struct rs_db *db, const char *org, const char *id,
                             struct lf_session *out, struct rs_errbuf *eb)
{
    static const char sql[] = "SELECT " LF_SESSION_COLUMNS " FROM " LF_SESSION_FROM
                              " WHERE s.id = $1::uuid AND s.organization_id = $2::uuid";
    const char *params[2] = {id, org};

    return one_session(db, sql, 2, params, out, eb);
}

#define SQL_COMPLETE                                                                               \
    "UPDATE link_sessions SET used_at = now(), linked_account_id = $2::uuid, "                     \
    "public_token_hash = decode($3, 'hex'), public_token_expires_at = now() + "                    \
    "make_interval(secs => $4::int) WHERE id = $1::uuid AND used_at IS NULL AND revoked_at IS "    \
    "NULL"

enum rs_err lf_session_complete(struct rs_db *db, const char *id, const char *account,
                                char public_token[RS_TOKEN_MAX_LEN], struct rs_errbuf *eb)
{
    char hash[LF_HASH_HEX_LEN], ttl[16];
    const char *params[4] = {id, account, hash, ttl};
    PGresult *res;
    enum rs_err err;

    if ((err = rs_token_new(LF_PUBLIC_PREFIX, public_token, RS_TOKEN_MAX_LEN)) != RS_OK)
        return err;
    lf_token_hash_hex(public_token, hash);
    snprintf(ttl, sizeof(ttl), "%d", LF_PUBLIC_TOKEN_TTL_S);
    res = rs_db_exec(db, SQL_COMPLETE, 4, params, false, true, &err);
    if (res && strcmp(PQcmdTuples(res), "1") != 0)
        err = rs_errbuf_set(eb, RS_ERR_CONFLICT, "the link was used or revoked meanwhile");
    else if (!res)
        rs_errbuf_set(eb, err, "cannot complete the link session");
    PQclear(res);
    if (err != RS_OK)
        sodium_memzero(public_token, RS_TOKEN_MAX_LEN);
    return err;
}

#define SQL_REVOKE                                                                                 \
    "WITH s AS (SELECT id, used_at IS NULL AND revoked_at IS NULL AS open FROM link_sessions "     \
    "WHERE id = $1::uuid AND organization_id = $2::uuid FOR UPDATE) "                              \
    "UPDATE link_sessions l SET revoked_at = now() FROM s WHERE l.id = s.id AND s.open "           \
    "RETURNING 1"
#define SQL_EXISTS "SELECT 1 FROM link_sessions WHERE id = $1::uuid AND organization_id = $2::uuid"

enum rs_err lf_session_revoke(struct rs_db *db, const char *org, const char *id,
                              struct rs_errbuf *eb)
{
    const char *params[2] = {id, org};
    PGresult *res = NULL;
    enum rs_err err;

    res = rs_db_exec(db, SQL_REVOKE, 2, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot revoke the link");
    if (PQntuples(res) == 1)
        goto out;
    PQclear(res);
    res = rs_db_exec(db, SQL_EXISTS, 2, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot revoke the link");
    err = PQntuples(res) == 1
              ? rs_errbuf_set(eb, RS_ERR_CONFLICT, "the link was already completed or revoked")
              : rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no link with this id");
out:
    PQclear(res);
    return err;
}

#define SQL_EXCHANGE                                                                               \
    "UPDATE link_sessions SET public_token_used_at = now() WHERE public_token_hash = "             \
    "decode($1, 'hex') AND organization_id = $2::uuid AND public_token_used_at IS NULL AND "       \
    "public_token_expires_at > now() AND linked_account_id IS NOT NULL "                           \
    "RETURNING linked_account_id"

enum rs_err lf_session_exchange(struct rs_db *db, const char *org, const char *public_token,
                                char account[RS_UUID_STR_LEN], struct rs_errbuf *eb)
{
    char hash[LF_HASH_HEX_LEN];
    const char *params[2] = {hash, org};
    PGresult *res;
    enum rs_err err;

    if (!lf_token_well_formed(public_token, LF_PUBLIC_PREFIX))
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND,
                             "unknown, expired or already exchanged public token");
    lf_token_hash_hex(public_token, hash);
    res = rs_db_exec(db, SQL_EXCHANGE, 2, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot exchange the public token");
    if (PQntuples(res) != 1)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND,
                            "unknown, expired or already exchanged public token");
    else
        snprintf(account, RS_UUID_STR_LEN, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return err;
}
