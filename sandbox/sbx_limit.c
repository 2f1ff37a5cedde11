/*
 * Rate-limit counters for the providers' documented limits (enforced with --rate-limits on):
 * fixed windows (HiBob's 50/min, Personio's per-minute caps) and a token bucket (Personio's
 * burst of 15 req/s on GET employees).
 */
#include "sbx_int.h"

bool sbx_limit_window(struct sbx_limit *l, int limit, int64_t window_us, int64_t now_us,
                      int64_t *reset_us, int *remaining)
{
    if (l->window_start_us == 0 || now_us >= l->window_start_us + window_us ||
        now_us < l->window_start_us) {
        l->window_start_us = now_us;
        l->count = 0;
    }
    *reset_us = l->window_start_us + window_us;
    if (l->count >= limit) {
        *remaining = 0;
        return false;
    }
    l->count++;
    *remaining = limit - l->count;
    return true;
}

bool sbx_limit_bucket(struct sbx_limit *l, double capacity, double per_s, int64_t now_us,
                      int64_t *retry_us)
{
    if (l->refilled_us == 0 || now_us < l->refilled_us) {
        l->tokens = capacity;
    } else {
        l->tokens += (double)(now_us - l->refilled_us) * per_s / 1e6;
        if (l->tokens > capacity)
            l->tokens = capacity;
    }
    l->refilled_us = now_us;
    if (l->tokens >= 1.0) {
        l->tokens -= 1.0;
        *retry_us = 0;
        return true;
    }
    *retry_us = (int64_t)((1.0 - l->tokens) * 1e6 / per_s) + 1;
    return false;
}
