/*
 * Provider adapters: one `const struct prov_ops prov_<name>_ops` per HRIS (curl vtls-style),
 * found through the registry by integration slug. An adapter declares how it authenticates
 * and which credential fields its connect form asks for; the sync functions arrive with the
 * sync engine.
 */
#ifndef ROSTER_PROV_H
#define ROSTER_PROV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/rs_err.h"

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

struct prov_ops {
    const char *slug;  /* "bamboohr": integration slug and sandbox path prefix */
    const char *name;  /* "BambooHR" */
    const char *color; /* brand color, "#RRGGBB" (Merge's integration objects carry one) */
    enum prov_auth auth;
    const struct prov_field *fields;
    size_t nfields;
};

/* The adapter for an integration slug, or NULL. */
const struct prov_ops *prov_find(const char *slug);
/* Every adapter, in display order; *n receives the count. */
const struct prov_ops *const *prov_list(size_t *n);

/*
 * Checks a credentials object against the adapter's fields: an object whose every field is
 * present as a non-empty string matching its pattern, and no other keys. Detail (naming the
 * field, never its value) in eb. RS_OK or RS_ERR_INVALID.
 */
enum rs_err prov_check_credentials(const struct prov_ops *ops, const json_t *credentials,
                                   struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
