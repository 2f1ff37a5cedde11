/*
 * The vault seals secrets (provider credentials, OAuth tokens, OAuth client secrets) with
 * XChaCha20-Poly1305 under the master key (ROSTER_MASTER_KEY), binding each ciphertext to
 * associated data (its owner, e.g. the linked account id) and recording the id of the key that
 * sealed it, so a ciphertext moved to another owner fails to open and keys can be rotated:
 * retired keys (ROSTER_MASTER_KEYS_RETIRED) still open what they sealed, only the current key
 * seals. It also derives purpose-specific subkeys (e.g. for cursors). See docs/design/vault.md.
 *
 * Sealed layout: "RV1" | key id (8 bytes) | nonce (24 bytes) | ciphertext+tag (16 bytes).
 * The key id is the first 8 bytes of BLAKE2b-256(key, key = "roster-vault-keyid").
 */
#ifndef ROSTER_RS_VAULT_H
#define ROSTER_RS_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

/* Where the key id sits in a sealed value (for SQL that filters on it), and its length. */
#define RS_VAULT_KEY_ID_OFFSET 3
#define RS_VAULT_KEY_ID_LEN    8
/* The current key plus up to 7 retired ones. */
#define RS_VAULT_MAX_KEYS 8

struct rs_vault;

/*
 * Creates a vault whose current key is the base64 (standard alphabet, padded or not) of
 * exactly 32 bytes. Keys live in sodium_malloc'd memory. Returns RS_ERR_INVALID with detail in
 * eb (never the key) when the text is not such a key, RS_ERR_NOMEM otherwise on failure.
 */
enum rs_err rs_vault_new(const char *master_key_b64, struct rs_vault **out,
                         struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Adds retired keys: keys_b64 is a comma-separated list (blanks around commas ignored; NULL or
 * "" adds none) of keys in rs_vault_new's form. They open values sealed under them; they never
 * seal. A key already in the vault (the current one too) is skipped. RS_ERR_INVALID naming the
 * position of the bad key ("retired key #2 …"), also when there would be more than
 * RS_VAULT_MAX_KEYS keys; the vault then keeps the keys added before it.
 */
enum rs_err rs_vault_add_retired(struct rs_vault *vault, const char *keys_b64,
                                 struct rs_errbuf *eb) RS_MUST_CHECK;
void rs_vault_free(struct rs_vault *vault);

/* The 8-byte key id of the current key as 16 hex characters (out: 17 bytes). */
char *rs_vault_key_id(const struct rs_vault *vault, char out[17]);
/* How many distinct keys open values (1 + retired keys). */
size_t rs_vault_key_count(const struct rs_vault *vault);

/* Which of the vault's keys a sealed value names in its header. */
enum rs_vault_key {
    RS_VAULT_KEY_CURRENT, /* the key that seals */
    RS_VAULT_KEY_RETIRED, /* a retired key: opens, and rotate-key re-seals it */
    RS_VAULT_KEY_UNKNOWN, /* a key this vault does not hold */
    RS_VAULT_NOT_SEALED,  /* too short or not in the vault's format */
};
/*
 * Reads the header of sealed (n bytes) without opening it. key_id receives the id named in
 * the header as 16 hex characters ("" when RS_VAULT_NOT_SEALED). Says nothing about whether
 * the rest authenticates.
 */
enum rs_vault_key rs_vault_key_of(const struct rs_vault *vault, const uint8_t *sealed, size_t n,
                                  char key_id[17]);

/*
 * Seals plain (n bytes) under the current key with associated data aad (a NUL-terminated
 * string). *out is malloc'd (caller frees), *outlen its size. Returns RS_OK or RS_ERR_NOMEM.
 */
enum rs_err rs_vault_seal(const struct rs_vault *vault, const char *aad, const uint8_t *plain,
                          size_t n, uint8_t **out, size_t *outlen) RS_MUST_CHECK;

/*
 * Opens what rs_vault_seal made for the same aad, under whichever of the vault's keys the
 * header names. *out is sodium_malloc'd and NUL-terminated after *outlen bytes; release it with
 * rs_vault_free_plain. Returns RS_ERR_CRYPTO when the ciphertext or its key id was changed, the
 * aad differs or the key id is unknown (rs_vault_key_of tells these apart).
 */
enum rs_err rs_vault_open(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                          size_t n, uint8_t **out, size_t *outlen) RS_MUST_CHECK;
/* Wipes and frees plaintext returned by rs_vault_open (NULL is a no-op). */
void rs_vault_free_plain(uint8_t *plain);

/*
 * Derives a 32-byte subkey for `purpose` (exactly 8 characters, e.g. "cursor01") from the
 * current key with libsodium's crypto_kdf. Every process with the same master key derives the
 * same subkey.
 */
void rs_vault_derive(const struct rs_vault *vault, const char purpose[8], uint64_t subkey_id,
                     uint8_t out[32]);
/*
 * The same subkey under every key of the vault, the current key's first, into out[0..max):
 * what a verifier accepts while keys rotate (e.g. cursors issued before a restart with a new
 * key). Fills min(rs_vault_key_count, max) entries.
 */
void rs_vault_derive_all(const struct rs_vault *vault, const char purpose[8], uint64_t subkey_id,
                         uint8_t out[][32], size_t max);

#endif
