/*
 * Webhook signing: endpoint secrets and the two signatures every delivery carries (Standard
 * Webhooks v1 and Merge's), HMAC-SHA256 over the exact bytes sent. SHA-256 is OpenSSL's (it
 * uses the CPU's SHA instructions: the signatures are on the dispatchers' hot path); secrets,
 * randomness and base64 are libsodium's, like the rest of the vault.
 */
#include "roster/rs_sign.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#define HMAC_BLOCK 64 /* SHA-256's block: keys are at most this long (RS_SIGN_KEY_MAX) */
#define HMAC_LEN   32

_Static_assert(RS_SIGN_KEY_MAX <= HMAC_BLOCK, "keys fit one block: no key hashing");

/* SHA-256 fetched once for the process (EVP_sha256() would look it up on every use). */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

struct part {
    const void *bytes;
    size_t len;
};

/* One SHA-256 over pad (a block) followed by parts. */
static bool digest(EVP_MD_CTX *ctx, const uint8_t pad[HMAC_BLOCK], const struct part *parts,
                   size_t n, uint8_t out[HMAC_LEN])
{
    bool ok = EVP_DigestInit_ex(ctx, sha256_md, NULL) && EVP_DigestUpdate(ctx, pad, HMAC_BLOCK);

    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].bytes, parts[i].len);
    return ok && EVP_DigestFinal_ex(ctx, out, NULL);
}

/* HMAC-SHA256 (RFC 2104) of the concatenated parts; all zeros if OpenSSL fails (no memory). */
static void hmac(const struct rs_sign_key *key, const struct part *parts, size_t n,
                 uint8_t out[HMAC_LEN])
{
    uint8_t ipad[HMAC_BLOCK], opad[HMAC_BLOCK], inner[HMAC_LEN];
    struct part outer = {inner, sizeof(inner)};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok;

    pthread_once(&sha256_once, fetch_sha256);
    memset(ipad, 0x36, sizeof(ipad));
    memset(opad, 0x5c, sizeof(opad));
    for (size_t i = 0; i < key->len; i++) {
        ipad[i] ^= key->bytes[i];
        opad[i] ^= key->bytes[i];
    }
    ok =
        ctx && sha256_md && digest(ctx, ipad, parts, n, inner) && digest(ctx, opad, &outer, 1, out);
    if (!ok)
        memset(out, 0, HMAC_LEN); /* never the signature of anything: receivers refuse it */
    EVP_MD_CTX_free(ctx);
    sodium_memzero(ipad, sizeof(ipad));
    sodium_memzero(opad, sizeof(opad));
    sodium_memzero(inner, sizeof(inner));
}

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
    uint8_t mac[HMAC_LEN];
    char middle[32];
    int n = snprintf(middle, sizeof(middle), ".%lld.", (long long)timestamp);
    const struct part parts[3] = {{msg_id, strlen(msg_id)}, {middle, (size_t)n}, {body, len}};

    hmac(key, parts, 3, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, RS_SIGN_STANDARD_LEN - 3, mac, sizeof(mac),
                      sodium_base64_VARIANT_ORIGINAL);
}

void rs_sign_merge(const struct rs_sign_key *key, const void *body, size_t len,
                   char out[RS_SIGN_MERGE_LEN])
{
    uint8_t mac[HMAC_LEN];
    const struct part parts[1] = {{body, len}};

    hmac(key, parts, 1, mac);
    sodium_bin2base64(out, RS_SIGN_MERGE_LEN, mac, sizeof(mac),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
