/* Unit tests for sandbox/sbx_time.c: day numbers, strict dates, Berlin offsets, formats. */
#include "sbx_test.h"

static int64_t at(const char *iso)
{
    int64_t us = 0;

    assert_int_equal(rs_time_parse(iso, &us), RS_OK);
    return us;
}

static void test_days(void **state)
{
    char date[11];
    int32_t day = 0;

    (void)state;
    assert_int_equal(sbx_time_day(0), 0);
    assert_int_equal(sbx_time_day(-1), -1);
    assert_string_equal(sbx_time_date(0, date), "1970-01-01");
    assert_string_equal(sbx_time_date(-1, date), "1969-12-31");
    assert_string_equal(sbx_time_date(sbx_time_day(at("2024-02-29T23:59:59Z")), date),
                        "2024-02-29");
    assert_int_equal(sbx_time_parse_date("2025-01-02", &day), RS_OK);
    assert_int_equal(day, 20090);
    assert_int_equal(sbx_time_parse_date("2025-1-02", &day), RS_ERR_INVALID);
    assert_int_equal(sbx_time_parse_date("2025-02-30", &day), RS_ERR_INVALID);
    assert_int_equal(sbx_time_parse_date("2025-01-02T00:00Z", &day), RS_ERR_INVALID);
    assert_int_equal(sbx_time_parse_date(NULL, &day), RS_ERR_INVALID);
}

static void test_berlin(void **state)
{
    (void)state;
    /* 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC */
    assert_int_equal(sbx_time_berlin_offset(at("2024-01-15T12:00:00Z")), 60);
    assert_int_equal(sbx_time_berlin_offset(at("2024-03-31T00:59:59Z")), 60);
    assert_int_equal(sbx_time_berlin_offset(at("2024-03-31T01:00:00Z")), 120);
    assert_int_equal(sbx_time_berlin_offset(at("2024-07-01T00:00:00Z")), 120);
    assert_int_equal(sbx_time_berlin_offset(at("2024-10-27T00:59:59Z")), 120);
    assert_int_equal(sbx_time_berlin_offset(at("2024-10-27T01:00:00Z")), 60);
    assert_int_equal(sbx_time_berlin_offset(at("2025-03-30T01:00:00Z")), 120);
}

static void test_formats(void **state)
{
    char out[32];

    (void)state;
    assert_string_equal(sbx_time_iso_offset(at("2020-11-18T16:33:55Z"), 60, 'T', out),
                        "2020-11-18T17:33:55+01:00");
    assert_string_equal(sbx_time_iso_offset(at("2014-11-08T23:00:00Z"), 60, ' ', out),
                        "2014-11-09 00:00:00+01:00");
    assert_string_equal(sbx_time_iso_offset(at("2014-11-08T23:00:00Z"), -330, 'T', out),
                        "2014-11-08T17:30:00-05:30");
    assert_string_equal(sbx_time_iso_naive(at("2022-09-16T07:47:44.938494Z"), out),
                        "2022-09-16T07:47:44.938494");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_berlin),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
