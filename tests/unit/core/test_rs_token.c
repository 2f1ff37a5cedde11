/* Unit tests for core/rs_token.c: token shape, randomness, and the stored SHA-256 hash. */
#include "roster/rs_token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

static bool is_base64url(const char *text)
{
    for (; *text; text++) {
        char c = *text;

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void test_new_format(void **state)
{
    char token[RS_TOKEN_MAX_LEN];
    uint8_t random[64];
    size_t random_len = 0;

    (void)state;
    assert_int_equal(rs_token_new("rk", token, sizeof(token)), RS_OK);
    assert_int_equal(strlen(token), 2 + 1 + 43);
    assert_memory_equal(token, "rk_", 3);
    assert_true(is_base64url(token + 3));
    /* the secret part is exactly 32 bytes */
    assert_int_equal(sodium_base642bin(random, sizeof(random), token + 3, 43, NULL, &random_len,
                                       NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(random_len, 32);
}

static void test_new_prefix_limits(void **state)
{
    char token[RS_TOKEN_MAX_LEN + 8];

    (void)state;
    assert_int_equal(rs_token_new("12345678", token, RS_TOKEN_MAX_LEN), RS_OK);
    assert_int_equal(strlen(token), 8 + 1 + 43);
    assert_true(strlen(token) < RS_TOKEN_MAX_LEN);
    assert_int_equal(rs_token_new("123456789", token, sizeof(token)), RS_ERR_INVALID);
    assert_int_equal(rs_token_new("rk", token, RS_TOKEN_MAX_LEN - 1), RS_ERR_INVALID);
    assert_int_equal(rs_token_new(NULL, token, sizeof(token)), RS_ERR_INVALID);
}

static void test_new_is_random(void **state)
{
    char a[RS_TOKEN_MAX_LEN];
    char b[RS_TOKEN_MAX_LEN];

    (void)state;
    for (int i = 0; i < 32; i++) {
        assert_int_equal(rs_token_new("at", a, sizeof(a)), RS_OK);
        assert_int_equal(rs_token_new("at", b, sizeof(b)), RS_OK);
        assert_string_not_equal(a, b);
    }
}

static void test_hash(void **state)
{
    uint8_t hash[RS_TOKEN_HASH_LEN];
    char hex[2 * RS_TOKEN_HASH_LEN + 1];

    (void)state;
    /* FIPS 180-2 test vectors */
    rs_token_hash("abc", 3, hash);
    assert_ptr_equal(rs_token_hash_hex(hash, hex), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rs_token_hash("", 0, hash);
    rs_token_hash_hex(hash, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* only len bytes count */
    rs_token_hash("abcdef", 3, hash);
    rs_token_hash_hex(hash, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_format),
        cmocka_unit_test(test_new_prefix_limits),
        cmocka_unit_test(test_new_is_random),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
