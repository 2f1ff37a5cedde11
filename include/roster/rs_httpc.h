/*
 * The outbound HTTP client (libcurl) every upstream call goes through. It owns what callers
 * must never get wrong: timeouts, a cap on response size, retries with exponential backoff and
 * jitter on 5xx and network errors, waiting out 429s (Retry-After, or a provider's reset
 * header), proactive throttling per connection (a token bucket), and refusing private or
 * loopback addresses at connect time unless allowed (so a DNS answer that changed since the
 * URL was checked cannot reach an internal host). Not thread-safe: one struct per thread.
 */
#ifndef ROSTER_RS_HTTPC_H
#define ROSTER_RS_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster/rs_buf.h"
#include "roster/rs_err.h"

struct rs_httpc;

struct rs_httpc_options {
    int64_t timeout_ms;         /* whole request, connect included (default 30000) */
    int64_t connect_timeout_ms; /* default 10000 */
    size_t max_response_bytes;  /* default 256 MiB; larger → RS_ERR_TOOBIG */
    int max_attempts;           /* attempts per request for 5xx/network errors/429 (default 5) */
    int64_t backoff_base_ms;    /* first retry delay for 5xx/network errors (default 500) */
    int64_t backoff_max_ms;     /* cap of one delay (default 30000) */
    int64_t max_wait_ms;        /* longest single 429 wait accepted; longer → RS_ERR_RATELIMIT
                                   (default 120000) */
    bool allow_private; /* allow loopback/private addresses (ROSTER_ALLOW_PRIVATE_UPSTREAMS) */
};

/*
 * Per-connection throttle (token bucket): at most `rate_per_s` requests per second on
 * average with bursts of `burst`; rate 0 disables it. Also remembers a provider-imposed
 * "not before" time from the last 429, so the next request waits for it. Zero-initialize,
 * then set rate_per_s and burst.
 */
struct rs_throttle {
    double rate_per_s;
    double burst;
    double tokens;          /* internal */
    int64_t last_refill_us; /* internal, monotonic */
    int64_t not_before_us;  /* internal, monotonic */
};

struct rs_http_header {
    const char *name;
    const char *value;
};

struct rs_http_request {
    const char *method; /* "GET", "POST", … */
    const char *url;
    const struct rs_http_header *headers; /* extra headers, may be NULL */
    size_t nheaders;
    const char *basic_user; /* HTTP Basic when non-NULL (with basic_password) */
    const char *basic_password;
    const char *bearer; /* Authorization: Bearer when non-NULL */
    const char *body;   /* may be NULL */
    size_t body_len;
    const char *content_type;      /* of body */
    const char *rate_reset_header; /* header of a 429 holding the reset time (epoch seconds) */
    int max_attempts; /* 0: the client's max_attempts; else this request's own limit (1: sent
                         once, never retried — for requests that must not be repeated, such as
                         an OAuth token call whose first attempt may have been accepted) */
};

struct rs_http_response {
    long status;          /* final HTTP status (0 when no response) */
    struct rs_buf body;   /* NUL-terminated; owned: release with rs_http_response_cleanup */
    char retry_after[64]; /* the last Retry-After header seen, "" if none */
    int attempts;         /* how many requests were sent */
    bool unresolved;      /* the last attempt failed because the host name did not resolve */
    int64_t waited_ms;    /* time spent in backoff/rate-limit waits */
};

/* Creates a client. RS_ERR_NOMEM on failure. */
enum rs_err rs_httpc_new(const struct rs_httpc_options *opts, struct rs_httpc **out) RS_MUST_CHECK;
void rs_httpc_free(struct rs_httpc *client);
void rs_http_response_cleanup(struct rs_http_response *resp);

/*
 * Sends req, waiting for throttle first (may be NULL), retrying 5xx and network errors with
 * exponential backoff and full jitter, and waiting out 429s as the response asks (Retry-After
 * seconds or HTTP date; else rate_reset_header epoch seconds; else backoff) up to
 * max_attempts (the request's when set, else the client's). Returns RS_OK with the final
 * response for any status it could not retry away (2xx, 3xx, 4xx, or 5xx after the last
 * attempt); RS_ERR_TIMEOUT/RS_ERR_UPSTREAM when no
 * response came after the last attempt; RS_ERR_RATELIMIT when a 429 asks for longer than
 * max_wait_ms or persists; RS_ERR_TOOBIG when the body exceeds the cap; RS_ERR_FORBIDDEN when
 * the host resolves to a refused address. resp must be zero-initialized by the caller; it is
 * filled even on error when something was received. Never logs secrets or bodies.
 */
enum rs_err rs_httpc_send(struct rs_httpc *client, struct rs_throttle *throttle,
                          const struct rs_http_request *req, struct rs_http_response *resp,
                          struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Hook for tests: replaces the sleep function (monotonic microseconds to wait) so retry and
 * throttle logic can be checked without real waiting. NULL restores the real one.
 */
void rs_httpc_set_sleep_hook(struct rs_httpc *client, void (*sleep_us)(void *arg, int64_t us),
                             void *arg);

/*
 * Delay a Retry-After value asks for, a small margin included: delta seconds after now, or an
 * HTTP date (any form curl_getdate takes) against the wall clock now_wall_us (a date in the
 * past gives only the margin). False when the value is neither.
 */
bool rs_httpc_parse_retry_after(const char *value, int64_t now_wall_us, int64_t *delay_us);

#endif
