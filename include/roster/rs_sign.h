/*
 * Webhook signatures: endpoint secrets (`whsec_` + base64 of random key bytes), the Standard
 * Webhooks v1 signature (`v1,` + base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")) and
 * Merge's X-Merge-Webhook-Signature (base64url without padding of HMAC-SHA256(key, body)),
 * both keyed with the secret's decoded key bytes. See docs/design/webhooks.md.
 */
#ifndef ROSTER_RS_SIGN_H
#define ROSTER_RS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

/* Key bytes of a new secret, and the range a secret may decode to (the specification's). */
#define RS_SIGN_NEW_KEY_LEN 32
#define RS_SIGN_KEY_MIN     16
#define RS_SIGN_KEY_MAX     64
/* "whsec_" + base64 of RS_SIGN_KEY_MAX bytes + NUL. */
#define RS_SIGN_SECRET_MAX 96
/* "v1," + 44 base64 characters + NUL. */
#define RS_SIGN_STANDARD_LEN 48
/* 43 base64url characters + NUL. */
#define RS_SIGN_MERGE_LEN 44

/* Decoded key bytes. Wipe with sodium_memzero when done (they are the secret). */
struct rs_sign_key {
    uint8_t bytes[RS_SIGN_KEY_MAX];
    size_t len;
};

/* A new secret, "whsec_" + base64 of RS_SIGN_NEW_KEY_LEN random bytes, into out. */
void rs_sign_secret_new(char out[RS_SIGN_SECRET_MAX]);

/*
 * The key bytes of a secret: the base64 (standard alphabet, padded or not) after an optional
 * "whsec_" prefix, decoding to RS_SIGN_KEY_MIN..RS_SIGN_KEY_MAX bytes. RS_ERR_INVALID
 * otherwise (out is then zeroed).
 */
enum rs_err rs_sign_key_from_secret(const char *secret, struct rs_sign_key *out) RS_MUST_CHECK;

/*
 * The Standard Webhooks signature "v1,<base64>" of body (len bytes, exactly as sent) for
 * message id msg_id at timestamp (Unix seconds), into out.
 */
void rs_sign_standard(const struct rs_sign_key *key, const char *msg_id, int64_t timestamp,
                      const void *body, size_t len, char out[RS_SIGN_STANDARD_LEN]);

/* Merge's signature: base64url, without padding, of HMAC-SHA256(key, body), into out. */
void rs_sign_merge(const struct rs_sign_key *key, const void *body, size_t len,
                   char out[RS_SIGN_MERGE_LEN]);

#endif
