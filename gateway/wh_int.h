/*
 * Webhooks, shared inside gateway/: input checks of the endpoints API (wh_check.c), the retry
 * schedule (wh_retry.c), the endpoints API (wh_api.c), the delivery log and replay
 * (wh_log.c), rendering a message's body (wh_render.c), the events the gateway writes
 * (wh_events.c), the sending of deliveries over libcurl multi (wh_send.c), recording their
 * outcomes (wh_settle.c) and the dispatcher threads (wh_dispatch.c). The
 * outbox's write side is core/rs_outbox.c. See docs/design/webhooks.md.
 */
#ifndef ROSTER_WH_INT_H
#define ROSTER_WH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "gw_int.h"
#include "roster/rs_buf.h"
#include "roster/rs_err.h"
#include "roster/rs_sign.h"

/* ---- wh_check.c: what the endpoints API accepts (pure; unit-tested) ---- */

/* Longest endpoint URL. */
#define WH_URL_MAX 2048

/*
 * An endpoint's url member: a string, an absolute http(s) URL of at most WH_URL_MAX bytes whose
 * host is not private or loopback unless allow_private (rs_url_check_upstream). *out borrows
 * the value. RS_ERR_INVALID with eb naming "url".
 */
enum rs_err wh_check_url(const json_t *value, bool allow_private, const char **out,
                         struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * An endpoint's events member: absent or null means every type (*literal_out NULL); otherwise
 * a non-empty array of known event type names (duplicates dropped), turned into a PostgreSQL
 * text[] literal "{A,B}" (*literal_out, malloc'd). RS_ERR_INVALID with eb naming "events" and
 * the offending value.
 */
enum rs_err wh_check_events(const json_t *value, char **literal_out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * The members of body that are not in allowed (NULL-terminated): RS_ERR_INVALID naming the
 * first one, so a misspelt member is not silently ignored.
 */
enum rs_err wh_check_members(const json_t *body, const char *const *allowed,
                             struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---- wh_retry.c: when to try again (pure; unit-tested) ---- */

#define WH_RETRY_MAX      20
#define WH_JITTER_PERCENT 10 /* each delay is drawn within +-10% of the schedule's */
#define WH_RETRY_AFTER_MAX_MS                                                                      \
    INT64_C(86400000) /* a Retry-After longer than a day is read as a day */

struct wh_schedule {
    int64_t delay_ms[WH_RETRY_MAX]; /* before retry 1, 2, … */
    int n;
};

/* Parses "5000,300000,…" (webhook_retry_schedule_ms). RS_ERR_INVALID on anything else. */
enum rs_err wh_schedule_parse(const char *text, struct wh_schedule *out) RS_MUST_CHECK;

/*
 * The delay before the next attempt of a message that has now failed `failures` times in a
 * row (1 after its first failure), jittered with random (uniform over uint32): within
 * WH_JITTER_PERCENT of the schedule's delay. False when the schedule is used up: the message
 * is dead.
 */
bool wh_retry_delay_ms(const struct wh_schedule *s, int failures, uint32_t random,
                       int64_t *delay_ms);

/* A scheduled delay stretched to what a 429/503's Retry-After asked for (0: none), capped. */
int64_t wh_retry_honour(int64_t scheduled_ms, int64_t retry_after_ms);

/* ---- wh_api.c / wh_log.c: the admin API (handlers for gw_router.c) ---- */

void wh_handle_endpoint_create(struct gw_req *req);
void wh_handle_endpoint_list(struct gw_req *req);
void wh_handle_endpoint_get(struct gw_req *req);
void wh_handle_endpoint_patch(struct gw_req *req);
void wh_handle_endpoint_delete(struct gw_req *req);
void wh_handle_endpoint_rotate(struct gw_req *req);
void wh_handle_deliveries(struct gw_req *req);
void wh_handle_message_get(struct gw_req *req);
void wh_handle_message_attempts(struct gw_req *req);
void wh_handle_message_replay(struct gw_req *req);
void wh_handle_endpoint_replay(struct gw_req *req);

/* The endpoint of the path ({id} 0) of the caller's organization, as UUID text; 404 otherwise;
 *enabled (may be NULL) tells whether it is enabled. */
enum rs_err wh_path_endpoint(struct gw_req *req, char id[RS_UUID_STR_LEN],
                             bool *enabled) RS_MUST_CHECK;

/* A disabled endpoint's messages ($1) wait, parked, until it is enabled again. */
#define WH_SQL_PARK                                                                                \
    "UPDATE webhook_queue SET next_attempt_at = 'infinity', lease_id = NULL, lease_until = NULL "  \
    "WHERE endpoint_id = $1::uuid AND status = 'PENDING'"

/* ---- wh_render.c: a message's body ---- */

/* The columns of a message (alias m) wh_render_body reads, by name. */
#define WH_MESSAGE_COLUMNS                                                                         \
    "m.endpoint_id AS wh_endpoint, m.id AS wh_id, m.event_type AS wh_event, "                      \
    "m.linked_account_id AS wh_account, m.grp AS wh_grp, m.data AS wh_data, "                      \
    "m.record_id AS wh_record, "                                                                   \
    "m.remote_id AS wh_remote_id, (extract(epoch FROM m.record_created_at) * 1000000)::int8 AS "   \
    "wh_created_us, (extract(epoch FROM m.record_modified_at) * 1000000)::int8 AS "                \
    "wh_modified_us, m.normalized AS wh_normalized, m.remote_was_deleted AS wh_deleted"

/*
 * Appends Merge's envelope {"hook":{"id","event","target"},"linked_account":…,"data":…} of row
 * i (text results holding WH_MESSAGE_COLUMNS) for endpoint url target; linked_account is the
 * account's JSON (NULL: null). A model event's data is the record exactly as the read API
 * renders it (gw_render_row, without remote_data).
 */
enum rs_err wh_render_body(const PGresult *res, int i, const char *target,
                           const char *linked_account, struct rs_buf *out) RS_MUST_CHECK;

/*
 * The linked_account objects of the accounts of rows [0, n) of res (column wh_account): one
 * query for those that exist (account-details view) and one for deleted ones (their
 * snapshot). Returns a JSON object keyed by account id whose values are the JSON texts (new
 * reference), or NULL on failure (eb).
 */
json_t *wh_render_accounts(struct rs_db *db, const PGresult *res, struct rs_errbuf *eb);

/* ---- wh_events.c: events the gateway writes (core/rs_outbox.c writes them) ---- */

/*
 * LinkedAccount.deleted for account (UUID text), inside the transaction that deletes it and
 * before the row goes: data is the account as account-details renders it, which is also kept
 * (webhook_deleted_accounts) as the linked_account of the envelopes of its pending events.
 * Nothing is written when no endpoint wants the event and none has a pending message for it.
 */
enum rs_err wh_event_account_deleted(struct rs_db *db, const char *account,
                                     struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * LinkedAccount.sync_completed of a sync applied in the caller's transaction: data is
 * {is_initial_sync, integration_name, integration_id, sync_status: {"hris.<Model>":
 * {last_sync_finished, last_sync_result: "DONE", data_fresh_as_of, sync_status_reason}}}, with
 * data_fresh_as_of the sync's start (started_us, wall clock).
 */
enum rs_err wh_event_sync_completed(struct rs_db *db, const char *account,
                                    const char *integration_name, const char *integration_slug,
                                    bool initial, int64_t started_us,
                                    struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---- wh_send.c: deliveries over libcurl multi (keep-alive connections, signed) ---- */

/* Bytes of an answer's body kept for the log. */
#define WH_SNIPPET_MAX 256

/* An endpoint as one dispatcher delivers to it (refreshed at every claim that names it). */
struct wh_target {
    char id[RS_UUID_STR_LEN];
    char *url;
    struct rs_sign_key key;
    struct rs_sign_key previous; /* len 0: none (no rotation in its grace period) */
    int running, queued;
    struct wh_delivery *head, *tail; /* claimed, waiting for a free slot (FIFO) */
    bool disabled;                   /* disabled meanwhile: what waits is given back */
};

/* One claimed message: one attempt to deliver it. */
struct wh_delivery {
    struct wh_target *target;
    char id[RS_UUID_STR_LEN];      /* webhook-id */
    char account[RS_UUID_STR_LEN]; /* "" for organization events */
    char lease[RS_UUID_STR_LEN];   /* the claim it belongs to */
    char grp[24];
    int attempt;  /* this attempt's number (1 for the first) */
    int failures; /* failed attempts of its schedule before this one */
    char *body;
    size_t body_len;
    int64_t start_by_us; /* monotonic: not started by then, it is given back (its lease) */
    bool started;
    /* the attempt */
    void *easy;
    struct curl_slist *headers;
    int64_t started_us;   /* monotonic */
    int64_t attempted_us; /* wall clock */
    long status;          /* HTTP status; 0 when none */
    int code;             /* CURLcode */
    int64_t latency_ms;
    bool refused; /* the endpoint's address is not allowed */
    char response[WH_SNIPPET_MAX + 1];
    size_t response_len;
    char retry_after[64];
    struct wh_delivery *next;                /* in a queue or list of the dispatcher */
    struct wh_delivery *run_prev, *run_next; /* the sender's transfers in flight */
};
void wh_delivery_free(struct wh_delivery *d);

struct wh_sender;
/* A libcurl multi handle keeping up to max_connections connections alive. RS_ERR_NOMEM. */
enum rs_err wh_sender_new(int64_t timeout_ms, bool allow_private, long max_connections,
                          struct wh_sender **out) RS_MUST_CHECK;
void wh_sender_free(struct wh_sender *s);
/* Signs d (its timestamp is now) and starts sending it. RS_ERR_NOMEM or RS_ERR_INTERNAL. */
enum rs_err wh_sender_start(struct wh_sender *s, struct wh_delivery *d) RS_MUST_CHECK;
typedef void (*wh_done_fn)(void *arg, struct wh_delivery *d);
/*
 * Moves transfers on, hands each finished delivery to done, and waits up to timeout_ms for
 * network activity or for the watched socket to become readable (*extra_ready).
 */
void wh_sender_run(struct wh_sender *s, int timeout_ms, bool *extra_ready, wh_done_fn done,
                   void *arg);
/*
 * Watches fd (the caller's database socket; -1: none) besides the transfers, in place of the
 * one watched before; called again for a new connection even if its number is the same.
 */
void wh_sender_watch(struct wh_sender *s, int fd);
/* Stops every transfer in flight (shutdown) and hands each delivery to fn, unanswered. */
void wh_sender_abort(struct wh_sender *s, wh_done_fn fn, void *arg);
/* Makes a wh_sender_run waiting in another thread return at once. */
void wh_sender_wakeup(struct wh_sender *s);
/* Transfers in flight. */
int wh_sender_running(const struct wh_sender *s);
/* A 2xx answer. */
bool wh_delivery_ok(const struct wh_delivery *d);

/* ---- wh_settle.c: recording outcomes ---- */

struct wh_settler {
    struct rs_db *db;
    const struct wh_schedule *schedule;
    int64_t disable_after_s;
};
typedef void (*wh_disabled_fn)(void *arg, const char *endpoint);
/*
 * Records in one statement the outcomes of done (finished attempts) and released (claimed,
 * never sent): each message delivered, retried after the schedule's next delay (a 429/503's
 * Retry-After honoured), dead, or due again; their attempts; the endpoints' failing_since. Only
 * messages still leased by their claim are changed. Then disables, in a transaction of its
 * own, the endpoints that answered 410 or whose deliveries have all failed for
 * disable_after_s, parking their messages and raising an Issue; on_disabled(arg, id) for each.
 * The database's error when nothing could be recorded (the messages come back when their
 * lease ends).
 */
enum rs_err wh_settle(const struct wh_settler *s, const struct wh_delivery *done,
                      const struct wh_delivery *released, wh_disabled_fn on_disabled, void *arg);
/* Deletes delivered and dead messages older than retention_days, with their queue rows and
 * attempts. */
void wh_retention(struct rs_db *db, int64_t retention_days);

/* ---- wh_dispatch.c: the dispatcher threads ---- */

struct wh_pool;
/* Starts cfg->webhook_dispatchers threads (none when 0). */
enum rs_err wh_pool_start(const struct gw_app *app, struct wh_pool **out,
                          struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Stops claiming, gives queued messages back, lets deliveries in flight finish (up to
 * grace_ms), records them, and joins the threads.
 */
void wh_pool_stop(struct wh_pool *pool, int64_t grace_ms);

#endif
