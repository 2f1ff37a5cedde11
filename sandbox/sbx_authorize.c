/*
 * The OAuth2 authorize endpoint of the emulated providers: a plain consent page (no external
 * assets) with real Approve and Deny buttons that post back to the same URL, then a 302 to the
 * client's redirect URI with a code (or access_denied) and the state.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHALLENGE_MIN 43 /* base64url of a SHA-256 */
#define CHALLENGE_MAX 128

static const char *const params[] = {
    "response_type", "client_id",      "redirect_uri",          "state",
    "scope",         "code_challenge", "code_challenge_method", "decision"};

/* One authorize request: its parameters (borrowed from q) and the request log note. */
struct authz {
    struct sbx_query q;
    const char *response_type, *client_id, *redirect_uri, *state, *scope, *challenge, *method;
    const char *decision;
    struct sbx_reqlog_oauth note;
};

/* ---- validation */

static bool printable(const char *s, char lo)
{
    for (; *s; s++) {
        if ((unsigned char)*s < (unsigned char)lo || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

static bool client_ok(const char *id)
{
    return id && id[0] && strlen(id) < SBX_OAUTH_CLIENT_MAX && printable(id, 0x20);
}

/* An absolute http(s) URI with a host, no fragment, nothing a header could not carry. */
static bool redirect_ok(const char *uri)
{
    size_t scheme;

    if (!uri || strlen(uri) >= SBX_OAUTH_URI_MAX || !printable(uri, 0x21) || strchr(uri, '#'))
        return false;
    if (strncasecmp(uri, "https://", 8) == 0)
        scheme = 8;
    else if (strncasecmp(uri, "http://", 7) == 0)
        scheme = 7;
    else
        return false;
    return uri[scheme] && !strchr("/?:@", uri[scheme]);
}

/* RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E separated by spaces. */
static bool scope_ok(const char *scope)
{
    if (!scope || !scope[0] || strlen(scope) >= SBX_OAUTH_SCOPE_MAX || scope[0] == ' ')
        return false;
    for (const char *s = scope; *s; s++) {
        if (*s == '"' || *s == '\\' || (*s == ' ' && (s[1] == ' ' || s[1] == '\0')))
            return false;
    }
    return printable(scope, 0x20);
}

static bool challenge_ok(const char *challenge)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-._~";
    size_t len = challenge ? strlen(challenge) : 0;

    return len >= CHALLENGE_MIN && len <= CHALLENGE_MAX && !challenge[strspn(challenge, b64url)];
}

/*
 * The RFC 6749 §4.1.2.1 error (and its description) of a request whose client and redirect
 * URI are valid, or NULL when it is acceptable.
 */
static const char *request_error(const struct authz *a, const char **why)
{
    if (!a->response_type || strcmp(a->response_type, "code") != 0) {
        *why = "response_type must be code";
        return "unsupported_response_type";
    }
    *why = "state is required";
    if (!a->state || !a->state[0])
        return "invalid_request";
    *why = "state is too long or not printable";
    if (strlen(a->state) >= SBX_OAUTH_STATE_MAX || !printable(a->state, 0x20))
        return "invalid_request";
    *why = "PKCE is required: code_challenge_method must be S256";
    if (!a->method || strcmp(a->method, "S256") != 0)
        return "invalid_request";
    *why = "code_challenge must be 43-128 base64url characters";
    if (!challenge_ok(a->challenge))
        return "invalid_request";
    *why = "scope is required (space-separated scope tokens)";
    if (!scope_ok(a->scope))
        return "invalid_scope";
    return NULL;
}

/* ---- output */

static enum rs_err append_html(struct rs_buf *b, const char *s)
{
    enum rs_err err = RS_OK;

    for (; *s && err == RS_OK; s++) {
        switch (*s) {
        case '&':
            err = rs_buf_append_str(b, "&amp;");
            break;
        case '<':
            err = rs_buf_append_str(b, "&lt;");
            break;
        case '>':
            err = rs_buf_append_str(b, "&gt;");
            break;
        case '"':
            err = rs_buf_append_str(b, "&quot;");
            break;
        case '\'':
            err = rs_buf_append_str(b, "&#39;");
            break;
        default:
            err = rs_buf_append(b, s, 1);
        }
    }
    return err;
}

static void html_headers(struct sbx_resp *resp, int status)
{
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "text/html; charset=utf-8");
    sbx_http_header(resp, "Cache-Control", "no-store");
    sbx_http_header(resp, "X-Frame-Options", "DENY");
    sbx_http_header(resp, "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'");
    sbx_http_header(resp, "Referrer-Policy", "no-referrer");
}

#define PAGE_HEAD                                                                                  \
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"                      \
    "<title>%s sandbox: authorize</title>\n<style>body{font-family:sans-serif;max-width:34em;"     \
    "margin:3em auto;padding:0 1em}button{font-size:1em;padding:.5em 1.5em;margin:0 1em 0 0}"      \
    "code{word-break:break-all}</style>\n</head>\n<body>\n<main>\n<h1>%s sandbox</h1>\n"

/* An invalid request that must not be redirected: say why, here. */
static enum rs_err error_page(struct authz *a, struct sbx_resp *resp, const char *provider_name,
                              const char *why)
{
    struct rs_buf *b = &resp->body;
    enum rs_err err;

    sbx_oauth_copy(a->note.error, sizeof(a->note.error), "invalid_request");
    sbx_http_resp_reset(resp);
    html_headers(resp, 400);
    err = rs_buf_appendf(b, PAGE_HEAD, provider_name, provider_name);
    if (err == RS_OK)
        err = rs_buf_append_str(b, "<h2>Invalid authorization request</h2>\n<p id=\"error\">");
    if (err == RS_OK)
        err = append_html(b, why);
    return err == RS_OK ? rs_buf_append_str(b, "</p>\n</main>\n</body>\n</html>\n") : err;
}

static enum rs_err hidden(struct rs_buf *b, const char *name, const char *value)
{
    enum rs_err err = rs_buf_appendf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);

    if (err == RS_OK)
        err = append_html(b, value ? value : "");
    return err == RS_OK ? rs_buf_append_str(b, "\">\n") : err;
}

static enum rs_err scope_items(struct rs_buf *b, const char *scope)
{
    char token[SBX_OAUTH_SCOPE_MAX];
    enum rs_err err = rs_buf_append_str(b, "<ul id=\"scopes\">\n");

    while (err == RS_OK && *scope) {
        size_t n = strcspn(scope, " ");

        snprintf(token, sizeof(token), "%.*s", (int)n, scope);
        err = rs_buf_append_str(b, "<li>");
        if (err == RS_OK)
            err = append_html(b, token);
        if (err == RS_OK)
            err = rs_buf_append_str(b, "</li>\n");
        scope += n + (scope[n] == ' ');
    }
    return err == RS_OK ? rs_buf_append_str(b, "</ul>\n") : err;
}

static enum rs_err consent_page(const struct authz *a, struct sbx_resp *resp,
                                const char *provider_name)
{
    struct rs_buf *b = &resp->body;
    enum rs_err err;

    html_headers(resp, 200);
    err = rs_buf_appendf(b, PAGE_HEAD "<p><strong id=\"client\">", provider_name, provider_name);
    if (err == RS_OK)
        err = append_html(b, a->client_id);
    if (err == RS_OK)
        err = rs_buf_appendf(b,
                             "</strong> asks for access to your %s account. It will be "
                             "allowed to use:</p>\n",
                             provider_name);
    if (err == RS_OK)
        err = scope_items(b, a->scope);
    if (err == RS_OK)
        err = rs_buf_append_str(b, "<p>You will be sent back to <code id=\"redirect\">");
    if (err == RS_OK)
        err = append_html(b, a->redirect_uri);
    if (err == RS_OK)
        err = rs_buf_append_str(b, "</code>.</p>\n<form method=\"post\">\n");
    for (size_t i = 0; i + 1 < sizeof(params) / sizeof(params[0]) && err == RS_OK; i++)
        err = hidden(b, params[i], sbx_http_query_get(&a->q, params[i]));
    if (err == RS_OK)
        err = rs_buf_append_str(
            b, "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n"
               "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n"
               "</form>\n</main>\n</body>\n</html>\n");
    return err;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept); false when it does not fit. */
static bool url_escape(char *out, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';

        if (*len + 4 >= cap)
            return false;
        if (plain) {
            out[(*len)++] = (char)c;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[c >> 4];
            out[(*len)++] = hex[c & 15];
        }
    }
    out[*len] = '\0';
    return true;
}

/* The separator before the first parameter appended to uri. */
static const char *query_separator(const char *uri)
{
    size_t len = strlen(uri);

    if (!strchr(uri, '?'))
        return "?";
    return uri[len - 1] == '?' || uri[len - 1] == '&' ? "" : "&";
}

/* 302 to redirect_uri with (key, value) pairs appended to its query; NULL values are left out. */
static enum rs_err redirect(struct sbx_resp *resp, const char *uri, const char *const *kv, int n)
{
    char location[sizeof(resp->header_value[0])];
    const char *sep = query_separator(uri);
    size_t len = 0;
    int w;

    w = snprintf(location, sizeof(location), "%s", uri);
    if (w < 0 || (size_t)w >= sizeof(location))
        return RS_ERR_TOOBIG;
    len = (size_t)w;
    for (int i = 0; i + 1 < n; i += 2) {
        if (!kv[i + 1])
            continue;
        w = snprintf(location + len, sizeof(location) - len, "%s%s=", sep, kv[i]);
        if (w < 0 || (size_t)w >= sizeof(location) - len)
            return RS_ERR_TOOBIG;
        len += (size_t)w;
        if (!url_escape(location, sizeof(location), &len, kv[i + 1]))
            return RS_ERR_TOOBIG;
        sep = "&";
    }
    sbx_http_resp_reset(resp);
    resp->status = 302;
    sbx_http_header(resp, "Location", "%s", location);
    sbx_http_header(resp, "Cache-Control", "no-store");
    return RS_OK;
}

static enum rs_err redirect_error(struct authz *a, struct sbx_resp *resp, const char *error,
                                  const char *why)
{
    const char *kv[] = {"error", error, "error_description", why, "state", a->state};

    sbx_oauth_copy(a->note.error, sizeof(a->note.error), error);
    return redirect(resp, a->redirect_uri, kv, 6);
}

/* ---- the endpoint */

/* Reads the parameters of a GET (query) or POST (form); false with *why for an error page. */
static bool read_params(struct authz *a, const struct sbx_req *req, const char **why)
{
    if (req->method == SBX_GET) {
        a->q = req->query;
        /* the copied pointers point into req->query's store: re-aim them at ours */
        for (int i = 0; i < a->q.n; i++) {
            a->q.key[i] = a->q.store + (req->query.key[i] - req->query.store);
            a->q.value[i] = a->q.store + (req->query.value[i] - req->query.store);
        }
    } else if (req->method != SBX_POST || !sbx_http_is_form(req) ||
               sbx_http_form(req, &a->q) != RS_OK) {
        *why = "use GET, or POST a form";
        return false;
    }
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (sbx_http_query_count(&a->q, params[i]) > 1) {
            *why = "a parameter is repeated";
            return false;
        }
    }
    a->response_type = sbx_http_query_get(&a->q, "response_type");
    a->client_id = sbx_http_query_get(&a->q, "client_id");
    a->redirect_uri = sbx_http_query_get(&a->q, "redirect_uri");
    a->state = sbx_http_query_get(&a->q, "state");
    a->scope = sbx_http_query_get(&a->q, "scope");
    a->challenge = sbx_http_query_get(&a->q, "code_challenge");
    a->method = sbx_http_query_get(&a->q, "code_challenge_method");
    a->decision = req->method == SBX_POST ? sbx_http_query_get(&a->q, "decision") : NULL;
    return true;
}

static void note_request(struct authz *a)
{
    sbx_oauth_copy(a->note.endpoint, sizeof(a->note.endpoint), "authorize");
    sbx_oauth_copy(a->note.client_id, sizeof(a->note.client_id), a->client_id);
    sbx_oauth_copy(a->note.redirect_uri, sizeof(a->note.redirect_uri), a->redirect_uri);
    sbx_oauth_copy(a->note.scope, sizeof(a->note.scope), a->scope);
    sbx_oauth_copy(a->note.decision, sizeof(a->note.decision), a->decision);
}

static enum rs_err decide(struct sbx_ctx *ctx, int provider, struct authz *a,
                          const struct sbx_req *req, struct sbx_resp *resp,
                          const char *provider_name)
{
    char code[SBX_OAUTH_TOKEN_LEN];
    const char *kv[4] = {"code", code, "state", a->state};

    if (!a->decision)
        return consent_page(a, resp, provider_name);
    if (strcmp(a->decision, "deny") == 0)
        return redirect_error(a, resp, "access_denied", "the user denied the request");
    if (strcmp(a->decision, "approve") != 0)
        return error_page(a, resp, provider_name, "decision must be approve or deny");
    sbx_oauth_code_issue(&ctx->oauth, provider, a->client_id, a->redirect_uri, a->challenge,
                         a->scope, req->now_us, code);
    return redirect(resp, a->redirect_uri, kv, 4);
}

enum rs_err sbx_authorize_handle(struct sbx_ctx *ctx, int provider, const char *provider_name,
                                 const struct sbx_req *req, struct sbx_resp *resp)
{
    struct authz *a = calloc(1, sizeof(*a));
    const char *why = NULL, *error;
    enum rs_err err;

    if (!a)
        return RS_ERR_NOMEM;
    if (!read_params(a, req, &why)) {
        note_request(a);
        err = error_page(a, resp, provider_name, why);
    } else if (note_request(a), !client_ok(a->client_id)) {
        err = error_page(a, resp, provider_name, "client_id is missing or malformed");
    } else if (!redirect_ok(a->redirect_uri)) {
        err = error_page(a, resp, provider_name,
                         "redirect_uri must be an absolute http or https URI without a fragment");
    } else if ((error = request_error(a, &why))) {
        err = redirect_error(a, resp, error, why);
    } else {
        err = decide(ctx, provider, a, req, resp, provider_name);
    }
    sbx_reqlog_oauth(&ctx->reqlog, req->log_id, &a->note);
    free(a);
    return err;
}
