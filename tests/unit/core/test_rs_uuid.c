/* Unit tests for core/rs_uuid.c: v5 against published vectors, v4 bits, parsing, formatting. */
#include "roster/rs_uuid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* RFC 4122 appendix C name spaces */
#define NS_DNS "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define NS_URL "6ba7b811-9dad-11d1-80b4-00c04fd430c8"

static void check_v5(const char *ns_text, const char *name, const char *expected)
{
    struct rs_uuid ns;
    struct rs_uuid id;
    char text[RS_UUID_STR_LEN];

    assert_int_equal(rs_uuid_parse(ns_text, &ns), RS_OK);
    rs_uuid_v5(&ns, name, strlen(name), &id);
    assert_string_equal(rs_uuid_format(&id, text), expected);
}

static void test_v5_vectors(void **state)
{
    (void)state;
    /* verified with Python: uuid.uuid5(uuid.NAMESPACE_DNS / NAMESPACE_URL, name) */
    check_v5(NS_DNS, "www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    check_v5(NS_DNS, "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    check_v5(NS_URL, "http://python.org/", "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
}

static void test_v5_uses_length_not_nul(void **state)
{
    struct rs_uuid ns;
    struct rs_uuid a;
    struct rs_uuid b;
    struct rs_uuid c;

    (void)state;
    assert_int_equal(rs_uuid_parse(NS_DNS, &ns), RS_OK);
    rs_uuid_v5(&ns, "python.org-and-more", 10, &a);
    rs_uuid_v5(&ns, "python.org", 10, &b);
    assert_true(rs_uuid_equal(&a, &b));
    /* an embedded NUL is part of the name */
    rs_uuid_v5(&ns, "employee:1\0x", 12, &c);
    rs_uuid_v5(&ns, "employee:1", 10, &a);
    assert_false(rs_uuid_equal(&a, &c));
    /* the namespace matters */
    ns.b[15] ^= 1;
    rs_uuid_v5(&ns, "python.org", 10, &a);
    assert_false(rs_uuid_equal(&a, &b));
}

static void test_v4(void **state)
{
    struct rs_uuid a;
    struct rs_uuid b;
    unsigned ones = 0;

    (void)state;
    for (int i = 0; i < 64; i++) {
        rs_uuid_v4(&a);
        rs_uuid_v4(&b);
        assert_false(rs_uuid_equal(&a, &b));
        assert_int_equal(a.b[6] >> 4, 4);
        assert_int_equal(a.b[8] & 0xC0, 0x80);
        ones += a.b[0] & 1;
    }
    assert_true(ones > 8 && ones < 56); /* random, not constant */
}

static void test_parse_and_format(void **state)
{
    struct rs_uuid id;
    char text[RS_UUID_STR_LEN];
    static const uint8_t expected[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                         0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

    (void)state;
    assert_int_equal(rs_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", &id), RS_OK);
    assert_memory_equal(id.b, expected, 16);
    assert_string_equal(rs_uuid_format(&id, text), NS_DNS); /* lower case out */
    assert_int_equal(rs_uuid_parse("00000000-0000-0000-0000-000000000000", &id), RS_OK);
    assert_string_equal(rs_uuid_format(&id, text), "00000000-0000-0000-0000-000000000000");
    assert_int_equal(rs_uuid_parse("ffffffff-ffff-ffff-ffff-ffffffffffff", &id), RS_OK);
    assert_string_equal(rs_uuid_format(&id, text), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void test_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "6ba7b810",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",   /* short */
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8a", /* long */
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8 ",
        " 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
        "6ba7b8109dad11d180b400c04fd430c8",
        "6ba7b8109-dad-11d1-80b4-00c04fd430c8", /* dash moved */
        "6ba7b810-9dad-11d1-80b400c04fd430c8-",
        "6ba7b810-9dad-11d1-80b4_00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430cg", /* not hex */
        "6ba7b810-9dad-11d1-80b4-00c04fd430\xc3\xa9",
        "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    };
    struct rs_uuid id;
    struct rs_uuid untouched;

    (void)state;
    memset(&untouched, 0xAB, sizeof(untouched));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = untouched;
        if (rs_uuid_parse(bad[i], &id) != RS_ERR_INVALID)
            fail_msg("\"%s\" should be invalid", bad[i]);
        assert_true(rs_uuid_equal(&id, &untouched));
    }
    assert_int_equal(rs_uuid_parse(NULL, &id), RS_ERR_INVALID);
}

static void test_equal(void **state)
{
    struct rs_uuid a;
    struct rs_uuid b;

    (void)state;
    assert_int_equal(rs_uuid_parse(NS_DNS, &a), RS_OK);
    assert_int_equal(rs_uuid_parse(NS_DNS, &b), RS_OK);
    assert_true(rs_uuid_equal(&a, &b));
    b.b[15] ^= 0x01;
    assert_false(rs_uuid_equal(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v5_vectors),
        cmocka_unit_test(test_v5_uses_length_not_nul),
        cmocka_unit_test(test_v4),
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
