/*
 * OAuth tokens over the network and in the database: the token endpoint call, storing a
 * linked account's token, and the locked refresh that racing workers cannot lose.
 */
#include "roster/lf_oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_sealed.h"

/* The account row, locked until COMMIT or ROLLBACK: every refresh of it queues here. */
#define SQL_LOCK                                                                                   \
    "SELECT organization_id::text, integration, credentials, access_token, base_url "              \
    "FROM linked_accounts WHERE id = $1::uuid FOR UPDATE"
#define SQL_SAVE "UPDATE linked_accounts SET access_token = $2::bytea WHERE id = $1::uuid"
#define SQL_RELINK                                                                                 \
    "UPDATE linked_accounts SET status = 'RELINK_NEEDED', status_detail = $2, "                    \
    "next_sync_at = NULL, modified_at = now() WHERE id = $1::uuid"

enum rs_err lf_oauth_token_call(struct rs_httpc *http, const struct prov_ops *ops,
                                const json_t *fields, const char *base_url,
                                const struct lf_oauth_client *client,
                                const struct lf_oauth_grant *grant, int64_t now_us,
                                const json_t *previous, json_t **out, struct rs_errbuf *eb)
{
    static const struct rs_http_header accept = {"Accept", "application/json"};
    struct lf_oauth_request req;
    struct rs_http_response resp;
    enum rs_err err;

    memset(&resp, 0, sizeof(resp));
    err = lf_oauth_request_build(ops, fields, base_url, client, grant, &req, eb);
    if (err == RS_OK) {
        struct rs_http_request hreq = {
            .method = "POST",
            .url = req.url,
            .headers = &accept,
            .nheaders = 1,
            .basic_user = req.basic_user,
            .basic_password = req.basic_password,
            .body = req.body,
            .body_len = req.body_len,
            .content_type = "application/x-www-form-urlencoded",
            /*
             * Sent once, never retried by rs_httpc: a provider that rotates refresh tokens
             * spends the old one as soon as it accepts a refresh. Had it accepted the first
             * attempt and only the answer been lost (a 502 from a proxy, a timeout), a retry
             * would send the spent token and get invalid_grant — the account would need a
             * relink for what was a network blip. A code is single-use too (RFC 6749 §4.1.2).
             * A failed call is transient instead: the next sync (or a new sign-in) tries again.
             */
            .max_attempts = 1,
        };
        err = rs_httpc_send(http, NULL, &hreq, &resp, eb);
        if (err == RS_OK)
            err = lf_oauth_parse_token(resp.status, resp.body.data, resp.body.len, now_us, previous,
                                       out, eb);
        else if (err != RS_ERR_NOMEM)
            err = RS_ERR_UPSTREAM; /* timeouts, network errors, refused hosts: eb says which */
    }
    if (resp.body.data)
        sodium_memzero(resp.body.data, resp.body.len); /* it held tokens */
    rs_http_response_cleanup(&resp);
    lf_oauth_request_cleanup(&req);
    return err;
}

enum rs_err lf_oauth_token_exchange(const struct lf_oauth_exchange *x, int64_t now_us, json_t **out,
                                    struct rs_errbuf *eb)
{
    struct rs_httpc_options opts = {
        .timeout_ms = x->timeout_ms > 0 ? x->timeout_ms : 10000,
        .connect_timeout_ms = 5000,
        .max_response_bytes = 64 * 1024, /* a token answer is a few hundred bytes */
        .max_attempts = 1,
        .allow_private = x->allow_private,
    };
    struct lf_oauth_grant grant = {
        .type = LF_OAUTH_GRANT_CODE,
        .code = x->code,
        .redirect_uri = x->redirect_uri,
        .code_verifier = x->code_verifier,
    };
    struct rs_httpc *http = NULL;
    enum rs_err err = rs_httpc_new(&opts, &http);

    if (err != RS_OK)
        return rs_errbuf_set(eb, err, "out of memory");
    err = lf_oauth_token_call(http, x->ops, x->fields, x->base_url, x->client, &grant, now_us, NULL,
                              out, eb);
    rs_httpc_free(http);
    return err;
}

enum rs_err lf_oauth_token_save(struct rs_db *db, const struct rs_vault *vault, const char *account,
                                const json_t *token, struct rs_errbuf *eb)
{
    char *hex = NULL;
    const char *params[2] = {account, NULL};
    PGresult *res = NULL;
    enum rs_err err =
        rs_sealed_seal_json(vault, RS_SEALED_ACCESS_TOKEN, account, NULL, token, &hex);

    if (err != RS_OK)
        return rs_errbuf_set(eb, err, "cannot seal the token");
    params[1] = hex;
    res = rs_db_exec(db, SQL_SAVE, 2, params, false, true, &err);
    if (!res)
        rs_errbuf_set(eb, err, "cannot store the token");
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no linked account %s", account);
    PQclear(res);
    free(hex);
    return err;
}

/* One refresh: the locked row's values, and what the refresh made. */
struct refresh {
    const struct lf_oauth_io *io;
    const struct prov_ops *ops;
    const char *account;
    int64_t now_us;
    PGresult *row; /* SQL_LOCK's */
    json_t *token; /* the stored token, then the new one */
    json_t *fields;
    struct lf_oauth_client *client;
};

static const char *row_text(const struct refresh *rf, int column)
{
    return PQgetisnull(rf->row, 0, column) ? NULL : PQgetvalue(rf->row, 0, column);
}

/* Locks the account's row and opens its token (NULL when none is stored). */
static enum rs_err lock_account(struct refresh *rf, struct rs_errbuf *eb)
{
    const char *params[1] = {rf->account};
    enum rs_err err;

    rf->row = rs_db_exec(rf->io->db, SQL_LOCK, 1, params, false, true, &err);
    if (!rf->row)
        return rs_errbuf_set(eb, err, "cannot lock the linked account");
    if (PQntuples(rf->row) != 1)
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no linked account %s", rf->account);
    if (strcmp(row_text(rf, 1), rf->ops->slug) != 0 || !rf->ops->oauth)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "linked account %s is not an OAuth %s account",
                             rf->account, rf->ops->name);
    if (!row_text(rf, 3))
        return RS_OK;
    return rs_sealed_open_json(rf->io->vault, RS_SEALED_ACCESS_TOKEN, rf->account, NULL,
                               row_text(rf, 3), &rf->token, eb);
}

/* The OAuth connect fields (credentials) and the organization's client, for the endpoint. */
static enum rs_err load_client(struct refresh *rf, struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;

    if (row_text(rf, 2))
        err = rs_sealed_open_json(rf->io->vault, RS_SEALED_CREDENTIALS, rf->account, NULL,
                                  row_text(rf, 2), &rf->fields, eb);
    else if (!(rf->fields = json_object()))
        err = RS_ERR_NOMEM;
    if (err != RS_OK)
        return err;
    err = lf_oauth_client_load(rf->io->db, rf->io->vault, row_text(rf, 0), rf->ops->slug, true,
                               &rf->client, eb);
    if (err == RS_ERR_NOTFOUND)
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "no OAuth client for %s is configured in this organization "
                             "(PUT /api/admin/v1/oauth-clients/%s)",
                             rf->ops->slug, rf->ops->slug);
    return err;
}

/* Permanent refusal: only a new authorization helps. The sentence becomes status_detail. */
static enum rs_err mark_relink(struct refresh *rf, struct rs_errbuf *eb)
{
    char detail[sizeof(eb->msg)];
    const char *params[2] = {rf->account, detail};
    enum rs_err err;
    PGresult *res;

    snprintf(detail, sizeof(detail),
             "%.40s refused the stored authorization: %.150s; relink the "
             "account",
             rf->ops->name, eb->msg);
    res = rs_db_exec(rf->io->db, SQL_RELINK, 2, params, false, true, &err);
    PQclear(res);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot mark the account for relinking");
    rs_log(RS_LOG_WARN, "oauth refresh refused", "account=%s detail=\"%s\"", rf->account, detail);
    return rs_errbuf_set(eb, RS_ERR_AUTH, "%s", detail);
}

/* Inside the transaction, with the row locked: reuse, refresh or give up. */
static enum rs_err refresh_locked(struct refresh *rf, const char *rejected, struct rs_errbuf *eb)
{
    struct lf_oauth_grant grant = {.type = LF_OAUTH_GRANT_REFRESH};
    const char *access, *refresh;
    json_t *fresh = NULL;
    enum rs_err err = lock_account(rf, eb);

    if (err != RS_OK)
        return err;
    access = json_string_value(json_object_get(rf->token, "access_token"));
    refresh = json_string_value(json_object_get(rf->token, "refresh_token"));
    grant.refresh_token = refresh;
    if (lf_oauth_still_valid(rf->token, rf->now_us, LF_OAUTH_REFRESH_MARGIN_US) &&
        !(rejected && access && strcmp(access, rejected) == 0))
        return RS_OK; /* never expired, or another worker refreshed it first */
    if (!refresh || !refresh[0]) {
        rs_errbuf_set(eb, RS_ERR_AUTH, "no refresh token is stored");
        return mark_relink(rf, eb);
    }
    if ((err = load_client(rf, eb)) != RS_OK)
        return err;
    err = lf_oauth_token_call(rf->io->http, rf->ops, rf->fields, row_text(rf, 4), rf->client,
                              &grant, rf->now_us, rf->token, &fresh, eb);
    if (err == RS_ERR_AUTH)
        return mark_relink(rf, eb);
    if (err != RS_OK)
        return err;
    json_decref(rf->token);
    rf->token = fresh;
    return lf_oauth_token_save(rf->io->db, rf->io->vault, rf->account, fresh, eb);
}

enum rs_err lf_oauth_token_fresh(const struct lf_oauth_io *io, const struct prov_ops *ops,
                                 const char *account, const char *rejected, int64_t now_us,
                                 json_t **out, struct rs_errbuf *eb)
{
    struct refresh rf = {.io = io, .ops = ops, .account = account, .now_us = now_us};
    enum rs_err err = rs_db_command(io->db, "BEGIN");

    if (err == RS_OK)
        err = refresh_locked(&rf, rejected, eb);
    /* a permanent refusal commits too: the account's new status is the outcome */
    if (err == RS_OK || err == RS_ERR_AUTH) {
        enum rs_err commit = rs_db_command(io->db, "COMMIT");
        if (commit != RS_OK)
            err = rs_errbuf_set(eb, commit, "cannot commit the token refresh");
    } else if (rs_db_command(io->db, "ROLLBACK") != RS_OK) {
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    }
    if (err == RS_OK) {
        *out = rf.token;
        rf.token = NULL;
    }
    json_decref(rf.token);
    json_decref(rf.fields);
    lf_oauth_client_free(rf.client);
    PQclear(rf.row);
    return err;
}
