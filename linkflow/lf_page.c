/*
 * HTML of the hosted connect pages: the compiled-in layout filled with one page's main part,
 * every dynamic value HTML-escaped. Scripts and styles are same-origin files (CSP 'self').
 */
#include "roster/lf_page.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "linkflow/lf_int.h"
#include "roster/lf_form.h"

#define CSP_HEAD "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
#define CSP_TAIL "; base-uri 'none'; frame-ancestors 'none'"

const char *const lf_page_headers[][2] = {
    {"Content-Security-Policy", CSP_HEAD "form-action 'self'" CSP_TAIL},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"X-Content-Type-Options", "nosniff"},
    {"Cross-Origin-Opener-Policy", "unsafe-none"}, /* the opener must stay reachable */
    {NULL, NULL},
};

enum rs_err lf_page_csp(const char *form_action, char *out, size_t outlen)
{
    static const char source_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-._~:/*[]";
    int n;

    /* a CSP source list must not be able to end the directive or add another */
    if (form_action && (!*form_action || form_action[strspn(form_action, source_chars)]))
        return RS_ERR_INVALID;
    n = snprintf(out, outlen, "%sform-action 'self'%s%s%s", CSP_HEAD, form_action ? " " : "",
                 form_action ? form_action : "", CSP_TAIL);
    return n < 0 || (size_t)n >= outlen ? RS_ERR_TOOBIG : RS_OK;
}

bool lf_page_asset(const char *name, const char **data, size_t *len, const char **content_type)
{
    const char *dot = strrchr(name, '.');

    static const char *const types[][2] = {{".css", "text/css; charset=utf-8"},
                                           {".js", "text/javascript; charset=utf-8"},
                                           {".svg", "image/svg+xml"}};
    const char *type = NULL;

    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i][0]) == 0)
            type = types[i][1];
    }
    if (!type)
        return false; /* the layout is not served on its own */
    for (const struct lf_asset *a = lf_assets; a->name; a++) {
        if (strcmp(a->name, name) == 0) {
            *data = (const char *)a->data;
            *len = a->len;
            *content_type = type;
            return true;
        }
    }
    return false;
}

static const char *layout(void)
{
    for (const struct lf_asset *a = lf_assets; a->name; a++) {
        if (strcmp(a->name, "layout.html") == 0)
            return (const char *)a->data;
    }
    return "<!DOCTYPE html><title>{{title}}</title>{{{main}}}";
}

enum rs_err lf_page_wrap(const char *title, const struct rs_buf *main_html, struct rs_buf *out)
{
    const char *tpl = layout(), *t = strstr(tpl, "{{title}}"), *m = strstr(tpl, "{{{main}}}");
    enum rs_err err;

    if (!t || !m || m < t)
        return RS_ERR_INTERNAL;
    err = rs_buf_append(out, tpl, (size_t)(t - tpl));
    if (err == RS_OK)
        err = lf_html_append(out, title);
    if (err == RS_OK)
        err = rs_buf_append(out, t + 9, (size_t)(m - t - 9));
    if (err == RS_OK && main_html->data)
        err = rs_buf_append(out, main_html->data, main_html->len);
    if (err == RS_OK)
        err = rs_buf_append_str(out, m + 10);
    return err;
}

enum rs_err lf_page_fmt(struct rs_buf *out, const char *fmt, const char *const *args, size_t n)
{
    enum rs_err err = RS_OK;
    size_t used = 0;

    for (const char *p = fmt; *p && err == RS_OK;) {
        const char *next = strstr(p, "%s");

        if (!next)
            return rs_buf_append_str(out, p);
        err = rs_buf_append(out, p, (size_t)(next - p));
        if (err == RS_OK && used < n) {
            const char *arg = args[used++];

            err = lf_html_append(out, arg ? arg : "");
        }
        p = next + 2;
    }
    return err;
}

unsigned lf_page_connect_ways(const struct prov_ops *ops)
{
    unsigned ways = 0;

    if (ops->nfields > 0 && ops->auth != PROV_AUTH_OAUTH2_CODE)
        ways |= LF_CONNECT_FORM;
    if (ops->oauth && ops->oauth->endpoint)
        ways |= LF_CONNECT_OAUTH;
    return ways;
}

enum lf_connect lf_page_connect_kind(const struct prov_ops *ops)
{
    unsigned ways = lf_page_connect_ways(ops);

    if (ways & LF_CONNECT_FORM)
        return LF_CONNECT_FORM;
    return ways & LF_CONNECT_OAUTH ? LF_CONNECT_OAUTH : LF_CONNECT_NONE;
}

static enum rs_err provider_item(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                                 struct rs_buf *out)
{
    unsigned ways = lf_page_connect_ways(ops);
    const char *key = ops->auth == PROV_AUTH_OAUTH2_CLIENT ? "API credentials" : "API key";
    const char *how = ways == (LF_CONNECT_FORM | LF_CONNECT_OAUTH) ? "Sign-in or API key"
                      : ways == LF_CONNECT_OAUTH                   ? "Sign-in"
                                                                   : key;
    const char *args[5] = {ops->name, ctx->token, ops->slug, ops->name, how};

    /* the provider's own page opens with its first way and offers the other one there */
    return lf_page_fmt(out,
                       "<li data-name=\"%s\"><a href=\"/link/%s/%s\">%s"
                       "<span class=\"how\">%s</span></a></li>\n",
                       args, 5);
}

static bool name_matches(const char *name, const char *query)
{
    size_t qlen = query ? strlen(query) : 0;

    if (qlen == 0)
        return true;
    for (const char *p = name; *p; p++) {
        if (strncasecmp(p, query, qlen) == 0)
            return true;
    }
    return false;
}

static enum rs_err picker_head(const struct lf_page_ctx *ctx, const char *query, struct rs_buf *out)
{
    const char *args[3] = {ctx->org_name, ctx->end_user_org_name, ctx->token};
    enum rs_err err =
        lf_page_fmt(out,
                    "<h1>Connect your HR system</h1>\n<p class=\"lead\">%s asks you to "
                    "connect the HR system of %s. Choose yours.</p>\n"
                    "<form class=\"search\" method=\"get\" action=\"/link/%s\" "
                    "role=\"search\">\n<div class=\"box\">\n",
                    args, 3);

    if (err == RS_OK)
        err = rs_buf_append_str(out, "<label for=\"provider-search\">Search</label>\n"
                                     "<input id=\"provider-search\" name=\"q\" type=\"search\" "
                                     "autocomplete=\"off\" aria-controls=\"providers\" value=\"");
    if (err == RS_OK)
        err = lf_html_append(out, query ? query : "");
    if (err == RS_OK)
        err = rs_buf_append_str(out, "\">\n</div>\n<button id=\"search-submit\" type=\"submit\">"
                                     "Search</button>\n</form>\n");
    return err;
}

enum rs_err lf_page_picker(const struct lf_page_ctx *ctx, const char *query, struct rs_buf *out)
{
    struct rs_buf body;
    size_t n, shown = 0;
    const struct prov_ops *const *all = prov_list(&n);
    enum rs_err err;

    rs_buf_init(&body, 256 * 1024);
    err = picker_head(ctx, query, &body);
    if (err == RS_OK)
        err = rs_buf_append_str(&body, "<ul id=\"providers\" class=\"providers\">\n");
    for (size_t i = 0; i < n && err == RS_OK; i++) {
        if (!lf_page_connect_ways(all[i]) || !name_matches(all[i]->name, query))
            continue;
        shown++;
        err = provider_item(ctx, all[i], &body);
    }
    if (err == RS_OK)
        err = rs_buf_appendf(&body,
                             "</ul>\n<p id=\"no-match\"%s>No system matches. Check the spelling, "
                             "or ask the app that sent this link which systems it supports.</p>\n"
                             "<p id=\"provider-count\" class=\"visually-hidden\" "
                             "aria-live=\"polite\"></p>\n",
                             shown ? " hidden" : "");
    if (err == RS_OK)
        err = lf_page_wrap("Connect your HR system", &body, out);
    rs_buf_cleanup(&body);
    return err;
}

/* The switch between a provider's two ways, the current one marked for screen readers too. */
static enum rs_err ways_nav(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                            enum lf_connect current, struct rs_buf *out)
{
    const char *oauth = current == LF_CONNECT_OAUTH ? " aria-current=\"page\"" : "";
    const char *form = current == LF_CONNECT_FORM ? " aria-current=\"page\"" : "";
    const char *args[8] = {ops->name, ctx->token, ops->slug, ops->name, ctx->token, ops->slug};
    enum rs_err err = lf_page_fmt(out,
                                  "<nav class=\"ways\" aria-label=\"How to connect %s\">\n"
                                  "<a href=\"/link/%s/%s/oauth\"",
                                  args, 3);

    if (err == RS_OK)
        err = rs_buf_append_str(out, oauth);
    if (err == RS_OK)
        err = lf_page_fmt(out, ">Sign in with %s</a>\n<a href=\"/link/%s/%s\"", args + 3, 3);
    if (err == RS_OK)
        err = rs_buf_append_str(out, form);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ">Use an API key</a>\n</nav>\n");
    return err;
}

enum rs_err lf_page_head(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                         enum lf_connect current, struct rs_buf *out)
{
    const char *args[2] = {ctx->token, ops->name};
    enum rs_err err = RS_OK;

    if (!ctx->preselected)
        err = lf_page_fmt(out, "<p class=\"back\"><a href=\"/link/%s\">All HR systems</a></p>\n",
                          args, 1);
    if (err == RS_OK)
        err = lf_page_fmt(out, "<h1>Connect %s</h1>\n", args + 1, 1);
    if (err == RS_OK && lf_page_connect_ways(ops) == (LF_CONNECT_FORM | LF_CONNECT_OAUTH))
        err = ways_nav(ctx, ops, current, out);
    return err;
}

static enum rs_err form_head(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                             const char *error, struct rs_buf *out)
{
    const char *args[2] = {ops->name, error ? error : ""};
    enum rs_err err = lf_page_head(ctx, ops, LF_CONNECT_FORM, out);

    if (err == RS_OK)
        err = lf_page_fmt(out,
                          "<p class=\"lead\">Roster checks these details with %s before it saves "
                          "anything.</p>\n"
                          "<div id=\"form-error\" class=\"error\" role=\"alert\">%s</div>\n",
                          args, 2);
    return err;
}

enum rs_err lf_page_form(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                         const json_t *values, const char *error, int bad_field,
                         const char *field_error, struct rs_buf *out)
{
    const char *args[4] = {ctx->token, ops->slug, ctx->form_token, ops->name};
    struct rs_buf body;
    char title[96];
    enum rs_err err;

    rs_buf_init(&body, 256 * 1024);
    err = form_head(ctx, ops, error, &body);
    if (err == RS_OK)
        err = lf_page_fmt(&body,
                          "<form id=\"connect-form\" method=\"post\" action=\"/link/%s/%s\">\n"
                          "<input type=\"hidden\" name=\"form_token\" value=\"%s\">\n",
                          args, 3);
    if (err == RS_OK)
        err = lf_form_fields(ops, values, bad_field, field_error, &body);
    if (err == RS_OK)
        err = lf_page_fmt(&body,
                          "<button class=\"connect\" type=\"submit\">Connect %s</button>\n"
                          "<p id=\"form-status\" class=\"status\" aria-live=\"polite\"></p>\n"
                          "</form>\n",
                          args + 3, 1);
    snprintf(title, sizeof(title), "Connect %s", ops->name);
    if (err == RS_OK)
        err = lf_page_wrap(title, &body, out);
    rs_buf_cleanup(&body);
    return err;
}

enum rs_err lf_page_success(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                            const char *public_token, const char *opener_origin,
                            const char *return_url, struct rs_buf *out)
{
    const char *args[6] = {ops->name,
                           ops->name,
                           ctx->org_name,
                           public_token,
                           opener_origin ? opener_origin : "",
                           return_url ? return_url : ""};
    const char *next[2] = {return_url, ctx->org_name};
    struct rs_buf body;
    char title[96];
    enum rs_err err;

    rs_buf_init(&body, 64 * 1024);
    err = lf_page_fmt(&body,
                      "<h1 class=\"ok\">%s is connected</h1>\n<p>Roster has started to read "
                      "employee data from %s for %s. You can close this window.</p>\n"
                      "<div id=\"roster-result\" data-public-token=\"%s\" "
                      "data-opener-origin=\"%s\" data-return-url=\"%s\"></div>\n",
                      args, 6);
    if (err == RS_OK && return_url)
        err = lf_page_fmt(&body, "<p><a href=\"%s\">Continue to %s</a></p>\n", next, 2);
    snprintf(title, sizeof(title), "%s is connected", ops->name);
    if (err == RS_OK)
        err = lf_page_wrap(title, &body, out);
    rs_buf_cleanup(&body);
    return err;
}

const char *lf_page_problem_name(enum lf_page_problem problem)
{
    static const char *const names[] = {
        [LF_PAGE_EXPIRED] = "expired",         [LF_PAGE_USED] = "used",
        [LF_PAGE_REVOKED] = "revoked",         [LF_PAGE_UNKNOWN] = "unknown",
        [LF_PAGE_NO_PROVIDER] = "no-provider", [LF_PAGE_BROKEN] = "error",
    };

    return (size_t)problem < sizeof(names) / sizeof(names[0]) ? names[problem] : "error";
}

enum rs_err lf_page_problem(enum lf_page_problem problem, const char *org_name, int *status,
                            struct rs_buf *out)
{
    static const struct {
        int status;
        const char *title, *text;
    } pages[] = {
        [LF_PAGE_EXPIRED] = {200, "This link has expired",
                             "Links to connect an HR system work for a limited time. Ask %s for "
                             "a new link from the app that sent it."},
        [LF_PAGE_USED] = {200, "This link was already used",
                          "A connection was completed with this link, and each link works "
                          "once. To connect again or to change the credentials, ask %s for a "
                          "new link from the app that sent it."},
        [LF_PAGE_REVOKED] = {200, "This link was cancelled",
                             "This link no longer works. Ask %s for a new link from the app "
                             "that sent it."},
        [LF_PAGE_UNKNOWN] = {200, "This link is not valid",
                             "Check that the whole address was copied. If it was, ask %s for a "
                             "new link from the app that sent it."},
        [LF_PAGE_NO_PROVIDER] = {200, "This HR system cannot be connected here",
                                 "Go back to the list of HR systems, or ask %s which systems "
                                 "the app supports."},
        [LF_PAGE_BROKEN] = {500, "Something went wrong",
                            "Roster could not show this page. Try again in a moment; if it "
                            "keeps happening, tell %s."},
    };
    const char *args[2] = {pages[problem].title, org_name ? org_name : "the person who sent it"};
    struct rs_buf body;
    enum rs_err err;

    rs_buf_init(&body, 16 * 1024);
    *status = pages[problem].status;
    err = lf_page_fmt(&body, "<h1>%s</h1>\n", args, 1);
    if (err == RS_OK)
        err = rs_buf_append_str(&body, "<p>");
    if (err == RS_OK)
        err = lf_page_fmt(&body, pages[problem].text, args + 1, 1);
    if (err == RS_OK)
        err = rs_buf_append_str(&body, "</p>\n");
    if (err == RS_OK)
        err = lf_page_wrap(pages[problem].title, &body, out);
    rs_buf_cleanup(&body);
    return err;
}
