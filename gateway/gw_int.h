/*
 * Declarations shared inside gateway/: the process (app), the per-thread worker, the
 * per-request context, and the handlers the router dispatches to.
 */
#ifndef ROSTER_GW_INT_H
#define ROSTER_GW_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "roster/lf_page.h"
#include "roster/lf_session.h"
#include "roster/lf_token.h"
#include "roster/rs_buf.h"
#include "roster/rs_config.h"
#include "roster/rs_cursor.h"
#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_uuid.h"
#include "roster/rs_vault.h"

#include "gw_cache.h"

/* Process-wide state, read-only once the workers run. */
struct gw_app {
    const struct rs_config *cfg;
    struct rs_vault *vault;
    uint8_t cursor_key[RS_CURSOR_KEY_LEN]; /* signs new cursors (from the current master key) */
    /* from retired master keys: cursors issued before a key rotation still decode */
    uint8_t retired_cursor_keys[RS_VAULT_MAX_KEYS - 1][RS_CURSOR_KEY_LEN];
    size_t nretired_cursor_keys;
    struct gw_cache *cache; /* rendered pages; NULL when page_cache_bytes is 0 */
};

/* One HTTP worker thread: its own event loop, HTTP server and database connection. */
struct gw_worker {
    int index;
    const struct gw_app *app;
    struct event_base *base;
    struct evhttp *http;
    struct rs_db *db;
    pthread_t thread;
    int inflight; /* connections with a request not yet fully answered (entries of busy) */
    struct evhttp_connection **busy;
    int busy_cap;
    atomic_int deferred; /* requests whose work runs on another thread (gw_defer) */
};

/* The linked account an X-Account-Token selected. */
struct gw_account {
    struct rs_uuid id;
    char id_text[RS_UUID_STR_LEN];
    char integration[64];
    int64_t data_version; /* bumped by every change to its data: the page cache's validator */
};

enum gw_auth_level { GW_AUTH_NONE, GW_AUTH_ORG, GW_AUTH_ACCOUNT };

struct gw_route;

/* Everything one request owns; freed when it is answered. */
struct gw_req {
    struct evhttp_request *ev;
    struct gw_worker *worker;
    const struct gw_app *app;
    struct rs_db *db;
    const struct gw_route *route;
    char id[32];            /* request id, echoed as X-Request-Id */
    char path[512];         /* decoded path without the query */
    char captures[512];     /* a copy of path the router cuts into the {id} captures */
    const char *params[2];  /* {id} captures of the route, pointing into captures */
    struct evkeyvalq query; /* parsed query string (repeated keys kept) */
    int64_t start_us;
    struct rs_uuid org; /* set when auth >= GW_AUTH_ORG */
    char org_text[RS_UUID_STR_LEN];
    struct gw_account account; /* set when auth == GW_AUTH_ACCOUNT */
    struct rs_errbuf eb;
    int status;
    bool deferred; /* handed to gw_defer: answered and freed later, on this worker */
};

typedef void (*gw_handler_fn)(struct gw_req *req);

struct gw_route {
    enum evhttp_cmd_type method;
    const char *pattern; /* "/api/hris/v1/employees/{id}"; a trailing "/" is also accepted */
    enum gw_auth_level auth;
    gw_handler_fn handler;
    const char *name; /* metrics label */
    enum rs_model_kind model;
};

/* gw_server.c */
/*
 * Binds cfg->listen, runs cfg->http_workers threads until SIGTERM or SIGINT, then stops
 * accepting, lets in-flight requests finish (up to shutdown_grace_ms) and returns.
 */
enum rs_err gw_server_run(const struct gw_app *app, struct rs_errbuf *eb) RS_MUST_CHECK;

/* gw_seed.c */
/*
 * Writes a deterministic example company of n employees (with departments, cost centers,
 * teams, locations, managers, employments, leavers, non-ASCII names) into linked account
 * `account`, in one transaction, through the same store the sync engine uses.
 */
enum rs_err gw_seed_example(struct rs_db *db, const struct rs_uuid *account, int n, unsigned seed,
                            struct rs_errbuf *eb) RS_MUST_CHECK;

/* gw_router.c */
/* Finds the route for method + path; fills req->params. NULL with *err = NOTFOUND or METHOD. */
const struct gw_route *gw_router_match(struct gw_req *req, enum rs_err *err);
/* Every route (for metrics labels), and their count. */
const struct gw_route *gw_router_routes(size_t *n);

/* gw_req.c */
/* Entry point of every request (the evhttp generic callback). arg is the worker. */
void gw_req_dispatch(struct evhttp_request *ev, void *arg);
/* Sends a JSON body (takes the buffer's storage) with status. */
void gw_reply_json(struct gw_req *req, int status, struct rs_buf *body);
/* Sends a cached body, taking over the caller's reference to entry (released once sent). */
void gw_reply_cached(struct gw_req *req, int status, const struct gw_cache_entry *entry);
/* Sends a literal body with a content type. */
void gw_reply_text(struct gw_req *req, int status, const char *content_type, const char *text,
                   size_t len);
/* The one place errors become HTTP: status from err, JSON body from req->eb (5xx: generic). */
void gw_reply_error(struct gw_req *req, enum rs_err err);
/* Header value or NULL. */
const char *gw_req_header(struct gw_req *req, const char *name);
/* Reads the request body as a JSON object (400 naming the problem otherwise). */
enum rs_err gw_req_json_body(struct gw_req *req, json_t **out) RS_MUST_CHECK;
/* The {id} of the path (its first parameter) as a canonical UUID into id; RS_ERR_INVALID
   (400 naming "id") for anything that is not a UUID. */
enum rs_err gw_req_path_id(struct gw_req *req, char id[RS_UUID_STR_LEN]) RS_MUST_CHECK;
/*
 * The one row that sql ($1 the id, $2 the caller's organization) finds for id: RS_OK with the
 * result in *row (the caller PQclear()s it; row NULL: only the check), 404 "no <what> with this
 * id" when there is none (another organization's counts as none), or the database's error.
 */
enum rs_err gw_req_owned_row(struct gw_req *req, const char *sql, const char *id, const char *what,
                             PGresult **row) RS_MUST_CHECK;

/* Frees a request that was deferred (gw_defer), once it has been answered. */
void gw_req_release(struct gw_req *req);
/* Adds a response header (before the reply is sent). */
void gw_req_add_header(struct gw_req *req, const char *name, const char *value);
/* The request body as bytes (not NUL-terminated), *len its length. */
const char *gw_req_body(struct gw_req *req, size_t *len);

/*
 * gw_defer.c: work that must not block the worker's event loop (a provider request) runs on a
 * thread of its own; `done` then runs back on the request's worker thread, with the request
 * and the worker's database, and must answer it. work gets only arg (no request, no database).
 * RS_OK: the request is deferred (the handler returns without answering); RS_ERR_UNAVAILABLE
 * when too many deferred requests run already (nothing was started; answer the error).
 */
typedef void (*gw_defer_work_fn)(void *arg);
typedef void (*gw_defer_done_fn)(struct gw_req *req, void *arg);
enum rs_err gw_defer(struct gw_req *req, gw_defer_work_fn work, gw_defer_done_fn done,
                     void *arg) RS_MUST_CHECK;
/* At shutdown: lets the worker's deferred requests finish (up to timeout_ms) before its loop
   and connections are freed. */
void gw_defer_drain(struct gw_worker *worker, int64_t timeout_ms);

/* gw_auth.c: who is calling. Fills req->org (and req->account); errors in req->eb. */
enum rs_err gw_auth(struct gw_req *req, enum gw_auth_level level) RS_MUST_CHECK;

/* gw_metrics.c */
void gw_metrics_observe(size_t route_index, int status, int64_t duration_us);
void gw_metrics_render(struct rs_buf *out);
/* A sync's outcome (sync_run.c), with the rows it wrote across models when applied. */
enum gw_sync_outcome { GW_SYNC_DONE, GW_SYNC_PAUSED, GW_SYNC_FAILED, GW_SYNC_OUTCOMES };
void gw_metrics_sync(enum gw_sync_outcome outcome, int64_t duration_us, size_t inserted,
                     size_t updated, size_t deleted);
/* Recorded webhook attempts (wh_settle.c): 2xx, others, dead-lettered, their latency summed. */
void gw_metrics_webhooks(size_t succeeded, size_t failed, size_t dead, int64_t latency_ms);
/* An endpoint rosterd disabled (410, or failing too long). */
void gw_metrics_webhook_disabled(void);

/* gw_health.c */
void gw_handle_healthz(struct gw_req *req);
void gw_handle_readyz(struct gw_req *req);
void gw_handle_metrics(struct gw_req *req);

/*
 * gw_hris.c: the Merge-compatible read API over the normalized model. gw_hris_list and
 * gw_hris_retrieve need only req->db, app, account, query and eb (no socket), so integration
 * tests call them directly; the handlers wrap them into replies.
 */
enum rs_err gw_hris_list(struct gw_req *req, const struct rs_model *model,
                         struct rs_buf *out) RS_MUST_CHECK;
enum rs_err gw_hris_retrieve(struct gw_req *req, const struct rs_model *model, const char *id,
                             struct rs_buf *out) RS_MUST_CHECK;
void gw_handle_list(struct gw_req *req);
void gw_handle_retrieve(struct gw_req *req);
void gw_handle_group_types(struct gw_req *req);

/* gw_query.c: query parameters of the read API, validated (400 naming the parameter). */
#define GW_MAX_SQL_PARAMS 40
struct gw_list_query {
    const struct rs_model *model;
    int page_size;        /* 1..100, default 100 */
    bool include_deleted; /* include_deleted_data */
    bool include_remote_data;
    bool has_cursor;
    struct rs_cursor cursor;
    uint64_t expand;         /* bit i: model->fields[i] is expanded */
    const char *sort_column; /* "modified_at", or "effective_date" (employments order_by) */
    bool sort_desc;
    char cursor_context[96]; /* what cursors of this listing are bound to */
    struct rs_buf where;     /* " AND …" conditions on alias t, placeholders from $2 */
    int nparams;             /* params[0] is the linked account id */
    const char *params[GW_MAX_SQL_PARAMS];
    char *owned[GW_MAX_SQL_PARAMS]; /* strings allocated for params, freed in cleanup */
};
/* Parses a list request's query for model. RS_ERR_INVALID with req->eb naming the parameter. */
enum rs_err gw_query_parse_list(struct gw_req *req, const struct rs_model *model,
                                struct gw_list_query *q) RS_MUST_CHECK;
/* Parses a retrieve request's query (expand, include_remote_data, and ignored Merge flags). */
enum rs_err gw_query_parse_retrieve(struct gw_req *req, const struct rs_model *model,
                                    struct gw_list_query *q) RS_MUST_CHECK;
void gw_query_cleanup(struct gw_list_query *q);
/* Parses page_size (default 100) and cursor for listings that are not models (accounts). */
enum rs_err gw_query_page(struct gw_req *req, const char *context, int *page_size, bool *has_cursor,
                          struct rs_cursor *cursor) RS_MUST_CHECK;

/* gw_render.c: stored rows to Merge's JSON without re-parsing what was stored. */
struct gw_row {
    struct rs_uuid id;
    const char *remote_id;
    int64_t created_us;
    int64_t modified_us;
    const char *normalized; /* the stored JSON object of the model's fields */
    size_t normalized_len;
    bool remote_was_deleted;
    const char *remote_data; /* stored JSON array, or NULL */
    size_t remote_data_len;
};
/* The columns gw_row_from_result expects, in order, for binary results. */
#define GW_ROW_COLUMNS                                                                             \
    "t.id, t.remote_id, t.created_at, t.modified_at, t.normalized, "                               \
    "t.remote_was_deleted, t.remote_data"
/* Reads row i of a binary-format result selected with GW_ROW_COLUMNS. */
void gw_row_from_result(const PGresult *res, int i, struct gw_row *row);
/* Appends the full Merge object; remote_data only when include_remote_data. */
enum rs_err gw_render_row(const struct gw_row *row, bool include_remote_data,
                          struct rs_buf *out) RS_MUST_CHECK;
/* The same as a new JSON object (for expansion). NULL on allocation or parse failure. */
json_t *gw_render_row_json(const struct gw_row *row, bool include_remote_data);
/* Appends `"key":"<ISO time>"` style values. */
enum rs_err gw_render_time(int64_t us, struct rs_buf *out) RS_MUST_CHECK;

/* gw_accounts.c: linked accounts as Merge shows them. */
void gw_handle_account_details(struct gw_req *req);
void gw_handle_linked_accounts(struct gw_req *req);
/* The columns gw_render_account reads, in order (text format, alias la). */
#define GW_ACCOUNT_COLUMNS                                                                         \
    "la.id, la.integration, la.category, la.end_user_origin_id, la.end_user_organization_name, "   \
    "la.end_user_email_address, la.status, la.base_url, "                                          \
    "to_char(la.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                \
    "to_char(la.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "              \
    "(extract(epoch from la.created_at) * 1000000)::int8, la.status_detail, "                      \
    "COALESCE(la.status_detail, (SELECT CASE WHEN s.status = 'FAILED' THEN s.reason END "          \
    "FROM syncs s WHERE s.linked_account_id = la.id AND s.status IN ('DONE', 'FAILED') "           \
    "ORDER BY s.queued_at DESC LIMIT 1)), "                                                        \
    "to_char(la.deactivated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
enum gw_account_view {
    GW_ACCOUNT_LINKED,  /* an item of GET /api/hris/v1/linked-accounts */
    GW_ACCOUNT_DETAILS, /* GET /api/hris/v1/account-details */
    GW_ACCOUNT_ADMIN,   /* the admin API: Merge's item plus base_url, created_at, last_error
                           and deactivated_at */
};
/* Appends row i of a GW_ACCOUNT_COLUMNS result as the JSON of view. */
enum rs_err gw_render_account(const PGresult *res, int i, enum gw_account_view view,
                              struct rs_buf *out) RS_MUST_CHECK;
/* The Merge-style listing of accounts of req->org, filtered by the query (shared with admin). */
void gw_list_accounts(struct gw_req *req, enum gw_account_view view);

/* gw_sync.c: /sync-status and /sync-status/resync; the admin API over syncs. */
void gw_handle_sync_status(struct gw_req *req);
void gw_handle_sync_resync(struct gw_req *req);
void gw_handle_admin_sync_settings_get(struct gw_req *req);
void gw_handle_admin_sync_settings_patch(struct gw_req *req);
void gw_handle_admin_syncs_list(struct gw_req *req);
void gw_handle_admin_syncs_create(struct gw_req *req);
void gw_handle_admin_sync_approve(struct gw_req *req);
void gw_handle_admin_sync_discard(struct gw_req *req);

/* gw_admin.c: the admin API (Bearer API key) over linked accounts. */
void gw_handle_admin_account_create(struct gw_req *req);
void gw_handle_admin_account_list(struct gw_req *req);
void gw_handle_admin_account_get(struct gw_req *req);
void gw_handle_admin_account_delete(struct gw_req *req);
/*
 * Deletes account id of req's organization, with LinkedAccount.deleted, in one transaction.
 * RS_ERR_NOTFOUND (in req->eb) when the organization has no such account.
 */
enum rs_err gw_account_delete(struct gw_req *req, const char *id) RS_MUST_CHECK;
void gw_handle_admin_account_test(struct gw_req *req);
void gw_handle_admin_account_deactivate(struct gw_req *req);
void gw_handle_admin_account_activate(struct gw_req *req);

/* gw_link.c: Merge's link API. */
void gw_handle_link_token(struct gw_req *req);
void gw_handle_account_token(struct gw_req *req);
void gw_handle_account_token_regenerate(struct gw_req *req);
void gw_handle_delete_account(struct gw_req *req);
/* A required text member of body (1..LF_TEXT_MAX bytes); 400 naming it otherwise. */
enum rs_err gw_link_text(struct gw_req *req, const json_t *body, const char *name,
                         const char **out) RS_MUST_CHECK;
/* Appends ROSTER_PUBLIC_URL (or http://<Host the caller used>) followed by path. */
enum rs_err gw_link_public_url(struct gw_req *req, const char *path,
                               struct rs_buf *out) RS_MUST_CHECK;
struct prov_ops;
/* Appends Merge's LinkToken object: {"link_token", "integration_name", "magic_link_url"}. */
enum rs_err gw_link_token_json(struct gw_req *req, const char *token, const struct prov_ops *ops,
                               bool magic, struct rs_buf *out) RS_MUST_CHECK;

/* gw_connect.c: the hosted connect pages under /link/ (no API key: the token is the session). */
void gw_handle_link_asset(struct gw_req *req);
void gw_handle_link_page(struct gw_req *req);
void gw_handle_link_form(struct gw_req *req);
void gw_handle_link_submit(struct gw_req *req);

/* What the API-key form and the OAuth sign-in (gw_connect_oauth.c) share. */
#define GW_CONNECT_PAGE_MAX (512 * 1024) /* bytes of one rendered page */
/*
 * Sends html as the page named `page` (X-Roster-Page) with the pages' security headers;
 * form_action (a CSP source, or NULL) is allowed in the Content-Security-Policy's form-action
 * besides 'self', for a form answered with a redirect elsewhere.
 */
void gw_connect_send_page(struct gw_req *req, int status, const char *page,
                          const struct rs_buf *html, const char *form_action);
/* Sends the page of problem (lf_page_problem); org_name (NULL: unknown) says whom to ask. */
void gw_connect_send_problem(struct gw_req *req, enum lf_page_problem problem,
                             const char *org_name);
/*
 * The session of link token `token` (lock: FOR UPDATE, in the caller's transaction) when it is
 * usable; otherwise the page saying why (unknown, expired, used, revoked) was sent: false.
 */
bool gw_connect_session(struct gw_req *req, const char *token, bool lock, struct lf_session *s);
/* The pages' context for session s of token; form_token receives its form token. */
void gw_connect_ctx(const struct gw_req *req, const char *token, const struct lf_session *s,
                    char form_token[LF_FORM_TOKEN_LEN], struct lf_page_ctx *ctx);
/*
 * The provider of slug that session s may connect in one of the ways of the bit set `ways`
 * (LF_CONNECT_FORM, LF_CONNECT_OAUTH): only the preselected one when the link names one. NULL
 * when there is none such.
 */
const struct prov_ops *gw_connect_provider(const struct lf_session *s, const char *slug,
                                           unsigned ways);
/*
 * One transaction: session s of token locked and still usable, the account of (organization,
 * end user, integration) stored with credentials sealed — created, or relinked keeping its id
 * (and so every synced id) —, oauth_token (NULL for an API-key connection) sealed as its
 * token, its first full sync queued, the session completed with a new public_token. The one
 * way both the form and the OAuth sign-in complete. RS_ERR_CONFLICT when the session stopped
 * being usable meanwhile (its page was then sent); other errors: nothing was sent.
 */
enum rs_err gw_connect_complete(struct gw_req *req, const char *token, const struct prov_ops *ops,
                                const json_t *credentials, const json_t *oauth_token,
                                struct lf_session *s,
                                char public_token[RS_TOKEN_MAX_LEN]) RS_MUST_CHECK;
/* The "connected" page: public_token to the opener by postMessage and/or the return URL. */
void gw_connect_send_success(struct gw_req *req, const char *token, const struct lf_session *s,
                             const struct prov_ops *ops, const char *public_token);

/*
 * gw_connect_oauth.c: OAuth sign-in from the hosted pages. gw_connect_oauth_page sends the
 * page that starts it for ops (or the page saying the organization has not set ops up).
 */
void gw_connect_oauth_page(struct gw_req *req, const struct lf_session *s,
                           const struct prov_ops *ops);
void gw_handle_link_oauth_page(struct gw_req *req);
void gw_handle_link_oauth_start(struct gw_req *req);
void gw_handle_link_oauth_callback(struct gw_req *req);

/* gw_linkadmin.c: the admin API over link sessions and the organization's link settings. */
void gw_handle_admin_links_list(struct gw_req *req);
void gw_handle_admin_link_get(struct gw_req *req);
void gw_handle_admin_link_revoke(struct gw_req *req);
void gw_handle_admin_link_reissue(struct gw_req *req);
void gw_handle_admin_link_settings_get(struct gw_req *req);
void gw_handle_admin_link_settings_patch(struct gw_req *req);

/*
 * gw_oauth.c: the admin API over the organization's OAuth clients, per integration. The
 * gw_oauth_client_* functions need only req->db, app, org_text and eb (no socket), so
 * integration tests call them with an adapter of their own; the handlers find the path's
 * integration (404 unknown, 400 without OAuth) and reply.
 */
struct prov_ops;
/* Creates or replaces from body (400 naming the member); renders the client (no secret). */
enum rs_err gw_oauth_client_put(struct gw_req *req, const struct prov_ops *ops, const json_t *body,
                                struct rs_buf *out, bool *created) RS_MUST_CHECK;
/* Renders the organization's client of ops; RS_ERR_NOTFOUND when none. */
enum rs_err gw_oauth_client_get(struct gw_req *req, const struct prov_ops *ops,
                                struct rs_buf *out) RS_MUST_CHECK;
/* Deletes it; RS_ERR_NOTFOUND when none. */
enum rs_err gw_oauth_client_delete(struct gw_req *req, const struct prov_ops *ops) RS_MUST_CHECK;
void gw_handle_admin_oauth_client_put(struct gw_req *req);
void gw_handle_admin_oauth_client_get(struct gw_req *req);
void gw_handle_admin_oauth_client_delete(struct gw_req *req);

#endif
