/*
 * The vault: XChaCha20-Poly1305 sealing of stored secrets under the master key, bound to the
 * owning row by associated data, opening under the current or a retired key by key id, and
 * purpose-specific subkeys derived from the current key.
 */
#include "roster/rs_vault.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define VAULT_KEY_LEN      crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define VAULT_KEYID_LEN    RS_VAULT_KEY_ID_LEN
#define VAULT_MAGIC        "RV1"
#define VAULT_MAGIC_LEN    RS_VAULT_KEY_ID_OFFSET
#define VAULT_NONCE_LEN    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VAULT_TAG_LEN      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VAULT_B64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
#define VAULT_HEADER_LEN   (VAULT_MAGIC_LEN + VAULT_KEYID_LEN + VAULT_NONCE_LEN)
/* Longest base64 text of one key we look at (44 characters; more is refused anyway). */
#define VAULT_B64_MAX 128
/*
 * Key ids are BLAKE2b of the key keyed with this fixed label: stored next to every ciphertext,
 * so it must never change. The label keeps the id unrelated to any other hash of the key.
 */
#define VAULT_KEYID_LABEL "roster-vault-keyid"

_Static_assert(VAULT_KEY_LEN == crypto_kdf_KEYBYTES, "the master key doubles as the KDF key");
_Static_assert(sizeof(VAULT_MAGIC) - 1 == VAULT_MAGIC_LEN, "the key id follows the magic");

struct vault_key {
    uint8_t *key; /* VAULT_KEY_LEN bytes of sodium_malloc'd, read-only memory */
    uint8_t id[VAULT_KEYID_LEN];
};

struct rs_vault {
    struct vault_key keys[RS_VAULT_MAX_KEYS]; /* keys[0] seals; every one opens */
    size_t nkeys;
};

/* Standard base64, padded or not, of exactly VAULT_KEY_LEN bytes, decoded into key. */
static enum rs_err decode_key(const char *b64, size_t len, uint8_t *key, struct rs_errbuf *eb)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    size_t got = 0;

    if (len == 0)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is empty");
    /* libsodium 1.0.18 would decode bytes >= 0x80 as base64 characters: check the alphabet. */
    if (strspn(b64, VAULT_B64_ALPHABET) < len)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is not standard base64");
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        /* A text decoding to more than VAULT_KEY_LEN bytes fails here (ERANGE). */
        if (sodium_base642bin(key, VAULT_KEY_LEN, b64, len, NULL, &got, NULL, variants[i]) != 0)
            continue;
        if (got == VAULT_KEY_LEN)
            return RS_OK;
        return rs_errbuf_set(eb, RS_ERR_INVALID, "must be 32 bytes, got %zu", got);
    }
    return rs_errbuf_set(eb, RS_ERR_INVALID,
                         "is not standard base64 of 32 bytes (e.g. from "
                         "`openssl rand -base64 32`)");
}

static void compute_key_id(const uint8_t *key, uint8_t key_id[VAULT_KEYID_LEN])
{
    uint8_t hash[crypto_generichash_BYTES];

    crypto_generichash(hash, sizeof(hash), key, VAULT_KEY_LEN, (const uint8_t *)VAULT_KEYID_LABEL,
                       strlen(VAULT_KEYID_LABEL));
    memcpy(key_id, hash, VAULT_KEYID_LEN);
}

static const struct vault_key *find_key(const struct rs_vault *vault, const uint8_t *id)
{
    for (size_t i = 0; i < vault->nkeys; i++) {
        if (memcmp(vault->keys[i].id, id, VAULT_KEYID_LEN) == 0)
            return &vault->keys[i];
    }
    return NULL;
}

/*
 * Decodes one key (len characters of b64) and appends it, unless a key with its id is there
 * already (the same key given twice). `what` names it in errors; the text is never echoed.
 */
static enum rs_err add_key(struct rs_vault *vault, const char *b64, size_t len, const char *what,
                           struct rs_errbuf *eb)
{
    struct vault_key *slot = &vault->keys[vault->nkeys];
    char reason[sizeof(eb->msg)];
    enum rs_err err;

    if (vault->nkeys == RS_VAULT_MAX_KEYS)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "more than %d master keys", RS_VAULT_MAX_KEYS);
    if (!(slot->key = sodium_malloc(VAULT_KEY_LEN)))
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory for a key");
    err = decode_key(b64, len, slot->key, eb);
    if (err != RS_OK) {
        snprintf(reason, sizeof(reason), "%s", eb ? eb->msg : "");
        sodium_free(slot->key);
        slot->key = NULL;
        return rs_errbuf_set(eb, err, "%s %s", what, reason);
    }
    compute_key_id(slot->key, slot->id);
    if (find_key(vault, slot->id)) {
        sodium_free(slot->key);
        slot->key = NULL;
        return RS_OK;
    }
    /* Best effort: a stray write into the key is then a crash rather than a silent change. */
    (void)sodium_mprotect_readonly(slot->key);
    vault->nkeys++;
    return RS_OK;
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
    if (!master_key_b64)
        master_key_b64 = "";
    err = add_key(vault, master_key_b64, strlen(master_key_b64), "master key", eb);
    if (err != RS_OK)
        goto out;
    *out = vault;
    vault = NULL;
out:
    rs_vault_free(vault);
    return err;
}

enum rs_err rs_vault_add_retired(struct rs_vault *vault, const char *keys_b64, struct rs_errbuf *eb)
{
    const char *p = keys_b64 ? keys_b64 : "";
    char what[48];
    int index = 0;

    while (*p) {
        size_t len;

        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        len = strcspn(p, ", \t\r\n");
        if (len == 0)
            break;
        index++;
        snprintf(what, sizeof(what), "retired key #%d", index);
        if (len > VAULT_B64_MAX)
            return rs_errbuf_set(eb, RS_ERR_INVALID, "%s is too long for a key", what);
        enum rs_err err = add_key(vault, p, len, what, eb);
        if (err != RS_OK)
            return err;
        p += len;
    }
    return RS_OK;
}

void rs_vault_free(struct rs_vault *vault)
{
    if (!vault)
        return;
    for (size_t i = 0; i < RS_VAULT_MAX_KEYS; i++) {
        if (vault->keys[i].key)
            sodium_free(vault->keys[i].key); /* wipes it */
    }
    free(vault);
}

char *rs_vault_key_id(const struct rs_vault *vault, char out[17])
{
    return sodium_bin2hex(out, 17, vault->keys[0].id, VAULT_KEYID_LEN);
}

size_t rs_vault_key_count(const struct rs_vault *vault)
{
    return vault->nkeys;
}

enum rs_vault_key rs_vault_key_of(const struct rs_vault *vault, const uint8_t *sealed, size_t n,
                                  char key_id[17])
{
    const struct vault_key *key;

    key_id[0] = '\0';
    if (!sealed || n < VAULT_HEADER_LEN + VAULT_TAG_LEN ||
        memcmp(sealed, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0)
        return RS_VAULT_NOT_SEALED;
    sodium_bin2hex(key_id, 17, sealed + VAULT_MAGIC_LEN, VAULT_KEYID_LEN);
    key = find_key(vault, sealed + VAULT_MAGIC_LEN);
    if (!key)
        return RS_VAULT_KEY_UNKNOWN;
    return key == &vault->keys[0] ? RS_VAULT_KEY_CURRENT : RS_VAULT_KEY_RETIRED;
}

enum rs_err rs_vault_seal(const struct rs_vault *vault, const char *aad, const uint8_t *plain,
                          size_t n, uint8_t **out, size_t *outlen)
{
    const struct vault_key *key = &vault->keys[0];
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
    memcpy(sealed + VAULT_MAGIC_LEN, key->id, VAULT_KEYID_LEN);
    nonce = sealed + VAULT_MAGIC_LEN + VAULT_KEYID_LEN;
    randombytes_buf(nonce, VAULT_NONCE_LEN); /* 192-bit random nonces do not collide */
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + VAULT_HEADER_LEN, &ct_len, plain, n,
                                               (const uint8_t *)aad, strlen(aad), NULL, nonce,
                                               key->key);
    *out = sealed;
    *outlen = VAULT_HEADER_LEN + (size_t)ct_len;
    return RS_OK;
}

enum rs_err rs_vault_open(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                          size_t n, uint8_t **out, size_t *outlen)
{
    enum rs_err err = RS_ERR_CRYPTO;
    const struct vault_key *key = NULL;
    uint8_t *plain = NULL;
    size_t plain_len;

    if (!aad)
        aad = "";
    if (!sealed || n < VAULT_HEADER_LEN + VAULT_TAG_LEN ||
        memcmp(sealed, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0 ||
        !(key = find_key(vault, sealed + VAULT_MAGIC_LEN)))
        goto out;
    plain_len = n - VAULT_HEADER_LEN - VAULT_TAG_LEN;
    plain = sodium_malloc(plain_len + 1);
    if (!plain) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    /* The key id is not in the AAD: changing it selects another key, whose tag then fails. */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, NULL, NULL, sealed + VAULT_HEADER_LEN, n - VAULT_HEADER_LEN,
            (const uint8_t *)aad, strlen(aad), sealed + VAULT_MAGIC_LEN + VAULT_KEYID_LEN,
            key->key) != 0)
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
    crypto_kdf_derive_from_key(out, 32, subkey_id, purpose, vault->keys[0].key);
}

void rs_vault_derive_all(const struct rs_vault *vault, const char purpose[8], uint64_t subkey_id,
                         uint8_t out[][32], size_t max)
{
    for (size_t i = 0; i < vault->nkeys && i < max; i++)
        crypto_kdf_derive_from_key(out[i], 32, subkey_id, purpose, vault->keys[i].key);
}
