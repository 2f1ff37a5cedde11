/*
 * BambooHR's POST /api/v2/datasets/employee/data: requested fields wrapped under `fields`,
 * page/pageSize paging with links and meta, OData-style filters (eq ne lt le gt ge in, and/or)
 * and orderBy, errors as RFC 7807 problems — as BambooHR's SDK documents the v2 dataset API.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/rs_time.h"

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX     1000
#define FIELDS_MAX        64
#define CONDS_MAX         16
#define LITERALS_MAX      16
#define VALUE_MAX         160

enum ftype { FT_TEXT, FT_INT, FT_DATE };

enum field {
    F_ID,
    F_EMPLOYEE_NUMBER,
    F_FIRST,
    F_LAST,
    F_PREFERRED,
    F_DISPLAY,
    F_WORK_EMAIL,
    F_HOME_EMAIL,
    F_STATUS,
    F_HIRE,
    F_TERM,
    F_DEPARTMENT,
    F_DIVISION,
    F_LOCATION,
    F_TITLE,
    F_SUPERVISOR_ID,
    F_SUPERVISOR,
    F_EMP_STATUS,
    F_MOBILE,
    F_WORK_PHONE,
    F_LAST_CHANGED,
};

/* Field names accepted in `fields`, `filter` and `orderBy`: the short names of the employee
 * endpoints and the dataset's qualified ones (BambooHR documents both vocabularies). */
static const struct {
    const char *name;
    enum field field;
    enum ftype type;
} field_names[] = {
    {"id", F_ID, FT_INT},
    {"employeeId", F_ID, FT_INT},
    {"employeeNumber", F_EMPLOYEE_NUMBER, FT_INT},
    {"firstName", F_FIRST, FT_TEXT},
    {"lastName", F_LAST, FT_TEXT},
    {"preferredName", F_PREFERRED, FT_TEXT},
    {"displayName", F_DISPLAY, FT_TEXT},
    {"email", F_WORK_EMAIL, FT_TEXT},
    {"workEmail", F_WORK_EMAIL, FT_TEXT},
    {"homeEmail", F_HOME_EMAIL, FT_TEXT},
    {"status", F_STATUS, FT_TEXT},
    {"hireDate", F_HIRE, FT_DATE},
    {"terminationDate", F_TERM, FT_DATE},
    {"department", F_DEPARTMENT, FT_TEXT},
    {"jobInformationDepartment", F_DEPARTMENT, FT_TEXT},
    {"division", F_DIVISION, FT_TEXT},
    {"jobInformationDivision", F_DIVISION, FT_TEXT},
    {"location", F_LOCATION, FT_TEXT},
    {"jobInformationLocation", F_LOCATION, FT_TEXT},
    {"jobTitle", F_TITLE, FT_TEXT},
    {"jobInformationJobTitle", F_TITLE, FT_TEXT},
    {"supervisorEId", F_SUPERVISOR_ID, FT_INT},
    {"supervisorId", F_SUPERVISOR_ID, FT_INT},
    {"supervisor", F_SUPERVISOR, FT_TEXT},
    {"jobInformationReportsTo", F_SUPERVISOR, FT_TEXT},
    {"employmentHistoryStatus", F_EMP_STATUS, FT_TEXT},
    {"employmentStatus", F_EMP_STATUS, FT_TEXT},
    {"mobilePhone", F_MOBILE, FT_TEXT},
    {"workPhone", F_WORK_PHONE, FT_TEXT},
    {"lastChanged", F_LAST_CHANGED, FT_DATE},
};
#define NFIELD_NAMES ((int)(sizeof(field_names) / sizeof(field_names[0])))

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN };

struct cond {
    int name; /* index into field_names */
    enum op op;
    int nlit;
    bool lit_null[LITERALS_MAX];
    char lit[LITERALS_MAX][VALUE_MAX];
};

struct order {
    int name;
    bool desc;
};

struct query {
    int nfields;
    int field[FIELDS_MAX]; /* indexes into field_names */
    const char *field_key[FIELDS_MAX];
    int nconds;
    bool any; /* "or" */
    struct cond cond[CONDS_MAX];
    int norder;
    struct order order[FIELDS_MAX];
    long page, page_size;
};

static int find_field(const char *name, size_t len)
{
    for (int i = 0; i < NFIELD_NAMES; i++)
        if (strlen(field_names[i].name) == len && strncmp(field_names[i].name, name, len) == 0)
            return i;
    return -1;
}

static const char *emp_status(const struct sbx_person *p)
{
    static const char *const names[] = {"Full-Time", "Part-Time", "Contractor", "Intern"};

    return p->state == SBX_STATE_TERMINATED ? "Terminated" : names[p->kind];
}

/* BambooHR counts a future hire as Inactive until the start date. */
static const char *bhr_status(const struct sbx_person *p)
{
    return p->state == SBX_STATE_ACTIVE || p->state == SBX_STATE_LEAVE ? "Active" : "Inactive";
}

/* Renders one field of one person as text; false when the value is null. */
static bool field_value(const struct sbx_company *c, const struct sbx_person *p, enum field f,
                        char *out, size_t outlen)
{
    const struct sbx_person *m = sbx_company_manager(c, p);
    char iso[32];

    out[0] = '\0';
    switch (f) {
    case F_ID:
        snprintf(out, outlen, "%ld", sbx_company_bamboohr_id(p->index));
        return true;
    case F_EMPLOYEE_NUMBER:
        snprintf(out, outlen, "%d", 1000 + p->index);
        return true;
    case F_FIRST:
        snprintf(out, outlen, "%s", p->first_name);
        return true;
    case F_LAST:
        snprintf(out, outlen, "%s", p->last_name);
        return true;
    case F_PREFERRED:
        snprintf(out, outlen, "%s", p->preferred_name);
        return p->preferred_name[0] != '\0';
    case F_DISPLAY:
        sbx_company_display_name(p, out, outlen);
        return true;
    case F_WORK_EMAIL:
        snprintf(out, outlen, "%s", p->work_email);
        return true;
    case F_HOME_EMAIL:
        snprintf(out, outlen, "%s", p->home_email);
        return p->home_email[0] != '\0';
    case F_STATUS:
        snprintf(out, outlen, "%s", bhr_status(p));
        return true;
    case F_HIRE:
        sbx_time_date(p->hire_day, iso);
        snprintf(out, outlen, "%s", iso);
        return true;
    case F_TERM:
        if (p->state != SBX_STATE_TERMINATED)
            return false;
        sbx_time_date(p->term_day, iso);
        snprintf(out, outlen, "%s", iso);
        return true;
    case F_DEPARTMENT:
        snprintf(out, outlen, "%s", sbx_company_unit_name(c, SBX_UNIT_DEPARTMENT, p->department));
        return true;
    case F_DIVISION:
        snprintf(
            out, outlen, "%s",
            sbx_company_unit_name(c, SBX_UNIT_DIVISION, sbx_company_division_of(c, p->department)));
        return out[0] != '\0';
    case F_LOCATION:
        snprintf(out, outlen, "%s", sbx_company_unit_name(c, SBX_UNIT_LOCATION, p->location));
        return out[0] != '\0';
    case F_TITLE:
        snprintf(out, outlen, "%s", p->title);
        return true;
    case F_SUPERVISOR_ID:
        if (m)
            snprintf(out, outlen, "%ld", sbx_company_bamboohr_id(m->index));
        return m != NULL;
    case F_SUPERVISOR:
        if (m)
            sbx_company_full_name(m, out, outlen);
        return m != NULL;
    case F_EMP_STATUS:
        snprintf(out, outlen, "%s", emp_status(p));
        return true;
    case F_MOBILE:
        snprintf(out, outlen, "%s", p->mobile);
        return p->mobile[0] != '\0';
    case F_WORK_PHONE:
        return false;
    case F_LAST_CHANGED:
        /* second precision, like the rest of BambooHR's timestamps */
        snprintf(out, outlen, "%s",
                 sbx_time_iso_offset(p->changed_us - p->changed_us % 1000000, 0, 'T', iso));
        return true;
    }
    return false;
}

enum rs_err sbx_dataset_problem(struct sbx_resp *resp, int status, const char *code,
                                const char *detail)
{
    struct sbx_json js;

    sbx_http_resp_reset(resp);
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "application/problem+json");
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "type", "about:blank");
    sbx_json_str(&js, "title", status == 422 ? "Unprocessable Entity" : "Bad Request");
    sbx_json_int(&js, "status", status);
    sbx_json_str(&js, "detail", detail);
    sbx_json_str(&js, "code", code);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- filter parsing */

struct lexer {
    const char *p;
};

static void skip_space(struct lexer *lx)
{
    while (*lx->p == ' ' || *lx->p == '\t')
        lx->p++;
}

/* A bare word (field name, operator, and/or, null, number). */
static size_t word(struct lexer *lx, const char **start)
{
    size_t n = 0;

    skip_space(lx);
    *start = lx->p;
    while (lx->p[n] && strchr(" \t(),'", lx->p[n]) == NULL)
        n++;
    lx->p += n;
    return n;
}

static bool word_is(const char *w, size_t n, const char *expect)
{
    return strlen(expect) == n && strncasecmp(w, expect, n) == 0;
}

/* 'text' with '' for a quote, a bare number, or null. */
static bool literal(struct lexer *lx, struct cond *cd)
{
    const char *w;
    size_t n, o = 0;
    char *out;

    if (cd->nlit >= LITERALS_MAX)
        return false;
    out = cd->lit[cd->nlit];
    skip_space(lx);
    if (*lx->p != '\'') {
        n = word(lx, &w);
        if (n == 0 || n >= VALUE_MAX)
            return false;
        cd->lit_null[cd->nlit] = word_is(w, n, "null");
        snprintf(out, VALUE_MAX, "%.*s", (int)n, w);
        cd->nlit++;
        return true;
    }
    for (lx->p++; *lx->p; lx->p++) {
        if (*lx->p == '\'' && lx->p[1] != '\'')
            break;
        if (*lx->p == '\'')
            lx->p++;
        if (o + 1 >= VALUE_MAX)
            return false;
        out[o++] = *lx->p;
    }
    if (*lx->p != '\'')
        return false;
    lx->p++;
    out[o] = '\0';
    cd->lit_null[cd->nlit++] = false;
    return true;
}

static bool parse_op(const char *w, size_t n, enum op *op)
{
    static const char *const names[] = {"eq", "ne", "lt", "le", "gt", "ge", "in"};

    for (int i = 0; i < 7; i++)
        if (word_is(w, n, names[i])) {
            *op = (enum op)i;
            return true;
        }
    return false;
}

static bool in_list(struct lexer *lx, struct cond *cd)
{
    skip_space(lx);
    if (*lx->p++ != '(')
        return false;
    for (;;) {
        if (!literal(lx, cd))
            return false;
        skip_space(lx);
        if (*lx->p == ')') {
            lx->p++;
            return true;
        }
        if (*lx->p++ != ',')
            return false;
    }
}

/* Checks a literal against its field's type, so a bad date is a 422 and not "no match". */
static bool literal_fits(const struct cond *cd)
{
    enum ftype type = field_names[cd->name].type;
    int64_t us;
    long v;

    for (int i = 0; i < cd->nlit; i++) {
        if (cd->lit_null[i])
            continue;
        if (type == FT_DATE && rs_time_parse(cd->lit[i], &us) != RS_OK)
            return false;
        if (type == FT_INT && !sbx_http_long(cd->lit[i], 0, 2147483647L, &v))
            return false;
    }
    if (type == FT_TEXT && cd->op != OP_EQ && cd->op != OP_NE && cd->op != OP_IN)
        return false; /* ordering operators are for numbers and dates */
    return cd->op == OP_IN || cd->nlit == 1;
}

static bool parse_cond(struct lexer *lx, struct cond *cd)
{
    const char *w;
    size_t n = word(lx, &w);

    memset(cd, 0, sizeof(*cd));
    cd->name = find_field(w, n);
    if (cd->name < 0)
        return false;
    n = word(lx, &w);
    if (!parse_op(w, n, &cd->op))
        return false;
    if (cd->op == OP_IN ? !in_list(lx, cd) : !literal(lx, cd))
        return false;
    return literal_fits(cd);
}

/* "a eq 'x' and b gt '…'": one logical operator per expression, as BambooHR documents. */
static bool parse_filter(const char *text, struct query *q)
{
    struct lexer lx = {text};
    const char *w;
    size_t n;
    int joiner = 0; /* 1 and, 2 or */

    for (;;) {
        if (q->nconds >= CONDS_MAX || !parse_cond(&lx, &q->cond[q->nconds]))
            return false;
        q->nconds++;
        n = word(&lx, &w);
        if (n == 0)
            break;
        if (word_is(w, n, "and") && joiner != 2)
            joiner = 1;
        else if (word_is(w, n, "or") && joiner != 1)
            joiner = 2;
        else
            return false;
    }
    skip_space(&lx);
    q->any = joiner == 2;
    return *lx.p == '\0';
}

/* ---- evaluation */

static int compare_typed(enum ftype type, const char *a, const char *b)
{
    int64_t ta = 0, tb = 0;

    if (type == FT_DATE) {
        if (rs_time_parse(a, &ta) != RS_OK || rs_time_parse(b, &tb) != RS_OK)
            return strcmp(a, b);
        return ta < tb ? -1 : ta > tb;
    }
    if (type == FT_INT) {
        long long va = strtoll(a, NULL, 10), vb = strtoll(b, NULL, 10);

        return va < vb ? -1 : va > vb;
    }
    return strcasecmp(a, b);
}

static bool cond_holds(const struct sbx_company *c, const struct sbx_person *p,
                       const struct cond *cd)
{
    char value[VALUE_MAX];
    bool present = field_value(c, p, field_names[cd->name].field, value, sizeof(value));
    int cmp;

    if (cd->op == OP_IN) {
        for (int i = 0; i < cd->nlit; i++)
            if (cd->lit_null[i]
                    ? !present
                    : present && compare_typed(field_names[cd->name].type, value, cd->lit[i]) == 0)
                return true;
        return false;
    }
    if (cd->lit_null[0] || !present) {
        bool both_null = cd->lit_null[0] && !present;

        return cd->op == OP_EQ ? both_null : cd->op == OP_NE ? !both_null : false;
    }
    cmp = compare_typed(field_names[cd->name].type, value, cd->lit[0]);
    switch (cd->op) {
    case OP_EQ:
        return cmp == 0;
    case OP_NE:
        return cmp != 0;
    case OP_LT:
        return cmp < 0;
    case OP_LE:
        return cmp <= 0;
    case OP_GT:
        return cmp > 0;
    case OP_GE:
        return cmp >= 0;
    case OP_IN:
        break;
    }
    return false;
}

static bool matches(const struct sbx_company *c, const struct sbx_person *p, const struct query *q)
{
    if (!sbx_company_listed(c, p))
        return false;
    for (int i = 0; i < q->nconds; i++) {
        bool holds = cond_holds(c, p, &q->cond[i]);

        if (q->any && holds)
            return true;
        if (!q->any && !holds)
            return false;
    }
    return !q->any || q->nconds == 0;
}

/* ---- ordering */

struct sort_ctx {
    const struct sbx_company *company;
    const struct query *q;
};

static int compare_people(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *sc = arg;
    const struct sbx_person *pa = &sc->company->people[*(const int *)a];
    const struct sbx_person *pb = &sc->company->people[*(const int *)b];
    char va[VALUE_MAX], vb[VALUE_MAX];

    for (int i = 0; i < sc->q->norder; i++) {
        const struct order *o = &sc->q->order[i];
        enum field f = field_names[o->name].field;
        bool ha = field_value(sc->company, pa, f, va, sizeof(va));
        bool hb = field_value(sc->company, pb, f, vb, sizeof(vb));
        int cmp = ha && hb ? compare_typed(field_names[o->name].type, va, vb) : (int)hb - (int)ha;

        if (cmp != 0)
            return o->desc ? -cmp : cmp;
    }
    return pa->index < pb->index ? -1 : pa->index > pb->index;
}

static bool field_requested(const struct query *q, int name)
{
    for (int i = 0; i < q->nfields; i++)
        if (field_names[q->field[i]].field == field_names[name].field)
            return true;
    return false;
}

/* "a asc, b desc"; every field must also be requested (else BambooHR's UE-1001). */
static int parse_order(const char *text, struct query *q)
{
    struct lexer lx = {text};
    const char *w;
    size_t n;

    while (q->norder < FIELDS_MAX) {
        struct order *o = &q->order[q->norder];

        n = word(&lx, &w);
        o->name = find_field(w, n);
        if (o->name < 0 || !field_requested(q, o->name))
            return 400;
        n = word(&lx, &w);
        o->desc = word_is(w, n, "desc");
        if (n && !o->desc && !word_is(w, n, "asc"))
            return 422;
        q->norder++;
        skip_space(&lx);
        if (*lx.p == '\0')
            return 0;
        if (*lx.p++ != ',')
            return 422;
    }
    return 422;
}

/* Index order is id order: an ascending id sort needs no work (the common case). */
static bool order_is_index(const struct query *q)
{
    for (int i = 0; i < q->norder; i++) {
        enum field f = field_names[q->order[i].name].field;

        if (q->order[i].desc || (f != F_ID && f != F_EMPLOYEE_NUMBER))
            return false;
    }
    return true;
}

/* ---- the request */

static int parse_fields(json_t *fields, struct query *q)
{
    size_t i;
    json_t *item;

    if (!json_is_array(fields) || json_array_size(fields) == 0 ||
        json_array_size(fields) > FIELDS_MAX)
        return 400;
    json_array_foreach(fields, i, item)
    {
        const char *name = json_string_value(item);
        int idx = name ? find_field(name, strlen(name)) : -1;

        if (idx < 0)
            return 400;
        q->field_key[q->nfields] = name;
        q->field[q->nfields++] = idx;
    }
    return 0;
}

static bool parse_paging(json_t *body, struct query *q)
{
    json_t *page = json_object_get(body, "page"), *size = json_object_get(body, "pageSize");

    q->page = 1;
    q->page_size = PAGE_SIZE_DEFAULT;
    if (page && (!json_is_integer(page) || json_integer_value(page) < 1 ||
                 json_integer_value(page) > 10000000))
        return false;
    if (size && (!json_is_integer(size) || json_integer_value(size) < 1 ||
                 json_integer_value(size) > PAGE_SIZE_MAX))
        return false;
    if (page)
        q->page = (long)json_integer_value(page);
    if (size)
        q->page_size = (long)json_integer_value(size);
    return true;
}

/* Fills q from the body; on a client error writes the problem reply and returns false. */
static bool parse_request(json_t *body, struct query *q, struct sbx_resp *resp, enum rs_err *err)
{
    json_t *filter = json_object_get(body, "filter"), *order = json_object_get(body, "orderBy");
    int status;

    *err = RS_OK;
    if (parse_fields(json_object_get(body, "fields"), q) != 0) {
        *err = sbx_dataset_problem(resp, 400, "INVALID_FIELDS",
                                   "fields must be a non-empty array of known field names");
        return false;
    }
    if (!parse_paging(body, q)) {
        *err = sbx_dataset_problem(resp, 422, "INVALID_PAGINATION",
                                   "page must be >= 1 and pageSize between 1 and 1000");
        return false;
    }
    if (filter && !json_is_null(filter) &&
        (!json_is_string(filter) || !parse_filter(json_string_value(filter), q))) {
        *err = sbx_dataset_problem(resp, 422, "INVALID_FILTER", "the filter cannot be parsed");
        return false;
    }
    if (order && !json_is_null(order)) {
        status = json_is_string(order) ? parse_order(json_string_value(order), q) : 422;
        if (status != 0) {
            *err = sbx_dataset_problem(resp, status, status == 400 ? "UE-1001" : "INVALID_ORDER",
                                       "orderBy must name requested fields with asc or desc");
            return false;
        }
    }
    return true;
}

static enum rs_err collect(const struct sbx_company *c, const struct query *q, int **out,
                           size_t *count)
{
    int *rows = malloc(sizeof(int) * (c->count ? c->count : 1));
    size_t n = 0;

    if (!rows)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < c->count; i++)
        if (matches(c, &c->people[i], q))
            rows[n++] = (int)i;
    if (!order_is_index(q)) {
        struct sort_ctx sc = {c, q};

        qsort_r(rows, n, sizeof(int), compare_people, &sc);
    }
    *out = rows;
    *count = n;
    return RS_OK;
}

static void render_row(struct sbx_json *js, const struct sbx_company *c, const struct sbx_person *p,
                       const struct query *q)
{
    char value[VALUE_MAX];

    sbx_json_obj(js, NULL);
    sbx_json_obj(js, "fields");
    for (int i = 0; i < q->nfields; i++) {
        bool present = field_value(c, p, field_names[q->field[i]].field, value, sizeof(value));

        sbx_json_str(js, q->field_key[i], present ? value : NULL);
    }
    sbx_json_end(js);
    sbx_json_end(js);
}

static void render_page(struct sbx_json *js, const struct sbx_req *req, const struct sbx_company *c,
                        const struct query *q, const int *rows, size_t total)
{
    long pages = (long)((total + (size_t)q->page_size - 1) / (size_t)q->page_size);
    size_t first = (size_t)(q->page - 1) * (size_t)q->page_size;

    sbx_json_obj(js, NULL);
    sbx_json_arr(js, "data");
    for (size_t i = first; i < total && i < first + (size_t)q->page_size; i++)
        render_row(js, c, &c->people[rows[i]], q);
    sbx_json_end(js);
    sbx_json_obj(js, "links");
    if (q->page > 1)
        sbx_json_strf(js, "prev", "%s/api/v2/datasets/employee/data?page=%ld&pageSize=%ld",
                      req->base, q->page - 1, q->page_size);
    if (q->page < pages)
        sbx_json_strf(js, "next", "%s/api/v2/datasets/employee/data?page=%ld&pageSize=%ld",
                      req->base, q->page + 1, q->page_size);
    sbx_json_end(js);
    sbx_json_obj(js, "meta");
    sbx_json_int(js, "page", q->page);
    sbx_json_int(js, "pageSize", q->page_size);
    sbx_json_int(js, "totalPages", pages);
    sbx_json_int(js, "totalItems", (int64_t)total);
    sbx_json_end(js);
    sbx_json_end(js);
}

enum rs_err sbx_dataset_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp)
{
    enum rs_err err = RS_ERR_NOMEM;
    json_t *body = NULL;
    struct query *q = calloc(1, sizeof(*q));
    int *rows = NULL;
    size_t total = 0;
    struct sbx_json js;

    if (!q)
        goto out;
    body = sbx_http_body_json(req);
    if (!body) {
        err = sbx_dataset_problem(resp, 400, "INVALID_BODY", "the body must be a JSON object");
        goto out;
    }
    if (!parse_request(body, q, resp, &err))
        goto out;
    err = collect(ctx->company, q, &rows, &total);
    if (err != RS_OK)
        goto out;
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    render_page(&js, req, ctx->company, q, rows, total);
    err = sbx_json_done(&js);
out:
    free(rows);
    json_decref(body);
    free(q);
    return err;
}
