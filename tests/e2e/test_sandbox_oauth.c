/*
 * End to end against a running roster-sandbox, over HTTP: its OAuth servers for Factorial and
 * BambooHR (consent page, approve and deny, code exchange with the right and a wrong PKCE
 * verifier, code reuse, refresh rotation, revocation, expiry), bearer access to both APIs,
 * Factorial's cursor paging (everyone exactly once), and the Factorial and BambooHR adapters
 * driven page by page over the sandbox's real answers, compared with its truth.
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

#include "rt_capture.h"
#include "rt_http.h"
#include "rt_proc.h"

#include "roster/prov.h"
#include "roster/rs_model.h"
#include "roster/rs_time.h"
#include "roster/rs_uuid.h"

#define EMPLOYEES 137
#define SEED      2
#define REDIRECT  "http://127.0.0.1:9/link/oauth/callback"
#define ACCOUNT   "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define FORM      "Content-Type: application/x-www-form-urlencoded"

static struct rt_proc *sandbox;
static const char *base; /* http://127.0.0.1:PORT */
static bool teardown_failed;

static int group_setup(void **state)
{
    static const char *const args[] = {"--employees", "137", "--seed", "2", NULL};

    (void)state;
    if (sodium_init() < 0 || rt_proc_start_sandbox(args, &sandbox) != RS_OK)
        return -1;
    base = rt_proc_url(sandbox);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rt_proc_stop(sandbox, 10000);
    if (!rt_proc_exited_cleanly(sandbox))
        teardown_failed = true;
    rt_proc_free(sandbox);
    return teardown_failed ? -1 : 0;
}

/* ---- HTTP helpers */

/* One request; the response must be released with rt_resp_cleanup. Fails the test on no answer. */
static void http(const char *method, const char *url, const char *const *headers, const char *body,
                 struct rt_resp *out)
{
    struct rt_req req = {.method = method, .url = url, .headers = headers, .body = body};

    if (rt_http_do(&req, out) != RS_OK)
        fail_msg("%s %s: no answer (%s)", method, url, out->errbuf);
}

static long post_form(const char *path, const char *const *headers, const char *body,
                      struct rt_resp *out)
{
    const char *with_form[4] = {FORM, NULL, NULL, NULL};
    char url[512];

    for (int i = 0; headers && headers[i] && i < 2; i++)
        with_form[i + 1] = headers[i];
    snprintf(url, sizeof(url), "%s%s", base, path);
    http("POST", url, with_form, body, out);
    return out->status;
}

static json_t *control(const char *method, const char *path, const char *body)
{
    struct rt_resp resp;
    char url[512];
    json_t *root;

    snprintf(url, sizeof(url), "%s/_control%s", base, path);
    http(method, url, NULL, body, &resp);
    if (resp.status < 200 || resp.status > 299 || !resp.json)
        fail_msg("%s /_control%s: %ld %s", method, path, resp.status, resp.body);
    root = json_incref(resp.json);
    rt_resp_cleanup(&resp);
    return root;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- the OAuth dance */

struct pkce {
    char verifier[64];
    char challenge[64];
};

static void pkce_new(struct pkce *p)
{
    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(p->verifier, sizeof(p->verifier), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_hash_sha256(digest, (const unsigned char *)p->verifier, strlen(p->verifier));
    sodium_bin2base64(p->challenge, sizeof(p->challenge), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The authorize URL of provider's OAuth server in the sandbox (as the adapter declares it). */
static void endpoint(const char *slug, enum prov_oauth_endpoint which, char *out, size_t len)
{
    const struct prov_ops *ops = prov_find(slug);
    json_t *pre = json_pack("{s:s}", "subdomain", "acme");
    char prov_base[256];
    struct rs_errbuf eb;

    snprintf(prov_base, sizeof(prov_base), "%s/%s", base, slug);
    assert_non_null(ops->oauth);
    assert_int_equal(ops->oauth->endpoint(pre, prov_base, which, out, len, &eb), RS_OK);
    json_decref(pre);
}

static const char *query_value(const char *location, const char *key, char *out, size_t len)
{
    char pattern[64];
    const char *at;
    size_t n;

    snprintf(pattern, sizeof(pattern), "%s=", key);
    out[0] = '\0';
    for (at = strchr(location, '?'); at; at = strchr(at + 1, '&')) {
        if (strncmp(at + 1, pattern, strlen(pattern)) == 0) {
            at += 1 + strlen(pattern);
            n = strcspn(at, "&");
            snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), at);
            break;
        }
    }
    return out;
}

/*
 * Shows the consent page of slug (it must carry both buttons), then posts the decision back to
 * the same URL; the code (approve) or error (deny) of the redirect into out.
 */
static void authorize(const char *slug, const struct pkce *p, const char *decision, char *out,
                      size_t len)
{
    char url[2304], params[1024], body[1200], location[1600], state[64];
    struct rt_resp resp;

    endpoint(slug, PROV_OAUTH_AUTHORIZE, url, 256);
    snprintf(params, sizeof(params),
             "response_type=code&client_id=roster-e2e&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9"
             "%%2Flink%%2Foauth%%2Fcallback&state=st-%s&scope=%s&code_challenge=%s&"
             "code_challenge_method=S256",
             slug, "read", p->challenge);
    snprintf(url + strlen(url), sizeof(url) - strlen(url), "%s%s", strchr(url, '?') ? "&" : "?",
             params);
    http("GET", url, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, ">Approve</button>"));
    assert_non_null(strstr(resp.body, ">Deny</button>"));
    assert_non_null(strstr(resp.body, "roster-e2e"));
    rt_resp_cleanup(&resp);
    snprintf(body, sizeof(body), "%s&decision=%s", params, decision);
    {
        const char *hdrs[] = {FORM, NULL};
        struct rt_req req = {.method = "POST", .url = url, .headers = hdrs, .body = body};

        if (rt_http_do(&req, &resp) != RS_OK)
            fail_msg("POST %s: no answer", url);
    }
    assert_int_equal(resp.status, 302);
    assert_true(rt_resp_header(&resp, "Location", location, sizeof(location)));
    assert_true(strncmp(location, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
    query_value(location, "state", state, sizeof(state));
    assert_true(strncmp(state, "st-", 3) == 0 && strcmp(state + 3, slug) == 0);
    query_value(location, strcmp(decision, "approve") == 0 ? "code" : "error", out, len);
    assert_true(out[0] != '\0');
    rt_resp_cleanup(&resp);
}

/* POSTs a token request to slug's token endpoint (client secret in the body). */
static long token_call(const char *slug, const char *params, struct rt_resp *out)
{
    char url[256], body[1024];
    const char *hdrs[] = {FORM, NULL};
    struct rt_req req = {.method = "POST", .url = url, .headers = hdrs, .body = body};

    endpoint(slug, PROV_OAUTH_TOKEN, url, sizeof(url));
    snprintf(body, sizeof(body), "client_id=roster-e2e&client_secret=sandbox&%s", params);
    if (rt_http_do(&req, out) != RS_OK)
        fail_msg("POST %s: no answer", url);
    return out->status;
}

static long exchange(const char *slug, const char *code, const char *verifier, struct rt_resp *out)
{
    char params[512];

    snprintf(params, sizeof(params),
             "grant_type=authorization_code&code=%s&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9"
             "%%2Flink%%2Foauth%%2Fcallback&code_verifier=%s",
             code, verifier);
    return token_call(slug, params, out);
}

static long refresh(const char *slug, const char *refresh_token, struct rt_resp *out)
{
    char params[256];

    snprintf(params, sizeof(params), "grant_type=refresh_token&refresh_token=%s", refresh_token);
    return token_call(slug, params, out);
}

/* A whole authorization for slug: the token answer (new reference). */
static json_t *connect_oauth(const char *slug)
{
    struct pkce p;
    char code[128];
    struct rt_resp resp;
    json_t *tokens;

    pkce_new(&p);
    authorize(slug, &p, "approve", code, sizeof(code));
    assert_int_equal(exchange(slug, code, p.verifier, &resp), 200);
    tokens = json_incref(resp.json);
    rt_resp_cleanup(&resp);
    return tokens;
}

/* A bearer call to slug's API (Factorial employees, BambooHR meta lists): the status. */
static long api_status(const char *slug, const char *access)
{
    char url[512], auth[200];
    const char *hdrs[] = {auth, NULL};
    struct rt_resp resp;
    long status;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", access);
    snprintf(url, sizeof(url), "%s/%s%s", base, slug,
             strcmp(slug, "factorial") == 0 ? "/api/2026-07-01/resources/employees/employees"
                                              "?limit=1"
                                            : "/api/v1/meta/lists");
    http("GET", url, hdrs, NULL, &resp);
    status = resp.status;
    rt_resp_cleanup(&resp);
    return status;
}

/* ---- tests */

static void test_approve_and_deny(void **state)
{
    static const char *const slugs[] = {"factorial", "bamboohr"};
    struct pkce p;
    char value[128];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        pkce_new(&p);
        authorize(slugs[i], &p, "approve", value, sizeof(value));
        assert_true(strncmp(value, slugs[i], strlen(slugs[i])) == 0);
        authorize(slugs[i], &p, "deny", value, sizeof(value));
        assert_string_equal(value, "access_denied");
    }
}

static void test_code_exchange_with_pkce(void **state)
{
    struct pkce p, other;
    char code[128];
    struct rt_resp resp;
    json_t *log, *last = NULL, *entry;
    char *text;
    size_t i;

    (void)state;
    pkce_new(&p);
    pkce_new(&other);
    authorize("factorial", &p, "approve", code, sizeof(code));
    assert_int_equal(exchange("factorial", code, other.verifier, &resp), 400);
    assert_string_equal(str(resp.json, "error"), "invalid_grant");
    rt_resp_cleanup(&resp);
    authorize("factorial", &p, "approve", code, sizeof(code));
    assert_int_equal(exchange("factorial", code, p.verifier, &resp), 200);
    assert_string_equal(str(resp.json, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(resp.json, "expires_in")), 3600);
    assert_non_null(str(resp.json, "refresh_token"));
    assert_string_equal(str(resp.json, "scope"), "read");
    rt_resp_cleanup(&resp);
    assert_int_equal(exchange("factorial", code, p.verifier, &resp), 400); /* reused */
    assert_string_equal(str(resp.json, "error"), "invalid_grant");
    rt_resp_cleanup(&resp);
    /* the request log shows which verifier arrived, and no secret */
    log = control("GET", "/requests", NULL);
    json_array_foreach(json_object_get(log, "requests"), i, entry)
    {
        if (json_object_get(entry, "oauth") && strstr(str(entry, "path"), "/oauth/token"))
            last = entry;
    }
    assert_non_null(last);
    assert_string_equal(str(json_object_get(last, "oauth"), "code_verifier"), p.verifier);
    assert_string_equal(str(json_object_get(last, "oauth"), "error"), "invalid_grant");
    text = json_dumps(log, 0);
    assert_null(strstr(text, "client_secret"));
    free(text);
    json_decref(log);
}

static void test_refresh_rotation_and_revoke(void **state)
{
    json_t *first = connect_oauth("bamboohr"), *second;
    struct rt_resp resp;
    char body[256];

    (void)state;
    assert_int_equal(refresh("bamboohr", str(first, "refresh_token"), &resp), 200);
    second = json_incref(resp.json);
    rt_resp_cleanup(&resp);
    assert_string_not_equal(str(first, "refresh_token"), str(second, "refresh_token"));
    assert_int_equal(api_status("bamboohr", str(second, "access_token")), 200);
    assert_int_equal(refresh("bamboohr", str(first, "refresh_token"), &resp), 400);
    assert_string_equal(str(resp.json, "error"), "invalid_grant");
    rt_resp_cleanup(&resp);
    /* revoke the refresh token: it and its access token are gone */
    snprintf(body, sizeof(body), "client_id=roster-e2e&client_secret=sandbox&token=%s",
             str(second, "refresh_token"));
    assert_int_equal(post_form("/bamboohr/token.php?request=revoke", NULL, body, &resp), 200);
    rt_resp_cleanup(&resp);
    assert_int_equal(api_status("bamboohr", str(second, "access_token")), 401);
    assert_int_equal(refresh("bamboohr", str(second, "refresh_token"), &resp), 400);
    rt_resp_cleanup(&resp);
    /* Factorial's revoke endpoint, for an access token */
    json_decref(first);
    first = connect_oauth("factorial");
    snprintf(body, sizeof(body), "client_id=roster-e2e&client_secret=sandbox&token=%s",
             str(first, "access_token"));
    assert_int_equal(post_form("/factorial/oauth/revoke", NULL, body, &resp), 200);
    rt_resp_cleanup(&resp);
    assert_int_equal(api_status("factorial", str(first, "access_token")), 401);
    json_decref(first);
    json_decref(second);
}

static void test_bearer_and_expiry(void **state)
{
    json_t *fac = connect_oauth("factorial"), *bhr = connect_oauth("bamboohr"), *fresh;
    struct rt_resp resp;

    (void)state;
    assert_int_equal(api_status("factorial", str(fac, "access_token")), 200);
    assert_int_equal(api_status("bamboohr", str(bhr, "access_token")), 200);
    assert_int_equal(api_status("factorial", str(bhr, "access_token")), 401);
    json_decref(control("POST", "/oauth/expire", "{}"));
    assert_int_equal(api_status("factorial", str(fac, "access_token")), 401);
    assert_int_equal(api_status("bamboohr", str(bhr, "access_token")), 401);
    /* a refresh brings access back */
    assert_int_equal(refresh("factorial", str(fac, "refresh_token"), &resp), 200);
    fresh = json_incref(resp.json);
    rt_resp_cleanup(&resp);
    assert_int_equal(api_status("factorial", str(fresh, "access_token")), 200);
    /* a lifetime of 0 s: issued already expired */
    json_decref(
        control("POST", "/oauth/ttl", "{\"provider\":\"bamboohr\",\"access_token_ttl_s\":0}"));
    assert_int_equal(refresh("bamboohr", str(bhr, "refresh_token"), &resp), 200);
    assert_int_equal(json_integer_value(json_object_get(resp.json, "expires_in")), 0);
    assert_int_equal(api_status("bamboohr", str(resp.json, "access_token")), 401);
    rt_resp_cleanup(&resp);
    json_decref(control("POST", "/oauth/ttl", "{\"access_token_ttl_s\":3600}"));
    /* revoke everything: refreshing fails */
    json_decref(control("POST", "/oauth/revoke", "{\"provider\":\"factorial\"}"));
    assert_int_equal(refresh("factorial", str(fresh, "refresh_token"), &resp), 400);
    assert_string_equal(str(resp.json, "error"), "invalid_grant");
    rt_resp_cleanup(&resp);
    json_decref(fac);
    json_decref(bhr);
    json_decref(fresh);
}

/* Pages of 25 over HTTP, following end_cursor: everyone listed, once. */
static void test_factorial_paging_once(void **state)
{
    json_t *tokens = NULL, *truth, *seen = json_object(), *person;
    char url[768], auth[200], cursor[256] = "";
    const char *hdrs[] = {auth, NULL};
    struct rt_resp resp;
    size_t i, listed = 0;
    int pages = 0;

    (void)state;
    json_decref(control("POST", "/reset", "{\"employees\":137,\"seed\":2}"));
    json_decref(tokens);
    tokens = connect_oauth("factorial"); /* a reset forgets tokens */
    json_decref(control("DELETE", "/employees/17", NULL));
    truth = control("GET", "/company", NULL);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", str(tokens, "access_token"));
    do {
        const json_t *row, *meta;
        char escaped[512];

        assert_true(rt_http_escape(cursor, escaped, sizeof(escaped)));
        snprintf(url, sizeof(url),
                 "%s/factorial/api/2026-07-01/resources/employees/employees"
                 "?limit=25%s%s",
                 base, cursor[0] ? "&after_id=" : "", escaped);
        http("GET", url, hdrs, NULL, &resp);
        assert_int_equal(resp.status, 200);
        json_array_foreach(json_object_get(resp.json, "data"), i, row)
        {
            char id[32];

            snprintf(id, sizeof(id), "%lld",
                     (long long)json_integer_value(json_object_get(row, "id")));
            assert_null(json_object_get(seen, id));
            json_object_set_new(seen, id, json_true());
        }
        meta = json_object_get(resp.json, "meta");
        snprintf(cursor, sizeof(cursor), "%s",
                 json_is_true(json_object_get(meta, "has_next_page")) ? str(meta, "end_cursor")
                                                                      : "");
        rt_resp_cleanup(&resp);
        assert_true(++pages < 100);
    } while (cursor[0]);
    json_array_foreach(json_object_get(truth, "people"), i, person)
    {
        char id[32];

        if (json_is_true(json_object_get(person, "deleted")))
            continue;
        listed++;
        snprintf(id, sizeof(id), "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_object_get(person, "ids"), "factorial")));
        assert_non_null(json_object_get(seen, id));
    }
    assert_int_equal(listed, EMPLOYEES - 1);
    assert_int_equal(json_object_size(seen), listed);
    assert_int_equal(pages, (int)((listed + 24) / 25));
    json_decref(seen);
    json_decref(truth);
    json_decref(tokens);
}

/* ---- the adapters over the sandbox's real pages */

/*
 * Runs a whole sync of slug through the sandbox with the OAuth access token into out (an
 * initialized capture). The sandbox's own pages must map without a skip.
 */
static void drive(const char *slug, const json_t *credentials, const char *access,
                  struct rt_capture *out)
{
    const struct prov_ops *ops = prov_find(slug);
    struct prov_sink sink = rt_capture_sink(out);
    struct prov_sync sync = {.credentials = credentials, .full = true};
    char prov_base[256], auth[1100], ctype[96];
    struct rs_errbuf eb;
    bool done = false;
    int requests = 0;

    snprintf(prov_base, sizeof(prov_base), "%s/%s", base, slug);
    sync.base_url = prov_base;
    sync.state = json_object();
    sync.token = json_pack("{s:s, s:I}", "access_token", access, "expires_at_us",
                           (json_int_t)(rs_time_now_us() + 3600000000));
    assert_int_equal(rs_uuid_parse(ACCOUNT, &sync.account), RS_OK);
    while (!done) {
        struct prov_request req;
        struct rt_resp resp;
        const char *hdrs[3] = {auth, NULL, NULL};

        memset(&req, 0, sizeof(req));
        sync.now_us = rs_time_now_us();
        assert_int_equal(ops->next_request(&sync, &req, &done, &eb), RS_OK);
        if (done)
            break;
        assert_int_equal(req.auth, PROV_REQ_AUTH_BEARER);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req.secret);
        if (req.content_type[0]) {
            snprintf(ctype, sizeof(ctype), "Content-Type: %s", req.content_type);
            hdrs[1] = ctype;
        }
        {
            struct rt_req r = {.method = req.method,
                               .url = req.url,
                               .headers = hdrs,
                               .body = req.body,
                               .body_len = req.body_len};

            if (rt_http_do(&r, &resp) != RS_OK)
                fail_msg("%s %s: no answer", req.method, req.url);
        }
        if (resp.status != 200)
            fail_msg("%s %s: %ld", req.method, req.url, resp.status);
        {
            struct prov_response presp = {resp.status, resp.body, resp.body_len};

            if (ops->parse_response(&sync, &presp, &sink, &eb) != RS_OK)
                fail_msg("%s: %s", req.url, eb.msg);
        }
        rt_resp_cleanup(&resp);
        prov_request_cleanup(&req);
        assert_true(++requests < 1000);
    }
    json_decref(sync.state);
    json_decref(sync.token);
    if (rt_capture_count_skipped(out, RT_CAPTURE_ANY) != 0)
        fail_msg("%s: %zu skipped, the first: %s", slug,
                 rt_capture_count_skipped(out, RT_CAPTURE_ANY), rt_capture_skip_why(out, 0));
}

/* The remote id the adapters give a Factorial record: its numeric id as text. */
static const char *remote_id_of(json_int_t id, char out[32])
{
    snprintf(out, 32, "%lld", (long long)id);
    return out;
}

/* The fields delivered for (kind, id); fails the test when there are none. */
static const json_t *record_of(const struct rt_capture *c, enum rs_model_kind kind, json_int_t id)
{
    char remote_id[32];

    return rt_capture_find(c, kind, remote_id_of(id, remote_id));
}

static const char *uuid_text(enum rs_model_kind kind, json_int_t remote, char out[40])
{
    struct rs_uuid account, id;
    char remote_id[32];

    assert_int_equal(rs_uuid_parse(ACCOUNT, &account), RS_OK);
    assert_int_equal(rs_model_id(&account, kind, remote_id_of(remote, remote_id), &id), RS_OK);
    return rs_uuid_format(&id, out);
}

static json_int_t factorial_id(const json_t *person)
{
    return json_integer_value(json_object_get(json_object_get(person, "ids"), "factorial"));
}

/* What the adapter made of one person, against the sandbox's truth. */
static void check_person(const struct rt_capture *c, const json_t *truth, const json_t *person)
{
    static const char *const statuses[][2] = {{"active", "ACTIVE"},
                                              {"leave", "ACTIVE"},
                                              {"onboarding", "PENDING"},
                                              {"terminated", "INACTIVE"}};
    char today[RS_TIME_ISO_LEN];
    const json_t *e = record_of(c, RS_MODEL_EMPLOYEE, factorial_id(person));
    const json_t *job = record_of(c, RS_MODEL_EMPLOYMENT, factorial_id(person));
    const json_t *manager = json_object_get(person, "manager");
    char uuid[40], midnight[32];

    assert_non_null(e);
    assert_non_null(job);
    assert_string_equal(str(e, "first_name"), str(person, "first_name"));
    assert_string_equal(str(e, "work_email"), str(person, "work_email"));
    /* Factorial has dates, no status: an onboarding hire whose day has come is ACTIVE */
    rs_time_format(rs_time_now_us(), today);
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(str(person, "status"), statuses[i][0]) != 0)
            continue;
        if (i == 2 && strncmp(str(person, "hire_date"), today, 10) <= 0)
            assert_string_equal(str(e, "employment_status"), "ACTIVE");
        else
            assert_string_equal(str(e, "employment_status"), statuses[i][1]);
    }
    snprintf(midnight, sizeof(midnight), "%sT00:00:00Z", str(person, "hire_date"));
    assert_string_equal(str(e, "start_date"), midnight);
    if (str(person, "termination_date")) {
        snprintf(midnight, sizeof(midnight), "%sT00:00:00Z", str(person, "termination_date"));
        assert_string_equal(str(e, "termination_date"), midnight);
    }
    if (json_is_integer(manager)) {
        const json_t *m =
            json_array_get(json_object_get(truth, "people"), (size_t)json_integer_value(manager));

        /* a deleted manager is not referred to (the sandbox answers null) */
        if (json_is_true(json_object_get(m, "deleted")))
            assert_true(json_is_null(json_object_get(e, "manager")));
        else
            assert_string_equal(str(e, "manager"),
                                uuid_text(RS_MODEL_EMPLOYEE, factorial_id(m), uuid));
    } else {
        assert_true(json_is_null(json_object_get(e, "manager")));
    }
    if (json_is_object(json_object_get(person, "team")))
        assert_string_equal(
            str(e, "team"),
            uuid_text(RS_MODEL_TEAM,
                      json_integer_value(json_object_get(json_object_get(person, "team"), "id")),
                      uuid));
    assert_string_equal(str(job, "job_title"), str(person, "title"));
    assert_string_equal(str(job, "employment_type"),
                        json_integer_value(json_object_get(person, "weekly_hours")) >= 40
                            ? "FULL_TIME"
                            : "PART_TIME");
}

static void test_factorial_adapter_over_sandbox(void **state)
{
    json_t *tokens, *truth, *credentials = json_object(), *person;
    struct rt_capture c;
    size_t i, listed = 0, seen = 0;

    (void)state;
    json_decref(control("POST", "/reset", "{\"employees\":137,\"seed\":2}"));
    tokens = connect_oauth("factorial"); /* after the reset, which forgets tokens */
    json_decref(control("POST", "/employees/5/terminate", "{\"date\":\"2026-01-31\"}"));
    json_decref(control("DELETE", "/employees/9", NULL));
    truth = control("GET", "/company", NULL);
    rt_capture_init(&c);
    drive("factorial", credentials, str(tokens, "access_token"), &c);
    json_array_foreach(json_object_get(truth, "people"), i, person)
    {
        char remote_id[32];

        if (json_is_true(json_object_get(person, "deleted"))) {
            assert_int_equal(
                rt_capture_count_remote_id(&c, RS_MODEL_EMPLOYEE,
                                           remote_id_of(factorial_id(person), remote_id)),
                0);
            continue;
        }
        listed++;
        check_person(&c, truth, person);
        seen += json_is_string(json_object_get(
            record_of(&c, RS_MODEL_EMPLOYEE, factorial_id(person)), "termination_date"));
    }
    assert_true(seen > 0); /* the seed has leavers (and person 5 left) */
    assert_int_equal(rt_capture_count(&c, RS_MODEL_EMPLOYEE), listed);
    assert_int_equal(rt_capture_count(&c, RS_MODEL_EMPLOYMENT), listed);
    assert_int_equal(rt_capture_count(&c, RS_MODEL_TEAM),
                     json_array_size(json_object_get(json_object_get(truth, "units"), "teams")));
    assert_int_equal(rt_capture_count(&c, RS_MODEL_GROUP), rt_capture_count(&c, RS_MODEL_TEAM));
    assert_int_equal(
        rt_capture_count(&c, RS_MODEL_LOCATION),
        json_array_size(json_object_get(json_object_get(truth, "units"), "locations")));
    assert_int_equal(rt_capture_count(&c, RS_MODEL_COMPANY), 4); /* the legal entities */
    rt_capture_cleanup(&c);
    json_decref(truth);
    json_decref(tokens);
    json_decref(credentials);
}

/* BambooHR connected by OAuth: the same records as with the API key, sent as a bearer. */
static void test_bamboohr_adapter_with_oauth(void **state)
{
    json_t *tokens = connect_oauth("bamboohr"), *truth = control("GET", "/company", NULL);
    json_t *credentials = json_pack("{s:s}", "subdomain", "acme");
    struct rt_capture c;
    size_t listed = 0, i;
    json_t *person;

    (void)state;
    rt_capture_init(&c);
    drive("bamboohr", credentials, str(tokens, "access_token"), &c);
    json_array_foreach(json_object_get(truth, "people"), i, person) listed +=
        !json_is_true(json_object_get(person, "deleted"));
    assert_int_equal(rt_capture_count(&c, RS_MODEL_EMPLOYEE), listed);
    rt_capture_cleanup(&c);
    json_decref(truth);
    json_decref(tokens);
    json_decref(credentials);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approve_and_deny),
        cmocka_unit_test(test_code_exchange_with_pkce),
        cmocka_unit_test(test_refresh_rotation_and_revoke),
        cmocka_unit_test(test_bearer_and_expiry),
        cmocka_unit_test(test_factorial_paging_once),
        cmocka_unit_test(test_factorial_adapter_over_sandbox),
        cmocka_unit_test(test_bamboohr_adapter_with_oauth),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
