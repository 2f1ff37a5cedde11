/* Unit tests for core/rs_time.c: strict ISO-8601 parsing, formatting and the calendar maths. */
#include "roster/rs_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static int64_t parse_ok(const char *text)
{
    int64_t us = 0;

    if (rs_time_parse(text, &us) != RS_OK)
        fail_msg("expected \"%s\" to parse", text);
    return us;
}

static void test_parse_valid(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00Z"), 0);
    assert_int_equal(parse_ok("2000-01-01T00:00:00Z"), RS_TIME_PG_EPOCH_US);
    /* expected values computed with Python's datetime */
    assert_int_equal(parse_ok("2021-09-15T00:00:00.123456Z"), 1631664000123456);
    assert_int_equal(parse_ok("2024-02-29T12:34:56Z"), 1709210096000000);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000000);
    assert_int_equal(parse_ok("0001-01-01"), INT64_C(-62135596800000000));
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), INT64_C(253402300799000000));
    assert_int_equal(parse_ok("2021-03-04T05:06:07+05:30"), 1614814567000000);
    assert_int_equal(parse_ok("2021-03-04T05:06:07+0530"), 1614814567000000);
    assert_int_equal(parse_ok("2021-03-03T18:06:07-05:30"), 1614814567000000);
    assert_int_equal(parse_ok("2021-03-03T23:36:07"), 1614814567000000);  /* no zone: UTC */
    assert_int_equal(parse_ok("2021-03-03 23:36:07Z"), 1614814567000000); /* space for T */
    assert_int_equal(parse_ok("2021-03-03T23:36Z"), 1614814560000000);
    assert_int_equal(parse_ok("2021-03-03T23:36:07+00:00"), 1614814567000000);
    assert_int_equal(parse_ok("2021-03-03T23:36:07-00:00"), 1614814567000000);
}

static void test_parse_fractions(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), 500000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.05Z"), 50000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.000001Z"), 1);
    /* nanoseconds are accepted and truncated to the microsecond */
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123456789Z"), 123456);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.9999999"), 999999);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.5Z"), -500000);
}

static void test_parse_leap_days(void **state)
{
    int64_t us;

    (void)state;
    assert_int_equal(rs_time_parse("2024-02-29", &us), RS_OK); /* divisible by 4 */
    assert_int_equal(rs_time_parse("2000-02-29", &us), RS_OK); /* divisible by 400 */
    assert_int_equal(rs_time_parse("2023-02-29", &us), RS_ERR_INVALID);
    assert_int_equal(rs_time_parse("1900-02-29", &us), RS_ERR_INVALID); /* by 100, not 400 */
    assert_int_equal(rs_time_parse("2100-02-29", &us), RS_ERR_INVALID);
    assert_int_equal(rs_time_parse("2024-02-30", &us), RS_ERR_INVALID);
    assert_int_equal(rs_time_parse("2023-02-28", &us), RS_OK);
}

/* Each is RS_ERR_INVALID. */
static const char *const invalid_times[] = {
    "",
    "2021",
    "2021-01",
    "2021-1-01",
    "2021-01-1",
    "21-01-01",
    "02021-01-01",
    "0000-01-01",
    "2021-00-01",
    "2021-13-01",
    "2021-01-00",
    "2021-01-32",
    "2021-04-31",
    "2021-06-31",
    "2021-09-31",
    "2021-11-31",
    "2021/01/01",
    "2021-01-01Z",
    "2021-01-01T",
    "2021-01-01 ",
    "2021-01-01T1",
    "2021-01-01T12",
    "2021-01-01T12:",
    "2021-01-01T12:0",
    "2021-01-01T24:00:00Z",
    "2021-01-01T25:00Z",
    "2021-01-01T12:60Z",
    "2021-01-01T12:00:60Z",
    "2021-01-01T12:00:5Z",
    "2021-01-01T12:00.5Z",
    "2021-01-01T12:00:00.Z",
    "2021-01-01T12:00:00.1234567890Z",
    "2021-01-01T12:00:00,5Z",
    "2021-01-01T12:00:00z",
    "2021-01-01t12:00:00Z",
    "2021-01-01T12:00:00+02",
    "2021-01-01T12:00:00+2:00",
    "2021-01-01T12:00:00+02:0",
    "2021-01-01T12:00:00+24:00",
    "2021-01-01T12:00:00+02:60",
    "2021-01-01T12:00:00+02:00:00",
    "2021-01-01T12:00:00 Z",
    "2021-01-01T12:00:00ZZ",
    "2021-01-01T12:00:00Zjunk",
    "2021-01-01junk",
    "2021-01-01T12:00:00+02:00x",
    " 2021-01-01",
    "2021-01-01T12:00:00\n",
    "-001-01-01",
    "+2021-01-01",
    "2021-01-01T-1:00Z",
    "2021-01-01T12:00:00UTC",
    "2O21-01-01",
};

static void test_parse_invalid(void **state)
{
    int64_t us = 77;

    (void)state;
    for (size_t i = 0; i < sizeof(invalid_times) / sizeof(invalid_times[0]); i++) {
        if (rs_time_parse(invalid_times[i], &us) != RS_ERR_INVALID)
            fail_msg("\"%s\" should be invalid", invalid_times[i]);
    }
    assert_int_equal(us, 77); /* untouched on failure */
    assert_int_equal(rs_time_parse(NULL, &us), RS_ERR_INVALID);
}

static void check_format(int64_t us, const char *expected)
{
    char out[RS_TIME_ISO_LEN];

    assert_ptr_equal(rs_time_format(us, out), out);
    assert_string_equal(out, expected);
}

static void test_format(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00Z");
    check_format(1631664000123456, "2021-09-15T00:00:00.123456Z");
    check_format(1631664000000001, "2021-09-15T00:00:00.000001Z");
    check_format(1631664000100000, "2021-09-15T00:00:00.100000Z");
    check_format(-1, "1969-12-31T23:59:59.999999Z");
    check_format(-1000000, "1969-12-31T23:59:59Z");
    check_format(1709210096000000, "2024-02-29T12:34:56Z");
    check_format(RS_TIME_PG_EPOCH_US, "2000-01-01T00:00:00Z");
    check_format(INT64_C(-62135596800000000), "0001-01-01T00:00:00Z");
    check_format(INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z");
    /* outside four-digit years: clamped, and never longer than RS_TIME_ISO_LEN */
    check_format(INT64_MAX, "9999-12-31T23:59:59.999999Z");
    check_format(INT64_MIN, "0001-01-01T00:00:00Z");
    assert_int_equal(strlen("9999-12-31T23:59:59.999999Z") + 1, RS_TIME_ISO_LEN);
}

/* Round trips across the whole range, and the day arithmetic against the C library's. */
static void test_round_trip(void **state)
{
    const int64_t lo = INT64_C(-62135596800000000);
    const int64_t hi = INT64_C(253402300799999999);
    const int64_t step = INT64_C(9876543210987); /* about 114 days and not a round number */
    char text[RS_TIME_ISO_LEN];
    int64_t back;

    (void)state;
    for (int64_t us = lo; us <= hi - step; us += step) {
        rs_time_format(us, text);
        assert_int_equal(rs_time_parse(text, &back), RS_OK);
        assert_int_equal(back, us);
    }
    for (int64_t day = -719162; day <= 2932896; day += 367) {
        struct tm tm;
        time_t secs = (time_t)day * 86400 + 3723;

        assert_non_null(gmtime_r(&secs, &tm));
        rs_time_format((int64_t)secs * 1000000, text);
        assert_int_equal(rs_time_parse(text, &back), RS_OK);
        assert_int_equal(back, (int64_t)timegm(&tm) * 1000000);
        assert_int_equal(strtol(text, NULL, 10), tm.tm_year + 1900);
    }
}

static void test_clocks(void **state)
{
    int64_t m1;
    int64_t m2;

    (void)state;
    assert_true(rs_time_now_us() > INT64_C(1600000000000000)); /* after 2020-09 */
    m1 = rs_time_mono_us();
    m2 = rs_time_mono_us();
    assert_true(m2 >= m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),     cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_leap_days), cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),          cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
