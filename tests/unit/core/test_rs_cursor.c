/* Unit tests for core/rs_cursor.c: round trips, and rejection of every kind of tampering. */
#include "roster/rs_cursor.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define CONTEXT  "0f8fad5b-d9cb-469f-a165-70867728950e/employees"
#define RAW_LEN  42
#define TEXT_LEN 56
#define B64URL   sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint8_t key[RS_CURSOR_KEY_LEN];
static uint8_t other_key[RS_CURSOR_KEY_LEN];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < RS_CURSOR_KEY_LEN; i++) {
        key[i] = (uint8_t)(i * 7 + 1);
        other_key[i] = (uint8_t)(i * 7 + 2);
    }
    return 0;
}

static struct rs_cursor sample(void)
{
    struct rs_cursor cur = {.backward = false, .sort_us = INT64_C(1631664000123456)};

    for (int i = 0; i < 16; i++)
        cur.id.b[i] = (uint8_t)(0xA0 + i);
    return cur;
}

/* Decoding text must fail, and must leave out alone. */
static void expect_invalid(const char *text, const char *context, const uint8_t *k)
{
    struct rs_cursor out;
    struct rs_cursor before;

    memset(&before, 0x5A, sizeof(before));
    out = before;
    if (rs_cursor_decode(text, context, k, &out) != RS_ERR_INVALID)
        fail_msg("cursor \"%s\" should be rejected", text ? text : "(null)");
    assert_memory_equal(&out, &before, sizeof(out));
}

static void check_round_trip(struct rs_cursor cur, const char *context)
{
    char text[RS_CURSOR_MAX_LEN];
    struct rs_cursor back;

    assert_ptr_equal(rs_cursor_encode(&cur, context, key, text), text);
    assert_int_equal(strlen(text), TEXT_LEN);
    assert_int_equal(strspn(text, alphabet), TEXT_LEN);
    assert_int_equal(rs_cursor_decode(text, context, key, &back), RS_OK);
    assert_int_equal(back.backward, cur.backward);
    assert_int_equal(back.sort_us, cur.sort_us);
    assert_memory_equal(back.id.b, cur.id.b, 16);
}

static void test_round_trip(void **state)
{
    struct rs_cursor cur = sample();

    (void)state;
    check_round_trip(cur, CONTEXT);
    cur.backward = true;
    check_round_trip(cur, CONTEXT);
    cur.sort_us = -1;
    check_round_trip(cur, CONTEXT);
    cur.sort_us = INT64_MIN;
    check_round_trip(cur, "");
    cur.sort_us = INT64_MAX;
    memset(cur.id.b, 0, 16);
    check_round_trip(cur, "x");
}

static void test_deterministic_and_distinct(void **state)
{
    struct rs_cursor cur = sample();
    char a[RS_CURSOR_MAX_LEN];
    char b[RS_CURSOR_MAX_LEN];

    (void)state;
    rs_cursor_encode(&cur, CONTEXT, key, a);
    rs_cursor_encode(&cur, CONTEXT, key, b);
    assert_string_equal(a, b);
    cur.backward = true;
    rs_cursor_encode(&cur, CONTEXT, key, b);
    assert_string_not_equal(a, b);
}

static void test_other_context_or_key(void **state)
{
    struct rs_cursor cur = sample();
    char text[RS_CURSOR_MAX_LEN];

    (void)state;
    rs_cursor_encode(&cur, CONTEXT, key, text);
    expect_invalid(text, "0f8fad5b-d9cb-469f-a165-70867728950e/groups", key);
    expect_invalid(text, "0f8fad5b-d9cb-469f-a165-70867728950f/employees", key);
    expect_invalid(text, CONTEXT "x", key);
    expect_invalid(text, "", key);
    expect_invalid(text, CONTEXT, other_key);
}

/* Every character replaced by every other character of the alphabet, and by a few outsiders. */
static void test_tampered_text(void **state)
{
    struct rs_cursor cur = sample();
    char text[RS_CURSOR_MAX_LEN];
    char changed[RS_CURSOR_MAX_LEN];
    static const char outsiders[] = "=+/ .!~\x7f\x80\xc3\xff";

    (void)state;
    rs_cursor_encode(&cur, CONTEXT, key, text);
    for (size_t pos = 0; pos < TEXT_LEN; pos++) {
        for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
            if (alphabet[a] == text[pos])
                continue;
            memcpy(changed, text, sizeof(changed));
            changed[pos] = alphabet[a];
            expect_invalid(changed, CONTEXT, key);
        }
        for (size_t o = 0; o < sizeof(outsiders) - 1; o++) {
            memcpy(changed, text, sizeof(changed));
            changed[pos] = outsiders[o];
            expect_invalid(changed, CONTEXT, key);
        }
    }
}

/* Every bit of the decoded bytes flipped, re-encoded validly: the MAC must catch it. */
static void test_tampered_bytes(void **state)
{
    struct rs_cursor cur = sample();
    char text[RS_CURSOR_MAX_LEN];
    char forged[RS_CURSOR_MAX_LEN];
    uint8_t raw[RAW_LEN];
    size_t raw_len = 0;

    (void)state;
    rs_cursor_encode(&cur, CONTEXT, key, text);
    assert_int_equal(
        sodium_base642bin(raw, sizeof(raw), text, TEXT_LEN, NULL, &raw_len, NULL, B64URL), 0);
    assert_int_equal(raw_len, RAW_LEN);
    assert_int_equal(raw[0], 1); /* version */
    for (size_t i = 0; i < RAW_LEN; i++) {
        for (int bit = 0; bit < 8; bit++) {
            raw[i] ^= (uint8_t)(1 << bit);
            sodium_bin2base64(forged, sizeof(forged), raw, RAW_LEN, B64URL);
            expect_invalid(forged, CONTEXT, key);
            raw[i] ^= (uint8_t)(1 << bit);
        }
    }
    sodium_bin2base64(forged, sizeof(forged), raw, RAW_LEN, B64URL);
    assert_string_equal(forged, text); /* the loop restored every bit */
}

/* A correctly MACed cursor with an unknown version or flag is still refused. */
static void test_unknown_version_or_flags(void **state)
{
    uint8_t raw[RAW_LEN] = {0};
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char text[RS_CURSOR_MAX_LEN];
    crypto_auth_hmacsha256_state st;
    const uint8_t variants[][2] = {{1, 0}, {2, 0}, {0, 0}, {1, 2}, {1, 0x80}};

    (void)state;
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        struct rs_cursor out;

        raw[0] = variants[v][0];
        raw[1] = variants[v][1];
        crypto_auth_hmacsha256_init(&st, key, sizeof(key));
        crypto_auth_hmacsha256_update(&st, raw, 26);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)CONTEXT, strlen(CONTEXT));
        crypto_auth_hmacsha256_final(&st, mac);
        memcpy(raw + 26, mac, 16);
        sodium_bin2base64(text, sizeof(text), raw, RAW_LEN, B64URL);
        if (v == 0) /* the control: this construction is what the module emits */
            assert_int_equal(rs_cursor_decode(text, CONTEXT, key, &out), RS_OK);
        else
            expect_invalid(text, CONTEXT, key);
    }
}

static void test_wrong_lengths(void **state)
{
    struct rs_cursor cur = sample();
    char text[RS_CURSOR_MAX_LEN];
    char changed[RS_CURSOR_MAX_LEN + 8];
    char *huge;

    (void)state;
    rs_cursor_encode(&cur, CONTEXT, key, text);
    for (size_t len = 0; len < TEXT_LEN; len++) { /* every truncation */
        memcpy(changed, text, len);
        changed[len] = '\0';
        expect_invalid(changed, CONTEXT, key);
    }
    for (size_t extra = 1; extra <= 8; extra++) { /* extensions, with and without padding */
        memcpy(changed, text, TEXT_LEN);
        memset(changed + TEXT_LEN, extra % 2 ? 'A' : '=', extra);
        changed[TEXT_LEN + extra] = '\0';
        expect_invalid(changed, CONTEXT, key);
    }
    /* far longer than any cursor: rejected without reading past the limit (ASan checks) */
    huge = malloc(1 << 20);
    assert_non_null(huge);
    memset(huge, 'A', (1 << 20) - 1);
    huge[(1 << 20) - 1] = '\0';
    expect_invalid(huge, CONTEXT, key);
    free(huge);
}

static void test_garbage(void **state)
{
    static const char *const garbage[] = {
        "",
        "A",
        "null",
        "0",
        "-1",
        "!!!!",
        "AAAA",
        "%00",
        "\n",
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 56 chars, bad MAC */
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* padded */
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/A", /* standard alphabet */
        "eyJpZCI6MX0", /* base64 JSON, as other APIs use */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        expect_invalid(garbage[i], CONTEXT, key);
    expect_invalid(NULL, CONTEXT, key);
}

/* The standard alphabet version of a valid cursor is refused: only base64url is accepted. */
static void test_standard_alphabet_refused(void **state)
{
    struct rs_cursor cur = sample();
    char text[RS_CURSOR_MAX_LEN];
    uint8_t raw[RAW_LEN];
    size_t raw_len = 0;
    char standard[RS_CURSOR_MAX_LEN];
    int tries = 0;

    (void)state;
    /* find a position whose encoding contains '-' or '_' */
    for (;; tries++) {
        cur.sort_us += 1;
        rs_cursor_encode(&cur, CONTEXT, key, text);
        if (strpbrk(text, "-_"))
            break;
        assert_true(tries < 1000);
    }
    assert_int_equal(
        sodium_base642bin(raw, sizeof(raw), text, TEXT_LEN, NULL, &raw_len, NULL, B64URL), 0);
    sodium_bin2base64(standard, sizeof(standard), raw, RAW_LEN,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    assert_string_not_equal(standard, text);
    expect_invalid(standard, CONTEXT, key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_deterministic_and_distinct),
        cmocka_unit_test(test_other_context_or_key),
        cmocka_unit_test(test_tampered_text),
        cmocka_unit_test(test_tampered_bytes),
        cmocka_unit_test(test_unknown_version_or_flags),
        cmocka_unit_test(test_wrong_lengths),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_standard_alphabet_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
