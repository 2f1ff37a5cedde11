/*
 * Unit tests for core/rs_httpc.c without sockets: the retry verdicts, Retry-After and reset
 * header arithmetic, backoff bounds and jitter, the token bucket on a fake clock, and request
 * validation (which fails before anything is sent). The network paths are in
 * tests/integration/test_httpc.c.
 */
#include "roster/rs_httpc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../core/rs_int.h"

#define SEC INT64_C(1000000)
#define MS  INT64_C(1000)
/* Wed, 21 Oct 2015 07:28:00 GMT */
#define DATE_EPOCH INT64_C(1445412480)

static void test_verdicts(void **state)
{
    static const struct {
        CURLcode code;
        long status;
        enum rs_httpc_verdict verdict;
    } cases[] = {
        {CURLE_OK, 200, RS_HTTPC_DONE},
        {CURLE_OK, 204, RS_HTTPC_DONE},
        {CURLE_OK, 302, RS_HTTPC_DONE},
        {CURLE_OK, 304, RS_HTTPC_DONE},
        {CURLE_OK, 400, RS_HTTPC_DONE},
        {CURLE_OK, 401, RS_HTTPC_DONE},
        {CURLE_OK, 404, RS_HTTPC_DONE},
        {CURLE_OK, 428, RS_HTTPC_DONE},
        {CURLE_OK, 429, RS_HTTPC_THROTTLED},
        {CURLE_OK, 500, RS_HTTPC_RETRY},
        {CURLE_OK, 501, RS_HTTPC_DONE},
        {CURLE_OK, 502, RS_HTTPC_RETRY},
        {CURLE_OK, 503, RS_HTTPC_RETRY},
        {CURLE_OK, 504, RS_HTTPC_RETRY},
        {CURLE_OK, 505, RS_HTTPC_DONE},
        {CURLE_OK, 599, RS_HTTPC_RETRY},
        {CURLE_OK, 600, RS_HTTPC_DONE},
        {CURLE_COULDNT_CONNECT, 0, RS_HTTPC_RETRY},
        {CURLE_COULDNT_RESOLVE_HOST, 0, RS_HTTPC_RETRY},
        {CURLE_OPERATION_TIMEDOUT, 0, RS_HTTPC_RETRY},
        {CURLE_OPERATION_TIMEDOUT, 200, RS_HTTPC_RETRY},
        {CURLE_PARTIAL_FILE, 200, RS_HTTPC_RETRY},
        {CURLE_RECV_ERROR, 0, RS_HTTPC_RETRY},
        {CURLE_SEND_ERROR, 0, RS_HTTPC_RETRY},
        {CURLE_GOT_NOTHING, 0, RS_HTTPC_RETRY},
        {CURLE_WRITE_ERROR, 200, RS_HTTPC_FAIL},
        {CURLE_FILESIZE_EXCEEDED, 200, RS_HTTPC_FAIL},
        {CURLE_URL_MALFORMAT, 0, RS_HTTPC_FAIL},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, RS_HTTPC_FAIL},
        {CURLE_PEER_FAILED_VERIFICATION, 0, RS_HTTPC_FAIL},
        {CURLE_TOO_MANY_REDIRECTS, 0, RS_HTTPC_FAIL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum rs_httpc_verdict got = rs_httpc_verdict(cases[i].code, cases[i].status);

        if (got != cases[i].verdict)
            fail_msg("curl %d status %ld: verdict %d, expected %d", (int)cases[i].code,
                     cases[i].status, (int)got, (int)cases[i].verdict);
    }
}

static bool header(const char *line, const char *name, char *out, size_t outlen)
{
    return rs_httpc_header_value(line, strlen(line), name, out, outlen);
}

static void test_header_value(void **state)
{
    char out[16];

    (void)state;
    assert_true(header("Retry-After: 120\r\n", "Retry-After", out, sizeof(out)));
    assert_string_equal(out, "120");
    assert_true(header("retry-after:\t 7 \t\r\n", "Retry-After", out, sizeof(out)));
    assert_string_equal(out, "7");
    assert_true(header("X-RateLimit-Reset:1700000000", "x-ratelimit-reset", out, sizeof(out)));
    assert_string_equal(out, "1700000000");
    assert_true(header("Retry-After:\r\n", "Retry-After", out, sizeof(out)));
    assert_string_equal(out, "");
    memcpy(out, "kept", 5);
    assert_false(header("Retry-After-Extra: 1\r\n", "Retry-After", out, sizeof(out)));
    assert_false(header("Retry-After : 1\r\n", "Retry-After", out, sizeof(out)));
    assert_false(header("X-Retry-After: 1\r\n", "Retry-After", out, sizeof(out)));
    assert_false(header("Retry-Afte", "Retry-After", out, sizeof(out)));
    assert_false(header("HTTP/1.1 429 Too Many Requests\r\n", "Retry-After", out, sizeof(out)));
    /* a value that does not fit is not cut (a cut number or date would mean something else) */
    assert_false(header("Retry-After: 1234567890123456789\r\n", "Retry-After", out, sizeof(out)));
    assert_string_equal(out, "kept");
}

static void test_retry_after_seconds(void **state)
{
    int64_t delay = -1;
    const int64_t now = DATE_EPOCH * SEC + 300 * MS;

    (void)state;
    assert_true(rs_httpc_parse_retry_after("1", now, &delay));
    assert_int_equal(delay, 1 * SEC + RS_HTTPC_MARGIN_US);
    assert_true(rs_httpc_parse_retry_after("0", now, &delay));
    assert_int_equal(delay, RS_HTTPC_MARGIN_US);
    assert_true(rs_httpc_parse_retry_after("120", now, &delay));
    assert_int_equal(delay, 120 * SEC + RS_HTTPC_MARGIN_US);
    /* absurd values saturate instead of overflowing, and stay longer than any max_wait */
    assert_true(rs_httpc_parse_retry_after("99999999999999999999999999", now, &delay));
    assert_true(delay > INT64_C(1000000000) * SEC);
    assert_true(delay < INT64_MAX / 2);
    delay = -1;
    assert_false(rs_httpc_parse_retry_after("", now, &delay));
    assert_false(rs_httpc_parse_retry_after(NULL, now, &delay));
    assert_false(rs_httpc_parse_retry_after("-1", now, &delay));
    assert_false(rs_httpc_parse_retry_after("1.5", now, &delay));
    assert_false(rs_httpc_parse_retry_after("10s", now, &delay));
    assert_false(rs_httpc_parse_retry_after("soon", now, &delay));
    assert_int_equal(delay, -1);
}

static void test_retry_after_date(void **state)
{
    static const char *const forms[] = {
        "Wed, 21 Oct 2015 07:28:00 GMT",     /* IMF-fixdate */
        "Wednesday, 21-Oct-15 07:28:00 GMT", /* RFC 850 */
        "Wed Oct 21 07:28:00 2015",          /* asctime */
    };
    int64_t delay;

    (void)state;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        /* 5.25 s before the date, by the wall clock */
        assert_true(rs_httpc_parse_retry_after(forms[i], DATE_EPOCH * SEC - 5250 * MS, &delay));
        assert_int_equal(delay, 5250 * MS + RS_HTTPC_MARGIN_US);
    }
    /* a date already past: only the margin */
    assert_true(rs_httpc_parse_retry_after(forms[0], (DATE_EPOCH + 60) * SEC, &delay));
    assert_int_equal(delay, RS_HTTPC_MARGIN_US);
    /* exactly at the date */
    assert_true(rs_httpc_parse_retry_after(forms[0], DATE_EPOCH * SEC, &delay));
    assert_int_equal(delay, RS_HTTPC_MARGIN_US);
}

static void test_reset_epoch(void **state)
{
    const int64_t reset = 1700000000;
    int64_t delay;

    (void)state;
    /* 0.3 s into the second before the reset: wait to the start of the second after it */
    assert_true(rs_httpc_parse_reset("1700000000", (reset - 1) * SEC + 300 * MS, &delay));
    assert_int_equal(delay, 1700 * MS + RS_HTTPC_MARGIN_US);
    /* "no request before the reset" holds wherever in the reset second it really happens */
    assert_true((reset - 1) * SEC + 300 * MS + delay > (reset + 1) * SEC);
    /* within the reset second itself: still wait for the next one */
    assert_true(rs_httpc_parse_reset("1700000000", reset * SEC + 900 * MS, &delay));
    assert_int_equal(delay, 100 * MS + RS_HTTPC_MARGIN_US);
    /* past: unusable, the caller backs off */
    assert_false(rs_httpc_parse_reset("1700000000", (reset + 1) * SEC, &delay));
    assert_false(rs_httpc_parse_reset("1700000000", (reset + 30) * SEC, &delay));
    /* small values are seconds from now, plus one for the same rounding */
    assert_true(rs_httpc_parse_reset("30", reset * SEC, &delay));
    assert_int_equal(delay, 31 * SEC + RS_HTTPC_MARGIN_US);
    assert_true(rs_httpc_parse_reset("0", reset * SEC, &delay));
    assert_int_equal(delay, 1 * SEC + RS_HTTPC_MARGIN_US);
    assert_false(rs_httpc_parse_reset("", reset * SEC, &delay));
    assert_false(rs_httpc_parse_reset(NULL, reset * SEC, &delay));
    assert_false(rs_httpc_parse_reset("1700000000.5", reset * SEC, &delay));
    assert_false(rs_httpc_parse_reset("Wed, 21 Oct 2015 07:28:00 GMT", reset * SEC, &delay));
}

static void test_hint_priority(void **state)
{
    const int64_t now = INT64_C(1700000000) * SEC;
    int64_t delay;

    (void)state;
    assert_true(rs_httpc_hint_delay("2", "1700000010", now, &delay));
    assert_int_equal(delay, 2 * SEC + RS_HTTPC_MARGIN_US);
    /* an unusable Retry-After falls back on the reset header */
    assert_true(rs_httpc_hint_delay("later", "1700000010", now, &delay));
    assert_int_equal(delay, 11 * SEC + RS_HTTPC_MARGIN_US);
    assert_true(rs_httpc_hint_delay("", "1700000010", now, &delay));
    assert_int_equal(delay, 11 * SEC + RS_HTTPC_MARGIN_US);
    assert_true(rs_httpc_hint_delay(NULL, "1700000010", now, &delay));
    assert_false(rs_httpc_hint_delay("", "", now, &delay));
    assert_false(rs_httpc_hint_delay(NULL, NULL, now, &delay));
    assert_false(rs_httpc_hint_delay("x", "1699999990", now, &delay));
}

static void test_backoff_cap(void **state)
{
    (void)state;
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 0), 500 * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 1), 1000 * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 2), 2000 * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 5), 16000 * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 6), 30000 * MS);
    /* no overflow however many retries */
    assert_int_equal(rs_httpc_backoff_cap_us(500, 30000, 1000), 30000 * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(INT64_C(1) << 40, INT64_C(1) << 41, 1000),
                     (INT64_C(1) << 41) * MS);
    assert_int_equal(rs_httpc_backoff_cap_us(0, 30000, 3), 0);
}

static void test_backoff_jitter(void **state)
{
    const int64_t cap = rs_httpc_backoff_cap_us(500, 30000, 2);
    int64_t low = INT64_MAX;
    int64_t high = 0;

    (void)state;
    for (int i = 0; i < 2000; i++) {
        int64_t delay = rs_httpc_backoff_us(500, 30000, 2);

        assert_true(delay >= 0 && delay <= cap);
        low = delay < low ? delay : low;
        high = delay > high ? delay : high;
    }
    /* full jitter spreads over the whole range (each bound misses with odds 2^-2000 or so) */
    assert_true(low < cap / 10);
    assert_true(high > cap - cap / 10);
    for (int i = 0; i < 200; i++)
        assert_true(rs_httpc_backoff_us(500, 30000, 50) <= 30000 * MS);
    assert_int_equal(rs_httpc_backoff_us(0, 0, 0), 0);
}

static void test_throttle_bucket(void **state)
{
    struct rs_throttle t = {0};
    const int64_t t0 = 1000 * SEC; /* any monotonic reading */

    (void)state;
    t.rate_per_s = 2;
    t.burst = 3;
    /* a full bucket: three at once */
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0), 0);
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0), 0);
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0), 0);
    /* then one per 0.5 s: the fourth waits 0.5 s, the fifth (a debt behind it) 1 s */
    assert_in_range(rs_httpc_throttle_reserve(&t, t0), 500 * MS, 500 * MS + 1);
    assert_in_range(rs_httpc_throttle_reserve(&t, t0), 1000 * MS, 1000 * MS + 1);
    /* after the debt is paid and another 0.5 s passed: one token again */
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0 + 1500 * MS), 0);
    assert_in_range(rs_httpc_throttle_reserve(&t, t0 + 1500 * MS), 500 * MS, 500 * MS + 1);
    /* a long idle time refills no more than the burst */
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0 + 3600 * SEC), 0);
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0 + 3600 * SEC), 0);
    assert_int_equal(rs_httpc_throttle_reserve(&t, t0 + 3600 * SEC), 0);
    assert_true(rs_httpc_throttle_reserve(&t, t0 + 3600 * SEC) > 0);
}

static void test_throttle_pace(void **state)
{
    struct rs_throttle t = {0};
    int64_t now = 5 * SEC;
    int sent = 0;

    (void)state;
    t.rate_per_s = 10;
    t.burst = 1;
    /* sleeping each wait out on a fake clock: 10 s of sending is 100 requests, plus the first */
    while (now <= 15 * SEC) {
        now += rs_httpc_throttle_reserve(&t, now);
        if (now <= 15 * SEC)
            sent++;
    }
    assert_in_range(sent, 100, 101);
}

static void test_throttle_disabled(void **state)
{
    struct rs_throttle t = {0};
    struct rs_throttle burst0 = {0};

    (void)state;
    for (int i = 0; i < 100; i++)
        assert_int_equal(rs_httpc_throttle_reserve(&t, 1), 0);
    /* a burst below one still lets one request through at a time */
    burst0.rate_per_s = 1;
    assert_int_equal(rs_httpc_throttle_reserve(&burst0, 10 * SEC), 0);
    assert_in_range(rs_httpc_throttle_reserve(&burst0, 10 * SEC), 1 * SEC, 1 * SEC + 1);
}

static void no_sleep(void *arg, int64_t us)
{
    (void)us;
    (*(int *)arg)++;
}

/* Requests refused before anything is sent (no socket is opened on these paths). */
static void test_invalid_requests(void **state)
{
    static const struct rs_http_header bad_name[] = {{"X Bad", "1"}};
    static const struct rs_http_header bad_value[] = {{"X-Ok", "a\r\nInjected: 1"}};
    struct rs_httpc_options opts = {.max_attempts = 3};
    struct rs_httpc *client = NULL;
    struct rs_errbuf eb;
    int sleeps = 0;
    const struct rs_http_request reqs[] = {
        {.method = "get", .url = "http://93.184.216.34/"},
        {.method = "GET\r\nX: 1", .url = "http://93.184.216.34/"},
        {.method = NULL, .url = "http://93.184.216.34/"},
        {.method = "GET", .url = NULL},
        {.method = "GET", .url = ""},
        {.method = "GET", .url = "http://93.184.216.34/", .headers = bad_name, .nheaders = 1},
        {.method = "GET", .url = "http://93.184.216.34/", .headers = bad_value, .nheaders = 1},
        {.method = "GET", .url = "http://93.184.216.34/", .basic_user = "u", .bearer = "t"},
        {.method = "POST",
         .url = "http://93.184.216.34/",
         .body = "{}",
         .body_len = 2,
         .content_type = "application/json\nX: 1"},
        {.method = "GET", .url = "http://93.184.216.34/", .rate_reset_header = "x reset"},
    };

    (void)state;
    assert_int_equal(rs_httpc_new(&opts, &client), RS_OK);
    rs_httpc_set_sleep_hook(client, no_sleep, &sleeps);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct rs_http_response resp = {0};

        rs_errbuf_clear(&eb);
        if (rs_httpc_send(client, NULL, &reqs[i], &resp, &eb) != RS_ERR_INVALID)
            fail_msg("request %zu was not refused", i);
        assert_true(eb.msg[0] != '\0');
        assert_int_equal(resp.attempts, 0);
        assert_int_equal(resp.status, 0);
        rs_http_response_cleanup(&resp);
    }
    assert_int_equal(sleeps, 0);
    rs_httpc_set_sleep_hook(client, NULL, NULL);
    rs_httpc_free(client);
    rs_httpc_free(NULL);
    rs_http_response_cleanup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_header_value),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_date),
        cmocka_unit_test(test_reset_epoch),
        cmocka_unit_test(test_hint_priority),
        cmocka_unit_test(test_backoff_cap),
        cmocka_unit_test(test_backoff_jitter),
        cmocka_unit_test(test_throttle_bucket),
        cmocka_unit_test(test_throttle_pace),
        cmocka_unit_test(test_throttle_disabled),
        cmocka_unit_test(test_invalid_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
