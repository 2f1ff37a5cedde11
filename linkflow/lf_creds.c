/* Provider credentials sealed by the vault for one linked account, as bytea hex text. */
#include "roster/lf_creds.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

enum rs_err lf_creds_seal(const struct rs_vault *vault, const char *aad, const json_t *credentials,
                          char **out)
{
    char *plain = json_dumps(credentials, JSON_COMPACT | JSON_SORT_KEYS);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    enum rs_err err = RS_ERR_NOMEM;

    *out = NULL;
    if (!plain)
        goto out;
    err = rs_vault_seal(vault, aad, (const uint8_t *)plain, strlen(plain), &sealed, &sealed_len);
    if (err != RS_OK)
        goto out;
    *out = malloc(2 * sealed_len + 3);
    if (!*out) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    memcpy(*out, "\\x", 2);
    sodium_bin2hex(*out + 2, 2 * sealed_len + 1, sealed, sealed_len);
out:
    if (plain) {
        sodium_memzero(plain, strlen(plain));
        free(plain);
    }
    free(sealed);
    return err;
}

enum rs_err lf_creds_open(const struct rs_vault *vault, const char *aad, const char *hex,
                          json_t **out)
{
    size_t n = hex ? strlen(hex) : 0, len = 0, plain_len = 0;
    unsigned char *bytes = NULL;
    uint8_t *plain = NULL;
    enum rs_err err = RS_ERR_CRYPTO;

    *out = NULL;
    if (n < 4 || strncmp(hex, "\\x", 2) != 0)
        return RS_ERR_CRYPTO;
    bytes = PQunescapeBytea((const unsigned char *)hex, &len);
    if (!bytes)
        return RS_ERR_NOMEM;
    err = rs_vault_open(vault, aad, bytes, len, &plain, &plain_len);
    if (err == RS_OK && !(*out = json_loadb((const char *)plain, plain_len, 0, NULL)))
        err = RS_ERR_CRYPTO;
    rs_vault_free_plain(plain);
    PQfreemem(bytes);
    return err;
}
