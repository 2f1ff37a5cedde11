/* Unit tests for core/rs_buf.c: growth, the ceiling, formatting and JSON string escaping. */
#include "roster/rs_buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_append_and_steal(void **state)
{
    struct rs_buf buf;
    char *text;

    (void)state;
    rs_buf_init(&buf, 1024);
    assert_null(buf.data);
    assert_null(rs_buf_steal(&buf)); /* nothing added */
    assert_int_equal(rs_buf_append(&buf, "ab", 2), RS_OK);
    assert_int_equal(rs_buf_append_str(&buf, "cd"), RS_OK);
    assert_int_equal(rs_buf_appendf(&buf, "-%d-%s", 42, "x"), RS_OK);
    assert_int_equal(buf.len, 9);
    assert_string_equal(buf.data, "abcd-42-x");
    text = rs_buf_steal(&buf);
    assert_string_equal(text, "abcd-42-x");
    assert_null(buf.data);
    assert_int_equal(buf.len, 0);
    free(text);
    /* still usable, same ceiling */
    assert_int_equal(buf.max, 1024);
    assert_int_equal(rs_buf_append_str(&buf, "z"), RS_OK);
    assert_string_equal(buf.data, "z");
    rs_buf_cleanup(&buf);
    assert_null(buf.data);
    rs_buf_cleanup(&buf); /* twice is harmless */
}

static void test_empty_append_makes_empty_string(void **state)
{
    struct rs_buf buf;
    char *text;

    (void)state;
    rs_buf_init(&buf, 16);
    assert_int_equal(rs_buf_append_str(&buf, ""), RS_OK);
    assert_non_null(buf.data);
    assert_string_equal(buf.data, "");
    text = rs_buf_steal(&buf);
    assert_string_equal(text, "");
    free(text);
}

static void test_reset_keeps_storage(void **state)
{
    struct rs_buf buf;
    char *storage;

    (void)state;
    rs_buf_init(&buf, 100);
    assert_int_equal(rs_buf_append_str(&buf, "hello"), RS_OK);
    storage = buf.data;
    rs_buf_reset(&buf);
    assert_int_equal(buf.len, 0);
    assert_ptr_equal(buf.data, storage);
    assert_string_equal(buf.data, "");
    rs_buf_cleanup(&buf);
}

static void test_growth(void **state)
{
    struct rs_buf buf;

    (void)state;
    rs_buf_init(&buf, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(rs_buf_appendf(&buf, "%04d,", i % 10000), RS_OK);
    assert_int_equal(buf.len, 50000);
    assert_memory_equal(buf.data, "0000,0001,", 10);
    assert_memory_equal(buf.data + 49995, "9999,", 5);
    assert_int_equal(buf.data[buf.len], '\0');
    assert_true(buf.cap > buf.len);
    rs_buf_cleanup(&buf);
}

static void test_ceiling(void **state)
{
    struct rs_buf buf;

    (void)state;
    rs_buf_init(&buf, 10);
    assert_int_equal(rs_buf_append_str(&buf, "0123456789"), RS_OK); /* exactly max */
    assert_true(buf.cap <= 11);                                     /* never beyond max + NUL */
    assert_int_equal(rs_buf_append(&buf, "x", 1), RS_ERR_TOOBIG);
    assert_int_equal(rs_buf_appendf(&buf, "%d", 1), RS_ERR_TOOBIG);
    assert_int_equal(rs_buf_append_json_str(&buf, "", 0), RS_ERR_TOOBIG);
    /* failed appends leave the buffer as it was */
    assert_int_equal(buf.len, 10);
    assert_string_equal(buf.data, "0123456789");
    assert_int_equal(rs_buf_append(&buf, "", 0), RS_OK);
    rs_buf_reset(&buf);
    assert_int_equal(rs_buf_append_str(&buf, "01234567890"), RS_ERR_TOOBIG);
    assert_int_equal(buf.len, 0);
    assert_int_equal(rs_buf_appendf(&buf, "%s", "abcdefghijk"), RS_ERR_TOOBIG);
    assert_int_equal(rs_buf_appendf(&buf, "%s", "abcdefghij"), RS_OK);
    assert_string_equal(buf.data, "abcdefghij");
    rs_buf_cleanup(&buf);
}

static void test_ceiling_zero(void **state)
{
    struct rs_buf buf;

    (void)state;
    rs_buf_init(&buf, 0);
    assert_int_equal(rs_buf_append(&buf, "a", 1), RS_ERR_TOOBIG);
    assert_int_equal(rs_buf_append(&buf, "", 0), RS_OK);
    assert_string_equal(buf.data, "");
    rs_buf_cleanup(&buf);
}

static void test_json_ceiling_is_atomic(void **state)
{
    struct rs_buf buf;

    (void)state;
    rs_buf_init(&buf, 12);
    assert_int_equal(rs_buf_append_str(&buf, "{"), RS_OK);
    /* 1 + 9 bytes fit; "x" needs 3 more, fails half-way and must leave nothing behind */
    assert_int_equal(rs_buf_append_json_str(&buf, "a\nb\nc", 5), RS_OK);
    assert_string_equal(buf.data, "{\"a\\nb\\nc\"");
    assert_int_equal(rs_buf_append_json_str(&buf, "x", 1), RS_ERR_TOOBIG);
    assert_string_equal(buf.data, "{\"a\\nb\\nc\"");
    assert_int_equal(buf.len, 10);
    rs_buf_cleanup(&buf);
}

/* Encodes n bytes of str as a JSON string and compares with expected. */
static void check_json(const char *str, size_t n, const char *expected)
{
    struct rs_buf buf;

    rs_buf_init(&buf, 4096);
    assert_int_equal(rs_buf_append_json_str(&buf, str, n), RS_OK);
    assert_string_equal(buf.data, expected);
    assert_int_equal(buf.len, strlen(expected));
    rs_buf_cleanup(&buf);
}

static void test_json_escaping(void **state)
{
    (void)state;
    check_json("", 0, "\"\"");
    check_json("plain text", 10, "\"plain text\"");
    check_json("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
    check_json("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    check_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    check_json("a\0b", 3, "\"a\\u0000b\""); /* n counts, not the NUL */
    check_json("abcdef", 3, "\"abc\"");
}

static void test_json_utf8(void **state)
{
    (void)state;
    /* valid UTF-8 of 2, 3 and 4 bytes passes through */
    check_json("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15,
               "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check_json("\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7, "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
    /* anything else becomes U+FFFD, one per bad byte, and the JSON stays valid */
    check_json("a\xff"
               "b",
               3, "\"a\\ufffdb\"");
    check_json("\xc0\x80", 2, "\"\\ufffd\\ufffd\"");                       /* overlong NUL */
    check_json("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");            /* overlong '/' */
    check_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");            /* surrogate */
    check_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check_json("x\xe2\x82", 3, "\"x\\ufffd\\ufffd\"");                     /* cut at the end */
    check_json("\xe2\x82x", 3, "\"\\ufffd\\ufffdx\"");                     /* cut in the middle */
    check_json("\x80", 1, "\"\\ufffd\"");                                  /* lone continuation */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_steal),
        cmocka_unit_test(test_empty_append_makes_empty_string),
        cmocka_unit_test(test_reset_keeps_storage),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_ceiling_zero),
        cmocka_unit_test(test_json_ceiling_is_atomic),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
