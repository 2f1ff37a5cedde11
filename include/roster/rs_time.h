/* Time as int64 microseconds since the Unix epoch, UTC; ISO-8601 parsing and formatting. */
#ifndef ROSTER_RS_TIME_H
#define ROSTER_RS_TIME_H

#include <stdint.h>

#include "roster/rs_err.h"

/* Longest output of rs_time_format, NUL included ("2021-09-15T00:00:00.123456Z"). */
#define RS_TIME_ISO_LEN 28

/* Wall clock now, in microseconds. */
int64_t rs_time_now_us(void);
/* Monotonic clock, in microseconds (for durations and deadlines). */
int64_t rs_time_mono_us(void);

/*
 * Parses an ISO-8601 date or date-time: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.frac]]`
 * followed by `Z`, `±HH:MM`, `±HHMM` or nothing (UTC); a space may stand for `T`. A date alone
 * is midnight UTC. Range-checks every component (month 13, Feb 30, hour 25 are invalid) and
 * years 1..9999. Returns RS_ERR_INVALID on anything else, including trailing characters.
 */
enum rs_err rs_time_parse(const char *text, int64_t *out_us) RS_MUST_CHECK;

/*
 * Formats as `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` before the Z when the microseconds are not
 * zero. out must hold RS_TIME_ISO_LEN bytes. Returns out.
 */
char *rs_time_format(int64_t us, char out[RS_TIME_ISO_LEN]);

/* Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01), for binary results. */
#define RS_TIME_PG_EPOCH_US INT64_C(946684800000000)

#endif
