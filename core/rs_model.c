/*
 * The normalized HRIS model: field tables in Merge's wire order (from the SDK's serializers,
 * see ../shared/reference/merge-hris-api.md §1) and the renderer that produces stored JSON.
 */
#include "roster/rs_model.h"

#include <stdlib.h>
#include <string.h>

#include "roster/rs_time.h"

#define F(n, t)                                                                                    \
    {                                                                                              \
        n, t, RS_MODEL_NONE, NULL                                                                  \
    }
#define FC(n, t, c)                                                                                \
    {                                                                                              \
        n, t, RS_MODEL_NONE, c                                                                     \
    }
#define REF(n, m, c)                                                                               \
    {                                                                                              \
        n, RS_FT_REF, m, c                                                                         \
    }
#define REFS(n, m, c)                                                                              \
    {                                                                                              \
        n, RS_FT_REFS, m, c                                                                        \
    }

static const struct rs_field employee_fields[] = {
    FC("employee_number", RS_FT_STRING, "employee_number"),
    REF("company", RS_MODEL_COMPANY, "company_id"),
    FC("first_name", RS_FT_STRING, "first_name"),
    FC("last_name", RS_FT_STRING, "last_name"),
    F("preferred_name", RS_FT_STRING),
    FC("display_full_name", RS_FT_STRING, "display_full_name"),
    F("username", RS_FT_STRING),
    REFS("groups", RS_MODEL_GROUP, "group_ids"),
    FC("work_email", RS_FT_STRING, "work_email"),
    FC("personal_email", RS_FT_STRING, "personal_email"),
    F("mobile_phone_number", RS_FT_STRING),
    REFS("employments", RS_MODEL_EMPLOYMENT, NULL),
    REF("home_location", RS_MODEL_LOCATION, "home_location_id"),
    REF("work_location", RS_MODEL_LOCATION, "work_location_id"),
    REF("manager", RS_MODEL_EMPLOYEE, "manager_id"),
    REF("team", RS_MODEL_TEAM, "team_id"),
    REF("pay_group", RS_MODEL_NONE, "pay_group_id"),
    F("ssn", RS_FT_STRING),
    F("gender", RS_FT_STRING),
    F("ethnicity", RS_FT_STRING),
    F("marital_status", RS_FT_STRING),
    F("date_of_birth", RS_FT_DATETIME),
    F("hire_date", RS_FT_DATETIME),
    FC("start_date", RS_FT_DATETIME, "start_date"),
    F("remote_created_at", RS_FT_DATETIME),
    FC("employment_status", RS_FT_STRING, "employment_status"),
    FC("termination_date", RS_FT_DATETIME, "termination_date"),
    F("avatar", RS_FT_STRING),
    F("custom_fields", RS_FT_OBJECT),
};

static const struct rs_field employment_fields[] = {
    REF("employee", RS_MODEL_EMPLOYEE, "employee_id"),
    FC("job_title", RS_FT_STRING, "job_title"),
    F("pay_rate", RS_FT_NUMBER),
    F("pay_period", RS_FT_STRING),
    F("pay_frequency", RS_FT_STRING),
    F("pay_currency", RS_FT_STRING),
    REF("pay_group", RS_MODEL_NONE, "pay_group_id"),
    F("flsa_status", RS_FT_STRING),
    FC("effective_date", RS_FT_DATETIME, "effective_date"),
    FC("employment_type", RS_FT_STRING, "employment_type"),
};

static const struct rs_field group_fields[] = {
    FC("parent_group", RS_FT_UUID, "parent_group_id"),
    FC("name", RS_FT_STRING, "name"),
    FC("type", RS_FT_STRING, "type"),
    FC("is_commonly_used_as_team", RS_FT_BOOL, "is_commonly_used_as_team"),
};

static const struct rs_field team_fields[] = {
    F("name", RS_FT_STRING),
    REF("parent_team", RS_MODEL_TEAM, "parent_team_id"),
};

static const struct rs_field location_fields[] = {
    F("name", RS_FT_STRING),
    F("phone_number", RS_FT_STRING),
    F("street_1", RS_FT_STRING),
    F("street_2", RS_FT_STRING),
    F("city", RS_FT_STRING),
    F("state", RS_FT_STRING),
    F("zip_code", RS_FT_STRING),
    F("country", RS_FT_STRING),
    FC("location_type", RS_FT_STRING, "location_type"),
};

static const struct rs_field company_fields[] = {
    F("legal_name", RS_FT_STRING),
    F("display_name", RS_FT_STRING),
    F("eins", RS_FT_STRINGS),
};

#define MODEL(k, n, p, pre, f)                                                                     \
    {                                                                                              \
        k, n, "hris." n, p, pre, f, sizeof(f) / sizeof(f[0])                                       \
    }

static const struct rs_model models[RS_MODEL_COUNT] = {
    MODEL(RS_MODEL_EMPLOYEE, "Employee", "employees", "employee", employee_fields),
    MODEL(RS_MODEL_EMPLOYMENT, "Employment", "employments", "employment", employment_fields),
    MODEL(RS_MODEL_GROUP, "Group", "groups", "group", group_fields),
    MODEL(RS_MODEL_TEAM, "Team", "teams", "team", team_fields),
    MODEL(RS_MODEL_LOCATION, "Location", "locations", "location", location_fields),
    MODEL(RS_MODEL_COMPANY, "Company", "companies", "company", company_fields),
};

const struct rs_model *rs_model_get(enum rs_model_kind kind)
{
    return &models[kind];
}

const struct rs_model *rs_model_by_path(const char *path, size_t len)
{
    for (size_t i = 0; i < RS_MODEL_COUNT; i++) {
        if (strlen(models[i].path) == len && memcmp(models[i].path, path, len) == 0)
            return &models[i];
    }
    return NULL;
}

const struct rs_field *rs_model_field(const struct rs_model *model, const char *name)
{
    for (size_t i = 0; i < model->nfields; i++) {
        if (strcmp(model->fields[i].name, name) == 0)
            return &model->fields[i];
    }
    return NULL;
}

enum rs_err rs_model_id(const struct rs_uuid *account, enum rs_model_kind kind,
                        const char *remote_id, struct rs_uuid *out)
{
    const char *prefix = models[kind].id_prefix;
    size_t plen = strlen(prefix), rlen = strlen(remote_id);
    char name[RS_MODEL_REMOTE_ID_MAX + 32];

    if (rlen == 0 || rlen > RS_MODEL_REMOTE_ID_MAX)
        return RS_ERR_INVALID;
    memcpy(name, prefix, plen);
    name[plen] = ':';
    memcpy(name + plen + 1, remote_id, rlen);
    rs_uuid_v5(account, name, plen + 1 + rlen, out);
    return RS_OK;
}

static enum rs_err render_uuid(const json_t *value, struct rs_buf *out)
{
    struct rs_uuid uuid;
    char text[RS_UUID_STR_LEN + 1]; /* the UUID in quotes */

    if (!json_is_string(value) || rs_uuid_parse(json_string_value(value), &uuid) != RS_OK)
        return RS_ERR_INVALID;
    rs_uuid_format(&uuid, text + 1);
    text[0] = '"';
    text[RS_UUID_STR_LEN] = '"';
    return rs_buf_append(out, text, RS_UUID_STR_LEN + 1);
}

static enum rs_err render_array(const json_t *value, enum rs_field_type type, struct rs_buf *out)
{
    enum rs_err err;
    size_t i;
    json_t *item;

    if (!json_is_array(value))
        return RS_ERR_INVALID;
    if ((err = rs_buf_append(out, "[", 1)) != RS_OK)
        return err;
    json_array_foreach(value, i, item)
    {
        if (i > 0 && (err = rs_buf_append(out, ",", 1)) != RS_OK)
            return err;
        if (type == RS_FT_REFS)
            err = render_uuid(item, out);
        else if (json_is_string(item))
            err = rs_buf_append_json_str(out, json_string_value(item), json_string_length(item));
        else
            err = RS_ERR_INVALID;
        if (err != RS_OK)
            return err;
    }
    return rs_buf_append(out, "]", 1);
}

static enum rs_err render_dumped(const json_t *value, struct rs_buf *out)
{
    enum rs_err err;
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    if (!text)
        return RS_ERR_NOMEM;
    err = rs_buf_append_str(out, text);
    free(text);
    return err;
}

static enum rs_err render_datetime(const json_t *value, struct rs_buf *out)
{
    int64_t us;
    char text[RS_TIME_ISO_LEN];
    enum rs_err err;

    if (!json_is_string(value) || rs_time_parse(json_string_value(value), &us) != RS_OK)
        return RS_ERR_INVALID;
    rs_time_format(us, text);
    if ((err = rs_buf_append(out, "\"", 1)) == RS_OK &&
        (err = rs_buf_append_str(out, text)) == RS_OK)
        err = rs_buf_append(out, "\"", 1);
    return err;
}

static enum rs_err render_value(const struct rs_field *field, const json_t *value,
                                struct rs_buf *out)
{
    if (!value || json_is_null(value))
        return rs_buf_append(out, "null", 4);
    switch (field->type) {
    case RS_FT_STRING:
        if (!json_is_string(value))
            return RS_ERR_INVALID;
        return rs_buf_append_json_str(out, json_string_value(value), json_string_length(value));
    case RS_FT_DATETIME:
        return render_datetime(value, out);
    case RS_FT_BOOL:
        return json_is_boolean(value) ? render_dumped(value, out) : RS_ERR_INVALID;
    case RS_FT_NUMBER:
        return json_is_number(value) ? render_dumped(value, out) : RS_ERR_INVALID;
    case RS_FT_OBJECT:
        return json_is_object(value) ? render_dumped(value, out) : RS_ERR_INVALID;
    case RS_FT_STRINGS:
    case RS_FT_REFS:
        return render_array(value, field->type, out);
    case RS_FT_UUID:
    case RS_FT_REF:
        return render_uuid(value, out);
    }
    return RS_ERR_INTERNAL;
}

enum rs_err rs_model_render(const struct rs_model *model, const json_t *record, struct rs_buf *out,
                            struct rs_errbuf *eb)
{
    enum rs_err err;

    if (!json_is_object(record))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s record is not an object", model->name);
    if ((err = rs_buf_append(out, "{", 1)) != RS_OK)
        return err;
    for (size_t i = 0; i < model->nfields; i++) {
        const struct rs_field *field = &model->fields[i];

        /* ,"name": — plain appends: this runs for every field of every synced record */
        err = i ? rs_buf_append(out, ",\"", 2) : rs_buf_append(out, "\"", 1);
        if (err == RS_OK)
            err = rs_buf_append_str(out, field->name);
        if (err == RS_OK)
            err = rs_buf_append(out, "\":", 2);
        if (err == RS_OK)
            err = render_value(field, json_object_get(record, field->name), out);
        if (err == RS_ERR_INVALID)
            return rs_errbuf_param(eb, err, field->name, "%s.%s has the wrong type or format",
                                   model->name, field->name);
        if (err != RS_OK)
            return err;
    }
    return rs_buf_append(out, "}", 1);
}
