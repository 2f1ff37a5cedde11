/*
 * A streaming JSON writer over rs_buf: the sandbox renders every response with it, so a
 * 100,000-employee answer costs one buffer and no tree. Errors are sticky (see sbx_int.h).
 */
#include "sbx_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sbx_json_init(struct sbx_json *js, struct rs_buf *buf)
{
    memset(js, 0, sizeof(*js));
    js->buf = buf;
    js->err = RS_OK;
}

static void put(struct sbx_json *js, const char *bytes, size_t n)
{
    if (js->err == RS_OK)
        js->err = rs_buf_append(js->buf, bytes, n);
}

/* The separator and the key that precede any value. */
static void prefix(struct sbx_json *js, const char *key)
{
    if (js->err != RS_OK)
        return;
    if (js->depth > 0) {
        if (js->comma[js->depth - 1])
            put(js, ",", 1);
        js->comma[js->depth - 1] = true;
    }
    if (key && js->err == RS_OK) {
        js->err = rs_buf_append_json_str(js->buf, key, strlen(key));
        put(js, ":", 1);
    }
}

static void open_container(struct sbx_json *js, const char *key, char open, char close)
{
    prefix(js, key);
    if (js->err != RS_OK)
        return;
    if (js->depth >= SBX_JSON_DEPTH) {
        js->err = RS_ERR_INTERNAL;
        return;
    }
    put(js, &open, 1);
    js->comma[js->depth] = false;
    js->close[js->depth] = close;
    js->depth++;
}

void sbx_json_obj(struct sbx_json *js, const char *key)
{
    open_container(js, key, '{', '}');
}

void sbx_json_arr(struct sbx_json *js, const char *key)
{
    open_container(js, key, '[', ']');
}

void sbx_json_end(struct sbx_json *js)
{
    if (js->err != RS_OK)
        return;
    if (js->depth == 0) {
        js->err = RS_ERR_INTERNAL;
        return;
    }
    js->depth--;
    put(js, &js->close[js->depth], 1);
}

void sbx_json_str(struct sbx_json *js, const char *key, const char *value)
{
    if (!value) {
        sbx_json_null(js, key);
        return;
    }
    prefix(js, key);
    if (js->err == RS_OK)
        js->err = rs_buf_append_json_str(js->buf, value, strlen(value));
}

void sbx_json_opt(struct sbx_json *js, const char *key, const char *value)
{
    sbx_json_str(js, key, value && value[0] ? value : NULL);
}

void sbx_json_strf(struct sbx_json *js, const char *key, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sbx_json_str(js, key, text);
}

void sbx_json_int(struct sbx_json *js, const char *key, int64_t value)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, value);

    prefix(js, key);
    put(js, text, (size_t)n);
}

void sbx_json_bool(struct sbx_json *js, const char *key, bool value)
{
    prefix(js, key);
    put(js, value ? "true" : "false", value ? 4 : 5);
}

void sbx_json_null(struct sbx_json *js, const char *key)
{
    prefix(js, key);
    put(js, "null", 4);
}

void sbx_json_date(struct sbx_json *js, const char *key, int32_t day)
{
    char date[11];

    sbx_json_str(js, key, sbx_time_date(day, date));
}

enum rs_err sbx_json_done(struct sbx_json *js)
{
    if (js->err == RS_OK && js->depth != 0)
        js->err = RS_ERR_INTERNAL;
    return js->err;
}
