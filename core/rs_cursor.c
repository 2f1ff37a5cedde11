/*
 * Pagination cursors: a keyset position packed into 42 bytes, authenticated with a truncated
 * HMAC-SHA256 that also covers the context (account and endpoint), then base64url-encoded.
 */
#include "roster/rs_cursor.h"

#include <string.h>

#include <sodium.h>

#define CURSOR_VERSION       1
#define CURSOR_FLAG_BACKWARD 0x01
/* version | flags | sort_us (8, big-endian) | id (16): what the MAC covers besides the context */
#define CURSOR_BODY_LEN (1 + 1 + 8 + 16)
/* 128 bits of tag is plenty against forgery online, and keeps cursors short. */
#define CURSOR_MAC_LEN  16
#define CURSOR_RAW_LEN  (CURSOR_BODY_LEN + CURSOR_MAC_LEN)
#define CURSOR_B64      sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define CURSOR_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
/* 42 bytes are exactly 56 base64 characters: no padding bits, so no two texts decode alike. */
#define CURSOR_TEXT_LEN ((CURSOR_RAW_LEN * 4 + 2) / 3)

_Static_assert(CURSOR_TEXT_LEN < RS_CURSOR_MAX_LEN, "an encoded cursor must fit");

static void cursor_mac(const uint8_t body[CURSOR_BODY_LEN], const char *context,
                       const uint8_t key[RS_CURSOR_KEY_LEN], uint8_t mac[CURSOR_MAC_LEN])
{
    crypto_auth_hmacsha256_state state;
    uint8_t full[crypto_auth_hmacsha256_BYTES];

    if (!context)
        context = "";
    /* The body has a fixed length, so body || context is unambiguous. */
    crypto_auth_hmacsha256_init(&state, key, RS_CURSOR_KEY_LEN);
    crypto_auth_hmacsha256_update(&state, body, CURSOR_BODY_LEN);
    crypto_auth_hmacsha256_update(&state, (const uint8_t *)context, strlen(context));
    crypto_auth_hmacsha256_final(&state, full);
    memcpy(mac, full, CURSOR_MAC_LEN);
    sodium_memzero(&state, sizeof(state));
    sodium_memzero(full, sizeof(full));
}

char *rs_cursor_encode(const struct rs_cursor *cur, const char *context,
                       const uint8_t key[RS_CURSOR_KEY_LEN], char out[RS_CURSOR_MAX_LEN])
{
    uint8_t raw[CURSOR_RAW_LEN];
    uint64_t sort = (uint64_t)cur->sort_us;

    raw[0] = CURSOR_VERSION;
    raw[1] = cur->backward ? CURSOR_FLAG_BACKWARD : 0;
    for (int i = 0; i < 8; i++)
        raw[2 + i] = (uint8_t)(sort >> (56 - 8 * i));
    memcpy(raw + 10, cur->id.b, sizeof(cur->id.b));
    cursor_mac(raw, context, key, raw + CURSOR_BODY_LEN);
    return sodium_bin2base64(out, RS_CURSOR_MAX_LEN, raw, sizeof(raw), CURSOR_B64);
}

enum rs_err rs_cursor_decode(const char *text, const char *context,
                             const uint8_t key[RS_CURSOR_KEY_LEN], struct rs_cursor *out)
{
    uint8_t raw[CURSOR_RAW_LEN];
    uint8_t mac[CURSOR_MAC_LEN];
    size_t raw_len = 0;
    uint64_t sort = 0;

    /*
     * Bounded length first: hostile text of any size is rejected without reading it all. The
     * alphabet is checked here because libsodium 1.0.18 decodes bytes >= 0x80 as if they were
     * base64 characters, which would give one cursor many spellings.
     */
    if (!text || strnlen(text, RS_CURSOR_MAX_LEN) != CURSOR_TEXT_LEN ||
        strspn(text, CURSOR_ALPHABET) != CURSOR_TEXT_LEN)
        return RS_ERR_INVALID;
    if (sodium_base642bin(raw, sizeof(raw), text, CURSOR_TEXT_LEN, NULL, &raw_len, NULL,
                          CURSOR_B64) != 0 ||
        raw_len != CURSOR_RAW_LEN)
        return RS_ERR_INVALID;
    if (raw[0] != CURSOR_VERSION || (raw[1] & ~CURSOR_FLAG_BACKWARD) != 0)
        return RS_ERR_INVALID;
    cursor_mac(raw, context, key, mac);
    if (sodium_memcmp(mac, raw + CURSOR_BODY_LEN, CURSOR_MAC_LEN) != 0)
        return RS_ERR_INVALID;
    for (int i = 0; i < 8; i++)
        sort = (sort << 8) | raw[2 + i];
    out->backward = (raw[1] & CURSOR_FLAG_BACKWARD) != 0;
    out->sort_us = (int64_t)sort;
    memcpy(out->id.b, raw + 10, sizeof(out->id.b));
    return RS_OK;
}
