/* Unit tests for sandbox/sbx_http.c and sbx_json.c: query decoding, credentials, the writer. */
#include "sbx_test.h"

static void test_query(void **state)
{
    struct sbx_query q;
    char raw[] = "page%5Blimit%5D=5&a=x+y&a=2&flag&empty=&%zz=1&since=2025-01-01T00:00:00%2B01:00";

    (void)state;
    assert_int_equal(sbx_http_query_parse(&q, raw), RS_OK);
    assert_string_equal(sbx_http_query_get(&q, "page[limit]"), "5");
    assert_string_equal(sbx_http_query_get(&q, "a"), "x y"); /* the first of duplicates */
    assert_string_equal(sbx_http_query_get(&q, "flag"), "");
    assert_string_equal(sbx_http_query_get(&q, "empty"), "");
    assert_string_equal(sbx_http_query_get(&q, "%zz"), "1"); /* bad escapes stay literal */
    assert_string_equal(sbx_http_query_get(&q, "since"), "2025-01-01T00:00:00+01:00");
    assert_null(sbx_http_query_get(&q, "missing"));
    assert_int_equal(sbx_http_query_parse(&q, NULL), RS_OK);
    assert_int_equal(q.n, 0);
}

static void test_query_limits(void **state)
{
    struct sbx_query q;
    char raw[SBX_QUERY_BYTES * 2];
    size_t o = 0;

    (void)state;
    for (int i = 0; i < SBX_QUERY_MAX + 1; i++)
        o += (size_t)snprintf(raw + o, sizeof(raw) - o, "k%d=v&", i);
    assert_int_equal(sbx_http_query_parse(&q, raw), RS_ERR_TOOBIG);
    memset(raw, 'a', sizeof(raw) - 1);
    raw[sizeof(raw) - 1] = '\0';
    assert_int_equal(sbx_http_query_parse(&q, raw), RS_ERR_TOOBIG);
}

static void test_credentials(void **state)
{
    char user[64], pass[64];

    (void)state;
    assert_int_equal(sbx_http_basic("Basic c2FuZGJveDp4", user, sizeof(user), pass, sizeof(pass)),
                     RS_OK);
    assert_string_equal(user, "sandbox");
    assert_string_equal(pass, "x");
    assert_int_equal(sbx_http_basic("basic c3ZjOjphOmI=", user, sizeof(user), pass, sizeof(pass)),
                     RS_OK); /* "svc::a:b": the password may hold colons */
    assert_string_equal(user, "svc");
    assert_string_equal(pass, ":a:b");
    assert_int_equal(sbx_http_basic("Basic bm9jb2xvbg==", user, sizeof(user), pass, sizeof(pass)),
                     RS_ERR_AUTH);
    assert_int_equal(sbx_http_basic("Bearer x", user, sizeof(user), pass, sizeof(pass)),
                     RS_ERR_AUTH);
    assert_int_equal(sbx_http_basic(NULL, user, sizeof(user), pass, sizeof(pass)), RS_ERR_AUTH);
    assert_string_equal(sbx_http_bearer("Bearer papi-1"), "papi-1");
    assert_null(sbx_http_bearer("Bearer "));
    assert_null(sbx_http_bearer("Basic x"));
}

static void test_numbers(void **state)
{
    long v = 0;

    (void)state;
    assert_true(sbx_http_long("42", 0, 100, &v));
    assert_int_equal(v, 42);
    assert_false(sbx_http_long("101", 0, 100, &v));
    assert_false(sbx_http_long("4x", 0, 100, &v));
    assert_false(sbx_http_long("", 0, 100, &v));
    assert_false(sbx_http_long(" 4", 0, 100, &v));
    assert_false(sbx_http_long(NULL, 0, 100, &v));
}

static void test_json_writer(void **state)
{
    struct rs_buf buf;
    struct sbx_json js;

    (void)state;
    rs_buf_init(&buf, 1 << 20);
    sbx_json_init(&js, &buf);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "name", "Zoë \"Q\"");
    sbx_json_opt(&js, "none", "");
    sbx_json_int(&js, "n", -5);
    sbx_json_arr(&js, "list");
    sbx_json_bool(&js, NULL, true);
    sbx_json_null(&js, NULL);
    sbx_json_date(&js, NULL, 0);
    sbx_json_end(&js);
    sbx_json_end(&js);
    assert_int_equal(sbx_json_done(&js), RS_OK);
    assert_string_equal(buf.data, "{\"name\":\"Zoë \\\"Q\\\"\",\"none\":null,\"n\":-5,"
                                  "\"list\":[true,null,\"1970-01-01\"]}");
    rs_buf_reset(&buf);
    sbx_json_init(&js, &buf);
    sbx_json_obj(&js, NULL);
    assert_int_equal(sbx_json_done(&js), RS_ERR_INTERNAL); /* unclosed */
    sbx_json_init(&js, &buf);
    sbx_json_end(&js);
    assert_int_equal(sbx_json_done(&js), RS_ERR_INTERNAL);
    rs_buf_cleanup(&buf);
    rs_buf_init(&buf, 8);
    sbx_json_init(&js, &buf);
    sbx_json_str(&js, NULL, "far too long for the ceiling");
    sbx_json_int(&js, NULL, 1);
    assert_int_equal(sbx_json_done(&js), RS_ERR_TOOBIG); /* sticky */
    rs_buf_cleanup(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),       cmocka_unit_test(test_query_limits),
        cmocka_unit_test(test_credentials), cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_json_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
