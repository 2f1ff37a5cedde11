/* The link flow driven over HTTP for e2e tests: link tokens, hosted pages, forms, exchange. */
#include "rt_link.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_api.h"

json_t *rt_link_token(struct rt_sync_env *env, const char *key, const char *origin,
                      const char *extra)
{
    return rt_link_token_at(env, key, origin, "bamboohr", extra);
}

json_t *rt_link_token_at(struct rt_sync_env *env, const char *key, const char *origin,
                         const char *provider, const char *extra)
{
    char url[RT_API_URL_MAX], body[4096];
    struct rt_resp r = {0};
    json_t *out;

    snprintf(body, sizeof(body),
             "{\"end_user_email_address\":\"hr@acme.example\",\"end_user_organization_name\":"
             "\"Acme (link e2e)\",\"end_user_origin_id\":\"%s\",\"categories\":[\"hris\"],"
             "\"base_url\":\"%s/%s\"%s%s}",
             origin, rt_proc_url(env->sandbox), provider, extra ? "," : "", extra ? extra : "");
    rt_api_send("POST", rt_api_url(url, env->rosterd, "/api/hris/v1/link-token"),
                key ? key : env->key, body, &r);
    rt_api_expect_status(&r, 200, "link-token");
    if (!rt_api_str(r.json, "link_token"))
        fail_msg("link-token: no link_token in %.300s", r.body);
    out = json_incref(r.json);
    rt_resp_cleanup(&r);
    return out;
}

/* The answer is the page named `page`. */
static void expect_page(const char *what, const char *path, const struct rt_resp *r,
                        const char *page)
{
    long status = strcmp(page, "error") == 0 ? 500 : strcmp(page, "form-busy") == 0 ? 503 : 200;
    char got[64] = "";

    if (!rt_resp_header(r, "X-Roster-Page", got, sizeof(got)) || r->status != status ||
        strcmp(got, page) != 0)
        fail_msg("%s %s: status %ld page %s, want %ld %s; body: %.800s", what, path, r->status, got,
                 status, page, r->body);
}

void rt_link_get(struct rt_sync_env *env, const char *path, const char *page, struct rt_resp *r)
{
    char url[RT_API_URL_MAX];

    rt_api_get(rt_api_url(url, env->rosterd, "%s", path), NULL, NULL, r);
    expect_page("GET", path, r, page);
}

char *rt_link_attr(const char *html, const char *after, const char *attr)
{
    char needle[128];
    const char *start = after ? strstr(html, after) : html, *value, *end;
    char *out;

    snprintf(needle, sizeof(needle), "%s=\"", attr);
    value = start ? strstr(start, needle) : NULL;
    if (!value)
        fail_msg("no %s in the page: %.600s", attr, html);
    value += strlen(needle);
    end = strchr(value, '"');
    if (!end || !(out = strndup(value, (size_t)(end - value))))
        fail_msg("unterminated %s", attr);
    return out;
}

void rt_link_post(struct rt_sync_env *env, const char *token, const char *form_token,
                  const char *api_key, const char *page, struct rt_resp *r)
{
    static const char *const form_headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                               NULL};
    char url[RT_API_URL_MAX], path[256], body[1024], key[256];
    char *fetched = NULL;
    struct rt_resp form = {0};

    snprintf(path, sizeof(path), "/link/%s/bamboohr", token);
    if (!form_token) {
        rt_link_get(env, path, "form", &form);
        fetched = rt_link_attr(form.body, "name=\"form_token\"", "value");
        rt_resp_cleanup(&form);
    }
    if (!rt_http_escape(api_key, key, sizeof(key)))
        fail_msg("api key too long");
    snprintf(body, sizeof(body), "form_token=%s&f_subdomain=acme&f_api_key=%s",
             form_token ? form_token : fetched, key);
    free(fetched);
    struct rt_req req = {.method = "POST",
                         .url = rt_api_url(url, env->rosterd, "%s", path),
                         .body = body,
                         .headers = form_headers};
    if (rt_http_do(&req, r) != RS_OK)
        fail_msg("POST %s: no answer (%s)", path, r->errbuf);
    expect_page("POST", path, r, page);
}

char *rt_link_connect(struct rt_sync_env *env, const char *token)
{
    struct rt_resp r = {0};
    char *public_token;

    rt_link_post(env, token, NULL, "sandbox", "connected", &r);
    public_token = rt_link_attr(r.body, "id=\"roster-result\"", "data-public-token");
    rt_resp_cleanup(&r);
    return public_token;
}

json_t *rt_link_exchange(struct rt_sync_env *env, const char *key, const char *public_token,
                         long status)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    json_t *out;

    rt_api_get(rt_api_url(url, env->rosterd, "/api/hris/v1/account-token/%s", public_token),
               key ? key : env->key, NULL, &r);
    rt_api_expect_status(&r, status, "account-token exchange");
    out = r.json ? json_incref(r.json) : json_null();
    rt_resp_cleanup(&r);
    return out;
}

const char *rt_link_token_of(const json_t *link)
{
    return rt_api_str(link, "link_token");
}

void rt_link_exchange_into(struct rt_sync_env *env, const char *public_token,
                           const struct rt_sync_provider *prov, struct rt_sync_account *acct)
{
    json_t *got = rt_link_exchange(env, NULL, public_token, 200);
    json_t *integration = json_object_get(got, "integration");

    memset(acct, 0, sizeof(*acct));
    acct->prov = prov;
    if (!rt_sync_str(got, "account_token") || !rt_sync_str(got, "id"))
        fail_msg("the exchange lacks account_token or id");
    assert_string_equal(rt_sync_str(integration, "slug"), prov->slug);
    assert_string_equal(rt_sync_str(integration, "name"), prov->name);
    assert_true(json_is_array(json_object_get(integration, "categories")));
    assert_true(
        json_is_object(json_object_get(integration, "api_endpoints_to_documentation_urls")));
    snprintf(acct->id, sizeof(acct->id), "%s", rt_sync_str(got, "id"));
    snprintf(acct->token, sizeof(acct->token), "%s", rt_sync_str(got, "account_token"));
    json_decref(got);
}

void rt_link_connect_into(struct rt_sync_env *env, const char *token,
                          const struct rt_sync_provider *prov, struct rt_sync_account *acct)
{
    char *public_token = rt_link_connect(env, token);

    rt_link_exchange_into(env, public_token, prov, acct);
    free(public_token);
}

void rt_link_expect_relinked(struct rt_sync_env *env, const char *public_token,
                             const struct rt_sync_account *acct, const char *previous_sync,
                             const json_t *before)
{
    struct rt_sync_account relinked;
    json_t *after;

    rt_link_exchange_into(env, public_token, acct->prov, &relinked);
    assert_string_equal(relinked.id, acct->id);
    free(rt_sync_wait_for(env, &relinked, previous_sync, "DONE"));
    after = rt_sync_employees(env, &relinked, "remote_id");
    assert_int_equal(json_object_size(after), json_object_size(before));
    rt_sync_expect_same_ids(before, after);
    json_decref(after);
}
