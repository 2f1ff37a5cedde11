/* Unit tests for linkflow/lf_page_oauth.c: the sign-in page and the pages of a sign-in that did
   not connect (texts, escaping, links back, no inline code). */
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

static void expect_clean(const char *html)
{
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "style="));
    assert_null(strstr(html, "App <Inc>")); /* escaped everywhere */
}

static void test_sign_in_page(void **state)
{
    struct rs_buf out;
    json_t *values = json_pack("{s:s}", "subdomain", "ac\"me");

    (void)state;
    rs_buf_init(&out, 1 << 20);
    assert_int_equal(lf_page_oauth(&ctx, prov_find("factorial"), NULL, NULL, -1, NULL, &out),
                     RS_OK);
    assert_non_null(strstr(out.data, "<h1>Connect Factorial</h1>"));
    assert_non_null(strstr(out.data, "You will sign in to Factorial and approve read access for "
                                     "App &lt;Inc&gt;."));
    assert_non_null(strstr(out.data, "<form id=\"connect-form\" method=\"post\" "
                                     "action=\"/link/lt_TOKEN/factorial/oauth\" "
                                     "data-status=\"Opening Factorial…\">"));
    assert_non_null(strstr(out.data, "name=\"form_token\" value=\"FORMTOKEN\""));
    assert_non_null(strstr(out.data, "Continue to Factorial</button>"));
    assert_non_null(strstr(out.data, "All HR systems"));
    assert_null(strstr(out.data, "<input id=\"f-")); /* Factorial asks nothing first */
    assert_null(strstr(out.data, "class=\"ways\"")); /* and has one way only */
    expect_clean(out.data);
    rs_buf_reset(&out);
    /* BambooHR: the subdomain first (kept, escaped), the field in error, the switch */
    assert_int_equal(lf_page_oauth(&ctx, prov_find("bamboohr"), values, "Check <this>", 0,
                                   "Bad subdomain.", &out),
                     RS_OK);
    assert_non_null(strstr(out.data, "name=\"f_subdomain\""));
    assert_null(strstr(out.data, "f_api_key"));
    assert_non_null(strstr(out.data, "value=\"ac&quot;me\""));
    assert_non_null(strstr(out.data, "aria-invalid=\"true\""));
    assert_non_null(strstr(out.data, "role=\"alert\">Check &lt;this&gt;</div>"));
    assert_non_null(strstr(out.data, "<a href=\"/link/lt_TOKEN/bamboohr/oauth\" "
                                     "aria-current=\"page\">Sign in with BambooHR</a>"));
    expect_clean(out.data);
    rs_buf_cleanup(&out);
    json_decref(values);
}

static void test_problem_pages(void **state)
{
    static const struct {
        enum lf_page_oauth_problem problem;
        const char *name, *text;
        bool retry;
    } cases[] = {
        {LF_PAGE_OAUTH_NOT_SET_UP, "oauth-not-set-up",
         "App &lt;Inc&gt; has not set up sign-in with Factorial yet", false},
        {LF_PAGE_OAUTH_DECLINED, "oauth-declined", "Access to Factorial was declined", true},
        {LF_PAGE_OAUTH_PROVIDER_ERROR, "oauth-provider-error",
         "Factorial answered with the error \u201cinvalid&lt;scope\u201d", true},
        {LF_PAGE_OAUTH_REFUSED, "oauth-refused", "Factorial did not accept the sign-in", true},
        {LF_PAGE_OAUTH_UNAVAILABLE, "oauth-unavailable", "Factorial did not answer", true},
    };
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 1 << 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rs_buf_reset(&out);
        assert_int_equal(lf_page_oauth_problem(cases[i].problem, &ctx, prov_find("factorial"),
                                               "invalid<scope", &out),
                         RS_OK);
        assert_string_equal(lf_page_oauth_problem_name(cases[i].problem), cases[i].name);
        if (!strstr(out.data, cases[i].text))
            fail_msg("%s lacks \"%s\": %s", cases[i].name, cases[i].text, out.data);
        assert_int_equal(strstr(out.data, "href=\"/link/lt_TOKEN/factorial/oauth\">Try again") !=
                             NULL,
                         cases[i].retry);
        assert_non_null(strstr(out.data, "<a href=\"/link/lt_TOKEN\">All HR systems</a>"));
        expect_clean(out.data);
    }
    /* not set up, for a provider that has an API key too: that way is offered instead */
    rs_buf_reset(&out);
    assert_int_equal(
        lf_page_oauth_problem(LF_PAGE_OAUTH_NOT_SET_UP, &ctx, prov_find("bamboohr"), NULL, &out),
        RS_OK);
    assert_non_null(strstr(out.data, "<a href=\"/link/lt_TOKEN/bamboohr\">Connect with an API key "
                                     "instead</a>"));
    /* an unknown state: no session, so no links at all */
    rs_buf_reset(&out);
    assert_int_equal(lf_page_oauth_problem(LF_PAGE_OAUTH_BAD_STATE, NULL, NULL, NULL, &out), RS_OK);
    assert_non_null(strstr(out.data, "This sign-in did not start here or has expired"));
    assert_non_null(strstr(out.data, "Open your link again"));
    assert_null(strstr(out.data, "href=\"/link/lt_"));
    /* a preselected link goes back to its start, not to a picker */
    {
        struct lf_page_ctx one = ctx;

        one.preselected = true;
        rs_buf_reset(&out);
        assert_int_equal(
            lf_page_oauth_problem(LF_PAGE_OAUTH_DECLINED, &one, prov_find("factorial"), NULL, &out),
            RS_OK);
        assert_non_null(strstr(out.data, "<a href=\"/link/lt_TOKEN\">Back to the start</a>"));
    }
    rs_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_in_page),
        cmocka_unit_test(test_problem_pages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
