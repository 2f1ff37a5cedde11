/*
 * The hosted connect pages over HTTP (/link/…, no API key: the link token in the path is the
 * session): picker, credential form, the live test before anything is saved (deferred to a
 * thread, gw_defer), and on success the linked account stored, its first sync queued and a
 * public token handed to the app — the completion the OAuth sign-in (gw_connect_oauth.c)
 * shares.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/lf_check.h"
#include "roster/lf_form.h"
#include "roster/lf_oauth.h"
#include "roster/lf_page.h"
#include "roster/lf_session.h"
#include "roster/lf_token.h"
#include "roster/rs_log.h"
#include "roster/rs_outbox.h"
#include "roster/rs_sealed.h"
#include "sync_int.h"

#define PAGE_MAX GW_CONNECT_PAGE_MAX

/*
 * Pages a person reads are 200 even when they say "expired" or "wrong key" (a browser logs any
 * 4xx document as a console error); X-Roster-Page names the page for tools and tests.
 */
void gw_connect_send_page(struct gw_req *req, int status, const char *page,
                          const struct rs_buf *html, const char *form_action)
{
    char csp[512];

    if (form_action && lf_page_csp(form_action, csp, sizeof(csp)) != RS_OK) {
        rs_log(RS_LOG_WARN, "unusable form-action source", "page=%s", page);
        form_action = NULL;
    }
    gw_req_add_header(req, "X-Roster-Page", page);
    for (size_t i = 0; lf_page_headers[i][0]; i++) {
        bool policy = form_action && strcmp(lf_page_headers[i][0], "Content-Security-Policy") == 0;

        gw_req_add_header(req, lf_page_headers[i][0], policy ? csp : lf_page_headers[i][1]);
    }
    gw_reply_text(req, status, "text/html; charset=utf-8", html->data ? html->data : "", html->len);
}

static void send_page(struct gw_req *req, int status, const char *page, const struct rs_buf *html)
{
    gw_connect_send_page(req, status, page, html, NULL);
}

void gw_connect_send_problem(struct gw_req *req, enum lf_page_problem problem, const char *org_name)
{
    struct rs_buf html;
    int status = 500;

    rs_buf_init(&html, PAGE_MAX);
    if (lf_page_problem(problem, org_name, &status, &html) == RS_OK)
        send_page(req, status, lf_page_problem_name(problem), &html);
    else
        gw_reply_error(req, RS_ERR_NOMEM);
    rs_buf_cleanup(&html);
}

void gw_handle_link_asset(struct gw_req *req)
{
    const char *data, *type;
    size_t len;

    if (!lf_page_asset(req->params[0], &data, &len, &type)) {
        gw_reply_error(req, rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no such file"));
        return;
    }
    for (size_t i = 0; lf_page_headers[i][0]; i++)
        gw_req_add_header(req, lf_page_headers[i][0], lf_page_headers[i][1]);
    gw_reply_text(req, 200, type, data, len);
}

bool gw_connect_session(struct gw_req *req, const char *token, bool lock, struct lf_session *s)
{
    enum rs_err err = rs_db_ensure(req->db);

    if (err == RS_OK)
        err = lf_session_by_token(req->db, token, lock, s, &req->eb);
    if (err == RS_ERR_NOTFOUND) {
        gw_connect_send_problem(req, LF_PAGE_UNKNOWN, NULL);
        return false;
    }
    if (err != RS_OK) {
        rs_log(RS_LOG_ERROR, "link page failed", "error=%s detail=\"%s\"", rs_err_name(err),
               req->eb.msg);
        gw_connect_send_problem(req, LF_PAGE_BROKEN, NULL);
        return false;
    }
    switch (s->state) {
    case LF_LINK_ACTIVE:
        return true;
    case LF_LINK_COMPLETED:
        gw_connect_send_problem(req, LF_PAGE_USED, s->org_name);
        return false;
    case LF_LINK_EXPIRED:
        gw_connect_send_problem(req, LF_PAGE_EXPIRED, s->org_name);
        return false;
    case LF_LINK_REVOKED:
        gw_connect_send_problem(req, LF_PAGE_REVOKED, s->org_name);
        return false;
    }
    return false;
}

/* The session of the path's token, usable; otherwise the page saying why was sent. */
static bool load_session(struct gw_req *req, bool lock, struct lf_session *s)
{
    return gw_connect_session(req, req->params[0], lock, s);
}

void gw_connect_ctx(const struct gw_req *req, const char *token, const struct lf_session *s,
                    char form_token[LF_FORM_TOKEN_LEN], struct lf_page_ctx *ctx)
{
    lf_token_form(req->app->vault, &s->id, form_token);
    *ctx = (struct lf_page_ctx){.token = token,
                                .org_name = s->org_name,
                                .end_user_org_name = s->end_user_org_name,
                                .form_token = form_token,
                                .preselected = s->integration[0] != '\0'};
}

const struct prov_ops *gw_connect_provider(const struct lf_session *s, const char *slug,
                                           unsigned ways)
{
    const struct prov_ops *ops = prov_find(slug);

    if (!ops || !(lf_page_connect_ways(ops) & ways))
        return NULL;
    if (s->integration[0] && strcmp(s->integration, ops->slug) != 0)
        return NULL;
    return ops;
}

static void send_form(struct gw_req *req, const struct lf_session *s, const struct prov_ops *ops,
                      int status, const char *page, const json_t *values, const char *error,
                      int bad_field, const char *field_error)
{
    char form_token[LF_FORM_TOKEN_LEN];
    struct lf_page_ctx ctx;
    struct rs_buf html;

    gw_connect_ctx(req, req->params[0], s, form_token, &ctx);
    rs_buf_init(&html, PAGE_MAX);
    if (lf_page_form(&ctx, ops, values, error, bad_field, field_error, &html) == RS_OK)
        send_page(req, status, page, &html);
    else
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s->org_name);
    rs_buf_cleanup(&html);
}

/* A provider's page: its API-key form, or the OAuth sign-in when that is its only way. */
static void provider_page(struct gw_req *req, const struct lf_session *s, const char *slug)
{
    const struct prov_ops *ops = gw_connect_provider(s, slug, LF_CONNECT_FORM | LF_CONNECT_OAUTH);

    if (!ops)
        gw_connect_send_problem(req, LF_PAGE_NO_PROVIDER, s->org_name);
    else if (lf_page_connect_kind(ops) == LF_CONNECT_FORM)
        send_form(req, s, ops, 200, "form", NULL, NULL, -1, NULL);
    else
        gw_connect_oauth_page(req, s, ops);
}

void gw_handle_link_page(struct gw_req *req)
{
    char form_token[LF_FORM_TOKEN_LEN];
    struct lf_page_ctx ctx;
    struct lf_session s;
    struct rs_buf html;

    if (!load_session(req, false, &s))
        return;
    if (s.integration[0]) {
        provider_page(req, &s, s.integration);
        return;
    }
    gw_connect_ctx(req, req->params[0], &s, form_token, &ctx);
    rs_buf_init(&html, PAGE_MAX);
    if (lf_page_picker(&ctx, evhttp_find_header(&req->query, "q"), &html) == RS_OK)
        send_page(req, 200, "picker", &html);
    else
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s.org_name);
    rs_buf_cleanup(&html);
}

void gw_handle_link_form(struct gw_req *req)
{
    struct lf_session s;

    if (load_session(req, false, &s))
        provider_page(req, &s, req->params[1]);
}

/* ---- completing a connection ---- */

#define SQL_FIND_ACCOUNT                                                                           \
    "SELECT id FROM linked_accounts WHERE organization_id = $1::uuid AND end_user_origin_id = $2 " \
    "AND integration = $3 FOR UPDATE"
/* a relink keeps the id (so every synced id stays) and replaces what the old link held */
#define SQL_RELINK                                                                                 \
    "UPDATE linked_accounts SET credentials = $2::bytea, base_url = $3, status = 'COMPLETE', "     \
    "status_detail = NULL, deactivated_at = NULL, access_token = NULL, completed_at = now(), "     \
    "end_user_organization_name = $4, end_user_email_address = $5, next_sync_at = now(), "         \
    "modified_at = now() WHERE id = $1::uuid"
#define SQL_NEW_ACCOUNT                                                                            \
    "INSERT INTO linked_accounts (id, organization_id, integration, end_user_origin_id, "          \
    "end_user_organization_name, end_user_email_address, status, credentials, base_url, "          \
    "completed_at) VALUES ($1::uuid, $6::uuid, $7, $8, $4, $5, 'COMPLETE', $2::bytea, $3, now())"

static enum rs_err exec(struct gw_req *req, const char *sql, int n, const char *const *params)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, n, params, false, true, &err);

    PQclear(res);
    return err;
}

/* Stores the account of session s (new, or the one it relinks) with sealed credentials. */
static enum rs_err store_account(struct gw_req *req, const struct lf_session *s,
                                 const struct prov_ops *ops, const json_t *credentials,
                                 char account[RS_UUID_STR_LEN], bool *relinked)
{
    const char *find[3] = {s->org_text, s->origin_id, ops->slug};
    char *sealed = NULL;
    struct rs_uuid uuid;
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, SQL_FIND_ACCOUNT, 3, find, false, true, &err);

    if (!res)
        return err;
    *relinked = PQntuples(res) == 1;
    if (*relinked) {
        snprintf(account, RS_UUID_STR_LEN, "%s", PQgetvalue(res, 0, 0));
    } else {
        rs_uuid_v4(&uuid);
        rs_uuid_format(&uuid, account);
    }
    PQclear(res);
    if ((err = rs_sealed_seal_json(req->app->vault, RS_SEALED_CREDENTIALS, account, NULL,
                                   credentials, &sealed)) != RS_OK)
        return err;
    const char *params[8] = {account,
                             sealed,
                             s->base_url[0] ? s->base_url : NULL,
                             s->end_user_org_name,
                             s->email,
                             s->org_text,
                             ops->slug,
                             s->origin_id};
    err = exec(req, *relinked ? SQL_RELINK : SQL_NEW_ACCOUNT, *relinked ? 5 : 8, params);
    free(sealed);
    return err;
}

enum rs_err gw_connect_complete(struct gw_req *req, const char *token, const struct prov_ops *ops,
                                const json_t *credentials, const json_t *oauth_token,
                                struct lf_session *s, char public_token[RS_TOKEN_MAX_LEN])
{
    char account[RS_UUID_STR_LEN];
    bool relinked = false, queued = false;
    enum rs_err err = rs_db_command(req->db, "BEGIN");

    if (err != RS_OK)
        return err;
    if (!gw_connect_session(req, token, true, s)) {
        err = RS_ERR_CONFLICT;
        goto out;
    }
    err = store_account(req, s, ops, credentials, account, &relinked);
    /* an OAuth connection's token: sealed like every token the sync engine refreshes later */
    if (err == RS_OK && oauth_token)
        err = lf_oauth_token_save(req->db, req->app->vault, account, oauth_token, &req->eb);
    if (err == RS_OK)
        err = sync_queue_add(req->db, account, "FULL", "INITIAL", &queued, &req->eb);
    if (err == RS_OK)
        err = rs_outbox_linked(req->db, account, relinked, &req->eb);
    if (err == RS_OK)
        err = lf_session_complete(req->db, s->id_text, account, public_token, &req->eb);
    if (err == RS_OK)
        err = rs_db_command(req->db, "COMMIT");
out:
    if (err != RS_OK && rs_db_command(req->db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "linked account connected",
               "account=%s integration=%s org=%s session=%s relink=%d by=%s", account, ops->slug,
               s->org_text, s->id_text, relinked, oauth_token ? "oauth" : "credentials");
    return err;
}

/* The organization's return URL with public_token appended, into out ("" when none). */
static enum rs_err return_url(const struct lf_session *s, const char *public_token,
                              struct rs_buf *out)
{
    if (!s->return_url[0])
        return RS_OK;
    return rs_buf_appendf(out, "%s%spublic_token=%s", s->return_url,
                          strchr(s->return_url, '?') ? "&" : "?", public_token);
}

void gw_connect_send_success(struct gw_req *req, const char *token, const struct lf_session *s,
                             const struct prov_ops *ops, const char *public_token)
{
    char form_token[LF_FORM_TOKEN_LEN];
    struct lf_page_ctx ctx;
    struct rs_buf html, next;
    const char *opener = s->opener_origin[0] ? s->opener_origin : NULL;
    enum rs_err err;

    gw_connect_ctx(req, token, s, form_token, &ctx);
    rs_buf_init(&html, PAGE_MAX);
    rs_buf_init(&next, 8192);
    err = return_url(s, public_token, &next);
    if (err == RS_OK)
        err = lf_page_success(&ctx, ops, public_token, opener, next.data, &html);
    if (err == RS_OK)
        send_page(req, 200, "connected", &html);
    else
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s->org_name);
    rs_buf_cleanup(&html);
    rs_buf_cleanup(&next);
}

/* A form post waiting for its test connection. */
struct connect_job {
    const struct prov_ops *ops;
    json_t *credentials; /* owned, wiped when freed */
    char base_url[LF_URL_MAX + 1];
    struct lf_check_options opts;
    struct lf_check_outcome outcome;
    enum rs_err err;
};

static void connect_job_free(struct connect_job *job)
{
    struct lf_form_input wipe = {.credentials = job->credentials};

    lf_form_input_cleanup(&wipe);
    sodium_memzero(job, sizeof(*job));
    free(job);
}

static void connect_work(void *arg)
{
    struct connect_job *job = arg;

    job->err = lf_check_run(job->ops, job->credentials, job->base_url[0] ? job->base_url : NULL,
                            &job->opts, &job->outcome);
}

static void connect_done(struct gw_req *req, void *arg)
{
    struct connect_job *job = arg;
    char public_token[RS_TOKEN_MAX_LEN] = "";
    json_t *values = lf_form_public_values(job->ops, job->credentials);
    struct lf_session s;
    enum rs_err err = job->err;

    if (err != RS_OK) {
        gw_connect_send_problem(req, LF_PAGE_BROKEN, NULL);
    } else if (job->outcome.result != LF_CHECK_OK) {
        rs_log(RS_LOG_INFO, "connect test failed", "integration=%s result=%s status=%ld",
               job->ops->slug, lf_check_result_name(job->outcome.result), job->outcome.http_status);
        gw_req_add_header(req, "X-Roster-Check-Result", lf_check_result_name(job->outcome.result));
        if (load_session(req, false, &s))
            send_form(req, &s, job->ops, 200, "form-test-failed", values, job->outcome.sentence, -1,
                      NULL);
    } else if ((err = gw_connect_complete(req, req->params[0], job->ops, job->credentials, NULL, &s,
                                          public_token)) == RS_OK) {
        gw_connect_send_success(req, req->params[0], &s, job->ops, public_token);
    } else if (err != RS_ERR_CONFLICT) {
        rs_log(RS_LOG_ERROR, "connect failed", "error=%s detail=\"%s\"", rs_err_name(err),
               req->eb.msg);
        gw_connect_send_problem(req, LF_PAGE_BROKEN, NULL);
    }
    sodium_memzero(public_token, sizeof(public_token));
    json_decref(values);
    connect_job_free(job);
}

/* Checks the posted form; on success *job holds what the test needs. */
static bool read_post(struct gw_req *req, const struct lf_session *s, const struct prov_ops *ops,
                      struct connect_job **job)
{
    struct lf_form_input in;
    size_t len;
    const char *body = gw_req_body(req, &len);
    enum rs_err err = lf_form_read(ops, body, len, &in);
    json_t *values = lf_form_public_values(ops, in.credentials);
    bool ok = false;

    if (err != RS_ERR_NOMEM && !lf_token_form_check(req->app->vault, &s->id, in.form_token))
        send_form(req, s, ops, 200, "form-expired", values,
                  "This form has expired or did not come from this page. Enter the details "
                  "again.",
                  -1, NULL);
    else if (err == RS_ERR_INVALID)
        send_form(req, s, ops, 200, "form-invalid", values,
                  in.bad_field >= 0 ? "Check the highlighted field." : in.error, in.bad_field,
                  in.error);
    else if (err != RS_OK || !(*job = calloc(1, sizeof(**job))))
        gw_connect_send_problem(req, LF_PAGE_BROKEN, s->org_name);
    else
        ok = true;
    if (ok) {
        (*job)->ops = ops;
        (*job)->credentials = in.credentials;
        in.credentials = NULL; /* moved into the job */
    }
    json_decref(values);
    lf_form_input_cleanup(&in);
    return ok;
}

void gw_handle_link_submit(struct gw_req *req)
{
    struct connect_job *job = NULL;
    struct lf_session s;
    const struct prov_ops *ops;
    enum rs_err err;

    if (!load_session(req, false, &s))
        return;
    if (!(ops = gw_connect_provider(&s, req->params[1], LF_CONNECT_FORM))) {
        gw_connect_send_problem(req, LF_PAGE_NO_PROVIDER, s.org_name);
        return;
    }
    if (!read_post(req, &s, ops, &job))
        return;
    snprintf(job->base_url, sizeof(job->base_url), "%s", s.base_url);
    job->opts.allow_private = req->app->cfg->allow_private_upstreams;
    job->opts.timeout_ms =
        req->app->cfg->upstream_timeout_ms < 10000 ? req->app->cfg->upstream_timeout_ms : 10000;
    if ((err = gw_defer(req, connect_work, connect_done, job)) != RS_OK) {
        connect_job_free(job);
        send_form(req, &s, ops, 503, "form-busy", NULL,
                  "Roster is busy testing other connections. Wait a moment, then try again.", -1,
                  NULL);
    }
}
