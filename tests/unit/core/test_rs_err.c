/* Unit tests for core/rs_err.c: error names and the fixed-size detail buffer. */
#include "roster/rs_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(rs_err_name(RS_OK), "ok");
    assert_string_equal(rs_err_name(RS_ERR_INVALID), "invalid");
    assert_string_equal(rs_err_name(RS_ERR_NOMEM), "nomem");
    assert_string_equal(rs_err_name(RS_ERR_CRYPTO), "crypto");
    assert_string_equal(rs_err_name((enum rs_err)999), "unknown");
    /* Every code has its own name. */
    for (int a = RS_OK; a <= RS_ERR_INTERNAL; a++) {
        assert_non_null(rs_err_name((enum rs_err)a));
        assert_string_not_equal(rs_err_name((enum rs_err)a), "unknown");
        for (int b = a + 1; b <= RS_ERR_INTERNAL; b++)
            assert_string_not_equal(rs_err_name((enum rs_err)a), rs_err_name((enum rs_err)b));
    }
}

static void test_set_and_clear(void **state)
{
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(rs_errbuf_param(&eb, RS_ERR_INVALID, "page_size", "must be <= %d", 100),
                     RS_ERR_INVALID);
    assert_string_equal(eb.param, "page_size");
    assert_string_equal(eb.msg, "must be <= 100");
    /* set clears the parameter left by an earlier error */
    assert_int_equal(rs_errbuf_set(&eb, RS_ERR_DB, "query %s failed", "x"), RS_ERR_DB);
    assert_string_equal(eb.msg, "query x failed");
    assert_string_equal(eb.param, "");
    rs_errbuf_clear(&eb);
    assert_string_equal(eb.msg, "");
    assert_string_equal(eb.param, "");
}

static void test_null_buffer(void **state)
{
    (void)state;
    assert_int_equal(rs_errbuf_set(NULL, RS_ERR_AUTH, "x"), RS_ERR_AUTH);
    assert_int_equal(rs_errbuf_param(NULL, RS_ERR_INVALID, "p", "x"), RS_ERR_INVALID);
    rs_errbuf_clear(NULL);
}

static void test_truncation(void **state)
{
    struct rs_errbuf eb;
    char long_text[600];

    (void)state;
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    rs_errbuf_param(&eb, RS_ERR_INVALID, long_text, "%s", long_text);
    assert_int_equal(strlen(eb.msg), sizeof(eb.msg) - 1);
    assert_int_equal(strlen(eb.param), sizeof(eb.param) - 1);
}

static void test_truncation_keeps_utf8_whole(void **state)
{
    struct rs_errbuf eb;
    char text[300];

    (void)state;
    /* 254 ASCII bytes, then a 2-byte "é" that would straddle the 255-byte limit */
    memset(text, 'a', 254);
    memcpy(text + 254, "\xc3\xa9tail", 7);
    rs_errbuf_set(&eb, RS_ERR_INVALID, "%s", text);
    assert_int_equal(strlen(eb.msg), 254);
    /* 253 ASCII bytes, then "é" ends exactly at the limit: kept */
    memset(text, 'a', 253);
    memcpy(text + 253, "\xc3\xa9tail", 7);
    rs_errbuf_set(&eb, RS_ERR_INVALID, "%s", text);
    assert_int_equal(strlen(eb.msg), 255);
    assert_memory_equal(eb.msg + 253, "\xc3\xa9", 2);
    /* a 4-byte character cut after two of its bytes */
    memset(text, 'a', 253);
    memcpy(text + 253, "\xf0\x9f\x98\x80", 5);
    rs_errbuf_set(&eb, RS_ERR_INVALID, "%s", text);
    assert_int_equal(strlen(eb.msg), 253);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_null_buffer),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_truncation_keeps_utf8_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
