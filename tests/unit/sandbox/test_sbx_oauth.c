/*
 * Unit tests for sandbox/sbx_oauth.c and sbx_authorize.c: the consent page, what is refused
 * (with and without a redirect), code exchange with PKCE S256, code reuse, refresh rotation,
 * revocation, bearer access to the BambooHR and Factorial APIs, the /_control/oauth endpoints
 * and the request-log note of an OAuth call.
 */
#include "sbx_test.h"

#define FAC       "http://sandbox.test/factorial"
#define BHR       "http://sandbox.test/bamboohr"
#define REDIRECT  "http://127.0.0.1:9999/link/callback"
#define VERIFIER  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox-verifier"
#define EMPLOYEES "/api/2026-07-01/resources/employees/employees"

struct call {
    struct sbx_req req;
    struct sbx_resp resp;
    json_t *json; /* the body when it is JSON */
    char location[1536];
};

static void call_cleanup(struct call *c)
{
    json_decref(c->json);
    sbx_http_resp_cleanup(&c->resp);
}

/* A request to a provider; a body is sent form-encoded. Returns the status. */
static int run(struct sbx_ctx *ctx, int provider, struct call *c, enum sbx_method method,
               const char *path, const char *query, const char *auth, const char *body,
               int64_t now_us)
{
    const char *location;

    json_decref(c->json);
    c->json = NULL;
    sbx_test_req(&c->req, method, provider == SBX_PROV_FACTORIAL ? FAC : BHR, path, query, auth,
                 body);
    if (body)
        c->req.content_type = "application/x-www-form-urlencoded";
    if (now_us)
        c->req.now_us = now_us;
    sbx_test_run(ctx, provider, &c->req, &c->resp);
    if (strncmp(c->resp.content_type, "application/json", 16) == 0)
        c->json = sbx_test_json(&c->resp);
    location = sbx_test_header(&c->resp, "Location");
    snprintf(c->location, sizeof(c->location), "%s", location ? location : "");
    return c->resp.status;
}

static const char *body_text(const struct call *c)
{
    static char text[1 << 16];

    snprintf(text, sizeof(text), "%.*s", (int)c->resp.body.len,
             c->resp.body.data ? c->resp.body.data : "");
    return text;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* BASE64URL(SHA256(verifier)). */
static void challenge_of(const char *verifier, char out[64])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(out, 64, digest, sizeof(digest), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The authorize parameters of a good request, with one parameter replaced or dropped. */
static void authorize_query(char *out, size_t len, const char *replace_key, const char *value)
{
    char challenge[64];
    const char *keys[] = {"response_type", "client_id",      "redirect_uri",         "state",
                          "scope",         "code_challenge", "code_challenge_method"};
    const char *values[] = {"code", "roster-app", REDIRECT, "st4te", "read", challenge, "S256"};
    size_t used = 0;

    challenge_of(VERIFIER, challenge);
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = replace_key && strcmp(keys[i], replace_key) == 0 ? value : values[i];

        if (v)
            used +=
                (size_t)snprintf(out + used, len - used, "%s%s=%s", used ? "&" : "", keys[i], v);
    }
}

/* Appends suffix to the query text in out. */
static void append(char *out, size_t len, const char *suffix)
{
    size_t used = strlen(out);

    assert_true(used + strlen(suffix) < len);
    snprintf(out + used, len - used, "%s", suffix);
}

/* The value of key in the query of a Location, percent-decoded, or "" when absent. */
static const char *location_param(const struct call *c, const char *key, char *out, size_t len)
{
    const char *q = strchr(c->location, '?');
    struct sbx_query parsed;
    char copy[1536];
    const char *v;

    out[0] = '\0';
    if (!q)
        return out;
    snprintf(copy, sizeof(copy), "%s", q + 1);
    assert_int_equal(sbx_http_query_parse(&parsed, copy), RS_OK);
    v = sbx_http_query_get(&parsed, key);
    snprintf(out, len, "%s", v ? v : "");
    return out;
}

/* Approves a good authorize request for provider and returns its code. */
static void approve(struct sbx_ctx *ctx, int provider, const char *path, char code[128])
{
    struct call c = {0};
    char body[1024];

    sbx_http_resp_init(&c.resp);
    authorize_query(body, sizeof(body), NULL, NULL);
    append(body, sizeof(body), "&decision=approve");
    assert_int_equal(run(ctx, provider, &c, SBX_POST, path, NULL, NULL, body, 0), 302);
    location_param(&c, "code", code, 128);
    assert_true(code[0] != '\0');
    call_cleanup(&c);
}

/* POSTs a token request with client_id=roster-app&client_secret=sandbox prepended. */
static int token(struct sbx_ctx *ctx, int provider, struct call *c, const char *params,
                 int64_t now_us)
{
    char body[2048];

    snprintf(body, sizeof(body), "client_id=roster-app&client_secret=sandbox&%s", params);
    return run(ctx, provider, c, SBX_POST,
               provider == SBX_PROV_FACTORIAL ? "/oauth/token" : "/token.php",
               provider == SBX_PROV_FACTORIAL ? NULL : "request=token", NULL, body, now_us);
}

static int exchange(struct sbx_ctx *ctx, int provider, struct call *c, const char *code,
                    const char *verifier)
{
    char params[1024];

    snprintf(params, sizeof(params),
             "grant_type=authorization_code&code=%s&redirect_uri=%s"
             "&code_verifier=%s",
             code, REDIRECT, verifier);
    return token(ctx, provider, c, params, 0);
}

/* A full flow for provider: the tokens answer (new reference). */
static json_t *tokens_for(struct sbx_ctx *ctx, int provider)
{
    struct call c = {0};
    char code[128];
    json_t *out;

    sbx_http_resp_init(&c.resp);
    approve(ctx, provider, provider == SBX_PROV_FACTORIAL ? "/oauth/authorize" : "/authorize.php",
            code);
    assert_int_equal(exchange(ctx, provider, &c, code, VERIFIER), 200);
    out = json_incref(c.json);
    call_cleanup(&c);
    return out;
}

static int api(struct sbx_ctx *ctx, int provider, const char *access, int64_t now_us)
{
    struct call c = {0};
    char auth[160];
    int status;

    sbx_http_resp_init(&c.resp);
    snprintf(auth, sizeof(auth), "Bearer %s", access);
    status = provider == SBX_PROV_FACTORIAL
                 ? run(ctx, provider, &c, SBX_GET, EMPLOYEES, "limit=1", auth, NULL, now_us)
                 : run(ctx, provider, &c, SBX_GET, "/api/v1/meta/lists", NULL, auth, NULL, now_us);
    call_cleanup(&c);
    return status;
}

/* ---- authorize */

static void test_consent_page(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char query[1024];
    const char *html;

    (void)state;
    sbx_http_resp_init(&c.resp);
    authorize_query(query, sizeof(query), NULL, NULL);
    append(query, sizeof(query), "&scope=x"); /* a repeated parameter is refused ... */
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/authorize", query, NULL, NULL, 0), 400);
    assert_null(sbx_test_header(&c.resp, "Location"));
    /* ... and a good one shows both buttons, the app (escaped) and every scope */
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/authorize",
                         "response_type=code&client_id=Acme%20%3Cb%3Eapp&redirect_uri="
                         "http%3A%2F%2F127.0.0.1%3A9999%2Fcb&state=s&scope=read%20write&"
                         "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&"
                         "code_challenge_method=S256",
                         NULL, NULL, 0),
                     200);
    html = body_text(&c);
    assert_string_equal(c.resp.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(html, "<button type=\"submit\" name=\"decision\" value=\"approve\">"
                                 "Approve</button>"));
    assert_non_null(strstr(html, "value=\"deny\">Deny</button>"));
    assert_non_null(strstr(html, "Acme &lt;b&gt;app"));
    assert_null(strstr(html, "<b>app"));
    assert_non_null(strstr(html, "<li>read</li>"));
    assert_non_null(strstr(html, "<li>write</li>"));
    assert_non_null(strstr(html, "Factorial"));
    assert_null(strstr(html, "src=")); /* no external assets */
    assert_null(strstr(html, "href="));
    assert_null(sbx_test_header(&c.resp, "Location"));
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* Requests whose redirect target cannot be trusted get a page, never a redirect. */
static void test_authorize_not_redirected(void **state)
{
    static const char *const bad_redirects[] = {
        "javascript%3Aalert(1)",      "%2Frelative",        "http%3A%2F%2F",
        "http%3A%2F%2Fx%2Fcb%23frag", "ftp%3A%2F%2Fx%2Fcb", "http%3A%2F%2F%2Fpath",
    };
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char query[1024];

    (void)state;
    sbx_http_resp_init(&c.resp);
    for (size_t i = 0; i < sizeof(bad_redirects) / sizeof(bad_redirects[0]); i++) {
        authorize_query(query, sizeof(query), "redirect_uri", bad_redirects[i]);
        assert_int_equal(
            run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/authorize", query, NULL, NULL, 0),
            400);
        assert_null(sbx_test_header(&c.resp, "Location"));
        assert_non_null(strstr(body_text(&c), "redirect_uri"));
    }
    authorize_query(query, sizeof(query), "redirect_uri", NULL);
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/authorize", query, NULL, NULL, 0), 400);
    authorize_query(query, sizeof(query), "client_id", NULL);
    assert_int_equal(
        run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_GET, "/authorize.php", query, NULL, NULL, 0), 400);
    assert_null(sbx_test_header(&c.resp, "Location"));
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_PUT, "/oauth/authorize", NULL, NULL, NULL, 0), 400);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* Once client and redirect URI are valid, errors go back to the client (RFC 6749 4.1.2.1). */
static void test_authorize_errors_redirected(void **state)
{
    static const char *const cases[][3] = {
        {"code_challenge_method", NULL, "invalid_request"},
        {"code_challenge_method", "plain", "invalid_request"},
        {"code_challenge", NULL, "invalid_request"},
        {"code_challenge", "short", "invalid_request"},
        {"response_type", "token", "unsupported_response_type"},
        {"state", NULL, "invalid_request"},
        {"scope", NULL, "invalid_scope"},
        {"scope", "%22quoted%22", "invalid_scope"},
    };
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char query[1024], value[256];

    (void)state;
    sbx_http_resp_init(&c.resp);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        authorize_query(query, sizeof(query), cases[i][0], cases[i][1]);
        assert_int_equal(
            run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/authorize", query, NULL, NULL, 0),
            302);
        assert_true(strncmp(c.location, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
        assert_string_equal(location_param(&c, "error", value, sizeof(value)), cases[i][2]);
        assert_string_equal(location_param(&c, "code", value, sizeof(value)), "");
        if (strcmp(cases[i][0], "state") != 0)
            assert_string_equal(location_param(&c, "state", value, sizeof(value)), "st4te");
    }
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

static void test_approve_and_deny(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char body[1024], value[256];

    (void)state;
    sbx_http_resp_init(&c.resp);
    authorize_query(body, sizeof(body), "state", "a%20b%26c%3Dd~");
    append(body, sizeof(body), "&decision=approve");
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/authorize", NULL, NULL, body, 0), 302);
    assert_string_equal(location_param(&c, "state", value, sizeof(value)), "a b&c=d~");
    assert_true(strncmp(location_param(&c, "code", value, sizeof(value)), "factorial-code-", 15) ==
                0);
    assert_non_null(strstr(c.location, "state=a%20b%26c%3Dd~"));
    /* a state must be printable ASCII (RFC 6749 VSCHAR) */
    authorize_query(body, sizeof(body), "state", "%C3%A9");
    append(body, sizeof(body), "&decision=approve");
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/authorize", NULL, NULL, body, 0), 302);
    assert_string_equal(location_param(&c, "error", value, sizeof(value)), "invalid_request");
    /* a redirect URI with a query keeps it */
    authorize_query(body, sizeof(body), "redirect_uri", "https%3A%2F%2Fapp.example%2Fcb%3Fk%3Dv");
    append(body, sizeof(body), "&decision=approve");
    assert_int_equal(
        run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/authorize.php", NULL, NULL, body, 0), 302);
    assert_true(strncmp(c.location, "https://app.example/cb?k=v&code=bamboohr-code-", 46) == 0);
    authorize_query(body, sizeof(body), NULL, NULL);
    append(body, sizeof(body), "&decision=deny");
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/authorize", NULL, NULL, body, 0), 302);
    assert_string_equal(location_param(&c, "error", value, sizeof(value)), "access_denied");
    assert_string_equal(location_param(&c, "state", value, sizeof(value)), "st4te");
    assert_string_equal(location_param(&c, "code", value, sizeof(value)), "");
    authorize_query(body, sizeof(body), NULL, NULL);
    append(body, sizeof(body), "&decision=maybe");
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/authorize", NULL, NULL, body, 0), 400);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* ---- token */

static void test_code_exchange(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char code[128], params[1024];
    json_t *first;

    (void)state;
    sbx_http_resp_init(&c.resp);
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    assert_int_equal(exchange(ctx, SBX_PROV_FACTORIAL, &c, code, VERIFIER), 200);
    assert_string_equal(str(c.json, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(c.json, "expires_in")), 3600);
    assert_string_equal(str(c.json, "scope"), "read");
    assert_true(strncmp(str(c.json, "access_token"), "factorial-at-", 13) == 0);
    assert_true(strncmp(str(c.json, "refresh_token"), "factorial-rt-", 13) == 0);
    assert_string_equal(sbx_test_header(&c.resp, "Cache-Control"), "no-store");
    first = json_incref(c.json);
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(first, "access_token"), 0), 200);
    /* a code is single-use; its reuse also revokes what it produced */
    assert_int_equal(exchange(ctx, SBX_PROV_FACTORIAL, &c, code, VERIFIER), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(first, "access_token"), 0), 401);
    json_decref(first);
    /* the wrong verifier, redirect URI, provider or lifetime */
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    assert_int_equal(exchange(ctx, SBX_PROV_FACTORIAL, &c, code, VERIFIER "x"), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    assert_int_equal(exchange(ctx, SBX_PROV_FACTORIAL, &c, code, VERIFIER), 400); /* used up */
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    snprintf(params, sizeof(params),
             "grant_type=authorization_code&code=%s&redirect_uri="
             "http://127.0.0.1:9999/other&code_verifier=" VERIFIER,
             code);
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    approve(ctx, SBX_PROV_BAMBOOHR, "/authorize.php", code);
    assert_int_equal(exchange(ctx, SBX_PROV_FACTORIAL, &c, code, VERIFIER), 400);
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    snprintf(params, sizeof(params),
             "grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT
             "&code_verifier=" VERIFIER,
             code);
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, rs_time_now_us() + 61000000), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    snprintf(params, sizeof(params), "grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT,
             code);
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 400); /* no verifier */
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

static void test_client_authentication(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char code[128], body[1024];

    (void)state;
    sbx_http_resp_init(&c.resp);
    approve(ctx, SBX_PROV_BAMBOOHR, "/authorize.php", code);
    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT
             "&code_verifier=" VERIFIER "&client_id=roster-app&client_secret=nope",
             code);
    assert_int_equal(
        run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/token.php", "request=token", NULL, body, 0),
        401);
    assert_string_equal(str(c.json, "error"), "invalid_client");
    assert_non_null(sbx_test_header(&c.resp, "WWW-Authenticate"));
    /* HTTP Basic roster-app:sandbox */
    approve(ctx, SBX_PROV_BAMBOOHR, "/authorize.php", code);
    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT
             "&code_verifier=" VERIFIER,
             code);
    assert_int_equal(run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/token.php", "request=token",
                         "Basic cm9zdGVyLWFwcDpzYW5kYm94", body, 0),
                     200);
    assert_true(strncmp(str(c.json, "access_token"), "bamboohr-at-", 12) == 0);
    /* another client's code; no secret at all; a JSON body; a GET; a bad grant type */
    approve(ctx, SBX_PROV_BAMBOOHR, "/authorize.php", code);
    assert_int_equal(run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/token.php", "request=token",
                         "Basic b3RoZXI6c2FuZGJveA==", body, 0),
                     400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, "grant_type=password", 0), 400);
    assert_string_equal(str(c.json, "error"), "unsupported_grant_type");
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/token", NULL, NULL,
                         "client_id=roster-app&grant_type=refresh_token&refresh_token=x", 0),
                     401);
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, "/oauth/token", NULL, NULL, NULL, 0),
                     405);
    sbx_test_req(&c.req, SBX_POST, FAC, "/oauth/token", NULL, NULL, "{\"grant_type\":\"x\"}");
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &c.req, &c.resp);
    assert_int_equal(c.resp.status, 400);
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, "grant_type=refresh_token&grant_type=x", 0),
                     400);
    assert_int_equal(
        run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/token.php", "request=nope", NULL, body, 0),
        400);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

static void test_refresh_rotation(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    json_t *first = tokens_for(ctx, SBX_PROV_FACTORIAL), *second;
    char params[512];

    (void)state;
    sbx_http_resp_init(&c.resp);
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s",
             str(first, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 200);
    second = json_incref(c.json);
    assert_string_not_equal(str(second, "access_token"), str(first, "access_token"));
    assert_string_not_equal(str(second, "refresh_token"), str(first, "refresh_token"));
    assert_string_equal(str(second, "scope"), "read");
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(second, "access_token"), 0), 200);
    /* the old refresh token is spent */
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    /* the new one works once, also asking for a narrower (here equal) scope */
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s&scope=read",
             str(second, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 200);
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s",
             str(c.json, "refresh_token"));
    json_decref(second);
    second = json_incref(c.json);
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s&scope=admin",
             str(second, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_FACTORIAL, &c, params, 0), 400);
    assert_string_equal(str(c.json, "error"), "invalid_scope");
    /* a Factorial refresh token means nothing to BambooHR */
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s",
             str(second, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_BAMBOOHR, &c, params, 0), 400);
    json_decref(first);
    json_decref(second);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

static void test_revoke(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    json_t *a = tokens_for(ctx, SBX_PROV_FACTORIAL), *b = tokens_for(ctx, SBX_PROV_BAMBOOHR);
    char body[512];

    (void)state;
    sbx_http_resp_init(&c.resp);
    /* revoking an access token leaves the refresh token */
    snprintf(body, sizeof(body), "client_id=roster-app&client_secret=sandbox&token=%s",
             str(a, "access_token"));
    assert_int_equal(
        run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/revoke", NULL, NULL, body, 0), 200);
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(a, "access_token"), 0), 401);
    /* revoking a refresh token takes its access token along (RFC 7009 2.1) */
    snprintf(body, sizeof(body), "client_id=roster-app&client_secret=sandbox&token=%s",
             str(b, "refresh_token"));
    assert_int_equal(
        run(ctx, SBX_PROV_BAMBOOHR, &c, SBX_POST, "/token.php", "request=revoke", NULL, body, 0),
        200);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(b, "access_token"), 0), 401);
    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s",
             str(b, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_BAMBOOHR, &c, body, 0), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    /* unknown tokens are fine; bad clients and missing tokens are not */
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/revoke", NULL, NULL,
                         "client_id=roster-app&client_secret=sandbox&token=nope", 0),
                     200);
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/revoke", NULL, NULL,
                         "client_id=roster-app&client_secret=x&token=nope", 0),
                     401);
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_POST, "/oauth/revoke", NULL, NULL,
                         "client_id=roster-app&client_secret=sandbox", 0),
                     400);
    json_decref(a);
    json_decref(b);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* ---- bearer access */

static void test_bearer_access(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    json_t *fac = tokens_for(ctx, SBX_PROV_FACTORIAL), *bhr = tokens_for(ctx, SBX_PROV_BAMBOOHR);
    int64_t now = rs_time_now_us();

    (void)state;
    sbx_http_resp_init(&c.resp);
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(fac, "access_token"), now), 200);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(bhr, "access_token"), now), 200);
    /* each provider's tokens only */
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(bhr, "access_token"), now), 401);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(fac, "access_token"), now), 401);
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, "sandbox", now), 401);
    /* an hour later both have expired */
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(fac, "access_token"), now + 3601000000), 401);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(bhr, "access_token"), now + 3601000000), 401);
    assert_int_equal(run(ctx, SBX_PROV_FACTORIAL, &c, SBX_GET, EMPLOYEES, NULL, NULL, NULL, 0),
                     401);
    assert_string_equal(str(c.json, "error"), "invalid_token");
    assert_non_null(sbx_test_header(&c.resp, "WWW-Authenticate"));
    /* the x-api-key variant */
    sbx_test_req(&c.req, SBX_GET, FAC, EMPLOYEES, NULL, NULL, NULL);
    c.req.api_key = "sandbox";
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &c.req, &c.resp);
    assert_int_equal(c.resp.status, 200);
    c.req.api_key = "nope";
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &c.req, &c.resp);
    assert_int_equal(c.resp.status, 401);
    /* a revoke fault kills the tokens until cleared */
    ctx->revoked[SBX_PROV_FACTORIAL] = true;
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(fac, "access_token"), now), 401);
    ctx->revoked[SBX_PROV_FACTORIAL] = false;
    assert_int_equal(api(ctx, SBX_PROV_FACTORIAL, str(fac, "access_token"), now), 200);
    json_decref(fac);
    json_decref(bhr);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* ---- control */

static json_int_t live(json_t *root, const char *provider, const char *key)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(root, "providers"), provider), key));
}

static void test_control(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    json_t *root, *fac, *bhr;
    char params[512];

    (void)state;
    sbx_http_resp_init(&c.resp);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/oauth/ttl",
                                      "{\"provider\":\"factorial\",\"access_token_ttl_s\":5}",
                                      &root),
                     200);
    assert_int_equal(live(root, "factorial", "access_token_ttl_s"), 5);
    assert_int_equal(live(root, "bamboohr", "access_token_ttl_s"), 3600);
    json_decref(root);
    fac = tokens_for(ctx, SBX_PROV_FACTORIAL);
    bhr = tokens_for(ctx, SBX_PROV_BAMBOOHR);
    assert_int_equal(json_integer_value(json_object_get(fac, "expires_in")), 5);
    assert_int_equal(
        api(ctx, SBX_PROV_FACTORIAL, str(fac, "access_token"), rs_time_now_us() + 6000000), 401);
    /* expire: access tokens die, refresh tokens still work */
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/oauth/expire", "{}", &root), 200);
    assert_int_equal(live(root, "bamboohr", "live_access_tokens"), 0);
    assert_int_equal(live(root, "bamboohr", "live_refresh_tokens"), 1);
    json_decref(root);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(bhr, "access_token"), 0), 401);
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s",
             str(bhr, "refresh_token"));
    assert_int_equal(token(ctx, SBX_PROV_BAMBOOHR, &c, params, 0), 200);
    assert_int_equal(api(ctx, SBX_PROV_BAMBOOHR, str(c.json, "access_token"), 0), 200);
    /* revoke: refreshing fails with invalid_grant */
    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s",
             str(c.json, "refresh_token"));
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/oauth/revoke", "{\"provider\":\"bamboohr\"}", NULL), 200);
    assert_int_equal(token(ctx, SBX_PROV_BAMBOOHR, &c, params, 0), 400);
    assert_string_equal(str(c.json, "error"), "invalid_grant");
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/oauth", NULL, &root), 200);
    assert_int_equal(live(root, "bamboohr", "live_refresh_tokens"), 0);
    assert_int_equal(live(root, "factorial", "live_refresh_tokens"), 1);
    json_decref(root);
    /* bad requests; reset forgets everything */
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/oauth/ttl",
                                      "{\"provider\":\"personio\","
                                      "\"access_token_ttl_s\":5}",
                                      NULL),
                     400);
    assert_int_equal(
        sbx_test_control(ctx, SBX_POST, "/oauth/ttl", "{\"access_token_ttl_s\":-1}", NULL), 400);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/oauth/nothing", "{}", NULL), 404);
    assert_int_equal(sbx_test_control(ctx, SBX_POST, "/reset", "{}", NULL), 200);
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/oauth", NULL, &root), 200);
    assert_int_equal(live(root, "factorial", "access_token_ttl_s"), 3600);
    assert_int_equal(live(root, "factorial", "live_refresh_tokens"), 0);
    json_decref(root);
    json_decref(fac);
    json_decref(bhr);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

/* The request log shows what an OAuth call carried, never the client secret or tokens. */
static void test_request_log_note(void **state)
{
    struct sbx_ctx *ctx = sbx_test_ctx(5, 1);
    struct call c = {0};
    char code[128], body[1024];
    json_t *root, *entry, *note;
    const char *text;

    (void)state;
    sbx_http_resp_init(&c.resp);
    approve(ctx, SBX_PROV_FACTORIAL, "/oauth/authorize", code);
    snprintf(body, sizeof(body),
             "client_id=roster-app&client_secret=sandbox&grant_type="
             "authorization_code&code=%s&redirect_uri=" REDIRECT "&code_verifier=" VERIFIER,
             code);
    sbx_test_req(&c.req, SBX_POST, FAC, "/oauth/token", NULL, NULL, body);
    c.req.content_type = "application/x-www-form-urlencoded";
    c.req.log_id = sbx_reqlog_add(&ctx->reqlog, c.req.now_us, SBX_PROV_FACTORIAL, SBX_POST,
                                  "/factorial/oauth/token");
    sbx_test_run(ctx, SBX_PROV_FACTORIAL, &c.req, &c.resp);
    assert_int_equal(c.resp.status, 200);
    c.json = sbx_test_json(&c.resp);
    assert_int_equal(sbx_test_control(ctx, SBX_GET, "/requests", NULL, &root), 200);
    entry = json_array_get(json_object_get(root, "requests"), 0);
    note = json_object_get(entry, "oauth");
    assert_string_equal(str(note, "endpoint"), "token");
    assert_string_equal(str(note, "grant_type"), "authorization_code");
    assert_string_equal(str(note, "client_id"), "roster-app");
    assert_string_equal(str(note, "client_auth"), "body");
    assert_string_equal(str(note, "code_verifier"), VERIFIER);
    assert_string_equal(str(note, "redirect_uri"), REDIRECT);
    assert_true(json_is_null(json_object_get(note, "error")));
    text = json_dumps(root, 0);
    assert_null(strstr(text, "client_secret"));
    assert_null(strstr(text, str(c.json, "access_token")));
    assert_null(strstr(text, str(c.json, "refresh_token")));
    assert_null(strstr(text, code));
    free((void *)text);
    json_decref(root);
    call_cleanup(&c);
    sbx_test_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consent_page),
        cmocka_unit_test(test_authorize_not_redirected),
        cmocka_unit_test(test_authorize_errors_redirected),
        cmocka_unit_test(test_approve_and_deny),
        cmocka_unit_test(test_code_exchange),
        cmocka_unit_test(test_client_authentication),
        cmocka_unit_test(test_refresh_rotation),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_bearer_access),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_request_log_note),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
