/*
 * Merge's link API: POST /link-token (a link session, optionally a magic link), the one-time
 * public-token exchange GET /account-token/{public_token}, POST /account-token/regenerate and
 * POST /delete-account. The hosted pages that complete a session are in gw_connect.c.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_page.h"
#include "roster/lf_session.h"
#include "roster/lf_token.h"
#include "roster/prov.h"
#include "roster/rs_log.h"
#include "roster/rs_token.h"
#include "roster/rs_url.h"

/* Merge's CategoriesEnum; Roster serves hris and accepts the others alongside it. */
static const char *const categories[] = {"hris", "ats",  "accounting", "ticketing",
                                         "crm",  "mktg", "filestorage"};

enum rs_err gw_link_text(struct gw_req *req, const json_t *body, const char *name, const char **out)
{
    const json_t *value = json_object_get(body, name);

    if (!json_is_string(value) || json_string_length(value) == 0)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s is required (a string)", name);
    if (json_string_length(value) > LF_TEXT_MAX ||
        strlen(json_string_value(value)) != json_string_length(value))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name,
                               "%s must be at most %d bytes without NUL", name, LF_TEXT_MAX);
    *out = json_string_value(value);
    return RS_OK;
}

static enum rs_err check_categories(struct gw_req *req, const json_t *list)
{
    bool hris = false;
    size_t i;
    json_t *item;

    if (!json_is_array(list) || json_array_size(list) == 0)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "categories",
                               "categories is required (a list that includes \"hris\")");
    json_array_foreach(list, i, item)
    {
        bool known = false;

        for (size_t k = 0; k < sizeof(categories) / sizeof(categories[0]); k++)
            known = known ||
                    (json_is_string(item) && strcmp(json_string_value(item), categories[k]) == 0);
        if (!known)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "categories",
                                   "categories[%zu] is not a Merge category", i);
        hris = hris || strcmp(json_string_value(item), "hris") == 0;
    }
    if (!hris)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "categories",
                               "categories must include \"hris\": Roster links HRIS systems");
    return RS_OK;
}

struct link_request {
    struct lf_session_new n;
    const struct prov_ops *ops;
    bool magic;
    char relink[RS_UUID_STR_LEN];
};

static enum rs_err read_integration(struct gw_req *req, const json_t *body, struct link_request *l)
{
    const json_t *slug = json_object_get(body, "integration");

    if (!slug || json_is_null(slug))
        return RS_OK;
    if (!json_is_string(slug) || !(l->ops = prov_find(json_string_value(slug))))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "integration",
                               "unknown integration (give a slug such as \"bamboohr\")");
    if (lf_page_connect_kind(l->ops) == LF_CONNECT_NONE)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "integration",
                               "%s cannot be connected through the hosted pages yet", l->ops->name);
    l->n.integration = l->ops->slug;
    return RS_OK;
}

static enum rs_err read_options(struct gw_req *req, const json_t *body, struct link_request *l)
{
    const json_t *magic = json_object_get(body, "should_create_magic_link_url");
    const json_t *base_url = json_object_get(body, "base_url");
    enum rs_err err =
        lf_token_expiry(json_object_get(body, "link_expiry_mins"), &l->n.expiry_mins, &req->eb);

    if (err != RS_OK)
        return err;
    if (magic && !json_is_null(magic) && !json_is_boolean(magic))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "should_create_magic_link_url",
                               "should_create_magic_link_url must be a boolean");
    l->magic = json_is_true(magic);
    if (base_url && !json_is_null(base_url)) {
        if (!json_is_string(base_url) || json_string_length(base_url) > LF_URL_MAX)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "base_url", "base_url must be a URL");
        l->n.base_url = json_string_value(base_url);
        if (rs_url_check_upstream(l->n.base_url, req->app->cfg->allow_private_upstreams,
                                  &req->eb) != RS_OK) {
            snprintf(req->eb.param, sizeof(req->eb.param), "base_url");
            return RS_ERR_INVALID;
        }
    }
    return RS_OK;
}

static enum rs_err read_link_request(struct gw_req *req, const json_t *body, struct link_request *l)
{
    enum rs_err err;

    memset(l, 0, sizeof(*l));
    l->n.org_text = req->org_text;
    if ((err = gw_link_text(req, body, "end_user_email_address", &l->n.email)) != RS_OK ||
        (err = gw_link_text(req, body, "end_user_organization_name", &l->n.end_user_org_name)) !=
            RS_OK ||
        (err = gw_link_text(req, body, "end_user_origin_id", &l->n.origin_id)) != RS_OK ||
        (err = check_categories(req, json_object_get(body, "categories"))) != RS_OK ||
        (err = read_integration(req, body, l)) != RS_OK)
        return err;
    return read_options(req, body, l);
}

/* The account an integration-specific link relinks: same end user, same integration. */
static enum rs_err find_relink(struct gw_req *req, struct link_request *l)
{
    static const char sql[] = "SELECT id FROM linked_accounts WHERE organization_id = $1::uuid "
                              "AND end_user_origin_id = $2 AND integration = $3";
    const char *params[3] = {req->org_text, l->n.origin_id, l->n.integration};
    enum rs_err err;
    PGresult *res;

    if (!l->n.integration)
        return RS_OK; /* decided when the end user picks a provider */
    res = rs_db_exec(req->db, sql, 3, params, false, true, &err);
    if (res && PQntuples(res) == 1) {
        snprintf(l->relink, sizeof(l->relink), "%s", PQgetvalue(res, 0, 0));
        l->n.linked_account = l->relink;
    }
    PQclear(res);
    return err;
}

enum rs_err gw_link_public_url(struct gw_req *req, const char *path, struct rs_buf *out)
{
    const char *base = req->app->cfg->public_url, *host = gw_req_header(req, "Host");
    size_t len;

    if (base && *base) {
        len = strlen(base);
        while (len > 0 && base[len - 1] == '/')
            len--;
        return rs_buf_appendf(out, "%.*s%s", (int)len, base, path);
    }
    /* no ROSTER_PUBLIC_URL: the address the caller reached us at, if it is a plain host[:port] */
    if (!host || !*host || strlen(host) > 255 ||
        host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")])
        host = req->app->cfg->listen;
    return rs_buf_appendf(out, "http://%s%s", host, path);
}

/* {"link_token", "integration_name", "magic_link_url"} as Merge shapes it. */
enum rs_err gw_link_token_json(struct gw_req *req, const char *token, const struct prov_ops *ops,
                               bool magic, struct rs_buf *out)
{
    char path[RS_TOKEN_MAX_LEN + 8];
    enum rs_err err = rs_buf_appendf(out, "{\"link_token\":\"%s\",\"integration_name\":", token);

    if (err == RS_OK)
        err = ops ? rs_buf_append_json_str(out, ops->name, strlen(ops->name))
                  : rs_buf_append_str(out, "null");
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"magic_link_url\":");
    snprintf(path, sizeof(path), "/link/%s", token);
    if (err == RS_OK && magic) {
        err = rs_buf_append(out, "\"", 1);
        if (err == RS_OK)
            err = gw_link_public_url(req, path, out);
        if (err == RS_OK)
            err = rs_buf_append(out, "\"", 1);
    } else if (err == RS_OK) {
        err = rs_buf_append_str(out, "null");
    }
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

void gw_handle_link_token(struct gw_req *req)
{
    json_t *body = NULL;
    struct link_request l;
    char token[RS_TOKEN_MAX_LEN] = "", id[RS_UUID_STR_LEN];
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 16 * 1024);
    if ((err = gw_req_json_body(req, &body)) != RS_OK ||
        (err = read_link_request(req, body, &l)) != RS_OK || (err = find_relink(req, &l)) != RS_OK)
        goto out;
    l.n.magic_link = l.magic;
    if ((err = lf_session_create(req->db, &l.n, token, id, &req->eb)) != RS_OK)
        goto out;
    rs_log(RS_LOG_INFO, "link session created", "session=%s org=%s integration=%s relink=%s", id,
           req->org_text, l.ops ? l.ops->slug : "-", l.relink[0] ? l.relink : "-");
    err = gw_link_token_json(req, token, l.ops, l.magic, &out);
out:
    sodium_memzero(token, sizeof(token));
    if (err == RS_OK)
        gw_reply_json(req, 200, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
    json_decref(body);
}

/* Merge's AccountToken.integration object. */
static enum rs_err integration_json(const char *slug, struct rs_buf *out)
{
    const struct prov_ops *ops = prov_find(slug);
    const char *name = ops ? ops->name : slug;
    enum rs_err err = rs_buf_append_str(out, "{\"name\":");

    if (err == RS_OK)
        err = rs_buf_append_json_str(out, name, strlen(name));
    if (err == RS_OK)
        err = rs_buf_appendf(out,
                             ",\"abbreviated_name\":null,\"categories\":[\"hris\"],\"image\":null,"
                             "\"square_image\":null,\"color\":\"%s\",\"slug\":",
                             ops ? ops->color : "#000000");
    if (err == RS_OK)
        err = rs_buf_append_json_str(out, slug, strlen(slug));
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"api_endpoints_to_documentation_urls\":{},"
                                     "\"webhook_setup_guide_url\":null,"
                                     "\"category_beta_status\":{}}");
    return err;
}

#define SQL_SET_TOKEN                                                                              \
    "UPDATE linked_accounts SET account_token_hash = decode($3, 'hex'), modified_at = now() "      \
    "WHERE id = $1::uuid AND organization_id = $2::uuid RETURNING integration"

/* Gives account a new account token (the old one stops working); *slug: its integration. */
static enum rs_err new_account_token(struct gw_req *req, const char *account,
                                     char token[RS_TOKEN_MAX_LEN], char slug[64])
{
    char hash[LF_HASH_HEX_LEN];
    const char *params[3] = {account, req->org_text, hash};
    enum rs_err err;
    PGresult *res;

    if ((err = rs_token_new("at", token, RS_TOKEN_MAX_LEN)) != RS_OK)
        return err;
    lf_token_hash_hex(token, hash);
    res = rs_db_exec(req->db, SQL_SET_TOKEN, 3, params, false, true, &err);
    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "the linked account is gone");
    else if (res)
        snprintf(slug, 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return err;
}

/* In one transaction: burn the public token, rotate the account token. */
static enum rs_err exchange(struct gw_req *req, char account[RS_UUID_STR_LEN],
                            char token[RS_TOKEN_MAX_LEN], char slug[64])
{
    enum rs_err err = rs_db_command(req->db, "BEGIN");

    if (err == RS_OK)
        err = lf_session_exchange(req->db, req->org_text, req->params[0], account, &req->eb);
    if (err == RS_OK)
        err = new_account_token(req, account, token, slug);
    if (err == RS_OK)
        err = rs_db_command(req->db, "COMMIT");
    if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    return err;
}

void gw_handle_account_token(struct gw_req *req)
{
    char account[RS_UUID_STR_LEN], token[RS_TOKEN_MAX_LEN] = "", slug[64];
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 16 * 1024);
    if ((err = exchange(req, account, token, slug)) != RS_OK)
        goto out;
    rs_log(RS_LOG_INFO, "public token exchanged", "account=%s org=%s", account, req->org_text);
    err = rs_buf_appendf(&out, "{\"account_token\":\"%s\",\"integration\":", token);
    if (err == RS_OK)
        err = integration_json(slug, &out);
    if (err == RS_OK)
        err = rs_buf_appendf(&out, ",\"id\":\"%s\"}", account);
out:
    sodium_memzero(token, sizeof(token));
    if (err == RS_OK)
        gw_reply_json(req, 200, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
}

void gw_handle_account_token_regenerate(struct gw_req *req)
{
    char token[RS_TOKEN_MAX_LEN] = "", slug[64];
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 4096);
    err = new_account_token(req, req->account.id_text, token, slug);
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "account token regenerated", "account=%s", req->account.id_text);
        err = rs_buf_appendf(&out, "{\"linked_account_id\":\"%s\",\"account_token\":\"%s\"}",
                             req->account.id_text, token);
    }
    sodium_memzero(token, sizeof(token));
    if (err == RS_OK)
        gw_reply_json(req, 200, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
}

void gw_handle_delete_account(struct gw_req *req)
{
    enum rs_err err = gw_account_delete(req, req->account.id_text);

    if (err == RS_ERR_NOTFOUND)
        rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "the linked account is gone");
    if (err == RS_OK) {
        rs_log(RS_LOG_INFO, "linked account deleted", "account=%s org=%s by=delete-account",
               req->account.id_text, req->org_text);
        gw_reply_text(req, 200, "application/json", "{}", 2);
    } else {
        gw_reply_error(req, err);
    }
}
