/*
 * The admin API over OAuth clients (Bearer API key = the organization): PUT, GET and DELETE
 * /api/admin/v1/oauth-clients/{integration}. The secret goes in, sealed, and never comes out.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_oauth.h"
#include "roster/prov.h"
#include "roster/rs_log.h"

#define CLIENT_ID_MAX     512
#define CLIENT_SECRET_MAX 1024
#define SCOPES_MAX        1024
#define REDIRECT_URI_MAX  2048

/* The path's integration, which must exist (404) and link with OAuth (400). */
static enum rs_err path_integration(struct gw_req *req, const struct prov_ops **ops)
{
    const char *slug = req->params[0];

    *ops = prov_find(slug);
    if (!*ops)
        return rs_errbuf_param(&req->eb, RS_ERR_NOTFOUND, "integration",
                               "no integration named \"%.60s\"", slug);
    if (!(*ops)->oauth)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "integration",
                               "%s does not link with OAuth", (*ops)->name);
    return RS_OK;
}

/* A string member of at most max bytes without control characters; NULL allowed unless
   required. */
static enum rs_err text_member(struct gw_req *req, const json_t *body, const char *name, size_t max,
                               bool required, const char **out)
{
    const json_t *value = json_object_get(body, name);
    const char *text;

    *out = NULL;
    if (!value || json_is_null(value)) {
        if (required)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s is required (a string)",
                                   name);
        return RS_OK;
    }
    if (!json_is_string(value) || json_string_length(value) == 0)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s must be a non-empty string",
                               name);
    text = json_string_value(value);
    if (json_string_length(value) > max || strlen(text) != json_string_length(value))
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name, "%s is longer than %zu bytes", name,
                               max);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, name,
                                   "%s must not hold control characters", name);
    }
    *out = text;
    return RS_OK;
}

/* The body of a PUT: client_id, client_secret, and optional scopes and redirect_uri. */
static enum rs_err read_client(struct gw_req *req, const json_t *body,
                               struct lf_oauth_client *client)
{
    static const char *const known[] = {"client_id", "client_secret", "scopes", "redirect_uri"};
    const char *id, *secret, *scopes, *redirect;
    const char *key;
    json_t *value;
    enum rs_err err;

    json_object_foreach((json_t *)body, key, value)
    {
        bool found = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            found = found || strcmp(key, known[i]) == 0;
        if (!found)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "body",
                                   "unknown member \"%.40s\" (client_id, client_secret, scopes, "
                                   "redirect_uri)",
                                   key);
    }
    if ((err = text_member(req, body, "client_id", CLIENT_ID_MAX, true, &id)) != RS_OK ||
        (err = text_member(req, body, "client_secret", CLIENT_SECRET_MAX, true, &secret)) ||
        (err = text_member(req, body, "scopes", SCOPES_MAX, false, &scopes)) ||
        (err = text_member(req, body, "redirect_uri", REDIRECT_URI_MAX, false, &redirect)))
        return err;
    if (redirect && strncmp(redirect, "https://", 8) != 0 && strncmp(redirect, "http://", 7) != 0)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "redirect_uri",
                               "redirect_uri must be an http:// or https:// URL");
    /* borrowed from body, which outlives the save; the secret is sealed before it is stored */
    client->client_id = (char *)id;
    client->client_secret = (char *)secret;
    client->scopes = (char *)scopes;
    client->redirect_uri = (char *)redirect;
    return RS_OK;
}

/* Wipes the request's copy of the secret (jansson frees without wiping). */
static void wipe_secret(json_t *body)
{
    json_t *secret = json_object_get(body, "client_secret");

    if (json_is_string(secret))
        sodium_memzero((char *)json_string_value(secret), json_string_length(secret));
}

/* Appends "key": value-or-null. */
static enum rs_err append_text(struct rs_buf *out, const char *key, const char *value)
{
    enum rs_err err = rs_buf_appendf(out, ",\"%s\":", key);

    if (err == RS_OK)
        err = value ? rs_buf_append_json_str(out, value, strlen(value))
                    : rs_buf_append_str(out, "null");
    return err;
}

/* The client as the admin API shows it: everything but the secret. */
static enum rs_err render_client(const struct prov_ops *ops, const struct lf_oauth_client *c,
                                 struct rs_buf *out)
{
    enum rs_err err = rs_buf_append_str(out, "{\"integration\":");

    if (err == RS_OK)
        err = rs_buf_append_json_str(out, ops->slug, strlen(ops->slug));
    if (err == RS_OK)
        err = append_text(out, "client_id", c->client_id);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"client_secret_set\":true");
    if (err == RS_OK)
        err = append_text(out, "scopes", c->scopes);
    if (err == RS_OK)
        err = append_text(out, "default_scopes", ops->oauth->scopes);
    if (err == RS_OK)
        err = append_text(out, "redirect_uri", c->redirect_uri);
    if (err == RS_OK)
        err = rs_buf_appendf(out, ",\"created_at\":\"%s\",\"modified_at\":\"%s\"}", c->created_at,
                             c->modified_at);
    return err;
}

/* Loads (without the secret) and renders the organization's client of ops. */
static enum rs_err load_rendered(struct gw_req *req, const struct prov_ops *ops, struct rs_buf *out)
{
    struct lf_oauth_client *client = NULL;
    enum rs_err err = lf_oauth_client_load(req->db, req->app->vault, req->org_text, ops->slug,
                                           false, &client, &req->eb);

    if (err == RS_OK)
        err = render_client(ops, client, out);
    lf_oauth_client_free(client);
    return err;
}

enum rs_err gw_oauth_client_put(struct gw_req *req, const struct prov_ops *ops, const json_t *body,
                                struct rs_buf *out, bool *created)
{
    struct lf_oauth_client client = {0};
    enum rs_err err = read_client(req, body, &client);

    if (err == RS_OK)
        err = lf_oauth_client_save(req->db, req->app->vault, req->org_text, ops->slug, &client,
                                   created, &req->eb);
    if (err == RS_OK)
        err = load_rendered(req, ops, out);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, *created ? "oauth client created" : "oauth client replaced",
               "integration=%s org=%s", ops->slug, req->org_text);
    return err;
}

enum rs_err gw_oauth_client_get(struct gw_req *req, const struct prov_ops *ops, struct rs_buf *out)
{
    return load_rendered(req, ops, out);
}

enum rs_err gw_oauth_client_delete(struct gw_req *req, const struct prov_ops *ops)
{
    enum rs_err err = lf_oauth_client_delete(req->db, req->org_text, ops->slug, &req->eb);

    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "oauth client deleted", "integration=%s org=%s", ops->slug,
               req->org_text);
    return err;
}

void gw_handle_admin_oauth_client_put(struct gw_req *req)
{
    const struct prov_ops *ops = NULL;
    json_t *body = NULL;
    bool created = false;
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 16384);
    if ((err = path_integration(req, &ops)) == RS_OK &&
        (err = gw_req_json_body(req, &body)) == RS_OK)
        err = gw_oauth_client_put(req, ops, body, &out, &created);
    if (err == RS_OK)
        gw_reply_json(req, created ? 201 : 200, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
    wipe_secret(body);
    json_decref(body);
}

void gw_handle_admin_oauth_client_get(struct gw_req *req)
{
    const struct prov_ops *ops = NULL;
    struct rs_buf out;
    enum rs_err err;

    rs_buf_init(&out, 16384);
    if ((err = path_integration(req, &ops)) == RS_OK)
        err = gw_oauth_client_get(req, ops, &out);
    if (err == RS_OK)
        gw_reply_json(req, 200, &out);
    else
        gw_reply_error(req, err);
    rs_buf_cleanup(&out);
}

void gw_handle_admin_oauth_client_delete(struct gw_req *req)
{
    const struct prov_ops *ops = NULL;
    enum rs_err err = path_integration(req, &ops);

    if (err == RS_OK)
        err = gw_oauth_client_delete(req, ops);
    if (err == RS_OK)
        gw_reply_text(req, 204, "application/json", "", 0);
    else
        gw_reply_error(req, err);
}
