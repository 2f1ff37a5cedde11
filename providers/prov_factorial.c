/*
 * Factorial adapter (OAuth2 authorization code; the link flow's access token as a bearer): the
 * date-versioned API's legal entities, locations, teams, employees and contract versions,
 * cursor-paged, become Companies, Locations, Teams (and TEAM Groups), Employees and
 * Employments. Field names and paging are UNCONFIRMED: see docs/providers/factorial.md.
 */
#include "providers/prov_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORIGIN      "https://api.factorialhr.com"
#define API_VERSION "2026-07-01" /* the official SDK 2.x's version */
#define API_PREFIX  "/api/" API_VERSION "/resources/"
#define PAGE_LIMIT  100    /* the SDK's documented hard maximum */
#define PAGES_MAX   100000 /* 10M records a phase: a provider that never stops paging is broken */
#define MEMBERS_MAX 100000 /* team memberships remembered when employees lack team_ids */
#define COMPANY_ID  "company"
#define ID_MAX      (RS_MODEL_REMOTE_ID_MAX + 1)
#define US_PER_DAY  (INT64_C(86400) * 1000000)
#define FULL_TIME   10000 /* working_time_percentage_in_cents of a full-time contract */

/* The phases of a sync, in order; each pages through one listing. */
enum phase { PH_ENTITIES, PH_LOCATIONS, PH_TEAMS, PH_EMPLOYEES, PH_CONTRACTS, PH_DONE };

static const char *const resources[] = {
    [PH_ENTITIES] = "companies/legal_entities",
    [PH_LOCATIONS] = "locations/locations",
    [PH_TEAMS] = "teams/teams",
    [PH_EMPLOYEES] = "employees/employees",
    [PH_CONTRACTS] = "contracts/contract_versions",
};

static const struct prov_enum genders[] = {
    {"male", "MALE"},   {"female", "FEMALE"}, {"non_binary", "NON-BINARY"},
    {"other", "OTHER"}, {NULL, NULL},
};

static const struct prov_map employee_map[] = {
    {"company_identifier", "employee_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"first_name", "first_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"last_name", "last_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"preferred_name", "preferred_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"full_name", "display_full_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"email", "work_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"personal_email", "personal_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"phone_number", "mobile_phone_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"gender", "gender", PROV_ENUM, genders, RS_MODEL_NONE},
    {"birthday_on", "date_of_birth", PROV_DATE, NULL, RS_MODEL_NONE},
    {"seniority_calculation_date", "hire_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"seniority_calculation_date", "start_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"terminated_on", "termination_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"manager_id", "manager", PROV_REF, NULL, RS_MODEL_EMPLOYEE},
    {"location_id", "work_location", PROV_REF, NULL, RS_MODEL_LOCATION},
    {"created_at", "remote_created_at", PROV_DATETIME, NULL, RS_MODEL_NONE},
};

static const struct prov_map employment_map[] = {
    {"job_title", "job_title", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"effective_on", "effective_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"employee_id", "employee", PROV_REF, NULL, RS_MODEL_EMPLOYEE},
};

static const struct prov_map location_map[] = {
    {"name", "name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"phone_number", "phone_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"address_line_1", "street_1", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"address_line_2", "street_2", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"city", "city", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"state", "state", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"postal_code", "zip_code", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"country", "country", PROV_TEXT, NULL, RS_MODEL_NONE},
};

static const struct prov_map company_map[] = {
    {"legal_name", "legal_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"legal_name", "display_name", PROV_TEXT, NULL, RS_MODEL_NONE},
};

#define MAP(m) m, sizeof(m) / sizeof(m[0])

/* ---- state: {"phase", "cursor", "page", "by_page", "first_id", "members", "company"} */

static json_int_t state_int(const struct prov_sync *sync, const char *key)
{
    const json_t *value = json_object_get(sync->state, key);

    return json_is_integer(value) && json_integer_value(value) > 0 ? json_integer_value(value) : 0;
}

static enum phase state_phase(const struct prov_sync *sync)
{
    json_int_t p = state_int(sync, "phase");

    return p <= PH_DONE ? (enum phase)p : PH_DONE;
}

static enum rs_err state_set(struct prov_sync *sync, const char *key, json_t *value_owned)
{
    if (!value_owned)
        return RS_ERR_NOMEM;
    return json_object_set_new(sync->state, key, value_owned) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* ---- requests */

/* "&updated_at_gteq=YYYY-MM-DD": the day before since, as the filter keeps only the date and
   its time zone is not documented (inclusive, so an overlap re-delivers, never misses). */
static void since_param(const struct prov_sync *sync, char *out, size_t outlen)
{
    char iso[RS_TIME_ISO_LEN];

    out[0] = '\0';
    if (sync->full || sync->since_us <= 0 || state_phase(sync) != PH_EMPLOYEES)
        return;
    rs_time_format(sync->since_us - US_PER_DAY, iso);
    snprintf(out, outlen, "&updated_at_gteq=%.10s", iso);
}

/* The continuation of this phase: "&after_id=<cursor>" or, without cursors, "&page=<n>". */
static enum rs_err paging_param(const struct prov_sync *sync, char *out, size_t outlen)
{
    const char *cursor = json_string_value(json_object_get(sync->state, "cursor"));
    char escaped[1024];
    int n = 0;

    out[0] = '\0';
    if (json_is_true(json_object_get(sync->state, "by_page")))
        n = snprintf(out, outlen, "&page=%lld", (long long)state_int(sync, "page") + 1);
    else if (cursor && prov_request_escape(cursor, escaped, sizeof(escaped)) == RS_OK)
        n = snprintf(out, outlen, "&after_id=%s", escaped);
    else if (cursor)
        return RS_ERR_INVALID;
    return n < 0 || (size_t)n >= outlen ? RS_ERR_INVALID : RS_OK;
}

static enum rs_err factorial_next_request(const struct prov_sync *sync, struct prov_request *req,
                                          bool *done, struct rs_errbuf *eb)
{
    enum phase phase = state_phase(sync);
    char path[1400], paging[1100], since[48];
    int n;

    memset(req, 0, sizeof(*req));
    *done = phase == PH_DONE;
    if (*done)
        return RS_OK;
    if (paging_param(sync, paging, sizeof(paging)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Factorial answered an unusable cursor");
    since_param(sync, since, sizeof(since));
    n = snprintf(path, sizeof(path), API_PREFIX "%s?limit=%d%s%s", resources[phase], PAGE_LIMIT,
                 paging, since);
    if (n < 0 || (size_t)n >= sizeof(path) ||
        prov_request_url(sync, ORIGIN, path, req->url, sizeof(req->url)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "Factorial request URL is too long");
    snprintf(req->method, sizeof(req->method), "GET");
    req->page = (int)state_int(sync, "page");
    return prov_oauth_bearer(sync, "Factorial", req, eb);
}

/* ---- delivering records */

/* A string with an escaped NUL inside: as an id it would be cut short and could collide. */
static bool has_nul(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) != json_string_length(value);
}

/* A scalar id (number or string) as non-empty text, or NULL. */
static const char *id_text(const json_t *value, char *out, size_t outlen)
{
    const char *text;

    if (has_nul(value) || (json_is_string(value) && json_string_length(value) >= outlen) ||
        json_is_real(value))
        return NULL;
    text = prov_json_text(value, out, outlen);
    return text && text[0] ? text : NULL;
}

static void skip(const struct prov_sink *sink, enum rs_model_kind kind, const char *what,
                 const char *why)
{
    char text[160];

    snprintf(text, sizeof(text), "Factorial %s %.100s", what, why);
    sink->skipped(sink->arg, kind, text);
}

static enum rs_err deliver(const struct prov_sync *sync, const struct prov_sink *sink,
                           enum rs_model_kind kind, const char *remote_id, const json_t *fields,
                           const json_t *row)
{
    char path[128];

    snprintf(path, sizeof(path), API_PREFIX "%s", resources[state_phase(sync)]);
    return prov_deliver(sink, kind, remote_id, fields, path, row);
}

/* Applies map to row into a new object *out; RS_ERR_INVALID (after skipping) on a bad shape. */
static enum rs_err map_row(const struct prov_sync *sync, const struct prov_sink *sink,
                           enum rs_model_kind kind, const struct prov_map *map, size_t n,
                           const json_t *row, json_t **out)
{
    const char *bad = NULL;
    enum rs_err err;

    *out = json_object();
    if (!*out)
        return RS_ERR_NOMEM;
    err = prov_map_apply(map, n, row, &sync->account, *out, &bad);
    if (err == RS_ERR_INVALID)
        skip(sink, kind, "record with a malformed", bad);
    return err;
}

/* The account's one Company when Factorial names none: remote id "company". */
static enum rs_err default_company(struct prov_sync *sync, const struct prov_sink *sink)
{
    json_t *company;
    enum rs_err err;

    if (json_is_true(json_object_get(sync->state, "default_company")))
        return RS_OK;
    company = json_pack("{s:n, s:n, s:n}", "legal_name", "display_name", "eins");
    err = company ? deliver(sync, sink, RS_MODEL_COMPANY, COMPANY_ID, company, NULL) : RS_ERR_NOMEM;
    json_decref(company);
    if (err == RS_OK)
        err = state_set(sync, "default_company", json_true());
    return err;
}

/* ---- legal entities, locations, teams */

static enum rs_err deliver_entity(struct prov_sync *sync, const struct prov_sink *sink,
                                  const json_t *row, const char *id)
{
    const json_t *tin = json_object_get(row, "tin");
    json_t *company = NULL;
    enum rs_err err = map_row(sync, sink, RS_MODEL_COMPANY, MAP(company_map), row, &company);

    if (err == RS_OK &&
        json_object_set_new(company, "eins",
                            json_is_string(tin) && json_string_length(tin) ? json_pack("[O]", tin)
                                                                           : json_null()) != 0)
        err = RS_ERR_NOMEM;
    if (err == RS_OK)
        err = deliver(sync, sink, RS_MODEL_COMPANY, id, company, row);
    if (err == RS_OK)
        err = state_set(sync, "company", json_true());
    json_decref(company);
    return err == RS_ERR_INVALID ? RS_OK : err;
}

/* Merge's country is ISO 3166 alpha-2 in capitals; Factorial's casing varies by resource. */
static enum rs_err upper_country(json_t *location)
{
    const char *c = json_string_value(json_object_get(location, "country"));
    char code[3];

    if (!c || strlen(c) != 2)
        return RS_OK;
    code[0] = (char)toupper((unsigned char)c[0]);
    code[1] = (char)toupper((unsigned char)c[1]);
    code[2] = '\0';
    return json_object_set_new(location, "country", json_string(code)) == 0 ? RS_OK : RS_ERR_NOMEM;
}

static enum rs_err deliver_location(struct prov_sync *sync, const struct prov_sink *sink,
                                    const json_t *row, const char *id)
{
    json_t *location = NULL;
    enum rs_err err = map_row(sync, sink, RS_MODEL_LOCATION, MAP(location_map), row, &location);

    if (err == RS_OK)
        err = upper_country(location);
    if (err == RS_OK && json_object_set_new(location, "location_type", json_string("WORK")) != 0)
        err = RS_ERR_NOMEM;
    if (err == RS_OK)
        err = deliver(sync, sink, RS_MODEL_LOCATION, id, location, row);
    json_decref(location);
    return err == RS_ERR_INVALID ? RS_OK : err;
}

/* Remembers employee → team from a team's employee_ids, for employees without team_ids. */
static enum rs_err remember_members(struct prov_sync *sync, const json_t *row, const char *id)
{
    const json_t *ids = json_object_get(row, "employee_ids"), *member;
    json_t *members = json_object_get(sync->state, "members");
    char text[64];
    size_t i;

    if (!members) {
        members = json_object();
        if (state_set(sync, "members", members) != RS_OK)
            return RS_ERR_NOMEM;
    }
    json_array_foreach(ids, i, member)
    {
        if (json_object_size(members) >= MEMBERS_MAX || !id_text(member, text, sizeof(text)))
            continue; /* past the cap, team links come from team_ids only */
        if (!json_object_get(members, text) &&
            json_object_set_new(members, text, json_string(id)) != 0)
            return RS_ERR_NOMEM;
    }
    return RS_OK;
}

/* A team is a Team and, Factorial's only grouping, a Group of type TEAM ("team:<id>"). */
static enum rs_err deliver_team(struct prov_sync *sync, const struct prov_sink *sink,
                                const json_t *row, const char *id)
{
    const json_t *name = json_object_get(row, "name");
    char group_id[ID_MAX + 8];
    json_t *team, *group;
    enum rs_err err = RS_ERR_NOMEM;

    if (name && !json_is_string(name) && !json_is_null(name)) {
        skip(sink, RS_MODEL_TEAM, "team with a malformed", "name");
        return RS_OK;
    }
    name = json_string_length(name) > 0 ? name : NULL;
    team = json_pack("{s:O?, s:n}", "name", name, "parent_team");
    group = json_pack("{s:O?, s:s, s:n, s:b}", "name", name, "type", "TEAM", "parent_group",
                      "is_commonly_used_as_team", 1);
    snprintf(group_id, sizeof(group_id), "team:%s", id);
    if (team && group)
        err = deliver(sync, sink, RS_MODEL_TEAM, id, team, row);
    if (err == RS_OK)
        err = deliver(sync, sink, RS_MODEL_GROUP, group_id, group, NULL);
    if (err == RS_OK)
        err = remember_members(sync, row, id);
    json_decref(team);
    json_decref(group);
    return err;
}

/* ---- employees */

static bool date_of(const json_t *row, const char *field, int64_t *us)
{
    char buf[64];
    const char *text = prov_json_text(json_object_get(row, field), buf, sizeof(buf));

    if (!text || strlen(text) < 10)
        return false;
    buf[10] = '\0';
    return text == buf && rs_time_parse(buf, us) == RS_OK;
}

/*
 * ACTIVE, PENDING or INACTIVE. Factorial gives dates and `active` rather than a status: a
 * termination dated today or earlier ends the employment, unless a later hire (seniority date)
 * shows a rehire; `active: false` does too; a start date ahead is PENDING.
 */
static const char *employment_status(const json_t *row, int64_t now_us, bool *stale)
{
    int64_t hire = 0, term = 0;
    bool hired = date_of(row, "seniority_calculation_date", &hire);
    bool terminated = date_of(row, "terminated_on", &term);
    const json_t *active = json_object_get(row, "active");

    *stale = terminated && hired && term < hire;
    if (terminated && !*stale && term <= now_us)
        return "INACTIVE";
    if (json_is_false(active) ||
        (json_is_string(active) && strcasecmp(json_string_value(active), "false") == 0))
        return "INACTIVE";
    return hired && hire > now_us ? "PENDING" : "ACTIVE";
}

/* The team ids of an employee: team_ids, else what teams' employee_ids said. NULL: bad shape. */
static json_t *team_ids_of(const struct prov_sync *sync, const json_t *row, const char *id)
{
    const json_t *ids = json_object_get(row, "team_ids"), *member;
    const char *remembered =
        json_string_value(json_object_get(json_object_get(sync->state, "members"), id));
    char text[64];
    json_t *out;
    size_t i;

    if (ids && !json_is_array(ids) && !json_is_null(ids))
        return NULL;
    out = json_array();
    if (!out)
        return NULL;
    if (!json_is_array(ids) && remembered &&
        json_array_append_new(out, json_string(remembered)) != 0)
        goto fail;
    json_array_foreach(ids, i, member)
    {
        if (!id_text(member, text, sizeof(text)) ||
            json_array_append_new(out, json_string(text)) != 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* team (the first) and groups (one TEAM group per team) from the employee's team ids. */
static enum rs_err link_teams(const struct prov_sync *sync, json_t *employee, const json_t *teams)
{
    char group_id[ID_MAX + 8];
    json_t *groups = json_array(), *team;
    size_t i;

    if (!groups || json_object_set_new(employee, "groups", groups) != 0)
        return RS_ERR_NOMEM;
    json_array_foreach(teams, i, team)
    {
        snprintf(group_id, sizeof(group_id), "team:%s", json_string_value(team));
        if (json_array_append_new(groups, prov_ref(&sync->account, RS_MODEL_GROUP, group_id)))
            return RS_ERR_NOMEM;
    }
    team = json_array_get(teams, 0);
    return json_object_set_new(employee, "team",
                               prov_ref(&sync->account, RS_MODEL_TEAM, json_string_value(team))) ==
                   0
               ? RS_OK
               : RS_ERR_NOMEM;
}

/* What the mapping table cannot say: status, company, teams, employment, name fallbacks. */
static enum rs_err employee_links(struct prov_sync *sync, const struct prov_sink *sink,
                                  const json_t *row, const char *id, json_t *employee,
                                  const json_t *teams)
{
    char entity[64];
    const char *company = id_text(json_object_get(row, "legal_entity_id"), entity, sizeof(entity));
    const json_t *login = json_object_get(row, "login_email");
    bool stale = false;
    const char *status = employment_status(row, sync->now_us, &stale);
    enum rs_err err = company ? RS_OK : default_company(sync, sink);

    if (err == RS_OK)
        err = link_teams(sync, employee, teams);
    if (err != RS_OK)
        return err;
    if (json_object_set_new(
            employee, "company",
            prov_ref(&sync->account, RS_MODEL_COMPANY, company ? company : COMPANY_ID)) != 0 ||
        json_object_set_new(employee, "employment_status", json_string(status)) != 0 ||
        json_object_set_new(employee, "employments",
                            json_pack("[o]", prov_ref(&sync->account, RS_MODEL_EMPLOYMENT, id))) !=
            0 ||
        (stale && json_object_set_new(employee, "termination_date", json_null()) != 0))
        return RS_ERR_NOMEM;
    if (json_is_null(json_object_get(employee, "work_email")) && json_string_length(login) > 0 &&
        json_object_set_new(employee, "work_email", json_copy((json_t *)login)) != 0)
        return RS_ERR_NOMEM;
    if (json_is_null(json_object_get(employee, "display_full_name")) &&
        json_object_set_new(employee, "display_full_name", prov_display_name(employee)) != 0)
        return RS_ERR_NOMEM;
    return RS_OK;
}

static enum rs_err deliver_employee(struct prov_sync *sync, const struct prov_sink *sink,
                                    const json_t *row, const char *id)
{
    json_t *employee = NULL, *teams = team_ids_of(sync, row, id);
    enum rs_err err;

    if (!teams) {
        skip(sink, RS_MODEL_EMPLOYEE, "employee with malformed", "team_ids");
        return RS_OK;
    }
    err = map_row(sync, sink, RS_MODEL_EMPLOYEE, MAP(employee_map), row, &employee);
    if (err == RS_OK)
        err = employee_links(sync, sink, row, id, employee, teams);
    if (err == RS_OK)
        err = deliver(sync, sink, RS_MODEL_EMPLOYEE, id, employee, row);
    json_decref(employee);
    json_decref(teams);
    return err == RS_ERR_INVALID ? RS_OK : err;
}

/* ---- contract versions */

/* FULL_TIME / PART_TIME from the working-time percentage; NULL when unknown; bad → false. */
static bool employment_type(const json_t *row, const char **type)
{
    const json_t *cents = json_object_get(row, "working_time_percentage_in_cents");
    char text[32], *end;
    double value;

    *type = NULL;
    if (!cents || json_is_null(cents))
        return true;
    if (!prov_json_text(cents, text, sizeof(text)))
        return false;
    value = strtod(text, &end);
    if (end == text || *end)
        return false;
    if (value > 0)
        *type = value >= FULL_TIME ? "FULL_TIME" : "PART_TIME";
    return true;
}

/*
 * A version that takes effect later is a scheduled change, not the current contract, unless
 * it is the hiring one (effective_on == starts_on) of someone who has not started yet.
 */
static bool scheduled_change(const json_t *row, int64_t now_us)
{
    int64_t effective = 0, starts = 0;

    if (!date_of(row, "effective_on", &effective) || effective <= now_us)
        return false;
    return !date_of(row, "starts_on", &starts) || starts != effective;
}

/* The Employment of the employee the version belongs to (the last delivered wins). */
static enum rs_err deliver_contract(struct prov_sync *sync, const struct prov_sink *sink,
                                    const json_t *row, const char *id)
{
    char employee_id[ID_MAX];
    const char *employee = id_text(json_object_get(row, "employee_id"), employee_id, ID_MAX);
    const char *type = NULL;
    json_t *employment = NULL;
    enum rs_err err;

    (void)id;
    if (!employee) {
        skip(sink, RS_MODEL_EMPLOYMENT, "contract version", "without an employee_id");
        return RS_OK;
    }
    if (!employment_type(row, &type)) {
        skip(sink, RS_MODEL_EMPLOYMENT, "contract version with a malformed",
             "working_time_percentage_in_cents");
        return RS_OK;
    }
    if (scheduled_change(row, sync->now_us))
        return RS_OK;
    err = map_row(sync, sink, RS_MODEL_EMPLOYMENT, MAP(employment_map), row, &employment);
    if (err == RS_OK &&
        json_object_set_new(employment, "employment_type", type ? json_string(type) : json_null()))
        err = RS_ERR_NOMEM;
    if (err == RS_OK)
        err = deliver(sync, sink, RS_MODEL_EMPLOYMENT, employee, employment, row);
    json_decref(employment);
    return err == RS_ERR_INVALID ? RS_OK : err;
}

/* ---- a page */

typedef enum rs_err (*row_fn)(struct prov_sync *sync, const struct prov_sink *sink,
                              const json_t *row, const char *id);

static const row_fn row_fns[] = {
    [PH_ENTITIES] = deliver_entity,    [PH_LOCATIONS] = deliver_location, [PH_TEAMS] = deliver_team,
    [PH_EMPLOYEES] = deliver_employee, [PH_CONTRACTS] = deliver_contract,
};

static const enum rs_model_kind row_kinds[] = {
    [PH_ENTITIES] = RS_MODEL_COMPANY,     [PH_LOCATIONS] = RS_MODEL_LOCATION,
    [PH_TEAMS] = RS_MODEL_TEAM,           [PH_EMPLOYEES] = RS_MODEL_EMPLOYEE,
    [PH_CONTRACTS] = RS_MODEL_EMPLOYMENT,
};

static enum rs_err deliver_rows(struct prov_sync *sync, const struct prov_sink *sink,
                                const json_t *rows, struct rs_errbuf *eb)
{
    enum phase phase = state_phase(sync);
    char id[ID_MAX];
    const json_t *row;
    enum rs_err err;
    size_t i;

    json_array_foreach(rows, i, row)
    {
        if (!json_is_object(row) || !id_text(json_object_get(row, "id"), id, sizeof(id))) {
            skip(sink, row_kinds[phase], "record", "without a usable id");
            continue;
        }
        err = row_fns[phase](sync, sink, row, id);
        if (err != RS_OK)
            return rs_errbuf_set(eb, err, "a Factorial record could not be delivered (%s)",
                                 rs_err_name(err));
    }
    return RS_OK;
}

/* The next phase, its paging reset; at the end, the account's Company if none was seen. */
static enum rs_err next_phase(struct prov_sync *sync, const struct prov_sink *sink)
{
    enum phase next = state_phase(sync) + 1;

    json_object_del(sync->state, "cursor");
    json_object_del(sync->state, "by_page");
    json_object_del(sync->state, "first_id");
    if (next == PH_DONE) {
        json_object_del(sync->state, "members");
        if (sync->full && !json_is_true(json_object_get(sync->state, "company")) &&
            default_company(sync, sink) != RS_OK)
            return RS_ERR_NOMEM;
    }
    if (state_set(sync, "page", json_integer(0)) != RS_OK ||
        state_set(sync, "phase", json_integer(next)) != RS_OK)
        return RS_ERR_NOMEM;
    return RS_OK;
}

/* meta.end_cursor as the SDK reads it; next_cursor spellings are taken too. */
static const char *cursor_of(const json_t *root, const json_t *meta)
{
    const char *keys[] = {"end_cursor", "next_cursor"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *c = json_object_get(meta, keys[i]);

        if (!c)
            c = json_object_get(root, keys[i]);
        if (json_is_string(c) && json_string_length(c) > 0 && !has_nul(c))
            return json_string_value(c);
    }
    return NULL;
}

/*
 * After a page: more by meta.has_next_page (without it, a full page with a cursor means more).
 * With a cursor the next request passes it as after_id; with none, by page number.
 */
static enum rs_err advance(struct prov_sync *sync, const struct prov_sink *sink, const json_t *root,
                           size_t rows, const char *first, struct rs_errbuf *eb)
{
    const json_t *meta = json_object_get(root, "meta");
    const json_t *has_next = json_object_get(meta, "has_next_page");
    const char *cursor = cursor_of(root, meta);
    json_int_t page = state_int(sync, "page") + 1;
    bool more =
        json_is_boolean(has_next) ? json_is_true(has_next) : cursor != NULL && rows >= PAGE_LIMIT;

    if (!more || rows == 0 || !json_is_object(root))
        return next_phase(sync, sink) == RS_OK
                   ? RS_OK
                   : rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory paging Factorial");
    if (page >= PAGES_MAX)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Factorial kept paging past page %d", PAGES_MAX);
    if (state_set(sync, "page", json_integer(page)) != RS_OK ||
        state_set(sync, "first_id", json_string(first)) != RS_OK ||
        (cursor ? state_set(sync, "cursor", json_string(cursor))
                : state_set(sync, "by_page", json_true())) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory paging Factorial");
    return RS_OK;
}

/* The id of the first row that has one, or "". */
static const char *first_id(const json_t *rows, char *out, size_t outlen)
{
    size_t i;
    const json_t *row;

    json_array_foreach(rows, i, row)
    {
        if (id_text(json_object_get(row, "id"), out, outlen))
            return out;
    }
    out[0] = '\0';
    return out;
}

static enum rs_err parse_page(struct prov_sync *sync, const json_t *root,
                              const struct prov_sink *sink, struct rs_errbuf *eb)
{
    const json_t *rows = json_is_array(root) ? root : json_object_get(root, "data");
    const char *previous = json_string_value(json_object_get(sync->state, "first_id"));
    char first[ID_MAX];
    enum rs_err err;

    if (!json_is_array(rows))
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Factorial answer lacks its data array");
    /* a server ignoring the cursor would be paged forever, and stopping early would make a
       full sync delete whoever was not reached: refuse */
    if (first_id(rows, first, sizeof(first))[0] && previous && strcmp(first, previous) == 0)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Factorial answered the same page twice");
    err = deliver_rows(sync, sink, rows, eb);
    return err == RS_OK ? advance(sync, sink, root, json_array_size(rows), first, eb) : err;
}

static enum rs_err factorial_parse_response(struct prov_sync *sync,
                                            const struct prov_response *resp,
                                            const struct prov_sink *sink, struct rs_errbuf *eb)
{
    json_error_t error;
    /* valid JSON may escape a NUL: one odd value must not fail the whole sync */
    json_t *root = json_loadb(resp->body ? resp->body : "", resp->body ? resp->len : 0,
                              JSON_ALLOW_NUL, &error);
    enum rs_err err;

    if (!root)
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Factorial answered malformed JSON (line %d)",
                            error.line);
    else if (state_phase(sync) == PH_DONE)
        err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "Factorial sync already done");
    else
        err = parse_page(sync, root, sink, eb);
    json_decref(root);
    return err;
}

/* ---- OAuth (the link flow's) */

static enum rs_err factorial_oauth_endpoint(const json_t *fields, const char *base_url,
                                            enum prov_oauth_endpoint which, char *out,
                                            size_t outlen, struct rs_errbuf *eb)
{
    static const char *const paths[] = {
        [PROV_OAUTH_AUTHORIZE] = "/oauth/authorize",
        [PROV_OAUTH_TOKEN] = "/oauth/token",
        [PROV_OAUTH_REVOKE] = "/oauth/revoke",
    };

    (void)fields;
    if ((unsigned)which >= sizeof(paths) / sizeof(paths[0]))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "no such OAuth endpoint");
    return prov_oauth_url(ORIGIN, paths[which], base_url, out, outlen, eb);
}

/* Scope values are not documented (the guide leaves `scope=` empty): UNCONFIRMED. */
static const struct prov_oauth oauth = {
    .fields = NULL,
    .nfields = 0,
    .scopes = "read",
    .client_auth_basic = false, /* the guide posts client_id and client_secret in the form */
    .endpoint = factorial_oauth_endpoint,
};

const struct prov_ops prov_factorial_ops = {
    .slug = "factorial",
    .name = "Factorial",
    .color = "#FF355E",
    .auth = PROV_AUTH_OAUTH2_CODE,
    .fields = NULL, /* OAuth only: the x-api-key variant is not offered (see the docs) */
    .nfields = 0,
    .caps = PROV_CAP_INCREMENTAL,
    .rate_per_s = 0, /* none published */
    .burst = 0,
    .rate_reset_header = NULL, /* 429s are documented by others only; Retry-After is honoured */
    .next_request = factorial_next_request,
    .parse_response = factorial_parse_response,
    .oauth = &oauth,
};
