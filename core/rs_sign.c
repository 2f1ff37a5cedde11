/*
 * Webhook signing: endpoint secrets and the two signatures every delivery carries (Standard
 * Webhooks v1 and Merge's), HMAC-SHA256 over the exact bytes sent.
 */
#include "roster/rs_sign.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define SECRET_PREFIX     "whsec_"
#define SECRET_PREFIX_LEN 6
#define B64_ALPHABET      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

void rs_sign_secret_new(char out[RS_SIGN_SECRET_MAX])
{
    uint8_t key[RS_SIGN_NEW_KEY_LEN];

    randombytes_buf(key, sizeof(key));
    memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
    sodium_bin2base64(out + SECRET_PREFIX_LEN, RS_SIGN_SECRET_MAX - SECRET_PREFIX_LEN, key,
                      sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
}

enum rs_err rs_sign_key_from_secret(const char *secret, struct rs_sign_key *out)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    const char *b64 = secret;

    memset(out, 0, sizeof(*out));
    if (!secret)
        return RS_ERR_INVALID;
    if (strncmp(b64, SECRET_PREFIX, SECRET_PREFIX_LEN) == 0)
        b64 += SECRET_PREFIX_LEN;
    /* libsodium would take bytes >= 0x80 for base64 characters: check the alphabet first */
    if (!b64[0] || b64[strspn(b64, B64_ALPHABET)] != '\0')
        return RS_ERR_INVALID;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        size_t len = 0;

        if (sodium_base642bin(out->bytes, sizeof(out->bytes), b64, strlen(b64), NULL, &len, NULL,
                              variants[i]) != 0)
            continue;
        if (len < RS_SIGN_KEY_MIN || len > RS_SIGN_KEY_MAX)
            break;
        out->len = len;
        return RS_OK;
    }
    sodium_memzero(out, sizeof(*out));
    return RS_ERR_INVALID;
}

void rs_sign_standard(const struct rs_sign_key *key, const char *msg_id, int64_t timestamp,
                      const void *body, size_t len, char out[RS_SIGN_STANDARD_LEN])
{
    crypto_auth_hmacsha256_state state;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), ".%lld.", (long long)timestamp);

    crypto_auth_hmacsha256_init(&state, key->bytes, key->len);
    crypto_auth_hmacsha256_update(&state, (const uint8_t *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&state, (const uint8_t *)prefix, (size_t)n);
    crypto_auth_hmacsha256_update(&state, body, len);
    crypto_auth_hmacsha256_final(&state, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, RS_SIGN_STANDARD_LEN - 3, mac, sizeof(mac),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(&state, sizeof(state));
}

void rs_sign_merge(const struct rs_sign_key *key, const void *body, size_t len,
                   char out[RS_SIGN_MERGE_LEN])
{
    crypto_auth_hmacsha256_state state;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&state, key->bytes, key->len);
    crypto_auth_hmacsha256_update(&state, body, len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2base64(out, RS_SIGN_MERGE_LEN, mac, sizeof(mac),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(&state, sizeof(state));
}
