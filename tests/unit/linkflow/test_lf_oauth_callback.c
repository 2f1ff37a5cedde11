/* Unit tests for linkflow/lf_oauth_callback.c: the provider's redirect back read and refused. */
#include "roster/lf_oauth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define STATE "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF" /* 43 base64url characters */

static void expect_invalid(const char *query)
{
    struct lf_oauth_callback cb;

    if (lf_oauth_callback_parse(query, &cb) != RS_ERR_INVALID)
        fail_msg("accepted: %s", query ? query : "(null)");
    /* nothing of a refused callback is left for a caller to use */
    assert_string_equal(cb.state, "");
    assert_string_equal(cb.code, "");
    assert_string_equal(cb.error, "");
}

static void test_code(void **state)
{
    struct lf_oauth_callback cb;

    (void)state;
    assert_int_equal(strlen(STATE), 43);
    assert_int_equal(lf_oauth_callback_parse("code=abc%2Fdef+x&state=" STATE, &cb), RS_OK);
    assert_string_equal(cb.state, STATE);
    assert_string_equal(cb.code, "abc/def x"); /* form-decoded */
    assert_string_equal(cb.error, "");
    lf_oauth_callback_cleanup(&cb);
    assert_string_equal(cb.code, "");
    /* other parameters are ignored, even ones that could not be decoded */
    assert_int_equal(lf_oauth_callback_parse("iss=https%3A%2F%2Fa.example&state=" STATE
                                             "&code=c&session_state=%zz&&",
                                             &cb),
                     RS_OK);
    assert_string_equal(cb.code, "c");
}

static void test_error(void **state)
{
    struct lf_oauth_callback cb;

    (void)state;
    assert_int_equal(lf_oauth_callback_parse("error=access_denied&error_description=The+user+"
                                             "said+%22no%22&state=" STATE,
                                             &cb),
                     RS_OK);
    assert_string_equal(cb.error, "access_denied");
    assert_string_equal(cb.code, "");
    assert_int_equal(lf_oauth_callback_parse("state=" STATE "&error=invalid_scope", &cb), RS_OK);
    assert_string_equal(cb.error, "invalid_scope");
}

static void test_refused(void **state)
{
    char longer[LF_OAUTH_CODE_MAX + 64];

    (void)state;
    expect_invalid(NULL);
    expect_invalid("");
    expect_invalid("code=abc");                               /* no state */
    expect_invalid("state=" STATE);                           /* neither code nor error */
    expect_invalid("state=" STATE "&code=a&error=x");         /* both */
    expect_invalid("state=" STATE "&state=" STATE "&code=a"); /* repeated (RFC 6749 §3.1) */
    expect_invalid("state=" STATE "&code=a&code=b");
    expect_invalid("state=short&code=a");      /* not the shape of ours */
    expect_invalid("state=" STATE "A&code=a"); /* 44 characters */
    expect_invalid("state=" STATE "%2B&code=a");
    expect_invalid("state=" STATE "&code=");       /* empty */
    expect_invalid("state=" STATE "&code=a%0Ab");  /* a control character */
    expect_invalid("state=" STATE "&code=a%00b");  /* a NUL */
    expect_invalid("state=" STATE "&code=%C3%A9"); /* outside VSCHAR */
    expect_invalid("state=" STATE "&error=a%22b"); /* '"' is not in NQSCHAR */
    expect_invalid("state=" STATE "&error=a%5Cb"); /* nor '\' */
    expect_invalid("state=" STATE "&code=%4");     /* malformed escape */
    expect_invalid("state=" STATE "&code");        /* no '=' */
    snprintf(longer, sizeof(longer), "state=" STATE "&code=");
    memset(longer + strlen(longer), 'x', LF_OAUTH_CODE_MAX + 1);
    longer[sizeof(longer) - 1] = '\0';
    expect_invalid(longer); /* longer than LF_OAUTH_CODE_MAX */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
