/*
 * Injected faults (POST /_control/faults): after letting `after` matching requests through,
 * the next `count` get a status, a delay, a truncated or malformed body, or revoked credentials.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"status", "slow", "truncate", "malformed", "revoke"};

static bool int_field(json_t *body, const char *key, long min, long max, int *dst,
                      struct rs_errbuf *eb)
{
    json_t *v = json_object_get(body, key);

    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        rs_errbuf_param(eb, RS_ERR_INVALID, key, "%s must be an integer in %ld..%ld", key, min,
                        max);
        return false;
    }
    *dst = (int)json_integer_value(v);
    return true;
}

static enum rs_err parse_target(json_t *body, struct sbx_fault *f, struct rs_errbuf *eb)
{
    const char *provider = json_string_value(json_object_get(body, "provider"));
    json_t *path = json_object_get(body, "path_contains");

    f->provider = -1;
    if (provider && strcmp(provider, "*") != 0) {
        f->provider = sbx_server_provider_find(provider, strlen(provider));
        if (f->provider < 0)
            return rs_errbuf_param(eb, RS_ERR_INVALID, "provider",
                                   "provider must be bamboohr, personio, hibob, factorial or *");
    }
    if (path && !json_is_null(path) &&
        (!json_is_string(path) || strlen(json_string_value(path)) >= sizeof(f->path_contains)))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "path_contains",
                               "path_contains must be a string under 128 bytes");
    if (json_is_string(path))
        snprintf(f->path_contains, sizeof(f->path_contains), "%s", json_string_value(path));
    return RS_OK;
}

static enum rs_err parse_kind(json_t *body, struct sbx_fault *f, struct rs_errbuf *eb)
{
    const char *kind = json_string_value(json_object_get(body, "kind"));

    for (size_t i = 0; kind && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
        if (strcmp(kind, kind_names[i]) == 0) {
            f->kind = (enum sbx_fault_kind)i;
            return RS_OK;
        }
    return rs_errbuf_param(eb, RS_ERR_INVALID, "kind",
                           "kind must be status, slow, truncate, malformed or revoke");
}

enum rs_err sbx_fault_parse(json_t *body, struct sbx_fault *out, struct rs_errbuf *eb)
{
    struct sbx_fault f;
    enum rs_err err;

    memset(&f, 0, sizeof(f));
    f.retry_after_s = -1;
    f.count = 1;
    err = parse_target(body, &f, eb);
    if (err == RS_OK)
        err = parse_kind(body, &f, eb);
    if (err != RS_OK)
        return err;
    if (!int_field(body, "status", 100, 599, &f.status, eb) ||
        !int_field(body, "retry_after_s", 0, 86400, &f.retry_after_s, eb) ||
        !int_field(body, "delay_ms", 0, 600000, &f.delay_ms, eb) ||
        !int_field(body, "after", 0, 100000000, &f.after, eb) ||
        !int_field(body, "count", 1, 100000000, &f.count, eb))
        return RS_ERR_INVALID;
    if (f.kind == SBX_FAULT_STATUS && f.status == 0)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "status", "a status fault needs a status");
    if (f.kind == SBX_FAULT_REVOKE && f.provider < 0)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "provider", "revoke needs one provider");
    *out = f;
    return RS_OK;
}

static bool applies(const struct sbx_fault *f, int provider, const char *uri)
{
    if (f->provider >= 0 && f->provider != provider)
        return false;
    return !f->path_contains[0] || strstr(uri, f->path_contains) != NULL;
}

const struct sbx_fault *sbx_fault_match(struct sbx_ctx *ctx, int provider, const char *uri)
{
    const struct sbx_fault *firing = NULL;

    for (int i = 0; i < ctx->nfaults; i++) {
        struct sbx_fault *f = &ctx->faults[i];

        if (!applies(f, provider, uri))
            continue;
        f->seen++;
        if (firing || f->seen <= f->after)
            continue;
        if (f->kind != SBX_FAULT_REVOKE && f->fired >= f->count)
            continue;
        f->fired++;
        firing = f;
    }
    return firing;
}

void sbx_fault_render(const struct sbx_ctx *ctx, struct sbx_json *js)
{
    sbx_json_arr(js, "faults");
    for (int i = 0; i < ctx->nfaults; i++) {
        const struct sbx_fault *f = &ctx->faults[i];
        const struct sbx_provider *prov = sbx_server_provider(f->provider);

        sbx_json_obj(js, NULL);
        sbx_json_str(js, "provider", prov ? prov->slug : "*");
        sbx_json_opt(js, "path_contains", f->path_contains);
        sbx_json_str(js, "kind", kind_names[f->kind]);
        if (f->status)
            sbx_json_int(js, "status", f->status);
        if (f->retry_after_s >= 0)
            sbx_json_int(js, "retry_after_s", f->retry_after_s);
        if (f->delay_ms)
            sbx_json_int(js, "delay_ms", f->delay_ms);
        sbx_json_int(js, "after", f->after);
        sbx_json_int(js, "count", f->count);
        sbx_json_int(js, "seen", f->seen);
        sbx_json_int(js, "fired", f->fired);
        sbx_json_end(js);
    }
    sbx_json_end(js);
}
