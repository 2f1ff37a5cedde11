/*
 * Table-driven field mapping shared by the adapters: dotted paths into a provider record,
 * conversions (text, dates, enums, references) into the normalized model's wire fields, and
 * handing the records made to the sink.
 */
#include "providers/prov_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const json_t *prov_json_path(const json_t *obj, const char *path)
{
    char key[128];

    while (obj && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);

        if (!json_is_object(obj) || len >= sizeof(key))
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        obj = json_object_get(obj, key);
        path += len + (dot ? 1 : 0);
    }
    return obj;
}

const char *prov_json_text(const json_t *value, char *out, size_t outlen)
{
    if (json_is_string(value)) {
        snprintf(out, outlen, "%s", json_string_value(value));
        return out;
    }
    if (json_is_integer(value)) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return out;
    }
    if (json_is_real(value)) {
        snprintf(out, outlen, "%.17g", json_real_value(value));
        return out;
    }
    return NULL;
}

const char *prov_enum_lookup(const struct prov_enum *table, const char *value)
{
    for (; table && table->from; table++) {
        if (strcasecmp(table->from, value) == 0)
            return table->to;
    }
    return NULL;
}

json_t *prov_ref(const struct rs_uuid *account, enum rs_model_kind kind, const char *remote_id)
{
    struct rs_uuid id;
    char text[RS_UUID_STR_LEN];

    if (!remote_id || !*remote_id || rs_model_id(account, kind, remote_id, &id) != RS_OK)
        return json_null();
    return json_string(rs_uuid_format(&id, text));
}

/* The converted value (a new reference), or NULL when src has the wrong shape. */
static json_t *convert(const struct prov_map *m, const json_t *src, const struct rs_uuid *account)
{
    char text[1024], iso[RS_TIME_ISO_LEN];
    const char *mapped;
    int64_t us;

    if (!src || json_is_null(src))
        return json_null();
    if (m->conv == PROV_BOOL) {
        if (json_is_boolean(src))
            return json_boolean(json_is_true(src));
        if (!prov_json_text(src, text, sizeof(text)))
            return NULL;
        return json_boolean(strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0);
    }
    /* text passes whole: the buffer below would cut it, possibly inside a UTF-8 sequence */
    if (m->conv == PROV_TEXT && json_is_string(src))
        return json_string_length(src) > 0
                   ? json_stringn(json_string_value(src), json_string_length(src))
                   : json_null();
    if (!prov_json_text(src, text, sizeof(text)))
        return NULL;
    if (text[0] == '\0')
        return json_null();
    switch (m->conv) {
    case PROV_TEXT:
        return json_string(text);
    case PROV_DATE:
        /* "2014-11-09 00:00:00+01:00" is the 9th where the company is, not the 8th in UTC */
        if (strncmp(text, "0000-00-00", 10) == 0)
            return json_null();
        if (strlen(text) > 10)
            text[10] = '\0';
        return rs_time_parse(text, &us) == RS_OK ? json_string(rs_time_format(us, iso)) : NULL;
    case PROV_DATETIME:
        return rs_time_parse(text, &us) == RS_OK ? json_string(rs_time_format(us, iso)) : NULL;
    case PROV_ENUM:
        mapped = prov_enum_lookup(m->enums, text);
        return mapped ? json_string(mapped) : json_null();
    case PROV_REF:
        return prov_ref(account, m->ref, text);
    default:
        return NULL;
    }
}

enum rs_err prov_map_apply(const struct prov_map *map, size_t n, const json_t *src,
                           const struct rs_uuid *account, json_t *dst, const char **bad)
{
    for (size_t i = 0; i < n; i++) {
        json_t *value = convert(&map[i], prov_json_path(src, map[i].from), account);

        if (!value) {
            *bad = map[i].from;
            return RS_ERR_INVALID;
        }
        if (json_object_set_new(dst, map[i].to, value) != 0)
            return RS_ERR_NOMEM;
    }
    return RS_OK;
}

enum rs_err prov_deliver(const struct prov_sink *sink, enum rs_model_kind kind,
                         const char *remote_id, const json_t *fields, const char *path,
                         const json_t *data)
{
    json_t *remote = NULL;
    struct rs_record record = {.remote_id = remote_id, .fields = fields};
    enum rs_err err;

    if (data) {
        remote = json_pack("[{s:s, s:O}]", "path", path, "data", data);
        if (!remote)
            return RS_ERR_NOMEM;
    }
    record.remote_data = remote;
    err = sink->record(sink->arg, kind, &record);
    json_decref(remote);
    return err;
}

json_t *prov_display_name(const json_t *employee)
{
    const char *first = json_string_value(json_object_get(employee, "preferred_name"));
    const char *last = json_string_value(json_object_get(employee, "last_name"));

    if (!first)
        first = json_string_value(json_object_get(employee, "first_name"));
    if (!first || !last)
        return first || last ? json_string(first ? first : last) : json_null();
    return json_sprintf("%s %s", first, last);
}
