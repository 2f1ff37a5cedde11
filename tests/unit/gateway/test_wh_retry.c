/*
 * Unit tests for gateway/wh_retry.c: the default schedule (about 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h, then dead), the jitter's bounds (every delay within +-10%, both ends reached),
 * Retry-After, and the parsing of webhook_retry_schedule_ms.
 */
#include "wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The default of webhook_retry_schedule_ms (core/rs_config.c). */
#define DEFAULT_SCHEDULE "5000,300000,1800000,7200000,18000000,36000000,36000000"

static void test_default_schedule(void **state)
{
    static const int64_t want[] = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
    struct wh_schedule s;
    int64_t delay = -1, total = 0;

    (void)state;
    assert_int_equal(wh_schedule_parse(DEFAULT_SCHEDULE, &s), RS_OK);
    assert_int_equal(s.n, 7);
    for (int i = 0; i < s.n; i++) {
        assert_int_equal(s.delay_ms[i], want[i]);
        /* the middle of the jitter range is the schedule's delay */
        assert_true(wh_retry_delay_ms(&s, i + 1, UINT32_C(1) << 31, &delay));
        assert_true(delay >= want[i] - 1 && delay <= want[i] + 1);
        total += delay;
    }
    /* 8 attempts over about 27.5 hours, then the message is dead */
    assert_true(total > INT64_C(98000000) && total < INT64_C(100000000));
    assert_false(wh_retry_delay_ms(&s, 8, 0, &delay));
    assert_false(wh_retry_delay_ms(&s, 0, 0, &delay));
}

static void test_jitter_bounds(void **state)
{
    struct wh_schedule s;
    int64_t delay, lo = INT64_MAX, hi = 0;

    (void)state;
    assert_int_equal(wh_schedule_parse(DEFAULT_SCHEDULE, &s), RS_OK);
    for (int f = 1; f <= s.n; f++) {
        int64_t base = s.delay_ms[f - 1], spread = base / 10;

        assert_true(wh_retry_delay_ms(&s, f, 0, &delay));
        assert_int_equal(delay, base - spread); /* lowest draw: -10% */
        assert_true(wh_retry_delay_ms(&s, f, UINT32_MAX, &delay));
        assert_int_equal(delay, base + spread); /* highest draw: +10% */
        for (uint32_t r = 0; r < UINT32_C(4000000000); r += UINT32_C(123456789)) {
            assert_true(wh_retry_delay_ms(&s, f, r, &delay));
            assert_true(delay >= base - spread && delay <= base + spread);
            if (f == 1) {
                lo = delay < lo ? delay : lo;
                hi = delay > hi ? delay : hi;
            }
        }
    }
    /* the draws spread over the range (5 s: 4.5 s to 5.5 s) */
    assert_true(lo < 4600 && hi > 5400);
}

static void test_small_delays(void **state)
{
    struct wh_schedule s;
    int64_t delay;

    (void)state;
    /* the e2e tests' fast schedule: 1 ms cannot jitter below 1 ms */
    assert_int_equal(wh_schedule_parse("1,20,40", &s), RS_OK);
    assert_int_equal(s.n, 3);
    assert_true(wh_retry_delay_ms(&s, 1, UINT32_MAX, &delay));
    assert_int_equal(delay, 1);
    assert_true(wh_retry_delay_ms(&s, 2, 0, &delay));
    assert_int_equal(delay, 18);
    assert_true(wh_retry_delay_ms(&s, 3, UINT32_MAX, &delay));
    assert_int_equal(delay, 44);
    assert_false(wh_retry_delay_ms(&s, 4, 0, &delay));
}

static void test_retry_after(void **state)
{
    (void)state;
    /* a receiver asking for longer than the schedule gets it; shorter does not shorten it */
    assert_int_equal(wh_retry_honour(5000, 60000), 60000);
    assert_int_equal(wh_retry_honour(300000, 1000), 300000);
    assert_int_equal(wh_retry_honour(300000, 0), 300000);
    /* a year is read as a day */
    assert_int_equal(wh_retry_honour(5000, INT64_C(31536000000)), WH_RETRY_AFTER_MAX_MS);
}

static void test_parse_refused(void **state)
{
    static const char *const bad[] = {"",
                                      ",",
                                      "5,",
                                      ",5",
                                      "5,,6",
                                      "5 ,6",
                                      "-5",
                                      "0",
                                      "5ms",
                                      "1.5",
                                      "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21"};
    struct wh_schedule s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (wh_schedule_parse(bad[i], &s) != RS_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(wh_schedule_parse(NULL, &s), RS_ERR_INVALID);
    assert_int_equal(wh_schedule_parse("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20", &s),
                     RS_OK);
    assert_int_equal(s.n, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_schedule), cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_small_delays),     cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_parse_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
