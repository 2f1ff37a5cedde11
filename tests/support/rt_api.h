/*
 * cmocka conveniences for driving rosterd's API in e2e tests: URLs, requests that must get an
 * answer, assertions on statuses and Roster's JSON errors, and the operator steps a test needs
 * (create-org, a linked account through the admin API, seed-example). Each helper fails the
 * running cmocka test (with the response body in the message) instead of returning an error.
 */
#ifndef ROSTER_RT_API_H
#define ROSTER_RT_API_H

#include <stddef.h>

#include <jansson.h>

#include "roster/rs_err.h"
#include "rt_http.h"
#include "rt_proc.h"

/* Size of the URL buffers the helpers fill. */
#define RT_API_URL_MAX 16384

/* rosterd p's base URL followed by the formatted path, in out (RT_API_URL_MAX bytes). */
const char *rt_api_url(char *out, const struct rt_proc *p, const char *fmt, ...) RS_PRINTF(3, 4);

/* GET that must get an HTTP answer (any status); key and token may be NULL. */
void rt_api_get(const char *url, const char *key, const char *token, struct rt_resp *r);

/* A request with an API key and an optional JSON body that must get an HTTP answer. */
void rt_api_send(const char *method, const char *url, const char *key, const char *body,
                 struct rt_resp *r);

/* The answer has this status; `what` names the case in the failure message. */
void rt_api_expect_status(const struct rt_resp *r, long status, const char *what);

/*
 * The answer is `status` with Content-Type application/json and a JSON object carrying a
 * non-empty "detail" and, when param is not NULL, "param" equal to it.
 */
void rt_api_expect_error(const struct rt_resp *r, long status, const char *param, const char *what);

/* text (NULL counts as empty) contains needle; `what` names the case in the failure message. */
void rt_api_expect_contains(const char *what, const char *text, const char *needle);

/* A 200 listing page: its "results" array (borrowed from r). */
json_t *rt_api_results(const struct rt_resp *r, const char *what);

/* The string member key of obj, or NULL (obj may be NULL or not an object). */
const char *rt_api_str(const json_t *obj, const char *key);

/*
 * POSTs a bamboohr linked account to p's admin API with api_key as its credential and an
 * optional base_url; the answer (201 or an error) is in r.
 */
void rt_api_create_account(const struct rt_proc *p, const char *key, const char *origin,
                           const char *api_key, const char *base_url, struct rt_resp *r);

/* rt_api_create_account that must succeed; copies the id and the account token out. */
void rt_api_link_account(const struct rt_proc *p, const char *key, const char *origin, char id[64],
                         char token[128]);

/* `rosterd create-org NAME`: the new API key (caller frees), or NULL after printing why. */
char *rt_api_create_org(const char *database_url, const char *name);

/* `rosterd seed-example ACCOUNT_ID N`, which must succeed. */
void rt_api_seed(const char *database_url, const char *account_id, int n);

#endif
