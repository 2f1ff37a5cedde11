/*
 * The HTTP seam of the sandbox: requests and responses as plain structs (so the provider
 * emulations run in unit tests without sockets), query and credential parsing.
 */
#include "sbx_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

void sbx_http_resp_init(struct sbx_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    rs_buf_init(&resp->body, SBX_BODY_MAX);
}

void sbx_http_resp_cleanup(struct sbx_resp *resp)
{
    rs_buf_cleanup(&resp->body);
}

void sbx_http_resp_reset(struct sbx_resp *resp)
{
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->nheaders = 0;
    rs_buf_reset(&resp->body);
}

void sbx_http_header(struct sbx_resp *resp, const char *name, const char *fmt, ...)
{
    va_list ap;
    int i = resp->nheaders;

    if (i >= SBX_HEADERS_MAX)
        return;
    snprintf(resp->header_name[i], sizeof(resp->header_name[i]), "%s", name);
    va_start(ap, fmt);
    vsnprintf(resp->header_value[i], sizeof(resp->header_value[i]), fmt, ap);
    va_end(ap);
    resp->nheaders = i + 1;
}

void sbx_http_json(struct sbx_resp *resp, int status)
{
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
}

enum rs_err sbx_http_text(struct sbx_resp *resp, int status, const char *text)
{
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; charset=utf-8");
    rs_buf_reset(&resp->body);
    return rs_buf_append_str(&resp->body, text);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool sbx_http_decode(const char *src, size_t len, char *dst, size_t dstlen)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = src[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len && hex_value(src[i + 1]) >= 0 &&
                   hex_value(src[i + 2]) >= 0) {
            c = (char)(hex_value(src[i + 1]) * 16 + hex_value(src[i + 2]));
            i += 2;
        }
        if (o + 1 >= dstlen)
            return false;
        dst[o++] = c;
    }
    if (o >= dstlen)
        return false;
    dst[o] = '\0';
    return true;
}

/* Appends one decoded piece to the store; NULL when it does not fit. */
static const char *store_piece(struct sbx_query *q, size_t *used, const char *src, size_t len)
{
    char *dst = q->store + *used;

    if (!sbx_http_decode(src, len, dst, sizeof(q->store) - *used))
        return NULL;
    *used += strlen(dst) + 1;
    return dst;
}

enum rs_err sbx_http_query_parse(struct sbx_query *q, const char *raw)
{
    size_t used = 0;
    const char *p = raw;

    q->n = 0;
    while (p && *p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *key_end = eq ? eq : end;

        if (end > p) {
            if (q->n >= SBX_QUERY_MAX)
                return RS_ERR_TOOBIG;
            q->key[q->n] = store_piece(q, &used, p, (size_t)(key_end - p));
            q->value[q->n] = eq ? store_piece(q, &used, eq + 1, (size_t)(end - eq - 1))
                                : store_piece(q, &used, "", 0);
            if (!q->key[q->n] || !q->value[q->n])
                return RS_ERR_TOOBIG;
            q->n++;
        }
        p = amp ? amp + 1 : NULL;
    }
    return RS_OK;
}

const char *sbx_http_query_get(const struct sbx_query *q, const char *key)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], key) == 0)
            return q->value[i];
    return NULL;
}

enum rs_err sbx_http_basic(const char *authorization, char *user, size_t userlen, char *pass,
                           size_t passlen)
{
    unsigned char decoded[512];
    size_t n = 0;
    const char *colon;

    if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
        return RS_ERR_AUTH;
    authorization += 6;
    while (*authorization == ' ')
        authorization++;
    if (sodium_base642bin(decoded, sizeof(decoded) - 1, authorization, strlen(authorization), " ",
                          &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return RS_ERR_AUTH;
    decoded[n] = '\0';
    colon = memchr(decoded, ':', n);
    if (!colon || memchr(decoded, '\0', n))
        return RS_ERR_AUTH;
    if ((size_t)(colon - (const char *)decoded) >= userlen || strlen(colon + 1) >= passlen)
        return RS_ERR_AUTH;
    snprintf(user, userlen, "%.*s", (int)(colon - (const char *)decoded), (const char *)decoded);
    snprintf(pass, passlen, "%s", colon + 1);
    return RS_OK;
}

const char *sbx_http_bearer(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    authorization += 7;
    while (*authorization == ' ')
        authorization++;
    return *authorization ? authorization : NULL;
}

bool sbx_http_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v;

    if (!text || !*text || (*text != '-' && (*text < '0' || *text > '9')))
        return false;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int sbx_http_query_count(const struct sbx_query *q, const char *key)
{
    int n = 0;

    for (int i = 0; i < q->n; i++)
        n += strcmp(q->key[i], key) == 0;
    return n;
}

enum rs_err sbx_http_form(const struct sbx_req *req, struct sbx_query *form)
{
    char copy[SBX_QUERY_BYTES];

    form->n = 0;
    if (!req->body || req->body_len == 0)
        return RS_OK;
    if (req->body_len >= sizeof(copy) || memchr(req->body, '\0', req->body_len))
        return RS_ERR_TOOBIG;
    memcpy(copy, req->body, req->body_len);
    copy[req->body_len] = '\0';
    return sbx_http_query_parse(form, copy); /* pieces are decoded into form's own store */
}

bool sbx_http_is_form(const struct sbx_req *req)
{
    return req->content_type &&
           strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) == 0;
}

json_t *sbx_http_body_json(const struct sbx_req *req)
{
    json_t *root;

    if (!req->body || req->body_len == 0)
        return json_object();
    root = json_loadb(req->body, req->body_len, 0, NULL);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}
