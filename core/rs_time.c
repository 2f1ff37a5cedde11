/*
 * Time as microseconds since the Unix epoch: clocks, and strict ISO-8601 parsing and
 * formatting done with calendar arithmetic only (no timegm, TZ or locale involved).
 */
#include "roster/rs_time.h"

#include <stdbool.h>
#include <time.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: what four-digit years can show. */
#define TIME_MIN_US INT64_C(-62135596800000000)
#define TIME_MAX_US INT64_C(253402300799999999)

static int64_t clock_us(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t rs_time_now_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

int64_t rs_time_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era;
    int64_t doe;
    int64_t yoe;
    int64_t doy;
    int64_t mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly count digits; stops at the first non-digit, so never reads past a NUL. */
static bool read_digits(const char **pp, int count, int *out)
{
    int value = 0;

    for (int i = 0; i < count; i++) {
        char c = (*pp)[i];

        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    *pp += count;
    *out = value;
    return true;
}

static bool read_char(const char **pp, char c)
{
    if (**pp != c)
        return false;
    (*pp)++;
    return true;
}

/* YYYY-MM-DD into days since the epoch. */
static bool parse_date(const char **pp, int64_t *days)
{
    int y;
    int m;
    int d;

    if (!read_digits(pp, 4, &y) || !read_char(pp, '-') || !read_digits(pp, 2, &m) ||
        !read_char(pp, '-') || !read_digits(pp, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

/* .frac: one to nine digits, kept to the microsecond (truncated). */
static bool parse_fraction(const char **pp, int64_t *us)
{
    int64_t value = 0;
    int count = 0;

    while (**pp >= '0' && **pp <= '9') {
        if (++count > 9)
            return false;
        if (count <= 6)
            value = value * 10 + (**pp - '0');
        (*pp)++;
    }
    if (count == 0)
        return false;
    for (; count < 6; count++)
        value *= 10;
    *us = value;
    return true;
}

/* HH:MM[:SS[.frac]] into microseconds since midnight. */
static bool parse_clock(const char **pp, int64_t *us)
{
    int hh;
    int mm;
    int ss = 0;
    int64_t frac = 0;

    if (!read_digits(pp, 2, &hh) || !read_char(pp, ':') || !read_digits(pp, 2, &mm))
        return false;
    if (read_char(pp, ':')) {
        if (!read_digits(pp, 2, &ss))
            return false;
        if (read_char(pp, '.') && !parse_fraction(pp, &frac))
            return false;
    }
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    *us = ((int64_t)hh * 3600 + mm * 60 + ss) * US_PER_SEC + frac;
    return true;
}

/* Z, ±HH:MM, ±HHMM or nothing, into the offset east of UTC in microseconds. */
static bool parse_zone(const char **pp, int64_t *offset_us)
{
    int sign;
    int hh;
    int mm;

    *offset_us = 0;
    if (**pp == '\0')
        return true;
    if (read_char(pp, 'Z'))
        return true;
    if (**pp != '+' && **pp != '-')
        return false;
    sign = **pp == '-' ? -1 : 1;
    (*pp)++;
    if (!read_digits(pp, 2, &hh))
        return false;
    (void)read_char(pp, ':');
    if (!read_digits(pp, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *offset_us = sign * ((int64_t)hh * 3600 + mm * 60) * US_PER_SEC;
    return true;
}

enum rs_err rs_time_parse(const char *text, int64_t *out_us)
{
    const char *p = text;
    int64_t days;
    int64_t clock = 0;
    int64_t offset = 0;

    if (!p || !parse_date(&p, &days))
        return RS_ERR_INVALID;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!parse_clock(&p, &clock) || !parse_zone(&p, &offset))
            return RS_ERR_INVALID;
    }
    if (*p != '\0')
        return RS_ERR_INVALID;
    *out_us = days * US_PER_DAY + clock - offset;
    return RS_OK;
}

/* Writes value as exactly width decimal digits (zero-padded); returns the end. */
static char *put_digits(char *p, int64_t value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return p + width;
}

char *rs_time_format(int64_t us, char out[RS_TIME_ISO_LEN])
{
    int64_t days;
    int64_t rem;
    int y;
    int m;
    int d;
    char *p = out;

    /* Clamped so the year always has four digits and the text fits RS_TIME_ISO_LEN. */
    us = us < TIME_MIN_US ? TIME_MIN_US : us > TIME_MAX_US ? TIME_MAX_US : us;
    days = us / US_PER_DAY;
    rem = us % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, rem / (3600 * US_PER_SEC), 2);
    *p++ = ':';
    p = put_digits(p, rem / (60 * US_PER_SEC) % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem / US_PER_SEC % 60, 2);
    if (rem % US_PER_SEC != 0) {
        *p++ = '.';
        p = put_digits(p, rem % US_PER_SEC, 6);
    }
    *p++ = 'Z';
    *p = '\0';
    return out;
}
