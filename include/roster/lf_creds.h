/*
 * Credential storage: provider credentials sealed with the vault (XChaCha20-Poly1305 under the
 * master key) with the linked account id as associated data, as PostgreSQL bytea hex text, and
 * opened back. Shared by the admin API, the hosted connect pages and the sync engine's callers.
 */
#ifndef ROSTER_LF_CREDS_H
#define ROSTER_LF_CREDS_H

#include <jansson.h>

#include "roster/rs_err.h"
#include "roster/rs_vault.h"

/*
 * Seals credentials (a JSON object, serialized compactly with sorted keys) for aad (the linked
 * account id) into *out: bytea hex text ("\x…", malloc'd, caller frees). The plaintext is wiped.
 * RS_ERR_NOMEM or RS_ERR_CRYPTO on failure.
 */
enum rs_err lf_creds_seal(const struct rs_vault *vault, const char *aad, const json_t *credentials,
                          char **out) RS_MUST_CHECK;

/*
 * Opens bytea hex text made by lf_creds_seal for the same aad into a new JSON value (*out, new
 * reference). RS_ERR_CRYPTO when it is not such a text, was changed, or belongs to another aad.
 */
enum rs_err lf_creds_open(const struct rs_vault *vault, const char *aad, const char *hex,
                          json_t **out) RS_MUST_CHECK;

#endif
