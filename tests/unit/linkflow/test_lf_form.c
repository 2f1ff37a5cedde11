/* Unit tests for linkflow/lf_form.c: inputs generated from prov_field, POSIX patterns as HTML
   pattern attributes, and the posted form read back and checked. */
#include "roster/lf_form.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const struct prov_field fields[] = {
    {"subdomain", "Company subdomain", "Before .example.com <in your address>",
     "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", false},
    {"api_key", "API key", "Settings > API", "^[^[:space:]]{6,200}$", true},
};
static const struct prov_ops ops = {
    .slug = "demo", .name = "Demo HR", .auth = PROV_AUTH_BASIC, .fields = fields, .nfields = 2};

static void expect_pattern(const char *posix, const char *want)
{
    char out[256];

    if (!want) {
        assert_false(lf_form_pattern(posix, out, sizeof(out)));
        return;
    }
    assert_true(lf_form_pattern(posix, out, sizeof(out)));
    assert_string_equal(out, want);
}

static void test_pattern(void **state)
{
    (void)state;
    /* a literal "-" at the end of a class is escaped (required with the v flag) */
    expect_pattern("^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", "^[A-Za-z0-9][A-Za-z0-9\\-]{0,62}$");
    expect_pattern("^[^[:space:]]{6,200}$", "^[^\\s]{6,200}$");
    expect_pattern("^[[:alnum:]_.]+$", "^[A-Za-z0-9_\\.]+$");
    expect_pattern("^[-a]$", "^[\\-a]$");
    expect_pattern("^[]a]$", "^[\\]a]$"); /* "]" first is a literal in POSIX */
    expect_pattern("^[a/|(]$", "^[a\\/\\|\\(]$");
    expect_pattern("^a\\.b$", "^a\\.b$");
    expect_pattern("^(ab|cd){2}$", "^(ab|cd){2}$");
    expect_pattern("^[[:punct:]]$", NULL); /* no translation: the server alone checks */
    expect_pattern("^[a&&b]$", NULL);      /* reserved in a v-mode class */
    expect_pattern("^[abc", NULL);
    expect_pattern(NULL, NULL);
}

static void test_fields_html(void **state)
{
    struct rs_buf out;
    json_t *values = json_pack("{s:s, s:s}", "subdomain", "ac\"me", "api_key", "secret-value");

    (void)state;
    rs_buf_init(&out, 1 << 16);
    assert_int_equal(lf_form_fields(&ops, values, 1, "Enter the API key.", &out), RS_OK);
    /* a label for every input, the help text, the pattern, the kinds */
    assert_non_null(strstr(out.data, "<label for=\"f-subdomain\">Company subdomain</label>"));
    assert_non_null(
        strstr(out.data, "<input id=\"f-subdomain\" name=\"f_subdomain\" type=\"text\""));
    assert_non_null(strstr(out.data, "<label for=\"f-api_key\">API key</label>"));
    assert_non_null(strstr(out.data, "name=\"f_api_key\" type=\"password\" required"));
    assert_non_null(strstr(out.data, "pattern=\"^[A-Za-z0-9][A-Za-z0-9\\-]{0,62}$\""));
    assert_non_null(strstr(out.data, "pattern=\"^[^\\s]{6,200}$\""));
    assert_non_null(strstr(out.data, "aria-describedby=\"h-subdomain\""));
    assert_non_null(strstr(out.data, "Before .example.com &lt;in your address&gt;"));
    assert_non_null(strstr(out.data, "Settings &gt; API"));
    /* non-secret values come back escaped; secrets never */
    assert_non_null(strstr(out.data, "value=\"ac&quot;me\""));
    assert_null(strstr(out.data, "secret-value"));
    /* the field in error */
    assert_non_null(
        strstr(out.data, "aria-describedby=\"h-api_key e-field\" aria-invalid=\"true\""));
    assert_non_null(
        strstr(out.data, "<p class=\"field-error\" id=\"e-field\">Enter the API key.</p>"));
    rs_buf_cleanup(&out);
    json_decref(values);
}

static enum rs_err read(const char *body, struct lf_form_input *in)
{
    return lf_form_read(&ops, body, strlen(body), in);
}

static void test_read(void **state)
{
    struct lf_form_input in;
    json_t *pub;

    (void)state;
    assert_int_equal(read("form_token=abc&f_subdomain=acme&f_api_key=%20key%2B1234%0A&x=1", &in),
                     RS_OK);
    assert_string_equal(in.form_token, "abc");
    assert_string_equal(json_string_value(json_object_get(in.credentials, "api_key")), "key+1234");
    assert_string_equal(json_string_value(json_object_get(in.credentials, "subdomain")), "acme");
    assert_null(json_object_get(in.credentials, "x"));
    pub = lf_form_public_values(&ops, in.credentials);
    assert_int_equal(json_object_size(pub), 1);
    assert_null(json_object_get(pub, "api_key"));
    json_decref(pub);
    lf_form_input_cleanup(&in);

    assert_int_equal(read("f_subdomain=acme", &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, 1);
    assert_string_equal(in.error, "Enter the API key.");
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=-acme&f_api_key=longenough", &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, 0);
    assert_string_equal(in.error, "This does not look like a Demo HR Company subdomain.");
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=acme&f_api_key=has+space", &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, 1);
    lf_form_input_cleanup(&in);
    /* malformed: a repeated field, a bad escape, a NUL, invalid UTF-8 */
    assert_int_equal(read("f_subdomain=a&f_subdomain=b&f_api_key=longenough", &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, -1);
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=a%zz&f_api_key=longenough", &in), RS_ERR_INVALID);
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=a%00&f_api_key=longenough", &in), RS_ERR_INVALID);
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=a%ff&f_api_key=longenough", &in), RS_ERR_INVALID);
    lf_form_input_cleanup(&in);
    assert_int_equal(read("f_subdomain=acme&f_api_key=x%", &in), RS_ERR_INVALID);
    lf_form_input_cleanup(&in);
    assert_int_equal(lf_form_read(&ops, NULL, 0, &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, 0);
    lf_form_input_cleanup(&in);
}

/* The fields asked before an OAuth sign-in: the adapter's prov_oauth fields only. */
static void test_oauth_form(void **state)
{
    static const struct prov_field pre[] = {{"subdomain", "Company subdomain", "Before .example",
                                             "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", false}};
    static const struct prov_oauth oauth = {.fields = pre, .nfields = 1};
    static const struct prov_oauth no_fields = {.fields = NULL, .nfields = 0};
    const struct prov_ops both = {
        .slug = "demo", .name = "Demo HR", .fields = fields, .nfields = 2, .oauth = &oauth};
    const struct prov_ops bare = {.slug = "bare", .name = "Bare HR", .oauth = &no_fields};
    struct lf_form_input in;
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 1 << 16);
    assert_int_equal(lf_form_oauth_fields(&both, NULL, -1, NULL, &out), RS_OK);
    assert_non_null(strstr(out.data, "name=\"f_subdomain\""));
    assert_null(strstr(out.data, "f_api_key")); /* no API key before a sign-in */
    rs_buf_reset(&out);
    assert_int_equal(lf_form_oauth_fields(&bare, NULL, -1, NULL, &out), RS_OK);
    assert_int_equal(out.len, 0);
    rs_buf_cleanup(&out);

    assert_int_equal(lf_form_oauth_read(&both, "form_token=t&f_subdomain=acme&f_api_key=ignored",
                                        strlen("form_token=t&f_subdomain=acme&f_api_key=ignored"),
                                        &in),
                     RS_OK);
    assert_int_equal(json_object_size(in.credentials), 1); /* exactly the OAuth fields */
    assert_string_equal(json_string_value(json_object_get(in.credentials, "subdomain")), "acme");
    assert_string_equal(in.form_token, "t");
    lf_form_input_cleanup(&in);
    assert_int_equal(lf_form_oauth_read(&both, "f_subdomain=-x", 14, &in), RS_ERR_INVALID);
    assert_int_equal(in.bad_field, 0);
    assert_string_equal(in.error, "This does not look like a Demo HR Company subdomain.");
    lf_form_input_cleanup(&in);
    assert_int_equal(lf_form_oauth_read(&bare, "form_token=t", 12, &in), RS_OK);
    assert_int_equal(json_object_size(in.credentials), 0);
    lf_form_input_cleanup(&in);
}

static void test_html_escape(void **state)
{
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 1024);
    assert_int_equal(lf_html_append(&out, "<a href=\"x\">'&'</a>"), RS_OK);
    assert_string_equal(out.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    rs_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern),     cmocka_unit_test(test_fields_html),
        cmocka_unit_test(test_read),        cmocka_unit_test(test_oauth_form),
        cmocka_unit_test(test_html_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
