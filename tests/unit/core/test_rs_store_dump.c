/*
 * rs_store_remote_data_dump writes remote_data byte for byte as json_dumps(JSON_COMPACT |
 * JSON_ENCODE_ANY) would: stored rows' content hashes depend on it, so a difference would make
 * the next sync rewrite every row. Compared on the providers' documented fixtures and on edge
 * cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../../core/rs_int.h"
#include "rt_fixture.h"

/* Dumps value both ways and asserts the same bytes. */
static void same_as_jansson(const json_t *value)
{
    char *want = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = 0;
    char *got = rs_store_remote_data_dump(value, &len);

    assert_non_null(want);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void test_edge_cases(void **state)
{
    static const char *const cases[] = {
        "{}",
        "[]",
        "null",
        "[true,false,null,0,-1,9223372036854775807,-9223372036854775808]",
        "{\"b\":1,\"a\":2,\"c\":{\"z\":[],\"y\":{}}}",
        "{\"quote\\\"key\":\"a \\\"quoted\\\" \\\\ back\\\\slash\"}",
        "[\"tab\\there\",\"nl\\nhere\",\"bell\\u0007\",\"nul\\u0000x\",\"del\\u007f\"]",
        "{\"ctl\\u0001key\":1,\"next\":\"x\"}",
        "[\"Zoë Ångström\",\"日本語\",\"emoji 😀\",\"\\u2028 line sep\",\"/slash/\"]",
        "[1.5,-0.0,1e300,3.0,0.1]",
        "[[[[[[[[[[\"deep\"]]]]]]]]]]",
        "[{\"path\":\"/api/v2/datasets/employee/data\",\"data\":{\"id\":\"1\",\"x\":null}}]",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t jerr;
        json_t *value = json_loads(cases[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

        if (!value)
            fail_msg("case %zu does not parse: %s", i, jerr.text);
        same_as_jansson(value);
        json_decref(value);
    }
}

/* Every documented fixture of every provider, whole and record by record. */
static void test_fixtures(void **state)
{
    static const char *const fixtures[][2] = {
        {"tests/unit/providers/fixtures/bamboohr", "dataset_page1.json"},
        {"tests/unit/providers/fixtures/bamboohr", "dataset_page2.json"},
        {"tests/unit/providers/fixtures/bamboohr", "meta_lists.json"},
        {"tests/unit/providers/fixtures/personio", "employees.json"},
        {"tests/unit/providers/fixtures/personio", "sandbox_page.json"},
        {"tests/unit/providers/fixtures/hibob", "employees.json"},
        {"tests/unit/providers/fixtures/hibob", "sandbox_named_lists.json"},
        {"tests/unit/providers/fixtures/hibob", "sandbox_people_search.json"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        char *text = rt_fixture_read(fixtures[i][0], fixtures[i][1], NULL);
        json_t *value = json_loads(text, 0, NULL);
        size_t j;
        json_t *item;

        assert_non_null(value);
        same_as_jansson(value);
        json_array_foreach(json_object_get(value, "data"), j, item) same_as_jansson(item);
        json_decref(value);
        free(text);
    }
}

/* A long string made of runs to copy and characters to escape, past any buffer growth step. */
static void test_long_string(void **state)
{
    size_t n = 3 * 1024 * 1024;
    char *s = malloc(n + 1);
    json_t *value;

    (void)state;
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = "ab\"c\\d/"[i % 7];
    s[n] = '\0';
    value = json_pack("[{s:s}]", "data", s);
    assert_non_null(value);
    same_as_jansson(value);
    json_decref(value);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_long_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
