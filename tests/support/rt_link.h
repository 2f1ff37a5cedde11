/*
 * cmocka helpers for e2e tests of the link flow on the rt_sync fixture (rosterd + sandbox):
 * link tokens, the hosted pages fetched and their forms posted as a browser would, and the
 * public-token exchange. Helpers fail the running cmocka test instead of returning an error.
 */
#ifndef ROSTER_RT_LINK_H
#define ROSTER_RT_LINK_H

#include <stddef.h>

#include <jansson.h>

#include "rt_http.h"
#include "rt_sync.h"

/*
 * POST /api/hris/v1/link-token for end user `origin` with base_url at the sandox's BambooHR,
 * plus extra members (JSON text without braces, e.g. "\"integration\":\"bamboohr\"", or NULL),
 * with key (NULL: env->key); must answer 200. The LinkToken object (new reference).
 */
json_t *rt_link_token(struct rt_sync_env *env, const char *key, const char *origin,
                      const char *extra);
/* The same with base_url at the sandbox's `provider` ("factorial", …). */
json_t *rt_link_token_at(struct rt_sync_env *env, const char *key, const char *origin,
                         const char *provider, const char *extra);

/*
 * GET path of rosterd (a /link/… page) into r; it must be the page named `page` (header
 * X-Roster-Page: "picker", "form", "expired", …), with status 200 (500 for "error").
 */
void rt_link_get(struct rt_sync_env *env, const char *path, const char *page, struct rt_resp *r);

/* The value of the first `attr="…"` in html after `after` (NULL: anywhere), malloc'd, or
   fails the test. */
char *rt_link_attr(const char *html, const char *after, const char *attr);

/*
 * POSTs the BambooHR form of link token (subdomain "acme", api_key) with form_token (NULL: the
 * one of the form page, fetched first), as application/x-www-form-urlencoded; the answer must
 * be the page named `page` ("connected", "form-test-failed", …), in r.
 */
void rt_link_post(struct rt_sync_env *env, const char *token, const char *form_token,
                  const char *api_key, const char *page, struct rt_resp *r);

/* The whole happy path of token with the sandbox key: the public token (malloc'd). */
char *rt_link_connect(struct rt_sync_env *env, const char *token);

/* GET /account-token/{public_token} with key (NULL: env->key), which must answer `status`;
   the answer (new reference). */
json_t *rt_link_exchange(struct rt_sync_env *env, const char *key, const char *public_token,
                         long status);

/*
 * Exchanges public_token (env->key) into acct, an account of prov: the answer must be 200 with
 * Merge's AccountToken shape (account_token, id, and integration with prov's slug and name,
 * categories and api_endpoints_to_documentation_urls).
 */
void rt_link_exchange_into(struct rt_sync_env *env, const char *public_token,
                           const struct rt_sync_provider *prov, struct rt_sync_account *acct);
/* rt_link_connect of token (the API-key form, sandbox key), then rt_link_exchange_into. */
void rt_link_connect_into(struct rt_sync_env *env, const char *token,
                          const struct rt_sync_provider *prov, struct rt_sync_account *acct);
/*
 * After a relink of acct: public_token exchanges (rt_link_exchange_into) into acct's own
 * account, whose newest sync (not previous_sync) ends DONE holding the employees of before
 * (rt_sync_employees keyed by "remote_id" before the relink), each with the same id.
 */
void rt_link_expect_relinked(struct rt_sync_env *env, const char *public_token,
                             const struct rt_sync_account *acct, const char *previous_sync,
                             const json_t *before);
/* The link token of a LinkToken object: from its magic_link_url when it has one. */
const char *rt_link_token_of(const json_t *link);

#endif
