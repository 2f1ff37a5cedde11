/*
 * Growable byte buffers with a ceiling, for response bodies, SQL text and log detail. A failed
 * append leaves the buffer as it was before the call.
 */
#include "roster/rs_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

void rs_buf_init(struct rs_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

void rs_buf_cleanup(struct rs_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void rs_buf_reset(struct rs_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL, never beyond max + 1. */
static enum rs_err buf_reserve(struct rs_buf *buf, size_t n)
{
    size_t need;
    size_t cap;
    char *grown;

    if (n > buf->max - buf->len)
        return RS_ERR_TOOBIG;
    if (buf->len + n == SIZE_MAX)
        return RS_ERR_NOMEM;
    need = buf->len + n + 1;
    if (need <= buf->cap)
        return RS_OK;
    cap = buf->cap ? buf->cap : BUF_MIN_CAP;
    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need)
        cap = need;
    if (buf->max < SIZE_MAX && cap > buf->max + 1)
        cap = buf->max + 1;
    grown = realloc(buf->data, cap);
    if (!grown)
        return RS_ERR_NOMEM;
    buf->data = grown;
    buf->cap = cap;
    return RS_OK;
}

enum rs_err rs_buf_append(struct rs_buf *buf, const void *bytes, size_t n)
{
    enum rs_err err = buf_reserve(buf, n);

    if (err != RS_OK)
        return err;
    if (n > 0)
        memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return RS_OK;
}

enum rs_err rs_buf_append_str(struct rs_buf *buf, const char *str)
{
    return rs_buf_append(buf, str, strlen(str));
}

enum rs_err rs_buf_appendf(struct rs_buf *buf, const char *fmt, ...)
{
    enum rs_err err;
    va_list ap;
    int n;

    /* format straight into the spare room; only when it does not fit, grow and format again */
    va_start(ap, fmt);
    n = vsnprintf(buf->data ? buf->data + buf->len : NULL, buf->data ? buf->cap - buf->len : 0, fmt,
                  ap);
    va_end(ap);
    if (n < 0) {
        if (buf->data)
            buf->data[buf->len] = '\0';
        return RS_ERR_INTERNAL;
    }
    if (buf->data && (size_t)n < buf->cap - buf->len) {
        if (buf->len + (size_t)n > buf->max) {
            buf->data[buf->len] = '\0';
            return RS_ERR_TOOBIG;
        }
        buf->len += (size_t)n;
        return RS_OK;
    }
    err = buf_reserve(buf, (size_t)n);
    if (err != RS_OK) {
        if (buf->data)
            buf->data[buf->len] = '\0'; /* the attempt above may have overwritten the NUL */
        return err;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf->data[buf->len] = '\0';
        return RS_ERR_INTERNAL;
    }
    buf->len += (size_t)n;
    return RS_OK;
}

/*
 * Length of the valid UTF-8 sequence at p (at most avail bytes), or 0 when it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are invalid.
 */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    size_t len;
    unsigned int min;
    unsigned int cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4;
    else
        return 0;
    min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    cp = p[0] & (0x7F >> len);
    if (avail < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* The escape for byte c into esc (returns its length), or 0 when c is copied as is. */
static size_t json_escape(unsigned char c, char esc[7])
{
    static const char hex[] = "0123456789abcdef";
    static const char short_esc[] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
                                     ['\t'] = 't', ['"'] = '"',  ['\\'] = '\\'};

    if (c < sizeof(short_esc) && short_esc[c]) {
        esc[0] = '\\';
        esc[1] = short_esc[c];
        return 2;
    }
    if (c < 0x20) {
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xf];
        return 6;
    }
    return 0;
}

/* Appends str[0..n) escaped; bytes that are not UTF-8 become U+FFFD so the JSON stays valid. */
static enum rs_err append_json_body(struct rs_buf *buf, const unsigned char *str, size_t n)
{
    enum rs_err err = RS_OK;
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    size_t i = 0;
    char esc[7];

    while (i < n && err == RS_OK) {
        size_t seq = str[i] < 0x80 ? 1 : utf8_seq_len(str + i, n - i);
        size_t esc_len = seq == 1 ? json_escape(str[i], esc) : 0;

        if (seq > 0 && esc_len == 0) {
            i += seq;
            continue;
        }
        err = rs_buf_append(buf, str + run, i - run);
        if (err == RS_OK && seq == 0)
            err = rs_buf_append(buf, "\\ufffd", 6);
        else if (err == RS_OK)
            err = rs_buf_append(buf, esc, esc_len);
        run = ++i;
    }
    if (err == RS_OK)
        err = rs_buf_append(buf, str + run, n - run);
    return err;
}

enum rs_err rs_buf_append_json_str(struct rs_buf *buf, const char *str, size_t n)
{
    size_t start_len = buf->len;
    enum rs_err err;

    err = rs_buf_append(buf, "\"", 1);
    if (err == RS_OK)
        err = append_json_body(buf, (const unsigned char *)str, n);
    if (err == RS_OK)
        err = rs_buf_append(buf, "\"", 1);
    if (err != RS_OK && buf->data) {
        buf->len = start_len;
        buf->data[start_len] = '\0';
    }
    return err;
}

char *rs_buf_steal(struct rs_buf *buf)
{
    char *data = buf->data;

    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}
