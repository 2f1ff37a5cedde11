/*
 * The OAuth2 authorization servers of BambooHR and Factorial as the sandbox emulates them: codes
 * bound to client, redirect URI and PKCE S256 challenge; token and revocation endpoints; access
 * tokens the provider APIs accept as bearers. The authorize page itself is sbx_authorize.c.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SECRET       "sandbox"
#define VERIFIER_MIN 43 /* RFC 7636 §4.1 */
#define VERIFIER_MAX 128
#define US_PER_S     INT64_C(1000000)

void sbx_oauth_copy(char *dst, size_t size, const char *src)
{
    /* cutting is meant here (callers bound what they keep), so no snprintf to warn about it */
    size_t n = src ? strlen(src) : 0;

    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void sbx_oauth_reset(struct sbx_oauth *o)
{
    memset(o, 0, sizeof(*o));
    for (int p = 0; p < SBX_PROV_COUNT; p++)
        o->access_ttl_s[p] = SBX_OAUTH_TTL_DEFAULT_S;
}

/* "<slug>-<kind>-<48 hex>": random, and readable in a log as what it is. */
static void random_token(int provider, const char *kind, char out[SBX_OAUTH_TOKEN_LEN])
{
    unsigned char raw[24];
    char hex[2 * sizeof(raw) + 1];
    const struct sbx_provider *prov = sbx_server_provider(provider);

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    snprintf(out, SBX_OAUTH_TOKEN_LEN, "%s-%s-%s", prov ? prov->slug : "sbx", kind, hex);
}

static bool same(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

void sbx_oauth_code_issue(struct sbx_oauth *o, int provider, const char *client_id,
                          const char *redirect_uri, const char *challenge, const char *scope,
                          int64_t now_us, char *out)
{
    struct sbx_oauth_code *c;

    if (o->ncodes < SBX_OAUTH_CODES_MAX) {
        c = &o->codes[o->ncodes++];
    } else {
        c = &o->codes[o->next_code]; /* the oldest goes */
        o->next_code = (o->next_code + 1) % SBX_OAUTH_CODES_MAX;
    }
    memset(c, 0, sizeof(*c));
    random_token(provider, "code", c->code);
    c->provider = provider;
    sbx_oauth_copy(c->client_id, sizeof(c->client_id), client_id);
    sbx_oauth_copy(c->redirect_uri, sizeof(c->redirect_uri), redirect_uri);
    sbx_oauth_copy(c->challenge, sizeof(c->challenge), challenge);
    sbx_oauth_copy(c->scope, sizeof(c->scope), scope);
    c->expires_us = now_us + SBX_OAUTH_CODE_TTL_US;
    c->family = ++o->families;
    snprintf(out, SBX_OAUTH_TOKEN_LEN, "%s", c->code);
}

static struct sbx_oauth_grant *grant_issue(struct sbx_oauth *o, int provider, const char *client_id,
                                           const char *scope, uint64_t family, int64_t now_us)
{
    struct sbx_oauth_grant *g;

    if (o->ngrants < SBX_OAUTH_GRANTS_MAX) {
        g = &o->grants[o->ngrants++];
    } else {
        g = &o->grants[o->next_grant];
        o->next_grant = (o->next_grant + 1) % SBX_OAUTH_GRANTS_MAX;
    }
    memset(g, 0, sizeof(*g));
    random_token(provider, "at", g->access);
    random_token(provider, "rt", g->refresh);
    g->provider = provider;
    sbx_oauth_copy(g->client_id, sizeof(g->client_id), client_id);
    sbx_oauth_copy(g->scope, sizeof(g->scope), scope);
    g->access_expires_us = now_us + o->access_ttl_s[provider] * US_PER_S;
    g->family = family;
    return g;
}

/* Reuse of a code revokes what it produced (RFC 6749 §4.1.2). */
static void revoke_family(struct sbx_oauth *o, uint64_t family)
{
    for (int i = 0; i < o->ngrants; i++) {
        if (o->grants[i].family == family)
            o->grants[i].access_dead = o->grants[i].refresh_dead = true;
    }
}

const char *sbx_oauth_check_access(const struct sbx_ctx *ctx, int provider, const char *token,
                                   int64_t now_us)
{
    const struct sbx_oauth *o = &ctx->oauth;

    if (!token)
        return "no access token";
    for (int i = 0; i < o->ngrants; i++) {
        const struct sbx_oauth_grant *g = &o->grants[i];

        if (g->provider != provider || !same(g->access, token))
            continue;
        if (g->access_dead || ctx->revoked[provider])
            return "the access token was revoked";
        return now_us < g->access_expires_us ? NULL : "the access token expired";
    }
    return "unknown access token";
}

void sbx_oauth_expire_all(struct sbx_oauth *o, int provider, int64_t now_us)
{
    for (int i = 0; i < o->ngrants; i++) {
        struct sbx_oauth_grant *g = &o->grants[i];

        if ((provider < 0 || g->provider == provider) && g->access_expires_us > now_us)
            g->access_expires_us = now_us;
    }
}

void sbx_oauth_revoke_all(struct sbx_oauth *o, int provider)
{
    for (int i = 0; i < o->ngrants; i++) {
        if (provider < 0 || o->grants[i].provider == provider)
            o->grants[i].access_dead = o->grants[i].refresh_dead = true;
    }
    for (int i = 0; i < o->ncodes; i++) {
        if (provider < 0 || o->codes[i].provider == provider)
            o->codes[i].used = true;
    }
}

void sbx_oauth_render(const struct sbx_ctx *ctx, int64_t now_us, struct sbx_json *js)
{
    const struct sbx_oauth *o = &ctx->oauth;

    sbx_json_obj(js, "providers");
    for (int p = 0; p < SBX_PROV_COUNT; p++) {
        int live_access = 0, live_refresh = 0;

        if (p != SBX_PROV_BAMBOOHR && p != SBX_PROV_FACTORIAL)
            continue;
        for (int i = 0; i < o->ngrants; i++) {
            const struct sbx_oauth_grant *g = &o->grants[i];

            live_access += g->provider == p && !g->access_dead && g->access_expires_us > now_us;
            live_refresh += g->provider == p && !g->refresh_dead;
        }
        sbx_json_obj(js, sbx_server_provider(p)->slug);
        sbx_json_int(js, "access_token_ttl_s", o->access_ttl_s[p]);
        sbx_json_int(js, "live_access_tokens", live_access);
        sbx_json_int(js, "live_refresh_tokens", live_refresh);
        sbx_json_end(js);
    }
    sbx_json_end(js);
}

/* ---- replies */

/* One token or revoke call: its form, the authenticated client, and the request log note. */
struct call {
    struct sbx_ctx *ctx;
    int provider;
    const struct sbx_req *req;
    struct sbx_resp *resp;
    struct sbx_query form;
    char client_id[SBX_OAUTH_CLIENT_MAX];
    bool basic;
    struct sbx_reqlog_oauth note;
};

/* RFC 6749 §5.2: {"error", "error_description"}, never cached. */
static enum rs_err oauth_error(struct call *c, int status, const char *error,
                               const char *description)
{
    struct sbx_json js;

    sbx_oauth_copy(c->note.error, sizeof(c->note.error), error);
    sbx_http_resp_reset(c->resp);
    sbx_http_json(c->resp, status);
    sbx_http_header(c->resp, "Cache-Control", "no-store");
    sbx_http_header(c->resp, "Pragma", "no-cache");
    if (status == 401)
        sbx_http_header(c->resp, "WWW-Authenticate", "Basic realm=\"%s\"",
                        sbx_server_provider(c->provider)->slug);
    sbx_json_init(&js, &c->resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "error", error);
    sbx_json_str(&js, "error_description", description);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err reply_tokens(struct call *c, const struct sbx_oauth_grant *g)
{
    struct sbx_json js;

    sbx_http_json(c->resp, 200);
    sbx_http_header(c->resp, "Cache-Control", "no-store");
    sbx_http_header(c->resp, "Pragma", "no-cache");
    sbx_json_init(&js, &c->resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "access_token", g->access);
    sbx_json_str(&js, "token_type", "Bearer");
    sbx_json_int(&js, "expires_in", c->ctx->oauth.access_ttl_s[c->provider]);
    sbx_json_str(&js, "refresh_token", g->refresh);
    sbx_json_str(&js, "scope", g->scope);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- request parsing and client authentication */

/* The form of a POST; false (after answering) when the request is not one. */
static bool read_form(struct call *c, enum rs_err *err)
{
    static const char *const single[] = {"grant_type",    "code",          "redirect_uri",
                                         "code_verifier", "refresh_token", "client_id",
                                         "client_secret", "scope",         "token"};

    if (c->req->method != SBX_POST) {
        *err = oauth_error(c, 405, "invalid_request", "use POST");
        return false;
    }
    if (!sbx_http_is_form(c->req)) {
        *err = oauth_error(c, 400, "invalid_request",
                           "the body must be application/x-www-form-urlencoded");
        return false;
    }
    if (sbx_http_form(c->req, &c->form) != RS_OK) {
        *err = oauth_error(c, 400, "invalid_request", "the body is too large");
        return false;
    }
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        if (sbx_http_query_count(&c->form, single[i]) > 1) {
            *err = oauth_error(c, 400, "invalid_request", "a parameter is repeated");
            return false;
        }
    }
    return true;
}

static const char *param(const struct call *c, const char *key)
{
    const char *v = sbx_http_query_get(&c->form, key);

    return v && v[0] ? v : NULL;
}

/* RFC 6749 §2.3.1: HTTP Basic or client_id + client_secret in the body, not both. */
static bool authenticate(struct call *c, enum rs_err *err)
{
    char user[SBX_OAUTH_CLIENT_MAX], pass[256];
    const char *body_id = param(c, "client_id"), *body_secret = param(c, "client_secret");
    const char *secret;

    c->basic =
        sbx_http_basic(c->req->authorization, user, sizeof(user), pass, sizeof(pass)) == RS_OK;
    sbx_oauth_copy(c->note.client_auth, sizeof(c->note.client_auth),
                   c->basic ? "basic" : (body_secret ? "body" : "none"));
    if (c->basic && body_secret) {
        *err = oauth_error(c, 400, "invalid_request", "use one client authentication method");
        return false;
    }
    sbx_oauth_copy(c->client_id, sizeof(c->client_id), c->basic ? user : body_id);
    sbx_oauth_copy(c->note.client_id, sizeof(c->note.client_id), c->client_id);
    secret = c->basic ? pass : body_secret;
    if (!c->client_id[0] || !secret || !same(secret, SECRET) ||
        (c->basic && body_id && strcmp(body_id, user) != 0)) {
        sodium_memzero(pass, sizeof(pass));
        *err = oauth_error(c, 401, "invalid_client", "client authentication failed");
        return false;
    }
    sodium_memzero(pass, sizeof(pass));
    return true;
}

/* ---- grant_type=authorization_code */

static struct sbx_oauth_code *find_code(struct sbx_oauth *o, const char *code)
{
    for (int i = 0; i < o->ncodes; i++) {
        if (same(o->codes[i].code, code))
            return &o->codes[i];
    }
    return NULL;
}

/* BASE64URL(SHA256(verifier)) == challenge, the verifier being 43-128 unreserved characters. */
static bool pkce_ok(const char *verifier, const char *challenge)
{
    static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-._~";
    unsigned char digest[crypto_hash_sha256_BYTES];
    char encoded[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    size_t len = strlen(verifier);

    if (len < VERIFIER_MIN || len > VERIFIER_MAX || verifier[strspn(verifier, unreserved)])
        return false;
    crypto_hash_sha256(digest, (const unsigned char *)verifier, len);
    sodium_bin2base64(encoded, sizeof(encoded), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return same(encoded, challenge);
}

/* Why the code cannot be exchanged, or NULL. Any attempt uses the code up. */
static const char *code_problem(struct call *c, struct sbx_oauth_code *code,
                                const char *redirect_uri, const char *verifier)
{
    if (!code)
        return "unknown authorization code";
    if (code->used) {
        revoke_family(&c->ctx->oauth, code->family);
        return "the authorization code was already used";
    }
    code->used = true;
    if (c->req->now_us >= code->expires_us)
        return "the authorization code expired";
    if (code->provider != c->provider || strcmp(code->client_id, c->client_id) != 0)
        return "the authorization code was issued to another client";
    if (!redirect_uri || strcmp(code->redirect_uri, redirect_uri) != 0)
        return "redirect_uri does not match the authorization request";
    if (!verifier)
        return "code_verifier is required (PKCE)";
    if (!pkce_ok(verifier, code->challenge))
        return "code_verifier does not match the code_challenge";
    return NULL;
}

static enum rs_err exchange_code(struct call *c)
{
    const char *code_text = param(c, "code"), *redirect_uri = param(c, "redirect_uri");
    const char *verifier = param(c, "code_verifier"), *problem;
    struct sbx_oauth_code *code;

    sbx_oauth_copy(c->note.redirect_uri, sizeof(c->note.redirect_uri), redirect_uri);
    sbx_oauth_copy(c->note.code_verifier, sizeof(c->note.code_verifier), verifier);
    if (!code_text)
        return oauth_error(c, 400, "invalid_request", "code is required");
    code = find_code(&c->ctx->oauth, code_text);
    problem = code_problem(c, code, redirect_uri, verifier);
    if (problem)
        return oauth_error(c, 400, "invalid_grant", problem);
    sbx_oauth_copy(c->note.scope, sizeof(c->note.scope), code->scope);
    return reply_tokens(c, grant_issue(&c->ctx->oauth, c->provider, c->client_id, code->scope,
                                       code->family, c->req->now_us));
}

/* ---- grant_type=refresh_token */

/* True when every space-separated token of want is one of have's. */
static bool scope_subset(const char *want, const char *have)
{
    while (*want) {
        size_t n = strcspn(want, " ");
        const char *h = have;
        bool found = false;

        while (n > 0 && *h && !found) {
            size_t m = strcspn(h, " ");

            found = m == n && memcmp(h, want, n) == 0;
            h += m + (h[m] == ' ');
        }
        if (n > 0 && !found)
            return false;
        want += n + (want[n] == ' ');
    }
    return true;
}

static struct sbx_oauth_grant *find_refresh(struct sbx_oauth *o, int provider, const char *token)
{
    for (int i = 0; i < o->ngrants; i++) {
        if (o->grants[i].provider == provider && same(o->grants[i].refresh, token))
            return &o->grants[i];
    }
    return NULL;
}

static enum rs_err refresh(struct call *c)
{
    const char *token = param(c, "refresh_token"), *scope = param(c, "scope");
    struct sbx_oauth_grant *old;
    char old_scope[SBX_OAUTH_SCOPE_MAX];
    uint64_t family;

    sbx_oauth_copy(c->note.scope, sizeof(c->note.scope), scope);
    if (!token)
        return oauth_error(c, 400, "invalid_request", "refresh_token is required");
    old = find_refresh(&c->ctx->oauth, c->provider, token);
    if (!old || old->refresh_dead || c->ctx->revoked[c->provider])
        return oauth_error(c, 400, "invalid_grant", "the refresh token is invalid or was used");
    if (strcmp(old->client_id, c->client_id) != 0)
        return oauth_error(c, 400, "invalid_grant", "the refresh token belongs to another client");
    if (scope && !scope_subset(scope, old->scope))
        return oauth_error(c, 400, "invalid_scope", "scope exceeds what was granted");
    old->refresh_dead = true; /* rotation: the old refresh token is spent */
    sbx_oauth_copy(old_scope, sizeof(old_scope), scope ? scope : old->scope);
    family = old->family; /* old may be the slot grant_issue overwrites */
    return reply_tokens(c, grant_issue(&c->ctx->oauth, c->provider, c->client_id, old_scope, family,
                                       c->req->now_us));
}

enum rs_err sbx_oauth_token(struct sbx_ctx *ctx, int provider, const struct sbx_req *req,
                            struct sbx_resp *resp)
{
    struct call *c = calloc(1, sizeof(*c)); /* the form's store is large for a stack */
    const char *grant_type;
    enum rs_err err = RS_ERR_NOMEM;

    if (!c)
        return err;
    *c = (struct call){.ctx = ctx, .provider = provider, .req = req, .resp = resp};
    sbx_oauth_copy(c->note.endpoint, sizeof(c->note.endpoint), "token");
    if (!read_form(c, &err) || !authenticate(c, &err))
        goto out;
    grant_type = param(c, "grant_type");
    sbx_oauth_copy(c->note.grant_type, sizeof(c->note.grant_type), grant_type);
    if (!grant_type)
        err = oauth_error(c, 400, "invalid_request", "grant_type is required");
    else if (strcmp(grant_type, "authorization_code") == 0)
        err = exchange_code(c);
    else if (strcmp(grant_type, "refresh_token") == 0)
        err = refresh(c);
    else
        err = oauth_error(c, 400, "unsupported_grant_type",
                          "use authorization_code or refresh_token");
out:
    sbx_reqlog_oauth(&ctx->reqlog, req->log_id, &c->note);
    sodium_memzero(c, sizeof(*c));
    free(c);
    return err;
}

/* ---- revocation (RFC 7009) */

static void revoke_token(struct sbx_oauth *o, int provider, const char *client_id,
                         const char *token)
{
    for (int i = 0; i < o->ngrants; i++) {
        struct sbx_oauth_grant *g = &o->grants[i];

        if (g->provider != provider || strcmp(g->client_id, client_id) != 0)
            continue;
        if (same(g->refresh, token))
            g->refresh_dead = g->access_dead = true; /* §2.1: its access token goes too */
        else if (same(g->access, token))
            g->access_dead = true;
    }
}

enum rs_err sbx_oauth_revoke(struct sbx_ctx *ctx, int provider, const struct sbx_req *req,
                             struct sbx_resp *resp)
{
    struct call *c = calloc(1, sizeof(*c));
    const char *token;
    enum rs_err err = RS_ERR_NOMEM;

    if (!c)
        return err;
    *c = (struct call){.ctx = ctx, .provider = provider, .req = req, .resp = resp};
    sbx_oauth_copy(c->note.endpoint, sizeof(c->note.endpoint), "revoke");
    if (!read_form(c, &err) || !authenticate(c, &err))
        goto out;
    token = param(c, "token");
    if (!token) {
        err = oauth_error(c, 400, "invalid_request", "token is required");
        goto out;
    }
    revoke_token(&ctx->oauth, provider, c->client_id, token);
    sbx_http_json(resp, 200); /* also for an unknown token: §2.2 */
    err = rs_buf_append_str(&resp->body, "{}");
out:
    sbx_reqlog_oauth(&ctx->reqlog, req->log_id, &c->note);
    sodium_memzero(c, sizeof(*c));
    free(c);
    return err;
}
