/* Declarations shared only inside core/. */
#ifndef ROSTER_CORE_RS_INT_H
#define ROSTER_CORE_RS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "roster/rs_buf.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_store.h"

/*
 * Length of str[0..len) without a UTF-8 sequence cut short at its end, so that a string
 * truncated to fit a buffer stays valid UTF-8 (errors and log lines end up in JSON and in log
 * pipelines that reject broken sequences). Bytes that are invalid anyway are left alone.
 */
static inline size_t rs_utf8_complete_len(const char *str, size_t len)
{
    size_t start = len;
    size_t need;
    unsigned char lead;

    while (start > 0 && len - start < 3 && ((unsigned char)str[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return len;
    lead = (unsigned char)str[start - 1];
    if (lead < 0xC0)
        return len; /* ends in ASCII or in a complete (or invalid) sequence */
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return len - (start - 1) < need ? start - 1 : len;
}

/*
 * rs_httpc.c: the pure parts of the retry and throttle logic, declared here so that
 * tests/unit/core/test_rs_httpc.c can check them without sockets. Times are microseconds.
 */
struct rs_throttle;

/* Added to every wait a server asked for: servers count whole seconds and clocks drift. */
#define RS_HTTPC_MARGIN_US INT64_C(50000)

/* What to do after one attempt. */
enum rs_httpc_verdict {
    RS_HTTPC_DONE,      /* a response to return as it is (2xx, 3xx, 4xx, 501, 505) */
    RS_HTTPC_FAIL,      /* no usable response, and trying again would not help */
    RS_HTTPC_RETRY,     /* another 5xx, or a network error: back off and try again */
    RS_HTTPC_THROTTLED, /* 429: wait as the response asks, then try again */
};

/* The verdict on an attempt that ended with code and (when code is CURLE_OK) status. */
enum rs_httpc_verdict rs_httpc_verdict(CURLcode code, long status);

/*
 * If line (len bytes, CRLF included or not) is the header `name` (any case), copies its value
 * without surrounding blanks into out and returns true. A value that does not fit in outlen is
 * not copied (out is left alone) and false is returned, so that it is never read truncated.
 */
bool rs_httpc_header_value(const char *line, size_t len, const char *name, char *out,
                           size_t outlen);

/* rs_httpc_parse_retry_after is public (roster/rs_httpc.h): webhook delivery reads it too. */

/*
 * Delay a rate-limit reset value asks for, the margin included. A value of 10^9 or more is
 * epoch seconds: the limit may reset anywhere within that second, so the wait runs to the
 * start of the next one. A smaller value is read as seconds from now (some providers send
 * that), plus one for the same reason. False when the value is not a number or the reset has
 * already passed (the caller then backs off instead).
 */
bool rs_httpc_parse_reset(const char *value, int64_t now_wall_us, int64_t *delay_us);

/* The delay of a 429: Retry-After if usable, else the reset value. False when neither is. */
bool rs_httpc_hint_delay(const char *retry_after, const char *reset, int64_t now_wall_us,
                         int64_t *delay_us);

/* The longest delay of retry number retry (0 for the first): min(max, base * 2^retry). */
int64_t rs_httpc_backoff_cap_us(int64_t base_ms, int64_t max_ms, int retry);
/* A delay drawn uniformly from [0, rs_httpc_backoff_cap_us(...)] ("full jitter"). */
int64_t rs_httpc_backoff_us(int64_t base_ms, int64_t max_ms, int retry);

/*
 * Takes one token from the bucket at monotonic time now_us and returns how long to wait
 * before sending (0 when a token was there). The token is taken either way: a wait is a debt
 * that the following requests also wait out. Disabled (always 0) when rate_per_s is 0.
 */
int64_t rs_httpc_throttle_reserve(struct rs_throttle *throttle, int64_t now_us);

/*
 * rs_store.c, for rs_stage.c: a batch's record with its remote_data already serialized by
 * rs_store_remote_data_dump (remote_data NULL when the record has none), so that one provider
 * row delivered as two records (an employee and its employment) is serialized once.
 */
enum rs_err rs_store_batch_add_dumped(struct rs_store_batch *batch, const struct rs_record *record,
                                      const char *remote_data, size_t remote_data_len,
                                      struct rs_errbuf *eb) RS_MUST_CHECK;
/* remote_data as stored and hashed (malloc'd, *len bytes), or NULL when out of memory. */
char *rs_store_remote_data_dump(const json_t *remote_data, size_t *len);
/* Bytes of COPY text the batch holds. */
size_t rs_store_batch_bytes(const struct rs_store_batch *batch);
/*
 * A staged row's identity and content, for rs_stage.c to compare with what is stored: rows
 * marked unchanged are sent as markers (no JSON; see migrations/0005_staging_unchanged.sql).
 * The hash is the first half of the content hash (enough to tell content apart).
 */
struct rs_store_row_key {
    uint8_t id[16];
    uint8_t hash[16];
};
/* Row i (< rs_store_batch_count) of the batch. */
const struct rs_store_row_key *rs_store_batch_key(const struct rs_store_batch *batch, size_t i);
/* Stages row i as a marker; RS_ERR_NOMEM. Until the batch is staged. */
enum rs_err rs_store_batch_mark_unchanged(struct rs_store_batch *batch, size_t i) RS_MUST_CHECK;
/* What a batch was created for. */
const struct rs_model *rs_store_batch_model(const struct rs_store_batch *batch);
const struct rs_uuid *rs_store_batch_account(const struct rs_store_batch *batch);
const struct rs_uuid *rs_store_batch_sync_id(const struct rs_store_batch *batch);
/* "linked_account_id, id, remote_id, normalized, remote_data, content_hash, <filter columns>":
   the columns a batch's COPY rows carry after its sync_id, in_scope and unchanged */
enum rs_err rs_store_column_list(const struct rs_model *model, struct rs_buf *out) RS_MUST_CHECK;
/* Records the batch refused since it was last staged. */
size_t rs_store_batch_invalid(const struct rs_store_batch *batch);

#endif
