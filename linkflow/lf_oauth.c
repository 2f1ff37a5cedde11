/*
 * The pure parts of OAuth2 (RFC 6749, RFC 7636): PKCE pairs and state, the authorize URL, the
 * token endpoint's form request, and reading its answer into a token. No I/O here.
 */
#include "roster/lf_oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#define US_PER_S INT64_C(1000000)
/* Longest lifetime believed (ten years): a larger expires_in is a provider bug, not a promise. */
#define EXPIRES_IN_MAX (INT64_C(10) * 366 * 86400)
#define UNRESERVED     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

/* base64url without padding of 32 bytes into out (43 characters and a NUL). */
static void b64url_32(const uint8_t bytes[32], char out[LF_OAUTH_B64_32])
{
    sodium_bin2base64(out, LF_OAUTH_B64_32, bytes, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void lf_oauth_pkce_new(struct lf_oauth_pkce *out)
{
    uint8_t random[48];

    randombytes_buf(random, sizeof(random));
    /* 48 bytes encode to exactly 64 characters of [A-Za-z0-9-_], all in the unreserved set */
    sodium_bin2base64(out->verifier, sizeof(out->verifier), random, sizeof(random),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(random, sizeof(random));
    if (lf_oauth_pkce_challenge(out->verifier, out->challenge) != RS_OK)
        abort(); /* impossible: the verifier is well-formed by construction */
}

enum rs_err lf_oauth_pkce_challenge(const char *verifier, char out[LF_OAUTH_B64_32])
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    size_t len = verifier ? strlen(verifier) : 0;

    if (len < 43 || len > 128 || strspn(verifier, UNRESERVED) != len)
        return RS_ERR_INVALID;
    crypto_hash_sha256(digest, (const uint8_t *)verifier, len);
    b64url_32(digest, out);
    return RS_OK;
}

void lf_oauth_state_new(char out[LF_OAUTH_B64_32])
{
    uint8_t random[32];

    randombytes_buf(random, sizeof(random));
    b64url_32(random, out);
    sodium_memzero(random, sizeof(random));
}

/* ---- percent-encoding into buffers ---- */

/* Appends "&name=value" (no '&' when first) to out, value percent-encoded. */
static enum rs_err query_param(struct rs_buf *out, bool first, const char *name, const char *value)
{
    size_t cap = 3 * strlen(value) + 1;
    char *escaped = malloc(cap);
    enum rs_err err = RS_ERR_NOMEM;

    if (!escaped)
        return err;
    err = prov_request_escape(value, escaped, cap);
    if (err == RS_OK)
        err = rs_buf_appendf(out, "%s%s=%s", first ? "" : "&", name, escaped);
    free(escaped);
    return err;
}

/*
 * Appends "&name=value" to a form of *len bytes in body (cap bytes, wiped memory), value
 * percent-encoded in place. RS_ERR_TOOBIG when it does not fit (cannot happen with the
 * capacity lf_oauth_request_build computes).
 */
static enum rs_err form_param(char *body, size_t cap, size_t *len, const char *name,
                              const char *value)
{
    int n = snprintf(body + *len, cap - *len, "%s%s=", *len ? "&" : "", name);

    if (n < 0 || (size_t)n >= cap - *len)
        return RS_ERR_TOOBIG;
    *len += (size_t)n;
    if (prov_request_escape(value, body + *len, cap - *len) != RS_OK)
        return RS_ERR_TOOBIG;
    *len += strlen(body + *len);
    return RS_OK;
}

/* A percent-encoded copy of value in sodium_malloc'd memory, or NULL. */
static char *escaped_secret(const char *value)
{
    size_t cap = 3 * strlen(value) + 1;
    char *out = sodium_malloc(cap);

    if (out && prov_request_escape(value, out, cap) != RS_OK) {
        sodium_free(out);
        out = NULL;
    }
    return out;
}

/* ---- the authorize URL ---- */

static bool present(const char *value)
{
    return value && value[0];
}

enum rs_err lf_oauth_authorize_url(const struct prov_ops *ops, const json_t *fields,
                                   const char *base_url, const struct lf_oauth_authorize *a,
                                   struct rs_buf *out, struct rs_errbuf *eb)
{
    const struct prov_oauth *oauth = ops->oauth;
    const char *scope = a->scope ? a->scope : oauth ? oauth->scopes : NULL;
    char endpoint[2048];
    enum rs_err err;

    if (!oauth || !oauth->endpoint)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s does not link with OAuth", ops->name);
    if (!present(a->client_id) || !present(a->redirect_uri) || !present(a->state) ||
        !present(a->code_challenge))
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "an authorize URL needs client_id, redirect_uri, state and "
                             "code_challenge");
    err = oauth->endpoint(fields, base_url, PROV_OAUTH_AUTHORIZE, endpoint, sizeof(endpoint), eb);
    if (err != RS_OK)
        return err;
    err = rs_buf_appendf(out, "%s%c", endpoint, strchr(endpoint, '?') ? '&' : '?');
    if (err == RS_OK)
        err = query_param(out, true, "response_type", "code");
    if (err == RS_OK)
        err = query_param(out, false, "client_id", a->client_id);
    if (err == RS_OK)
        err = query_param(out, false, "redirect_uri", a->redirect_uri);
    if (err == RS_OK && present(scope))
        err = query_param(out, false, "scope", scope);
    if (err == RS_OK)
        err = query_param(out, false, "state", a->state);
    if (err == RS_OK)
        err = query_param(out, false, "code_challenge", a->code_challenge);
    if (err == RS_OK)
        err = query_param(out, false, "code_challenge_method", "S256");
    return err;
}

/* The scheme://host[:port] that url starts with into out; false when it has none or is odd. */
static bool url_origin(const char *url, char *out, size_t outlen)
{
    static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-._~:[]";
    const char *sep = strstr(url, "://");
    size_t scheme, host;

    if (!sep || (scheme = (size_t)(sep - url)) == 0 ||
        strspn(url, "abcdefghijklmnopqrstuvwxyz") < scheme)
        return false;
    host = strcspn(sep + 3, "/?#");
    if (host == 0 || strspn(sep + 3, host_chars) < host || scheme + 3 + host >= outlen)
        return false;
    snprintf(out, outlen, "%.*s", (int)(scheme + 3 + host), url);
    return true;
}

enum rs_err lf_oauth_authorize_origin(const struct prov_ops *ops, const char *base_url, char *out,
                                      size_t outlen, struct rs_errbuf *eb)
{
    char endpoint[2048];
    json_t *none;
    enum rs_err err;

    if (!ops->oauth || !ops->oauth->endpoint)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s does not link with OAuth", ops->name);
    if (present(base_url))
        return url_origin(base_url, out, outlen)
                   ? RS_OK
                   : rs_errbuf_set(eb, RS_ERR_INVALID, "base_url has no usable origin");
    if (ops->oauth->authorize_origin) {
        if ((size_t)snprintf(out, outlen, "%s", ops->oauth->authorize_origin) >= outlen)
            return rs_errbuf_set(eb, RS_ERR_TOOBIG, "authorize origin too long");
        return RS_OK;
    }
    if (!(none = json_object()))
        return RS_ERR_NOMEM;
    err = ops->oauth->endpoint(none, NULL, PROV_OAUTH_AUTHORIZE, endpoint, sizeof(endpoint), eb);
    json_decref(none);
    if (err == RS_OK && !url_origin(endpoint, out, outlen))
        err = rs_errbuf_set(eb, RS_ERR_INVALID, "%s's authorize endpoint has no usable origin",
                            ops->name);
    return err;
}

/* ---- the token request ---- */

/* The grant's form parameters as name, value pairs into params; *n their count. */
static enum rs_err grant_params(const struct lf_oauth_grant *grant, const char *params[8],
                                size_t *n, struct rs_errbuf *eb)
{
    if (grant->type == LF_OAUTH_GRANT_REFRESH) {
        const char *refresh[] = {"grant_type", "refresh_token", "refresh_token",
                                 grant->refresh_token};

        if (!present(grant->refresh_token))
            return rs_errbuf_set(eb, RS_ERR_INVALID, "a refresh needs a refresh token");
        memcpy(params, refresh, sizeof(refresh));
        *n = 4;
        return RS_OK;
    }
    const char *code[] = {"grant_type",    "authorization_code", "code",
                          grant->code,     "redirect_uri",       grant->redirect_uri,
                          "code_verifier", grant->code_verifier};

    if (!present(grant->code) || !present(grant->redirect_uri) || !present(grant->code_verifier))
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "a code exchange needs the code, redirect_uri and code_verifier");
    memcpy(params, code, sizeof(code));
    *n = 8;
    return RS_OK;
}

/* The form: the grant's parameters, then the client's unless it authenticates with Basic. */
static enum rs_err build_form(const struct lf_oauth_client *client, bool basic,
                              const char *const *params, size_t nparams,
                              struct lf_oauth_request *req)
{
    size_t cap = 64, len = 0;
    enum rs_err err = RS_OK;

    for (size_t i = 0; i < nparams; i++)
        cap += strlen(params[i]) * 3 + 2;
    cap += 3 * (strlen(client->client_id) + strlen(client->client_secret)) + 32;
    if (!(req->body = sodium_malloc(cap)))
        return RS_ERR_NOMEM;
    for (size_t i = 0; i + 1 < nparams && err == RS_OK; i += 2)
        err = form_param(req->body, cap, &len, params[i], params[i + 1]);
    if (err == RS_OK && !basic)
        err = form_param(req->body, cap, &len, "client_id", client->client_id);
    if (err == RS_OK && !basic)
        err = form_param(req->body, cap, &len, "client_secret", client->client_secret);
    req->body_len = len;
    return err;
}

enum rs_err lf_oauth_request_build(const struct prov_ops *ops, const json_t *fields,
                                   const char *base_url, const struct lf_oauth_client *client,
                                   const struct lf_oauth_grant *grant, struct lf_oauth_request *req,
                                   struct rs_errbuf *eb)
{
    const struct prov_oauth *oauth = ops->oauth;
    const char *params[8] = {NULL};
    size_t nparams = 0;
    enum rs_err err;

    memset(req, 0, sizeof(*req));
    if (!oauth || !oauth->endpoint)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s does not link with OAuth", ops->name);
    if (!client || !present(client->client_id) || !present(client->client_secret))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "the OAuth client has no id or secret");
    if ((err = grant_params(grant, params, &nparams, eb)) != RS_OK)
        return err;
    err = oauth->endpoint(fields, base_url, PROV_OAUTH_TOKEN, req->url, sizeof(req->url), eb);
    if (err != RS_OK)
        return err;
    if ((err = build_form(client, oauth->client_auth_basic, params, nparams, req)) != RS_OK)
        return rs_errbuf_set(eb, err, "cannot build the token request");
    if (oauth->client_auth_basic) {
        req->basic_user = escaped_secret(client->client_id);
        req->basic_password = escaped_secret(client->client_secret);
        if (!req->basic_user || !req->basic_password)
            return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory");
    }
    return RS_OK;
}

void lf_oauth_request_cleanup(struct lf_oauth_request *req)
{
    if (req->body)
        sodium_free(req->body); /* wipes it */
    if (req->basic_user)
        sodium_free(req->basic_user);
    if (req->basic_password)
        sodium_free(req->basic_password);
    memset(req, 0, sizeof(*req));
}

/* ---- the token endpoint's answer ---- */

/* RFC 6749 §5.2 codes after which only the end user can help (a new authorization). */
static bool permanent_error(const char *code)
{
    static const char *const codes[] = {"invalid_grant", "invalid_client", "unauthorized_client",
                                        "unsupported_grant_type", "invalid_scope"};

    for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(code, codes[i]) == 0)
            return true;
    }
    return false;
}

/* The `error` of an error answer if it is a short code of RFC 6749's charset, else NULL. */
static const char *error_code(const json_t *doc)
{
    const char *code = json_string_value(json_object_get(doc, "error"));

    if (!code || !code[0] || strlen(code) > 64 || strspn(code, UNRESERVED) != strlen(code))
        return NULL;
    return code;
}

static enum rs_err refused(long status, const json_t *doc, struct rs_errbuf *eb)
{
    const char *code = error_code(doc);

    if (permanent_error(code))
        return rs_errbuf_set(eb, RS_ERR_AUTH, "the token endpoint refused the grant (%s)", code);
    if (status == 401) /* client authentication failed (RFC 6749 §5.2 invalid_client) */
        return rs_errbuf_set(eb, RS_ERR_AUTH,
                             "the token endpoint refused the client (HTTP 401%s%s)",
                             code ? ", " : "", code ? code : "");
    if (status == 429)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "the token endpoint is rate-limiting (429)");
    return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "the token endpoint answered HTTP %ld%s%s", status,
                         code ? " " : "", code ? code : "");
}

/* A non-empty string member of at most LF_OAUTH_TOKEN_MAX bytes without NULs, or NULL. */
static const char *token_text(const json_t *doc, const char *key)
{
    const json_t *value = json_object_get(doc, key);

    if (!json_is_string(value) || json_string_length(value) == 0 ||
        json_string_length(value) > LF_OAUTH_TOKEN_MAX ||
        strlen(json_string_value(value)) != json_string_length(value))
        return NULL;
    return json_string_value(value);
}

/* expires_in as seconds: a non-negative integer, or such a number in a string; -1 if absent. */
static enum rs_err expires_in(const json_t *doc, int64_t *out)
{
    const json_t *value = json_object_get(doc, "expires_in");
    char *end = NULL;

    *out = -1;
    if (!value || json_is_null(value))
        return RS_OK;
    if (json_is_integer(value))
        *out = json_integer_value(value);
    else if (json_is_string(value) && json_string_length(value) > 0)
        *out = strtoll(json_string_value(value), &end, 10);
    if (*out < 0 || (end && *end))
        return RS_ERR_UPSTREAM;
    if (*out > EXPIRES_IN_MAX)
        *out = EXPIRES_IN_MAX;
    return RS_OK;
}

/* The token object from a 2xx answer's document. */
static enum rs_err token_from(const json_t *doc, int64_t now_us, const json_t *previous,
                              json_t **out, struct rs_errbuf *eb)
{
    const char *access = token_text(doc, "access_token");
    const char *refresh = token_text(doc, "refresh_token");
    const char *type = json_string_value(json_object_get(doc, "token_type"));
    const json_t *scope = json_object_get(doc, "scope");
    int64_t lifetime = -1;
    json_t *token;

    if (!access)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "the token endpoint sent no usable access_token");
    if (type && strcasecmp(type, "bearer") != 0)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM,
                             "the token endpoint sent a token of type %.20s, "
                             "not Bearer",
                             type);
    if (expires_in(doc, &lifetime) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "the token endpoint sent a bad expires_in");
    if (!refresh)
        refresh = token_text(previous, "refresh_token"); /* RFC 6749 §6: the old one stays */
    if (!json_is_string(scope))
        scope = json_object_get(previous, "scope");
    if (!(token = json_object()))
        return RS_ERR_NOMEM;
    json_object_set_new(token, "access_token", json_string(access));
    if (refresh)
        json_object_set_new(token, "refresh_token", json_string(refresh));
    if (lifetime >= 0)
        json_object_set_new(token, "expires_at_us", json_integer(now_us + lifetime * US_PER_S));
    if (json_is_string(scope))
        json_object_set_new(token, "scope", json_string(json_string_value(scope)));
    if (!json_is_string(json_object_get(token, "access_token"))) {
        json_decref(token);
        return RS_ERR_NOMEM;
    }
    *out = token;
    return RS_OK;
}

enum rs_err lf_oauth_parse_token(long status, const char *body, size_t len, int64_t now_us,
                                 const json_t *previous, json_t **out, struct rs_errbuf *eb)
{
    json_t *doc = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    enum rs_err err;

    *out = NULL;
    if (status >= 200 && status <= 299) {
        err = json_is_object(doc) ? token_from(doc, now_us, previous, out, eb)
                                  : rs_errbuf_set(eb, RS_ERR_UPSTREAM,
                                                  "the token endpoint's answer is not a JSON "
                                                  "object");
    } else if (status >= 500 || status == 0) {
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "the token endpoint answered HTTP %ld", status);
    } else {
        err = refused(status, json_is_object(doc) ? doc : NULL, eb);
    }
    json_decref(doc);
    return err;
}

bool lf_oauth_still_valid(const json_t *token, int64_t now_us, int64_t margin_us)
{
    const json_t *expires = json_object_get(token, "expires_at_us");
    json_int_t at;

    if (!token_text(token, "access_token") || json_is_true(json_object_get(token, "invalid")))
        return false;
    if (!expires || json_is_null(expires))
        return true;
    if (!json_is_integer(expires))
        return false;
    at = json_integer_value(expires);
    return at == 0 || (at > now_us && at - now_us > margin_us);
}

bool lf_oauth_uses_oauth(const struct prov_ops *ops, const json_t *credentials)
{
    if (!ops->oauth)
        return false;
    for (size_t i = 0; i < ops->nfields; i++) {
        const json_t *value = json_object_get(credentials, ops->fields[i].name);

        if (ops->fields[i].secret && json_is_string(value) && json_string_length(value) > 0)
            return false;
    }
    return true;
}
