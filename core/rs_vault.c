/*
 * The vault: XChaCha20-Poly1305 sealing of stored secrets under the master key, bound to the
 * owning account by associated data, and purpose-specific subkeys derived from the same key.
 */
#include "roster/rs_vault.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define VAULT_KEY_LEN      crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define VAULT_KEYID_LEN    8
#define VAULT_MAGIC        "RV1"
#define VAULT_MAGIC_LEN    3
#define VAULT_NONCE_LEN    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VAULT_TAG_LEN      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VAULT_B64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
#define VAULT_HEADER_LEN   (VAULT_MAGIC_LEN + VAULT_KEYID_LEN + VAULT_NONCE_LEN)
/*
 * Key ids are BLAKE2b of the key keyed with this fixed label: stored next to every ciphertext,
 * so it must never change. The label keeps the id unrelated to any other hash of the key.
 */
#define VAULT_KEYID_LABEL "roster-vault-keyid"

_Static_assert(VAULT_KEY_LEN == crypto_kdf_KEYBYTES, "the master key doubles as the KDF key");

struct rs_vault {
    uint8_t *key; /* VAULT_KEY_LEN bytes of sodium_malloc'd, read-only memory */
    uint8_t key_id[VAULT_KEYID_LEN];
};

/* Standard base64, padded or not, of exactly VAULT_KEY_LEN bytes, decoded into key. */
static enum rs_err decode_master_key(const char *b64, uint8_t *key, struct rs_errbuf *eb)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    size_t len = 0;

    if (!b64 || !b64[0])
        return rs_errbuf_set(eb, RS_ERR_INVALID, "master key is empty");
    /* libsodium 1.0.18 would decode bytes >= 0x80 as base64 characters: check the alphabet. */
    if (b64[strspn(b64, VAULT_B64_ALPHABET)] != '\0')
        return rs_errbuf_set(eb, RS_ERR_INVALID, "master key is not standard base64");
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        /* A text decoding to more than VAULT_KEY_LEN bytes fails here (ERANGE). */
        if (sodium_base642bin(key, VAULT_KEY_LEN, b64, strlen(b64), NULL, &len, NULL,
                              variants[i]) != 0)
            continue;
        if (len == VAULT_KEY_LEN)
            return RS_OK;
        return rs_errbuf_set(eb, RS_ERR_INVALID, "master key must be 32 bytes, got %zu", len);
    }
    return rs_errbuf_set(eb, RS_ERR_INVALID,
                         "master key is not standard base64 of 32 bytes (e.g. from "
                         "`openssl rand -base64 32`)");
}

static void compute_key_id(const uint8_t *key, uint8_t key_id[VAULT_KEYID_LEN])
{
    uint8_t hash[crypto_generichash_BYTES];

    crypto_generichash(hash, sizeof(hash), key, VAULT_KEY_LEN, (const uint8_t *)VAULT_KEYID_LABEL,
                       strlen(VAULT_KEYID_LABEL));
    memcpy(key_id, hash, VAULT_KEYID_LEN);
}

enum rs_err rs_vault_new(const char *master_key_b64, struct rs_vault **out, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_NOMEM;
    struct rs_vault *vault = NULL;

    if (sodium_init() < 0) {
        rs_errbuf_set(eb, err, "libsodium failed to initialize");
        goto out;
    }
    vault = calloc(1, sizeof(*vault));
    if (!vault)
        goto out;
    vault->key = sodium_malloc(VAULT_KEY_LEN);
    if (!vault->key)
        goto out;
    err = decode_master_key(master_key_b64, vault->key, eb);
    if (err != RS_OK)
        goto out;
    compute_key_id(vault->key, vault->key_id);
    /* Best effort: a stray write into the key is then a crash rather than a silent change. */
    (void)sodium_mprotect_readonly(vault->key);
    *out = vault;
    vault = NULL;
out:
    rs_vault_free(vault);
    return err;
}

void rs_vault_free(struct rs_vault *vault)
{
    if (!vault)
        return;
    if (vault->key)
        sodium_free(vault->key); /* wipes it */
    free(vault);
}

char *rs_vault_key_id(const struct rs_vault *vault, char out[17])
{
    return sodium_bin2hex(out, 17, vault->key_id, VAULT_KEYID_LEN);
}

enum rs_err rs_vault_seal(const struct rs_vault *vault, const char *aad, const uint8_t *plain,
                          size_t n, uint8_t **out, size_t *outlen)
{
    uint8_t *sealed = NULL;
    uint8_t *nonce;
    unsigned long long ct_len = 0;

    if (!aad)
        aad = "";
    if (n > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        n > SIZE_MAX - VAULT_HEADER_LEN - VAULT_TAG_LEN)
        return RS_ERR_NOMEM;
    sealed = malloc(VAULT_HEADER_LEN + n + VAULT_TAG_LEN);
    if (!sealed)
        return RS_ERR_NOMEM;
    memcpy(sealed, VAULT_MAGIC, VAULT_MAGIC_LEN);
    memcpy(sealed + VAULT_MAGIC_LEN, vault->key_id, VAULT_KEYID_LEN);
    nonce = sealed + VAULT_MAGIC_LEN + VAULT_KEYID_LEN;
    randombytes_buf(nonce, VAULT_NONCE_LEN); /* 192-bit random nonces do not collide */
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + VAULT_HEADER_LEN, &ct_len, plain, n,
                                               (const uint8_t *)aad, strlen(aad), NULL, nonce,
                                               vault->key);
    *out = sealed;
    *outlen = VAULT_HEADER_LEN + (size_t)ct_len;
    return RS_OK;
}

enum rs_err rs_vault_open(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                          size_t n, uint8_t **out, size_t *outlen)
{
    enum rs_err err = RS_ERR_CRYPTO;
    uint8_t *plain = NULL;
    size_t plain_len;

    if (!aad)
        aad = "";
    if (!sealed || n < VAULT_HEADER_LEN + VAULT_TAG_LEN ||
        memcmp(sealed, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0 ||
        memcmp(sealed + VAULT_MAGIC_LEN, vault->key_id, VAULT_KEYID_LEN) != 0)
        goto out;
    plain_len = n - VAULT_HEADER_LEN - VAULT_TAG_LEN;
    plain = sodium_malloc(plain_len + 1);
    if (!plain) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, NULL, NULL, sealed + VAULT_HEADER_LEN, n - VAULT_HEADER_LEN,
            (const uint8_t *)aad, strlen(aad), sealed + VAULT_MAGIC_LEN + VAULT_KEYID_LEN,
            vault->key) != 0)
        goto out;
    plain[plain_len] = '\0';
    *out = plain;
    *outlen = plain_len;
    plain = NULL;
    err = RS_OK;
out:
    rs_vault_free_plain(plain);
    return err;
}

void rs_vault_free_plain(uint8_t *plain)
{
    if (plain)
        sodium_free(plain); /* wipes it */
}

void rs_vault_derive(const struct rs_vault *vault, const char purpose[8], uint64_t subkey_id,
                     uint8_t out[32])
{
    crypto_kdf_derive_from_key(out, 32, subkey_id, purpose, vault->key);
}
