/*
 * A webhook receiver for e2e tests: an HTTP server on an ephemeral port of 127.0.0.1, in a
 * thread of its own (libevent), that records every request (headers that matter, body, time)
 * and answers as its mode says: down (the port is reserved but refuses connections), failing
 * (a status such as 500 or 410, with an optional Retry-After), slow (204 after a delay) or up
 * (204). It starts down; once up it never goes down again. Its signature checks use the
 * endpoint's secret (rs_sign), independently of how rosterd signs.
 */
#ifndef ROSTER_RT_HOOK_H
#define ROSTER_RT_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/rs_err.h"

struct rt_sync_env;

enum rt_hook_mode {
    RT_HOOK_DOWN,   /* connections refused (only before the first other mode) */
    RT_HOOK_STATUS, /* answers `status` (and Retry-After: retry_after when > 0) at once */
    RT_HOOK_SLOW,   /* answers 204 after `delay_ms` */
    RT_HOOK_UP,     /* answers 204 at once */
};

/* One request as received. */
struct rt_hook_request {
    char id[128];           /* webhook-id */
    char timestamp[32];     /* webhook-timestamp */
    char signature[512];    /* webhook-signature */
    char merge[128];        /* X-Merge-Webhook-Signature */
    char content_type[128]; /* Content-Type */
    char *body;             /* NUL-terminated */
    size_t body_len;
    long long at_ms; /* when it arrived (rt_now_ms) */
    int status;      /* what it was answered */
    bool late;       /* answered after a delay (slow mode) */
    json_t *json;    /* the body parsed, or NULL */
};

struct rt_hook;

/* Starts a receiver, down. RS_ERR_UNAVAILABLE (printed) when it cannot. */
enum rs_err rt_hook_start(struct rt_hook **out) RS_MUST_CHECK;
/* Stops its thread and frees everything; NULL is a no-op. */
void rt_hook_stop(struct rt_hook *hook);
/* "http://127.0.0.1:<port>/hooks/roster". */
const char *rt_hook_url(const struct rt_hook *hook);
/*
 * Changes how it answers from now on: status (RT_HOOK_STATUS), delay_ms (RT_HOOK_SLOW),
 * retry_after seconds (RT_HOOK_STATUS, 0: none). Going back to RT_HOOK_DOWN is not possible.
 */
void rt_hook_set(struct rt_hook *hook, enum rt_hook_mode mode, int status, int delay_ms,
                 int retry_after);
/* A Location header on RT_HOOK_STATUS answers (a redirect; NULL: none). */
void rt_hook_set_location(struct rt_hook *hook, const char *url);
/* Requests received so far. */
size_t rt_hook_count(struct rt_hook *hook);
/* A copy of every request received so far (free with rt_hook_requests_free); *n their count. */
struct rt_hook_request *rt_hook_requests(struct rt_hook *hook, size_t *n);
void rt_hook_requests_free(struct rt_hook_request *requests, size_t n);

/*
 * True when request r carries a valid Standard Webhooks signature for secret (one of the
 * space-separated v1 signatures) and a valid X-Merge-Webhook-Signature.
 */
bool rt_hook_signed_by(const struct rt_hook_request *r, const char *secret);
/* True when one of r's Standard Webhooks v1 signatures verifies with secret. */
bool rt_hook_standard_signed(const struct rt_hook_request *r, const char *secret);
/* True when r's X-Merge-Webhook-Signature verifies with secret. */
bool rt_hook_merge_signed(const struct rt_hook_request *r, const char *secret);

/* A webhook endpoint created through the admin API, with the secret shown at creation. */
struct rt_hook_endpoint {
    char id[64];
    char secret[128];
};
/* POSTs body to /api/admin/v1/webhook-endpoints with env's key; 201 with a whsec_ secret. */
void rt_hook_endpoint_create(struct rt_sync_env *env, const char *body,
                             struct rt_hook_endpoint *out);

#endif
