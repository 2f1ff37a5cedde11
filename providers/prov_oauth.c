/*
 * What the adapters of OAuth providers share: sending the link flow's access token as a bearer
 * (never refreshing it: that is the link flow's job) and building authorization-server URLs.
 */
#include "providers/prov_int.h"

#include <stdio.h>
#include <string.h>

enum rs_err prov_oauth_bearer(const struct prov_sync *sync, const char *provider,
                              struct prov_request *req, struct rs_errbuf *eb)
{
    const json_t *access = json_object_get(sync->token, "access_token");
    const json_t *expires = json_object_get(sync->token, "expires_at_us");

    if (!prov_request_token_fits(access))
        return rs_errbuf_set(eb, RS_ERR_AUTH, "%s needs an OAuth access token: relink", provider);
    if (json_is_true(json_object_get(sync->token, "invalid")))
        return rs_errbuf_set(eb, RS_ERR_AUTH, "%s refused the OAuth access token: refresh it",
                             provider);
    if (json_is_integer(expires) && json_integer_value(expires) <= sync->now_us)
        return rs_errbuf_set(eb, RS_ERR_AUTH, "%s OAuth access token expired: refresh it",
                             provider);
    req->auth = PROV_REQ_AUTH_BEARER;
    req->user[0] = '\0';
    snprintf(req->secret, sizeof(req->secret), "%s", json_string_value(access));
    return RS_OK;
}

enum rs_err prov_oauth_url(const char *origin, const char *path, const char *base_url, char *out,
                           size_t outlen, struct rs_errbuf *eb)
{
    struct prov_sync where = {.base_url = base_url};

    if (prov_request_url(&where, origin, path, out, outlen) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_TOOBIG, "OAuth endpoint URL is too long");
    return RS_OK;
}
