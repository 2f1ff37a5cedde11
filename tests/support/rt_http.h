/*
 * HTTP for e2e tests (libcurl): one request → status, headers, body bytes and the body parsed
 * as JSON. Each request has a 30 s timeout unless told otherwise, so a hung server fails a test
 * instead of stalling it. Easy handles for curl multi are built the same way.
 */
#ifndef ROSTER_RT_HTTP_H
#define ROSTER_RT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "roster/rs_err.h"

/* One request. Only url is required. */
struct rt_req {
    const char *method; /* "GET" when NULL */
    const char *url;
    const char *api_key;        /* sent as Authorization: Bearer <api_key> when not NULL */
    const char *account_token;  /* sent as X-Account-Token when not NULL */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated, or NULL */
    const char *body;           /* sent with Content-Type: application/json unless headers
                                   name another; NULL: no body */
    size_t body_len;            /* 0: strlen(body) */
    long timeout_ms;            /* 0: 30 000 */
};

/* One response; everything in it is owned by it (rt_resp_cleanup). */
struct rt_resp {
    CURLcode code; /* CURLE_OK when a complete response arrived */
    long status;   /* HTTP status; 0 when none arrived */
    char *body;    /* NUL-terminated (the NUL is not counted in body_len); never NULL
                      after rt_http_do or rt_http_finish */
    size_t body_len;
    json_t *json;   /* the body parsed as JSON (any value), or NULL when it is not JSON */
    double seconds; /* total time of the transfer */
    char *headers;  /* the final response's header block, "Name: value\r\n" lines */
    size_t headers_len;
    bool truncated;                 /* the body exceeded the ceiling (64 MiB) and was cut */
    struct curl_slist *req_headers; /* the request's headers, freed with the response */
    char errbuf[CURL_ERROR_SIZE];
};

/*
 * Performs req and fills out (which rt_resp_cleanup must release, whatever the result).
 * RS_OK when a response with a status arrived (any status); RS_ERR_UNAVAILABLE when the
 * transfer failed (out->code and out->errbuf say why); RS_ERR_NOMEM.
 */
enum rs_err rt_http_do(const struct rt_req *req, struct rt_resp *out) RS_MUST_CHECK;

/* GET url with the optional API key and account token (either may be NULL). As rt_http_do. */
enum rs_err rt_http_get(const char *url, const char *api_key, const char *account_token,
                        struct rt_resp *out) RS_MUST_CHECK;

/*
 * For curl multi: an easy handle set up for req that writes into out (zeroed first). The
 * caller adds it to a multi handle; when the transfer is done, rt_http_finish(easy, code, out)
 * fills status, time and JSON and cleans up the easy handle. NULL when out of memory.
 */
CURL *rt_http_prepare(const struct rt_req *req, struct rt_resp *out);
void rt_http_finish(CURL *easy, CURLcode code, struct rt_resp *out);

/*
 * The value of response header name (case-insensitive, surrounding spaces removed) copied into
 * out; false when absent or when it does not fit.
 */
bool rt_resp_header(const struct rt_resp *resp, const char *name, char *out, size_t outlen);

/* Frees what resp owns and zeroes it; a zeroed resp is fine. */
void rt_resp_cleanup(struct rt_resp *resp);

/* Percent-encodes value for a query string into out; false when it does not fit. */
bool rt_http_escape(const char *value, char *out, size_t outlen);

#endif
