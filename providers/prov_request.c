/* Helpers every adapter uses to build requests: documented URLs with the base_url override. */
#include "roster/prov.h"

#include "providers/prov_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void prov_request_cleanup(struct prov_request *req)
{
    sodium_memzero(req->secret, sizeof(req->secret));
    sodium_memzero(req->user, sizeof(req->user));
    if (req->body) {
        sodium_memzero(req->body, req->body_len);
        free(req->body);
    }
    req->body = NULL;
    req->body_len = 0;
}

enum rs_err prov_request_url(const struct prov_sync *sync, const char *origin, const char *path,
                             char *out, size_t outlen)
{
    const char *base = sync->base_url && sync->base_url[0] ? sync->base_url : origin;
    size_t blen = strlen(base);
    int n;

    /* "http://host/prefix/" + "/api" must not become "//api" */
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    n = snprintf(out, outlen, "%.*s%s%s", (int)blen, base, path[0] == '/' ? "" : "/", path);
    return n < 0 || (size_t)n >= outlen ? RS_ERR_TOOBIG : RS_OK;
}

enum rs_err prov_request_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';

        if (o + (plain ? 1 : 3) >= outlen)
            return RS_ERR_TOOBIG;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= outlen)
        return RS_ERR_TOOBIG;
    out[o] = '\0';
    return RS_OK;
}

bool prov_request_token_fits(const json_t *token)
{
    const char *s = json_string_value(token);
    size_t len = json_string_length(token);

    if (!s || len == 0 || len >= sizeof(((struct prov_request *)0)->secret))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    }
    return true;
}
