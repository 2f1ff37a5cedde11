/*
 * OAuth authorizations the hosted pages started and the provider has not sent back yet (table
 * link_oauth_states): keyed by the SHA-256 of their state, the PKCE verifier, the link token and
 * the pre-authorize fields sealed together, single use (the callback deletes the row it takes)
 * and at most LF_OAUTH_PENDING_TTL_S old.
 */
#include "roster/lf_oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_token.h"
#include "roster/rs_sealed.h"

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Expired rows go whenever a new one comes: the table holds minutes of sign-ins, no more. */
#define SQL_PURGE "DELETE FROM link_oauth_states WHERE expires_at < now()"
#define SQL_SAVE                                                                                   \
    "INSERT INTO link_oauth_states (id, state_hash, link_session_id, integration, redirect_uri, "  \
    "secrets, expires_at) VALUES ($1::uuid, decode($2, 'hex'), $3::uuid, $4, $5, $6::bytea, "      \
    "now() + make_interval(secs => $7::int))"
/* taking is deleting: two callbacks with one state cannot both get it */
#define SQL_TAKE                                                                                   \
    "DELETE FROM link_oauth_states WHERE state_hash = decode($1, 'hex') RETURNING id, "            \
    "link_session_id, integration, redirect_uri, secrets, expires_at > now()"

bool lf_oauth_pending_hash(const char *state, char out[LF_HASH_HEX_LEN])
{
    size_t len = state ? strlen(state) : 0;

    if (len != LF_OAUTH_B64_32 - 1 || strspn(state, B64URL) != len)
        return false;
    lf_token_hash_hex(state, out);
    return true;
}

enum rs_err lf_oauth_pending_secrets(const struct lf_oauth_pending *p, json_t **out)
{
    json_t *fields = p->fields ? json_deep_copy(p->fields) : json_object();
    json_t *secrets = fields ? json_pack("{s:s, s:s, s:o}", "code_verifier", p->code_verifier,
                                         "link_token", p->link_token, "fields", fields)
                             : NULL;

    if (!secrets)
        return RS_ERR_NOMEM; /* json_pack released fields ("o" steals it, also on failure) */
    *out = secrets;
    return RS_OK;
}

enum rs_err lf_oauth_pending_open_secrets(const json_t *secrets, struct lf_oauth_pending *p)
{
    const char *verifier = json_string_value(json_object_get(secrets, "code_verifier"));
    const char *token = json_string_value(json_object_get(secrets, "link_token"));
    json_t *fields = json_object_get(secrets, "fields");
    char challenge[LF_OAUTH_B64_32];

    if (!json_is_object(secrets) || json_object_size(secrets) != 3 || !json_is_object(fields))
        return RS_ERR_INVALID;
    if (!verifier || lf_oauth_pkce_challenge(verifier, challenge) != RS_OK)
        return RS_ERR_INVALID;
    if (!token || !lf_token_well_formed(token, LF_LINK_PREFIX))
        return RS_ERR_INVALID;
    snprintf(p->code_verifier, sizeof(p->code_verifier), "%s", verifier);
    snprintf(p->link_token, sizeof(p->link_token), "%s", token);
    json_decref(p->fields);
    p->fields = json_deep_copy(fields);
    return p->fields ? RS_OK : RS_ERR_NOMEM;
}

void lf_oauth_pending_cleanup(struct lf_oauth_pending *p)
{
    json_decref(p->fields);
    sodium_memzero(p, sizeof(*p));
}

static enum rs_err exec(struct rs_db *db, const char *sql, int n, const char *const *params,
                        struct rs_errbuf *eb)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(db, sql, n, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot store the OAuth authorization");
    PQclear(res);
    return RS_OK;
}

enum rs_err lf_oauth_pending_save(struct rs_db *db, const struct rs_vault *vault, const char *state,
                                  struct lf_oauth_pending *p, struct rs_errbuf *eb)
{
    char hash[LF_HASH_HEX_LEN], ttl[16], *sealed = NULL;
    json_t *secrets = NULL;
    struct rs_uuid id;
    enum rs_err err;

    if (!lf_oauth_pending_hash(state, hash))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "malformed OAuth state");
    rs_uuid_v4(&id);
    rs_uuid_format(&id, p->id);
    snprintf(ttl, sizeof(ttl), "%d", LF_OAUTH_PENDING_TTL_S);
    if ((err = lf_oauth_pending_secrets(p, &secrets)) != RS_OK ||
        (err = rs_sealed_seal_json(vault, RS_SEALED_LINK_OAUTH_STATE, p->id, NULL, secrets,
                                   &sealed)) != RS_OK) {
        rs_errbuf_set(eb, err, "cannot seal the OAuth authorization");
        goto out;
    }
    const char *params[7] = {p->id,  hash, p->session_id, p->integration, p->redirect_uri,
                             sealed, ttl};
    if ((err = exec(db, SQL_PURGE, 0, NULL, eb)) == RS_OK)
        err = exec(db, SQL_SAVE, 7, params, eb);
out:
    if (secrets) {
        /* the verifier and the link token: wipe jansson's copies before they are freed */
        sodium_memzero((char *)json_string_value(json_object_get(secrets, "code_verifier")),
                       strlen(p->code_verifier));
        sodium_memzero((char *)json_string_value(json_object_get(secrets, "link_token")),
                       strlen(p->link_token));
    }
    json_decref(secrets);
    free(sealed);
    return err;
}

/* Fills p from a row of SQL_TAKE (columns 0–4). */
static enum rs_err from_row(const struct rs_vault *vault, const PGresult *res,
                            struct lf_oauth_pending *p, struct rs_errbuf *eb)
{
    json_t *secrets = NULL;
    enum rs_err err;

    snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, 0, 0));
    snprintf(p->session_id, sizeof(p->session_id), "%s", PQgetvalue(res, 0, 1));
    snprintf(p->integration, sizeof(p->integration), "%s", PQgetvalue(res, 0, 2));
    snprintf(p->redirect_uri, sizeof(p->redirect_uri), "%s", PQgetvalue(res, 0, 3));
    err = rs_sealed_open_json(vault, RS_SEALED_LINK_OAUTH_STATE, p->id, NULL, PQgetvalue(res, 0, 4),
                              &secrets, eb);
    if (err == RS_OK && (err = lf_oauth_pending_open_secrets(secrets, p)) == RS_ERR_INVALID)
        err = rs_errbuf_set(eb, RS_ERR_CRYPTO, "OAuth authorization %s holds a malformed record",
                            p->id);
    if (secrets) {
        const char *key;
        json_t *value;

        json_object_foreach(secrets, key, value)
        {
            if (json_is_string(value))
                sodium_memzero((char *)json_string_value(value), json_string_length(value));
        }
    }
    json_decref(secrets);
    return err;
}

enum rs_err lf_oauth_pending_take(struct rs_db *db, const struct rs_vault *vault, const char *state,
                                  struct lf_oauth_pending *p, struct rs_errbuf *eb)
{
    char hash[LF_HASH_HEX_LEN];
    const char *params[1] = {hash};
    PGresult *res = NULL;
    enum rs_err err;

    memset(p, 0, sizeof(*p));
    if (!lf_oauth_pending_hash(state, hash))
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "malformed OAuth state");
    res = rs_db_exec(db, SQL_TAKE, 1, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the OAuth authorization");
    if (PQntuples(res) != 1)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no OAuth authorization has this state");
    else if (strcmp(PQgetvalue(res, 0, 5), "t") != 0)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "the OAuth authorization has expired");
    else
        err = from_row(vault, res, p, eb);
    PQclear(res);
    if (err != RS_OK)
        lf_oauth_pending_cleanup(p);
    return err;
}
