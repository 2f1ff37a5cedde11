/*
 * The adapter harness of rt_prov.h: next_request and parse_response called the way the sync
 * engine calls them, on state the test can read and change between calls.
 */
#include "rt_prov.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct rt_prov *rt_prov_new(const char *slug, const char *account, int64_t now_us,
                            json_t *credentials_owned)
{
    struct rt_prov *p = calloc(1, sizeof(*p));

    assert_non_null(p);
    p->ops = prov_find(slug);
    if (!p->ops)
        fail_msg("no adapter %s", slug);
    p->credentials = credentials_owned ? credentials_owned : json_object();
    assert_non_null(p->credentials);
    p->sync.credentials = p->credentials;
    assert_int_equal(rs_uuid_parse(account, &p->sync.account), RS_OK);
    p->sync.full = true;
    p->sync.now_us = now_us;
    p->sync.state = json_object();
    assert_non_null(p->sync.state);
    rt_capture_init(&p->cap);
    p->sink = rt_capture_sink(&p->cap);
    return p;
}

void rt_prov_free(struct rt_prov *p)
{
    if (!p)
        return;
    prov_request_cleanup(&p->req);
    json_decref(p->credentials);
    json_decref(p->sync.state);
    json_decref(p->sync.token);
    rt_capture_cleanup(&p->cap);
    free(p);
}

enum rs_err rt_prov_next(struct rt_prov *p, bool *done)
{
    prov_request_cleanup(&p->req);
    memset(&p->req, 0, sizeof(p->req));
    rs_errbuf_clear(&p->eb);
    return p->ops->next_request(&p->sync, &p->req, done, &p->eb);
}

bool rt_prov_next_ok(struct rt_prov *p)
{
    bool done = true;
    enum rs_err err = rt_prov_next(p, &done);

    if (err != RS_OK)
        fail_msg("next_request: %s (%s)", rs_err_name(err), p->eb.msg);
    return done;
}

enum rs_err rt_prov_feed_len(struct rt_prov *p, const char *body, size_t len)
{
    struct prov_response resp = {.status = 200, .body = body, .len = len};

    rs_errbuf_clear(&p->eb);
    return p->ops->parse_response(&p->sync, &resp, &p->sink, &p->eb);
}

enum rs_err rt_prov_feed(struct rt_prov *p, const char *body)
{
    return rt_prov_feed_len(p, body, strlen(body));
}

enum rs_err rt_prov_feed_json(struct rt_prov *p, const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    enum rs_err err;

    assert_non_null(text);
    err = rt_prov_feed(p, text);
    free(text);
    return err;
}

const char *rt_prov_uuid(const struct rt_prov *p, enum rs_model_kind kind, const char *remote_id,
                         char out[RS_UUID_STR_LEN])
{
    struct rs_uuid id;

    assert_int_equal(rs_model_id(&p->sync.account, kind, remote_id, &id), RS_OK);
    return rs_uuid_format(&id, out);
}

void rt_prov_expect_str(const json_t *fields, const char *key, const char *want)
{
    const json_t *value = json_object_get(fields, key);

    if (!want) {
        if (value && !json_is_null(value))
            fail_msg("%s: expected null, got %s", key,
                     json_is_string(value) ? json_string_value(value) : "(not a string)");
        return;
    }
    if (!json_is_string(value))
        fail_msg("%s: expected \"%s\", got no string", key, want);
    if (strcmp(json_string_value(value), want) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", key, want, json_string_value(value));
}

void rt_prov_expect_ref(const struct rt_prov *p, const json_t *fields, const char *key,
                        enum rs_model_kind kind, const char *remote_id)
{
    char uuid[RS_UUID_STR_LEN];

    rt_prov_expect_str(fields, key, remote_id ? rt_prov_uuid(p, kind, remote_id, uuid) : NULL);
}
