/* Bearer secrets (API keys, account tokens, link tokens): generation and hashing for storage. */
#ifndef ROSTER_RS_TOKEN_H
#define ROSTER_RS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

#define RS_TOKEN_HASH_LEN 32
/* Longest token: a prefix of up to 8 characters, "_" and 43 base64url characters, NUL. */
#define RS_TOKEN_MAX_LEN 56

/*
 * Writes prefix + "_" + base64url (no padding) of 32 random bytes into out, e.g.
 * "rk_Zm9v…". prefix is at most 8 characters. outlen must be >= RS_TOKEN_MAX_LEN.
 * Returns RS_ERR_INVALID if the prefix is too long or out too small.
 */
enum rs_err rs_token_new(const char *prefix, char *out, size_t outlen) RS_MUST_CHECK;

/* SHA-256 of the token's bytes: what is stored and looked up instead of the token. */
void rs_token_hash(const char *token, size_t len, uint8_t out[RS_TOKEN_HASH_LEN]);

/* Lower-case hex of a hash into out (2*RS_TOKEN_HASH_LEN+1 bytes), for SQL parameters. */
char *rs_token_hash_hex(const uint8_t hash[RS_TOKEN_HASH_LEN], char out[2 * RS_TOKEN_HASH_LEN + 1]);

#endif
