/*
 * Structured logging: one logfmt line per event on stderr, written with a single write(2) so
 * that concurrent threads never interleave, with the thread's request/account context appended.
 */
#include "roster/rs_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "rs_int.h"

/*
 * Longest line written, newline included; longer events are truncated. PIPE_BUF-sized, so a
 * line written to a pipe is atomic too.
 */
#define LOG_LINE_MAX 4096
/* Longest context value kept (request ids and account ids are UUID-sized). */
#define LOG_CTX_MAX 80

static atomic_int log_level = RS_LOG_INFO;

static _Thread_local char ctx_request[LOG_CTX_MAX];
static _Thread_local char ctx_account[LOG_CTX_MAX];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* A line being built; len never exceeds LOG_LINE_MAX - 1, leaving room for the newline. */
struct log_line {
    char text[LOG_LINE_MAX];
    size_t len;
};

enum rs_err rs_log_parse_level(const char *name, enum rs_log_level *out)
{
    if (!name)
        return RS_ERR_INVALID;
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum rs_log_level)i;
            return RS_OK;
        }
    }
    return RS_ERR_INVALID;
}

void rs_log_set_level(enum rs_log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

bool rs_log_enabled(enum rs_log_level level)
{
    return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* Context values are copied as they come; log_ctx_value decides how they are written. */
static void ctx_copy(char dst[LOG_CTX_MAX], const char *src)
{
    size_t n = src ? strnlen(src, LOG_CTX_MAX - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void rs_log_set_context(const char *request_id, const char *account_id)
{
    ctx_copy(ctx_request, request_id);
    ctx_copy(ctx_account, account_id);
}

void rs_log_clear_context(void)
{
    ctx_request[0] = '\0';
    ctx_account[0] = '\0';
}

/* Bytes written for one input byte: 1, or 2 (\" \\ \n \r \t), or 6 (\u00XX). */
static size_t quote_one(unsigned char c, char esc[7])
{
    static const char hex[] = "0123456789abcdef";

    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
        esc[0] = '\\';
        esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xf];
        return 6;
    }
    esc[0] = (char)c;
    return 1;
}

const char *rs_log_quote(const char *value, char *out, unsigned outlen)
{
    size_t pos = 1;
    char esc[7];

    if (outlen < 3) {
        if (outlen > 0)
            out[0] = '\0';
        return out;
    }
    out[0] = '"';
    for (const char *p = value ? value : ""; *p; p++) {
        size_t n = quote_one((unsigned char)*p, esc);

        if (pos + n + 2 > outlen) { /* keep room for the closing quote and the NUL */
            pos = 1 + rs_utf8_complete_len(out + 1, pos - 1);
            break;
        }
        memcpy(out + pos, esc, n);
        pos += n;
    }
    out[pos++] = '"';
    out[pos] = '\0';
    return out;
}

static void line_append(struct log_line *line, const char *bytes, size_t n)
{
    size_t room = LOG_LINE_MAX - 1 - line->len;

    if (n > room)
        n = room;
    memcpy(line->text + line->len, bytes, n);
    line->len += n;
}

static void line_append_str(struct log_line *line, const char *str)
{
    line_append(line, str, strlen(str));
}

static void line_append_quoted(struct log_line *line, const char *value)
{
    size_t room = LOG_LINE_MAX - line->len; /* the NUL may use the newline's slot */

    rs_log_quote(value, line->text + line->len, (unsigned)room);
    line->len += strlen(line->text + line->len);
}

/* Request ids may come from clients: write them bare only when they cannot break the line. */
static void line_append_ctx(struct log_line *line, const char *key, const char *value)
{
    bool bare = true;

    if (!value[0])
        return;
    for (const char *p = value; *p && bare; p++)
        bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               strchr("-_.:/", *p) != NULL;
    line_append_str(line, key);
    if (bare)
        line_append_str(line, value);
    else
        line_append_quoted(line, value);
}

static void line_append_ts(struct log_line *line)
{
    struct timespec now;
    struct tm tm;
    char ts[40];
    int n;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0 || !gmtime_r(&now.tv_sec, &tm)) {
        line_append_str(line, "ts=? ");
        return;
    }
    n = snprintf(ts, sizeof(ts), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000));
    if (n > 0 && (size_t)n < sizeof(ts))
        line_append(line, ts, (size_t)n);
}

/* The caller's pairs are verbatim, except that control characters cannot split the line. */
static void line_append_kv(struct log_line *line, const char *kv_fmt, va_list ap) RS_PRINTF(2, 0);

static void line_append_kv(struct log_line *line, const char *kv_fmt, va_list ap)
{
    size_t before = line->len;
    size_t room;
    int n;

    if (!kv_fmt || !kv_fmt[0])
        return;
    line_append(line, " ", 1);
    room = LOG_LINE_MAX - line->len; /* vsnprintf's NUL may use the newline's slot */
    n = vsnprintf(line->text + line->len, room, kv_fmt, ap);
    if (n <= 0) {
        line->len = before; /* no pairs: no separator either */
        return;
    }
    if ((size_t)n >= room)
        n = (int)(room - 1);
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line->text[line->len + i];

        if (c < 0x20 || c == 0x7f)
            line->text[line->len + i] = '?';
    }
    line->len += (size_t)n;
}

static void line_write(const struct log_line *line)
{
    size_t off = 0;

    while (off < line->len) {
        ssize_t n = write(STDERR_FILENO, line->text + off, line->len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report it */
        off += (size_t)n;
    }
}

void rs_log(enum rs_log_level level, const char *msg, const char *kv_fmt, ...)
{
    struct log_line line;
    int saved_errno = errno;
    va_list ap;

    if (!rs_log_enabled(level))
        return;
    line.len = 0;
    line_append_ts(&line);
    line_append_str(&line, "level=");
    line_append_str(&line, level_names[(unsigned)level < 4 ? level : RS_LOG_ERROR]);
    line_append_str(&line, " msg=");
    line_append_quoted(&line, msg);
    va_start(ap, kv_fmt);
    line_append_kv(&line, kv_fmt, ap);
    va_end(ap);
    line_append_ctx(&line, " req=", ctx_request);
    line_append_ctx(&line, " account=", ctx_account);
    line.text[line.len++] = '\n';
    line_write(&line);
    errno = saved_errno;
}
