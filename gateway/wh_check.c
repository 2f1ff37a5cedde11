/*
 * What the webhook endpoints API accepts: target URLs (http(s), public hosts unless private
 * upstreams are allowed), event filters (known event types only) and no unknown members.
 */
#include "wh_int.h"

#include <stdlib.h>
#include <string.h>

#include "roster/rs_outbox.h"
#include "roster/rs_url.h"

enum rs_err wh_check_url(const json_t *value, bool allow_private, const char **out,
                         struct rs_errbuf *eb)
{
    const char *url = json_string_value(value);

    if (!json_is_string(value) || json_string_length(value) == 0)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "url", "url is required (a string)");
    if (json_string_length(value) > WH_URL_MAX || strlen(url) != json_string_length(value))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "url",
                               "url is longer than %d bytes or has NUL bytes", WH_URL_MAX);
    if (rs_url_check_upstream(url, allow_private, eb) != RS_OK) {
        /* rs_url_check_upstream explains (scheme, host, private address); name the member */
        snprintf(eb->param, sizeof(eb->param), "url");
        return RS_ERR_INVALID;
    }
    *out = url;
    return RS_OK;
}

/* True when name is already one of the n first items of list. */
static bool seen(const json_t *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_string_value(json_array_get(list, i)), name) == 0)
            return true;
    }
    return false;
}

enum rs_err wh_check_events(const json_t *value, char **literal_out, struct rs_errbuf *eb)
{
    struct rs_buf lit;
    const json_t *item;
    size_t i;
    enum rs_err err;

    *literal_out = NULL;
    if (!value || json_is_null(value))
        return RS_OK;
    if (!json_is_array(value) || json_array_size(value) == 0)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "events",
                               "events must be a non-empty array of event types (leave it out "
                               "or null for every type)");
    json_array_foreach(value, i, item)
    {
        if (!json_is_string(item))
            return rs_errbuf_param(eb, RS_ERR_INVALID, "events", "events[%zu] is not a string", i);
        if (!rs_outbox_event_known(json_string_value(item)))
            return rs_errbuf_param(eb, RS_ERR_INVALID, "events",
                                   "unknown event type \"%.60s\" in events",
                                   json_string_value(item));
    }
    rs_buf_init(&lit, 4096);
    err = rs_buf_append(&lit, "{", 1);
    json_array_foreach(value, i, item)
    {
        /* known names are letters and dots: nothing to quote in the literal */
        if (err == RS_OK && !seen(value, i, json_string_value(item)))
            err = rs_buf_appendf(&lit, "%s%s", lit.len > 1 ? "," : "", json_string_value(item));
    }
    if (err == RS_OK)
        err = rs_buf_append(&lit, "}", 1);
    if (err == RS_OK)
        *literal_out = rs_buf_steal(&lit);
    rs_buf_cleanup(&lit);
    return err;
}

enum rs_err wh_check_members(const json_t *body, const char *const *allowed, struct rs_errbuf *eb)
{
    const char *key;
    const json_t *value;

    json_object_foreach((json_t *)body, key, value)
    {
        bool ok = false;

        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok)
            return rs_errbuf_param(eb, RS_ERR_INVALID, key, "unknown member \"%.60s\"", key);
    }
    return RS_OK;
}
