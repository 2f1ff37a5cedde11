/* Unit tests for linkflow/lf_page.c: the pages' HTML (escaping, accessibility hooks, no inline
   script or style), the picker's filter, the problem pages, assets and security headers. */
#include "roster/lf_page.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const struct lf_page_ctx ctx = {
    .token = "lt_TOKEN",
    .org_name = "App <Inc>",
    .end_user_org_name = "Acme & Co",
    .form_token = "FORMTOKEN",
};

static void expect_no_inline_code(const char *html)
{
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "style="));
    assert_null(strstr(html, "<style"));
    assert_null(strstr(html, "onclick"));
    assert_null(strstr(html, "http://")); /* no external asset */
    assert_null(strstr(html, "https://"));
}

static void test_picker(void **state)
{
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 1 << 20);
    assert_int_equal(lf_page_picker(&ctx, NULL, &out), RS_OK);
    assert_non_null(strstr(out.data, "<!DOCTYPE html>"));
    assert_non_null(strstr(out.data, "App &lt;Inc&gt; asks you to connect the HR system of "
                                     "Acme &amp; Co"));
    assert_non_null(strstr(out.data, "<label for=\"provider-search\">"));
    assert_non_null(strstr(out.data, "href=\"/link/lt_TOKEN/bamboohr\""));
    assert_non_null(strstr(out.data, "href=\"/link/lt_TOKEN/personio\""));
    assert_non_null(strstr(out.data, "aria-live=\"polite\""));
    assert_non_null(strstr(out.data, "<p id=\"no-match\" hidden>"));
    expect_no_inline_code(out.data);
    rs_buf_reset(&out);
    /* the server-side filter (no script): case-insensitive substring */
    assert_int_equal(lf_page_picker(&ctx, "BAMB", &out), RS_OK);
    assert_non_null(strstr(out.data, "/bamboohr\""));
    assert_null(strstr(out.data, "/personio\""));
    assert_non_null(strstr(out.data, "value=\"BAMB\""));
    rs_buf_reset(&out);
    assert_int_equal(lf_page_picker(&ctx, "\"><script>", &out), RS_OK);
    assert_null(strstr(out.data, "<script>"));
    assert_non_null(strstr(out.data, "<p id=\"no-match\">")); /* shown: nothing matches */
    rs_buf_cleanup(&out);
}

/* Which providers the pages offer, and how the picker says so. */
static void test_connect_ways(void **state)
{
    struct rs_buf out;

    (void)state;
    assert_int_equal(lf_page_connect_ways(prov_find("bamboohr")),
                     LF_CONNECT_FORM | LF_CONNECT_OAUTH);
    assert_int_equal(lf_page_connect_kind(prov_find("bamboohr")), LF_CONNECT_FORM);
    assert_int_equal(lf_page_connect_ways(prov_find("factorial")), LF_CONNECT_OAUTH);
    assert_int_equal(lf_page_connect_kind(prov_find("factorial")), LF_CONNECT_OAUTH);
    assert_int_equal(lf_page_connect_ways(prov_find("personio")), LF_CONNECT_FORM);
    rs_buf_init(&out, 1 << 20);
    assert_int_equal(lf_page_picker(&ctx, NULL, &out), RS_OK);
    assert_non_null(strstr(out.data, "href=\"/link/lt_TOKEN/factorial\">Factorial<span "
                                     "class=\"how\">Sign-in</span>"));
    assert_non_null(strstr(out.data, "href=\"/link/lt_TOKEN/bamboohr\">BambooHR<span "
                                     "class=\"how\">Sign-in or API key</span>"));
    assert_non_null(strstr(out.data, ">Personio<span class=\"how\">API credentials</span>"));
    rs_buf_reset(&out);
    /* BambooHR's API-key form offers the sign-in beside it, the current way marked */
    assert_int_equal(lf_page_form(&ctx, prov_find("bamboohr"), NULL, NULL, -1, NULL, &out), RS_OK);
    assert_non_null(strstr(out.data, "<nav class=\"ways\" aria-label=\"How to connect BambooHR\">\n"
                                     "<a href=\"/link/lt_TOKEN/bamboohr/oauth\">Sign in with "
                                     "BambooHR</a>\n<a href=\"/link/lt_TOKEN/bamboohr\" "
                                     "aria-current=\"page\">Use an API key</a>\n</nav>"));
    rs_buf_reset(&out);
    /* a provider with one way has no switch */
    assert_int_equal(lf_page_form(&ctx, prov_find("personio"), NULL, NULL, -1, NULL, &out), RS_OK);
    assert_null(strstr(out.data, "class=\"ways\""));
    rs_buf_cleanup(&out);
}

static void test_csp(void **state)
{
    char csp[512];

    (void)state;
    assert_int_equal(lf_page_csp(NULL, csp, sizeof(csp)), RS_OK);
    assert_string_equal(csp, lf_page_headers[0][1]);
    assert_int_equal(lf_page_csp("https://*.bamboohr.com", csp, sizeof(csp)), RS_OK);
    assert_non_null(strstr(csp, "; form-action 'self' https://*.bamboohr.com; "));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_int_equal(lf_page_csp("http://127.0.0.1:8090", csp, sizeof(csp)), RS_OK);
    /* nothing that ends the directive or adds a keyword */
    assert_int_equal(lf_page_csp("https://a.example; script-src *", csp, sizeof(csp)),
                     RS_ERR_INVALID);
    assert_int_equal(lf_page_csp("'unsafe-inline'", csp, sizeof(csp)), RS_ERR_INVALID);
    assert_int_equal(lf_page_csp("", csp, sizeof(csp)), RS_ERR_INVALID);
    assert_int_equal(lf_page_csp("https://a.example", csp, 32), RS_ERR_TOOBIG);
}

static void test_form_and_success(void **state)
{
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 1 << 20);
    assert_int_equal(lf_page_form(&ctx, prov_find("bamboohr"), NULL, "Wrong <key>", -1, NULL, &out),
                     RS_OK);
    assert_non_null(strstr(out.data, "<form id=\"connect-form\" method=\"post\" "
                                     "action=\"/link/lt_TOKEN/bamboohr\">"));
    assert_non_null(strstr(out.data, "name=\"form_token\" value=\"FORMTOKEN\""));
    assert_non_null(strstr(out.data, "role=\"alert\">Wrong &lt;key&gt;</div>"));
    assert_non_null(strstr(out.data, "<button class=\"connect\" type=\"submit\">"));
    assert_non_null(strstr(out.data, "All HR systems"));
    expect_no_inline_code(out.data);
    rs_buf_reset(&out);
    assert_int_equal(lf_page_success(&ctx, prov_find("bamboohr"), "pt_X", "https://app.example",
                                     "https://app.example/done?a=1&public_token=pt_X", &out),
                     RS_OK);
    assert_non_null(strstr(out.data, "data-public-token=\"pt_X\""));
    assert_non_null(strstr(out.data, "data-opener-origin=\"https://app.example\""));
    assert_non_null(strstr(out.data, "data-return-url=\"https://app.example/done?a=1&amp;"
                                     "public_token=pt_X\""));
    rs_buf_cleanup(&out);
}

static void test_problems(void **state)
{
    static const struct {
        enum lf_page_problem problem;
        int status;
        const char *text;
    } cases[] = {
        {LF_PAGE_EXPIRED, 200, "This link has expired"},
        {LF_PAGE_USED, 200, "already used"},
        {LF_PAGE_REVOKED, 200, "cancelled"},
        {LF_PAGE_UNKNOWN, 200, "not valid"},
        {LF_PAGE_NO_PROVIDER, 200, "cannot be connected here"},
        {LF_PAGE_BROKEN, 500, "Something went wrong"},
    };
    struct rs_buf out;
    int status = 0;

    (void)state;
    rs_buf_init(&out, 1 << 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rs_buf_reset(&out);
        assert_int_equal(lf_page_problem(cases[i].problem, "App & Co", &status, &out), RS_OK);
        assert_int_equal(status, cases[i].status);
        assert_non_null(strstr(out.data, cases[i].text));
        assert_non_null(strstr(out.data, "App &amp; Co"));
    }
    assert_string_equal(lf_page_problem_name(LF_PAGE_EXPIRED), "expired");
    assert_string_equal(lf_page_problem_name(LF_PAGE_NO_PROVIDER), "no-provider");
    rs_buf_reset(&out);
    assert_int_equal(lf_page_problem(LF_PAGE_EXPIRED, NULL, &status, &out), RS_OK);
    assert_non_null(strstr(out.data, "new link from the app that sent it"));
    rs_buf_cleanup(&out);
}

static void test_assets_and_headers(void **state)
{
    const char *data = NULL, *type = NULL, *csp = NULL;
    size_t len = 0;

    (void)state;
    assert_true(lf_page_asset("link.css", &data, &len, &type));
    assert_string_equal(type, "text/css; charset=utf-8");
    assert_true(len > 100 && strlen(data) == len);
    assert_true(lf_page_asset("link.js", &data, &len, &type));
    assert_non_null(strstr(data, "roster-link-success"));
    assert_false(lf_page_asset("layout.html", &data, &len, &type));
    assert_false(lf_page_asset("../etc/passwd", &data, &len, &type));
    for (size_t i = 0; lf_page_headers[i][0]; i++) {
        if (strcmp(lf_page_headers[i][0], "Content-Security-Policy") == 0)
            csp = lf_page_headers[i][1];
    }
    assert_non_null(csp);
    assert_non_null(strstr(csp, "script-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_picker),   cmocka_unit_test(test_connect_ways),
        cmocka_unit_test(test_csp),      cmocka_unit_test(test_form_and_success),
        cmocka_unit_test(test_problems), cmocka_unit_test(test_assets_and_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
