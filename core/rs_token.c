/*
 * Bearer secrets: a short readable prefix and 32 random bytes in base64url. Only their SHA-256
 * is stored, so a database leak does not reveal usable tokens.
 */
#include "roster/rs_token.h"

#include <string.h>

#include <sodium.h>

#define TOKEN_PREFIX_MAX   8
#define TOKEN_RANDOM_BYTES 32

enum rs_err rs_token_new(const char *prefix, char *out, size_t outlen)
{
    uint8_t random[TOKEN_RANDOM_BYTES];
    size_t plen;

    if (!prefix || !out || outlen < RS_TOKEN_MAX_LEN)
        return RS_ERR_INVALID;
    plen = strnlen(prefix, TOKEN_PREFIX_MAX + 1);
    if (plen > TOKEN_PREFIX_MAX)
        return RS_ERR_INVALID;
    randombytes_buf(random, sizeof(random));
    memcpy(out, prefix, plen);
    out[plen] = '_';
    sodium_bin2base64(out + plen + 1, outlen - plen - 1, random, sizeof(random),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(random, sizeof(random));
    return RS_OK;
}

void rs_token_hash(const char *token, size_t len, uint8_t out[RS_TOKEN_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)token, len);
}

char *rs_token_hash_hex(const uint8_t hash[RS_TOKEN_HASH_LEN], char out[2 * RS_TOKEN_HASH_LEN + 1])
{
    return sodium_bin2hex(out, 2 * RS_TOKEN_HASH_LEN + 1, hash, RS_TOKEN_HASH_LEN);
}
