/* Structured logging: one line per event on stderr, `ts=… level=… msg="…" key=value …`. */
#ifndef ROSTER_RS_LOG_H
#define ROSTER_RS_LOG_H

#include <stdbool.h>

#include "roster/rs_err.h"

enum rs_log_level { RS_LOG_DEBUG, RS_LOG_INFO, RS_LOG_WARN, RS_LOG_ERROR };

/* Parses "debug|info|warn|error"; returns RS_ERR_INVALID for anything else. */
enum rs_err rs_log_parse_level(const char *name, enum rs_log_level *out) RS_MUST_CHECK;
void rs_log_set_level(enum rs_log_level level);
bool rs_log_enabled(enum rs_log_level level);

/*
 * Thread-local context appended to every line of this thread until cleared: the request id
 * and the linked account id (either may be NULL). The strings are copied.
 */
void rs_log_set_context(const char *request_id, const char *account_id);
void rs_log_clear_context(void);

/*
 * Writes one line. `msg` is quoted; `kv_fmt` (may be NULL) is a printf format producing
 * space-separated key=value pairs, written verbatim (callers quote values that may hold
 * spaces with rs_log_quote). Never pass a secret. Writes with one write(2), so lines of
 * concurrent threads do not interleave.
 */
void rs_log(enum rs_log_level level, const char *msg, const char *kv_fmt, ...) RS_PRINTF(3, 4);

/* Checks the level before evaluating the arguments. */
#define RS_LOG(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (rs_log_enabled(level))                                                                 \
            rs_log(level, msg, __VA_ARGS__);                                                       \
    } while (0)

/*
 * Copies `value` into out (size outlen) as a log-safe token: wrapped in double quotes with
 * `"` and `\` escaped and control characters replaced, truncated to fit. Returns out.
 */
const char *rs_log_quote(const char *value, char *out, unsigned outlen);

#endif
