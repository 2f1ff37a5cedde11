/* cmocka helpers for e2e tests of rosterd's API: requests, assertions, operator steps. */
#include "rt_api.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

const char *rt_api_url(char *out, const struct rt_proc *p, const char *fmt, ...)
{
    size_t base = (size_t)snprintf(out, RT_API_URL_MAX, "%s", rt_proc_url(p));
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out + base, RT_API_URL_MAX - base, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= RT_API_URL_MAX - base)
        fail_msg("URL too long for the test's buffer");
    return out;
}

void rt_api_get(const char *url, const char *key, const char *token, struct rt_resp *r)
{
    if (rt_http_get(url, key, token, r) != RS_OK)
        fail_msg("GET %s: no answer (%s)", url, r->errbuf);
}

void rt_api_send(const char *method, const char *url, const char *key, const char *body,
                 struct rt_resp *r)
{
    struct rt_req req = {.method = method, .url = url, .api_key = key, .body = body};

    if (rt_http_do(&req, r) != RS_OK)
        fail_msg("%s %s: no answer (%s)", method, url, r->errbuf);
}

const char *rt_api_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

void rt_api_expect_status(const struct rt_resp *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: status %ld, want %ld; body: %.400s", what, r->status, status, r->body);
}

void rt_api_expect_error(const struct rt_resp *r, long status, const char *param, const char *what)
{
    const char *detail = rt_api_str(r->json, "detail"), *got = rt_api_str(r->json, "param");
    char type[128];

    rt_api_expect_status(r, status, what);
    if (!json_is_object(r->json))
        fail_msg("%s: the %ld body is not a JSON object: %.400s", what, status, r->body);
    if (!rt_resp_header(r, "Content-Type", type, sizeof(type)) ||
        strcmp(type, "application/json") != 0)
        fail_msg("%s: the error's Content-Type is not application/json", what);
    if (!detail || !*detail)
        fail_msg("%s: the error has no \"detail\": %.400s", what, r->body);
    if (param && (!got || strcmp(got, param) != 0))
        fail_msg("%s: param is %s, want %s; body: %.400s", what, got ? got : "absent", param,
                 r->body);
}

json_t *rt_api_results(const struct rt_resp *r, const char *what)
{
    json_t *results = json_object_get(r->json, "results");

    rt_api_expect_status(r, 200, what);
    if (!json_is_array(results))
        fail_msg("%s: no results array: %.300s", what, r->body);
    return results;
}

/* The admin API's create body; caller frees. */
static char *account_body(const char *origin, const char *api_key, const char *base_url)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "integration", "bamboohr",
                            "end_user_origin_id", origin, "end_user_organization_name",
                            "Acme (e2e)", "end_user_email_address", "hr@acme.example",
                            "credentials", "subdomain", "acme", "api_key", api_key);
    char *text;

    if (!doc)
        fail_msg("json_pack failed");
    if (base_url)
        json_object_set_new(doc, "base_url", json_string(base_url));
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        fail_msg("json_dumps failed");
    return text;
}

void rt_api_create_account(const struct rt_proc *p, const char *key, const char *origin,
                           const char *api_key, const char *base_url, struct rt_resp *r)
{
    char url[RT_API_URL_MAX];
    char *body = account_body(origin, api_key, base_url);

    rt_api_send("POST", rt_api_url(url, p, "/api/admin/v1/linked-accounts"), key, body, r);
    free(body);
}

void rt_api_link_account(const struct rt_proc *p, const char *key, const char *origin, char id[64],
                         char token[128])
{
    struct rt_resp r = {0};
    const char *got_id, *got_token;

    rt_api_create_account(p, key, origin, "sandbox-key-1", NULL, &r);
    rt_api_expect_status(&r, 201, "create a linked account");
    got_id = rt_api_str(r.json, "id");
    got_token = rt_api_str(r.json, "account_token");
    if (!got_id || !got_token)
        fail_msg("the 201 lacks id or account_token: %.300s", r.body);
    snprintf(id, 64, "%s", got_id);
    snprintf(token, 128, "%s", got_token);
    rt_resp_cleanup(&r);
}

char *rt_api_create_org(const char *database_url, const char *name)
{
    const char *args[] = {"create-org", name, NULL};
    char *key = NULL;

    if (rt_proc_rosterd_command(database_url, args, &key) != RS_OK || !key || !key[0]) {
        fprintf(stderr, "rt_api: rosterd create-org %s gave no API key\n", name);
        free(key);
        return NULL;
    }
    return key;
}

void rt_api_seed(const char *database_url, const char *account_id, int n)
{
    char count[16];
    const char *args[] = {"seed-example", account_id, count, NULL};
    char *out = NULL;

    snprintf(count, sizeof(count), "%d", n);
    if (rt_proc_rosterd_command(database_url, args, &out) != RS_OK)
        fail_msg("rosterd seed-example %s %d failed", account_id, n);
    free(out);
}

void rt_api_expect_contains(const char *what, const char *text, const char *needle)
{
    if (!text || !strstr(text, needle))
        fail_msg("%s: \"%s\" not found in: %.900s", what, needle, text ? text : "(null)");
}
