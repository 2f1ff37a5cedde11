/*
 * The secrets of the link flow and their rules: link tokens (the magic link's path), public
 * tokens (handed to the app once a connection completes, exchanged once for an account token),
 * the lifetime bounds of a link, and the per-session form token that makes the hosted pages'
 * form posts CSRF-safe. Link and public tokens are rs_token secrets, stored only as SHA-256.
 */
#ifndef ROSTER_LF_TOKEN_H
#define ROSTER_LF_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/rs_err.h"
#include "roster/rs_token.h"
#include "roster/rs_uuid.h"
#include "roster/rs_vault.h"

#define LF_EXPIRY_MIN_MINS     30
#define LF_EXPIRY_MAX_MINS     10080 /* 7 days, Merge's maximum for a magic link */
#define LF_EXPIRY_DEFAULT_MINS 10080
#define LF_PUBLIC_TOKEN_TTL_S  3600 /* the app exchanges a public token within the hour */

#define LF_LINK_PREFIX   "lt"
#define LF_PUBLIC_PREFIX "pt"

/* Hex of a token's SHA-256, as SQL parameters take it. */
#define LF_HASH_HEX_LEN (2 * RS_TOKEN_HASH_LEN + 1)
/* The form token: base64url (no padding) of a 32-byte MAC, NUL included. */
#define LF_FORM_TOKEN_LEN 44

/* Why a link session can or cannot be used. */
enum lf_link_state {
    LF_LINK_ACTIVE,    /* usable */
    LF_LINK_COMPLETED, /* a connection completed through it: single use */
    LF_LINK_EXPIRED,
    LF_LINK_REVOKED,
};

/*
 * Reads `link_expiry_mins` (NULL or JSON null: the default): an integer from 30 to 10080.
 * RS_ERR_INVALID naming the parameter otherwise.
 */
enum rs_err lf_token_expiry(const json_t *value, int *mins, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * The state of a session at now_us: revoked wins over completed, completed over expired (a
 * link that expired after it was used still reads as used). expires_us is exclusive.
 */
enum lf_link_state lf_token_state(int64_t now_us, int64_t expires_us, bool used, bool revoked);
/* "ACTIVE", "COMPLETED", "EXPIRED", "REVOKED". */
const char *lf_token_state_name(enum lf_link_state state);

/*
 * True when text has the shape of a token with this prefix ("lt", "pt"): prefix, "_", 43
 * base64url characters. Lets a handler refuse junk before it reaches the database.
 */
bool lf_token_well_formed(const char *text, const char *prefix);

/* SHA-256 of token as lower-case hex into out. */
void lf_token_hash_hex(const char *token, char out[LF_HASH_HEX_LEN]);

/*
 * The form token of a link session: HMAC-SHA-512/256 of the session id under a subkey the
 * vault derives ("linkform"), so it needs no storage and every rosterd with the same master
 * key agrees. Never NUL-free: out is NUL-terminated.
 */
void lf_token_form(const struct rs_vault *vault, const struct rs_uuid *session,
                   char out[LF_FORM_TOKEN_LEN]);
/* True when given is the form token of session (constant-time comparison). */
bool lf_token_form_check(const struct rs_vault *vault, const struct rs_uuid *session,
                         const char *given);

#endif
