/*
 * The control API under /_control (no auth: a loopback tool for tests and demos): reset and
 * inspect the company, hire/change/terminate/rehire/delete people, empty every list, inject
 * faults, steer the emulated OAuth servers (token lifetime, expiry, revocation), and read the
 * request log.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster/rs_time.h"

static int status_of(enum rs_err err)
{
    switch (err) {
    case RS_ERR_INVALID:
        return 400;
    case RS_ERR_NOTFOUND:
        return 404;
    case RS_ERR_METHOD:
        return 405;
    case RS_ERR_CONFLICT:
        return 409;
    case RS_ERR_TOOBIG:
        return 413;
    default:
        return 500;
    }
}

/* The one place control errors become replies; 5xx bodies say nothing internal. */
static enum rs_err reply_error(struct sbx_resp *resp, enum rs_err err, const struct rs_errbuf *eb)
{
    struct sbx_json js;
    int status = status_of(err);

    sbx_http_resp_reset(resp);
    sbx_http_json(resp, status);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "error", status >= 500 ? "internal error" : rs_err_name(err));
    if (status < 500 && eb && eb->msg[0])
        sbx_json_str(&js, "detail", eb->msg);
    if (status < 500 && eb && eb->param[0])
        sbx_json_str(&js, "param", eb->param);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err reply_ok(struct sbx_resp *resp, int status)
{
    struct sbx_json js;

    sbx_http_json(resp, status);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "status", "ok");
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static const char *state_name(enum sbx_state state)
{
    static const char *const names[] = {"active", "leave", "onboarding", "terminated"};

    return names[state];
}

static void render_unit(struct sbx_json *js, const struct sbx_company *c, const char *key,
                        enum sbx_unit_kind kind, int idx)
{
    if (idx < 0 || idx >= c->nunits[kind]) {
        sbx_json_null(js, key);
        return;
    }
    sbx_json_obj(js, key);
    sbx_json_int(js, "id", c->units[kind][idx].id);
    sbx_json_str(js, "name", c->units[kind][idx].name);
    sbx_json_end(js);
}

static void render_ids(struct sbx_json *js, const struct sbx_person *p)
{
    char hibob[24];

    sbx_company_hibob_id(p->index, hibob);
    sbx_json_obj(js, "ids");
    sbx_json_strf(js, "bamboohr", "%ld", sbx_company_bamboohr_id(p->index));
    sbx_json_int(js, "personio", sbx_company_personio_id(p->index));
    sbx_json_str(js, "hibob", hibob);
    sbx_json_int(js, "factorial", sbx_company_factorial_id(p->index));
    sbx_json_end(js);
}

void sbx_control_render_person(const struct sbx_company *c, const struct sbx_person *p,
                               struct sbx_json *js)
{
    static const char *const kinds[] = {"full_time", "part_time", "contractor", "intern"};
    static const char *const genders[] = {"female", "male", "diverse"};
    char iso[RS_TIME_ISO_LEN];

    sbx_json_obj(js, NULL);
    sbx_json_int(js, "index", p->index);
    render_ids(js, p);
    sbx_json_str(js, "first_name", p->first_name);
    sbx_json_str(js, "last_name", p->last_name);
    sbx_json_opt(js, "preferred_name", p->preferred_name);
    sbx_json_str(js, "work_email", p->work_email);
    sbx_json_opt(js, "personal_email", p->home_email);
    sbx_json_opt(js, "mobile_phone", p->mobile);
    sbx_json_str(js, "gender", genders[p->gender]);
    sbx_json_str(js, "title", p->title);
    sbx_json_str(js, "status", state_name(p->state));
    sbx_json_str(js, "employment_type", kinds[p->kind]);
    sbx_json_int(js, "weekly_hours", p->weekly_hours);
    if (p->manager >= 0)
        sbx_json_int(js, "manager", p->manager);
    else
        sbx_json_null(js, "manager");
    render_unit(js, c, "department", SBX_UNIT_DEPARTMENT, p->department);
    render_unit(js, c, "division", SBX_UNIT_DIVISION, sbx_company_division_of(c, p->department));
    render_unit(js, c, "team", SBX_UNIT_TEAM, p->team);
    render_unit(js, c, "location", SBX_UNIT_LOCATION, p->location);
    sbx_json_date(js, "hire_date", p->hire_day);
    if (p->state == SBX_STATE_TERMINATED)
        sbx_json_date(js, "termination_date", p->term_day);
    else
        sbx_json_null(js, "termination_date");
    sbx_json_str(js, "created_at", rs_time_format(p->created_us, iso));
    sbx_json_str(js, "last_changed", rs_time_format(p->changed_us, iso));
    sbx_json_int(js, "last_changed_us", p->changed_us);
    sbx_json_bool(js, "deleted", p->deleted);
    sbx_json_end(js);
}

static void render_units(struct sbx_json *js, const struct sbx_company *c)
{
    static const char *const keys[SBX_UNIT_KINDS] = {"divisions", "departments", "teams",
                                                     "locations"};

    sbx_json_obj(js, "units");
    for (int k = 0; k < SBX_UNIT_KINDS; k++) {
        sbx_json_arr(js, keys[k]);
        for (int i = 0; i < c->nunits[k]; i++) {
            sbx_json_obj(js, NULL);
            sbx_json_int(js, "id", c->units[k][i].id);
            sbx_json_str(js, "name", c->units[k][i].name);
            sbx_json_end(js);
        }
        sbx_json_end(js);
    }
    sbx_json_end(js);
}

static enum rs_err handle_company(struct sbx_ctx *ctx, struct sbx_resp *resp)
{
    const struct sbx_company *c = ctx->company;
    struct sbx_json js;
    char iso[RS_TIME_ISO_LEN];

    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_int(&js, "employees", c->requested);
    sbx_json_int(&js, "seed", (int64_t)c->seed);
    sbx_json_str(&js, "generated_at", rs_time_format(c->t0_us, iso));
    sbx_json_bool(&js, "empty", c->empty);
    sbx_json_int(&js, "count", (int64_t)c->count);
    render_units(&js, c);
    sbx_json_arr(&js, "people");
    for (size_t i = 0; i < c->count; i++)
        sbx_control_render_person(c, &c->people[i], &js);
    sbx_json_end(&js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err reply_person(struct sbx_ctx *ctx, struct sbx_resp *resp, int status, long index)
{
    struct sbx_json js;

    sbx_http_json(resp, status);
    sbx_json_init(&js, &resp->body);
    sbx_control_render_person(ctx->company, sbx_company_get(ctx->company, index), &js);
    return sbx_json_done(&js);
}

/* Clears injected state: faults, revoked credentials, rate-limit counters. */
static void clear_faults(struct sbx_ctx *ctx)
{
    ctx->nfaults = 0;
    memset(ctx->revoked, 0, sizeof(ctx->revoked));
    memset(ctx->limits, 0, sizeof(ctx->limits));
}

static enum rs_err handle_reset(struct sbx_ctx *ctx, json_t *body, struct sbx_resp *resp,
                                struct rs_errbuf *eb)
{
    json_t *n = json_object_get(body, "employees"), *seed = json_object_get(body, "seed");
    struct sbx_company *fresh = NULL;
    enum rs_err err;

    if ((n && (!json_is_integer(n) || json_integer_value(n) < 0 ||
               json_integer_value(n) > SBX_EMPLOYEES_MAX)) ||
        (seed && (!json_is_integer(seed) || json_integer_value(seed) < 0)))
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "employees must be 0..1000000 and seed a non-negative integer");
    err = sbx_company_new(n ? (int)json_integer_value(n) : ctx->company->requested,
                          seed ? (uint64_t)json_integer_value(seed) : ctx->company->seed, &fresh);
    if (err != RS_OK)
        return rs_errbuf_set(eb, err, "cannot generate the company");
    sbx_company_free(ctx->company);
    ctx->company = fresh;
    clear_faults(ctx);
    sbx_oauth_reset(&ctx->oauth);
    return reply_ok(resp, 200);
}

static enum rs_err handle_empty(struct sbx_ctx *ctx, json_t *body, struct sbx_resp *resp,
                                struct rs_errbuf *eb)
{
    json_t *v = json_object_get(body, "empty");

    if (v && !json_is_boolean(v))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "empty", "empty must be true or false");
    ctx->company->empty = v ? json_is_true(v) : true;
    return reply_ok(resp, 200);
}

static enum rs_err handle_faults(struct sbx_ctx *ctx, const struct sbx_req *req, json_t *body,
                                 struct sbx_resp *resp, struct rs_errbuf *eb)
{
    struct sbx_json js;
    enum rs_err err;

    if (req->method == SBX_DELETE) {
        clear_faults(ctx);
        return reply_ok(resp, 200);
    }
    if (req->method == SBX_POST) {
        if (ctx->nfaults >= SBX_FAULTS_MAX)
            return rs_errbuf_set(eb, RS_ERR_CONFLICT, "too many faults; DELETE them first");
        err = sbx_fault_parse(body, &ctx->faults[ctx->nfaults], eb);
        if (err != RS_OK)
            return err;
        ctx->nfaults++;
    } else if (req->method != SBX_GET) {
        return rs_errbuf_set(eb, RS_ERR_METHOD, "GET, POST or DELETE");
    }
    sbx_http_json(resp, req->method == SBX_POST ? 201 : 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_fault_render(ctx, &js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

static enum rs_err handle_requests(struct sbx_ctx *ctx, const struct sbx_req *req,
                                   struct sbx_resp *resp, struct rs_errbuf *eb)
{
    struct sbx_json js;

    if (req->method == SBX_DELETE) {
        sbx_reqlog_clear(&ctx->reqlog);
        return reply_ok(resp, 200);
    }
    if (req->method != SBX_GET)
        return rs_errbuf_set(eb, RS_ERR_METHOD, "GET or DELETE");
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_reqlog_render(&ctx->reqlog, &js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- /oauth: the emulated authorization servers */

/* The OAuth provider named by body.provider (absent or "*": -1, every one); false if none. */
static bool oauth_provider(json_t *body, int *provider, struct rs_errbuf *eb)
{
    const char *name = json_string_value(json_object_get(body, "provider"));

    *provider = -1;
    if (!json_object_get(body, "provider") || (name && strcmp(name, "*") == 0))
        return true;
    *provider = name ? sbx_server_provider_find(name, strlen(name)) : -1;
    if (*provider == SBX_PROV_BAMBOOHR || *provider == SBX_PROV_FACTORIAL)
        return true;
    rs_errbuf_param(eb, RS_ERR_INVALID, "provider", "provider must be bamboohr, factorial or *");
    return false;
}

static enum rs_err oauth_ttl(struct sbx_ctx *ctx, json_t *body, int provider, struct rs_errbuf *eb)
{
    json_t *ttl = json_object_get(body, "access_token_ttl_s");

    if (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
        json_integer_value(ttl) > SBX_OAUTH_TTL_MAX_S)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "access_token_ttl_s",
                               "access_token_ttl_s must be an integer in 0..%d",
                               SBX_OAUTH_TTL_MAX_S);
    for (int p = 0; p < SBX_PROV_COUNT; p++) {
        if (provider < 0 || p == provider)
            ctx->oauth.access_ttl_s[p] = json_integer_value(ttl);
    }
    return RS_OK;
}

static enum rs_err handle_oauth(struct sbx_ctx *ctx, const struct sbx_req *req, json_t *body,
                                const char *action, struct sbx_resp *resp, struct rs_errbuf *eb)
{
    struct sbx_json js;
    int provider = -1;
    enum rs_err err = RS_OK;

    if (req->method == SBX_POST && !oauth_provider(body, &provider, eb))
        return RS_ERR_INVALID;
    if (strcmp(action, "") == 0 && req->method == SBX_GET)
        err = RS_OK;
    else if (strcmp(action, "/ttl") == 0 && req->method == SBX_POST)
        err = oauth_ttl(ctx, body, provider, eb);
    else if (strcmp(action, "/expire") == 0 && req->method == SBX_POST)
        sbx_oauth_expire_all(&ctx->oauth, provider, req->now_us);
    else if (strcmp(action, "/revoke") == 0 && req->method == SBX_POST)
        sbx_oauth_revoke_all(&ctx->oauth, provider);
    else
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such control endpoint");
    if (err != RS_OK)
        return err;
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_oauth_render(ctx, req->now_us, &js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* /employees/{index}[/terminate|/rehire] */
static enum rs_err handle_person(struct sbx_ctx *ctx, const struct sbx_req *req, json_t *body,
                                 const char *rest, struct sbx_resp *resp, struct rs_errbuf *eb)
{
    char number[24];
    size_t n = strcspn(rest, "/");
    const char *action = rest + n;
    long index;
    enum rs_err err;

    snprintf(number, sizeof(number), "%.*s", (int)(n < sizeof(number) ? n : 0), rest);
    if (!sbx_http_long(number, 0, SBX_EMPLOYEES_MAX, &index))
        return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such person");
    if (strcmp(action, "") == 0 && req->method == SBX_PATCH)
        err = sbx_edit_patch(ctx->company, index, body, req->now_us, eb);
    else if (strcmp(action, "") == 0 && req->method == SBX_DELETE)
        err = sbx_edit_delete(ctx->company, index, req->now_us, eb);
    else if (strcmp(action, "") == 0 && req->method == SBX_GET)
        err = sbx_company_get(ctx->company, index)
                  ? RS_OK
                  : rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such person");
    else if (strcmp(action, "/terminate") == 0 && req->method == SBX_POST)
        err = sbx_edit_terminate(ctx->company, index, body, req->now_us, eb);
    else if (strcmp(action, "/rehire") == 0 && req->method == SBX_POST)
        err = sbx_edit_rehire(ctx->company, index, body, req->now_us, eb);
    else
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such control endpoint");
    if (err != RS_OK)
        return err;
    return reply_person(ctx, resp, 200, index);
}

static enum rs_err route(struct sbx_ctx *ctx, const struct sbx_req *req, json_t *body,
                         struct sbx_resp *resp, struct rs_errbuf *eb)
{
    const char *path = req->path;
    bool post = req->method == SBX_POST;
    int index = 0;
    enum rs_err err;

    if (strcmp(path, "/health") == 0)
        return reply_ok(resp, 200);
    if (strcmp(path, "/reset") == 0 && post)
        return handle_reset(ctx, body, resp, eb);
    if (strcmp(path, "/company") == 0 && req->method == SBX_GET)
        return handle_company(ctx, resp);
    if (strcmp(path, "/empty") == 0 && post)
        return handle_empty(ctx, body, resp, eb);
    if (strcmp(path, "/faults") == 0)
        return handle_faults(ctx, req, body, resp, eb);
    if (strcmp(path, "/requests") == 0)
        return handle_requests(ctx, req, resp, eb);
    if (strncmp(path, "/oauth", 6) == 0)
        return handle_oauth(ctx, req, body, path + 6, resp, eb);
    if (strcmp(path, "/employees") == 0 && post) {
        err = sbx_edit_hire(ctx->company, body, req->now_us, &index, eb);
        return err != RS_OK ? err : reply_person(ctx, resp, 201, index);
    }
    if (strncmp(path, "/employees/", 11) == 0)
        return handle_person(ctx, req, body, path + 11, resp, eb);
    return rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no such control endpoint");
}

enum rs_err sbx_control_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp)
{
    struct rs_errbuf eb;
    json_t *body = sbx_http_body_json(req);
    enum rs_err err;

    rs_errbuf_clear(&eb);
    if (!body) {
        rs_errbuf_set(&eb, RS_ERR_INVALID, "the body must be a JSON object");
        return reply_error(resp, RS_ERR_INVALID, &eb);
    }
    err = route(ctx, req, body, resp, &eb);
    json_decref(body);
    if (err == RS_OK)
        return RS_OK;
    return reply_error(resp, err, &eb);
}
