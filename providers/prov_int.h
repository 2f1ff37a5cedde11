/*
 * Declarations shared only inside providers/: the adapters the registry lists, the
 * table-driven mapping and record delivery helpers they share (prov_map.c), and the token and
 * OAuth helpers (prov_request.c, prov_oauth.c).
 */
#ifndef ROSTER_PROV_INT_H
#define ROSTER_PROV_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_model.h"
#include "roster/rs_time.h"
#include "roster/rs_uuid.h"

extern const struct prov_ops prov_bamboohr_ops;
extern const struct prov_ops prov_personio_ops;
extern const struct prov_ops prov_hibob_ops;
extern const struct prov_ops prov_factorial_ops;

/* A provider's enum value and the normalized value it maps to (NULL: map to null). */
struct prov_enum {
    const char *from; /* compared case-insensitively */
    const char *to;
};

enum prov_conv {
    PROV_TEXT,     /* string (whole, any length; numbers are formatted) → string; "" → null */
    PROV_DATE,     /* a calendar date: its YYYY-MM-DD as written (local to the provider, any time
                      or offset after it ignored) → midnight UTC; "0000-00-00" → null */
    PROV_DATETIME, /* an instant in any form rs_time_parse takes (offsets applied) → UTC */
    PROV_ENUM, /* through `enums`; an unknown value → null (and counted by the caller if wanted) */
    PROV_REF,  /* the provider's id of a related record → its UUID (rs_model_id of `ref`) */
    PROV_BOOL, /* true/false, "true"/"false", 1/0 → boolean */
};

/* One mapping: the value at `from` (a dotted path) becomes normalized field `to`. */
struct prov_map {
    const char *from;
    const char *to;
    enum prov_conv conv;
    const struct prov_enum *enums; /* PROV_ENUM: table ending with {NULL, NULL} */
    enum rs_model_kind ref;        /* PROV_REF: the related model */
};

/* The value at a dotted path ("work.department") of obj, or NULL (missing or not an object). */
const json_t *prov_json_path(const json_t *obj, const char *path);
/* A scalar as text into out (strings as is, integers and reals formatted); NULL otherwise. */
const char *prov_json_text(const json_t *value, char *out, size_t outlen);
/* The normalized value of an enum through table, or NULL when value is not in it. */
const char *prov_enum_lookup(const struct prov_enum *table, const char *value);
/* The JSON string of the UUID of (kind, remote_id) in account, or null for an empty id. */
json_t *prov_ref(const struct rs_uuid *account, enum rs_model_kind kind, const char *remote_id);

/*
 * Applies every mapping of map to src, setting fields of dst (a JSON object). A value of the
 * wrong shape for its conversion (an object where text is expected, an unparseable date)
 * makes the whole record unmappable: returns RS_ERR_INVALID and names the provider field in
 * *bad. Missing values become null. RS_ERR_NOMEM on allocation failure.
 */
enum rs_err prov_map_apply(const struct prov_map *map, size_t n, const json_t *src,
                           const struct rs_uuid *account, json_t *dst,
                           const char **bad) RS_MUST_CHECK;

/*
 * Hands one record to sink, with remote_data [{"path": path, "data": data}] when data is not
 * NULL (borrowed). RS_ERR_NOMEM, or what sink->record answers.
 */
enum rs_err prov_deliver(const struct prov_sink *sink, enum rs_model_kind kind,
                         const char *remote_id, const json_t *fields, const char *path,
                         const json_t *data) RS_MUST_CHECK;

/*
 * display_full_name from a normalized employee's names: "Preferred-or-first Last", either part
 * alone when the other is missing, null when both are (new reference; NULL when out of memory).
 */
json_t *prov_display_name(const json_t *employee);

/*
 * True when token is a string that can be sent in an Authorization header from
 * prov_request.secret: non-empty printable ASCII without spaces, short enough to fit.
 */
bool prov_request_token_fits(const json_t *token);

/* ---- OAuth helpers shared by the adapters that take OAuth tokens (prov_oauth.c) */

/*
 * Makes req send the OAuth access token of sync->token as a bearer. RS_ERR_AUTH, with a
 * detail naming the provider (never the token) in eb, when there is none to send: no token
 * object or access_token, flagged "invalid" by the engine after a 401, expired
 * (expires_at_us <= now_us; a token without expires_at_us is sent), or unfit for a header.
 */
enum rs_err prov_oauth_bearer(const struct prov_sync *sync, const char *provider,
                              struct prov_request *req, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * origin + path into out, base_url (when non-NULL and non-empty) replacing origin as
 * prov_request_url does. RS_ERR_TOOBIG (detail in eb) when it does not fit.
 */
enum rs_err prov_oauth_url(const char *origin, const char *path, const char *base_url, char *out,
                           size_t outlen, struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
