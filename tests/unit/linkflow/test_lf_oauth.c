/*
 * Unit tests for linkflow/lf_oauth.c: PKCE (RFC 7636 Appendix B) and state, the authorize URL,
 * token requests (grants, client authentication), token answers (success, rotation, RFC 6749
 * §5.2 errors, malformed bodies) and expiry arithmetic, against a test-only adapter.
 */
#include "roster/lf_oauth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define NOW_US     INT64_C(1767258000000000) /* 2026-01-01T09:00:00Z */
#define MINUTE     INT64_C(60000000)
#define UNRESERVED "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

/* ---- a test-only adapter: endpoints on the tenant's host, or under base_url */

static enum rs_err test_endpoint(const json_t *fields, const char *base_url,
                                 enum prov_oauth_endpoint which, char *out, size_t outlen,
                                 struct rs_errbuf *eb)
{
    static const char *const paths[] = {"/oauth/authorize?prompt=consent", "/oauth/token",
                                        "/oauth/revoke"};
    const char *tenant = json_string_value(json_object_get(fields, "tenant"));
    int n;

    if (!tenant)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "the test adapter needs a tenant");
    if (base_url)
        n = snprintf(out, outlen, "%s%s", base_url, paths[which]);
    else
        n = snprintf(out, outlen, "https://%s.hr.example%s", tenant, paths[which]);
    return n < 0 || (size_t)n >= outlen ? RS_ERR_TOOBIG : RS_OK;
}

static const struct prov_field api_fields[] = {
    {"tenant", "Tenant", "", NULL, false},
    {"api_key", "API key", "", NULL, true},
};
static const struct prov_field oauth_fields[] = {{"tenant", "Tenant", "", NULL, false}};

static const struct prov_oauth basic_oauth = {oauth_fields,  1,   "employees:read org:read", true,
                                              test_endpoint, NULL};
static const struct prov_oauth body_oauth = {oauth_fields, 1, "", false, test_endpoint, NULL};

static const struct prov_ops basic_ops = {
    .slug = "testhr", .name = "TestHR", .fields = api_fields, .nfields = 2, .oauth = &basic_oauth};
static const struct prov_ops body_ops = {
    .slug = "testhr2", .name = "TestHR2", .fields = api_fields, .nfields = 2, .oauth = &body_oauth};
static const struct prov_ops no_oauth_ops = {
    .slug = "keyonly", .name = "KeyOnly", .fields = api_fields, .nfields = 2};

static json_t *tenant(void)
{
    return json_pack("{s:s}", "tenant", "acme");
}

/* ---- PKCE and state */

static void test_pkce_rfc7636_vector(void **state)
{
    char challenge[LF_OAUTH_B64_32];

    (void)state;
    /* RFC 7636 Appendix B */
    assert_int_equal(
        lf_oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge), RS_OK);
    assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_pkce_bad_verifiers(void **state)
{
    char challenge[LF_OAUTH_B64_32];
    char long_one[130];

    (void)state;
    memset(long_one, 'a', sizeof(long_one) - 1);
    long_one[129] = '\0';
    assert_int_equal(lf_oauth_pkce_challenge(long_one, challenge), RS_ERR_INVALID); /* 129 */
    long_one[128] = '\0';
    assert_int_equal(lf_oauth_pkce_challenge(long_one, challenge), RS_OK); /* 128 */
    assert_int_equal(
        lf_oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", challenge),
        RS_ERR_INVALID); /* 42 */
    assert_int_equal(
        lf_oauth_pkce_challenge("dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge),
        RS_ERR_INVALID); /* '+' is not unreserved */
    assert_int_equal(lf_oauth_pkce_challenge(NULL, challenge), RS_ERR_INVALID);
}

static void test_pkce_new_and_state(void **state)
{
    struct lf_oauth_pkce a, b;
    char check[LF_OAUTH_B64_32], s1[LF_OAUTH_B64_32], s2[LF_OAUTH_B64_32];

    (void)state;
    lf_oauth_pkce_new(&a);
    lf_oauth_pkce_new(&b);
    assert_int_equal(strlen(a.verifier), 64);
    assert_int_equal(strspn(a.verifier, UNRESERVED), 64);
    assert_int_equal(strlen(a.challenge), 43);
    assert_int_equal(lf_oauth_pkce_challenge(a.verifier, check), RS_OK);
    assert_string_equal(check, a.challenge);
    assert_string_not_equal(a.verifier, b.verifier);
    assert_string_not_equal(a.challenge, b.challenge);
    lf_oauth_state_new(s1);
    lf_oauth_state_new(s2);
    assert_int_equal(strlen(s1), 43);
    assert_int_equal(strspn(s1, UNRESERVED), 43);
    assert_string_not_equal(s1, s2);
    sodium_memzero(&a, sizeof(a));
}

/* ---- authorize URL */

static void expect_url(const struct prov_ops *ops, const char *base_url,
                       const struct lf_oauth_authorize *a, const char *want)
{
    json_t *fields = tenant();
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;

    rs_buf_init(&out, 8192);
    if (lf_oauth_authorize_url(ops, fields, base_url, a, &out, &eb) != RS_OK)
        fail_msg("authorize_url: %s", eb.msg);
    assert_string_equal(out.data, want);
    rs_buf_cleanup(&out);
    json_decref(fields);
}

static void test_authorize_url(void **state)
{
    struct lf_oauth_authorize a = {
        .client_id = "client 1/ü",
        .redirect_uri = "https://roster.example/link/oauth/callback?x=1&y=2",
        .state = "st-_.~ate",
        .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    };

    (void)state;
    /* the adapter's scopes; the endpoint already has a query, so '&' follows it */
    expect_url(
        &basic_ops, NULL, &a,
        "https://acme.hr.example/oauth/authorize?prompt=consent&response_type=code"
        "&client_id=client%201%2F%C3%BC"
        "&redirect_uri=https%3A%2F%2Froster.example%2Flink%2Foauth%2Fcallback%3Fx%3D1%26y%3D2"
        "&scope=employees%3Aread%20org%3Aread&state=st-_.~ate"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256");
    /* a client's own scope; the base_url override (sandbox) */
    a.scope = "read";
    expect_url(
        &basic_ops, "http://127.0.0.1:9/testhr", &a,
        "http://127.0.0.1:9/testhr/oauth/authorize?prompt=consent&response_type=code"
        "&client_id=client%201%2F%C3%BC"
        "&redirect_uri=https%3A%2F%2Froster.example%2Flink%2Foauth%2Fcallback%3Fx%3D1%26y%3D2"
        "&scope=read&state=st-_.~ate"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256");
    /* no scope at all: the parameter is left out */
    a.scope = NULL;
    a.client_id = "c";
    a.redirect_uri = "https://r.example/cb";
    expect_url(&body_ops, NULL, &a,
               "https://acme.hr.example/oauth/authorize?prompt=consent&response_type=code"
               "&client_id=c&redirect_uri=https%3A%2F%2Fr.example%2Fcb&state=st-_.~ate"
               "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
               "&code_challenge_method=S256");
}

static void test_authorize_url_refused(void **state)
{
    struct lf_oauth_authorize a = {"c", "https://r.example/cb", NULL, "s", "ch"};
    json_t *fields = tenant();
    json_t *empty = json_object();
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 8192);
    assert_int_equal(lf_oauth_authorize_url(&no_oauth_ops, fields, NULL, &a, &out, &eb),
                     RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "KeyOnly"));
    a.state = NULL;
    assert_int_equal(lf_oauth_authorize_url(&basic_ops, fields, NULL, &a, &out, &eb),
                     RS_ERR_INVALID);
    a.state = "s";
    a.code_challenge = "";
    assert_int_equal(lf_oauth_authorize_url(&basic_ops, fields, NULL, &a, &out, &eb),
                     RS_ERR_INVALID);
    a.code_challenge = "ch";
    /* the adapter's endpoint refuses fields without a tenant: its error comes back */
    assert_int_equal(lf_oauth_authorize_url(&basic_ops, empty, NULL, &a, &out, &eb),
                     RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "tenant"));
    assert_null(out.data);
    rs_buf_cleanup(&out);
    json_decref(fields);
    json_decref(empty);
}

/* ---- token requests */

static void test_refresh_request_basic(void **state)
{
    struct lf_oauth_client client = {.client_id = "id:1", .client_secret = "s3cr&t/+"};
    struct lf_oauth_grant grant = {.type = LF_OAUTH_GRANT_REFRESH, .refresh_token = "rt/1+2="};
    struct lf_oauth_request req;
    json_t *fields = tenant();
    struct rs_errbuf eb = {{0}, {0}};

    (void)state;
    assert_int_equal(lf_oauth_request_build(&basic_ops, fields, NULL, &client, &grant, &req, &eb),
                     RS_OK);
    assert_string_equal(req.url, "https://acme.hr.example/oauth/token");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_string_equal(req.body, "grant_type=refresh_token&refresh_token=rt%2F1%2B2%3D");
    /* RFC 6749 §2.3.1: id and secret form-encoded, then Basic */
    assert_string_equal(req.basic_user, "id%3A1");
    assert_string_equal(req.basic_password, "s3cr%26t%2F%2B");
    lf_oauth_request_cleanup(&req);
    assert_null(req.body);
    assert_null(req.basic_user);
    json_decref(fields);
}

static void test_code_request_body_auth(void **state)
{
    struct lf_oauth_client client = {.client_id = "cid", .client_secret = "a b"};
    struct lf_oauth_grant grant = {.type = LF_OAUTH_GRANT_CODE,
                                   .code = "c0de",
                                   .redirect_uri = "https://r.example/cb",
                                   .code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"};
    struct lf_oauth_request req;
    json_t *fields = tenant();
    struct rs_errbuf eb = {{0}, {0}};

    (void)state;
    assert_int_equal(lf_oauth_request_build(&body_ops, fields, "http://127.0.0.1:9/x/", &client,
                                            &grant, &req, &eb),
                     RS_OK);
    assert_string_equal(req.url, "http://127.0.0.1:9/x//oauth/token");
    assert_string_equal(req.body, "grant_type=authorization_code&code=c0de"
                                  "&redirect_uri=https%3A%2F%2Fr.example%2Fcb"
                                  "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
                                  "&client_id=cid&client_secret=a%20b");
    assert_null(req.basic_user);
    assert_null(req.basic_password);
    lf_oauth_request_cleanup(&req);
    /* every part of a code grant is required */
    grant.code_verifier = NULL;
    assert_int_equal(lf_oauth_request_build(&body_ops, fields, NULL, &client, &grant, &req, &eb),
                     RS_ERR_INVALID);
    lf_oauth_request_cleanup(&req);
    grant.type = LF_OAUTH_GRANT_REFRESH;
    assert_int_equal(lf_oauth_request_build(&body_ops, fields, NULL, &client, &grant, &req, &eb),
                     RS_ERR_INVALID); /* no refresh token */
    lf_oauth_request_cleanup(&req);
    grant.refresh_token = "r";
    client.client_secret = NULL;
    assert_int_equal(lf_oauth_request_build(&body_ops, fields, NULL, &client, &grant, &req, &eb),
                     RS_ERR_INVALID);
    lf_oauth_request_cleanup(&req);
    client.client_secret = "s";
    assert_int_equal(
        lf_oauth_request_build(&no_oauth_ops, fields, NULL, &client, &grant, &req, &eb),
        RS_ERR_INVALID);
    lf_oauth_request_cleanup(&req);
    json_decref(fields);
}

/* ---- token answers */

static json_t *parse_ok(long status, const char *body, const json_t *previous)
{
    struct rs_errbuf eb = {{0}, {0}};
    json_t *token = NULL;

    if (lf_oauth_parse_token(status, body, strlen(body), NOW_US, previous, &token, &eb) != RS_OK)
        fail_msg("parse failed: %s", eb.msg);
    return token;
}

static void expect_token(const json_t *token, const char *want)
{
    char *text = json_dumps(token, JSON_COMPACT | JSON_SORT_KEYS);

    assert_string_equal(text, want);
    free(text);
}

static void test_parse_success(void **state)
{
    json_t *previous = json_pack("{s:s, s:s, s:I, s:s}", "access_token", "old-at", "refresh_token",
                                 "old-rt", "expires_at_us", (json_int_t)1, "scope", "old-scope");
    json_t *token;

    (void)state;
    /* everything given: the refresh token rotates */
    token = parse_ok(200,
                     "{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
                     "\"refresh_token\":\"rt-2\",\"scope\":\"a b\"}",
                     previous);
    expect_token(token, "{\"access_token\":\"at-1\",\"expires_at_us\":1767261600000000,"
                        "\"refresh_token\":\"rt-2\",\"scope\":\"a b\"}");
    json_decref(token);
    /* no new refresh token or scope: the previous ones stay (RFC 6749 §6); "bearer" any case */
    token =
        parse_ok(200, "{\"access_token\":\"at-1\",\"token_type\":\"bearer\",\"expires_in\":\"60\"}",
                 previous);
    expect_token(token, "{\"access_token\":\"at-1\",\"expires_at_us\":1767258060000000,"
                        "\"refresh_token\":\"old-rt\",\"scope\":\"old-scope\"}");
    json_decref(token);
    /* no lifetime: no expiry is invented; no previous token */
    token = parse_ok(201, "{\"access_token\":\"at-1\"}", NULL);
    expect_token(token, "{\"access_token\":\"at-1\"}");
    json_decref(token);
    json_decref(previous);
}

static void expect_parse(long status, const char *body, enum rs_err want, const char *needle)
{
    struct rs_errbuf eb = {{0}, {0}};
    json_t *token = NULL;
    enum rs_err got =
        lf_oauth_parse_token(status, body, body ? strlen(body) : 0, NOW_US, NULL, &token, &eb);

    if (got != want)
        fail_msg("HTTP %ld %s: got %s, want %s (%s)", status, body ? body : "(none)",
                 rs_err_name(got), rs_err_name(want), eb.msg);
    assert_null(token);
    if (needle && !strstr(eb.msg, needle))
        fail_msg("HTTP %ld: \"%s\" does not mention \"%s\"", status, eb.msg, needle);
    assert_null(strstr(eb.msg, "SECRET")); /* nothing of a body's token is echoed */
}

static void test_parse_errors(void **state)
{
    (void)state;
    /* permanent: only a new authorization helps */
    expect_parse(400, "{\"error\":\"invalid_grant\",\"error_description\":\"SECRET expired\"}",
                 RS_ERR_AUTH, "invalid_grant");
    expect_parse(400, "{\"error\":\"invalid_client\"}", RS_ERR_AUTH, "invalid_client");
    expect_parse(401, "{\"error\":\"invalid_client\"}", RS_ERR_AUTH, "invalid_client");
    expect_parse(400, "{\"error\":\"unauthorized_client\"}", RS_ERR_AUTH, NULL);
    expect_parse(400, "{\"error\":\"unsupported_grant_type\"}", RS_ERR_AUTH, NULL);
    expect_parse(400, "{\"error\":\"invalid_scope\"}", RS_ERR_AUTH, NULL);
    expect_parse(401, NULL, RS_ERR_AUTH, "401");
    expect_parse(401, "<html>nope</html>", RS_ERR_AUTH, "401");
    /* transient: the next attempt may pass */
    expect_parse(400, "{\"error\":\"invalid_request\"}", RS_ERR_UPSTREAM, "invalid_request");
    expect_parse(400, "{\"error\":\"SECRET thing\"}", RS_ERR_UPSTREAM, "400");
    expect_parse(500, "{\"error\":\"invalid_grant\"}", RS_ERR_UPSTREAM, "500");
    expect_parse(503, NULL, RS_ERR_UPSTREAM, "503");
    expect_parse(429, "{}", RS_ERR_UPSTREAM, "429");
    expect_parse(0, NULL, RS_ERR_UPSTREAM, NULL);
    /* malformed success answers */
    expect_parse(200, "", RS_ERR_UPSTREAM, "JSON");
    expect_parse(200, "{\"access_token\":", RS_ERR_UPSTREAM, "JSON");
    expect_parse(200, "[\"SECRET\"]", RS_ERR_UPSTREAM, "JSON");
    expect_parse(200, "{\"refresh_token\":\"SECRET\"}", RS_ERR_UPSTREAM, "access_token");
    expect_parse(200, "{\"access_token\":\"\"}", RS_ERR_UPSTREAM, "access_token");
    expect_parse(200, "{\"access_token\":42}", RS_ERR_UPSTREAM, "access_token");
    expect_parse(200, "{\"access_token\":\"SECRET\",\"token_type\":\"mac\"}", RS_ERR_UPSTREAM,
                 "mac");
    expect_parse(200, "{\"access_token\":\"SECRET\",\"expires_in\":-5}", RS_ERR_UPSTREAM,
                 "expires_in");
    expect_parse(200, "{\"access_token\":\"SECRET\",\"expires_in\":\"1h\"}", RS_ERR_UPSTREAM,
                 "expires_in");
}

static void test_parse_limits(void **state)
{
    char *body = malloc(LF_OAUTH_TOKEN_MAX + 64);
    json_t *token;
    int n;

    (void)state;
    /* a token of the largest accepted size passes, one byte more does not */
    n = snprintf(body, LF_OAUTH_TOKEN_MAX + 64, "{\"access_token\":\"%0*d\"}", LF_OAUTH_TOKEN_MAX,
                 0);
    assert_true(n > 0);
    token = parse_ok(200, body, NULL);
    assert_int_equal(strlen(json_string_value(json_object_get(token, "access_token"))),
                     LF_OAUTH_TOKEN_MAX);
    json_decref(token);
    snprintf(body, LF_OAUTH_TOKEN_MAX + 64, "{\"access_token\":\"%0*d\"}", LF_OAUTH_TOKEN_MAX + 1,
             0);
    expect_parse(200, body, RS_ERR_UPSTREAM, "access_token");
    /* a lifetime beyond ten years is capped, not trusted */
    token = parse_ok(200, "{\"access_token\":\"a\",\"expires_in\":99999999999}", NULL);
    assert_int_equal(json_integer_value(json_object_get(token, "expires_at_us")),
                     NOW_US + INT64_C(10) * 366 * 86400 * 1000000);
    json_decref(token);
    free(body);
}

/* ---- expiry arithmetic */

static void test_still_valid(void **state)
{
    json_t *token = json_pack("{s:s}", "access_token", "at");

    (void)state;
    assert_true(lf_oauth_still_valid(token, NOW_US, LF_OAUTH_REFRESH_MARGIN_US)); /* no expiry */
    json_object_set_new(token, "expires_at_us", json_integer(0));
    assert_true(lf_oauth_still_valid(token, NOW_US, LF_OAUTH_REFRESH_MARGIN_US)); /* unknown */
    json_object_set_new(token, "expires_at_us", json_integer(NOW_US + 5 * MINUTE + 1));
    assert_true(lf_oauth_still_valid(token, NOW_US, LF_OAUTH_REFRESH_MARGIN_US));
    json_object_set_new(token, "expires_at_us", json_integer(NOW_US + 5 * MINUTE));
    assert_false(lf_oauth_still_valid(token, NOW_US, LF_OAUTH_REFRESH_MARGIN_US)); /* not > 5 min */
    json_object_set_new(token, "expires_at_us", json_integer(NOW_US + MINUTE));
    assert_false(lf_oauth_still_valid(token, NOW_US, LF_OAUTH_REFRESH_MARGIN_US));
    assert_true(lf_oauth_still_valid(token, NOW_US, 0));
    json_object_set_new(token, "expires_at_us", json_integer(NOW_US - 1));
    assert_false(lf_oauth_still_valid(token, NOW_US, 0)); /* expired */
    json_object_set_new(token, "expires_at_us", json_string("soon"));
    assert_false(lf_oauth_still_valid(token, NOW_US, 0));
    json_object_set_new(token, "expires_at_us", json_integer(NOW_US + 60 * MINUTE));
    json_object_set_new(token, "invalid", json_true());
    assert_false(lf_oauth_still_valid(token, NOW_US, 0)); /* a provider rejected it */
    json_object_del(token, "invalid");
    json_object_set_new(token, "access_token", json_string(""));
    assert_false(lf_oauth_still_valid(token, NOW_US, 0));
    assert_false(lf_oauth_still_valid(NULL, NOW_US, 0));
    json_decref(token);
}

/* The CSP source of the authorize endpoint: base_url's origin, a declared wildcard, or the
   endpoint's own origin. */
static void test_authorize_origin(void **state)
{
    static const struct prov_oauth wildcard_oauth = {
        oauth_fields, 1, "", false, test_endpoint, "https://*.hr.example"};
    static const struct prov_ops wildcard_ops = {
        .slug = "wild", .name = "Wild", .oauth = &wildcard_oauth};
    char out[256];
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(lf_oauth_authorize_origin(&basic_ops, "http://127.0.0.1:8090/testhr?x=1", out,
                                               sizeof(out), &eb),
                     RS_OK);
    assert_string_equal(out, "http://127.0.0.1:8090");
    assert_int_equal(
        lf_oauth_authorize_origin(&basic_ops, "https://[::1]:9/p", out, sizeof(out), &eb), RS_OK);
    assert_string_equal(out, "https://[::1]:9");
    assert_int_equal(lf_oauth_authorize_origin(&wildcard_ops, NULL, out, sizeof(out), &eb), RS_OK);
    assert_string_equal(out, "https://*.hr.example");
    /* the test adapter needs its tenant to form an endpoint: no origin without one */
    assert_int_equal(lf_oauth_authorize_origin(&basic_ops, NULL, out, sizeof(out), &eb),
                     RS_ERR_INVALID);
    assert_int_equal(lf_oauth_authorize_origin(&no_oauth_ops, NULL, out, sizeof(out), &eb),
                     RS_ERR_INVALID);
    /* nothing that could break out of a CSP directive */
    assert_int_equal(lf_oauth_authorize_origin(&basic_ops, "http://a.example;script-src/x", out,
                                               sizeof(out), &eb),
                     RS_ERR_INVALID);
    assert_int_equal(lf_oauth_authorize_origin(&basic_ops, "no-scheme", out, sizeof(out), &eb),
                     RS_ERR_INVALID);
    assert_int_equal(lf_oauth_authorize_origin(&basic_ops, "http://a.example", out, 8, &eb),
                     RS_ERR_INVALID);
    /* the real adapters */
    assert_int_equal(lf_oauth_authorize_origin(prov_find("factorial"), NULL, out, sizeof(out), &eb),
                     RS_OK);
    assert_string_equal(out, "https://api.factorialhr.com");
    assert_int_equal(lf_oauth_authorize_origin(prov_find("bamboohr"), NULL, out, sizeof(out), &eb),
                     RS_OK);
    assert_string_equal(out, "https://*.bamboohr.com");
}

static void test_uses_oauth(void **state)
{
    json_t *api = json_pack("{s:s, s:s}", "tenant", "acme", "api_key", "k");
    json_t *oauth = tenant();
    json_t *empty_key = json_pack("{s:s, s:s}", "tenant", "acme", "api_key", "");

    (void)state;
    assert_false(lf_oauth_uses_oauth(&basic_ops, api));
    assert_true(lf_oauth_uses_oauth(&basic_ops, oauth));
    assert_true(lf_oauth_uses_oauth(&basic_ops, empty_key));
    assert_true(lf_oauth_uses_oauth(&basic_ops, NULL));
    assert_false(lf_oauth_uses_oauth(&no_oauth_ops, oauth));
    json_decref(api);
    json_decref(oauth);
    json_decref(empty_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce_rfc7636_vector),
        cmocka_unit_test(test_pkce_bad_verifiers),
        cmocka_unit_test(test_pkce_new_and_state),
        cmocka_unit_test(test_authorize_url),
        cmocka_unit_test(test_authorize_url_refused),
        cmocka_unit_test(test_refresh_request_basic),
        cmocka_unit_test(test_code_request_body_auth),
        cmocka_unit_test(test_parse_success),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_still_valid),
        cmocka_unit_test(test_authorize_origin),
        cmocka_unit_test(test_uses_oauth),
    };
    if (sodium_init() < 0) /* sodium_malloc needs it, as in rosterd's main */
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
