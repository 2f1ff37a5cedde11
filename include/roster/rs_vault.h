/*
 * The vault seals secrets (provider credentials, OAuth tokens) with XChaCha20-Poly1305 under
 * the master key (ROSTER_MASTER_KEY), binding each ciphertext to associated data (the linked
 * account id) and recording the key id, so a ciphertext moved to another account fails to open
 * and keys can be rotated. It also derives purpose-specific subkeys (e.g. for cursors).
 *
 * Sealed layout: "RV1" | key id (8 bytes) | nonce (24 bytes) | ciphertext+tag.
 */
#ifndef ROSTER_RS_VAULT_H
#define ROSTER_RS_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

struct rs_vault;

/*
 * Creates a vault from the base64 (standard alphabet, padded or not) of exactly 32 bytes. The
 * key lives in sodium_malloc'd memory. Returns RS_ERR_INVALID with detail in eb when the text
 * is not such a key, RS_ERR_NOMEM otherwise on failure.
 */
enum rs_err rs_vault_new(const char *master_key_b64, struct rs_vault **out,
                         struct rs_errbuf *eb) RS_MUST_CHECK;
void rs_vault_free(struct rs_vault *vault);

/* The 8-byte key id of the current key as 16 hex characters (out: 17 bytes). */
char *rs_vault_key_id(const struct rs_vault *vault, char out[17]);

/*
 * Seals plain (n bytes) with associated data aad (a NUL-terminated string). *out is malloc'd
 * (caller frees), *outlen its size. Returns RS_OK or RS_ERR_NOMEM.
 */
enum rs_err rs_vault_seal(const struct rs_vault *vault, const char *aad, const uint8_t *plain,
                          size_t n, uint8_t **out, size_t *outlen) RS_MUST_CHECK;

/*
 * Opens what rs_vault_seal made for the same aad. *out is sodium_malloc'd and NUL-terminated
 * after *outlen bytes; release it with rs_vault_free_plain. Returns RS_ERR_CRYPTO when the
 * ciphertext was changed, the aad differs or the key id is unknown.
 */
enum rs_err rs_vault_open(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                          size_t n, uint8_t **out, size_t *outlen) RS_MUST_CHECK;
/* Wipes and frees plaintext returned by rs_vault_open (NULL is a no-op). */
void rs_vault_free_plain(uint8_t *plain);

/*
 * Derives a 32-byte subkey for `purpose` (exactly 8 characters, e.g. "cursor01") from the
 * master key with libsodium's crypto_kdf. Every process with the same master key derives the
 * same subkey.
 */
void rs_vault_derive(const struct rs_vault *vault, const char purpose[8], uint64_t subkey_id,
                     uint8_t out[32]);

#endif
