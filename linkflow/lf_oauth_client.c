/*
 * OAuth clients per organization and integration (table oauth_clients): the client id, the
 * secret sealed by the vault, optional scopes and redirect URI.
 */
#include "roster/lf_oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_sealed.h"

#define SQL_LOAD                                                                                   \
    "SELECT client_id, client_secret, scopes, redirect_uri, "                                      \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                   \
    "to_char(modified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "                   \
    "FROM oauth_clients WHERE organization_id = $1::uuid AND integration = $2"
/* xmax = 0 only on a row this statement inserted: tells a create from a replace */
#define SQL_SAVE                                                                                   \
    "INSERT INTO oauth_clients (organization_id, integration, client_id, client_secret, scopes, "  \
    "redirect_uri) VALUES ($1::uuid, $2, $3, $4::bytea, $5, $6) "                                  \
    "ON CONFLICT (organization_id, integration) DO UPDATE SET client_id = EXCLUDED.client_id, "    \
    "client_secret = EXCLUDED.client_secret, scopes = EXCLUDED.scopes, "                           \
    "redirect_uri = EXCLUDED.redirect_uri, modified_at = now() RETURNING xmax = 0"
#define SQL_DELETE "DELETE FROM oauth_clients WHERE organization_id = $1::uuid AND integration = $2"

void lf_oauth_client_free(struct lf_oauth_client *client)
{
    if (!client)
        return;
    free(client->client_id);
    if (client->client_secret)
        sodium_free(client->client_secret); /* wipes it */
    free(client->scopes);
    free(client->redirect_uri);
    free(client);
}

/* A malloc'd copy of column c of row 0, or NULL for SQL NULL; *ok false when out of memory. */
static char *copy_column(const PGresult *res, int c, bool *ok)
{
    char *copy;

    if (PQgetisnull(res, 0, c))
        return NULL;
    copy = strdup(PQgetvalue(res, 0, c));
    if (!copy)
        *ok = false;
    return copy;
}

/* Opens the sealed secret into client->client_secret (sodium_malloc'd, NUL-terminated). */
static enum rs_err open_secret(const struct rs_vault *vault, const char *org,
                               const char *integration, const char *hex,
                               struct lf_oauth_client *client, struct rs_errbuf *eb)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    enum rs_err err = rs_sealed_open(vault, RS_SEALED_OAUTH_CLIENT_SECRET, org, integration, hex,
                                     &plain, &len, eb);

    if (err == RS_OK)
        client->client_secret = (char *)plain; /* rs_vault_open NUL-terminates it */
    return err == RS_ERR_NOTFOUND ? RS_ERR_CRYPTO : err;
}

enum rs_err lf_oauth_client_load(struct rs_db *db, const struct rs_vault *vault, const char *org,
                                 const char *integration, bool with_secret,
                                 struct lf_oauth_client **out, struct rs_errbuf *eb)
{
    const char *params[2] = {org, integration};
    struct lf_oauth_client *client = NULL;
    bool ok = true;
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_LOAD, 2, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the OAuth client");
    if (PQntuples(res) != 1) {
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no OAuth client is configured for %.60s",
                            integration);
        goto out;
    }
    err = RS_ERR_NOMEM;
    if (!(client = calloc(1, sizeof(*client))))
        goto out;
    client->client_id = copy_column(res, 0, &ok);
    client->scopes = copy_column(res, 2, &ok);
    client->redirect_uri = copy_column(res, 3, &ok);
    snprintf(client->created_at, sizeof(client->created_at), "%s", PQgetvalue(res, 0, 4));
    snprintf(client->modified_at, sizeof(client->modified_at), "%s", PQgetvalue(res, 0, 5));
    if (!ok || !client->client_id)
        goto out;
    err = with_secret ? open_secret(vault, org, integration, PQgetvalue(res, 0, 1), client, eb)
                      : RS_OK;
    if (err != RS_OK)
        goto out;
    *out = client;
    client = NULL;
out:
    lf_oauth_client_free(client);
    PQclear(res);
    return err;
}

enum rs_err lf_oauth_client_save(struct rs_db *db, const struct rs_vault *vault, const char *org,
                                 const char *integration, const struct lf_oauth_client *client,
                                 bool *created, struct rs_errbuf *eb)
{
    char *sealed = NULL;
    PGresult *res = NULL;
    enum rs_err err;

    if (!client->client_id || !client->client_secret)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "an OAuth client needs an id and a secret");
    err = rs_sealed_seal(vault, RS_SEALED_OAUTH_CLIENT_SECRET, org, integration,
                         client->client_secret, strlen(client->client_secret), &sealed);
    if (err != RS_OK)
        return rs_errbuf_set(eb, err, "cannot seal the client secret");
    const char *params[6] = {org,    integration,    client->client_id,
                             sealed, client->scopes, client->redirect_uri};
    res = rs_db_exec(db, SQL_SAVE, 6, params, false, true, &err);
    if (!res)
        rs_errbuf_set(eb, err, "cannot store the OAuth client");
    else if (created)
        *created = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    free(sealed);
    return err;
}

enum rs_err lf_oauth_client_delete(struct rs_db *db, const char *org, const char *integration,
                                   struct rs_errbuf *eb)
{
    const char *params[2] = {org, integration};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_DELETE, 2, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot delete the OAuth client");
    if (strcmp(PQcmdTuples(res), "1") != 0)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no OAuth client is configured for %.60s",
                            integration);
    PQclear(res);
    return err;
}
