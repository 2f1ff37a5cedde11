/*
 * OAuth2 for providers that link by authorization code (RFC 6749 with PKCE, RFC 7636): the
 * pieces of the authorize redirect (PKCE pair, state, URL), the token endpoint (code exchange
 * and refresh, form-encoded, client authentication by Basic or in the body), the OAuth client
 * each organization registers per integration (table oauth_clients, secret sealed), and the
 * refresh that sync workers racing for one account can never lose (docs/design/oauth.md).
 *
 * A token is the JSON object {"access_token", "refresh_token", "expires_at_us", "scope"}
 * (expires_at_us absent when the provider gave no lifetime), stored sealed in
 * linked_accounts.access_token (AAD "<account id>/token").
 *
 * Files: lf_oauth.c (pure: PKCE, state, URLs, request bodies, token responses),
 * lf_oauth_client.c (oauth_clients), lf_oauth_token.c (HTTP and the stored token).
 */
#ifndef ROSTER_LF_OAUTH_H
#define ROSTER_LF_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/lf_token.h"
#include "roster/prov.h"
#include "roster/rs_buf.h"
#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_httpc.h"
#include "roster/rs_token.h"
#include "roster/rs_uuid.h"
#include "roster/rs_vault.h"

/* PKCE verifier: 43 to 128 characters; ours are 64 (base64url of 48 random bytes). */
#define LF_OAUTH_VERIFIER_MAX 129
/* base64url without padding of 32 bytes (a SHA-256, or 32 random bytes), NUL included. */
#define LF_OAUTH_B64_32 44
/* A token is refreshed when it has this little time left (or less). */
#define LF_OAUTH_REFRESH_MARGIN_US (INT64_C(300) * 1000000)
/* Longest access or refresh token accepted from a provider. */
#define LF_OAUTH_TOKEN_MAX 4096

/* ---- lf_oauth.c: the pure parts ---- */

struct lf_oauth_pkce {
    char verifier[LF_OAUTH_VERIFIER_MAX];
    char challenge[LF_OAUTH_B64_32]; /* S256 */
};

/* A fresh PKCE pair (verifier from 48 random bytes). Wipe it with sodium_memzero when done. */
void lf_oauth_pkce_new(struct lf_oauth_pkce *out);
/*
 * The S256 challenge of verifier: base64url(SHA-256(verifier)) without padding. RS_ERR_INVALID
 * when verifier is not 43 to 128 characters of the unreserved set [A-Za-z0-9-._~].
 */
enum rs_err lf_oauth_pkce_challenge(const char *verifier, char out[LF_OAUTH_B64_32]) RS_MUST_CHECK;
/* A fresh `state`: base64url of 32 random bytes (43 characters). */
void lf_oauth_state_new(char out[LF_OAUTH_B64_32]);

/* What goes into an authorize URL besides the provider's endpoint. */
struct lf_oauth_authorize {
    const char *client_id;
    const char *redirect_uri;
    const char *scope; /* NULL: the adapter's default scopes (prov_oauth.scopes); "" none */
    const char *state;
    const char *code_challenge; /* S256 */
};

/*
 * Appends to out the provider's authorize endpoint (ops->oauth->endpoint with fields and the
 * account's base_url override, may be NULL) with response_type=code, client_id, redirect_uri,
 * scope (when not empty), state, code_challenge and code_challenge_method=S256, every value
 * percent-encoded. RS_ERR_INVALID (eb) when ops has no OAuth, a value is missing or the endpoint
 * cannot be formed; RS_ERR_TOOBIG/RS_ERR_NOMEM from out.
 */
enum rs_err lf_oauth_authorize_url(const struct prov_ops *ops, const json_t *fields,
                                   const char *base_url, const struct lf_oauth_authorize *a,
                                   struct rs_buf *out, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * The Content-Security-Policy source (scheme://host[:port], or the adapter's wildcard such as
 * https: and any subdomain of bamboohr.com) of ops's authorize endpoint, for the form-action of the
 * page whose form is answered with the redirect there: base_url's origin when base_url is set (the
 * sandbox), else prov_oauth.authorize_origin, else the origin of the endpoint formed without
 * fields. RS_ERR_INVALID (eb) when ops has no OAuth or no origin can be read; RS_ERR_TOOBIG.
 */
enum rs_err lf_oauth_authorize_origin(const struct prov_ops *ops, const char *base_url, char *out,
                                      size_t outlen, struct rs_errbuf *eb) RS_MUST_CHECK;

/* An OAuth client an organization registered with a provider (lf_oauth_client.c loads it). */
struct lf_oauth_client {
    char *client_id;     /* malloc'd */
    char *client_secret; /* sodium_malloc'd; NULL when loaded without it */
    char *scopes;        /* malloc'd; NULL: the adapter's default scopes */
    char *redirect_uri;  /* malloc'd; NULL: rosterd's own callback */
    char created_at[32]; /* ISO 8601 UTC, "" when not loaded from the database */
    char modified_at[32];
};

enum lf_oauth_grant_type { LF_OAUTH_GRANT_CODE, LF_OAUTH_GRANT_REFRESH };

/* One token endpoint request's grant (all borrowed). */
struct lf_oauth_grant {
    enum lf_oauth_grant_type type;
    const char *code;          /* CODE: the authorization code */
    const char *redirect_uri;  /* CODE: the redirect_uri of the authorize request */
    const char *code_verifier; /* CODE: the PKCE verifier */
    const char *refresh_token; /* REFRESH */
};

/* A token endpoint request, ready for rs_httpc. Everything secret is in wiped memory. */
struct lf_oauth_request {
    char url[2048];
    char *body; /* application/x-www-form-urlencoded, sodium_malloc'd */
    size_t body_len;
    char *basic_user;     /* percent-encoded client id and secret (RFC 6749 §2.3.1) when the */
    char *basic_password; /* provider takes Basic client authentication; else NULL */
};

/*
 * Builds the token request of grant for client: the URL from ops->oauth->endpoint (fields,
 * base_url), the form (grant_type and the grant's values; client_id and client_secret too
 * unless ops->oauth->client_auth_basic, when they go into Basic instead). RS_ERR_INVALID (eb)
 * for a missing value or no OAuth; RS_ERR_NOMEM. Release with lf_oauth_request_cleanup, also
 * after a failure.
 */
enum rs_err lf_oauth_request_build(const struct prov_ops *ops, const json_t *fields,
                                   const char *base_url, const struct lf_oauth_client *client,
                                   const struct lf_oauth_grant *grant, struct lf_oauth_request *req,
                                   struct rs_errbuf *eb) RS_MUST_CHECK;
/* Wipes and frees what lf_oauth_request_build allocated; the struct is then empty. */
void lf_oauth_request_cleanup(struct lf_oauth_request *req);

/*
 * Reads a token endpoint answer (status, body of len bytes) received at now_us into a new
 * token (*out, new reference): the access token, the refresh token (the new one when the
 * provider rotated it, else previous's), expires_at_us = now_us + expires_in seconds (absent
 * without expires_in), the scope (else previous's). previous may be NULL.
 * Returns RS_ERR_AUTH when the provider refused for good (RFC 6749 §5.2 invalid_grant,
 * invalid_client, unauthorized_client, unsupported_grant_type, invalid_scope, or a 401): the
 * account must be relinked; RS_ERR_UPSTREAM for anything that may pass (5xx, 429, another
 * error, a malformed answer, a token type other than Bearer); eb says which, never a token.
 */
enum rs_err lf_oauth_parse_token(long status, const char *body, size_t len, int64_t now_us,
                                 const json_t *previous, json_t **out,
                                 struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * True when token has an access token that is usable at now_us for more than margin_us: its
 * expires_at_us is further than that, or unknown (absent or 0: used until a provider rejects
 * it).
 */
bool lf_oauth_still_valid(const json_t *token, int64_t now_us, int64_t margin_us);

/*
 * True when a linked account of ops authenticates with OAuth tokens: the adapter has OAuth and
 * the stored credentials hold none of the secret fields of its API-key form (ops->fields).
 */
bool lf_oauth_uses_oauth(const struct prov_ops *ops, const json_t *credentials);

/* ---- lf_oauth_client.c: oauth_clients (organization, integration) ---- */

/*
 * Loads the OAuth client of organization org (uuid text) for integration. with_secret opens
 * the sealed secret (RS_ERR_CRYPTO with eb naming the row when it does not open); without it,
 * client_secret stays NULL. RS_ERR_NOTFOUND when none is configured. Free with
 * lf_oauth_client_free.
 */
enum rs_err lf_oauth_client_load(struct rs_db *db, const struct rs_vault *vault, const char *org,
                                 const char *integration, bool with_secret,
                                 struct lf_oauth_client **out, struct rs_errbuf *eb) RS_MUST_CHECK;
void lf_oauth_client_free(struct lf_oauth_client *client);
/*
 * Creates or replaces the client of (org, integration) with client's id, secret (sealed),
 * scopes and redirect_uri (NULL: defaults). *created (may be NULL) tells which.
 */
enum rs_err lf_oauth_client_save(struct rs_db *db, const struct rs_vault *vault, const char *org,
                                 const char *integration, const struct lf_oauth_client *client,
                                 bool *created, struct rs_errbuf *eb) RS_MUST_CHECK;
/* Deletes it. RS_ERR_NOTFOUND when there was none. */
enum rs_err lf_oauth_client_delete(struct rs_db *db, const char *org, const char *integration,
                                   struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---- lf_oauth_token.c: the token endpoint and the stored token ---- */

/* What the token functions use (borrowed; one per thread, like its parts). */
struct lf_oauth_io {
    struct rs_db *db;
    struct rs_httpc *http;
    const struct rs_vault *vault;
};

/*
 * Sends grant to the provider's token endpoint (lf_oauth_request_build, rs_httpc's timeouts
 * but exactly one attempt: never retried, see docs/design/oauth.md) and reads the answer with
 * lf_oauth_parse_token; no database. For the link flow's code exchange, and the refresh below.
 * RS_ERR_AUTH (permanent), RS_ERR_UPSTREAM (transient: also timeouts and network errors),
 * RS_ERR_INVALID, RS_ERR_NOMEM.
 */
enum rs_err lf_oauth_token_call(struct rs_httpc *http, const struct prov_ops *ops,
                                const json_t *fields, const char *base_url,
                                const struct lf_oauth_client *client,
                                const struct lf_oauth_grant *grant, int64_t now_us,
                                const json_t *previous, json_t **out,
                                struct rs_errbuf *eb) RS_MUST_CHECK;

/* The link flow's code exchange (all borrowed). */
struct lf_oauth_exchange {
    const struct prov_ops *ops;
    const json_t *fields;                 /* the prov_oauth fields the authorization started with */
    const char *base_url;                 /* the link session's override, or NULL */
    const struct lf_oauth_client *client; /* with its secret */
    const char *code, *redirect_uri, *code_verifier;
    int64_t timeout_ms; /* 0: 10 s */
    bool allow_private; /* ROSTER_ALLOW_PRIVATE_UPSTREAMS */
};

/*
 * Trades the authorization code at the provider's token endpoint (lf_oauth_token_call on a
 * client of its own: for a thread that has none) into a new token (*out, new reference). No
 * database. Errors as lf_oauth_token_call: RS_ERR_AUTH when the provider refused the code (used,
 * expired, wrong verifier, wrong client), RS_ERR_UPSTREAM when it could not be asked.
 */
enum rs_err lf_oauth_token_exchange(const struct lf_oauth_exchange *x, int64_t now_us, json_t **out,
                                    struct rs_errbuf *eb) RS_MUST_CHECK;

/* Seals token for linked account `account` (uuid text) and stores it as its access_token. */
enum rs_err lf_oauth_token_save(struct rs_db *db, const struct rs_vault *vault, const char *account,
                                const json_t *token, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * A usable access token for linked account `account` of adapter ops, refreshed if needed, in
 * one transaction that locks the account's row (SELECT … FOR UPDATE): the stored token is
 * re-read under the lock and returned as it is when another worker refreshed it meanwhile —
 * still valid for more than LF_OAUTH_REFRESH_MARGIN_US at now_us, and its access token is not
 * `rejected` (the one a provider just answered 401 to; NULL: none) — else the refresh token
 * goes to the token endpoint with the organization's OAuth client, and the new token (with a
 * rotated refresh token, if the provider sent one) is stored before COMMIT. The refresh is
 * the only writer of an OAuth account's token. *out (new reference) is the token.
 * Permanent refusal: the account becomes RELINK_NEEDED with a status_detail sentence, and
 * RS_ERR_AUTH is returned. Transient failure: nothing changes, RS_ERR_UPSTREAM. Also
 * RS_ERR_NOTFOUND (no such account), RS_ERR_INVALID (no OAuth client configured: eb says
 * which), RS_ERR_CRYPTO (a sealed value does not open), RS_ERR_DB/RS_ERR_UNAVAILABLE.
 * Must be called outside a transaction on io->db.
 */
enum rs_err lf_oauth_token_fresh(const struct lf_oauth_io *io, const struct prov_ops *ops,
                                 const char *account, const char *rejected, int64_t now_us,
                                 json_t **out, struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---- lf_oauth_pending.c: authorizations the link flow started (table link_oauth_states) ---- */

/* How long a started sign-in may take before its callback is refused. */
#define LF_OAUTH_PENDING_TTL_S 600
#define LF_OAUTH_URL_MAX       2048

/*
 * An authorization in flight: what the callback needs, stored under the SHA-256 of the state
 * it was started with. The verifier, the link token and the fields are sealed together.
 */
struct lf_oauth_pending {
    char id[RS_UUID_STR_LEN];         /* set by lf_oauth_pending_save / _take */
    char session_id[RS_UUID_STR_LEN]; /* the link session it belongs to */
    char integration[64];
    char redirect_uri[LF_OAUTH_URL_MAX + 1];   /* sent again at the code exchange */
    char code_verifier[LF_OAUTH_VERIFIER_MAX]; /* secret */
    char link_token[RS_TOKEN_MAX_LEN];         /* secret: the pages' links back into the flow */
    json_t *fields;                            /* owned: the prov_oauth fields ({} for none) */
};

/*
 * The SQL parameter under which a state is stored: hex of its SHA-256 (a database copy cannot
 * answer a callback). false when state does not have the shape of ours (43 base64url
 * characters): such a state was never stored.
 */
bool lf_oauth_pending_hash(const char *state, char out[LF_HASH_HEX_LEN]);
/* The sealed part of p as a new object {"code_verifier", "link_token", "fields"}. */
enum rs_err lf_oauth_pending_secrets(const struct lf_oauth_pending *p, json_t **out) RS_MUST_CHECK;
/*
 * Reads such an object back into p (verifier, link token, a copy of fields). RS_ERR_INVALID
 * when it is not exactly that shape with a well-formed verifier and link token; RS_ERR_NOMEM.
 */
enum rs_err lf_oauth_pending_open_secrets(const json_t *secrets,
                                          struct lf_oauth_pending *p) RS_MUST_CHECK;
/* Wipes p and releases its fields. */
void lf_oauth_pending_cleanup(struct lf_oauth_pending *p);

/*
 * Stores p (session_id, integration, redirect_uri, code_verifier, link_token, fields) under
 * state, expiring in LF_OAUTH_PENDING_TTL_S, and sets p->id; expired rows are purged.
 * RS_ERR_INVALID for a malformed state; RS_ERR_DB/RS_ERR_UNAVAILABLE, RS_ERR_NOMEM (eb).
 */
enum rs_err lf_oauth_pending_save(struct rs_db *db, const struct rs_vault *vault, const char *state,
                                  struct lf_oauth_pending *p, struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Takes the authorization of state: deletes it (a state works once, also when it then fails)
 * and fills p (release with lf_oauth_pending_cleanup; emptied on failure). RS_ERR_NOTFOUND when
 * there is none (never stored, already taken) or it had expired (eb says which);
 * RS_ERR_CRYPTO when its sealed part does not open; RS_ERR_DB/RS_ERR_UNAVAILABLE.
 */
enum rs_err lf_oauth_pending_take(struct rs_db *db, const struct rs_vault *vault, const char *state,
                                  struct lf_oauth_pending *p, struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---- lf_oauth_callback.c: the redirect back from the provider ---- */

#define LF_OAUTH_CODE_MAX 1024 /* longest authorization code accepted */

/* What the provider's redirect carried (RFC 6749 §4.1.2, §4.1.2.1). */
struct lf_oauth_callback {
    char state[LF_OAUTH_B64_32];
    char code[LF_OAUTH_CODE_MAX + 1]; /* "" when error is set; secret (single use) */
    char error[64];                   /* "access_denied", …; "" when code is set */
};

/*
 * Reads the raw query string of a callback (NULL: none): state (of our shape) and exactly one
 * of code and error, each at most once and within its RFC 6749 character set and our bounds;
 * other parameters (error_description, iss…) are ignored. RS_ERR_INVALID otherwise (out is
 * then empty). Pure.
 */
enum rs_err lf_oauth_callback_parse(const char *query, struct lf_oauth_callback *out) RS_MUST_CHECK;
/* Wipes the code. */
void lf_oauth_callback_cleanup(struct lf_oauth_callback *cb);

#endif
