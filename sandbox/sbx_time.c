/*
 * Calendar helpers for the emulated APIs: plain dates as day numbers, and the zoned formats the
 * providers answer with (Personio's Europe/Berlin offsets, HiBob's zone-less timestamps).
 */
#include "sbx_int.h"

#include <stdio.h>
#include <string.h>

#include "roster/rs_time.h"

/* Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian. */
static int32_t days_from_civil(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
    int era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

int32_t sbx_time_day(int64_t us)
{
    int64_t day = us / SBX_US_PER_DAY;

    if (us < 0 && us % SBX_US_PER_DAY != 0)
        day--;
    return (int32_t)day;
}

char *sbx_time_date(int32_t day, char out[11])
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
    return out;
}

enum rs_err sbx_time_parse_date(const char *text, int32_t *day)
{
    int64_t us;

    if (!text || strlen(text) != 10 || rs_time_parse(text, &us) != RS_OK)
        return RS_ERR_INVALID;
    *day = sbx_time_day(us);
    return RS_OK;
}

/* The last Sunday of a month, as a day number (1970-01-01 was a Thursday). */
static int32_t last_sunday(int year, int month)
{
    int32_t day =
        month == 12 ? days_from_civil(year + 1, 1, 1) - 1 : days_from_civil(year, month + 1, 1) - 1;
    int weekday = (int)(((day % 7) + 7 + 4) % 7); /* 0 = Sunday */

    return day - weekday;
}

int sbx_time_berlin_offset(int64_t us)
{
    int y, m, d;
    int64_t start, end;

    civil_from_days(sbx_time_day(us), &y, &m, &d);
    /* summer time runs from 01:00 UTC on March's last Sunday to 01:00 UTC on October's */
    start = (int64_t)last_sunday(y, 3) * SBX_US_PER_DAY + INT64_C(3600000000);
    end = (int64_t)last_sunday(y, 10) * SBX_US_PER_DAY + INT64_C(3600000000);
    return us >= start && us < end ? 120 : 60;
}

static void split(int64_t us, int32_t *day, int *hh, int *mi, int *ss, int *micro)
{
    int64_t rest;

    *day = sbx_time_day(us);
    rest = us - (int64_t)*day * SBX_US_PER_DAY;
    *hh = (int)(rest / INT64_C(3600000000));
    *mi = (int)(rest / 60000000 % 60);
    *ss = (int)(rest / 1000000 % 60);
    *micro = (int)(rest % 1000000);
}

char *sbx_time_iso_offset(int64_t us, int offset_min, char sep, char out[32])
{
    int32_t day;
    int hh, mi, ss, micro, absoff = offset_min < 0 ? -offset_min : offset_min;
    char date[11];

    split(us + (int64_t)offset_min * 60000000, &day, &hh, &mi, &ss, &micro);
    snprintf(out, 32, "%s%c%02d:%02d:%02d%c%02d:%02d", sbx_time_date(day, date), sep, hh, mi, ss,
             offset_min < 0 ? '-' : '+', absoff / 60 % 100, absoff % 60);
    return out;
}

char *sbx_time_iso_naive(int64_t us, char out[32])
{
    int32_t day;
    int hh, mi, ss, micro;
    char date[11];

    split(us, &day, &hh, &mi, &ss, &micro);
    snprintf(out, 32, "%sT%02d:%02d:%02d.%06d", sbx_time_date(day, date), hh, mi, ss, micro);
    return out;
}
