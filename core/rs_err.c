/*
 * Names of the error codes and the fixed-size detail buffer that travels with them. Nothing
 * here allocates, so it is safe on every error path, including out-of-memory.
 */
#include "roster/rs_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rs_int.h"

const char *rs_err_name(enum rs_err err)
{
    switch (err) {
    case RS_OK:
        return "ok";
    case RS_ERR_NOMEM:
        return "nomem";
    case RS_ERR_INVALID:
        return "invalid";
    case RS_ERR_NOTFOUND:
        return "notfound";
    case RS_ERR_CONFLICT:
        return "conflict";
    case RS_ERR_AUTH:
        return "auth";
    case RS_ERR_FORBIDDEN:
        return "forbidden";
    case RS_ERR_TOOBIG:
        return "toobig";
    case RS_ERR_METHOD:
        return "method";
    case RS_ERR_UPSTREAM:
        return "upstream";
    case RS_ERR_RATELIMIT:
        return "ratelimit";
    case RS_ERR_TIMEOUT:
        return "timeout";
    case RS_ERR_DB:
        return "db";
    case RS_ERR_UNAVAILABLE:
        return "unavailable";
    case RS_ERR_CRYPTO:
        return "crypto";
    case RS_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}

static void set_msg(struct rs_errbuf *eb, const char *fmt, va_list ap) RS_PRINTF(2, 0);

static void set_msg(struct rs_errbuf *eb, const char *fmt, va_list ap)
{
    int n = vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);

    if (n < 0)
        eb->msg[0] = '\0';
    else if ((size_t)n >= sizeof(eb->msg))
        eb->msg[rs_utf8_complete_len(eb->msg, sizeof(eb->msg) - 1)] = '\0';
}

enum rs_err rs_errbuf_set(struct rs_errbuf *eb, enum rs_err err, const char *fmt, ...)
{
    va_list ap;

    if (!eb)
        return err;
    eb->param[0] = '\0';
    va_start(ap, fmt);
    set_msg(eb, fmt, ap);
    va_end(ap);
    return err;
}

enum rs_err rs_errbuf_param(struct rs_errbuf *eb, enum rs_err err, const char *param,
                            const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!eb)
        return err;
    n = snprintf(eb->param, sizeof(eb->param), "%s", param ? param : "");
    if (n < 0)
        eb->param[0] = '\0';
    else if ((size_t)n >= sizeof(eb->param))
        eb->param[rs_utf8_complete_len(eb->param, sizeof(eb->param) - 1)] = '\0';
    va_start(ap, fmt);
    set_msg(eb, fmt, ap);
    va_end(ap);
    return err;
}

void rs_errbuf_clear(struct rs_errbuf *eb)
{
    if (!eb)
        return;
    eb->msg[0] = '\0';
    eb->param[0] = '\0';
}
