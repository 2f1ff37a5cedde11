/*
 * Unit tests for core/rs_sealed.c without a database: the table of sealed columns, the AAD of
 * each, sealing into bytea hex text and opening it, and the sentences that say why a value does
 * not open (the row and the key id named, never the secret).
 */
#include "roster/rs_sealed.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define KEY_A   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* key id 4d6cfaa5c7fce986 */
#define KEY_B   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* key id 8c8586853d1917d7 */
#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"
#define OTHER   "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define SECRET  "{\"api_key\":\"hunter2-plaintext\"}"

static struct rs_vault *vault(const char *key, const char *retired)
{
    struct rs_vault *v = NULL;
    struct rs_errbuf eb = {{0}, {0}};

    assert_int_equal(rs_vault_new(key, &v, &eb), RS_OK);
    assert_int_equal(rs_vault_add_retired(v, retired, &eb), RS_OK);
    return v;
}

static void test_table_and_aad(void **state)
{
    const struct rs_sealed_column *cols;
    char aad[RS_SEALED_AAD_MAX], long_key[300];
    size_t n = 0;

    (void)state;
    cols = rs_sealed_columns(&n);
    assert_int_equal(n, RS_SEALED_COUNT);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cols[i].kind, (enum rs_sealed_kind)i); /* indexed by kind */
    assert_string_equal(cols[RS_SEALED_CREDENTIALS].column, "credentials");
    assert_string_equal(cols[RS_SEALED_ACCESS_TOKEN].column, "access_token");
    assert_string_equal(cols[RS_SEALED_OAUTH_CLIENT_SECRET].table, "oauth_clients");
    /* the AADs every writer has used since the columns exist */
    assert_int_equal(rs_sealed_aad(RS_SEALED_CREDENTIALS, ACCOUNT, NULL, aad), RS_OK);
    assert_string_equal(aad, ACCOUNT);
    assert_int_equal(rs_sealed_aad(RS_SEALED_ACCESS_TOKEN, ACCOUNT, "ignored", aad), RS_OK);
    assert_string_equal(aad, ACCOUNT "/token");
    assert_int_equal(rs_sealed_aad(RS_SEALED_OAUTH_CLIENT_SECRET, ACCOUNT, "bamboohr", aad), RS_OK);
    assert_string_equal(aad, ACCOUNT "/oauth/bamboohr");
    assert_int_equal(rs_sealed_aad(RS_SEALED_LINK_OAUTH_STATE, ACCOUNT, NULL, aad), RS_OK);
    assert_string_equal(aad, ACCOUNT "/oauth-state");
    assert_int_equal(rs_sealed_aad(RS_SEALED_OAUTH_CLIENT_SECRET, ACCOUNT, NULL, aad),
                     RS_ERR_INVALID);
    assert_int_equal(rs_sealed_aad(RS_SEALED_CREDENTIALS, "", NULL, aad), RS_ERR_INVALID);
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_int_equal(rs_sealed_aad(RS_SEALED_CREDENTIALS, long_key, NULL, aad), RS_ERR_INVALID);
}

/* Opens hex as kind for key1; returns the error and the message in eb. */
static enum rs_err open_as(const struct rs_vault *v, enum rs_sealed_kind kind, const char *key1,
                           const char *key2, const char *hex, struct rs_errbuf *eb)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    enum rs_err err;

    rs_errbuf_clear(eb);
    err = rs_sealed_open(v, kind, key1, key2, hex, &plain, &len, eb);
    if (err == RS_OK)
        assert_string_equal((const char *)plain, SECRET);
    rs_vault_free_plain(plain);
    assert_null(strstr(eb->msg, "hunter2"));
    return err;
}

static void test_seal_open_and_why_not(void **state)
{
    struct rs_vault *a = vault(KEY_A, NULL), *b = vault(KEY_B, NULL), *ba = vault(KEY_B, KEY_A);
    struct rs_errbuf eb;
    char *hex = NULL;
    json_t *doc = NULL;

    (void)state;
    assert_int_equal(
        rs_sealed_seal(a, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, SECRET, strlen(SECRET), &hex),
        RS_OK);
    assert_memory_equal(hex, "\\x5256314d6cfaa5c7fce986", 24); /* "RV1" and A's key id */
    assert_null(strstr(hex, "hunter2"));
    assert_int_equal(open_as(a, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, hex, &eb), RS_OK);
    assert_int_equal(open_as(ba, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, hex, &eb), RS_OK);
    assert_int_equal(rs_sealed_open_json(ba, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, hex, &doc, &eb),
                     RS_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "api_key")), "hunter2-plaintext");
    json_decref(doc);
    /* an unknown key: the row, the key id and the settings to fix */
    assert_int_equal(open_as(b, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, hex, &eb), RS_ERR_CRYPTO);
    assert_string_equal(eb.msg, "credentials of linked account " ACCOUNT ": sealed under key id "
                                "4d6cfaa5c7fce986, which is neither ROSTER_MASTER_KEY nor in "
                                "ROSTER_MASTER_KEYS_RETIRED");
    /* another row, or another column of the same row: does not authenticate */
    assert_int_equal(open_as(a, RS_SEALED_CREDENTIALS, OTHER, NULL, hex, &eb), RS_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, "linked account " OTHER ": does not authenticate"));
    assert_int_equal(open_as(a, RS_SEALED_ACCESS_TOKEN, ACCOUNT, NULL, hex, &eb), RS_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, "provider token of linked account"));
    /* a changed byte of the ciphertext */
    hex[strlen(hex) - 1] = hex[strlen(hex) - 1] == '0' ? '1' : '0';
    assert_int_equal(open_as(a, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, hex, &eb), RS_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, "does not authenticate under key id 4d6cfaa5c7fce986"));
    /* not a sealed value, nothing stored */
    assert_int_equal(open_as(a, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, "\\x00010203", &eb),
                     RS_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, "is not sealed"));
    assert_int_equal(open_as(a, RS_SEALED_CREDENTIALS, ACCOUNT, NULL, NULL, &eb), RS_ERR_NOTFOUND);
    assert_int_equal(open_as(a, RS_SEALED_OAUTH_CLIENT_SECRET, ACCOUNT, "testhr", "", &eb),
                     RS_ERR_NOTFOUND);
    assert_non_null(strstr(eb.msg, "client secret of organization " ACCOUNT ", OAuth client "
                                   "testhr"));
    free(hex);
    rs_vault_free(a);
    rs_vault_free(b);
    rs_vault_free(ba);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_aad),
        cmocka_unit_test(test_seal_open_and_why_not),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
