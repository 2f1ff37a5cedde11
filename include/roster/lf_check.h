/*
 * Test connection: runs an adapter's first request(s) with given credentials through rs_httpc,
 * the way a sync would, stores nothing, and says what happened in one category and one
 * sentence an HR admin can act on (never containing a secret). The hosted connect pages call it
 * before saving credentials; the admin API calls it on a stored account.
 */
#ifndef ROSTER_LF_CHECK_H
#define ROSTER_LF_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_err.h"
#include "roster/rs_httpc.h"

enum lf_check_result {
    LF_CHECK_OK,                 /* a page of employee data was read */
    LF_CHECK_WRONG_CREDENTIALS,  /* 401 */
    LF_CHECK_MISSING_PERMISSION, /* 403 */
    LF_CHECK_NOT_FOUND,          /* 404, a host name that does not resolve, an address refused */
    LF_CHECK_PROVIDER_DOWN,      /* 5xx, timeout, connection refused or reset */
    LF_CHECK_RATE_LIMITED,       /* 429 that did not clear in time */
    LF_CHECK_BAD_RESPONSE,       /* another status, or a body that is not the documented shape */
    LF_CHECK_ERROR,              /* our own failure (out of memory, unusable request) */
};

struct lf_check_outcome {
    enum lf_check_result result;
    long http_status; /* the provider's status that decided, 0 when none */
    int requests;     /* requests sent */
    char sentence[320];
};

/* The seam under lf_check_run: sends one request as rs_httpc_send does. */
typedef enum rs_err (*lf_check_send_fn)(void *arg, const struct rs_http_request *req,
                                        struct rs_http_response *resp, struct rs_errbuf *eb);

struct lf_check_options {
    int64_t timeout_ms;    /* per request; 0: 10 000 */
    bool allow_private;    /* ROSTER_ALLOW_PRIVATE_UPSTREAMS (for a base_url on loopback) */
    lf_check_send_fn send; /* NULL: a new rs_httpc for this check */
    void *send_arg;
};

/*
 * Drives ops->next_request / parse_response with credentials (borrowed; checked against the
 * adapter's fields by the caller) and the optional base_url override until the first request
 * for records has succeeded, at most a few requests, each with one retry at most and a short
 * wait for a 429. Fills out. Returns RS_OK whatever the provider answered (the answer is in
 * out), RS_ERR_NOMEM when it could not even start.
 */
enum rs_err lf_check_run(const struct prov_ops *ops, const json_t *credentials,
                         const char *base_url, const struct lf_check_options *opts,
                         struct lf_check_outcome *out) RS_MUST_CHECK;

/*
 * Classifies how one request ended into out (result, http_status, sentence): err is what the
 * transport returned (RS_OK when an HTTP status arrived), status the HTTP status (0 if none),
 * unresolved whether the host name did not resolve. Pure; lf_check_run uses it.
 */
void lf_check_classify(const struct prov_ops *ops, enum rs_err err, long status, bool unresolved,
                       struct lf_check_outcome *out);

/* "ok", "wrong_credentials", "missing_permission", "not_found", "provider_down",
   "rate_limited", "bad_response", "error". */
const char *lf_check_result_name(enum lf_check_result result);

#endif
