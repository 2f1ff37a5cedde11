/*
 * Authentication of every API request: `Authorization: Bearer <API key>` selects the
 * organization; `X-Account-Token` selects one of that organization's linked accounts. Both are
 * looked up by their SHA-256 in one statement, and an account token only ever matches within
 * the key's own organization, so a key of A with a token of B finds nothing.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/rs_token.h"

#define SQL_AUTH_ORG                                                                               \
    "SELECT organization_id FROM api_keys WHERE key_hash = decode($1, 'hex') "                     \
    "AND revoked_at IS NULL"
#define SQL_AUTH_ACCOUNT                                                                           \
    "SELECT k.organization_id, la.id, la.integration, la.data_version FROM api_keys k "            \
    "LEFT JOIN linked_accounts la ON la.organization_id = k.organization_id "                      \
    "AND la.account_token_hash = decode($2, 'hex') "                                               \
    "WHERE k.key_hash = decode($1, 'hex') AND k.revoked_at IS NULL"

/* The bearer token of the Authorization header, or NULL. */
static const char *bearer(struct gw_req *req)
{
    const char *value = gw_req_header(req, "Authorization");

    if (!value || strncasecmp(value, "Bearer ", 7) != 0)
        return NULL;
    value += 7;
    while (*value == ' ')
        value++;
    return *value ? value : NULL;
}

static void hash_hex(const char *token, char out[2 * RS_TOKEN_HASH_LEN + 1])
{
    uint8_t hash[RS_TOKEN_HASH_LEN];

    rs_token_hash(token, strlen(token), hash);
    rs_token_hash_hex(hash, out);
}

static enum rs_err read_org(struct gw_req *req, const PGresult *res)
{
    if (rs_uuid_parse(PQgetvalue(res, 0, 0), &req->org) != RS_OK)
        return RS_ERR_INTERNAL;
    rs_uuid_format(&req->org, req->org_text);
    return RS_OK;
}

static enum rs_err read_account(struct gw_req *req, const PGresult *res)
{
    struct gw_account *acct = &req->account;

    if (PQgetisnull(res, 0, 1))
        return rs_errbuf_set(&req->eb, RS_ERR_AUTH,
                             "X-Account-Token does not match a linked account of this API key");
    if (rs_uuid_parse(PQgetvalue(res, 0, 1), &acct->id) != RS_OK)
        return RS_ERR_INTERNAL;
    rs_uuid_format(&acct->id, acct->id_text);
    snprintf(acct->integration, sizeof(acct->integration), "%s", PQgetvalue(res, 0, 2));
    acct->data_version = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    return RS_OK;
}

enum rs_err gw_auth(struct gw_req *req, enum gw_auth_level level)
{
    const char *key = bearer(req), *token = gw_req_header(req, "X-Account-Token");
    char key_hex[2 * RS_TOKEN_HASH_LEN + 1], token_hex[2 * RS_TOKEN_HASH_LEN + 1];
    const char *params[2] = {key_hex, token_hex};
    PGresult *res = NULL;
    enum rs_err err;

    if (!key)
        return rs_errbuf_set(&req->eb, RS_ERR_AUTH,
                             "missing API key: send Authorization: Bearer <API key>");
    if (level == GW_AUTH_ACCOUNT && (!token || !*token))
        return rs_errbuf_set(&req->eb, RS_ERR_AUTH,
                             "missing X-Account-Token header for linked-account data");
    hash_hex(key, key_hex);
    if (level == GW_AUTH_ACCOUNT)
        hash_hex(token, token_hex);
    res = rs_db_exec(req->db, level == GW_AUTH_ACCOUNT ? SQL_AUTH_ACCOUNT : SQL_AUTH_ORG,
                     level == GW_AUTH_ACCOUNT ? 2 : 1, params, false, true, &err);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        err = rs_errbuf_set(&req->eb, RS_ERR_AUTH, "invalid API key");
        goto out;
    }
    if ((err = read_org(req, res)) != RS_OK)
        goto out;
    if (level == GW_AUTH_ACCOUNT)
        err = read_account(req, res);
out:
    PQclear(res);
    return err;
}
