/*
 * Prometheus metrics: requests by route and status, a latency histogram per route, syncs by
 * outcome with their duration and rows written, and database errors. Lock-free: relaxed
 * atomic counters that every worker bumps.
 */
#include "gw_int.h"

#include <inttypes.h>
#include <stdatomic.h>

#define MAX_ROUTES 96
static const int status_codes[] = {200, 201, 202, 204, 400, 401, 403, 404, 405,
                                   409, 413, 414, 429, 500, 502, 503, 504, 0 /* other */};
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]))
static const int64_t bucket_us[] = {1000,   2500,   5000,   10000,   25000,  50000,
                                    100000, 250000, 500000, 1000000, 2500000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

static atomic_uint_fast64_t requests[MAX_ROUTES][NSTATUS];
static atomic_uint_fast64_t latency[MAX_ROUTES][NBUCKETS + 1]; /* last: +Inf */
static atomic_uint_fast64_t latency_sum_us[MAX_ROUTES];

static const char *const sync_outcomes[GW_SYNC_OUTCOMES] = {"done", "paused", "failed"};
static atomic_uint_fast64_t syncs[GW_SYNC_OUTCOMES];
static atomic_uint_fast64_t sync_seconds_us[GW_SYNC_OUTCOMES];
static atomic_uint_fast64_t sync_rows[3]; /* inserted, updated, deleted */

void gw_metrics_sync(enum gw_sync_outcome outcome, int64_t duration_us, size_t inserted,
                     size_t updated, size_t deleted)
{
    if ((unsigned)outcome >= GW_SYNC_OUTCOMES)
        return;
    atomic_fetch_add_explicit(&syncs[outcome], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sync_seconds_us[outcome],
                              (uint64_t)(duration_us > 0 ? duration_us : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&sync_rows[0], inserted, memory_order_relaxed);
    atomic_fetch_add_explicit(&sync_rows[1], updated, memory_order_relaxed);
    atomic_fetch_add_explicit(&sync_rows[2], deleted, memory_order_relaxed);
}

/* Webhook attempts by result, their latency, dead letters, endpoints disabled by rosterd. */
static atomic_uint_fast64_t webhook_attempts[2]; /* success, failure */
static atomic_uint_fast64_t webhook_latency_ms;
static atomic_uint_fast64_t webhook_dead;
static atomic_uint_fast64_t webhook_disabled;

void gw_metrics_webhooks(size_t succeeded, size_t failed, size_t dead, int64_t latency_ms)
{
    atomic_fetch_add_explicit(&webhook_attempts[0], succeeded, memory_order_relaxed);
    atomic_fetch_add_explicit(&webhook_attempts[1], failed, memory_order_relaxed);
    atomic_fetch_add_explicit(&webhook_dead, dead, memory_order_relaxed);
    atomic_fetch_add_explicit(&webhook_latency_ms, latency_ms > 0 ? (uint64_t)latency_ms : 0,
                              memory_order_relaxed);
}

void gw_metrics_webhook_disabled(void)
{
    atomic_fetch_add_explicit(&webhook_disabled, 1, memory_order_relaxed);
}

static enum rs_err render_webhooks(struct rs_buf *out)
{
    return rs_buf_appendf(
        out,
        "# HELP roster_webhook_attempts_total Webhook delivery attempts this process recorded.\n"
        "# TYPE roster_webhook_attempts_total counter\n"
        "roster_webhook_attempts_total{result=\"success\"} %" PRIu64 "\n"
        "roster_webhook_attempts_total{result=\"failure\"} %" PRIu64 "\n"
        "# HELP roster_webhook_attempt_duration_seconds_total Time from a delivery's start to its "
        "answer, summed over the recorded attempts.\n"
        "# TYPE roster_webhook_attempt_duration_seconds_total counter\n"
        "roster_webhook_attempt_duration_seconds_total %.3f\n"
        "# HELP roster_webhook_dead_total Webhook messages dead-lettered (their schedule used "
        "up).\n"
        "# TYPE roster_webhook_dead_total counter\n"
        "roster_webhook_dead_total %" PRIu64 "\n"
        "# HELP roster_webhook_endpoints_disabled_total Endpoints this process disabled (410, "
        "or failing for webhook_disable_after_s).\n"
        "# TYPE roster_webhook_endpoints_disabled_total counter\n"
        "roster_webhook_endpoints_disabled_total %" PRIu64 "\n",
        (uint64_t)atomic_load(&webhook_attempts[0]), (uint64_t)atomic_load(&webhook_attempts[1]),
        (double)atomic_load(&webhook_latency_ms) / 1e3, (uint64_t)atomic_load(&webhook_dead),
        (uint64_t)atomic_load(&webhook_disabled));
}

static enum rs_err render_syncs(struct rs_buf *out)
{
    static const char *const ops[3] = {"inserted", "updated", "deleted"};
    enum rs_err err =
        rs_buf_append_str(out, "# HELP roster_syncs_total Syncs this process ran to an outcome.\n"
                               "# TYPE roster_syncs_total counter\n");

    for (int i = 0; i < GW_SYNC_OUTCOMES && err == RS_OK; i++)
        err = rs_buf_appendf(out, "roster_syncs_total{outcome=\"%s\"} %" PRIu64 "\n",
                             sync_outcomes[i], (uint64_t)atomic_load(&syncs[i]));
    if (err == RS_OK)
        err = rs_buf_append_str(out, "# HELP roster_sync_duration_seconds_total Time from a "
                                     "sync's start to its outcome, summed by outcome.\n"
                                     "# TYPE roster_sync_duration_seconds_total counter\n");
    for (int i = 0; i < GW_SYNC_OUTCOMES && err == RS_OK; i++)
        err = rs_buf_appendf(out, "roster_sync_duration_seconds_total{outcome=\"%s\"} %.3f\n",
                             sync_outcomes[i], (double)atomic_load(&sync_seconds_us[i]) / 1e6);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "# HELP roster_sync_rows_total Rows of the normalized "
                                     "model that applied syncs wrote, by operation.\n"
                                     "# TYPE roster_sync_rows_total counter\n");
    for (int i = 0; i < 3 && err == RS_OK; i++)
        err = rs_buf_appendf(out, "roster_sync_rows_total{op=\"%s\"} %" PRIu64 "\n", ops[i],
                             (uint64_t)atomic_load(&sync_rows[i]));
    return err;
}

void gw_metrics_observe(size_t route_index, int status, int64_t duration_us)
{
    size_t s = NSTATUS - 1, b = NBUCKETS;

    if (route_index >= MAX_ROUTES)
        return;
    for (size_t i = 0; i + 1 < NSTATUS; i++) {
        if (status_codes[i] == status) {
            s = i;
            break;
        }
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (duration_us <= bucket_us[i]) {
            b = i;
            break;
        }
    }
    atomic_fetch_add_explicit(&requests[route_index][s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency[route_index][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us[route_index], (uint64_t)duration_us,
                              memory_order_relaxed);
}

static const char *route_name(size_t index)
{
    size_t n;
    const struct gw_route *routes = gw_router_routes(&n);

    return index == 0 || index > n ? "unmatched" : routes[index - 1].name;
}

static enum rs_err render_requests(struct rs_buf *out, size_t nroutes)
{
    enum rs_err err = rs_buf_append_str(out, "# HELP roster_http_requests_total HTTP requests "
                                             "answered, by route and status.\n"
                                             "# TYPE roster_http_requests_total counter\n");

    for (size_t r = 0; r <= nroutes && err == RS_OK; r++) {
        for (size_t s = 0; s < NSTATUS && err == RS_OK; s++) {
            uint64_t n = atomic_load_explicit(&requests[r][s], memory_order_relaxed);
            char status[8];

            if (n == 0)
                continue;
            snprintf(status, sizeof(status), "%d", status_codes[s]);
            err = rs_buf_appendf(
                out, "roster_http_requests_total{route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                route_name(r), status_codes[s] ? status : "other", n);
        }
    }
    return err;
}

static enum rs_err render_histogram(struct rs_buf *out, size_t r)
{
    uint64_t cumulative = 0;
    enum rs_err err = RS_OK;
    const char *name = route_name(r);

    for (size_t b = 0; b <= NBUCKETS && err == RS_OK; b++) {
        cumulative += atomic_load_explicit(&latency[r][b], memory_order_relaxed);
        if (b < NBUCKETS)
            err = rs_buf_appendf(out,
                                 "roster_http_request_duration_seconds_bucket{route=\"%s\","
                                 "le=\"%g\"} %" PRIu64 "\n",
                                 name, (double)bucket_us[b] / 1e6, cumulative);
        else
            err = rs_buf_appendf(out,
                                 "roster_http_request_duration_seconds_bucket{route=\"%s\","
                                 "le=\"+Inf\"} %" PRIu64 "\n"
                                 "roster_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                                 "roster_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64
                                 "\n",
                                 name, cumulative, name,
                                 (double)atomic_load(&latency_sum_us[r]) / 1e6, name, cumulative);
    }
    return err;
}

void gw_metrics_render(struct rs_buf *out)
{
    size_t nroutes;
    enum rs_err err;

    gw_router_routes(&nroutes);
    if (nroutes + 1 > MAX_ROUTES)
        nroutes = MAX_ROUTES - 1;
    err = render_requests(out, nroutes);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "# HELP roster_http_request_duration_seconds Time from "
                                     "request to reply, by route.\n"
                                     "# TYPE roster_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= nroutes && err == RS_OK; r++) {
        if (atomic_load(&latency_sum_us[r]) == 0 && atomic_load(&latency[r][0]) == 0)
            continue;
        err = render_histogram(out, r);
    }
    if (err == RS_OK)
        err = render_syncs(out);
    if (err == RS_OK)
        err = render_webhooks(out);
    if (err == RS_OK)
        err = rs_buf_appendf(out,
                             "# HELP roster_db_errors_total Failed database statements.\n"
                             "# TYPE roster_db_errors_total counter\n"
                             "roster_db_errors_total %" PRIu64 "\n",
                             rs_db_error_count());
    (void)err; /* a truncated scrape is still valid text up to the ceiling */
}
