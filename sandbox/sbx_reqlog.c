/*
 * The log of provider requests the sandbox received (GET /_control/requests), with wall-clock
 * arrival times in microseconds, so tests can check pacing (e.g. that Retry-After was honoured).
 * Bounded: past SBX_REQLOG_MAX entries the oldest are overwritten.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sbx_reqlog_method_name(enum sbx_method method)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OTHER"};

    return names[method];
}

static bool grow(struct sbx_reqlog *log)
{
    size_t cap = log->cap ? log->cap * 2 : 1024;
    struct sbx_reqlog_entry *grown;

    if (cap > SBX_REQLOG_MAX)
        cap = SBX_REQLOG_MAX;
    grown = realloc(log->entries, cap * sizeof(*grown));
    if (!grown)
        return false;
    log->entries = grown;
    log->cap = cap;
    return true;
}

/* Slot of entry id, or NULL once it has been overwritten or cleared. */
static struct sbx_reqlog_entry *slot(struct sbx_reqlog *log, uint64_t id)
{
    uint64_t oldest = log->total - log->len;

    if (id < oldest || id >= log->total)
        return NULL;
    return &log->entries[(log->head + (size_t)(id - oldest)) % log->cap];
}

uint64_t sbx_reqlog_add(struct sbx_reqlog *log, int64_t time_us, int provider,
                        enum sbx_method method, const char *uri)
{
    struct sbx_reqlog_entry *e;

    if (log->len == log->cap && log->cap < SBX_REQLOG_MAX && !grow(log))
        return log->total++; /* not kept; the id is simply never found */
    if (log->cap == 0)
        return log->total++;
    if (log->len == log->cap) {
        log->head = (log->head + 1) % log->cap; /* overwrite the oldest */
        log->len--;
    }
    e = &log->entries[(log->head + log->len) % log->cap];
    e->time_us = time_us;
    e->provider = provider;
    e->method = method;
    e->status = 0;
    snprintf(e->uri, sizeof(e->uri), "%s", uri);
    log->len++;
    return log->total++;
}

void sbx_reqlog_status(struct sbx_reqlog *log, uint64_t id, int status)
{
    struct sbx_reqlog_entry *e = slot(log, id);

    if (e)
        e->status = status;
}

void sbx_reqlog_oauth(struct sbx_reqlog *log, uint64_t id, const struct sbx_reqlog_oauth *note)
{
    struct sbx_reqlog_oauth *dst;

    if (!slot(log, id))
        return;
    if (!log->oauth)
        log->oauth = calloc(SBX_REQLOG_OAUTH_MAX, sizeof(*log->oauth));
    if (!log->oauth)
        return; /* the note is a test aid: losing it under memory pressure is fine */
    dst = &log->oauth[id % SBX_REQLOG_OAUTH_MAX];
    *dst = *note;
    dst->id = id;
    dst->set = true;
}

/* The note of entry id, or NULL (none, or overwritten by a later OAuth call). */
static const struct sbx_reqlog_oauth *note_of(const struct sbx_reqlog *log, uint64_t id)
{
    const struct sbx_reqlog_oauth *n;

    if (!log->oauth)
        return NULL;
    n = &log->oauth[id % SBX_REQLOG_OAUTH_MAX];
    return n->set && n->id == id ? n : NULL;
}

static void render_note(struct sbx_json *js, const struct sbx_reqlog_oauth *n)
{
    sbx_json_obj(js, "oauth");
    sbx_json_str(js, "endpoint", n->endpoint);
    sbx_json_opt(js, "grant_type", n->grant_type);
    sbx_json_opt(js, "client_id", n->client_id);
    sbx_json_opt(js, "client_auth", n->client_auth);
    sbx_json_opt(js, "redirect_uri", n->redirect_uri);
    sbx_json_opt(js, "code_verifier", n->code_verifier);
    sbx_json_opt(js, "scope", n->scope);
    sbx_json_opt(js, "decision", n->decision);
    sbx_json_opt(js, "error", n->error);
    sbx_json_end(js);
}

void sbx_reqlog_clear(struct sbx_reqlog *log)
{
    log->len = 0;
    log->head = 0;
}

void sbx_reqlog_free(struct sbx_reqlog *log)
{
    free(log->entries);
    free(log->oauth);
    memset(log, 0, sizeof(*log));
}

void sbx_reqlog_render(const struct sbx_reqlog *log, struct sbx_json *js)
{
    uint64_t oldest = log->total - log->len;

    sbx_json_arr(js, "requests");
    for (size_t i = 0; i < log->len; i++) {
        const struct sbx_reqlog_entry *e = &log->entries[(log->head + i) % log->cap];
        const struct sbx_provider *prov = sbx_server_provider(e->provider);
        const struct sbx_reqlog_oauth *note = note_of(log, oldest + i);

        sbx_json_obj(js, NULL);
        sbx_json_int(js, "time_us", e->time_us);
        sbx_json_str(js, "provider", prov ? prov->slug : NULL);
        sbx_json_str(js, "method", sbx_reqlog_method_name(e->method));
        sbx_json_str(js, "path", e->uri);
        sbx_json_int(js, "status", e->status);
        if (note)
            render_note(js, note);
        sbx_json_end(js);
    }
    sbx_json_end(js);
}
