/* Unit tests for linkflow/lf_oauth_pending.c: the state's hash and the sealed record's shape
   (the database half runs in tests/e2e/test_link_oauth.c). */
#include "roster/lf_oauth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" /* RFC 7636 appendix B */
#define LINK     "lt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void test_hash(void **state)
{
    char state_text[LF_OAUTH_B64_32], hash[LF_HASH_HEX_LEN], again[LF_HASH_HEX_LEN];
    char want[LF_HASH_HEX_LEN];
    uint8_t digest[crypto_hash_sha256_BYTES];

    (void)state;
    lf_oauth_state_new(state_text);
    assert_true(lf_oauth_pending_hash(state_text, hash));
    /* the hex of SHA-256(state): what PostgreSQL's sha256() of the same text gives */
    crypto_hash_sha256(digest, (const uint8_t *)state_text, strlen(state_text));
    sodium_bin2hex(want, sizeof(want), digest, sizeof(digest));
    assert_string_equal(hash, want);
    assert_true(lf_oauth_pending_hash(state_text, again));
    assert_string_equal(hash, again);
    assert_null(strstr(hash, state_text));
    /* only the shape of our states is ever stored or looked up */
    assert_false(lf_oauth_pending_hash(NULL, hash));
    assert_false(lf_oauth_pending_hash("", hash));
    assert_false(lf_oauth_pending_hash("short", hash));
    state_text[10] = '+';
    assert_false(lf_oauth_pending_hash(state_text, hash));
}

static void test_secrets_round_trip(void **state)
{
    struct lf_oauth_pending p = {.fields = json_pack("{s:s}", "subdomain", "acme")}, back = {0};
    json_t *secrets = NULL;

    (void)state;
    snprintf(p.code_verifier, sizeof(p.code_verifier), "%s", VERIFIER);
    snprintf(p.link_token, sizeof(p.link_token), "%s", LINK);
    assert_int_equal(lf_oauth_pending_secrets(&p, &secrets), RS_OK);
    assert_int_equal(json_object_size(secrets), 3);
    assert_string_equal(json_string_value(json_object_get(secrets, "code_verifier")), VERIFIER);
    assert_int_equal(lf_oauth_pending_open_secrets(secrets, &back), RS_OK);
    assert_string_equal(back.code_verifier, VERIFIER);
    assert_string_equal(back.link_token, LINK);
    assert_true(json_equal(back.fields, p.fields));
    json_decref(secrets);
    lf_oauth_pending_cleanup(&back);
    assert_null(back.fields);
    assert_string_equal(back.code_verifier, "");
    /* no fields: an empty object */
    json_decref(p.fields);
    p.fields = NULL;
    assert_int_equal(lf_oauth_pending_secrets(&p, &secrets), RS_OK);
    assert_true(json_is_object(json_object_get(secrets, "fields")));
    assert_int_equal(json_object_size(json_object_get(secrets, "fields")), 0);
    json_decref(secrets);
    lf_oauth_pending_cleanup(&p);
}

static void expect_refused(const char *text)
{
    struct lf_oauth_pending p = {0};
    json_t *secrets = json_loads(text, 0, NULL);

    assert_non_null(secrets);
    if (lf_oauth_pending_open_secrets(secrets, &p) != RS_ERR_INVALID)
        fail_msg("accepted: %s", text);
    json_decref(secrets);
    lf_oauth_pending_cleanup(&p);
}

static void test_secrets_refused(void **state)
{
    (void)state;
    expect_refused("[]");
    expect_refused("{}");
    expect_refused("{\"code_verifier\":\"" VERIFIER "\",\"link_token\":\"" LINK "\"}");
    expect_refused("{\"code_verifier\":\"" VERIFIER "\",\"link_token\":\"" LINK
                   "\",\"fields\":[]}");
    expect_refused("{\"code_verifier\":\"short\",\"link_token\":\"" LINK "\",\"fields\":{}}");
    expect_refused("{\"code_verifier\":\"" VERIFIER "\",\"link_token\":\"pt_x\",\"fields\":{}}");
    expect_refused("{\"code_verifier\":\"" VERIFIER "\",\"link_token\":\"" LINK
                   "\",\"fields\":{},\"more\":1}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_secrets_round_trip),
        cmocka_unit_test(test_secrets_refused),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
