/*
 * OAuth sign-in from the hosted connect pages: the page that starts it, the start (fields
 * checked, a state and a PKCE pair stored with the link session, 303 to the provider), and the
 * callback (the state taken once, the code traded on another thread, then the completion the
 * API-key form uses too). docs/design/link-flow.md#oauth.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_form.h"
#include "roster/lf_oauth.h"
#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define CALLBACK_PATH "/link/oauth/callback"

/* The problem page of an OAuth sign-in; s and ops may be NULL (nothing known: no links). */
static void send_oauth_problem(struct gw_req *req, enum lf_page_oauth_problem problem,
                               const char *token, const struct lf_session *s,
                               const struct prov_ops *ops, const char *detail)
{
    char form_token[LF_FORM_TOKEN_LEN];
    struct lf_page_ctx ctx;
    struct rs_buf html;

    if (s)
        gw_connect_ctx(req, token, s, form_token, &ctx);
    rs_buf_init(&html, GW_CONNECT_PAGE_MAX);
    if (lf_page_oauth_problem(problem, s ? &ctx : NULL, ops, detail, &html) == RS_OK)
        gw_connect_send_page(req, 200, lf_page_oauth_problem_name(problem), &html, NULL);
    else
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s ? s->org_name : NULL);
    rs_buf_cleanup(&html);
}

/* Logs an unexpected failure and sends the "something went wrong" page. */
static void send_broken(struct gw_req *req, const char *what, enum rs_err err, const char *org)
{
    rs_log(RS_LOG_ERROR, what, "error=%s detail=\"%s\"", rs_err_name(err), req->eb.msg);
    gw_connect_send_problem(req, LF_PAGE_BROKEN, org);
}

/*
 * The organization's OAuth client for ops (with its secret when asked), or NULL after the page
 * saying why was sent: "not set up yet" when there is none, and nothing else happens.
 */
static struct lf_oauth_client *load_client(struct gw_req *req, const char *token,
                                           const struct lf_session *s, const struct prov_ops *ops,
                                           bool with_secret)
{
    struct lf_oauth_client *client = NULL;
    enum rs_err err = lf_oauth_client_load(req->db, req->app->vault, s->org_text, ops->slug,
                                           with_secret, &client, &req->eb);

    if (err == RS_ERR_NOTFOUND) {
        rs_log(RS_LOG_INFO, "oauth sign-in without an OAuth client", "integration=%s org=%s",
               ops->slug, s->org_text);
        send_oauth_problem(req, LF_PAGE_OAUTH_NOT_SET_UP, token, s, ops, NULL);
    } else if (err != RS_OK) {
        send_broken(req, "oauth client unusable", err, s->org_name);
    }
    return err == RS_OK ? client : NULL;
}

/* The sign-in page; its form may lead to the provider's authorize endpoint (form-action). */
static void send_oauth_form(struct gw_req *req, const struct lf_session *s,
                            const struct prov_ops *ops, const char *page, const json_t *values,
                            const char *error, int bad_field, const char *field_error)
{
    char form_token[LF_FORM_TOKEN_LEN], origin[512];
    struct lf_page_ctx ctx;
    struct rs_buf html;
    struct rs_errbuf eb = {{0}, {0}};
    bool have_origin = lf_oauth_authorize_origin(ops, s->base_url[0] ? s->base_url : NULL, origin,
                                                 sizeof(origin), &eb) == RS_OK;

    if (!have_origin)
        rs_log(RS_LOG_WARN, "no authorize origin for the page's form-action",
               "integration=%s detail=\"%s\"", ops->slug, eb.msg);
    gw_connect_ctx(req, req->params[0], s, form_token, &ctx);
    rs_buf_init(&html, GW_CONNECT_PAGE_MAX);
    if (lf_page_oauth(&ctx, ops, values, error, bad_field, field_error, &html) == RS_OK)
        gw_connect_send_page(req, 200, page, &html, have_origin ? origin : NULL);
    else
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s->org_name);
    rs_buf_cleanup(&html);
}

void gw_connect_oauth_page(struct gw_req *req, const struct lf_session *s,
                           const struct prov_ops *ops)
{
    struct lf_oauth_client *client = load_client(req, req->params[0], s, ops, false);

    if (client)
        send_oauth_form(req, s, ops, "oauth", NULL, NULL, -1, NULL);
    lf_oauth_client_free(client);
}

void gw_handle_link_oauth_page(struct gw_req *req)
{
    struct lf_session s;
    const struct prov_ops *ops;

    if (!gw_connect_session(req, req->params[0], false, &s))
        return;
    if (!(ops = gw_connect_provider(&s, req->params[1], LF_CONNECT_OAUTH)))
        gw_connect_send_problem(req, LF_PAGE_NO_PROVIDER, s.org_name);
    else
        gw_connect_oauth_page(req, &s, ops);
}

/* ---- the start: POST /link/<token>/<slug>/oauth ---- */

/* Reads the posted sign-in form; false when a page saying what is wrong was sent. */
static bool read_fields(struct gw_req *req, const struct lf_session *s, const struct prov_ops *ops,
                        json_t **fields)
{
    struct lf_form_input in;
    size_t len;
    const char *body = gw_req_body(req, &len);
    enum rs_err err = lf_form_oauth_read(ops, body, len, &in);
    bool ok = false;

    if (err != RS_ERR_NOMEM && !lf_token_form_check(req->app->vault, &s->id, in.form_token))
        send_oauth_form(req, s, ops, "oauth-expired", in.credentials,
                        "This form has expired or did not come from this page. Start again.", -1,
                        NULL);
    else if (err == RS_ERR_INVALID)
        send_oauth_form(req, s, ops, "oauth-invalid", in.credentials,
                        in.bad_field >= 0 ? "Check the highlighted field." : in.error, in.bad_field,
                        in.error);
    else if (err == RS_OK && prov_check_oauth_credentials(ops, in.credentials, &req->eb) != RS_OK)
        send_oauth_form(req, s, ops, "oauth-invalid", in.credentials,
                        "Check the details and try again.", -1, NULL);
    else if (err != RS_OK)
        send_broken(req, "oauth form unreadable", err, s->org_name);
    else
        ok = true;
    if (ok) {
        *fields = in.credentials;
        in.credentials = NULL; /* moved to the caller */
    }
    lf_form_input_cleanup(&in);
    return ok;
}

/*
 * A new state and PKCE pair stored with the session (sealed verifier, hashed state), and the
 * provider's authorize URL for them into location.
 */
static enum rs_err authorize(struct gw_req *req, const struct lf_session *s,
                             const struct prov_ops *ops, const struct lf_oauth_client *client,
                             const json_t *fields, struct rs_buf *location)
{
    struct lf_oauth_pending pending = {.fields = json_incref((json_t *)fields)};
    struct lf_oauth_pkce pkce;
    struct rs_buf redirect;
    char state[LF_OAUTH_B64_32];
    enum rs_err err = RS_OK;

    rs_buf_init(&redirect, LF_OAUTH_URL_MAX);
    if (!client->redirect_uri)
        err = gw_link_public_url(req, CALLBACK_PATH, &redirect);
    lf_oauth_pkce_new(&pkce);
    lf_oauth_state_new(state);
    struct lf_oauth_authorize a = {
        .client_id = client->client_id,
        .redirect_uri = client->redirect_uri ? client->redirect_uri : redirect.data,
        .scope = client->scopes, /* NULL: the adapter's */
        .state = state,
        .code_challenge = pkce.challenge,
    };
    snprintf(pending.session_id, sizeof(pending.session_id), "%s", s->id_text);
    snprintf(pending.integration, sizeof(pending.integration), "%s", ops->slug);
    snprintf(pending.redirect_uri, sizeof(pending.redirect_uri), "%s", a.redirect_uri);
    snprintf(pending.code_verifier, sizeof(pending.code_verifier), "%s", pkce.verifier);
    snprintf(pending.link_token, sizeof(pending.link_token), "%s", req->params[0]);
    if (err == RS_OK)
        err = lf_oauth_authorize_url(ops, fields, s->base_url[0] ? s->base_url : NULL, &a, location,
                                     &req->eb);
    if (err == RS_OK)
        err = lf_oauth_pending_save(req->db, req->app->vault, state, &pending, &req->eb);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "oauth sign-in started", "integration=%s session=%s authorization=%s",
               ops->slug, s->id_text, pending.id);
    sodium_memzero(&pkce, sizeof(pkce));
    sodium_memzero(state, sizeof(state));
    lf_oauth_pending_cleanup(&pending);
    rs_buf_cleanup(&redirect);
    return err;
}

/* 303 to the provider, with the pages' headers (no Referer carries the link token there). */
static void send_redirect(struct gw_req *req, const struct prov_ops *ops, const char *location)
{
    struct rs_buf html;
    enum rs_err err;

    rs_buf_init(&html, 16 * 1024);
    err = rs_buf_append_str(&html, "<!DOCTYPE html>\n<title>Continue</title>\n<p><a href=\"");
    if (err == RS_OK)
        err = lf_html_append(&html, location);
    if (err == RS_OK)
        err = rs_buf_append_str(&html, "\">Continue to ");
    if (err == RS_OK)
        err = lf_html_append(&html, ops->name);
    if (err == RS_OK)
        err = rs_buf_append_str(&html, "</a></p>\n");
    if (err == RS_OK) {
        gw_req_add_header(req, "Location", location);
        gw_connect_send_page(req, 303, "oauth-redirect", &html, NULL);
    } else {
        gw_connect_send_problem(req, LF_PAGE_BROKEN, NULL);
    }
    rs_buf_cleanup(&html);
}

void gw_handle_link_oauth_start(struct gw_req *req)
{
    struct lf_session s;
    struct lf_oauth_client *client = NULL;
    struct rs_buf location;
    json_t *fields = NULL;
    const struct prov_ops *ops;
    enum rs_err err;

    rs_buf_init(&location, 8192);
    if (!gw_connect_session(req, req->params[0], false, &s))
        goto out;
    if (!(ops = gw_connect_provider(&s, req->params[1], LF_CONNECT_OAUTH))) {
        gw_connect_send_problem(req, LF_PAGE_NO_PROVIDER, s.org_name);
        goto out;
    }
    if (!read_fields(req, &s, ops, &fields) ||
        !(client = load_client(req, req->params[0], &s, ops, false)))
        goto out;
    if ((err = authorize(req, &s, ops, client, fields, &location)) == RS_OK)
        send_redirect(req, ops, location.data);
    else
        send_broken(req, "oauth sign-in not started", err, s.org_name);
out:
    lf_oauth_client_free(client);
    json_decref(fields);
    rs_buf_cleanup(&location);
}

/* ---- the callback: GET /link/oauth/callback?state=…&code=… ---- */

/* A code waiting for its exchange. */
struct exchange_job {
    const struct prov_ops *ops;
    struct lf_oauth_pending pending; /* owned: verifier, link token, fields */
    struct lf_oauth_client *client;  /* owned, with its secret */
    char code[LF_OAUTH_CODE_MAX + 1];
    char base_url[LF_URL_MAX + 1];
    int64_t timeout_ms;
    bool allow_private;
    json_t *token; /* the result */
    enum rs_err err;
    struct rs_errbuf eb;
};

static void exchange_job_free(struct exchange_job *job)
{
    lf_oauth_pending_cleanup(&job->pending);
    lf_oauth_client_free(job->client);
    if (job->token) {
        const char *key;
        json_t *value;

        json_object_foreach(job->token, key, value)
        {
            if (json_is_string(value))
                sodium_memzero((char *)json_string_value(value), json_string_length(value));
        }
        json_decref(job->token);
    }
    sodium_memzero(job, sizeof(*job));
    free(job);
}

static void exchange_work(void *arg)
{
    struct exchange_job *job = arg;
    struct lf_oauth_exchange x = {
        .ops = job->ops,
        .fields = job->pending.fields,
        .base_url = job->base_url[0] ? job->base_url : NULL,
        .client = job->client,
        .code = job->code,
        .redirect_uri = job->pending.redirect_uri,
        .code_verifier = job->pending.code_verifier,
        .timeout_ms = job->timeout_ms,
        .allow_private = job->allow_private,
    };

    job->err = lf_oauth_token_exchange(&x, rs_time_now_us(), &job->token, &job->eb);
}

static void exchange_done(struct gw_req *req, void *arg)
{
    struct exchange_job *job = arg;
    const char *token = job->pending.link_token;
    char public_token[RS_TOKEN_MAX_LEN] = "";
    struct lf_session s;
    enum rs_err err = job->err;

    if (err != RS_OK) {
        rs_log(RS_LOG_WARN, "oauth code exchange failed", "integration=%s error=%s detail=\"%s\"",
               job->ops->slug, rs_err_name(err), job->eb.msg);
        if (err == RS_ERR_NOMEM || err == RS_ERR_INVALID || err == RS_ERR_INTERNAL)
            gw_connect_send_problem(req, LF_PAGE_BROKEN, NULL);
        else if (gw_connect_session(req, token, false, &s))
            send_oauth_problem(
                req, err == RS_ERR_AUTH ? LF_PAGE_OAUTH_REFUSED : LF_PAGE_OAUTH_UNAVAILABLE, token,
                &s, job->ops, NULL);
    } else if ((err = gw_connect_complete(req, token, job->ops, job->pending.fields, job->token, &s,
                                          public_token)) == RS_OK) {
        gw_connect_send_success(req, token, &s, job->ops, public_token);
    } else if (err != RS_ERR_CONFLICT) {
        send_broken(req, "oauth connect failed", err, NULL);
    }
    sodium_memzero(public_token, sizeof(public_token));
    exchange_job_free(job);
}

/* Hands the code to a thread for the exchange; job is consumed either way. */
static void exchange(struct gw_req *req, const struct lf_session *s, struct exchange_job *job)
{
    const struct rs_config *cfg = req->app->cfg;

    snprintf(job->base_url, sizeof(job->base_url), "%s", s->base_url);
    job->allow_private = cfg->allow_private_upstreams;
    job->timeout_ms = cfg->upstream_timeout_ms < 10000 ? cfg->upstream_timeout_ms : 10000;
    if (gw_defer(req, exchange_work, exchange_done, job) != RS_OK) {
        send_oauth_problem(req, LF_PAGE_OAUTH_UNAVAILABLE, job->pending.link_token, s, job->ops,
                           NULL);
        exchange_job_free(job);
    }
}

/*
 * With the authorization taken: the session still usable and for this provider, the
 * provider's answer read. A job for the exchange when there is a code, else NULL (a page was
 * sent).
 */
static struct exchange_job *callback_job(struct gw_req *req, struct lf_oauth_pending *pending,
                                         const struct lf_oauth_callback *cb, struct lf_session *s)
{
    const char *token = pending->link_token;
    struct exchange_job *job = NULL;
    const struct prov_ops *ops;

    if (!gw_connect_session(req, token, false, s))
        return NULL;
    if (strcmp(s->id_text, pending->session_id) != 0 ||
        !(ops = gw_connect_provider(s, pending->integration, LF_CONNECT_OAUTH))) {
        send_oauth_problem(req, LF_PAGE_OAUTH_BAD_STATE, NULL, NULL, NULL, NULL);
        return NULL;
    }
    if (cb->error[0]) {
        rs_log(RS_LOG_INFO, "oauth sign-in not granted", "integration=%s session=%s error=%s",
               ops->slug, s->id_text, cb->error);
        send_oauth_problem(req,
                           strcmp(cb->error, "access_denied") == 0 ? LF_PAGE_OAUTH_DECLINED
                                                                   : LF_PAGE_OAUTH_PROVIDER_ERROR,
                           token, s, ops, cb->error);
        return NULL;
    }
    if (!(job = calloc(1, sizeof(*job)))) {
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s->org_name);
        return NULL;
    }
    job->ops = ops;
    if (!(job->client = load_client(req, token, s, ops, true))) {
        free(job);
        return NULL;
    }
    job->pending = *pending;
    memset(pending, 0, sizeof(*pending)); /* moved into the job */
    snprintf(job->code, sizeof(job->code), "%s", cb->code);
    return job;
}

void gw_handle_link_oauth_callback(struct gw_req *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
    struct lf_oauth_callback cb;
    struct lf_oauth_pending pending = {.fields = NULL};
    struct exchange_job *job;
    struct lf_session s;
    enum rs_err err = lf_oauth_callback_parse(uri ? evhttp_uri_get_query(uri) : NULL, &cb);

    if (err == RS_OK && (err = rs_db_ensure(req->db)) == RS_OK)
        err = lf_oauth_pending_take(req->db, req->app->vault, cb.state, &pending, &req->eb);
    if (err == RS_ERR_INVALID || err == RS_ERR_NOTFOUND) {
        /* forged, replayed, expired, or not from this server: nothing is stored */
        rs_log(RS_LOG_INFO, "oauth callback refused", "reason=\"%s\"",
               err == RS_ERR_INVALID ? "malformed callback" : req->eb.msg);
        send_oauth_problem(req, LF_PAGE_OAUTH_BAD_STATE, NULL, NULL, NULL, NULL);
    } else if (err != RS_OK) {
        send_broken(req, "oauth callback failed", err, NULL);
    } else if ((job = callback_job(req, &pending, &cb, &s))) {
        exchange(req, &s, job);
    }
    lf_oauth_pending_cleanup(&pending);
    lf_oauth_callback_cleanup(&cb);
}
