/*
 * Sealed columns: the one table of every database column that holds a vault-sealed value, with
 * the associated data (AAD) each value is bound to, and what every reader, writer and
 * `rosterd rotate-key` needs on top of the vault: sealing into and opening from PostgreSQL's
 * bytea hex text, errors that name the row (never the secret), and key rotation row by row.
 * A new sealed column is one entry in core/rs_sealed.c and one in enum rs_sealed_kind.
 */
#ifndef ROSTER_RS_SEALED_H
#define ROSTER_RS_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_vault.h"

enum rs_sealed_kind {
    RS_SEALED_CREDENTIALS,         /* linked_accounts.credentials, AAD "<account id>" */
    RS_SEALED_ACCESS_TOKEN,        /* linked_accounts.access_token, AAD "<account id>/token" */
    RS_SEALED_OAUTH_CLIENT_SECRET, /* oauth_clients.client_secret,
                                      AAD "<organization id>/oauth/<integration>" */
    RS_SEALED_LINK_OAUTH_STATE,    /* link_oauth_states.secrets (PKCE verifier, link token,
                                      fields of an authorization in flight), AAD
                                      "<id>/oauth-state" */
    RS_SEALED_WEBHOOK_SECRET,      /* webhook_endpoints.secret, AAD "<endpoint id>/webhook" */
    RS_SEALED_WEBHOOK_PREVIOUS,    /* webhook_endpoints.previous_secret (rotation's grace
                                      period), AAD "<endpoint id>/webhook" */
    RS_SEALED_COUNT
};

/* Longest AAD (two keys of at most 100 bytes each and the separators). */
#define RS_SEALED_AAD_MAX 256

struct rs_sealed_column {
    enum rs_sealed_kind kind;
    const char *table, *column;
    const char *key1;       /* uuid column that identifies the row (with key2) */
    const char *key2;       /* text column, or NULL when key1 alone identifies the row */
    const char *aad_sep;    /* AAD = key1 + aad_sep + key2 + aad_suffix */
    const char *aad_suffix; /* "" when none */
    const char *owner1;     /* how messages name the row: owner1 key1 [owner2 key2] */
    const char *owner2;
    const char *what; /* what the value is, for messages: "credentials" */
};

/* Every sealed column, in order of enum rs_sealed_kind; *n receives RS_SEALED_COUNT. */
const struct rs_sealed_column *rs_sealed_columns(size_t *n);

/*
 * The AAD of kind's value in the row (key1, key2); key2 is ignored (may be NULL) for one-key
 * columns. RS_ERR_INVALID when a key is missing or too long for RS_SEALED_AAD_MAX.
 */
enum rs_err rs_sealed_aad(enum rs_sealed_kind kind, const char *key1, const char *key2,
                          char out[RS_SEALED_AAD_MAX]) RS_MUST_CHECK;

/*
 * Seals plain (n bytes) for the row under the vault's current key into bytea hex text
 * ("\x…", a text parameter for $n::bytea); *hex_out is malloc'd (caller frees).
 * RS_ERR_NOMEM, or RS_ERR_INVALID for bad keys.
 */
enum rs_err rs_sealed_seal(const struct rs_vault *vault, enum rs_sealed_kind kind, const char *key1,
                           const char *key2, const void *plain, size_t n,
                           char **hex_out) RS_MUST_CHECK;
/* rs_sealed_seal of value's compact JSON text (keys sorted); the text is wiped after. */
enum rs_err rs_sealed_seal_json(const struct rs_vault *vault, enum rs_sealed_kind kind,
                                const char *key1, const char *key2, const json_t *value,
                                char **hex_out) RS_MUST_CHECK;

/*
 * Opens bytea hex text (a text-format result of the column) for the row. *plain is
 * sodium_malloc'd and NUL-terminated after *len bytes (release with rs_vault_free_plain).
 * RS_ERR_NOTFOUND when hex is NULL or empty; RS_ERR_CRYPTO when it does not open, with eb
 * naming the row and why: not a sealed value, sealed under a key id the vault does not hold
 * (name of the settings to fix), or not authenticating (changed, or another row's value).
 */
enum rs_err rs_sealed_open(const struct rs_vault *vault, enum rs_sealed_kind kind, const char *key1,
                           const char *key2, const char *hex, uint8_t **plain, size_t *len,
                           struct rs_errbuf *eb) RS_MUST_CHECK;
/* rs_sealed_open of a JSON value; *out is a new reference. RS_ERR_CRYPTO also for bad JSON. */
enum rs_err rs_sealed_open_json(const struct rs_vault *vault, enum rs_sealed_kind kind,
                                const char *key1, const char *key2, const char *hex, json_t **out,
                                struct rs_errbuf *eb) RS_MUST_CHECK;

/* What rs_sealed_rotate did, per column (index = enum rs_sealed_kind). */
struct rs_sealed_rotation {
    size_t resealed[RS_SEALED_COUNT]; /* opened with a retired key, sealed with the current one */
    size_t failed[RS_SEALED_COUNT];   /* could not be opened (reported through on_failure) */
    size_t current[RS_SEALED_COUNT];  /* under the current key at the end */
    size_t stray[RS_SEALED_COUNT];    /* under another key at the end, not counting failures:
                                         written meanwhile by a process sealing with an old key */
};

/* Called for each value that cannot be opened: why names the row and the reason, no secret. */
typedef void (*rs_sealed_failure_fn)(void *arg, const struct rs_sealed_column *column,
                                     const char *key1, const char *key2, const char *why);

/*
 * Re-seals every sealed value of every column under the vault's current key, opening each with
 * whichever of the vault's keys its key id names. Works in keyset order in transactions of at
 * most `batch` rows locked with SELECT … FOR UPDATE, and writes a row only if its value is
 * still the one read, so a concurrent writer's newer value is never replaced by a stale one;
 * values already under the current key are left alone, so it is idempotent and can be
 * interrupted and run again. A table that does not exist is skipped. Fills *out. Returns
 * RS_ERR_CRYPTO when some value could not be opened (each reported through on_failure),
 * RS_ERR_CONFLICT when values under another key remain (stray: a server still seals with an
 * old key), RS_ERR_DB/RS_ERR_UNAVAILABLE when the database fails (eb).
 */
enum rs_err rs_sealed_rotate(struct rs_db *db, const struct rs_vault *vault, int batch,
                             struct rs_sealed_rotation *out, rs_sealed_failure_fn on_failure,
                             void *arg, struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
