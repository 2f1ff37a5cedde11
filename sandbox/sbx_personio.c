/*
 * Personio (v1) under /personio: POST /v1/auth trades client credentials for a papi- bearer
 * token that lives --token-ttl seconds; GET /v1/company/employees pages with limit/offset and
 * answers attributes as {label, value, type, universal_id}, as in Personio's spec example.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "roster/rs_time.h"

#define SECRET        "sandbox"
#define LIMIT_DEFAULT 50
#define LIMIT_MAX     100
#define ATTRS_MAX     32
#define MINUTE_US     INT64_C(60000000)

static enum rs_err fail(struct sbx_resp *resp, int status, int code, const char *message)
{
    struct sbx_json js;

    sbx_http_resp_reset(resp);
    sbx_http_json(resp, status);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_bool(&js, "success", false);
    sbx_json_obj(&js, "error");
    sbx_json_int(&js, "code", code);
    sbx_json_str(&js, "message", message);
    sbx_json_end(&js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err personio_error(const struct sbx_req *req, struct sbx_resp *resp, int status,
                                  int retry_after_s)
{
    enum rs_err err;

    (void)req;
    if (status == 401)
        return fail(resp, 401, 0, "The authorization token is invalid or has expired.");
    err = fail(resp, status, status == 429 ? 429 : 0,
               status == 429 ? "Too Many Requests" : "The request could not be processed.");
    if (status == 429 || retry_after_s >= 0)
        sbx_http_header(resp, "Retry-After", "%d", retry_after_s >= 0 ? retry_after_s : 1);
    return err;
}

/* ---- tokens */

static void token_issue(struct sbx_ctx *ctx, int64_t now_us, char out[SBX_TOKEN_LEN])
{
    unsigned char raw[32];
    char hex[2 * sizeof(raw) + 1];
    struct sbx_token *slot;

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    if (ctx->ntokens < SBX_TOKENS_MAX) {
        slot = &ctx->tokens[ctx->ntokens++];
    } else {
        slot = &ctx->tokens[ctx->next_token]; /* the oldest goes */
        ctx->next_token = (ctx->next_token + 1) % SBX_TOKENS_MAX;
    }
    snprintf(slot->value, sizeof(slot->value), "papi-%s", hex);
    slot->expires_us = now_us + ctx->token_ttl_s * INT64_C(1000000);
    snprintf(out, SBX_TOKEN_LEN, "%s", slot->value);
}

/* NULL when the token is valid, else why not. */
static const char *token_problem(const struct sbx_ctx *ctx, const struct sbx_req *req)
{
    const char *token = sbx_http_bearer(req->authorization);
    size_t len = token ? strlen(token) : 0;

    if (!token)
        return "No authorization token was sent.";
    if (ctx->revoked[SBX_PROV_PERSONIO])
        return "The authorization token is invalid.";
    for (int i = 0; i < ctx->ntokens; i++) {
        const struct sbx_token *t = &ctx->tokens[i];

        if (strlen(t->value) != len || sodium_memcmp(t->value, token, len) != 0)
            continue;
        return req->now_us < t->expires_us ? NULL : "The authorization token has expired.";
    }
    return "The authorization token is invalid.";
}

/* ---- rate limits (documented: auth 60/min; employees 300/min, burst 15/s; 2000/min per IP) */

static bool throttled(struct sbx_ctx *ctx, const struct sbx_req *req, enum sbx_limit_id id,
                      struct sbx_resp *resp, enum rs_err *err)
{
    int64_t reset_us = 0, retry_us = 0;
    int remaining;
    bool ok = true;

    if (!ctx->rate_limits)
        return false;
    if (!sbx_limit_window(&ctx->limits[SBX_LIMIT_PERSONIO_ALL], 2000, MINUTE_US, req->now_us,
                          &reset_us, &remaining))
        ok = false;
    else if (id == SBX_LIMIT_PERSONIO_AUTH)
        ok = sbx_limit_window(&ctx->limits[id], 60, MINUTE_US, req->now_us, &reset_us, &remaining);
    else
        ok = sbx_limit_bucket(&ctx->limits[id], 15, 5, req->now_us, &retry_us);
    if (ok)
        return false;
    if (!retry_us)
        retry_us = reset_us - req->now_us;
    *err = personio_error(req, resp, 429, (int)((retry_us + 999999) / 1000000));
    return true;
}

/* ---- POST /v1/auth */

/* client_id / client_secret from the query, a form body or a JSON body. */
static bool auth_credentials(const struct sbx_req *req, char *id, char *secret, size_t len)
{
    struct sbx_query form;
    char copy[SBX_QUERY_BYTES];
    const char *qid = sbx_http_query_get(&req->query, "client_id");
    const char *qsecret = sbx_http_query_get(&req->query, "client_secret");
    json_t *body = NULL;

    if (!qid && sbx_http_is_form(req) && req->body_len < sizeof(copy)) {
        memcpy(copy, req->body ? req->body : "", req->body_len);
        copy[req->body_len] = '\0';
        if (sbx_http_query_parse(&form, copy) == RS_OK) {
            qid = sbx_http_query_get(&form, "client_id");
            qsecret = sbx_http_query_get(&form, "client_secret");
        }
    }
    if (!qid) { /* JSON, also when a client labels it as a form (curl -d does) */
        body = sbx_http_body_json(req);
        qid = json_string_value(json_object_get(body, "client_id"));
        qsecret = json_string_value(json_object_get(body, "client_secret"));
    }
    snprintf(id, len, "%s", qid ? qid : "");
    snprintf(secret, len, "%s", qsecret ? qsecret : "");
    json_decref(body);
    return id[0] && secret[0];
}

static enum rs_err handle_auth(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp)
{
    char id[256], secret[256], token[SBX_TOKEN_LEN];
    struct sbx_json js;
    enum rs_err err = RS_OK;

    if (throttled(ctx, req, SBX_LIMIT_PERSONIO_AUTH, resp, &err))
        return err;
    if (!auth_credentials(req, id, secret, sizeof(id)))
        return fail(resp, 400, 0, "client_id and client_secret are required.");
    if (ctx->revoked[SBX_PROV_PERSONIO] || strcmp(secret, SECRET) != 0)
        return fail(resp, 401, 0, "Wrong credentials.");
    token_issue(ctx, req->now_us, token);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_bool(&js, "success", true);
    sbx_json_obj(&js, "data");
    sbx_json_str(&js, "token", token);
    sbx_json_end(&js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- one employee */

struct emp_query {
    long limit, offset;
    bool since_set;
    int64_t since_us;
    const char *email;
    int nattrs;
    const char *attrs[ATTRS_MAX];
};

static bool wanted(const struct emp_query *q, const char *key)
{
    if (q->nattrs == 0 || strcmp(key, "id") == 0)
        return true;
    for (int i = 0; i < q->nattrs; i++)
        if (strcmp(q->attrs[i], key) == 0)
            return true;
    return false;
}

struct emp_ctx {
    struct sbx_json *js;
    const struct emp_query *q;
    const struct sbx_company *c;
    const struct sbx_req *req;
};

/* Opens attribute key with its label; false (and nothing written) when not requested. */
static bool attr_open(struct emp_ctx *e, const char *key, const char *label)
{
    if (!wanted(e->q, key))
        return false;
    sbx_json_obj(e->js, key);
    sbx_json_str(e->js, "label", label);
    return true;
}

static void attr_close(struct emp_ctx *e, const char *type, const char *universal_id)
{
    sbx_json_str(e->js, "type", type);
    sbx_json_str(e->js, "universal_id", universal_id);
    sbx_json_end(e->js);
}

static void attr_str(struct emp_ctx *e, const char *key, const char *label, const char *value)
{
    if (!attr_open(e, key, label))
        return;
    sbx_json_opt(e->js, "value", value);
    attr_close(e, "standard", key);
}

/* Personio dates are local midnight in the company's zone: "2014-11-09 00:00:00+01:00". */
static void attr_date(struct emp_ctx *e, const char *key, const char *label, bool present,
                      int32_t day)
{
    int64_t midnight = (int64_t)day * SBX_US_PER_DAY;
    int offset = sbx_time_berlin_offset(midnight - INT64_C(7200000000));
    char text[32];

    if (!attr_open(e, key, label))
        return;
    if (present)
        sbx_json_str(e->js, "value",
                     sbx_time_iso_offset(midnight - offset * INT64_C(60000000), offset, ' ', text));
    else
        sbx_json_null(e->js, "value");
    attr_close(e, "date", key);
}

static void attr_time(struct emp_ctx *e, const char *key, const char *label, int64_t us)
{
    char text[32];

    if (!attr_open(e, key, label))
        return;
    us -= us % 1000000;
    sbx_json_str(e->js, "value", sbx_time_iso_offset(us, sbx_time_berlin_offset(us), 'T', text));
    attr_close(e, "date", key);
}

/* {type, attributes{id, name}} values (department, office, team, subcompany); null for -1. */
static void attr_ref(struct emp_ctx *e, const char *key, const char *label, const char *type,
                     int id, const char *name)
{
    if (!attr_open(e, key, label))
        return;
    if (!name || !name[0]) {
        sbx_json_null(e->js, "value");
    } else {
        sbx_json_obj(e->js, "value");
        sbx_json_str(e->js, "type", type);
        sbx_json_obj(e->js, "attributes");
        sbx_json_int(e->js, "id", id);
        sbx_json_str(e->js, "name", name);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
    }
    attr_close(e, "standard", key);
}

static void attr_supervisor(struct emp_ctx *e, const struct sbx_person *p)
{
    const struct sbx_person *m = sbx_company_manager(e->c, p);

    if (!attr_open(e, "supervisor", "Supervisor"))
        return;
    if (!m) {
        sbx_json_null(e->js, "value");
    } else {
        sbx_json_obj(e->js, "value");
        sbx_json_str(e->js, "type", "Employee");
        sbx_json_obj(e->js, "attributes");
        sbx_json_obj(e->js, "id");
        sbx_json_str(e->js, "label", "ID");
        sbx_json_int(e->js, "value", sbx_company_personio_id(m->index));
        sbx_json_str(e->js, "type", "integer");
        sbx_json_str(e->js, "universal_id", "id");
        sbx_json_end(e->js);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
    }
    attr_close(e, "standard", "supervisor");
}

static const char *status_value(const struct sbx_person *p)
{
    static const char *const names[] = {"active", "leave", "onboarding", "inactive"};

    return names[p->state];
}

static void render_identity(struct emp_ctx *e, const struct sbx_person *p)
{
    static const char *const genders[] = {"female", "male", "diverse"};

    if (attr_open(e, "id", "ID")) {
        sbx_json_int(e->js, "value", sbx_company_personio_id(p->index));
        attr_close(e, "integer", "id");
    }
    attr_str(e, "first_name", "First name", p->first_name);
    attr_str(e, "last_name", "Last name", p->last_name);
    attr_str(e, "preferred_name", "Name (preferred)", p->preferred_name);
    attr_str(e, "email", "Email", p->work_email);
    attr_str(e, "gender", "Gender", genders[p->gender]);
    attr_str(e, "status", "Status", status_value(p));
    attr_str(e, "position", "Position", p->title);
    attr_supervisor(e, p);
    attr_str(e, "employment_type", "Employment type",
             p->kind == SBX_KIND_CONTRACTOR ? "external" : "internal");
    if (attr_open(e, "weekly_working_hours", "Weekly hours")) {
        sbx_json_strf(e->js, "value", "%d", p->weekly_hours);
        attr_close(e, "standard", "weekly_working_hours");
    }
}

static void render_dates(struct emp_ctx *e, const struct sbx_person *p)
{
    bool gone = p->state == SBX_STATE_TERMINATED;
    bool resigned = p->index % 2 == 0;

    attr_date(e, "hire_date", "Hire date", true, p->hire_day);
    attr_date(e, "contract_end_date", "Contract ends", p->kind == SBX_KIND_CONTRACTOR,
              p->hire_day + 730);
    attr_date(e, "termination_date", "Termination date", gone, p->term_day);
    attr_str(e, "termination_type", "Termination type",
             gone ? (resigned ? "resignation" : "dismissal") : NULL);
    attr_str(e, "termination_reason", "Termination reason",
             gone ? (resigned ? "Personal reasons" : "Restructuring") : NULL);
    attr_date(e, "probation_period_end", "Probation period end", true, p->hire_day + 182);
    attr_time(e, "created_at", "created_at", p->created_us);
    attr_time(e, "last_modified_at", "Last modified", p->changed_us);
    attr_date(e, "last_working_day", "Last day of work", gone, p->term_day);
}

static void render_org(struct emp_ctx *e, const struct sbx_person *p)
{
    const struct sbx_company *c = e->c;
    int sub = p->location >= 0 ? c->units[SBX_UNIT_LOCATION][p->location].parent : -1;

    attr_ref(e, "subcompany", "Subcompany", "Subcompany", 7000 + sub,
             sub >= 0 && (size_t)sub < sbx_pool_nsubcompany ? sbx_pool_subcompany[sub] : NULL);
    attr_ref(e, "office", "Office", "Office",
             sbx_company_unit_id(c, SBX_UNIT_LOCATION, p->location),
             sbx_company_unit_name(c, SBX_UNIT_LOCATION, p->location));
    attr_ref(e, "department", "Department", "Department",
             sbx_company_unit_id(c, SBX_UNIT_DEPARTMENT, p->department),
             sbx_company_unit_name(c, SBX_UNIT_DEPARTMENT, p->department));
    attr_ref(e, "team", "Team", "Team", sbx_company_unit_id(c, SBX_UNIT_TEAM, p->team),
             sbx_company_unit_name(c, SBX_UNIT_TEAM, p->team));
    if (attr_open(e, "cost_centers", "Cost center")) {
        sbx_json_arr(e->js, "value");
        sbx_json_obj(e->js, NULL);
        sbx_json_str(e->js, "type", "CostCenter");
        sbx_json_obj(e->js, "attributes");
        sbx_json_int(e->js, "id", 82900 + p->department);
        sbx_json_strf(e->js, "name", "CC %s",
                      sbx_company_unit_name(c, SBX_UNIT_DEPARTMENT, p->department));
        sbx_json_int(e->js, "percentage", 100);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
        attr_close(e, "standard", "cost_centers");
    }
}

static void render_calendar(struct emp_ctx *e, const struct sbx_person *p)
{
    const struct sbx_pool_location *loc =
        sbx_pool_location_named(sbx_company_unit_name(e->c, SBX_UNIT_LOCATION, p->location));

    if (!attr_open(e, "holiday_calendar", "Public holidays"))
        return;
    if (!loc) {
        sbx_json_null(e->js, "value");
    } else {
        sbx_json_obj(e->js, "value");
        sbx_json_str(e->js, "type", "HolidayCalendar");
        sbx_json_obj(e->js, "attributes");
        sbx_json_int(e->js, "id", 2 + (int)(loc - sbx_pool_location));
        sbx_json_strf(e->js, "name", "%s (%s) Feiertage", loc->country, loc->state);
        sbx_json_str(e->js, "country", loc->country);
        sbx_json_str(e->js, "state", loc->state);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
    }
    attr_close(e, "standard", "holiday_calendar");
}

static void render_schedule(struct emp_ctx *e, const struct sbx_person *p)
{
    static const char *const days[] = {"monday", "tuesday", "wednesday", "thursday", "friday"};
    int daily = p->weekly_hours / 5;

    if (!attr_open(e, "work_schedule", "Work schedule"))
        return;
    sbx_json_obj(e->js, "value");
    sbx_json_str(e->js, "type", "WorkSchedule");
    sbx_json_obj(e->js, "attributes");
    sbx_json_int(e->js, "id", 97100 + p->weekly_hours);
    sbx_json_strf(e->js, "name", "%s, %d hours without time tracking, (mon,tue,wed,thu,fri)",
                  p->weekly_hours >= 40 ? "Full-time" : "Part-time", p->weekly_hours);
    sbx_json_null(e->js, "valid_from");
    for (int d = 0; d < 5; d++)
        sbx_json_strf(e->js, days[d], "%02d:00", daily);
    sbx_json_str(e->js, "saturday", "00:00");
    sbx_json_str(e->js, "sunday", "00:00");
    sbx_json_end(e->js);
    sbx_json_end(e->js);
    attr_close(e, "standard", "work_schedule");
}

static void attr_number(struct emp_ctx *e, const char *key, const char *label, int64_t value,
                        bool currency)
{
    if (!attr_open(e, key, label))
        return;
    sbx_json_int(e->js, "value", value);
    sbx_json_str(e->js, "type", "decimal");
    sbx_json_str(e->js, "universal_id", key);
    if (currency)
        sbx_json_str(e->js, "currency", "EUR");
    sbx_json_end(e->js);
}

static void render_pay(struct emp_ctx *e, const struct sbx_person *p)
{
    bool hourly = p->kind == SBX_KIND_CONTRACTOR;
    int salary = 3000 + (p->index * 37 % 50) * 100;

    if (attr_open(e, "absence_entitlement", "Absence entitlement")) {
        sbx_json_arr(e->js, "value");
        sbx_json_obj(e->js, NULL);
        sbx_json_str(e->js, "type", "TimeOffType");
        sbx_json_obj(e->js, "attributes");
        sbx_json_int(e->js, "id", 113437);
        sbx_json_str(e->js, "name", "Paid vacation");
        sbx_json_str(e->js, "category", "paid_vacation");
        sbx_json_int(e->js, "entitlement", p->kind == SBX_KIND_FULL_TIME ? 30 : 24);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
        sbx_json_end(e->js);
        attr_close(e, "standard", "absence_entitlement");
    }
    attr_number(e, "fix_salary", "Fix salary", hourly ? 0 : salary, true);
    attr_str(e, "fix_salary_interval", "Salary interval", "monthly");
    attr_number(e, "hourly_salary", "Hourly salary", hourly ? 60 + p->index % 40 : 0, true);
    attr_number(e, "vacation_day_balance", "Vacation day balance", p->index % 25, false);
}

/* Custom ("dynamic_") attributes as in Personio's example: title, IBAN, anniversary. */
static void render_dynamic(struct emp_ctx *e, const struct sbx_person *p)
{
    char date[11];

    if (attr_open(e, "dynamic_24407", "Titel")) {
        sbx_json_opt(e->js, "value", p->index % 20 == 3 ? "Dr" : NULL);
        sbx_json_null(e->js, "universal_id");
        sbx_json_str(e->js, "type", "standard");
        sbx_json_end(e->js);
    }
    if (attr_open(e, "dynamic_21827", "IBAN")) {
        sbx_json_strf(e->js, "value", "DE%02d 5001 0517 %04d %04d 00", 10 + p->index % 89,
                      p->index / 10000 % 10000, p->index % 10000);
        sbx_json_str(e->js, "universal_id", "iban");
        sbx_json_str(e->js, "type", "standard");
        sbx_json_end(e->js);
    }
    if (attr_open(e, "dynamic_33400", "Anniversary Date")) {
        sbx_json_str(e->js, "value", sbx_time_date(p->hire_day, date));
        sbx_json_null(e->js, "universal_id");
        sbx_json_str(e->js, "type", "date");
        sbx_json_end(e->js);
    }
}

static void render_employee(struct emp_ctx *e, const struct sbx_person *p)
{
    sbx_json_obj(e->js, NULL);
    sbx_json_str(e->js, "type", "Employee");
    sbx_json_obj(e->js, "attributes");
    render_identity(e, p);
    render_dates(e, p);
    render_org(e, p);
    render_calendar(e, p);
    render_schedule(e, p);
    render_pay(e, p);
    if (attr_open(e, "profile_picture", "Profile Picture")) {
        sbx_json_strf(e->js, "value", "%s/v1/company/employees/%lld/profile-picture", e->req->base,
                      (long long)sbx_company_personio_id(p->index));
        attr_close(e, "standard", "profile_picture");
    }
    render_dynamic(e, p);
    sbx_json_end(e->js);
    sbx_json_end(e->js);
}

/* ---- GET /v1/company/employees */

static bool emp_query_parse(const struct sbx_req *req, struct emp_query *q)
{
    const char *limit = sbx_http_query_get(&req->query, "limit");
    const char *offset = sbx_http_query_get(&req->query, "offset");
    const char *since = sbx_http_query_get(&req->query, "updated_since");

    memset(q, 0, sizeof(*q));
    q->limit = LIMIT_DEFAULT;
    if (limit && !sbx_http_long(limit, 1, 1000000, &q->limit))
        return false;
    if (q->limit > LIMIT_MAX)
        q->limit = LIMIT_MAX; /* enforced since 2025-01-31 */
    if (offset && !sbx_http_long(offset, 0, 100000000, &q->offset))
        return false;
    if (since && *since) {
        if (rs_time_parse(since, &q->since_us) != RS_OK)
            return false;
        q->since_set = true;
    }
    q->email = sbx_http_query_get(&req->query, "email");
    for (int i = 0; i < req->query.n && q->nattrs < ATTRS_MAX; i++)
        if (strcmp(req->query.key[i], "attributes[]") == 0 ||
            strcmp(req->query.key[i], "attributes") == 0)
            q->attrs[q->nattrs++] = req->query.value[i];
    return true;
}

/* updated_since is documented to override email (and limit/offset, which we still honour). */
static bool emp_matches(const struct sbx_company *c, const struct sbx_person *p,
                        const struct emp_query *q)
{
    if (!sbx_company_listed(c, p))
        return false;
    if (q->since_set)
        return p->changed_us - p->changed_us % 1000000 >= q->since_us;
    return !q->email || !*q->email || strcasecmp(q->email, p->work_email) == 0;
}

static void render_employees(struct emp_ctx *e, long total)
{
    const struct sbx_company *c = e->c;
    const struct emp_query *q = e->q;
    long seen = 0, shown = 0;

    sbx_json_obj(e->js, NULL);
    sbx_json_bool(e->js, "success", true);
    sbx_json_obj(e->js, "metadata");
    sbx_json_int(e->js, "total_elements", total);
    sbx_json_int(e->js, "current_page", q->offset / q->limit);
    sbx_json_int(e->js, "total_pages", (total + q->limit - 1) / q->limit);
    sbx_json_end(e->js);
    sbx_json_int(e->js, "offset", q->offset);
    sbx_json_int(e->js, "limit", q->limit);
    sbx_json_arr(e->js, "data");
    for (size_t i = 0; i < c->count && shown < q->limit; i++) {
        if (!emp_matches(c, &c->people[i], q) || seen++ < q->offset)
            continue;
        render_employee(e, &c->people[i]);
        shown++;
    }
    sbx_json_end(e->js);
    sbx_json_end(e->js);
}

static enum rs_err handle_employees(struct sbx_ctx *ctx, const struct sbx_req *req,
                                    struct sbx_resp *resp)
{
    struct emp_query q;
    struct sbx_json js;
    struct emp_ctx e = {&js, &q, ctx->company, req};
    const char *problem = token_problem(ctx, req);
    enum rs_err err = RS_OK;
    long total = 0;

    if (problem)
        return fail(resp, 401, 0, problem);
    if (throttled(ctx, req, SBX_LIMIT_PERSONIO_EMPLOYEES, resp, &err))
        return err;
    if (!emp_query_parse(req, &q))
        return fail(resp, 400, 0, "Invalid query parameters.");
    for (size_t i = 0; i < ctx->company->count; i++)
        total += emp_matches(ctx->company, &ctx->company->people[i], &q);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    render_employees(&e, total);
    return sbx_json_done(&js);
}

static enum rs_err personio_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                                   struct sbx_resp *resp)
{
    if (strcmp(req->path, "/v1/auth") == 0)
        return req->method == SBX_POST ? handle_auth(ctx, req, resp)
                                       : fail(resp, 405, 0, "Method not allowed.");
    if (strcmp(req->path, "/v1/company/employees") == 0)
        return req->method == SBX_GET ? handle_employees(ctx, req, resp)
                                      : fail(resp, 405, 0, "Method not allowed.");
    return fail(resp, 404, 0, "Not found.");
}

const struct sbx_provider sbx_personio_provider = {
    .slug = "personio",
    .handle = personio_handle,
    .error = personio_error,
};
