/*
 * Unit tests for core/rs_vault.c: master keys, sealing and opening, tampering, retired keys and
 * key ids, key derivation.
 */
#include "roster/rs_vault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

/* base64 of the bytes 0x00..0x1f */
#define KEY_B64       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B64_NOPAD "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
/* base64 of 32 zero bytes */
#define ZERO_KEY_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define AAD          "0f8fad5b-d9cb-469f-a165-70867728950e"
#define OVERHEAD     (3 + 8 + 24 + 16)

static struct rs_vault *vault_ok(const char *b64)
{
    struct rs_vault *vault = NULL;
    struct rs_errbuf eb;

    rs_errbuf_clear(&eb);
    if (rs_vault_new(b64, &vault, &eb) != RS_OK)
        fail_msg("vault_new failed: %s", eb.msg);
    return vault;
}

static void test_master_key_forms(void **state)
{
    struct rs_vault *padded = vault_ok(KEY_B64);
    struct rs_vault *unpadded = vault_ok(KEY_B64_NOPAD);
    struct rs_vault *zero = vault_ok(ZERO_KEY_B64);
    char id1[17];
    char id2[17];

    (void)state;
    /* BLAKE2b-256(key, key="roster-vault-keyid")[:8], computed with Python's hashlib */
    assert_string_equal(rs_vault_key_id(padded, id1), "4d6cfaa5c7fce986");
    assert_string_equal(rs_vault_key_id(unpadded, id2), "4d6cfaa5c7fce986");
    assert_string_equal(rs_vault_key_id(zero, id1), "8c8586853d1917d7");
    rs_vault_free(padded);
    rs_vault_free(unpadded);
    rs_vault_free(zero);
    rs_vault_free(NULL);
}

static void test_bad_master_keys(void **state)
{
    static const char *const bad[] = {
        "",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", /* 33 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",   /* trailing newline */
        " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",    /* leading space */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",    /* extra padding */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAAA", /* junk after padding */
        "-_________________________________________8=",     /* URL-safe alphabet */
        "not base64 at all!",
        "\xff"
        "AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", /* not ASCII */
        "0123456789abcdef0123456789abcdef",            /* 32 characters is not 32 bytes */
    };
    struct rs_vault *vault = NULL;
    struct rs_errbuf eb;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rs_errbuf_clear(&eb);
        if (rs_vault_new(bad[i], &vault, &eb) != RS_ERR_INVALID)
            fail_msg("master key #%zu should be refused", i);
        assert_null(vault);
        assert_true(eb.msg[0] != '\0');
        if (strlen(bad[i]) > 4)
            assert_null(strstr(eb.msg, bad[i])); /* the key is never echoed */
    }
    assert_int_equal(rs_vault_new(NULL, &vault, &eb), RS_ERR_INVALID);
    assert_null(vault);
    /* the standard-alphabet form of the URL-safe key above is fine */
    vault = vault_ok("+/////////////////////////////////////////8=");
    rs_vault_free(vault);
}

static void test_seal_open(void **state)
{
    struct rs_vault *vault = vault_ok(KEY_B64);
    const char secret[] = "{\"api_key\":\"s3cr3t\"}";
    uint8_t *sealed = NULL;
    uint8_t *sealed2 = NULL;
    uint8_t *plain = NULL;
    size_t sealed_len = 0;
    size_t sealed2_len = 0;
    size_t plain_len = 0;

    (void)state;
    assert_int_equal(
        rs_vault_seal(vault, AAD, (const uint8_t *)secret, strlen(secret), &sealed, &sealed_len),
        RS_OK);
    assert_int_equal(sealed_len, strlen(secret) + OVERHEAD);
    assert_memory_equal(sealed, "RV1", 3);
    assert_memory_equal(sealed + 3, "\x4d\x6c\xfa\xa5\xc7\xfc\xe9\x86", 8); /* key id */
    assert_null(memmem(sealed, sealed_len, "s3cr3t", 6));
    assert_int_equal(rs_vault_open(vault, AAD, sealed, sealed_len, &plain, &plain_len), RS_OK);
    assert_int_equal(plain_len, strlen(secret));
    assert_string_equal((const char *)plain, secret); /* NUL-terminated */
    rs_vault_free_plain(plain);
    /* a fresh nonce every time */
    assert_int_equal(
        rs_vault_seal(vault, AAD, (const uint8_t *)secret, strlen(secret), &sealed2, &sealed2_len),
        RS_OK);
    assert_int_equal(sealed2_len, sealed_len);
    assert_memory_not_equal(sealed + 11, sealed2 + 11, 24);
    assert_memory_not_equal(sealed + 35, sealed2 + 35, sealed_len - 35);
    free(sealed);
    free(sealed2);
    rs_vault_free_plain(NULL);
    rs_vault_free(vault);
}

static void test_seal_open_empty(void **state)
{
    struct rs_vault *vault = vault_ok(KEY_B64);
    uint8_t *sealed = NULL;
    uint8_t *plain = NULL;
    size_t sealed_len = 0;
    size_t plain_len = 99;

    (void)state;
    assert_int_equal(rs_vault_seal(vault, "", (const uint8_t *)"", 0, &sealed, &sealed_len), RS_OK);
    assert_int_equal(sealed_len, OVERHEAD);
    assert_int_equal(rs_vault_open(vault, "", sealed, sealed_len, &plain, &plain_len), RS_OK);
    assert_int_equal(plain_len, 0);
    assert_string_equal((const char *)plain, "");
    rs_vault_free_plain(plain);
    free(sealed);
    rs_vault_free(vault);
}

static void expect_no_open(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                           size_t n)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;

    assert_int_equal(rs_vault_open(vault, aad, sealed, n, &plain, &plain_len), RS_ERR_CRYPTO);
    assert_null(plain);
}

static void test_tamper_each_byte(void **state)
{
    struct rs_vault *vault = vault_ok(KEY_B64);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;

    (void)state;
    assert_int_equal(
        rs_vault_seal(vault, AAD, (const uint8_t *)"token-123", 9, &sealed, &sealed_len), RS_OK);
    for (size_t i = 0; i < sealed_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1 << bit);
            expect_no_open(vault, AAD, sealed, sealed_len);
            sealed[i] ^= (uint8_t)(1 << bit);
        }
    }
    for (size_t len = 0; len < sealed_len; len++) /* every truncation */
        expect_no_open(vault, AAD, sealed, len);
    expect_no_open(vault, AAD, NULL, 0);
    free(sealed);
    rs_vault_free(vault);
}

static void test_wrong_aad_or_key(void **state)
{
    struct rs_vault *vault = vault_ok(KEY_B64);
    struct rs_vault *other = vault_ok(ZERO_KEY_B64);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;

    (void)state;
    assert_int_equal(rs_vault_seal(vault, AAD, (const uint8_t *)"pw", 2, &sealed, &sealed_len),
                     RS_OK);
    expect_no_open(vault, "0f8fad5b-d9cb-469f-a165-70867728950f", sealed, sealed_len);
    expect_no_open(vault, "", sealed, sealed_len);
    expect_no_open(vault, AAD "x", sealed, sealed_len);
    /* another key: unknown key id */
    expect_no_open(other, AAD, sealed, sealed_len);
    /* another key even when the key id is made to match: the tag fails */
    memcpy(sealed + 3, "\x8c\x85\x86\x85\x3d\x19\x17\xd7", 8);
    expect_no_open(other, AAD, sealed, sealed_len);
    free(sealed);
    rs_vault_free(vault);
    rs_vault_free(other);
}

static void test_derive(void **state)
{
    struct rs_vault *a = vault_ok(KEY_B64);
    struct rs_vault *b = vault_ok(KEY_B64_NOPAD);
    struct rs_vault *other = vault_ok(ZERO_KEY_B64);
    uint8_t k1[32];
    uint8_t k2[32];
    char hex[65];

    (void)state;
    /* libsodium crypto_kdf = BLAKE2b(key, salt=id LE, person=purpose), checked with hashlib */
    rs_vault_derive(a, "cursor01", 0, k1);
    assert_string_equal(sodium_bin2hex(hex, sizeof(hex), k1, 32),
                        "c68da4a50c1ac5a6d13b4ea5b9ed5e9ddd9125e535bcd6158358dd324c421cf9");
    rs_vault_derive(a, "cursor01", 7, k1);
    assert_string_equal(sodium_bin2hex(hex, sizeof(hex), k1, 32),
                        "e0f7ec7d159f920bbeda3869fdee50a107014c6c9cd4623cd832b10770280d4a");
    /* deterministic across instances with the same master key */
    rs_vault_derive(b, "cursor01", 7, k2);
    assert_memory_equal(k1, k2, 32);
    /* separated by purpose, subkey id and master key */
    rs_vault_derive(a, "webhook1", 7, k2);
    assert_memory_not_equal(k1, k2, 32);
    rs_vault_derive(a, "cursor01", 8, k2);
    assert_memory_not_equal(k1, k2, 32);
    rs_vault_derive(other, "cursor01", 7, k2);
    assert_memory_not_equal(k1, k2, 32);
    rs_vault_free(a);
    rs_vault_free(b);
    rs_vault_free(other);
}

/* base64 of the bytes 0x20..0x3f: a third key */
#define KEY3_B64 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static void seal_text(const struct rs_vault *vault, const char *aad, const char *text,
                      uint8_t **sealed, size_t *len)
{
    assert_int_equal(rs_vault_seal(vault, aad, (const uint8_t *)text, strlen(text), sealed, len),
                     RS_OK);
}

static void expect_opens(const struct rs_vault *vault, const char *aad, const uint8_t *sealed,
                         size_t n, const char *want)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;

    assert_int_equal(rs_vault_open(vault, aad, sealed, n, &plain, &plain_len), RS_OK);
    assert_int_equal(plain_len, strlen(want));
    assert_string_equal((const char *)plain, want);
    rs_vault_free_plain(plain);
}

static struct rs_vault *vault_with_retired(const char *current, const char *retired)
{
    struct rs_vault *vault = vault_ok(current);
    struct rs_errbuf eb;

    rs_errbuf_clear(&eb);
    if (rs_vault_add_retired(vault, retired, &eb) != RS_OK)
        fail_msg("add_retired failed: %s", eb.msg);
    return vault;
}

/* A value sealed under the old key opens once that key is retired; new values use the new key. */
static void test_open_with_retired_key(void **state)
{
    struct rs_vault *old = vault_ok(KEY_B64);
    struct rs_vault *rotated = vault_with_retired(ZERO_KEY_B64, " " KEY_B64 " ,");
    struct rs_vault *dropped = vault_ok(ZERO_KEY_B64);
    uint8_t *sealed = NULL, *fresh = NULL;
    size_t sealed_len = 0, fresh_len = 0;
    char id[17];

    (void)state;
    assert_int_equal(rs_vault_key_count(rotated), 2);
    assert_string_equal(rs_vault_key_id(rotated, id), "8c8586853d1917d7"); /* the new key seals */
    seal_text(old, AAD, "old-secret", &sealed, &sealed_len);
    assert_int_equal(rs_vault_key_of(rotated, sealed, sealed_len, id), RS_VAULT_KEY_RETIRED);
    assert_string_equal(id, "4d6cfaa5c7fce986");
    expect_opens(rotated, AAD, sealed, sealed_len, "old-secret");
    expect_no_open(rotated, AAD "x", sealed, sealed_len); /* the retired key checks the AAD too */
    seal_text(rotated, AAD, "new-secret", &fresh, &fresh_len);
    assert_memory_equal(fresh + 3, "\x8c\x85\x86\x85\x3d\x19\x17\xd7", 8);
    assert_int_equal(rs_vault_key_of(rotated, fresh, fresh_len, id), RS_VAULT_KEY_CURRENT);
    expect_opens(rotated, AAD, fresh, fresh_len, "new-secret");
    /* the old key alone cannot open what the new one sealed: its id is unknown there */
    assert_int_equal(rs_vault_key_of(old, fresh, fresh_len, id), RS_VAULT_KEY_UNKNOWN);
    assert_string_equal(id, "8c8586853d1917d7");
    expect_no_open(old, AAD, fresh, fresh_len);
    /* once the retired key is dropped, the old value names an unknown key and fails */
    assert_int_equal(rs_vault_key_of(dropped, sealed, sealed_len, id), RS_VAULT_KEY_UNKNOWN);
    assert_string_equal(id, "4d6cfaa5c7fce986");
    expect_no_open(dropped, AAD, sealed, sealed_len);
    free(sealed);
    free(fresh);
    rs_vault_free(old);
    rs_vault_free(rotated);
    rs_vault_free(dropped);
}

/* Changing the key id to another configured key's id selects that key, whose tag then fails. */
static void test_changed_key_id_between_known_keys(void **state)
{
    struct rs_vault *vault = vault_with_retired(KEY_B64, ZERO_KEY_B64 "," KEY3_B64);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    char id[17];

    (void)state;
    assert_int_equal(rs_vault_key_count(vault), 3);
    seal_text(vault, AAD, "secret", &sealed, &sealed_len);
    expect_opens(vault, AAD, sealed, sealed_len, "secret");
    memcpy(sealed + 3, "\x8c\x85\x86\x85\x3d\x19\x17\xd7", 8); /* the zero key's id */
    assert_int_equal(rs_vault_key_of(vault, sealed, sealed_len, id), RS_VAULT_KEY_RETIRED);
    expect_no_open(vault, AAD, sealed, sealed_len);
    memcpy(sealed + 3, "\x00\x01\x02\x03\x04\x05\x06\x07", 8); /* nobody's id */
    assert_int_equal(rs_vault_key_of(vault, sealed, sealed_len, id), RS_VAULT_KEY_UNKNOWN);
    assert_string_equal(id, "0001020304050607");
    expect_no_open(vault, AAD, sealed, sealed_len);
    /* not a sealed value at all */
    assert_int_equal(rs_vault_key_of(vault, (const uint8_t *)"RV2", 3, id), RS_VAULT_NOT_SEALED);
    assert_string_equal(id, "");
    sealed[0] = 'X';
    assert_int_equal(rs_vault_key_of(vault, sealed, sealed_len, id), RS_VAULT_NOT_SEALED);
    assert_int_equal(rs_vault_key_of(vault, NULL, 0, id), RS_VAULT_NOT_SEALED);
    free(sealed);
    rs_vault_free(vault);
}

static void test_retired_key_list(void **state)
{
    static const char *const bad[] = {
        KEY3_B64 ",AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", /* #2 is 31 bytes */
        KEY3_B64 ",not-base64!",
        KEY3_B64 "," KEY3_B64 "AAAA",
    };
    struct rs_vault *vault = NULL;
    struct rs_errbuf eb;

    (void)state;
    /* empty lists, the current key repeated and duplicates add nothing */
    vault = vault_with_retired(KEY_B64, "");
    assert_int_equal(rs_vault_key_count(vault), 1);
    assert_int_equal(rs_vault_add_retired(vault, NULL, &eb), RS_OK);
    assert_int_equal(rs_vault_add_retired(vault, " , ,", &eb), RS_OK);
    assert_int_equal(rs_vault_add_retired(vault, KEY_B64 "," KEY_B64_NOPAD, &eb), RS_OK);
    assert_int_equal(rs_vault_key_count(vault), 1);
    assert_int_equal(rs_vault_add_retired(vault, KEY3_B64 ", " KEY3_B64, &eb), RS_OK);
    assert_int_equal(rs_vault_key_count(vault), 2);
    rs_vault_free(vault);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vault = vault_ok(KEY_B64);
        rs_errbuf_clear(&eb);
        assert_int_equal(rs_vault_add_retired(vault, bad[i], &eb), RS_ERR_INVALID);
        if (!strstr(eb.msg, "retired key #2"))
            fail_msg("case %zu: the error does not name the key's position: %s", i, eb.msg);
        assert_null(strstr(eb.msg, KEY3_B64)); /* never echoed */
        rs_vault_free(vault);
    }
    /* at most RS_VAULT_MAX_KEYS keys: 8 distinct ones fit, the 9th is refused */
    {
        char list[1024] = "";
        size_t used = 0;
        uint8_t key[32];
        char b64[64];

        vault = vault_ok(KEY_B64);
        for (int k = 1; k <= RS_VAULT_MAX_KEYS; k++) {
            memset(key, 0x40 + k, sizeof(key));
            sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
            used +=
                (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", k > 1 ? "," : "", b64);
        }
        rs_errbuf_clear(&eb);
        assert_int_equal(rs_vault_add_retired(vault, list, &eb), RS_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "more than 8"));
        assert_int_equal(rs_vault_key_count(vault), RS_VAULT_MAX_KEYS);
        rs_vault_free(vault);
    }
}

static void test_derive_all(void **state)
{
    struct rs_vault *rotated = vault_with_retired(ZERO_KEY_B64, KEY_B64);
    struct rs_vault *old = vault_ok(KEY_B64);
    uint8_t all[RS_VAULT_MAX_KEYS][32];
    uint8_t one[32];

    (void)state;
    rs_vault_derive_all(rotated, "cursor01", 1, all, RS_VAULT_MAX_KEYS);
    rs_vault_derive(rotated, "cursor01", 1, one);
    assert_memory_equal(all[0], one, 32); /* the current key's subkey first */
    rs_vault_derive(old, "cursor01", 1, one);
    assert_memory_equal(all[1], one, 32); /* then the retired key's */
    rs_vault_free(rotated);
    rs_vault_free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_key_forms),
        cmocka_unit_test(test_bad_master_keys),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_seal_open_empty),
        cmocka_unit_test(test_tamper_each_byte),
        cmocka_unit_test(test_wrong_aad_or_key),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_open_with_retired_key),
        cmocka_unit_test(test_changed_key_id_between_known_keys),
        cmocka_unit_test(test_retired_key_list),
        cmocka_unit_test(test_derive_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
