/*
 * Unit tests for core/rs_sign.c: the Standard Webhooks specification's published example,
 * Merge's algorithm (base64url of HMAC-SHA256 of the raw body, no padding, checked against
 * values computed with `openssl dgst -sha256 -mac HMAC`), secrets and their decoding.
 */
#include "roster/rs_sign.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

/* The specification's reference example (shared/reference/webhooks.md). */
#define SPEC_SECRET    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID        "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TIMESTAMP 1614265330
#define SPEC_BODY      "{\"test\": 2432232314}"
#define SPEC_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* printf '%s' SPEC_BODY | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key> -binary |
   base64 | tr '+/' '-_' | tr -d '=' */
#define SPEC_MERGE "4stPUlFXJTnUWL-4p621M7CIAeanlEZ-Bvdx3ruwgYs"

static void test_standard_specification_example(void **state)
{
    struct rs_sign_key key;
    char sig[RS_SIGN_STANDARD_LEN];

    (void)state;
    assert_int_equal(rs_sign_key_from_secret(SPEC_SECRET, &key), RS_OK);
    assert_int_equal(key.len, 24);
    rs_sign_standard(&key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, strlen(SPEC_BODY), sig);
    assert_string_equal(sig, SPEC_SIGNATURE);
}

static void test_standard_covers_every_part(void **state)
{
    struct rs_sign_key key;
    char sig[RS_SIGN_STANDARD_LEN];

    (void)state;
    assert_int_equal(rs_sign_key_from_secret(SPEC_SECRET, &key), RS_OK);
    /* another id, timestamp or body byte gives another signature */
    rs_sign_standard(&key, "msg_p5jXN8AQM9LWM0D4loKWxJel", SPEC_TIMESTAMP, SPEC_BODY,
                     strlen(SPEC_BODY), sig);
    assert_string_not_equal(sig, SPEC_SIGNATURE);
    rs_sign_standard(&key, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, strlen(SPEC_BODY), sig);
    assert_string_not_equal(sig, SPEC_SIGNATURE);
    rs_sign_standard(&key, SPEC_ID, SPEC_TIMESTAMP, "{\"test\": 2432232315}", strlen(SPEC_BODY),
                     sig);
    assert_string_not_equal(sig, SPEC_SIGNATURE);
    /* the body is bytes: a NUL inside counts */
    rs_sign_standard(&key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY "\0", strlen(SPEC_BODY) + 1, sig);
    assert_string_not_equal(sig, SPEC_SIGNATURE);
}

static void test_merge_signature(void **state)
{
    struct rs_sign_key key;
    char sig[RS_SIGN_MERGE_LEN];

    (void)state;
    assert_int_equal(rs_sign_key_from_secret(SPEC_SECRET, &key), RS_OK);
    rs_sign_merge(&key, SPEC_BODY, strlen(SPEC_BODY), sig);
    assert_string_equal(sig, SPEC_MERGE);
    /* base64url without padding: 43 characters, no '+', '/' or '=' */
    assert_int_equal(strlen(sig), 43);
    assert_null(strpbrk(sig, "+/="));
}

/* Merge's signature is the body's MAC alone: it does not depend on id or time. */
static void test_merge_is_body_only(void **state)
{
    struct rs_sign_key key;
    char a[RS_SIGN_MERGE_LEN], b[RS_SIGN_MERGE_LEN];
    const char *body = "{\"hook\":{\"event\":\"Employee.added\"}}";

    (void)state;
    assert_int_equal(rs_sign_key_from_secret(SPEC_SECRET, &key), RS_OK);
    rs_sign_merge(&key, body, strlen(body), a);
    rs_sign_merge(&key, body, strlen(body), b);
    assert_string_equal(a, b);
    rs_sign_merge(&key, body, strlen(body) - 1, b);
    assert_string_not_equal(a, b);
}

static void test_new_secret(void **state)
{
    char one[RS_SIGN_SECRET_MAX], two[RS_SIGN_SECRET_MAX];
    struct rs_sign_key key;

    (void)state;
    rs_sign_secret_new(one);
    rs_sign_secret_new(two);
    assert_memory_equal(one, "whsec_", 6);
    assert_int_equal(strlen(one), 6 + 44); /* base64 of 32 bytes, padded */
    assert_string_not_equal(one, two);
    assert_int_equal(rs_sign_key_from_secret(one, &key), RS_OK);
    assert_int_equal(key.len, RS_SIGN_NEW_KEY_LEN);
}

static void test_secret_decoding(void **state)
{
    struct rs_sign_key key;

    (void)state;
    /* the prefix is optional, padding too */
    assert_int_equal(rs_sign_key_from_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key), RS_OK);
    assert_int_equal(key.len, 24);
    assert_int_equal(rs_sign_key_from_secret("whsec_AAAAAAAAAAAAAAAAAAAAAA", &key), RS_OK);
    assert_int_equal(key.len, 16);
    /* too short, too long, not base64, empty, NULL */
    assert_int_equal(rs_sign_key_from_secret("whsec_AAAA", &key), RS_ERR_INVALID);
    assert_int_equal(key.len, 0);
    char long_secret[200] = "whsec_";
    memset(long_secret + 6, 'A', 120);
    long_secret[126] = '\0';
    assert_int_equal(rs_sign_key_from_secret(long_secret, &key), RS_ERR_INVALID);
    assert_int_equal(rs_sign_key_from_secret("whsec_MfKQ9r8GKYq-TwjUPD8ILPZIo2LaLaSw", &key),
                     RS_ERR_INVALID);
    assert_int_equal(rs_sign_key_from_secret("whsec_MfKQ9r8GKYq\xc3\xa9wjUPD8ILPZIo2LaLaSw", &key),
                     RS_ERR_INVALID);
    assert_int_equal(rs_sign_key_from_secret("whsec_", &key), RS_ERR_INVALID);
    assert_int_equal(rs_sign_key_from_secret("", &key), RS_ERR_INVALID);
    assert_int_equal(rs_sign_key_from_secret(NULL, &key), RS_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_specification_example),
        cmocka_unit_test(test_standard_covers_every_part),
        cmocka_unit_test(test_merge_signature),
        cmocka_unit_test(test_merge_is_body_only),
        cmocka_unit_test(test_new_secret),
        cmocka_unit_test(test_secret_decoding),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
