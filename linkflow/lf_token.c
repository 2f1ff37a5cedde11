/*
 * Link-flow secrets and their rules: lifetime bounds, the state of a session, the shape and
 * hash of tokens, and the per-session form token (a MAC, so nothing extra is stored).
 */
#include "roster/lf_token.h"

#include <string.h>

#include <sodium.h>

#define TOKEN_BODY_LEN 43 /* base64url of 32 bytes, no padding */

enum rs_err lf_token_expiry(const json_t *value, int *mins, struct rs_errbuf *eb)
{
    json_int_t n;

    if (!value || json_is_null(value)) {
        *mins = LF_EXPIRY_DEFAULT_MINS;
        return RS_OK;
    }
    if (!json_is_integer(value))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "link_expiry_mins",
                               "link_expiry_mins must be an integer (minutes)");
    n = json_integer_value(value);
    if (n < LF_EXPIRY_MIN_MINS || n > LF_EXPIRY_MAX_MINS)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "link_expiry_mins",
                               "link_expiry_mins must be from %d to %d", LF_EXPIRY_MIN_MINS,
                               LF_EXPIRY_MAX_MINS);
    *mins = (int)n;
    return RS_OK;
}

enum lf_link_state lf_token_state(int64_t now_us, int64_t expires_us, bool used, bool revoked)
{
    if (revoked)
        return LF_LINK_REVOKED;
    if (used)
        return LF_LINK_COMPLETED;
    return now_us >= expires_us ? LF_LINK_EXPIRED : LF_LINK_ACTIVE;
}

const char *lf_token_state_name(enum lf_link_state state)
{
    switch (state) {
    case LF_LINK_ACTIVE:
        return "ACTIVE";
    case LF_LINK_COMPLETED:
        return "COMPLETED";
    case LF_LINK_EXPIRED:
        return "EXPIRED";
    case LF_LINK_REVOKED:
        return "REVOKED";
    }
    return "REVOKED";
}

static bool base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool lf_token_well_formed(const char *text, const char *prefix)
{
    size_t plen = strlen(prefix);

    if (!text || strncmp(text, prefix, plen) != 0 || text[plen] != '_')
        return false;
    text += plen + 1;
    for (size_t i = 0; i < TOKEN_BODY_LEN; i++) {
        if (!base64url_char(text[i]))
            return false;
    }
    return text[TOKEN_BODY_LEN] == '\0';
}

void lf_token_hash_hex(const char *token, char out[LF_HASH_HEX_LEN])
{
    uint8_t hash[RS_TOKEN_HASH_LEN];

    rs_token_hash(token, strlen(token), hash);
    rs_token_hash_hex(hash, out);
}

static void form_mac(const struct rs_vault *vault, const struct rs_uuid *session,
                     uint8_t mac[crypto_auth_BYTES])
{
    uint8_t key[32];

    _Static_assert(crypto_auth_KEYBYTES == 32, "the derived subkey is the MAC key");
    rs_vault_derive(vault, "linkform", 1, key);
    crypto_auth(mac, session->b, sizeof(session->b), key);
    sodium_memzero(key, sizeof(key));
}

void lf_token_form(const struct rs_vault *vault, const struct rs_uuid *session,
                   char out[LF_FORM_TOKEN_LEN])
{
    uint8_t mac[crypto_auth_BYTES];

    _Static_assert(crypto_auth_BYTES == 32, "44 base64url characters hold 32 bytes");
    form_mac(vault, session, mac);
    sodium_bin2base64(out, LF_FORM_TOKEN_LEN, mac, sizeof(mac),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool lf_token_form_check(const struct rs_vault *vault, const struct rs_uuid *session,
                         const char *given)
{
    char want[LF_FORM_TOKEN_LEN];
    bool ok;

    if (!given || strlen(given) != LF_FORM_TOKEN_LEN - 1)
        return false;
    lf_token_form(vault, session, want);
    ok = sodium_memcmp(want, given, LF_FORM_TOKEN_LEN - 1) == 0;
    sodium_memzero(want, sizeof(want));
    return ok;
}
