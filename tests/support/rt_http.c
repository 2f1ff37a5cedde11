/* libcurl requests for e2e tests: status, headers, body and its JSON, with a timeout each. */
#include "rt_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_HTTP_BODY_MAX    (64u << 20)
#define RT_HTTP_HEADERS_MAX (256u << 10)
#define RT_HTTP_TIMEOUT_MS  30000L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fprintf(stderr, "rt_http: curl_global_init failed\n");
}

/* Appends len bytes to *buf (kept NUL-terminated); false when over max or out of memory. */
static bool append(char **buf, size_t *len, const char *bytes, size_t n, size_t max)
{
    char *bigger;

    if (*len + n > max)
        return false;
    bigger = realloc(*buf, *len + n + 1);
    if (!bigger)
        return false;
    memcpy(bigger + *len, bytes, n);
    *len += n;
    bigger[*len] = '\0';
    *buf = bigger;
    return true;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct rt_resp *resp = arg;
    size_t n = size * nmemb;

    if (!append(&resp->body, &resp->body_len, ptr, n, RT_HTTP_BODY_MAX)) {
        resp->truncated = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct rt_resp *resp = arg;
    size_t n = size * nmemb;

    /* a new status line (after 100 Continue, say): keep only the final response's headers */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        free(resp->headers);
        resp->headers = NULL;
        resp->headers_len = 0;
    }
    return append(&resp->headers, &resp->headers_len, ptr, n, RT_HTTP_HEADERS_MAX) ? n : 0;
}

static bool add_header(struct rt_resp *out, const char *name, const char *value)
{
    char line[4096];
    struct curl_slist *list;

    if ((size_t)snprintf(line, sizeof(line), "%s%s", name, value) >= sizeof(line))
        return false;
    list = curl_slist_append(out->req_headers, line);
    if (!list)
        return false;
    out->req_headers = list;
    return true;
}

/* True when the extra headers name a Content-Type of their own. */
static bool names_content_type(const char *const *headers)
{
    for (const char *const *h = headers; h && *h; h++) {
        if (strncasecmp(*h, "Content-Type:", 13) == 0)
            return true;
    }
    return false;
}

static bool build_headers(const struct rt_req *req, struct rt_resp *out)
{
    bool ok = true;

    if (req->api_key)
        ok = add_header(out, "Authorization: Bearer ", req->api_key);
    if (ok && req->account_token)
        ok = add_header(out, "X-Account-Token: ", req->account_token);
    if (ok && req->body && !names_content_type(req->headers))
        ok = add_header(out, "Content-Type: ", "application/json");
    for (const char *const *h = req->headers; ok && h && *h; h++)
        ok = add_header(out, *h, "");
    return ok;
}

CURL *rt_http_prepare(const struct rt_req *req, struct rt_resp *out)
{
    CURL *easy;

    pthread_once(&curl_once, curl_init_once);
    memset(out, 0, sizeof(*out));
    out->code = CURLE_FAILED_INIT;
    easy = curl_easy_init();
    if (!easy || !build_headers(req, out)) {
        if (easy)
            curl_easy_cleanup(easy);
        return NULL;
    }
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method ? req->method : "GET");
    if (req->method && strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    if (req->body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body_len ? req->body_len : strlen(req->body)));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, out->req_headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms ? req->timeout_ms : RT_HTTP_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, out->errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_PRIVATE, out);
    return easy;
}

void rt_http_finish(CURL *easy, CURLcode code, struct rt_resp *out)
{
    json_error_t jerr;

    out->code = code;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &out->seconds);
    curl_easy_cleanup(easy);
    if (!out->body) {
        out->body = calloc(1, 1);
        out->body_len = 0;
    }
    /* strict: a stray byte after the value (a NUL, say) makes it "not JSON" */
    if (out->body && out->body_len > 0)
        out->json = json_loadb(out->body, out->body_len, JSON_DECODE_ANY, &jerr);
}

enum rs_err rt_http_do(const struct rt_req *req, struct rt_resp *out)
{
    CURL *easy = rt_http_prepare(req, out);

    if (!easy)
        return RS_ERR_NOMEM;
    rt_http_finish(easy, curl_easy_perform(easy), out);
    if (!out->body)
        return RS_ERR_NOMEM;
    if (out->status == 0) {
        fprintf(stderr, "rt_http: %s %s: %s (%s)\n", req->method ? req->method : "GET", req->url,
                curl_easy_strerror(out->code), out->errbuf);
        return RS_ERR_UNAVAILABLE;
    }
    return RS_OK;
}

enum rs_err rt_http_get(const char *url, const char *api_key, const char *account_token,
                        struct rt_resp *out)
{
    struct rt_req req = {.url = url, .api_key = api_key, .account_token = account_token};

    return rt_http_do(&req, out);
}

bool rt_resp_header(const struct rt_resp *resp, const char *name, char *out, size_t outlen)
{
    size_t name_len = strlen(name);

    for (const char *line = resp->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);

        if (len > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0) {
            const char *value = line + name_len + 1;
            size_t value_len = len - name_len - 1;

            while (value_len && (*value == ' ' || *value == '\t')) {
                value++;
                value_len--;
            }
            while (value_len && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
                value_len--;
            if (value_len + 1 > outlen)
                return false;
            memcpy(out, value, value_len);
            out[value_len] = '\0';
            return true;
        }
        line = end ? end + 2 : NULL;
    }
    return false;
}

void rt_resp_cleanup(struct rt_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    json_decref(resp->json);
    curl_slist_free_all(resp->req_headers);
    memset(resp, 0, sizeof(*resp));
}

bool rt_http_escape(const char *value, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);

        if (n + (plain ? 1 : 3) + 1 > outlen)
            return false;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (n + 1 > outlen)
        return false;
    out[n] = '\0';
    return true;
}
