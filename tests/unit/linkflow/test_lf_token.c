/* Unit tests for linkflow/lf_token.c: lifetime bounds, single use, token shape and hashing,
   and the per-session form token. */
#include "roster/lf_token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define MIN_US INT64_C(60000000)

static void expect_expiry(json_t *value_owned, enum rs_err want, int want_mins)
{
    struct rs_errbuf eb = {{0}, {0}};
    int mins = -1;

    assert_int_equal(lf_token_expiry(value_owned, &mins, &eb), want);
    if (want == RS_OK)
        assert_int_equal(mins, want_mins);
    else
        assert_string_equal(eb.param, "link_expiry_mins");
    json_decref(value_owned);
}

static void test_expiry_bounds(void **state)
{
    (void)state;
    expect_expiry(NULL, RS_OK, 10080); /* absent: the default, 7 days */
    expect_expiry(json_null(), RS_OK, 10080);
    expect_expiry(json_integer(30), RS_OK, 30);
    expect_expiry(json_integer(10080), RS_OK, 10080);
    expect_expiry(json_integer(29), RS_ERR_INVALID, 0);
    expect_expiry(json_integer(10081), RS_ERR_INVALID, 0);
    expect_expiry(json_integer(-1), RS_ERR_INVALID, 0);
    expect_expiry(json_real(60.0), RS_ERR_INVALID, 0);
    expect_expiry(json_string("60"), RS_ERR_INVALID, 0);
}

static void test_state(void **state)
{
    int64_t now = INT64_C(1700000000) * 1000000, expires = now + 30 * MIN_US;

    (void)state;
    assert_int_equal(lf_token_state(now, expires, false, false), LF_LINK_ACTIVE);
    assert_int_equal(lf_token_state(expires - 1, expires, false, false), LF_LINK_ACTIVE);
    /* the expiry instant itself is past */
    assert_int_equal(lf_token_state(expires, expires, false, false), LF_LINK_EXPIRED);
    /* single use: a completed link stays used, also once it would have expired */
    assert_int_equal(lf_token_state(now, expires, true, false), LF_LINK_COMPLETED);
    assert_int_equal(lf_token_state(expires + MIN_US, expires, true, false), LF_LINK_COMPLETED);
    /* revoked wins */
    assert_int_equal(lf_token_state(now, expires, true, true), LF_LINK_REVOKED);
    assert_int_equal(lf_token_state(expires + MIN_US, expires, false, true), LF_LINK_REVOKED);
    assert_string_equal(lf_token_state_name(LF_LINK_ACTIVE), "ACTIVE");
    assert_string_equal(lf_token_state_name(LF_LINK_COMPLETED), "COMPLETED");
    assert_string_equal(lf_token_state_name(LF_LINK_EXPIRED), "EXPIRED");
    assert_string_equal(lf_token_state_name(LF_LINK_REVOKED), "REVOKED");
}

static void test_shape_and_hash(void **state)
{
    char token[RS_TOKEN_MAX_LEN], hex[LF_HASH_HEX_LEN], again[LF_HASH_HEX_LEN];
    uint8_t sha[32];
    char want[LF_HASH_HEX_LEN];

    (void)state;
    assert_int_equal(rs_token_new(LF_LINK_PREFIX, token, sizeof(token)), RS_OK);
    assert_true(lf_token_well_formed(token, LF_LINK_PREFIX));
    assert_false(lf_token_well_formed(token, LF_PUBLIC_PREFIX));
    token[10] = '/';
    assert_false(lf_token_well_formed(token, LF_LINK_PREFIX));
    assert_false(lf_token_well_formed("lt_short", LF_LINK_PREFIX));
    assert_false(lf_token_well_formed("lt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "lt"));
    assert_true(lf_token_well_formed("lt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "lt"));
    assert_false(lf_token_well_formed(NULL, "lt"));
    /* stored: the hex of SHA-256 of the token's bytes, nothing of the token itself */
    lf_token_hash_hex("lt_abc", hex);
    crypto_hash_sha256(sha, (const unsigned char *)"lt_abc", 6);
    sodium_bin2hex(want, sizeof(want), sha, sizeof(sha));
    assert_string_equal(hex, want);
    assert_int_equal(strlen(hex), 64);
    lf_token_hash_hex("lt_abd", again);
    assert_string_not_equal(hex, again);
}

static void test_form_token(void **state)
{
    struct rs_vault *vault = NULL, *other = NULL;
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_uuid a, b;
    char token[LF_FORM_TOKEN_LEN], token_b[LF_FORM_TOKEN_LEN], again[LF_FORM_TOKEN_LEN];

    (void)state;
    assert_int_equal(rs_vault_new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &vault, &eb),
                     RS_OK);
    assert_int_equal(rs_vault_new("HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &other, &eb),
                     RS_OK);
    rs_uuid_v4(&a);
    rs_uuid_v4(&b);
    lf_token_form(vault, &a, token);
    lf_token_form(vault, &a, again);
    lf_token_form(vault, &b, token_b);
    assert_int_equal(strlen(token), LF_FORM_TOKEN_LEN - 1);
    assert_string_equal(token, again); /* stateless: the same session gives the same token */
    assert_string_not_equal(token, token_b);
    assert_true(lf_token_form_check(vault, &a, token));
    assert_false(lf_token_form_check(vault, &b, token)); /* another session's form */
    assert_false(lf_token_form_check(other, &a, token)); /* another master key */
    assert_false(lf_token_form_check(vault, &a, ""));
    assert_false(lf_token_form_check(vault, &a, NULL));
    token[0] = token[0] == 'A' ? 'B' : 'A';
    assert_false(lf_token_form_check(vault, &a, token));
    rs_vault_free(vault);
    rs_vault_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expiry_bounds),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_shape_and_hash),
        cmocka_unit_test(test_form_token),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
