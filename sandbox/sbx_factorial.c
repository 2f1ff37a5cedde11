/*
 * Factorial under /factorial: the OAuth2 server (/oauth/authorize, /oauth/token, /oauth/revoke)
 * and the date-versioned API /api/{YYYY-MM-DD}/resources/{domain}/{resource} (employees, teams,
 * memberships, locations, legal entities, contract versions), cursor-paged with `limit` and
 * `after_id` as the official SDK does, answering {data, meta{…, end_cursor, has_next_page}}.
 */
#include "sbx_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_time.h"

#define API_KEY       "sandbox"
#define LIMIT_DEFAULT 100
#define LIMIT_MAX     100 /* "a server-side hard max" per the SDK */
#define COMPANY_ID    71234
#define ENTITY_BASE   901
#define ACCESS_BASE   INT64_C(8000001)
#define CONTRACT_BASE INT64_C(9000001)
#define MEMBER_BASE   INT64_C(6000001)

static enum rs_err factorial_error(const struct sbx_req *req, struct sbx_resp *resp, int status,
                                   int retry_after_s)
{
    struct sbx_json js;

    (void)req;
    sbx_http_resp_reset(resp);
    sbx_http_json(resp, status);
    if (status == 401)
        sbx_http_header(resp, "WWW-Authenticate",
                        "Bearer realm=\"Factorial\", error=\"invalid_token\"");
    if (status == 429 || retry_after_s >= 0)
        sbx_http_header(resp, "Retry-After", "%d", retry_after_s >= 0 ? retry_after_s : 1);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_str(&js, "error",
                 status == 401   ? "invalid_token"
                 : status == 404 ? "not_found"
                 : status == 429 ? "too_many_requests"
                                 : "bad_request");
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* x-api-key: sandbox, or a live OAuth access token as a bearer. */
static bool authorized(const struct sbx_ctx *ctx, const struct sbx_req *req)
{
    const char *bearer = sbx_http_bearer(req->authorization);

    if (ctx->revoked[SBX_PROV_FACTORIAL])
        return false;
    if (req->api_key)
        return strcmp(req->api_key, API_KEY) == 0;
    return bearer && !sbx_oauth_check_access(ctx, SBX_PROV_FACTORIAL, bearer, req->now_us);
}

/* ---- one page of any listing */

struct page_ctx {
    const struct sbx_company *c;
    int32_t today;
    bool only_active;
    int64_t since_us;                /* updated_at_gteq, or INT64_MIN */
    const int *by_team, *team_start; /* teams: person indexes grouped by team */
};

/* A listing: positions 0..count-1, some shown. */
struct listing {
    size_t (*count)(const struct page_ctx *pc);
    bool (*shown)(const struct page_ctx *pc, size_t pos);
    void (*render)(const struct page_ctx *pc, size_t pos, struct sbx_json *js);
};

/* Cursors are base64 of the position of the last item of a page (GraphQL-style, opaque). */
static void cursor_encode(size_t pos, char *out, size_t outlen)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%zu", pos);

    sodium_bin2base64(out, outlen, (const unsigned char *)text, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
}

static bool cursor_decode(const char *cursor, size_t *pos)
{
    unsigned char text[24];
    size_t n = 0;
    long v;

    if (sodium_base642bin(text, sizeof(text) - 1, cursor, strlen(cursor), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    text[n] = '\0';
    if (!sbx_http_long((const char *)text, 0, 100000000L, &v))
        return false;
    *pos = (size_t)v;
    return true;
}

static void render_meta(struct sbx_json *js, long limit, long total, size_t start, long shown,
                        size_t first, size_t last, bool more)
{
    char cursor[48];

    sbx_json_obj(js, "meta");
    sbx_json_bool(js, "has_next_page", more);
    sbx_json_bool(js, "has_previous_page", start > 0);
    sbx_json_int(js, "limit", limit);
    sbx_json_int(js, "total", total);
    if (shown > 0) {
        cursor_encode(first, cursor, sizeof(cursor));
        sbx_json_str(js, "start_cursor", cursor);
        cursor_encode(last, cursor, sizeof(cursor));
        sbx_json_str(js, "end_cursor", cursor);
    }
    sbx_json_end(js);
}

static enum rs_err render_page(const struct listing *l, const struct page_ctx *pc,
                               const struct sbx_req *req, struct sbx_resp *resp)
{
    const char *limit_text = sbx_http_query_get(&req->query, "limit");
    const char *after = sbx_http_query_get(&req->query, "after_id");
    size_t count = l->count(pc), start = 0, first = 0, last = 0, pos;
    long limit = LIMIT_DEFAULT, total = 0, shown = 0;
    struct sbx_json js;

    if ((limit_text && !sbx_http_long(limit_text, 1, 1000000, &limit)) ||
        (after && *after && !cursor_decode(after, &start)))
        return factorial_error(req, resp, 400, -1);
    if (after && *after)
        start++; /* the cursor names the last item already seen */
    if (limit > LIMIT_MAX)
        limit = LIMIT_MAX;
    for (pos = 0; pos < count; pos++)
        total += l->shown(pc, pos);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_arr(&js, "data");
    for (pos = start; pos < count && shown < limit; pos++) {
        if (!l->shown(pc, pos))
            continue;
        l->render(pc, pos, &js);
        first = shown++ == 0 ? pos : first;
        last = pos;
    }
    while (pos < count && !l->shown(pc, pos))
        pos++;
    sbx_json_end(&js);
    render_meta(&js, limit, total, start, shown, first, last, pos < count);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- people */

static size_t people_count(const struct page_ctx *pc)
{
    return pc->c->count;
}

static bool terminated(const struct sbx_person *p)
{
    return p->state == SBX_STATE_TERMINATED;
}

static bool person_shown(const struct page_ctx *pc, size_t pos)
{
    const struct sbx_person *p = &pc->c->people[pos];

    return sbx_company_listed(pc->c, p) && (!pc->only_active || !terminated(p)) &&
           p->changed_us >= pc->since_us;
}

static int legal_entity_of(const struct sbx_company *c, const struct sbx_person *p)
{
    int sub = p->location >= 0 && p->location < c->nunits[SBX_UNIT_LOCATION]
                  ? c->units[SBX_UNIT_LOCATION][p->location].parent
                  : 0;

    return ENTITY_BASE + (sub >= 0 && (size_t)sub < sbx_pool_nsubcompany ? sub : 0);
}

static void render_names(struct sbx_json *js, const struct sbx_person *p)
{
    static const char *const genders[] = {"female", "male", NULL};
    char full[2 * SBX_NAME_MAX + 2];

    sbx_company_full_name(p, full, sizeof(full));
    sbx_json_str(js, "first_name", p->first_name);
    sbx_json_str(js, "last_name", p->last_name);
    sbx_json_str(js, "full_name", full);
    sbx_json_opt(js, "preferred_name", p->preferred_name);
    sbx_json_str(js, "gender", genders[p->gender]);
    sbx_json_str(js, "email", p->work_email);
    sbx_json_str(js, "login_email", p->work_email);
    sbx_json_opt(js, "personal_email", p->home_email);
    sbx_json_opt(js, "phone_number", p->mobile);
    if (p->index % 3 != 1) /* a third keep their birthday to themselves */
        sbx_json_date(js, "birthday_on", p->hire_day - 365 * (22 + p->index % 30) - p->index % 97);
    else
        sbx_json_null(js, "birthday_on");
}

static void render_org(const struct page_ctx *pc, struct sbx_json *js, const struct sbx_person *p)
{
    const struct sbx_person *m = sbx_company_manager(pc->c, p);

    sbx_json_int(js, "company_id", COMPANY_ID);
    sbx_json_int(js, "legal_entity_id", legal_entity_of(pc->c, p));
    sbx_json_int(js, "location_id", sbx_company_unit_id(pc->c, SBX_UNIT_LOCATION, p->location));
    if (m) {
        sbx_json_int(js, "manager_id", sbx_company_factorial_id(m->index));
        sbx_json_int(js, "timeoff_manager_id", sbx_company_factorial_id(m->index));
    } else {
        sbx_json_null(js, "manager_id");
        sbx_json_null(js, "timeoff_manager_id");
    }
    sbx_json_arr(js, "team_ids");
    if (p->team >= 0)
        sbx_json_int(js, NULL, sbx_company_unit_id(pc->c, SBX_UNIT_TEAM, p->team));
    sbx_json_end(js);
}

static void render_employee(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    const struct sbx_person *p = &pc->c->people[pos];
    char iso[RS_TIME_ISO_LEN];

    sbx_json_obj(js, NULL);
    sbx_json_int(js, "id", sbx_company_factorial_id(p->index));
    sbx_json_int(js, "access_id", ACCESS_BASE + p->index);
    render_names(js, p);
    render_org(pc, js, p);
    sbx_json_strf(js, "company_identifier", "SBX-%05d", p->index);
    sbx_json_date(js, "seniority_calculation_date", p->hire_day);
    if (terminated(p))
        sbx_json_date(js, "terminated_on", p->term_day);
    else
        sbx_json_null(js, "terminated_on");
    sbx_json_null(js, "termination_reason");
    sbx_json_bool(js, "is_terminating", terminated(p) && p->term_day > pc->today);
    sbx_json_bool(js, "active", !terminated(p));
    sbx_json_bool(js, "attendable", false);
    sbx_json_str(js, "created_at", rs_time_format(p->created_us, iso));
    sbx_json_str(js, "updated_at", rs_time_format(p->changed_us, iso));
    sbx_json_end(js);
}

static void render_membership(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    const struct sbx_person *p = &pc->c->people[pos];

    sbx_json_obj(js, NULL);
    sbx_json_int(js, "id", MEMBER_BASE + p->index);
    sbx_json_int(js, "company_id", COMPANY_ID);
    sbx_json_int(js, "employee_id", sbx_company_factorial_id(p->index));
    sbx_json_int(js, "team_id", sbx_company_unit_id(pc->c, SBX_UNIT_TEAM, p->team));
    sbx_json_bool(js, "lead", false);
    sbx_json_end(js);
}

static bool member_shown(const struct page_ctx *pc, size_t pos)
{
    return person_shown(pc, pos) && pc->c->people[pos].team >= 0;
}

static void render_contract(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    const struct sbx_person *p = &pc->c->people[pos];
    char iso[RS_TIME_ISO_LEN];

    sbx_json_obj(js, NULL);
    sbx_json_int(js, "id", CONTRACT_BASE + p->index);
    sbx_json_int(js, "company_id", COMPANY_ID);
    sbx_json_int(js, "employee_id", sbx_company_factorial_id(p->index));
    sbx_json_date(js, "effective_on", p->hire_day);
    sbx_json_date(js, "starts_on", p->hire_day);
    if (terminated(p))
        sbx_json_date(js, "ends_on", p->term_day);
    else
        sbx_json_null(js, "ends_on");
    sbx_json_str(js, "job_title", p->title);
    sbx_json_int(js, "working_hours", p->weekly_hours);
    sbx_json_str(js, "working_hours_frequency", "week");
    sbx_json_int(js, "working_time_percentage_in_cents", p->weekly_hours * 10000 / 40);
    sbx_json_bool(js, "has_payroll", false);
    sbx_json_bool(js, "has_trial_period", false);
    sbx_json_str(js, "bank_holiday_treatment", "non_workable");
    sbx_json_bool(js, "fr_forfait_jours", false);
    sbx_json_str(js, "created_at", rs_time_format(p->created_us, iso));
    sbx_json_str(js, "updated_at", rs_time_format(p->changed_us, iso));
    sbx_json_end(js);
}

/* ---- units */

static size_t teams_count(const struct page_ctx *pc)
{
    return (size_t)pc->c->nunits[SBX_UNIT_TEAM];
}

static size_t locations_count(const struct page_ctx *pc)
{
    return (size_t)pc->c->nunits[SBX_UNIT_LOCATION];
}

static size_t entities_count(const struct page_ctx *pc)
{
    (void)pc;
    return sbx_pool_nsubcompany;
}

static bool always(const struct page_ctx *pc, size_t pos)
{
    (void)pc;
    (void)pos;
    return true;
}

static void render_team(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    sbx_json_obj(js, NULL);
    sbx_json_int(js, "id", pc->c->units[SBX_UNIT_TEAM][pos].id);
    sbx_json_str(js, "name", pc->c->units[SBX_UNIT_TEAM][pos].name);
    sbx_json_int(js, "company_id", COMPANY_ID);
    sbx_json_null(js, "description");
    sbx_json_null(js, "avatar");
    sbx_json_arr(js, "employee_ids");
    for (int i = pc->team_start[pos]; i < pc->team_start[pos + 1]; i++)
        sbx_json_int(js, NULL, sbx_company_factorial_id(pc->by_team[i]));
    sbx_json_end(js);
    sbx_json_arr(js, "lead_ids");
    sbx_json_end(js);
    sbx_json_end(js);
}

/* The IANA zone of a pool location (by its country and state), NULL for others. */
static const char *timezone_of(const struct sbx_pool_location *loc)
{
    static const char *const zones[][3] = {
        {"DE", NULL, "Europe/Berlin"},     {"CH", NULL, "Europe/Zurich"},
        {"BR", NULL, "America/Sao_Paulo"}, {"US", "California", "America/Los_Angeles"},
        {"US", NULL, "America/New_York"},  {"GB", NULL, "Europe/London"},
        {"PL", NULL, "Europe/Warsaw"},
    };

    for (size_t i = 0; loc && i < sizeof(zones) / sizeof(zones[0]); i++) {
        if (strcmp(zones[i][0], loc->country) == 0 &&
            (!zones[i][1] || strcmp(zones[i][1], loc->state) == 0))
            return zones[i][2];
    }
    return NULL;
}

/* The SDK types location and legal-entity ids as strings (employees carry them as integers). */
static void render_location(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    const struct sbx_unit *u = &pc->c->units[SBX_UNIT_LOCATION][pos];
    const struct sbx_pool_location *loc = sbx_pool_location_named(u->name);

    sbx_json_obj(js, NULL);
    sbx_json_strf(js, "id", "%d", u->id);
    sbx_json_strf(js, "company_id", "%d", COMPANY_ID);
    sbx_json_str(js, "name", u->name);
    sbx_json_bool(js, "main", pos == 0);
    sbx_json_str(js, "timezone", timezone_of(loc));
    sbx_json_str(js, "country", loc ? loc->country : NULL);
    sbx_json_str(js, "state", loc ? loc->state : NULL);
    sbx_json_str(js, "city", loc ? u->name : NULL);
    sbx_json_null(js, "address_line_1");
    sbx_json_null(js, "postal_code");
    sbx_json_end(js);
}

static void render_entity(const struct page_ctx *pc, size_t pos, struct sbx_json *js)
{
    static const char *const currencies[][2] = {
        {"DE", "EUR"}, {"US", "USD"}, {"BR", "BRL"}, {"CH", "CHF"}, {"GB", "GBP"}, {"PL", "PLN"},
    };
    const char *country = "DE", *currency = "EUR";
    char lower[3];

    (void)pc;
    for (size_t i = 0; i < sbx_pool_nlocation; i++) {
        if (sbx_pool_location[i].subcompany == (int)pos) {
            country = sbx_pool_location[i].country;
            break;
        }
    }
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
        currency = strcmp(currencies[i][0], country) == 0 ? currencies[i][1] : currency;
    lower[0] = (char)tolower((unsigned char)country[0]);
    lower[1] = (char)tolower((unsigned char)country[1]);
    lower[2] = '\0';
    sbx_json_obj(js, NULL);
    sbx_json_strf(js, "id", "%d", ENTITY_BASE + (int)pos);
    sbx_json_strf(js, "company_id", "%d", COMPANY_ID);
    sbx_json_str(js, "country", lower); /* documented as a lowercase two-letter code */
    sbx_json_str(js, "legal_name", sbx_pool_subcompany[pos]);
    sbx_json_str(js, "currency", currency);
    sbx_json_end(js);
}

static const struct {
    const char *resource;
    struct listing listing;
} listings[] = {
    {"employees/employees", {people_count, person_shown, render_employee}},
    {"teams/memberships", {people_count, member_shown, render_membership}},
    {"contracts/contract_versions", {people_count, person_shown, render_contract}},
    {"teams/teams", {teams_count, always, render_team}},
    {"locations/locations", {locations_count, always, render_location}},
    {"companies/legal_entities", {entities_count, always, render_entity}},
};

/* ---- routing */

/* Groups listed people by team: by_team[team_start[t] .. team_start[t+1]) (caller frees). */
static enum rs_err group_by_team(const struct page_ctx *pc, int **by_team, int **team_start)
{
    const struct sbx_company *c = pc->c;
    int nteams = c->nunits[SBX_UNIT_TEAM], *fill;

    *by_team = malloc((c->count + 1) * sizeof(int));
    *team_start = calloc((size_t)nteams + 2, sizeof(int));
    fill = calloc((size_t)nteams + 1, sizeof(int));
    if (!*by_team || !*team_start || !fill) {
        free(fill);
        return RS_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->count; i++)
        if (person_shown(pc, i) && c->people[i].team >= 0)
            (*team_start)[c->people[i].team + 1]++;
    for (int t = 0; t < nteams; t++)
        (*team_start)[t + 1] += (*team_start)[t];
    for (size_t i = 0; i < c->count; i++)
        if (person_shown(pc, i) && c->people[i].team >= 0) {
            int t = c->people[i].team;

            (*by_team)[(*team_start)[t] + fill[t]++] = (int)i;
        }
    free(fill);
    return RS_OK;
}

static bool page_ctx_init(struct page_ctx *pc, const struct sbx_ctx *ctx, const struct sbx_req *req)
{
    const char *active = sbx_http_query_get(&req->query, "only_active");
    const char *since = sbx_http_query_get(&req->query, "updated_at_gteq");
    char date[11];
    int32_t day;

    memset(pc, 0, sizeof(*pc));
    pc->c = ctx->company;
    pc->today = sbx_time_day(req->now_us);
    pc->only_active = active && strcmp(active, "true") == 0;
    pc->since_us = INT64_MIN;
    if (!since || !*since)
        return true;
    /* "only the date is considered; any time component is ignored" */
    snprintf(date, sizeof(date), "%s", since);
    if (sbx_time_parse_date(date, &day) != RS_OK)
        return false;
    pc->since_us = (int64_t)day * SBX_US_PER_DAY;
    return true;
}

static enum rs_err handle_resource(struct sbx_ctx *ctx, const struct sbx_req *req,
                                   const char *resource, struct sbx_resp *resp)
{
    struct page_ctx pc;
    int *by_team = NULL, *team_start = NULL;
    enum rs_err err;

    if (req->method != SBX_GET)
        return factorial_error(req, resp, 404, -1);
    if (!page_ctx_init(&pc, ctx, req))
        return factorial_error(req, resp, 400, -1);
    for (size_t i = 0; i < sizeof(listings) / sizeof(listings[0]); i++) {
        if (strcmp(listings[i].resource, resource) != 0)
            continue;
        if (listings[i].listing.render == render_team) {
            err = group_by_team(&pc, &by_team, &team_start);
            pc.by_team = by_team;
            pc.team_start = team_start;
            if (err == RS_OK)
                err = render_page(&listings[i].listing, &pc, req, resp);
        } else {
            err = render_page(&listings[i].listing, &pc, req, resp);
        }
        free(by_team);
        free(team_start);
        return err;
    }
    return factorial_error(req, resp, 404, -1);
}

/* "/api/2026-07-01/resources/x/y" → "x/y" when the version is a date; NULL otherwise. */
static const char *resource_of(const char *path)
{
    static const char api[] = "/api/", res[] = "/resources/";
    const char *v = path + sizeof(api) - 1;

    if (strncmp(path, api, sizeof(api) - 1) != 0 || strlen(v) < 10)
        return NULL;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7 ? v[i] != '-' : !isdigit((unsigned char)v[i]))
            return NULL;
    }
    return strncmp(v + 10, res, sizeof(res) - 1) == 0 ? v + 10 + sizeof(res) - 1 : NULL;
}

static enum rs_err factorial_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                                    struct sbx_resp *resp)
{
    const char *resource;

    if (strcmp(req->path, "/oauth/authorize") == 0)
        return sbx_authorize_handle(ctx, SBX_PROV_FACTORIAL, "Factorial", req, resp);
    if (strcmp(req->path, "/oauth/token") == 0)
        return sbx_oauth_token(ctx, SBX_PROV_FACTORIAL, req, resp);
    if (strcmp(req->path, "/oauth/revoke") == 0)
        return sbx_oauth_revoke(ctx, SBX_PROV_FACTORIAL, req, resp);
    resource = resource_of(req->path);
    if (!resource)
        return factorial_error(req, resp, 404, -1);
    if (!authorized(ctx, req))
        return factorial_error(req, resp, 401, -1);
    return handle_resource(ctx, req, resource, resp);
}

const struct sbx_provider sbx_factorial_provider = {
    .slug = "factorial",
    .handle = factorial_handle,
    .error = factorial_error,
};
