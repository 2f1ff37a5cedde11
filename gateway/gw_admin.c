/*
 * The admin API over linked accounts (Bearer API key): create with credentials (the manual
 * setup path for operators who already hold them), list, get, delete. Credentials are checked
 * against the adapter's declared fields and sealed by the vault before they are stored.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_check.h"
#include "roster/prov.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_sealed.h"
#include "roster/rs_token.h"
#include "roster/rs_url.h"
#include "wh_int.h"

#define MAX_TEXT_FIELD 256

struct new_account {
    const struct prov_ops *ops;
    const char *origin_id, *org_name, *email, *base_url;
    const json_t *credentials;
};

static enum rs_err required_text(struct gw_req *req, const json_t *body, const char *name,
                                 const char **out)
{
    const json_t *value = json_object_get(body, name);

    if (!json_is_string(value) || json_string_length(value) == 0)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s is required (a string)", name);
    if (json_string_length(value) > MAX_TEXT_FIELD ||
        strlen(json_string_value(value)) != json_string_length(value))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s is too long or has NUL bytes",
                               name);
    *out = json_string_value(value);
    return RS_OK;
}

static enum rs_err read_new_account(struct gw_req *req, const json_t *body, struct new_account *a)
{
    const char *slug = NULL;
    const json_t *base_url = json_object_get(body, "base_url");
    enum rs_err err;

    memset(a, 0, sizeof(*a));
    if ((err = required_text(req, body, "integration", &slug)) != RS_OK)
        return err;
    if (!(a->ops = prov_find(slug)))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "integration",
                               "unknown integration \"%.60s\"", slug);
    if ((err = required_text(req, body, "end_user_origin_id", &a->origin_id)) != RS_OK ||
        (err = required_text(req, body, "end_user_organization_name", &a->org_name)) != RS_OK ||
        (err = required_text(req, body, "end_user_email_address", &a->email)) != RS_OK)
        return err;
    a->credentials = json_object_get(body, "credentials");
    if ((err = prov_check_credentials(a->ops, a->credentials, &req->eb)) != RS_OK)
        return err;
    if (base_url && !json_is_null(base_url)) {
        if (!json_is_string(base_url))
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "base_url",
                                   "base_url must be a string");
        a->base_url = json_string_value(base_url);
        if (rs_url_check_upstream(a->base_url, req->app->cfg->allow_private_upstreams, &req->eb) !=
            RS_OK) {
            snprintf(req->eb.param, sizeof(req->eb.param), "base_url");
            return RS_ERR_INVALID;
        }
    }
    return RS_OK;
}

/* The account and its initial sync, in one statement; the NOTIFY wakes an idle sync worker. */
#define SQL_INSERT_ACCOUNT                                                                         \
    "WITH la AS (INSERT INTO linked_accounts (id, organization_id, integration, "                  \
    "end_user_origin_id, end_user_organization_name, end_user_email_address, status, "             \
    "account_token_hash, credentials, base_url, completed_at) VALUES ($1::uuid, $2::uuid, $3, "    \
    "$4, $5, $6, 'COMPLETE', decode($7, 'hex'), $8::bytea, $9, now()) RETURNING id) "              \
    "INSERT INTO syncs (linked_account_id, id, kind, trigger, status) "                            \
    "SELECT id, gen_random_uuid(), 'FULL', 'INITIAL', 'QUEUED' FROM la "                           \
    "RETURNING pg_notify('roster_sync', '')"

static enum rs_err insert_account(struct gw_req *req, const struct new_account *a, const char *id,
                                  const char *token)
{
    char hash_hex[2 * RS_TOKEN_HASH_LEN + 1], *sealed = NULL;
    uint8_t hash[RS_TOKEN_HASH_LEN];
    PGresult *res = NULL;
    enum rs_err err;

    rs_token_hash(token, strlen(token), hash);
    rs_token_hash_hex(hash, hash_hex);
    if ((err = rs_sealed_seal_json(req->app->vault, RS_SEALED_CREDENTIALS, id, NULL, a->credentials,
                                   &sealed)) != RS_OK)
        goto out;
    const char *params[9] = {id,       req->org_text, a->ops->slug, a->origin_id, a->org_name,
                             a->email, hash_hex,      sealed,       a->base_url};
    res = rs_db_exec(req->db, SQL_INSERT_ACCOUNT, 9, params, false, true, &err);
    if (!res && err == RS_ERR_CONFLICT)
        rs_errbuf_param(&req->eb, err, "end_user_origin_id",
                        "a %s linked account for this end_user_origin_id already exists",
                        a->ops->name);
out:
    PQclear(res);
    free(sealed);
    return err;
}

/* The account, its initial sync and LinkedAccount.linked, in one transaction. */
static enum rs_err create_linked(struct gw_req *req, const struct new_account *a, const char *id,
                                 const char *token)
{
    enum rs_err err = rs_db_command(req->db, "BEGIN");

    if (err != RS_OK)
        return err;
    err = insert_account(req, a, id, token);
    if (err == RS_OK)
        err = rs_outbox_linked(req->db, id, false, &req->eb);
    if (err == RS_OK)
        err = rs_db_command(req->db, "COMMIT");
    if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    return err;
}

void gw_handle_admin_account_create(struct gw_req *req)
{
    json_t *body = NULL;
    struct new_account a;
    struct rs_uuid uuid;
    char id[RS_UUID_STR_LEN], token[RS_TOKEN_MAX_LEN];
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 4096);
    if ((err = gw_req_json_body(req, &body)) != RS_OK)
        goto out;
    if ((err = read_new_account(req, body, &a)) != RS_OK)
        goto out;
    rs_uuid_v4(&uuid);
    rs_uuid_format(&uuid, id);
    if ((err = rs_token_new("at", token, sizeof(token))) != RS_OK)
        goto out;
    if ((err = create_linked(req, &a, id, token)) != RS_OK)
        goto out;
    rs_log(RS_LOG_INFO, "linked account created", "account=%s integration=%s org=%s", id,
           a.ops->slug, req->org_text);
    err = rs_buf_appendf(&out, "{\"id\":\"%s\",\"account_token\":\"%s\",\"status\":\"COMPLETE\"}",
                         id, token);
out:
    sodium_memzero(token, sizeof(token));
    if (err == RS_OK)
        gw_reply_json(req, 201, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
    json_decref(body);
}

void gw_handle_admin_account_list(struct gw_req *req)
{
    gw_list_accounts(req, GW_ACCOUNT_ADMIN);
}

#define SQL_LOCK_ACCOUNT                                                                           \
    "SELECT 1 FROM linked_accounts WHERE id = $1::uuid AND organization_id = $2::uuid FOR UPDATE"
/* normalized rows go with the account (ON DELETE CASCADE), credentials with its row */
#define SQL_DELETE_ACCOUNT                                                                         \
    "DELETE FROM linked_accounts WHERE id = $1::uuid AND organization_id = $2::uuid"

enum rs_err gw_account_delete(struct gw_req *req, const char *id)
{
    const char *params[2] = {id, req->org_text};
    PGresult *res = NULL;
    enum rs_err err = rs_db_command(req->db, "BEGIN");

    if (err != RS_OK)
        return err;
    err = gw_req_owned_row(req, SQL_LOCK_ACCOUNT, id, "linked account", NULL);
    /* before the row goes: the event carries the account as it was */
    if (err == RS_OK)
        err = wh_event_account_deleted(req->db, id, &req->eb);
    if (err == RS_OK &&
        !(res = rs_db_exec(req->db, SQL_DELETE_ACCOUNT, 2, params, false, true, &err)))
        rs_errbuf_set(&req->eb, err, "cannot delete the linked account");
    PQclear(res);
    if (err == RS_OK)
        err = rs_db_command(req->db, "COMMIT");
    if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    return err;
}

void gw_handle_admin_account_delete(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        err = gw_account_delete(req, id);
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "linked account deleted", "account=%s org=%s", id, req->org_text);
        gw_reply_text(req, 204, "application/json", "", 0);
    } else {
        gw_reply_error(req, err);
    }
}

/* Replies with the admin view of account id. */
static void reply_account(struct gw_req *req, const char *id)
{
    static const char sql[] = "SELECT " GW_ACCOUNT_COLUMNS " FROM linked_accounts la "
                              "WHERE la.id = $1::uuid AND la.organization_id = $2::uuid";
    struct rs_buf body;
    PGresult *res = NULL;
    enum rs_err err = gw_req_owned_row(req, sql, id, "linked account", &res);

    rs_buf_init(&body, 1 << 20);
    if (err == RS_OK)
        err = gw_render_account(res, 0, GW_ACCOUNT_ADMIN, &body);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    PQclear(res);
    rs_buf_cleanup(&body);
}

void gw_handle_admin_account_get(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        reply_account(req, id);
    else
        gw_reply_error(req, err);
}

/* Syncs stop (queued ones are discarded, none is scheduled); data and credentials stay. */
#define SQL_DEACTIVATE                                                                             \
    "WITH la AS (UPDATE linked_accounts SET status = 'IDLE', status_detail = 'deactivated: syncs " \
    "are stopped until the account is activated', "                                                \
    "deactivated_at = now(), next_sync_at = NULL, modified_at = now() WHERE id = $1::uuid AND "    \
    "organization_id = $2::uuid AND deactivated_at IS NULL RETURNING id) "                         \
    "UPDATE syncs s SET status = 'DISCARDED', reason = 'the account was deactivated', "            \
    "finished_at = now() FROM la WHERE s.linked_account_id = la.id AND s.status = 'QUEUED'"
#define SQL_ACTIVATE                                                                               \
    "UPDATE linked_accounts SET status = 'COMPLETE', status_detail = NULL, deactivated_at = "      \
    "NULL, next_sync_at = now(), modified_at = now() WHERE id = $1::uuid AND organization_id = "   \
    "$2::uuid AND deactivated_at IS NOT NULL"
#define SQL_IS_DEACTIVATED                                                                         \
    "SELECT deactivated_at IS NOT NULL FROM linked_accounts WHERE id = $1::uuid AND "              \
    "organization_id = $2::uuid"

static void set_active(struct gw_req *req, bool active)
{
    char id[RS_UUID_STR_LEN];
    const char *params[2] = {id, req->org_text};
    PGresult *res = NULL;
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        err = gw_req_owned_row(req, SQL_IS_DEACTIVATED, id, "linked account", &res);
    if (err == RS_OK && (strcmp(PQgetvalue(res, 0, 0), "t") == 0) != active)
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT, "the linked account is already %s",
                            active ? "active" : "deactivated");
    PQclear(res);
    res = NULL;
    if (err == RS_OK)
        res = rs_db_exec(req->db, active ? SQL_ACTIVATE : SQL_DEACTIVATE, 2, params, false, true,
                         &err);
    PQclear(res);
    if (err != RS_OK) {
        gw_reply_error(req, err);
        return;
    }
    rs_log(RS_LOG_INFO, active ? "linked account activated" : "linked account deactivated",
           "account=%s org=%s", id, req->org_text);
    reply_account(req, id);
}

void gw_handle_admin_account_deactivate(struct gw_req *req)
{
    set_active(req, false);
}

void gw_handle_admin_account_activate(struct gw_req *req)
{
    set_active(req, true);
}

/* A stored account's test connection, waiting for its thread. */
struct test_job {
    const struct prov_ops *ops;
    json_t *credentials;
    char *base_url;
    struct lf_check_options opts;
    struct lf_check_outcome outcome;
    enum rs_err err;
};

static void test_job_free(struct test_job *job)
{
    json_decref(job->credentials);
    free(job->base_url);
    free(job);
}

static void test_work(void *arg)
{
    struct test_job *job = arg;

    job->err = lf_check_run(job->ops, job->credentials, job->base_url, &job->opts, &job->outcome);
}

static void test_done(struct gw_req *req, void *arg)
{
    struct test_job *job = arg;
    struct rs_buf body;
    enum rs_err err = job->err;

    rs_buf_init(&body, 4096);
    if (err == RS_OK)
        err = rs_buf_appendf(&body, "{\"result\":\"%s\",\"ok\":%s,\"http_status\":",
                             lf_check_result_name(job->outcome.result),
                             job->outcome.result == LF_CHECK_OK ? "true" : "false");
    if (err == RS_OK)
        err = job->outcome.http_status ? rs_buf_appendf(&body, "%ld", job->outcome.http_status)
                                       : rs_buf_append_str(&body, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(&body, ",\"detail\":");
    if (err == RS_OK)
        err = rs_buf_append_json_str(&body, job->outcome.sentence, strlen(job->outcome.sentence));
    if (err == RS_OK)
        err = rs_buf_append(&body, "}", 1);
    if (err == RS_OK)
        gw_reply_json(req, 200, &body);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&body);
    test_job_free(job);
}

#define SQL_TEST_ACCOUNT                                                                           \
    "SELECT integration, credentials, base_url FROM linked_accounts WHERE id = $1::uuid AND "      \
    "organization_id = $2::uuid"

/* Loads what testing account id needs into a new job. */
static enum rs_err test_job_load(struct gw_req *req, const char *id, struct test_job **out)
{
    struct test_job *job = calloc(1, sizeof(*job));
    enum rs_err err = job ? RS_OK : RS_ERR_NOMEM;
    PGresult *res = NULL;
    struct rs_errbuf open_eb = {{0}, {0}}; /* detail for the log only: never shown */

    if (err == RS_OK)
        err = gw_req_owned_row(req, SQL_TEST_ACCOUNT, id, "linked account", &res);
    if (err == RS_OK && !(job->ops = prov_find(PQgetvalue(res, 0, 0))))
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT, "no adapter for this integration");
    if (err == RS_OK &&
        rs_sealed_open_json(req->app->vault, RS_SEALED_CREDENTIALS, id, NULL, PQgetvalue(res, 0, 1),
                            &job->credentials, &open_eb) != RS_OK)
        err = rs_errbuf_set(&req->eb, RS_ERR_CONFLICT,
                            "the stored credentials cannot be opened (was the master key "
                            "changed?); relink the account");
    if (err == RS_OK && !PQgetisnull(res, 0, 2) && !(job->base_url = strdup(PQgetvalue(res, 0, 2))))
        err = RS_ERR_NOMEM;
    PQclear(res);
    if (err == RS_OK) {
        job->opts.allow_private = req->app->cfg->allow_private_upstreams;
        *out = job;
    } else if (job) {
        test_job_free(job);
    }
    return err;
}

void gw_handle_admin_account_test(struct gw_req *req)
{
    char id[RS_UUID_STR_LEN];
    struct test_job *job = NULL;
    enum rs_err err = gw_req_path_id(req, id);

    if (err == RS_OK)
        err = test_job_load(req, id, &job);
    if (err == RS_OK && (err = gw_defer(req, test_work, test_done, job)) != RS_OK)
        test_job_free(job);
    if (err != RS_OK)
        gw_reply_error(req, err);
}
