/*
 * The hosted connect pages under /link/: provider picker, credential form, success page and
 * the pages of a link that cannot be used, rendered into HTML from the layout compiled into
 * the binary (linkflow/assets/), plus the static CSS/JS they load and the security headers
 * every one of them is sent with. No external asset, no inline script or style.
 */
#ifndef ROSTER_LF_PAGE_H
#define ROSTER_LF_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_buf.h"
#include "roster/rs_err.h"

/* How a provider can be connected on the hosted pages (bits of lf_page_connect_ways). */
enum lf_connect {
    LF_CONNECT_NONE = 0,  /* nothing the pages can offer */
    LF_CONNECT_FORM = 1,  /* credential fields: the API-key form */
    LF_CONNECT_OAUTH = 2, /* OAuth2 authorization code: sign in at the provider and approve */
};

/*
 * The ways ops can be connected: LF_CONNECT_FORM when it has credential fields (and is not an
 * OAuth-code adapter), LF_CONNECT_OAUTH when it describes an authorization server
 * (ops->oauth); both for BambooHR, none for a provider the pages cannot offer.
 */
unsigned lf_page_connect_ways(const struct prov_ops *ops);
/* The way a provider's page opens with: the API-key form when it has one, else OAuth. */
enum lf_connect lf_page_connect_kind(const struct prov_ops *ops);

/* What every page of one link shows (strings borrowed). */
struct lf_page_ctx {
    const char *token;             /* the link token: the flow's URLs are /link/<token>/… */
    const char *org_name;          /* the organization (the app) that sent the link */
    const char *end_user_org_name; /* the company being connected */
    const char *form_token;        /* the session's form token */
    bool preselected;              /* the link names one integration: no "all systems" link */
};

/* The picker: connectable providers whose name contains query (NULL/"": all), case-insensitive. */
enum rs_err lf_page_picker(const struct lf_page_ctx *ctx, const char *query,
                           struct rs_buf *out) RS_MUST_CHECK;

/*
 * The credential form of ops: values prefill non-secret fields; error (NULL: none) is shown at
 * the top in an alert region; bad_field/field_error mark one field (-1: none).
 */
enum rs_err lf_page_form(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                         const json_t *values, const char *error, int bad_field,
                         const char *field_error, struct rs_buf *out) RS_MUST_CHECK;

/*
 * The success page: hands public_token to the opener by postMessage when opener_origin is set,
 * and goes on to return_url (the organization's return URL with the public token appended;
 * NULL: none).
 */
enum rs_err lf_page_success(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                            const char *public_token, const char *opener_origin,
                            const char *return_url, struct rs_buf *out) RS_MUST_CHECK;

/*
 * lf_page_oauth.c: the page that starts an OAuth sign-in with ops: what happens next, the
 * fields asked first (ops->oauth->fields, values prefilling them; error, bad_field and
 * field_error as on the credential form), and "Continue to <Provider>", which posts to
 * /link/<token>/<slug>/oauth. Offers the API-key form too when ops has one.
 */
enum rs_err lf_page_oauth(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                          const json_t *values, const char *error, int bad_field,
                          const char *field_error, struct rs_buf *out) RS_MUST_CHECK;

/* How an OAuth sign-in can end other than connected. */
enum lf_page_oauth_problem {
    LF_PAGE_OAUTH_NOT_SET_UP,     /* the organization has no OAuth client for the provider */
    LF_PAGE_OAUTH_BAD_STATE,      /* the callback's state: unknown, used or expired */
    LF_PAGE_OAUTH_DECLINED,       /* the admin did not approve (error=access_denied) */
    LF_PAGE_OAUTH_PROVIDER_ERROR, /* the provider sent another error back (detail: its code) */
    LF_PAGE_OAUTH_REFUSED,        /* the token endpoint refused the code */
    LF_PAGE_OAUTH_UNAVAILABLE,    /* the token endpoint could not be asked */
};

/*
 * The page (answered 200, like every page a person reads) for problem with ops (NULL: none
 * known) in the session of ctx (NULL: none known, then no links back): a sentence saying what
 * happened and what to do, and links to try again, to the API-key form, back to the picker.
 * detail: the provider's error code for LF_PAGE_OAUTH_PROVIDER_ERROR (checked by the caller).
 */
enum rs_err lf_page_oauth_problem(enum lf_page_oauth_problem problem, const struct lf_page_ctx *ctx,
                                  const struct prov_ops *ops, const char *detail,
                                  struct rs_buf *out) RS_MUST_CHECK;
/* "oauth-not-set-up", "oauth-bad-state", "oauth-declined", "oauth-provider-error",
   "oauth-refused", "oauth-unavailable" (the X-Roster-Page of each). */
const char *lf_page_oauth_problem_name(enum lf_page_oauth_problem problem);

/* Why a link page cannot be shown. */
enum lf_page_problem {
    LF_PAGE_EXPIRED,
    LF_PAGE_USED,
    LF_PAGE_REVOKED,
    LF_PAGE_UNKNOWN,     /* no such link */
    LF_PAGE_NO_PROVIDER, /* no connectable provider of that name */
    LF_PAGE_BROKEN,      /* our failure */
};

/*
 * The page for problem; org_name (NULL: unknown) says whom to ask. *status: its HTTP status
 * (200: a page a person reads is not an HTTP error, which browsers log as one; 500 for ours).
 */
enum rs_err lf_page_problem(enum lf_page_problem problem, const char *org_name, int *status,
                            struct rs_buf *out) RS_MUST_CHECK;

/* "expired", "used", "revoked", "unknown", "no-provider", "error". */
const char *lf_page_problem_name(enum lf_page_problem problem);

/* A static asset ("link.css", "link.js", "favicon.svg"): its bytes and content type, or false. */
bool lf_page_asset(const char *name, const char **data, size_t *len, const char **content_type);

/* The security headers of every /link/ response (NULL-terminated name/value pairs). */
extern const char *const lf_page_headers[][2];

/*
 * The Content-Security-Policy of lf_page_headers with form_action (a CSP source list such as
 * "https://api.factorialhr.com", or NULL) allowed as well as 'self': a form that is answered
 * with a redirect elsewhere needs it (browsers check form-action on every redirect of a form
 * submission). RS_ERR_INVALID when form_action holds what could end the directive;
 * RS_ERR_TOOBIG when out is too small.
 */
enum rs_err lf_page_csp(const char *form_action, char *out, size_t outlen) RS_MUST_CHECK;

#endif
