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

/* How a provider can be connected on the hosted pages. */
enum lf_connect {
    LF_CONNECT_FORM,  /* credential fields: the API-key form */
    LF_CONNECT_OAUTH, /* OAuth2 authorization code, no fields: a "Continue with" button */
    LF_CONNECT_NONE,  /* nothing the pages can offer yet */
};

/*
 * Which way ops is connected. OAuth providers are LF_CONNECT_NONE until the OAuth redirect is
 * wired in (see the OAUTH-REDIRECT branch in lf_page.c), so no page offers what cannot work.
 */
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

#endif
