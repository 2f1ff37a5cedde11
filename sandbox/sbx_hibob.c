/*
 * HiBob (Bob) under /hibob: HTTP Basic service user, POST /v1/people/search answering every
 * matching employee at once (active only unless showInactive), named lists, and the documented
 * 50 req/min limit on search with x-ratelimit-* headers.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/rs_time.h"

#define SECRET            "sandbox"
#define COMPANY_ID        "601737"
#define SEARCH_PER_MINUTE 50
#define MINUTE_US         INT64_C(60000000)

enum section { SEC_ROOT, SEC_WORK, SEC_HOME, SEC_INTERNAL, SEC_ABOUT };
#define SECTIONS 5

static const char *const section_names[SECTIONS] = {"root", "work", "home", "internal", "about"};

enum field {
    F_ID,
    F_FIRST,
    F_SURNAME,
    F_EMAIL,
    F_DISPLAY,
    F_FULL,
    F_COMPANY,
    F_CREATED,
    F_START,
    F_MANAGER,
    F_WORK_PHONE,
    F_REPORTS_TO,
    F_WORK_MOBILE,
    F_DEPARTMENT,
    F_IS_MANAGER,
    F_SITE,
    F_TITLE,
    F_MOBILE,
    F_PRIVATE_EMAIL,
    F_GENDER,
    F_PRIVATE_PHONE,
    F_STATUS,
    F_TERMINATION,
    F_UPDATED,
};

/* Every field we serve, in the order of the fixture; ids are "<section>.<key>". */
static const struct {
    enum section section;
    const char *key;
    enum field id;
} fields[] = {
    {SEC_ROOT, "fullName", F_FULL},
    {SEC_ROOT, "displayName", F_DISPLAY},
    {SEC_ROOT, "creationDateTime", F_CREATED},
    {SEC_WORK, "startDate", F_START},
    {SEC_WORK, "manager", F_MANAGER},
    {SEC_WORK, "workPhone", F_WORK_PHONE},
    {SEC_WORK, "reportsTo", F_REPORTS_TO},
    {SEC_WORK, "workMobile", F_WORK_MOBILE},
    {SEC_WORK, "department", F_DEPARTMENT},
    {SEC_WORK, "isManager", F_IS_MANAGER},
    {SEC_WORK, "site", F_SITE},
    {SEC_WORK, "title", F_TITLE},
    {SEC_ROOT, "email", F_EMAIL},
    {SEC_ROOT, "surname", F_SURNAME},
    {SEC_HOME, "mobilePhone", F_MOBILE},
    {SEC_HOME, "privateEmail", F_PRIVATE_EMAIL},
    {SEC_HOME, "legalGender", F_GENDER},
    {SEC_HOME, "privatePhone", F_PRIVATE_PHONE},
    {SEC_ROOT, "firstName", F_FIRST},
    {SEC_ROOT, "id", F_ID},
    {SEC_ROOT, "companyId", F_COMPANY},
    {SEC_INTERNAL, "status", F_STATUS},
    {SEC_INTERNAL, "terminationDate", F_TERMINATION},
    {SEC_ABOUT, "updatedAt", F_UPDATED},
};
#define NFIELDS ((int)(sizeof(fields) / sizeof(fields[0])))

enum readable { HR_NONE, HR_REPLACE, HR_APPEND };

struct search {
    bool want[NFIELDS];
    bool show_inactive;
    enum readable readable;
    long only_index; /* a filter on root.id / root.email: -1 none, -2 nobody */
};

struct render_ctx {
    struct sbx_json *js;
    const struct sbx_company *c;
    const struct search *s;
    const int *reports;
};

static enum rs_err hibob_error(const struct sbx_req *req, struct sbx_resp *resp, int status,
                               int retry_after_s)
{
    struct sbx_json js;

    sbx_http_resp_reset(resp);
    sbx_http_json(resp, status);
    if (status == 429) {
        int64_t wait = retry_after_s >= 0 ? retry_after_s : 60;

        sbx_http_header(resp, "x-ratelimit-limit", "%d", SEARCH_PER_MINUTE);
        sbx_http_header(resp, "x-ratelimit-remaining", "0");
        sbx_http_header(resp, "x-ratelimit-reset", "%lld",
                        (long long)(req->now_us / 1000000 + wait));
    } else if (retry_after_s >= 0) {
        sbx_http_header(resp, "Retry-After", "%d", retry_after_s);
    }
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "error",
                 status == 401   ? "Unauthorized"
                 : status == 429 ? "Too Many Requests"
                                 : "Request failed");
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static bool authorized(const struct sbx_ctx *ctx, const struct sbx_req *req)
{
    char user[256], pass[256];
    const char *bearer = sbx_http_bearer(req->authorization);

    if (ctx->revoked[SBX_PROV_HIBOB])
        return false;
    if (bearer)
        return strcmp(bearer, SECRET) == 0;
    if (sbx_http_basic(req->authorization, user, sizeof(user), pass, sizeof(pass)) != RS_OK)
        return false;
    return user[0] && strcmp(pass, SECRET) == 0;
}

/* ---- request */

/* "root.id", "work.title" or "/work/title" → index into fields, or -1. */
static int find_field(const char *path)
{
    char norm[96];
    const char *dot;

    snprintf(norm, sizeof(norm), "%s", path[0] == '/' ? path + 1 : path);
    for (char *p = norm; *p; p++)
        if (*p == '/')
            *p = '.';
    dot = strchr(norm, '.');
    if (!dot)
        return -1;
    for (int i = 0; i < NFIELDS; i++)
        if (strncmp(norm, section_names[fields[i].section], (size_t)(dot - norm)) == 0 &&
            strlen(section_names[fields[i].section]) == (size_t)(dot - norm) &&
            strcmp(dot + 1, fields[i].key) == 0)
            return i;
    return -1;
}

/* One filter: root.id or root.email "equals" one of values. */
static bool parse_filter(const struct sbx_company *c, json_t *filter, struct search *s)
{
    const char *path = json_string_value(json_object_get(filter, "fieldPath"));
    const char *op = json_string_value(json_object_get(filter, "operator"));
    json_t *values = json_object_get(filter, "values"), *v;
    int f = path ? find_field(path) : -1;
    size_t i;

    if (f < 0 || !op || strcmp(op, "equals") != 0 || !json_is_array(values) ||
        (fields[f].id != F_ID && fields[f].id != F_EMAIL))
        return false;
    s->only_index = -2;
    json_array_foreach(values, i, v)
    {
        const char *text = json_string_value(v);
        long idx = -1;

        for (size_t k = 0; text && fields[f].id == F_EMAIL && k < c->count && idx < 0; k++)
            if (strcasecmp(c->people[k].work_email, text) == 0)
                idx = (long)k;
        if (text && fields[f].id == F_ID)
            idx = sbx_company_index_from_hibob(text);
        if (idx >= 0 && (size_t)idx < c->count)
            s->only_index = idx;
    }
    return true;
}

static bool parse_search(const struct sbx_company *c, json_t *body, struct search *s)
{
    json_t *list = json_object_get(body, "fields"), *filters = json_object_get(body, "filters");
    json_t *inactive = json_object_get(body, "showInactive");
    const char *hr = json_string_value(json_object_get(body, "humanReadable"));
    json_t *item;
    size_t i;

    memset(s, 0, sizeof(*s));
    s->only_index = -1;
    s->show_inactive = json_is_true(inactive);
    s->readable = !hr ? HR_NONE : strcmp(hr, "REPLACE") == 0 ? HR_REPLACE : HR_APPEND;
    if (hr && s->readable == HR_APPEND && strcmp(hr, "APPEND") != 0)
        return false;
    if (list && !json_is_array(list))
        return false;
    json_array_foreach(list, i, item)
    {
        int f = json_is_string(item) ? find_field(json_string_value(item)) : -1;

        if (f >= 0)
            s->want[f] = true; /* unknown field ids are skipped, not an error */
    }
    if (!list || json_array_size(list) == 0)
        for (int f = 0; f < NFIELDS; f++)
            s->want[f] = true;
    if (filters && (!json_is_array(filters) || json_array_size(filters) > 1))
        return false;
    if (json_array_size(filters) == 1 && !parse_filter(c, json_array_get(filters, 0), s))
        return false;
    return true;
}

/* ---- rendering */

static void render_reports_to(struct render_ctx *r, const struct sbx_person *m)
{
    char id[24], name[2 * SBX_NAME_MAX + 2];

    if (!m) {
        sbx_json_null(r->js, "reportsTo");
        return;
    }
    sbx_company_display_name(m, name, sizeof(name));
    if (r->s->readable == HR_REPLACE) {
        sbx_json_str(r->js, "reportsTo", name);
        return;
    }
    sbx_company_hibob_id(m->index, id);
    sbx_json_obj(r->js, "reportsTo");
    sbx_json_str(r->js, "id", id);
    sbx_json_str(r->js, "firstName", m->first_name);
    sbx_json_str(r->js, "surname", m->last_name);
    sbx_json_str(r->js, "email", m->work_email);
    sbx_json_str(r->js, "displayName", name);
    sbx_json_end(r->js);
}

static void render_field(struct render_ctx *r, const struct sbx_person *p, int f)
{
    static const char *const genders[] = {"Female", "Male", "Other"};
    const struct sbx_person *m = sbx_company_manager(r->c, p);
    const char *key = fields[f].key;
    char text[2 * SBX_NAME_MAX + 2];

    switch (fields[f].id) {
    case F_ID:
        sbx_company_hibob_id(p->index, text);
        sbx_json_str(r->js, key, text);
        break;
    case F_FIRST:
        sbx_json_str(r->js, key, p->first_name);
        break;
    case F_SURNAME:
        sbx_json_str(r->js, key, p->last_name);
        break;
    case F_EMAIL:
        sbx_json_str(r->js, key, p->work_email);
        break;
    case F_DISPLAY:
        sbx_company_display_name(p, text, sizeof(text));
        sbx_json_str(r->js, key, text);
        break;
    case F_FULL:
        sbx_company_full_name(p, text, sizeof(text));
        sbx_json_str(r->js, key, text);
        break;
    case F_COMPANY:
        sbx_json_str(r->js, key, COMPANY_ID);
        break;
    case F_CREATED:
        sbx_json_str(r->js, key, sbx_time_iso_naive(p->created_us, text));
        break;
    case F_START:
        sbx_json_date(r->js, key, p->hire_day);
        break;
    case F_MANAGER:
        if (m)
            sbx_company_hibob_id(m->index, text);
        sbx_json_str(r->js, key, m ? text : NULL);
        break;
    case F_WORK_PHONE:
        sbx_json_null(r->js, key);
        break;
    case F_REPORTS_TO:
        render_reports_to(r, m);
        break;
    case F_WORK_MOBILE:
        sbx_json_opt(r->js, key, p->mobile);
        break;
    case F_DEPARTMENT:
        sbx_json_str(r->js, key, sbx_company_unit_name(r->c, SBX_UNIT_DEPARTMENT, p->department));
        break;
    case F_IS_MANAGER:
        sbx_json_bool(r->js, key, r->reports[p->index] > 0);
        break;
    case F_SITE:
        sbx_json_opt(r->js, key, sbx_company_unit_name(r->c, SBX_UNIT_LOCATION, p->location));
        break;
    case F_TITLE:
        sbx_json_str(r->js, key, p->title);
        break;
    case F_MOBILE:
        sbx_json_null(r->js, key);
        break;
    case F_PRIVATE_EMAIL:
        sbx_json_opt(r->js, key, p->home_email);
        break;
    case F_GENDER:
        sbx_json_str(r->js, key, genders[p->gender]);
        break;
    case F_PRIVATE_PHONE:
        /* a home phone for the half of those with a private e-mail, as a formatted number */
        if (p->home_email[0] && p->index % 2 == 0)
            sbx_json_strf(r->js, key, "06 %02d %02d %02d %02d", p->index / 1000000 % 100,
                          p->index / 10000 % 100, p->index / 100 % 100, p->index % 100);
        else
            sbx_json_null(r->js, key);
        break;
    case F_STATUS:
        sbx_json_str(r->js, key, p->state == SBX_STATE_TERMINATED ? "Inactive" : "Active");
        break;
    case F_TERMINATION:
        if (p->state == SBX_STATE_TERMINATED)
            sbx_json_date(r->js, key, p->term_day);
        else
            sbx_json_null(r->js, key);
        break;
    case F_UPDATED:
        sbx_json_str(r->js, key, sbx_time_iso_naive(p->changed_us, text));
        break;
    }
}

/* APPEND mode: machine values, plus the human-readable ones under "humanReadable". */
static void render_readable(struct render_ctx *r, const struct sbx_person *p)
{
    const struct sbx_person *m = sbx_company_manager(r->c, p);
    char name[2 * SBX_NAME_MAX + 2];

    sbx_json_obj(r->js, "humanReadable");
    sbx_json_obj(r->js, "work");
    if (m)
        sbx_company_display_name(m, name, sizeof(name));
    sbx_json_str(r->js, "reportsTo", m ? name : NULL);
    sbx_json_str(r->js, "manager", m ? name : NULL);
    sbx_json_end(r->js);
    sbx_json_end(r->js);
}

static void render_employee(struct render_ctx *r, const struct sbx_person *p)
{
    sbx_json_obj(r->js, NULL);
    for (int f = 0; f < NFIELDS; f++)
        if (r->s->want[f] && fields[f].section == SEC_ROOT)
            render_field(r, p, f);
    for (int sec = SEC_WORK; sec < SECTIONS; sec++) {
        bool opened = false;

        for (int f = 0; f < NFIELDS; f++) {
            if (!r->s->want[f] || (int)fields[f].section != sec)
                continue;
            if (!opened)
                sbx_json_obj(r->js, section_names[sec]);
            opened = true;
            render_field(r, p, f);
        }
        if (opened)
            sbx_json_end(r->js);
    }
    if (r->s->readable == HR_APPEND)
        render_readable(r, p);
    sbx_json_end(r->js);
}

static bool search_matches(const struct sbx_company *c, const struct sbx_person *p,
                           const struct search *s)
{
    if (!sbx_company_listed(c, p))
        return false;
    if (s->only_index != -1 && s->only_index != p->index)
        return false;
    return s->show_inactive || p->state != SBX_STATE_TERMINATED;
}

/* ---- POST /v1/people/search */

/* Applies the search limit when enabled; adds the x-ratelimit-* headers either way. */
static bool search_throttled(struct sbx_ctx *ctx, const struct sbx_req *req, struct sbx_resp *resp,
                             enum rs_err *err)
{
    int64_t reset_us;
    int remaining;

    if (!ctx->rate_limits)
        return false;
    if (!sbx_limit_window(&ctx->limits[SBX_LIMIT_HIBOB_SEARCH], SEARCH_PER_MINUTE, MINUTE_US,
                          req->now_us, &reset_us, &remaining)) {
        *err = hibob_error(req, resp, 429, (int)((reset_us - req->now_us + 999999) / 1000000));
        return true;
    }
    sbx_http_header(resp, "x-ratelimit-limit", "%d", SEARCH_PER_MINUTE);
    sbx_http_header(resp, "x-ratelimit-remaining", "%d", remaining);
    sbx_http_header(resp, "x-ratelimit-reset", "%lld", (long long)((reset_us + 999999) / 1000000));
    return false;
}

static enum rs_err handle_search(struct sbx_ctx *ctx, const struct sbx_req *req,
                                 struct sbx_resp *resp)
{
    struct search s;
    struct sbx_json js;
    struct render_ctx r = {&js, ctx->company, &s, NULL};
    int *reports = NULL;
    json_t *body = NULL;
    enum rs_err err = RS_OK;

    if (search_throttled(ctx, req, resp, &err))
        goto out;
    body = sbx_http_body_json(req);
    if (!body || !parse_search(ctx->company, body, &s)) {
        err = hibob_error(req, resp, 400, -1);
        goto out;
    }
    err = sbx_company_report_counts(ctx->company, &reports);
    if (err != RS_OK)
        goto out;
    r.reports = reports;
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_arr(&js, "employees");
    for (size_t i = 0; i < ctx->company->count; i++)
        if (search_matches(ctx->company, &ctx->company->people[i], &s))
            render_employee(&r, &ctx->company->people[i]);
    sbx_json_end(&js);
    sbx_json_end(&js);
    err = sbx_json_done(&js);
out:
    free(reports);
    json_decref(body);
    return err;
}

/* ---- GET /v1/company/named-lists[/{name}] */

static void render_named_list(struct sbx_json *js, const struct sbx_company *c, const char *key,
                              const char *name, enum sbx_unit_kind kind)
{
    sbx_json_obj(js, key);
    sbx_json_str(js, "name", name);
    sbx_json_arr(js, "items");
    for (int i = 0; i < c->nunits[kind]; i++) {
        sbx_json_obj(js, NULL);
        sbx_json_strf(js, "id", "%d", c->units[kind][i].id);
        sbx_json_str(js, "value", c->units[kind][i].name);
        sbx_json_str(js, "name", c->units[kind][i].name);
        sbx_json_bool(js, "archived", false);
        sbx_json_arr(js, "children");
        sbx_json_end(js);
        sbx_json_end(js);
    }
    sbx_json_end(js);
    sbx_json_end(js);
}

static enum rs_err handle_named_lists(struct sbx_ctx *ctx, const struct sbx_req *req,
                                      struct sbx_resp *resp)
{
    const char *one = req->path + strlen("/v1/company/named-lists");
    struct sbx_json js;

    if (*one == '/')
        one++;
    if (*one && strcmp(one, "department") != 0 && strcmp(one, "site") != 0)
        return hibob_error(req, resp, 404, -1);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    if (*one) {
        render_named_list(&js, ctx->company, NULL, one,
                          strcmp(one, "site") == 0 ? SBX_UNIT_LOCATION : SBX_UNIT_DEPARTMENT);
        return sbx_json_done(&js);
    }
    sbx_json_obj(&js, NULL);
    render_named_list(&js, ctx->company, "department", "department", SBX_UNIT_DEPARTMENT);
    render_named_list(&js, ctx->company, "site", "site", SBX_UNIT_LOCATION);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err hibob_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                                struct sbx_resp *resp)
{
    if (!authorized(ctx, req))
        return hibob_error(req, resp, 401, -1);
    if (strcmp(req->path, "/v1/people/search") == 0)
        return req->method == SBX_POST ? handle_search(ctx, req, resp)
                                       : hibob_error(req, resp, 405, -1);
    if (strcmp(req->path, "/v1/company/named-lists") == 0 ||
        strncmp(req->path, "/v1/company/named-lists/", 24) == 0)
        return req->method == SBX_GET ? handle_named_lists(ctx, req, resp)
                                      : hibob_error(req, resp, 405, -1);
    return hibob_error(req, resp, 404, -1);
}

const struct sbx_provider sbx_hibob_provider = {
    .slug = "hibob",
    .handle = hibob_handle,
    .error = hibob_error,
};
