/*
 * End to end, the OAuth sign-in through the hosted pages, over HTTP between rosterd, the
 * sandbox's authorization servers and PostgreSQL, as a browser without script would do it:
 * the organization's OAuth client set through the admin API, a link, the picker, the sign-in
 * page, the 303 to the sandbox's consent page, Approve, the callback → COMPLETE account, public
 * token, first sync (Factorial, and BambooHR by OAuth); PKCE checked by the sandbox (the
 * verifier it received matches the challenge Roster sent); forged, malformed, expired and
 * replayed states refused with nothing stored; Deny; no OAuth client; refresh with rotation
 * before and after a 401 (the old refresh token refused by the sandbox); a revoked grant →
 * RELINK_NEEDED, then a relink through a new link keeping every id; API key → OAuth relink.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "rt_api.h"
#include "rt_link.h"
#include "rt_sync.h"

#include "roster/rs_sealed.h"
#include "roster/rs_vault.h"

#define EMPLOYEES 23
#define SEED      5
#define CLIENT_ID "roster-e2e"
#define FORM_TYPE "Content-Type: application/x-www-form-urlencoded"

static const struct rt_sync_provider factorial = {.slug = "factorial", .name = "Factorial"};
static const struct rt_sync_provider bamboohr = {.slug = "bamboohr", .name = "BambooHR"};

static struct rt_sync_env env;
static char master_key_env[96];
static struct rs_vault *vault; /* the same key as rosterd's: opens what it sealed */

static int group_setup(void **state)
{
    uint8_t key[32];
    char b64[64];
    struct rs_errbuf eb = {{0}, {0}};
    const char *extra[] = {master_key_env, NULL};

    (void)state;
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key, sizeof(key));
    sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    snprintf(master_key_env, sizeof(master_key_env), "ROSTER_MASTER_KEY=%s", b64);
    if (rs_vault_new(b64, &vault, &eb) != RS_OK)
        return -1;
    if (rt_sync_env_start(&env, EMPLOYEES, SEED, extra) != 0)
        return -1;
    json_decref(rt_sync_call(&env, NULL, "PUT",
                             "{\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"sandbox\"}", 201,
                             "/api/admin/v1/oauth-clients/factorial"));
    json_decref(rt_sync_call(&env, NULL, "PUT",
                             "{\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"sandbox\"}", 201,
                             "/api/admin/v1/oauth-clients/bamboohr"));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rs_vault_free(vault);
    return rt_sync_env_stop(&env);
}

/* ---- small tools ---- */

/* The value of query parameter key in url, percent-decoded, into out ("" when absent). */
static const char *query_param(const char *url, const char *key, char *out, size_t outlen)
{
    const char *q = strchr(url, '?');
    size_t klen = strlen(key);

    out[0] = '\0';
    for (const char *p = q ? q + 1 : NULL; p && *p;
         p += strcspn(p, "&") + (p[strcspn(p, "&")] != 0)) {
        size_t o = 0;

        if (strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        for (const char *v = p + klen + 1; *v && *v != '&' && o + 1 < outlen; v++) {
            unsigned int byte;

            if (*v == '%' && sscanf(v + 1, "%2x", &byte) == 1) {
                out[o++] = (char)byte;
                v += 2;
            } else {
                out[o++] = *v == '+' ? ' ' : *v;
            }
        }
        out[o] = '\0';
        break;
    }
    return out;
}

/* The answer's header, which must be present. */
static void header(const struct rt_resp *r, const char *name, char *out, size_t outlen)
{
    if (!rt_resp_header(r, name, out, outlen))
        fail_msg("no %s header (status %ld): %.500s", name, r->status, r->body);
}

/* A request without API key; headers may be NULL; the answer must arrive. */
static void http(const char *method, const char *url, const char *const *headers, const char *body,
                 struct rt_resp *r)
{
    struct rt_req req = {.method = method, .url = url, .headers = headers, .body = body};

    if (rt_http_do(&req, r) != RS_OK)
        fail_msg("%s %s: no answer (%s)", method, url, r->errbuf);
}

/* The answer is rosterd's page `page` with status 200. */
static void expect_page(const struct rt_resp *r, const char *page)
{
    char got[64] = "";

    if (!rt_resp_header(r, "X-Roster-Page", got, sizeof(got)) || r->status != 200 ||
        strcmp(got, page) != 0)
        fail_msg("status %ld page %s, want 200 %s; body: %.900s", r->status, got, page, r->body);
}

/* Opens a sealed column of linked account `account` (kind), as JSON (new reference). */
static json_t *opened(const char *column, enum rs_sealed_kind kind, const char *account)
{
    char sql[160];
    char *hex;
    json_t *out = NULL;
    struct rs_errbuf eb = {{0}, {0}};

    snprintf(sql, sizeof(sql), "SELECT %s FROM linked_accounts WHERE id = $1::uuid", column);
    hex = rt_sync_sql_value(&env, sql, account);
    if (!hex)
        fail_msg("linked account %s has no %s", account, column);
    if (rs_sealed_open_json(vault, kind, account, NULL, hex, &out, &eb) != RS_OK)
        fail_msg("%s of %s does not open: %s", column, account, eb.msg);
    free(hex);
    return out;
}

/* The stored refresh token of account (malloc'd). */
static char *stored_refresh(const char *account)
{
    json_t *token = opened("access_token", RS_SEALED_ACCESS_TOKEN, account);
    const char *refresh = rt_sync_str(token, "refresh_token");
    char *out;

    if (!refresh)
        fail_msg("the stored token of %s has no refresh token", account);
    out = strdup(refresh);
    json_decref(token);
    return out;
}

/* ---- the sign-in, step by step ---- */

/* One sign-in as far as the provider: what Roster sent there. */
struct signin {
    char token[64];       /* the link token */
    const char *slug;     /* the provider */
    char authorize[4096]; /* the 303's Location */
    char state[64], challenge[64], redirect_uri[512];
};

/* The form token of the link's sign-in page for slug, which must be the page `page`. */
static char *form_token_of(const char *token, const char *slug, const char *page)
{
    char path[256];
    struct rt_resp r = {0};
    char *form_token;

    snprintf(path, sizeof(path), "/link/%s/%s/oauth", token, slug);
    rt_link_get(&env, path, page, &r);
    form_token = rt_link_attr(r.body, "name=\"form_token\"", "value");
    rt_resp_cleanup(&r);
    return form_token;
}

/* POSTs the sign-in form (fields: "&f_subdomain=acme" or ""); the answer into r. */
static void post_start(const char *token, const char *slug, const char *form_token,
                       const char *fields, struct rt_resp *r)
{
    static const char *const form[] = {FORM_TYPE, NULL};
    char url[RT_API_URL_MAX], body[512];

    snprintf(body, sizeof(body), "form_token=%s%s", form_token, fields);
    rt_api_url(url, env.rosterd, "/link/%s/%s/oauth", token, slug);
    http("POST", url, form, body, r);
}

/* Starts a sign-in with slug through its page: the 303 to the provider is checked. */
static void start(struct signin *si, const char *token, const char *slug, const char *fields)
{
    char *form_token = form_token_of(token, slug, "oauth");
    char prefix[512], page[64];
    struct rt_resp r = {0};

    memset(si, 0, sizeof(*si));
    snprintf(si->token, sizeof(si->token), "%s", token);
    si->slug = slug;
    post_start(token, slug, form_token, fields, &r);
    free(form_token);
    if (r.status != 303)
        fail_msg("sign-in start: %ld, want 303: %.900s", r.status, r.body);
    header(&r, "X-Roster-Page", page, sizeof(page));
    assert_string_equal(page, "oauth-redirect");
    header(&r, "Location", si->authorize, sizeof(si->authorize));
    rt_resp_cleanup(&r);
    /* the provider's authorize endpoint at the session's base_url, with everything it needs */
    snprintf(prefix, sizeof(prefix), "%s/%s/%s", rt_proc_url(env.sandbox), slug,
             strcmp(slug, "factorial") == 0 ? "oauth/authorize?" : "authorize.php?");
    if (strncmp(si->authorize, prefix, strlen(prefix)) != 0)
        fail_msg("redirected to %s, want %s…", si->authorize, prefix);
    assert_string_equal(query_param(si->authorize, "response_type", page, sizeof(page)), "code");
    assert_string_equal(query_param(si->authorize, "client_id", page, sizeof(page)), CLIENT_ID);
    assert_string_equal(query_param(si->authorize, "code_challenge_method", page, sizeof(page)),
                        "S256");
    query_param(si->authorize, "state", si->state, sizeof(si->state));
    query_param(si->authorize, "code_challenge", si->challenge, sizeof(si->challenge));
    query_param(si->authorize, "redirect_uri", si->redirect_uri, sizeof(si->redirect_uri));
    assert_int_equal(strlen(si->state), 43);
    assert_int_equal(strlen(si->challenge), 43);
    snprintf(prefix, sizeof(prefix), "%s/link/oauth/callback", rt_proc_url(env.rosterd));
    assert_string_equal(si->redirect_uri, prefix);
}

/* The sandbox's consent page, then the decision posted: the callback URL it redirects to. */
static void decide(const struct signin *si, const char *decision, char *callback, size_t len)
{
    static const char *const form[] = {FORM_TYPE, NULL};
    const char *query = strchr(si->authorize, '?') + 1;
    char body[4096];
    struct rt_resp r = {0};

    http("GET", si->authorize, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    rt_api_expect_contains("consent page", r.body, ">Approve</button>");
    rt_api_expect_contains("consent page", r.body, ">Deny</button>");
    rt_api_expect_contains("consent page", r.body, CLIENT_ID);
    rt_resp_cleanup(&r);
    snprintf(body, sizeof(body), "%s&decision=%s", query, decision);
    http("POST", si->authorize, form, body, &r);
    assert_int_equal(r.status, 302);
    header(&r, "Location", callback, len);
    rt_resp_cleanup(&r);
    if (strncmp(callback, si->redirect_uri, strlen(si->redirect_uri)) != 0)
        fail_msg("the provider sent the browser to %s, not to %s", callback, si->redirect_uri);
}

/* GETs the callback URL; the answer must be the page `page`, in r. */
static void callback(const char *url, const char *page, struct rt_resp *r)
{
    http("GET", url, NULL, NULL, r);
    expect_page(r, page);
}

/* The whole happy path from the sign-in page: the public token of the "connected" page. */
static char *sign_in(const char *token, const char *slug, const char *fields, struct signin *si,
                     char *callback_url, size_t len)
{
    struct rt_resp r = {0};
    char *public_token;

    start(si, token, slug, fields);
    decide(si, "approve", callback_url, len);
    callback(callback_url, "connected", &r);
    public_token = rt_link_attr(r.body, "id=\"roster-result\"", "data-public-token");
    rt_resp_cleanup(&r);
    return public_token;
}

/*
 * The sandbox's log: the last token call of slug with grant_type (new reference to its
 * "oauth" object), after skipping `skip` entries; NULL when none.
 */
static json_t *last_token_call(const json_t *log, const char *slug, const char *grant_type)
{
    json_t *entry, *found = NULL;
    size_t i;

    json_array_foreach(log, i, entry)
    {
        json_t *oauth = json_object_get(entry, "oauth");

        if (oauth && strcmp(rt_sync_str(entry, "provider"), slug) == 0 &&
            rt_sync_str(oauth, "grant_type") &&
            strcmp(rt_sync_str(oauth, "grant_type"), grant_type) == 0)
            found = oauth;
    }
    return found ? json_incref(found) : NULL;
}

/* PKCE as the sandbox checked it: the verifier that arrived is the one of the challenge sent. */
static void expect_pkce(const struct signin *si)
{
    json_t *log = rt_sbx_requests(&env);
    json_t *call = last_token_call(log, si->slug, "authorization_code");
    const char *verifier = call ? rt_sync_str(call, "code_verifier") : NULL;
    uint8_t digest[crypto_hash_sha256_BYTES];
    char challenge[64];

    if (!verifier)
        fail_msg("no code exchange of %s in the sandbox's log", si->slug);
    assert_int_equal(strlen(verifier), 64);
    crypto_hash_sha256(digest, (const uint8_t *)verifier, strlen(verifier));
    sodium_bin2base64(challenge, sizeof(challenge), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_string_equal(challenge, si->challenge);
    assert_true(json_is_null(json_object_get(call, "error")));
    assert_string_equal(rt_sync_str(call, "redirect_uri"), si->redirect_uri);
    json_decref(call);
    json_decref(log);
}

/* ---- tests ---- */

static void test_factorial_sign_in(void **state)
{
    json_t *link =
        rt_link_token_at(&env, NULL, "fac-1", "factorial", "\"should_create_magic_link_url\":true");
    const char *token = rt_link_token_of(link);
    char path[256], csp[512], url[4096], count[16], code[256];
    struct rt_resp r = {0};
    struct rt_sync_account acct;
    struct signin si;
    char *public_token;
    json_t *employees, *credentials;

    (void)state;
    /* the picker offers both OAuth providers, and says how each connects */
    snprintf(path, sizeof(path), "/link/%s", token);
    rt_link_get(&env, path, "picker", &r);
    rt_api_expect_contains("picker", r.body,
                           "/factorial\">Factorial<span class=\"how\">Sign-in</span>");
    rt_api_expect_contains("picker", r.body,
                           "/bamboohr\">BambooHR<span class=\"how\">Sign-in or API key</span>");
    rt_resp_cleanup(&r);
    /* Factorial's page is the sign-in, whose form may lead to the provider (form-action) */
    snprintf(path, sizeof(path), "/link/%s/factorial", token);
    rt_link_get(&env, path, "oauth", &r);
    rt_api_expect_contains("sign-in page", r.body, "Continue to Factorial</button>");
    rt_api_expect_contains("sign-in page", r.body, "Roster never sees your Factorial password");
    header(&r, "Content-Security-Policy", csp, sizeof(csp));
    snprintf(url, sizeof(url), "form-action 'self' %s;", rt_proc_url(env.sandbox));
    rt_api_expect_contains("CSP", csp, url);
    rt_resp_cleanup(&r);

    public_token = sign_in(token, "factorial", "", &si, url, sizeof(url));
    expect_pkce(&si);
    /* the state was used up, and nothing of it stays */
    assert_int_equal(rt_sync_sql_count(&env, "SELECT count(*) FROM link_oauth_states", NULL), 0);
    rt_link_exchange_into(&env, public_token, &factorial, &acct);
    json_decref(rt_link_exchange(&env, NULL, public_token, 404));
    free(rt_sync_wait_for(&env, &acct, NULL, "DONE"));
    employees = rt_sync_employees(&env, &acct, "remote_id");
    assert_int_equal(json_object_size(employees), EMPLOYEES);
    json_decref(employees);
    /* credentials: the OAuth fields (none for Factorial); the token sealed, with a refresh */
    credentials = opened("credentials", RS_SEALED_CREDENTIALS, acct.id);
    assert_int_equal(json_object_size(credentials), 0);
    json_decref(credentials);
    free(stored_refresh(acct.id));
    /* a replayed callback (the same state again) is refused, and changes nothing */
    snprintf(count, sizeof(count), "%ld",
             rt_sync_sql_count(
                 &env, "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid", acct.id));
    callback(url, "oauth-bad-state", &r);
    rt_api_expect_contains("replay", r.body, "did not start here or has expired");
    rt_resp_cleanup(&r);
    assert_int_equal(
        rt_sync_sql_count(&env, "SELECT count(*) FROM syncs WHERE linked_account_id = $1::uuid",
                          acct.id),
        strtol(count, NULL, 10));
    assert_int_equal(
        rt_sync_sql_count(
            &env, "SELECT count(*) FROM linked_accounts WHERE end_user_origin_id = $1", "fac-1"),
        1);
    /* the link worked once; no secret of the flow reached the log */
    snprintf(path, sizeof(path), "/link/%s", token);
    rt_link_get(&env, path, "used", &r);
    rt_resp_cleanup(&r);
    assert_false(rt_proc_log_contains(env.rosterd, si.state));
    assert_false(rt_proc_log_contains(env.rosterd, query_param(url, "code", code, sizeof(code))));
    assert_false(rt_proc_log_contains(env.rosterd, public_token + 3));
    assert_true(rt_proc_log_contains(env.rosterd, "path=\"/link/oauth/callback\""));
    free(public_token);
    json_decref(link);
}

static void test_bamboohr_sign_in(void **state)
{
    json_t *link = rt_link_token(&env, NULL, "bhr-oauth-1", "\"integration\":\"bamboohr\"");
    const char *token = rt_link_token_of(link);
    char path[256], url[4096], csp[512], *form_token;
    struct rt_resp r = {0};
    struct rt_sync_account acct;
    struct signin si;
    char *public_token;
    json_t *employees, *credentials;

    (void)state;
    /* the preselected BambooHR page: the API-key form, with the sign-in offered beside it */
    snprintf(path, sizeof(path), "/link/%s", token);
    rt_link_get(&env, path, "form", &r);
    rt_api_expect_contains("both ways", r.body,
                           "<nav class=\"ways\" aria-label=\"How to connect BambooHR\">");
    snprintf(url, sizeof(url), "href=\"/link/%s/bamboohr/oauth\">Sign in with BambooHR", token);
    rt_api_expect_contains("both ways", r.body, url);
    rt_api_expect_contains("both ways", r.body, "aria-current=\"page\">Use an API key");
    rt_resp_cleanup(&r);
    /* the sign-in asks the subdomain first, checked like every field; nothing is stored */
    form_token = form_token_of(token, "bamboohr", "oauth");
    post_start(token, "bamboohr", form_token, "&f_subdomain=-acme", &r);
    expect_page(&r, "oauth-invalid");
    rt_api_expect_contains("bad subdomain", r.body, "aria-invalid=\"true\"");
    rt_resp_cleanup(&r);
    post_start(token, "bamboohr", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
               "&f_subdomain=acme", &r);
    expect_page(&r, "oauth-expired"); /* a forged form token */
    header(&r, "Content-Security-Policy", csp, sizeof(csp));
    snprintf(url, sizeof(url), "form-action 'self' %s;", rt_proc_url(env.sandbox));
    rt_api_expect_contains("CSP", csp, url);
    rt_resp_cleanup(&r);
    free(form_token);
    assert_int_equal(rt_sync_sql_count(&env, "SELECT count(*) FROM link_oauth_states", NULL), 0);

    public_token = sign_in(token, "bamboohr", "&f_subdomain=acme", &si, url, sizeof(url));
    expect_pkce(&si);
    rt_api_expect_contains("scope", si.authorize, "scope=offline_access%20field%20employee");
    rt_link_exchange_into(&env, public_token, &bamboohr, &acct);
    free(rt_sync_wait_for(&env, &acct, NULL, "DONE"));
    employees = rt_sync_employees(&env, &acct, "remote_id");
    assert_int_equal(json_object_size(employees), EMPLOYEES);
    json_decref(employees);
    credentials = opened("credentials", RS_SEALED_CREDENTIALS, acct.id);
    assert_int_equal(json_object_size(credentials), 1);
    assert_string_equal(rt_sync_str(credentials, "subdomain"), "acme");
    json_decref(credentials);
    free(public_token);
    json_decref(link);
}

/* Forged, malformed and expired states: the same clear page, nothing stored. */
static void test_bad_states(void **state)
{
    json_t *link = rt_link_token_at(&env, NULL, "forged-1", "factorial", NULL);
    char url[RT_API_URL_MAX], callback_url[4096], sql[256];
    long accounts = rt_sync_sql_count(&env, "SELECT count(*) FROM linked_accounts", NULL);
    static const char *const queries[] = {
        "state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=abc", /* never issued */
        "code=abc",                                                   /* no state */
        "state=short&code=abc",                                       /* not our shape */
        "",                                                           /* nothing */
    };
    struct rt_resp r = {0};
    struct signin si;

    (void)state;
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        rt_api_url(url, env.rosterd, "/link/oauth/callback%s%s", queries[i][0] ? "?" : "",
                   queries[i]);
        callback(url, "oauth-bad-state", &r);
        rt_api_expect_contains("bad state", r.body, "Open your link again");
        rt_resp_cleanup(&r);
    }
    /* a real state with something wrong around it: refused, and spent */
    start(&si, rt_link_token_of(link), "factorial", "");
    /* stored hashed, the verifier and the link token sealed: none of them readable */
    assert_int_equal(rt_sync_sql_count(&env,
                                       "SELECT count(*) FROM link_oauth_states WHERE state_hash = "
                                       "sha256(convert_to($1, 'UTF8'))",
                                       si.state),
                     1);
    assert_int_equal(rt_sync_sql_count(&env,
                                       "SELECT count(*) FROM link_oauth_states WHERE "
                                       "position(convert_to($1, 'UTF8') IN secrets) > 0 OR "
                                       "position(convert_to($1, 'UTF8') IN state_hash) > 0",
                                       si.state),
                     0);
    assert_int_equal(rt_sync_sql_count(&env,
                                       "SELECT count(*) FROM link_oauth_states WHERE "
                                       "position(convert_to($1, 'UTF8') IN secrets) > 0",
                                       si.token),
                     0);
    rt_api_url(url, env.rosterd, "/link/oauth/callback?state=%s&state=%s&code=abc", si.state,
               si.state); /* a repeated parameter */
    callback(url, "oauth-bad-state", &r);
    rt_resp_cleanup(&r);
    rt_api_url(url, env.rosterd, "/link/oauth/callback?state=%s&code=abc&error=access_denied",
               si.state); /* both answers */
    callback(url, "oauth-bad-state", &r);
    rt_resp_cleanup(&r);
    /* an expired one: the clock is not waited for, the row is moved into the past */
    snprintf(sql, sizeof(sql),
             "UPDATE link_oauth_states SET expires_at = now() - interval '1 second' WHERE "
             "state_hash = sha256(convert_to($1, 'UTF8')) RETURNING id");
    free(rt_sync_sql_value(&env, sql, si.state));
    decide(&si, "approve", callback_url, sizeof(callback_url));
    callback(callback_url, "oauth-bad-state", &r);
    rt_resp_cleanup(&r);
    assert_int_equal(rt_sync_sql_count(&env,
                                       "SELECT count(*) FROM link_oauth_states WHERE state_hash = "
                                       "sha256(convert_to($1, 'UTF8'))",
                                       si.state),
                     0);
    assert_int_equal(rt_sync_sql_count(&env, "SELECT count(*) FROM linked_accounts", NULL),
                     accounts);
    /* the link itself still works */
    snprintf(url, sizeof(url), "/link/%s", rt_link_token_of(link));
    rt_link_get(&env, url, "picker", &r);
    rt_resp_cleanup(&r);
    json_decref(link);
}

static void test_deny(void **state)
{
    json_t *link = rt_link_token_at(&env, NULL, "deny-1", "factorial", NULL);
    const char *token = rt_link_token_of(link);
    char callback_url[4096], want[256], error[64];
    struct rt_resp r = {0};
    struct signin si;

    (void)state;
    start(&si, token, "factorial", "");
    decide(&si, "deny", callback_url, sizeof(callback_url));
    assert_string_equal(query_param(callback_url, "error", error, sizeof(error)), "access_denied");
    callback(callback_url, "oauth-declined", &r);
    rt_api_expect_contains("declined", r.body, "Access to Factorial was declined");
    snprintf(want, sizeof(want), "<a href=\"/link/%s/factorial/oauth\">Try again</a>", token);
    rt_api_expect_contains("declined: try again", r.body, want);
    snprintf(want, sizeof(want), "<a href=\"/link/%s\">All HR systems</a>", token);
    rt_api_expect_contains("declined: back to the picker", r.body, want);
    rt_resp_cleanup(&r);
    assert_int_equal(
        rt_sync_sql_count(
            &env, "SELECT count(*) FROM linked_accounts WHERE end_user_origin_id = $1", "deny-1"),
        0);
    callback(callback_url, "oauth-bad-state", &r); /* the state was spent */
    rt_resp_cleanup(&r);
    /* trying again works */
    {
        char url[4096];
        char *public_token = sign_in(token, "factorial", "", &si, url, sizeof(url));
        free(public_token);
    }
    json_decref(link);
}

/* An organization without an OAuth client: a clear page, and nothing else happens. */
static void test_no_client(void **state)
{
    char *key = rt_api_create_org(env.conninfo, "App without OAuth");
    json_t *link;
    char path[256], *form_token;
    struct rt_resp r = {0};

    (void)state;
    assert_non_null(key);
    link = rt_link_token_at(&env, key, "noclient-1", "factorial", NULL);
    snprintf(path, sizeof(path), "/link/%s/factorial", rt_link_token_of(link));
    rt_link_get(&env, path, "oauth-not-set-up", &r);
    rt_api_expect_contains("not set up", r.body, "Factorial is not set up yet");
    rt_api_expect_contains("not set up", r.body,
                           "App without OAuth has not set up sign-in with Factorial");
    assert_null(strstr(r.body, "<form"));
    rt_resp_cleanup(&r);
    /* posting the sign-in anyway (with the session's form token, from the API-key form) */
    snprintf(path, sizeof(path), "/link/%s/bamboohr", rt_link_token_of(link));
    rt_link_get(&env, path, "form", &r);
    form_token = rt_link_attr(r.body, "name=\"form_token\"", "value");
    rt_resp_cleanup(&r);
    post_start(rt_link_token_of(link), "factorial", form_token, "", &r);
    expect_page(&r, "oauth-not-set-up");
    rt_resp_cleanup(&r);
    assert_int_equal(
        rt_sync_sql_count(&env,
                          "SELECT count(*) FROM link_oauth_states s JOIN link_sessions l ON "
                          "l.id = s.link_session_id WHERE l.end_user_origin_id = $1",
                          "noclient-1"),
        0);
    /* BambooHR's sign-in says so too, and offers the API key instead */
    snprintf(path, sizeof(path), "/link/%s/bamboohr/oauth", rt_link_token_of(link));
    rt_link_get(&env, path, "oauth-not-set-up", &r);
    rt_api_expect_contains("not set up", r.body, "Connect with an API key instead");
    rt_resp_cleanup(&r);
    free(form_token);
    free(key);
    json_decref(link);
}

/* Links a Factorial account for origin by OAuth and waits for its first sync. */
static void link_factorial(const char *origin, struct rt_sync_account *acct, char **sync_id)
{
    json_t *link =
        rt_link_token_at(&env, NULL, origin, "factorial", "\"integration\":\"factorial\"");
    char url[4096];
    struct signin si;
    struct rt_resp r = {0};
    char *public_token;

    /* a link for Factorial opens its sign-in page at once, without a way back to a picker */
    snprintf(url, sizeof(url), "/link/%s", rt_link_token_of(link));
    rt_link_get(&env, url, "oauth", &r);
    assert_null(strstr(r.body, "All HR systems"));
    rt_resp_cleanup(&r);
    public_token = sign_in(rt_link_token_of(link), "factorial", "", &si, url, sizeof(url));

    rt_link_exchange_into(&env, public_token, &factorial, acct);
    *sync_id = rt_sync_wait_for(&env, acct, NULL, "DONE");
    free(public_token);
    json_decref(link);
}

/* A refresh with rt_sync_run: the sync ends DONE, the refresh token rotated, the old refused. */
static char *resync_rotates(const struct rt_sync_account *acct, const char *old_refresh)
{
    static const char *const form[] = {FORM_TYPE, NULL};
    char url[512], body[512];
    struct rt_resp r = {0};
    char *fresh;

    json_decref(rt_sync_expect(&env, acct, "FULL", "DONE"));
    fresh = stored_refresh(acct->id);
    assert_string_not_equal(fresh, old_refresh);
    snprintf(url, sizeof(url), "%s/factorial/oauth/token", rt_proc_url(env.sandbox));
    snprintf(body, sizeof(body),
             "grant_type=refresh_token&refresh_token=%s&client_id=" CLIENT_ID
             "&client_secret=sandbox",
             old_refresh);
    http("POST", url, form, body, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(rt_sync_str(r.json, "error"), "invalid_grant");
    rt_resp_cleanup(&r);
    return fresh;
}

/* Requests of the log after index from: the count with status `status` to path_part. */
static size_t count_requests(const json_t *log, size_t from, const char *path_part, long status)
{
    size_t n = 0, i;
    json_t *entry;

    json_array_foreach(log, i, entry)
    {
        if (i >= from && strstr(rt_sync_str(entry, "path"), path_part) &&
            (status == 0 || json_integer_value(json_object_get(entry, "status")) == status))
            n++;
    }
    return n;
}

static void test_refresh_rotation(void **state)
{
    struct rt_sync_account acct;
    char *sync_id, *r0, *r1, *r2, *r3;
    json_t *log;
    size_t before;

    (void)state;
    link_factorial("refresh-1", &acct, &sync_id);
    r0 = stored_refresh(acct.id);
    /* every access token dies at the provider: the sync gets a 401, refreshes once, retries */
    json_decref(rt_sbx_call(&env, "POST", "/oauth/expire", "{\"provider\":\"factorial\"}"));
    log = rt_sbx_requests(&env);
    before = json_array_size(log);
    json_decref(log);
    r1 = resync_rotates(&acct, r0);
    log = rt_sbx_requests(&env);
    /* the first request: 401; then one refresh (sent once); then the same request again */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(log, before), "status")),
                     401);
    rt_api_expect_contains("after the 401", rt_sync_str(json_array_get(log, before + 1), "path"),
                           "/oauth/token");
    assert_string_equal(rt_sync_str(json_array_get(log, before + 2), "path"),
                        rt_sync_str(json_array_get(log, before), "path"));
    assert_int_equal(count_requests(log, before, "/factorial/api/", 401), 1);
    assert_int_equal(count_requests(log, before, "/oauth/token", 0), 2); /* ours + the test's */
    json_decref(log);
    /* short-lived tokens: the next token lives 60 s, under the 5 min margin, so the sync after
       refreshes before its first request, with no 401 at all */
    json_decref(rt_sbx_call(&env, "POST", "/oauth/ttl",
                            "{\"provider\":\"factorial\",\"access_token_ttl_s\":60}"));
    json_decref(rt_sbx_call(&env, "POST", "/oauth/expire", "{\"provider\":\"factorial\"}"));
    r2 = resync_rotates(&acct, r1);
    log = rt_sbx_requests(&env);
    before = json_array_size(log);
    json_decref(log);
    r3 = resync_rotates(&acct, r2);
    log = rt_sbx_requests(&env);
    assert_int_equal(count_requests(log, before, "/factorial/api/", 401), 0);
    assert_true(strstr(rt_sync_str(json_array_get(log, before), "path"), "/oauth/token") != NULL);
    json_decref(log);
    json_decref(rt_sbx_call(&env, "POST", "/oauth/ttl",
                            "{\"provider\":\"factorial\",\"access_token_ttl_s\":3600}"));
    free(r0);
    free(r1);
    free(r2);
    free(r3);
    free(sync_id);
}

static void test_revoked_then_relink(void **state)
{
    struct rt_sync_account acct;
    char *sync_id, *failed_id, *public_token, url[4096];
    json_t *before, *got, *link;
    struct signin si;

    (void)state;
    link_factorial("revoke-1", &acct, &sync_id);
    before = rt_sync_employees(&env, &acct, "remote_id");
    /* the grant is revoked at the provider: the refresh after the 401 is invalid_grant */
    json_decref(rt_sbx_call(&env, "POST", "/oauth/revoke", "{\"provider\":\"factorial\"}"));
    json_decref(rt_sbx_call(&env, "POST", "/oauth/expire", "{\"provider\":\"factorial\"}"));
    json_decref(rt_sync_expect(&env, &acct, "FULL", "FAILED"));
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, "/api/admin/v1/linked-accounts/%s", acct.id);
    assert_string_equal(rt_sync_str(got, "status"), "RELINK_NEEDED");
    rt_api_expect_contains("status_detail", rt_sync_str(got, "last_error"),
                           "Factorial refused the stored authorization");
    rt_api_expect_contains("status_detail", rt_sync_str(got, "last_error"), "relink the account");
    json_decref(got);
    failed_id = rt_sync_wait_for(&env, &acct, sync_id, "FAILED");
    /* a new link for the same end user: signed in again, the same account and every id kept */
    link = rt_link_token_at(&env, NULL, "revoke-1", "factorial", "\"integration\":\"factorial\"");
    public_token = sign_in(rt_link_token_of(link), "factorial", "", &si, url, sizeof(url));
    rt_link_expect_relinked(&env, public_token, &acct, failed_id, before);
    got = rt_sync_call(&env, NULL, "GET", NULL, 200, "/api/admin/v1/linked-accounts/%s", acct.id);
    assert_string_equal(rt_sync_str(got, "status"), "COMPLETE");
    json_decref(got);
    free(public_token);
    free(sync_id);
    free(failed_id);
    json_decref(before);
    json_decref(link);
}

/* A BambooHR account connected by API key, relinked by OAuth: one account, every id kept. */
static void test_api_key_to_oauth(void **state)
{
    json_t *first = rt_link_token(&env, NULL, "bhr-switch-1", "\"integration\":\"bamboohr\"");
    json_t *second, *before, *credentials;
    struct rt_sync_account acct;
    char *public_token, *sync_id, url[4096];
    struct signin si;

    (void)state;
    rt_link_connect_into(&env, rt_link_token_of(first), &bamboohr, &acct);
    sync_id = rt_sync_wait_for(&env, &acct, NULL, "DONE");
    before = rt_sync_employees(&env, &acct, "remote_id");
    second = rt_link_token(&env, NULL, "bhr-switch-1", "\"integration\":\"bamboohr\"");
    public_token =
        sign_in(rt_link_token_of(second), "bamboohr", "&f_subdomain=acme", &si, url, sizeof(url));
    assert_int_equal(json_object_size(before), EMPLOYEES);
    rt_link_expect_relinked(&env, public_token, &acct, sync_id, before);
    credentials = opened("credentials", RS_SEALED_CREDENTIALS, acct.id);
    assert_null(json_object_get(credentials, "api_key")); /* the key is gone */
    json_decref(credentials);
    free(public_token);
    free(sync_id);
    json_decref(before);
    json_decref(first);
    json_decref(second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factorial_sign_in), cmocka_unit_test(test_bamboohr_sign_in),
        cmocka_unit_test(test_bad_states),        cmocka_unit_test(test_deny),
        cmocka_unit_test(test_no_client),         cmocka_unit_test(test_refresh_rotation),
        cmocka_unit_test(test_api_key_to_oauth),  cmocka_unit_test(test_revoked_then_relink),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
