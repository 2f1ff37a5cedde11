/*
 * The retry schedule of webhook deliveries: delays from the configuration, each drawn within
 * +-10% (so retries of many messages that failed together spread out), stretched to a
 * receiver's Retry-After; past the last delay a message is dead-lettered.
 */
#include "wh_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

enum rs_err wh_schedule_parse(const char *text, struct wh_schedule *out)
{
    const char *p = text;

    out->n = 0;
    if (!text)
        return RS_ERR_INVALID;
    for (;;) {
        char *end = NULL;
        long long ms;

        if (!isdigit((unsigned char)*p) || out->n == WH_RETRY_MAX)
            return RS_ERR_INVALID;
        errno = 0;
        ms = strtoll(p, &end, 10);
        if (errno || ms < 1)
            return RS_ERR_INVALID;
        out->delay_ms[out->n++] = ms;
        p = end;
        if (*p != ',')
            break;
        p++;
    }
    return *p == '\0' ? RS_OK : RS_ERR_INVALID;
}

bool wh_retry_delay_ms(const struct wh_schedule *s, int failures, uint32_t random,
                       int64_t *delay_ms)
{
    int64_t base, spread;

    if (failures < 1 || failures > s->n)
        return false;
    base = s->delay_ms[failures - 1];
    spread = base * WH_JITTER_PERCENT / 100;
    /* base - spread + (2 spread + 1) * random / 2^32: every value of the range is reachable */
    *delay_ms = base - spread + (int64_t)(((uint64_t)(2 * spread + 1) * random) >> 32);
    return true;
}

int64_t wh_retry_honour(int64_t scheduled_ms, int64_t retry_after_ms)
{
    if (retry_after_ms > WH_RETRY_AFTER_MAX_MS)
        retry_after_ms = WH_RETRY_AFTER_MAX_MS;
    return retry_after_ms > scheduled_ms ? retry_after_ms : scheduled_ms;
}
