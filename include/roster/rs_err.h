/* The one error enum of Roster and a fixed-size buffer for the human-readable detail. */
#ifndef ROSTER_RS_ERR_H
#define ROSTER_RS_ERR_H

#include <stddef.h>

#define RS_MUST_CHECK        __attribute__((warn_unused_result))
#define RS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

enum rs_err {
    RS_OK = 0,
    RS_ERR_NOMEM,       /* allocation failed */
    RS_ERR_INVALID,     /* bad input: the caller's fault (HTTP 400) */
    RS_ERR_NOTFOUND,    /* no such thing, or not visible to the caller (404) */
    RS_ERR_CONFLICT,    /* already exists / state forbids it (409) */
    RS_ERR_AUTH,        /* missing or wrong credentials (401) */
    RS_ERR_FORBIDDEN,   /* authenticated but not allowed (403) */
    RS_ERR_TOOBIG,      /* a limit was exceeded (413) */
    RS_ERR_METHOD,      /* method not allowed on this route (405) */
    RS_ERR_UPSTREAM,    /* the provider answered with an error (502) */
    RS_ERR_RATELIMIT,   /* throttled (429) */
    RS_ERR_TIMEOUT,     /* an operation timed out (504) */
    RS_ERR_DB,          /* a database statement failed (500) */
    RS_ERR_UNAVAILABLE, /* a dependency is down, retry later (503) */
    RS_ERR_CRYPTO,      /* sealing or opening failed (500); a bad cursor is RS_ERR_INVALID */
    RS_ERR_INTERNAL,    /* a bug (500) */
};

/* Static name of an error, e.g. "invalid" for RS_ERR_INVALID; never NULL. */
const char *rs_err_name(enum rs_err err);

/*
 * Detail of an error for humans. No allocation; never holds a secret. `param` names the
 * offending input (a query parameter or JSON field) when there is one, for 400 bodies.
 */
struct rs_errbuf {
    char msg[256];
    char param[64];
};

/* Sets msg (formatted, truncated to fit) and clears param. eb may be NULL. Returns err. */
enum rs_err rs_errbuf_set(struct rs_errbuf *eb, enum rs_err err, const char *fmt, ...)
    RS_PRINTF(3, 4);
/* Same as rs_errbuf_set, also recording the parameter's name. */
enum rs_err rs_errbuf_param(struct rs_errbuf *eb, enum rs_err err, const char *param,
                            const char *fmt, ...) RS_PRINTF(4, 5);
/* Empties eb (both strings ""). */
void rs_errbuf_clear(struct rs_errbuf *eb);

#endif
