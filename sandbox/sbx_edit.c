/*
 * Edits made through the control API (hire, change, terminate, rehire, delete). Each stamps the
 * person's change time with the wall clock, which is what incremental syncs key on.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct str_field {
    const char *key;
    size_t offset;
    size_t size;
    bool optional; /* may be null or "" (cleared) */
};

#define PERSON_STR(key, member, optional)                                                          \
    {                                                                                              \
        key, offsetof(struct sbx_person, member), sizeof(((struct sbx_person *)0)->member),        \
            optional                                                                               \
    }

static const struct str_field str_fields[] = {
    PERSON_STR("first_name", first_name, false),
    PERSON_STR("last_name", last_name, false),
    PERSON_STR("preferred_name", preferred_name, true),
    PERSON_STR("title", title, false),
    PERSON_STR("email", work_email, false),
    PERSON_STR("personal_email", home_email, true),
    PERSON_STR("mobile_phone", mobile, true),
};
#define NSTR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static const char *const patch_keys[] = {
    "first_name",   "last_name",  "preferred_name", "title",    "email",   "personal_email",
    "mobile_phone", "department", "team",           "location", "manager", "employment_type"};

static int32_t today(int64_t now_us)
{
    return sbx_time_day(now_us);
}

static enum rs_err set_strings(struct sbx_person *p, json_t *body, struct rs_errbuf *eb)
{
    for (size_t i = 0; i < NSTR_FIELDS; i++) {
        const struct str_field *f = &str_fields[i];
        json_t *v = json_object_get(body, f->key);
        const char *text = json_string_value(v);
        char *dst = (char *)p + f->offset;

        if (!v)
            continue;
        if (json_is_null(v) && f->optional)
            text = "";
        if (!text || strlen(text) >= f->size || (!f->optional && !text[0]))
            return rs_errbuf_param(eb, RS_ERR_INVALID, f->key,
                                   "%s must be a non-empty string shorter than %zu bytes", f->key,
                                   f->size);
        snprintf(dst, f->size, "%s", text);
    }
    return RS_OK;
}

static enum rs_err parse_kind(json_t *v, enum sbx_kind *kind, struct rs_errbuf *eb)
{
    static const char *const names[][3] = {{"full_time", "full-time", "fulltime"},
                                           {"part_time", "part-time", "parttime"},
                                           {"contractor", "contract", "external"},
                                           {"intern", "internship", "trainee"}};
    const char *text = json_string_value(v);

    for (int k = 0; text && k < 4; k++)
        for (int a = 0; a < 3; a++)
            if (strcasecmp(text, names[k][a]) == 0) {
                *kind = (enum sbx_kind)k;
                return RS_OK;
            }
    return rs_errbuf_param(eb, RS_ERR_INVALID, "employment_type",
                           "employment_type must be full_time, part_time, contractor or intern");
}

/* Sets the unit named by body[key] (null clears when allowed); new names are added. */
static enum rs_err set_unit(struct sbx_company *c, json_t *body, const char *key,
                            enum sbx_unit_kind kind, int parent, bool clearable, int *dst,
                            struct rs_errbuf *eb)
{
    json_t *v = json_object_get(body, key);
    int idx;

    if (!v)
        return RS_OK;
    if (json_is_null(v) && clearable) {
        *dst = -1;
        return RS_OK;
    }
    if (!json_is_string(v))
        return rs_errbuf_param(eb, RS_ERR_INVALID, key, "%s must be a name", key);
    idx = sbx_company_unit_intern(c, kind, json_string_value(v), parent);
    if (idx < 0)
        return rs_errbuf_param(eb, RS_ERR_INVALID, key, "%s: empty, too long, or too many", key);
    *dst = idx;
    return RS_OK;
}

/* True when making `manager` the manager of `index` would close a loop. */
static bool would_cycle(struct sbx_company *c, int index, int manager)
{
    for (size_t steps = 0; manager >= 0 && steps <= c->count; steps++) {
        if (manager == index)
            return true;
        manager = c->people[manager].manager;
    }
    return manager >= 0;
}

static enum rs_err set_manager(struct sbx_company *c, struct sbx_person *p, json_t *body,
                               struct rs_errbuf *eb)
{
    json_t *v = json_object_get(body, "manager");
    struct sbx_person *m;

    if (!v)
        return RS_OK;
    if (json_is_null(v)) {
        p->manager = -1;
        return RS_OK;
    }
    m = json_is_integer(v) ? sbx_company_get(c, (long)json_integer_value(v)) : NULL;
    if (!m || m->deleted)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "manager",
                               "manager must be the index of a person who exists");
    if (would_cycle(c, p->index, m->index))
        return rs_errbuf_param(eb, RS_ERR_CONFLICT, "manager",
                               "person %d cannot report to %d: that would make a cycle", p->index,
                               m->index);
    p->manager = m->index;
    return RS_OK;
}

/* The fields hire and patch share; p is a scratch copy, committed only on success. */
static enum rs_err apply(struct sbx_company *c, struct sbx_person *p, json_t *body,
                         struct rs_errbuf *eb)
{
    enum rs_err err = set_strings(p, body, eb);
    json_t *kind = json_object_get(body, "employment_type");

    if (err == RS_OK)
        err = set_unit(c, body, "department", SBX_UNIT_DEPARTMENT, -1, false, &p->department, eb);
    if (err == RS_OK)
        err = set_unit(c, body, "team", SBX_UNIT_TEAM, p->department, true, &p->team, eb);
    if (err == RS_OK)
        err = set_unit(c, body, "location", SBX_UNIT_LOCATION, -1, false, &p->location, eb);
    if (err == RS_OK)
        err = set_manager(c, p, body, eb);
    if (err == RS_OK && kind)
        err = parse_kind(kind, &p->kind, eb);
    if (err == RS_OK && kind)
        p->weekly_hours = p->kind == SBX_KIND_PART_TIME || p->kind == SBX_KIND_INTERN ? 20 : 40;
    return err;
}

static enum rs_err parse_date(json_t *body, int64_t now_us, const char *key, int32_t *day,
                              struct rs_errbuf *eb)
{
    json_t *v = json_object_get(body, key);

    if (!v || json_is_null(v)) {
        *day = today(now_us);
        return RS_OK;
    }
    if (sbx_time_parse_date(json_string_value(v), day) != RS_OK)
        return rs_errbuf_param(eb, RS_ERR_INVALID, key, "%s must be YYYY-MM-DD", key);
    return RS_OK;
}

static enum rs_err hire_defaults(struct sbx_person *p, json_t *body, int64_t now_us,
                                 struct rs_errbuf *eb)
{
    enum rs_err err = parse_date(body, now_us, "start_date", &p->hire_day, eb);

    if (err != RS_OK)
        return err;
    if (!json_is_string(json_object_get(body, "first_name")) ||
        !json_is_string(json_object_get(body, "last_name")))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "first_name",
                               "first_name and last_name are required");
    snprintf(p->title, sizeof(p->title), "Employee");
    snprintf(p->work_email, sizeof(p->work_email), "new.hire.%d@%s", p->index, SBX_DOMAIN);
    p->kind = SBX_KIND_FULL_TIME;
    p->weekly_hours = 40;
    p->gender = SBX_GENDER_DIVERSE;
    p->state = p->hire_day > today(now_us) ? SBX_STATE_ONBOARDING : SBX_STATE_ACTIVE;
    p->created_us = now_us;
    p->changed_us = now_us;
    return RS_OK;
}

enum rs_err sbx_edit_hire(struct sbx_company *c, json_t *body, int64_t now_us, int *index,
                          struct rs_errbuf *eb)
{
    struct sbx_person scratch, *p;
    enum rs_err err;

    memset(&scratch, 0, sizeof(scratch));
    scratch.index = (int)c->count;
    scratch.manager = -1;
    scratch.team = -1;
    err = hire_defaults(&scratch, body, now_us, eb);
    if (err == RS_OK)
        err = apply(c, &scratch, body, eb);
    if (err != RS_OK)
        return err;
    p = sbx_company_append(c);
    if (!p)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "the company is full");
    *p = scratch;
    *index = p->index;
    return RS_OK;
}

static enum rs_err check_keys(json_t *body, struct rs_errbuf *eb)
{
    const char *key;
    json_t *value;

    json_object_foreach(body, key, value)
    {
        bool known = false;

        for (size_t i = 0; i < sizeof(patch_keys) / sizeof(patch_keys[0]); i++)
            known = known || strcmp(key, patch_keys[i]) == 0;
        if (!known)
            return rs_errbuf_param(eb, RS_ERR_INVALID, key, "%s cannot be changed", key);
    }
    return RS_OK;
}

/* The person at index when it can be edited (exists, not deleted). */
static struct sbx_person *editable(struct sbx_company *c, long index, struct rs_errbuf *eb,
                                   enum rs_err *err)
{
    struct sbx_person *p = sbx_company_get(c, index);

    *err = RS_OK;
    if (!p || p->deleted)
        *err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no person with index %ld", index);
    return *err == RS_OK ? p : NULL;
}

enum rs_err sbx_edit_patch(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                           struct rs_errbuf *eb)
{
    enum rs_err err;
    struct sbx_person *p = editable(c, index, eb, &err);
    struct sbx_person scratch;

    if (!p)
        return err;
    err = check_keys(body, eb);
    if (err != RS_OK)
        return err;
    scratch = *p;
    err = apply(c, &scratch, body, eb);
    if (err != RS_OK)
        return err;
    scratch.changed_us = now_us;
    *p = scratch;
    return RS_OK;
}

enum rs_err sbx_edit_terminate(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                               struct rs_errbuf *eb)
{
    enum rs_err err;
    struct sbx_person *p = editable(c, index, eb, &err);
    int32_t day;

    if (!p)
        return err;
    err = parse_date(body, now_us, "date", &day, eb);
    if (err != RS_OK)
        return err;
    if (day < p->hire_day)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "date",
                               "the termination date is before the hire date");
    p->state = SBX_STATE_TERMINATED;
    p->term_day = day;
    p->changed_us = now_us;
    return RS_OK;
}

enum rs_err sbx_edit_rehire(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                            struct rs_errbuf *eb)
{
    enum rs_err err;
    struct sbx_person *p = editable(c, index, eb, &err);
    int32_t day;

    if (!p)
        return err;
    if (p->state != SBX_STATE_TERMINATED)
        return rs_errbuf_set(eb, RS_ERR_CONFLICT, "person %ld is not terminated", index);
    err = parse_date(body, now_us, "date", &day, eb);
    if (err != RS_OK)
        return err;
    if (day <= p->term_day)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "date",
                               "the rehire date must be after the termination date");
    p->hire_day = day;
    p->term_day = 0;
    p->state = day > today(now_us) ? SBX_STATE_ONBOARDING : SBX_STATE_ACTIVE;
    p->changed_us = now_us;
    return RS_OK;
}

enum rs_err sbx_edit_delete(struct sbx_company *c, long index, int64_t now_us, struct rs_errbuf *eb)
{
    enum rs_err err;
    struct sbx_person *p = editable(c, index, eb, &err);

    if (!p)
        return err;
    p->deleted = true;
    p->changed_us = now_us;
    return RS_OK;
}
