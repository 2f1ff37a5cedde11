/*
 * The hosted pages of an OAuth sign-in: the page that starts it (the fields asked first, a
 * "Continue to <Provider>" button) and the pages for the ways it can end other than connected.
 */
#include "roster/lf_page.h"

#include <stdio.h>
#include <string.h>

#include "linkflow/lf_int.h"
#include "roster/lf_form.h"

enum rs_err lf_page_oauth(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                          const json_t *values, const char *error, int bad_field,
                          const char *field_error, struct rs_buf *out)
{
    const char *args[8] = {ops->name,  ctx->org_name, ops->name, error ? error : "",
                           ctx->token, ops->slug,     ops->name, ctx->form_token};
    struct rs_buf body;
    char title[96];
    enum rs_err err;

    rs_buf_init(&body, 256 * 1024);
    err = lf_page_head(ctx, ops, LF_CONNECT_OAUTH, &body);
    if (err == RS_OK)
        err = lf_page_fmt(&body,
                          "<p class=\"lead\">You will sign in to %s and approve read access for "
                          "%s. Roster never sees your %s password.</p>\n"
                          "<div id=\"form-error\" class=\"error\" role=\"alert\">%s</div>\n"
                          "<form id=\"connect-form\" method=\"post\" action=\"/link/%s/%s/oauth\" "
                          "data-status=\"Opening %s…\">\n"
                          "<input type=\"hidden\" name=\"form_token\" value=\"%s\">\n",
                          args, 8);
    if (err == RS_OK)
        err = lf_form_oauth_fields(ops, values, bad_field, field_error, &body);
    if (err == RS_OK)
        err = lf_page_fmt(&body,
                          "<button class=\"connect\" type=\"submit\">Continue to %s</button>\n"
                          "<p id=\"form-status\" class=\"status\" aria-live=\"polite\"></p>\n"
                          "</form>\n",
                          args + 6, 1);
    snprintf(title, sizeof(title), "Connect %s", ops->name);
    if (err == RS_OK)
        err = lf_page_wrap(title, &body, out);
    rs_buf_cleanup(&body);
    return err;
}

/* One problem page: its name, title and text ("%s" filled in the order of `fill`: P the
   provider, O the organization, D the detail) and which links it offers. */
struct oauth_problem_page {
    const char *name, *title, *text, *fill;
    bool retry; /* "Try again": the sign-in page */
};

static const struct oauth_problem_page problem_pages[] = {
    [LF_PAGE_OAUTH_NOT_SET_UP] = {"oauth-not-set-up", "%s is not set up yet",
                                  "%s has not set up sign-in with %s yet, so it cannot be "
                                  "connected from here. Tell %s (the app that sent this link) "
                                  "that its %s connection needs to be set up first.",
                                  "OPOP", false},
    [LF_PAGE_OAUTH_BAD_STATE] = {"oauth-bad-state",
                                 "This sign-in did not start here or has expired",
                                 "A sign-in has to be finished within 10 minutes of starting it, "
                                 "and it works once. Open your link again (from the e-mail or "
                                 "the app that sent it) and start the sign-in once more.",
                                 "", false},
    [LF_PAGE_OAUTH_DECLINED] = {"oauth-declined", "Access to %s was declined",
                                "You chose not to give %s access to %s, so nothing was "
                                "connected. To connect %s, try again and approve the access it "
                                "asks for.",
                                "OPP", true},
    [LF_PAGE_OAUTH_PROVIDER_ERROR] = {"oauth-provider-error", "%s could not complete the sign-in",
                                      "%s answered with the error \u201c%s\u201d, so nothing was "
                                      "connected. Try again; if it happens again, tell %s: its "
                                      "%s setup may need a change.",
                                      "PDOP", true},
    [LF_PAGE_OAUTH_REFUSED] = {"oauth-refused", "%s did not accept the sign-in",
                               "%s refused to turn the approval into access (it may have taken "
                               "too long, or been used already), so nothing was saved. Start "
                               "the sign-in again; if it keeps happening, tell %s: its %s "
                               "setup may need a change.",
                               "POP", true},
    [LF_PAGE_OAUTH_UNAVAILABLE] = {"oauth-unavailable", "%s did not answer",
                                   "Roster could not reach %s to finish the sign-in: it may be "
                                   "down or slow. Nothing was saved. Try again in a few minutes.",
                                   "P", true},
};

const char *lf_page_oauth_problem_name(enum lf_page_oauth_problem problem)
{
    return (size_t)problem < sizeof(problem_pages) / sizeof(problem_pages[0])
               ? problem_pages[problem].name
               : "error";
}

/* The links under the text: try again, the API-key form instead, back to the picker. */
static enum rs_err problem_links(const struct oauth_problem_page *page,
                                 const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                                 struct rs_buf *out)
{
    const char *args[3] = {ctx->token, ops->slug, ctx->token};
    bool key_instead = !page->retry && (lf_page_connect_ways(ops) & LF_CONNECT_FORM);
    enum rs_err err = rs_buf_append_str(out, "<ul class=\"next\">\n");

    if (err == RS_OK && page->retry)
        err = lf_page_fmt(out, "<li><a href=\"/link/%s/%s/oauth\">Try again</a></li>\n", args, 2);
    if (err == RS_OK && key_instead)
        err = lf_page_fmt(
            out, "<li><a href=\"/link/%s/%s\">Connect with an API key instead</a></li>\n", args, 2);
    if (err == RS_OK)
        err = lf_page_fmt(out,
                          ctx->preselected ? "<li><a href=\"/link/%s\">Back to the start</a></li>\n"
                                           : "<li><a href=\"/link/%s\">All HR systems</a></li>\n",
                          args + 2, 1);
    return err == RS_OK ? rs_buf_append_str(out, "</ul>\n") : err;
}

/* A title with its one "%s" replaced by the provider's name (plain text: escaped later). */
static void plain_title(const char *tpl, const char *provider, char *out, size_t outlen)
{
    const char *at = strstr(tpl, "%s");

    if (!at)
        snprintf(out, outlen, "%s", tpl);
    else
        snprintf(out, outlen, "%.*s%s%s", (int)(at - tpl), tpl, provider, at + 2);
}

enum rs_err lf_page_oauth_problem(enum lf_page_oauth_problem problem, const struct lf_page_ctx *ctx,
                                  const struct prov_ops *ops, const char *detail,
                                  struct rs_buf *out)
{
    const struct oauth_problem_page *page = &problem_pages[problem];
    const char *provider = ops ? ops->name : "the HR system";
    const char *org = ctx && ctx->org_name ? ctx->org_name : "the app";
    const char *fill[8] = {NULL};
    struct rs_buf body;
    char title[160];
    size_t n = 0;
    enum rs_err err;

    for (const char *f = page->fill; *f && n < 8; f++)
        fill[n++] = *f == 'P' ? provider : *f == 'O' ? org : detail ? detail : "";
    plain_title(page->title, provider, title, sizeof(title));
    rs_buf_init(&body, 64 * 1024);
    err = lf_page_fmt(&body, "<h1>%s</h1>\n<p>", (const char *[]){title}, 1);
    if (err == RS_OK)
        err = lf_page_fmt(&body, page->text, fill, n);
    if (err == RS_OK)
        err = rs_buf_append_str(&body, "</p>\n");
    /* without a session (an unknown state) there is nowhere to go back to */
    if (err == RS_OK && ctx && ctx->token && ops)
        err = problem_links(page, ctx, ops, &body);
    if (err == RS_OK)
        err = lf_page_wrap(title, &body, out);
    rs_buf_cleanup(&body);
    return err;
}
