/*
 * Query parameters of the read API: a table per model of the filters Merge documents, each
 * validated and turned into one SQL condition with a bound parameter. Bad input is a 400 that
 * names the parameter; parameters Roster does not know are ignored, as Merge does.
 */
#include "gw_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/rs_time.h"

enum param_kind {
    P_TIME_GT,      /* column > time */
    P_TIME_LT,      /* column < time */
    P_TEXT,         /* column = text */
    P_UUID,         /* column = uuid */
    P_ENUM,         /* column = one of values */
    P_UUID_ANY,     /* array column overlaps a comma-separated uuid list */
    P_TEXT_ANY,     /* column = any of a comma-separated list */
    P_ENUM_ANY,     /* column = any of a comma-separated list of values */
    P_BOOL,         /* column = boolean */
    P_EMPLOYMENT,   /* an employment of the employee has column = value (enum when values) */
    P_FLAG_DELETED, /* include_deleted_data */
    P_FLAG_REMOTE,  /* include_remote_data */
    P_BOOL_IGNORED, /* a Merge flag Roster accepts but has nothing to apply to */
    P_IGNORED,      /* a Merge parameter Roster accepts and ignores */
    P_ORDER_BY,     /* employments: effective_date or -effective_date */
    P_EXPAND,
    P_CURSOR,
    P_PAGE_SIZE,
};

struct param_spec {
    const char *name;
    enum param_kind kind;
    const char *column;
    const char *const *values; /* NULL-terminated, for enums */
};

static const char *const employment_status_values[] = {"ACTIVE", "PENDING", "INACTIVE", NULL};
static const char *const employment_type_values[] = {"FULL_TIME",  "PART_TIME", "INTERN",
                                                     "CONTRACTOR", "FREELANCE", NULL};
static const char *const group_type_values[] = {"TEAM",          "DEPARTMENT", "COST_CENTER",
                                                "BUSINESS_UNIT", "GROUP",      NULL};
static const char *const location_type_values[] = {"HOME", "WORK", NULL};

static const struct param_spec common_params[] = {
    {"cursor", P_CURSOR, NULL, NULL},
    {"page_size", P_PAGE_SIZE, NULL, NULL},
    {"expand", P_EXPAND, NULL, NULL},
    {"created_after", P_TIME_GT, "created_at", NULL},
    {"created_before", P_TIME_LT, "created_at", NULL},
    {"modified_after", P_TIME_GT, "modified_at", NULL},
    {"modified_before", P_TIME_LT, "modified_at", NULL},
    {"remote_id", P_TEXT, "remote_id", NULL},
    {"include_deleted_data", P_FLAG_DELETED, NULL, NULL},
    {"include_remote_data", P_FLAG_REMOTE, NULL, NULL},
    {"include_shell_data", P_BOOL_IGNORED, NULL, NULL},
    {"include_sensitive_fields", P_BOOL_IGNORED, NULL, NULL},
    {"show_enum_origins", P_IGNORED, NULL, NULL},
    {"remote_fields", P_IGNORED, NULL, NULL},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec employee_params[] = {
    {"company_id", P_UUID, "company_id", NULL},
    {"display_full_name", P_TEXT, "display_full_name", NULL},
    {"employee_number", P_TEXT, "employee_number", NULL},
    {"employment_status", P_ENUM, "employment_status", employment_status_values},
    {"employment_type", P_EMPLOYMENT, "employment_type", employment_type_values},
    {"first_name", P_TEXT, "first_name", NULL},
    {"groups", P_UUID_ANY, "group_ids", NULL},
    {"home_location_id", P_UUID, "home_location_id", NULL},
    {"job_title", P_EMPLOYMENT, "job_title", NULL},
    {"last_name", P_TEXT, "last_name", NULL},
    {"manager_id", P_UUID, "manager_id", NULL},
    {"pay_group_id", P_UUID, "pay_group_id", NULL},
    {"personal_email", P_TEXT, "personal_email", NULL},
    {"started_after", P_TIME_GT, "start_date", NULL},
    {"started_before", P_TIME_LT, "start_date", NULL},
    {"team_id", P_UUID, "team_id", NULL},
    {"terminated_after", P_TIME_GT, "termination_date", NULL},
    {"terminated_before", P_TIME_LT, "termination_date", NULL},
    {"work_email", P_TEXT, "work_email", NULL},
    {"work_location_id", P_UUID, "work_location_id", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec employment_params[] = {
    {"employee_id", P_UUID, "employee_id", NULL},
    {"order_by", P_ORDER_BY, NULL, NULL},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec group_params[] = {
    {"is_commonly_used_as_team", P_BOOL, "is_commonly_used_as_team", NULL},
    {"names", P_TEXT_ANY, "name", NULL},
    {"types", P_ENUM_ANY, "type", group_type_values},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec team_params[] = {
    {"parent_team_id", P_UUID, "parent_team_id", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec location_params[] = {
    {"location_type", P_ENUM, "location_type", location_type_values},
    {NULL, 0, NULL, NULL},
};

static const struct param_spec no_params[] = {{NULL, 0, NULL, NULL}};

static const struct param_spec *const model_params[RS_MODEL_COUNT] = {
    [RS_MODEL_EMPLOYEE] = employee_params, [RS_MODEL_EMPLOYMENT] = employment_params,
    [RS_MODEL_GROUP] = group_params,       [RS_MODEL_TEAM] = team_params,
    [RS_MODEL_LOCATION] = location_params, [RS_MODEL_COMPANY] = no_params,
};

static const struct param_spec *find_spec(const struct param_spec *specs, const char *name)
{
    for (; specs->name; specs++) {
        if (strcmp(specs->name, name) == 0)
            return specs;
    }
    return NULL;
}

static enum rs_err parse_bool(const char *name, const char *value, bool *out, struct rs_errbuf *eb)
{
    if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
        *out = true;
    else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
        *out = false;
    else
        return rs_errbuf_param(eb, RS_ERR_INVALID, name, "%s must be true or false", name);
    return RS_OK;
}

static bool in_values(const char *const *values, const char *value, size_t len)
{
    for (; *values; values++) {
        if (strlen(*values) == len && strncmp(*values, value, len) == 0)
            return true;
    }
    return false;
}

/* Adds a bound parameter (taking ownership of value) and returns its $ number, or 0. */
static int add_param(struct gw_list_query *q, char *value)
{
    if (!value)
        return 0;
    if (q->nparams >= GW_MAX_SQL_PARAMS) {
        free(value);
        return 0;
    }
    q->owned[q->nparams] = value;
    q->params[q->nparams] = value;
    return ++q->nparams;
}

/*
 * Appends " AND <fmt with %s = column, %d = the parameter's number>" for an owned value. The
 * formats are the literals of this file, so the non-literal format is safe here.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static enum rs_err add_condition(struct gw_list_query *q, const char *fmt, const char *column,
                                 char *value_owned)
{
    int n = add_param(q, value_owned);

    if (n == 0)
        return RS_ERR_NOMEM;
    return rs_buf_appendf(&q->where, fmt, column, n);
}
#pragma GCC diagnostic pop

/*
 * Splits a comma-separated list into a PostgreSQL array literal, validating each element with
 * kind (P_UUID_ANY, P_TEXT_ANY or P_ENUM_ANY).
 */
static enum rs_err list_literal(const struct param_spec *spec, const char *value,
                                struct rs_buf *out, struct rs_errbuf *eb)
{
    enum rs_err err = rs_buf_append(out, "{", 1);
    const char *p = value;

    while (err == RS_OK) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[256];
        struct rs_uuid uuid;

        if (len == 0 || len >= sizeof(item))
            return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name,
                                   "%s must be a comma-separated list without empty items",
                                   spec->name);
        memcpy(item, p, len);
        item[len] = '\0';
        if (spec->kind == P_UUID_ANY && rs_uuid_parse(item, &uuid) != RS_OK)
            return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name, "%s: \"%.60s\" is not a UUID",
                                   spec->name, item);
        if (spec->kind == P_ENUM_ANY && !in_values(spec->values, item, len))
            return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name,
                                   "%s: \"%.60s\" is not an accepted value", spec->name, item);
        err = rs_buf_append_str(out, p == value ? "\"" : ",\"");
        for (size_t i = 0; i < len && err == RS_OK; i++) {
            if (item[i] == '"' || item[i] == '\\')
                err = rs_buf_append(out, "\\", 1);
            if (err == RS_OK)
                err = rs_buf_append(out, &item[i], 1);
        }
        if (err == RS_OK)
            err = rs_buf_append(out, "\"", 1);
        if (!comma)
            break;
        p = comma + 1;
    }
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

static enum rs_err filter_list(struct gw_list_query *q, const struct param_spec *spec,
                               const char *value, struct rs_errbuf *eb)
{
    struct rs_buf literal;
    enum rs_err err;

    rs_buf_init(&literal, 64 * 1024);
    err = list_literal(spec, value, &literal, eb);
    if (err == RS_OK)
        err = add_condition(q,
                            spec->kind == P_UUID_ANY ? " AND t.%s && $%d::uuid[]"
                                                     : " AND t.%s = ANY($%d::text[])",
                            spec->column, rs_buf_steal(&literal));
    rs_buf_cleanup(&literal);
    return err;
}

static enum rs_err filter_time(struct gw_list_query *q, const struct param_spec *spec,
                               const char *value, struct rs_errbuf *eb)
{
    int64_t us;
    char text[RS_TIME_ISO_LEN];

    if (rs_time_parse(value, &us) != RS_OK)
        return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name,
                               "%s must be an ISO-8601 date-time, e.g. 2024-01-15T09:30:00Z",
                               spec->name);
    rs_time_format(us, text);
    return add_condition(q,
                         spec->kind == P_TIME_GT ? " AND t.%s > $%d::timestamptz"
                                                 : " AND t.%s < $%d::timestamptz",
                         spec->column, strdup(text));
}

static enum rs_err filter_scalar(struct gw_list_query *q, const struct param_spec *spec,
                                 const char *value, struct rs_errbuf *eb)
{
    struct rs_uuid uuid;
    bool flag;
    char text[RS_UUID_STR_LEN];

    switch (spec->kind) {
    case P_UUID:
        if (rs_uuid_parse(value, &uuid) != RS_OK)
            return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name, "%s must be a UUID", spec->name);
        return add_condition(q, " AND t.%s = $%d::uuid", spec->column,
                             strdup(rs_uuid_format(&uuid, text)));
    case P_BOOL:
        if (parse_bool(spec->name, value, &flag, eb) != RS_OK)
            return RS_ERR_INVALID;
        return add_condition(q, " AND t.%s = $%d::boolean", spec->column,
                             strdup(flag ? "true" : "false"));
    case P_ENUM:
    case P_EMPLOYMENT:
        if (spec->values && !in_values(spec->values, value, strlen(value)))
            return rs_errbuf_param(eb, RS_ERR_INVALID, spec->name,
                                   "%s: \"%.60s\" is not an accepted value", spec->name, value);
        if (spec->kind == P_EMPLOYMENT)
            return add_condition(q,
                                 " AND EXISTS (SELECT 1 FROM employments m WHERE "
                                 "m.linked_account_id = t.linked_account_id AND m.employee_id "
                                 "= t.id AND NOT m.remote_was_deleted AND m.%s = $%d)",
                                 spec->column, strdup(value));
        return add_condition(q, " AND t.%s = $%d", spec->column, strdup(value));
    default: /* P_TEXT */
        return add_condition(q, " AND t.%s = $%d", spec->column, strdup(value));
    }
}

static enum rs_err parse_expand(struct gw_list_query *q, const char *value, struct rs_errbuf *eb)
{
    const char *p = value;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;

        for (size_t i = 0; i < q->model->nfields && i < 64; i++) {
            const struct rs_field *field = &q->model->fields[i];

            if ((field->type == RS_FT_REF || field->type == RS_FT_REFS) &&
                strlen(field->name) == len && strncmp(field->name, p, len) == 0) {
                q->expand |= UINT64_C(1) << i;
                found = true;
            }
        }
        if (!found)
            return rs_errbuf_param(eb, RS_ERR_INVALID, "expand",
                                   "expand: \"%.*s\" is not a relation of %s",
                                   (int)(len > 60 ? 60 : len), p, q->model->name);
        if (!comma)
            return RS_OK;
        p = comma + 1;
    }
}

static enum rs_err parse_page_size(const char *value, int *out, struct rs_errbuf *eb)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    if (errno || end == value || *end || n < 1 || n > 100)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "page_size",
                               "page_size must be an integer from 1 to 100");
    *out = (int)n;
    return RS_OK;
}

static enum rs_err parse_order_by(struct gw_list_query *q, const char *value, struct rs_errbuf *eb)
{
    if (strcmp(value, "effective_date") == 0)
        q->sort_desc = false;
    else if (strcmp(value, "-effective_date") == 0)
        q->sort_desc = true;
    else
        return rs_errbuf_param(eb, RS_ERR_INVALID, "order_by",
                               "order_by must be effective_date or -effective_date");
    q->sort_column = "effective_date";
    return RS_OK;
}

/* Applies one query parameter (whose spec is known) to q. */
static enum rs_err apply(struct gw_list_query *q, const struct param_spec *spec, const char *value,
                         const char **cursor_text, struct rs_errbuf *eb)
{
    bool ignored;

    switch (spec->kind) {
    case P_CURSOR:
        *cursor_text = value;
        return RS_OK;
    case P_PAGE_SIZE:
        return parse_page_size(value, &q->page_size, eb);
    case P_EXPAND:
        return parse_expand(q, value, eb);
    case P_ORDER_BY:
        return parse_order_by(q, value, eb);
    case P_FLAG_DELETED:
        return parse_bool(spec->name, value, &q->include_deleted, eb);
    case P_FLAG_REMOTE:
        return parse_bool(spec->name, value, &q->include_remote_data, eb);
    case P_BOOL_IGNORED:
        return parse_bool(spec->name, value, &ignored, eb);
    case P_IGNORED:
        return RS_OK;
    case P_TIME_GT:
    case P_TIME_LT:
        return filter_time(q, spec, value, eb);
    case P_UUID_ANY:
    case P_TEXT_ANY:
    case P_ENUM_ANY:
        return filter_list(q, spec, value, eb);
    default:
        return filter_scalar(q, spec, value, eb);
    }
}

/* True when key appears more than once in the query. */
static bool repeated(const struct evkeyval *first)
{
    for (const struct evkeyval *kv = TAILQ_NEXT(first, next); kv; kv = TAILQ_NEXT(kv, next)) {
        if (strcmp(kv->key, first->key) == 0)
            return true;
    }
    return false;
}

static void query_init(struct gw_req *req, const struct rs_model *model, struct gw_list_query *q)
{
    memset(q, 0, sizeof(*q));
    q->model = model;
    q->page_size = 100;
    q->sort_column = "modified_at";
    rs_buf_init(&q->where, 256 * 1024);
    q->params[0] = req->account.id_text;
    q->nparams = 1;
}

/* A cursor signed with the current key, or with a retired one (issued before a key rotation). */
static enum rs_err decode_cursor(struct gw_req *req, const char *text, const char *context,
                                 struct rs_cursor *out)
{
    const struct gw_app *app = req->app;

    if (rs_cursor_decode(text, context, app->cursor_key, out) == RS_OK)
        return RS_OK;
    for (size_t i = 0; i < app->nretired_cursor_keys; i++) {
        if (rs_cursor_decode(text, context, app->retired_cursor_keys[i], out) == RS_OK)
            return RS_OK;
    }
    return RS_ERR_INVALID;
}

static enum rs_err parse(struct gw_req *req, const struct rs_model *model, struct gw_list_query *q,
                         bool listing)
{
    const char *cursor_text = NULL;
    enum rs_err err = RS_OK;

    query_init(req, model, q);
    for (struct evkeyval *kv = TAILQ_FIRST(&req->query); kv && err == RS_OK;
         kv = TAILQ_NEXT(kv, next)) {
        const struct param_spec *spec = find_spec(common_params, kv->key);

        if (!spec && listing)
            spec = find_spec(model_params[model->kind], kv->key);
        if (!spec || (!listing && spec->kind != P_EXPAND && spec->kind != P_FLAG_REMOTE &&
                      spec->kind != P_BOOL_IGNORED && spec->kind != P_IGNORED))
            continue;
        if (spec->kind != P_EXPAND && repeated(kv))
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, spec->name,
                                   "%s is given more than once", spec->name);
        err = apply(q, spec, kv->value, &cursor_text, &req->eb);
    }
    if (err != RS_OK)
        return err;
    snprintf(q->cursor_context, sizeof(q->cursor_context), "%s/%s/%s%s", req->account.id_text,
             model->path, q->sort_desc ? "-" : "", q->sort_column);
    if (cursor_text) {
        if (decode_cursor(req, cursor_text, q->cursor_context, &q->cursor) != RS_OK)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "cursor",
                                   "cursor is not valid for this listing (tampered, or issued "
                                   "for another account, endpoint or order)");
        q->has_cursor = true;
    }
    return RS_OK;
}

enum rs_err gw_query_parse_list(struct gw_req *req, const struct rs_model *model,
                                struct gw_list_query *q)
{
    return parse(req, model, q, true);
}

enum rs_err gw_query_parse_retrieve(struct gw_req *req, const struct rs_model *model,
                                    struct gw_list_query *q)
{
    return parse(req, model, q, false);
}

void gw_query_cleanup(struct gw_list_query *q)
{
    for (int i = 0; i < q->nparams; i++)
        free(q->owned[i]);
    rs_buf_cleanup(&q->where);
}

enum rs_err gw_query_page(struct gw_req *req, const char *context, int *page_size, bool *has_cursor,
                          struct rs_cursor *cursor)
{
    const char *size = evhttp_find_header(&req->query, "page_size");
    const char *text = evhttp_find_header(&req->query, "cursor");

    *page_size = 100;
    *has_cursor = false;
    if (size && parse_page_size(size, page_size, &req->eb) != RS_OK)
        return RS_ERR_INVALID;
    if (text) {
        if (decode_cursor(req, text, context, cursor) != RS_OK)
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "cursor",
                                   "cursor is not valid for this listing");
        *has_cursor = true;
    }
    return RS_OK;
}
