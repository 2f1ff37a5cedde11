/*
 * Provider adapters: one `const struct prov_ops prov_<name>_ops` per HRIS (curl vtls-style),
 * found through the registry by integration slug. An adapter declares how it authenticates,
 * which credential fields its connect form asks for, and two pure functions the sync engine
 * drives: next_request (what to fetch next) and parse_response (a page → normalized records
 * and a continuation). Adapters do no I/O and keep no global state: everything a sync needs
 * to continue lives in struct prov_sync, which the engine owns. A provider that can be
 * connected by OAuth2 authorization code also describes its authorization server
 * (struct prov_oauth) for the link flow, which runs it; adapters only send its access tokens.
 */
#ifndef ROSTER_PROV_H
#define ROSTER_PROV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_store.h"
#include "roster/rs_uuid.h"

enum prov_auth {
    PROV_AUTH_BASIC,         /* HTTP Basic from credential fields */
    PROV_AUTH_API_KEY,       /* a key in a header */
    PROV_AUTH_OAUTH2_CODE,   /* authorization code (+ PKCE) */
    PROV_AUTH_OAUTH2_CLIENT, /* client credentials */
};

/* A credential field of the connect form (and of the admin API's `credentials` object). */
struct prov_field {
    const char *name;    /* key in the credentials object */
    const char *label;   /* form label */
    const char *help;    /* where to find it in the HRIS */
    const char *pattern; /* POSIX extended regex the value must match, or NULL */
    bool secret;         /* masked in forms, never logged */
};

/* Capabilities (prov_ops.caps). */
#define PROV_CAP_INCREMENTAL 0x1u /* can fetch only what changed since a time */

/* An HTTP request an adapter wants made; the engine sends it (rs_httpc) and owns retries. */
struct prov_request {
    char method[8]; /* "GET", "POST" */
    char url[2048]; /* absolute, built with prov_request_url */
    enum { PROV_REQ_AUTH_NONE, PROV_REQ_AUTH_BASIC, PROV_REQ_AUTH_BEARER } auth;
    char user[256];        /* Basic user name */
    char secret[1024];     /* Basic password or bearer token: wiped by prov_request_cleanup */
    char content_type[64]; /* of body; "" when there is none */
    char *body;            /* malloc'd, or NULL */
    size_t body_len;
    int page; /* 0 for a request that fetches records, -1 for auth/metadata calls */
};
/* Wipes the secrets and frees the body; the request can be reused. */
void prov_request_cleanup(struct prov_request *req);

/* A response handed to parse_response (only 2xx reach an adapter; the engine handles the rest). */
struct prov_response {
    long status;
    const char *body; /* not NUL-terminated necessarily; len bytes */
    size_t len;
};

/* One sync run as an adapter sees it. The engine creates it and keeps it between calls. */
struct prov_sync {
    const json_t *credentials; /* the opened credentials object (borrowed) */
    const char *base_url;      /* the linked account's override, or NULL */
    struct rs_uuid account;    /* namespace of every id (rs_model_id) */
    bool full;                 /* full sync; else incremental since since_us */
    int64_t since_us;          /* incremental: changes after this time (0 on a full sync) */
    int64_t now_us;            /* wall clock at the start of this step (the engine sets it) */
    json_t *state;             /* the adapter's continuation; starts as an empty object */
    json_t *token;             /* cached access token object, or NULL; the engine persists it
                                  sealed across syncs (client-credentials / OAuth providers).
                                  An OAuth connection's is {"access_token", "refresh_token",
                                  "expires_at_us", "scope"}, kept fresh by the link flow; the
                                  engine adds "invalid": true after a 401 */
};

/* Where parse_response delivers what it read. */
struct prov_sink {
    /* One normalized record (relations already as UUIDs). An error aborts the sync. */
    enum rs_err (*record)(void *arg, enum rs_model_kind kind, const struct rs_record *record);
    /* A provider record that could not be mapped: skipped and counted, never fatal. */
    void (*skipped)(void *arg, enum rs_model_kind kind, const char *why);
    void *arg;
};

/* The endpoints of a provider's OAuth2 authorization server. */
enum prov_oauth_endpoint { PROV_OAUTH_AUTHORIZE, PROV_OAUTH_TOKEN, PROV_OAUTH_REVOKE };

/*
 * How a provider is connected by OAuth2 authorization code with PKCE (S256). The link flow
 * asks the end user for `fields` first (BambooHR: the company subdomain, which is part of
 * every URL), keeps them as the connection's credentials object (check them with
 * prov_check_oauth_credentials), redirects to the authorize endpoint with `scopes`, trades the
 * code at the token endpoint and refreshes from there. Adapters never call these endpoints:
 * they send the access token of prov_sync.token as a bearer (PROV_REQ_AUTH_BEARER) and fail
 * with RS_ERR_AUTH when it is missing, expired or flagged invalid.
 */
struct prov_oauth {
    const struct prov_field *fields; /* asked before the redirect (BambooHR: subdomain); kept
                                        in the credentials object */
    size_t nfields;
    const char *scopes;     /* space-separated, sent on authorize */
    bool client_auth_basic; /* token endpoint: HTTP Basic (else client_id/secret in body) */
    /*
     * URL of an endpoint for these pre-authorize fields (base_url, when non-NULL and
     * non-empty, replaces the documented origin as in prov_request_url: the sandbox's
     * "http://127.0.0.1:8090/factorial" gives ".../factorial/oauth/token"). RS_ERR_INVALID
     * (fields missing or malformed) / RS_ERR_TOOBIG with detail in eb, never a secret.
     */
    enum rs_err (*endpoint)(const json_t *fields, const char *base_url,
                            enum prov_oauth_endpoint which, char *out, size_t outlen,
                            struct rs_errbuf *eb);
    /*
     * When the authorize endpoint's host depends on `fields` (BambooHR: the subdomain), a
     * Content-Security-Policy source that covers it for every value (https: and any subdomain of
     * bamboohr.com for BambooHR): the connect page's form is answered with a redirect there, which
     * browsers check against its form-action. NULL: the origin of the endpoint formed without
     * fields.
     */
    const char *authorize_origin;
};

struct prov_ops {
    const char *slug;  /* "bamboohr": integration slug and sandbox path prefix */
    const char *name;  /* "BambooHR" */
    const char *color; /* brand color, "#RRGGBB" (Merge's integration objects carry one) */
    enum prov_auth auth;
    const struct prov_field *fields;
    size_t nfields;
    unsigned caps;                 /* PROV_CAP_* */
    double rate_per_s;             /* documented request rate to stay under (0 = none published) */
    double burst;                  /* requests allowed at once before throttling proactively */
    const char *rate_reset_header; /* 429 header holding the reset time (epoch s), or NULL */

    /*
     * Fills req with the next request of this sync, or sets *done when every record has been
     * delivered. Pure: reads sync (credentials, state, token) and writes only req and *done.
     * RS_ERR_INVALID when the credentials cannot form a request (detail in eb).
     */
    enum rs_err (*next_request)(const struct prov_sync *sync, struct prov_request *req, bool *done,
                                struct rs_errbuf *eb);
    /*
     * Parses the 2xx response to the request next_request made last: delivers records to
     * sink, and updates sync->state (and sync->token for an auth call) so that next_request
     * continues. RS_ERR_UPSTREAM when the body is not the documented shape (malformed or
     * truncated JSON, missing envelope) — the sync then fails and stores nothing. A single
     * record that cannot be mapped is reported through sink->skipped instead.
     */
    enum rs_err (*parse_response)(struct prov_sync *sync, const struct prov_response *resp,
                                  const struct prov_sink *sink, struct rs_errbuf *eb);
    /* OAuth2 authorization code connection, or NULL when the provider offers none. An adapter
       whose `auth` is not PROV_AUTH_OAUTH2_CODE may still have one: a second way to connect. */
    const struct prov_oauth *oauth;
};

/*
 * Builds the URL of a documented endpoint into out: `origin` is the provider's documented
 * scheme+host (e.g. "https://acme.bamboohr.com"), `path` the rest ("/api/v1/meta/lists?x=1").
 * When sync->base_url is set it replaces origin, keeping its own path as a prefix:
 * base_url "http://127.0.0.1:8090/bamboohr" + path → "http://127.0.0.1:8090/bamboohr/api/…".
 * RS_ERR_TOOBIG when it does not fit.
 */
enum rs_err prov_request_url(const struct prov_sync *sync, const char *origin, const char *path,
                             char *out, size_t outlen) RS_MUST_CHECK;

/* Appends s percent-encoded for a query string (RFC 3986 unreserved kept) into out. */
enum rs_err prov_request_escape(const char *s, char *out, size_t outlen) RS_MUST_CHECK;

/* The adapter for an integration slug, or NULL. */
const struct prov_ops *prov_find(const char *slug);
/* Every adapter, in display order; *n receives the count. */
const struct prov_ops *const *prov_list(size_t *n);

/*
 * True when value matches field->pattern (POSIX extended), or the field has no pattern; false
 * also when the pattern does not compile. The one check of a credential's shape, for the admin
 * API and the connect form alike.
 */
bool prov_field_matches(const struct prov_field *field, const char *value);

/*
 * Checks a credentials object against the adapter's fields: an object whose every field is
 * present as a non-empty string matching its pattern, and no other keys. Detail (naming the
 * field, never its value) in eb. RS_OK or RS_ERR_INVALID.
 */
enum rs_err prov_check_credentials(const struct prov_ops *ops, const json_t *credentials,
                                   struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * The same check for a connection made by OAuth: the credentials object holds exactly the
 * fields of ops->oauth (an empty object when it has none). RS_ERR_INVALID also when the
 * provider has no OAuth connection.
 */
enum rs_err prov_check_oauth_credentials(const struct prov_ops *ops, const json_t *credentials,
                                         struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
