/*
 * UUIDs: random v4 for new objects, name-based v5 for the deterministic ids of synced records,
 * and the canonical text form.
 */
#include "roster/rs_uuid.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

static void set_version(struct rs_uuid *uuid, unsigned version)
{
    uuid->b[6] = (uint8_t)((uuid->b[6] & 0x0F) | (version << 4));
    uuid->b[8] = (uint8_t)((uuid->b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}

void rs_uuid_v4(struct rs_uuid *out)
{
    randombytes_buf(out->b, sizeof(out->b));
    set_version(out, 4);
}

/*
 * SHA-1 fetched from the provider once for the process: EVP_sha1() makes OpenSSL 3 look the
 * algorithm up again on every digest, which was a tenth of a sync's CPU (a v5 id per record
 * and per relation). The pointer lives as long as the process.
 */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;

static void fetch_sha1(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void rs_uuid_v5(const struct rs_uuid *ns, const char *name, size_t name_len, struct rs_uuid *out)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    pthread_once(&sha1_once, fetch_sha1);
    ok = ctx && sha1_md && EVP_DigestInit_ex(ctx, sha1_md, NULL) &&
         EVP_DigestUpdate(ctx, ns->b, sizeof(ns->b)) && EVP_DigestUpdate(ctx, name, name_len) &&
         EVP_DigestFinal_ex(ctx, digest, NULL);
    EVP_MD_CTX_free(ctx);
    /*
     * Only a failed allocation of a digest context (or of the fetched SHA-1) gets here. The
     * contract has no error return, and handing back a wrong id would silently corrupt synced data,
     * so stop.
     */
    if (!ok)
        abort();
    memcpy(out->b, digest, sizeof(out->b));
    set_version(out, 5);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_dash_position(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

enum rs_err rs_uuid_parse(const char *text, struct rs_uuid *out)
{
    struct rs_uuid uuid;
    size_t nibble = 0;

    if (!text)
        return RS_ERR_INVALID;
    /* Character by character, so a short string stops at its NUL. */
    for (size_t i = 0; i < RS_UUID_STR_LEN - 1; i++) {
        int v;

        if (is_dash_position(i)) {
            if (text[i] != '-')
                return RS_ERR_INVALID;
            continue;
        }
        v = hex_value(text[i]);
        if (v < 0)
            return RS_ERR_INVALID;
        if (nibble % 2 == 0)
            uuid.b[nibble / 2] = (uint8_t)(v << 4);
        else
            uuid.b[nibble / 2] |= (uint8_t)v;
        nibble++;
    }
    if (text[RS_UUID_STR_LEN - 1] != '\0')
        return RS_ERR_INVALID;
    *out = uuid;
    return RS_OK;
}

char *rs_uuid_format(const struct rs_uuid *uuid, char out[RS_UUID_STR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t pos = 0;

    for (size_t i = 0; i < sizeof(uuid->b); i++) {
        if (is_dash_position(pos))
            out[pos++] = '-';
        out[pos++] = hex[uuid->b[i] >> 4];
        out[pos++] = hex[uuid->b[i] & 0x0F];
    }
    out[pos] = '\0';
    return out;
}

int rs_uuid_equal(const struct rs_uuid *a, const struct rs_uuid *b)
{
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}
