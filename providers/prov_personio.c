/*
 * Personio v1 adapter: client credentials traded at POST /v1/auth for a 24 h bearer token (kept
 * in sync->token), then GET /v1/company/employees paged by limit/offset. Employees carry their
 * department, cost centers, team, office and subcompany. See docs/providers/personio.md.
 */
#include "providers/prov_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#define ORIGIN         "https://api.personio.de"
#define AUTH_PATH      "/v1/auth"
#define EMPLOYEES_PATH "/v1/company/employees"
#define PAGE_LIMIT     100 /* the documented maximum since 2025-01-31 */
#define PAGES_MAX      100000
#define US_PER_S       INT64_C(1000000)
#define TOKEN_TTL_US   (INT64_C(23) * 3600 * US_PER_S) /* documented 24 h, minus a margin */
#define SEEN_MAX       4096 /* derived ids remembered per sync; beyond, they are re-emitted */
/* weekly hours under which "internal" is PART_TIME (a German full-time week is 35-40 h) */
#define PART_TIME_BELOW 35.0
#define COMPANY_ID      "company"
#define ID_MAX          (RS_MODEL_REMOTE_ID_MAX + 1)

static const struct prov_field fields[] = {
    {"client_id", "Client ID",
     "In Personio: Settings > Integrations > API credentials > Generate new credential.",
     "^[^[:space:]]{6,200}$", false},
    {"client_secret", "Client secret", "Shown once next to the client ID when it is generated.",
     "^[^[:space:]]{6,200}$", true},
};

static const struct prov_enum genders[] = {
    {"male", "MALE"},
    {"female", "FEMALE"},
    {"diverse", "OTHER"},
    {"divers", "OTHER"},
    {"non-binary", "NON-BINARY"},
    {"nonbinary", "NON-BINARY"},
    {"other", "OTHER"},
    {NULL, NULL},
};

static const struct prov_enum statuses[] = {
    {"active", "ACTIVE"}, {"onboarding", "PENDING"}, {"leave", "ACTIVE"}, {"inactive", "INACTIVE"},
    {NULL, NULL},
};

/* internal becomes PART_TIME below PART_TIME_BELOW weekly hours (see build_employment) */
static const struct prov_enum employment_types[] = {
    {"internal", "FULL_TIME"},
    {"external", "CONTRACTOR"},
    {NULL, NULL},
};

/* Paths are into an employee's `attributes`; every attribute is {label, value, type, …}. */
static const struct prov_map employee_map[] = {
    {"id.value", "employee_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"first_name.value", "first_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"last_name.value", "last_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"preferred_name.value", "preferred_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"email.value", "work_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"gender.value", "gender", PROV_ENUM, genders, RS_MODEL_NONE},
    {"status.value", "employment_status", PROV_ENUM, statuses, RS_MODEL_NONE},
    {"supervisor.value.attributes.id.value", "manager", PROV_REF, NULL, RS_MODEL_EMPLOYEE},
    {"hire_date.value", "hire_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"hire_date.value", "start_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"termination_date.value", "termination_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"created_at.value", "remote_created_at", PROV_DATETIME, NULL, RS_MODEL_NONE},
};

static const struct prov_map employment_map[] = {
    {"position.value", "job_title", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"employment_type.value", "employment_type", PROV_ENUM, employment_types, RS_MODEL_NONE},
    {"hire_date.value", "effective_date", PROV_DATE, NULL, RS_MODEL_NONE},
};

/*
 * The organizational units embedded in an employee as {type, attributes{id, name}} values, and
 * what each becomes: its model, its remote id prefix, and the employee field that refers to it.
 */
struct unit_kind {
    const char *attr;
    enum rs_model_kind kind;
    const char *prefix;     /* of the remote id: "department:<id or name>" */
    const char *group_type; /* RS_MODEL_GROUP only */
    const char *field;      /* "groups" collects every group */
    bool many;              /* the value is an array of units */
};

static const struct unit_kind units[] = {
    {"department", RS_MODEL_GROUP, "department:", "DEPARTMENT", "groups", false},
    {"cost_centers", RS_MODEL_GROUP, "cost_center:", "COST_CENTER", "groups", true},
    {"team", RS_MODEL_TEAM, "", NULL, "team", false},
    {"office", RS_MODEL_LOCATION, "", NULL, "work_location", false},
    {"subcompany", RS_MODEL_COMPANY, "", NULL, "company", false},
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

/* ---- the state of one sync: {"offset", "page", "first_id", "seen", "company", "done"} */

static json_int_t state_int(const struct prov_sync *sync, const char *key)
{
    const json_t *value = json_object_get(sync->state, key);

    return json_is_integer(value) && json_integer_value(value) > 0 ? json_integer_value(value) : 0;
}

static enum rs_err state_set(struct prov_sync *sync, const char *key, json_t *value_owned)
{
    if (!value_owned)
        return RS_ERR_NOMEM;
    return json_object_set_new(sync->state, key, value_owned) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/*
 * True when (kind, remote_id) was already emitted in this sync; otherwise remembers it (up to
 * SEEN_MAX ids, so state stays bounded; past that, units are emitted again and the store keeps
 * the last version).
 */
static bool seen_before(struct prov_sync *sync, enum rs_model_kind kind, const char *remote_id)
{
    json_t *seen = json_object_get(sync->state, "seen");
    char key[ID_MAX + 16];

    if (!seen) {
        seen = json_object();
        if (json_object_set_new(sync->state, "seen", seen) != 0)
            return false;
    }
    snprintf(key, sizeof(key), "%d:%s", (int)kind, remote_id);
    if (json_object_get(seen, key))
        return true;
    if (json_object_size(seen) < SEEN_MAX)
        json_object_set_new(seen, key, json_true());
    return false;
}

/* ---- requests */

/* The cached token is usable: present, not flagged invalid by the engine (a 401), not expired. */
static bool token_usable(const struct prov_sync *sync)
{
    const json_t *access = json_object_get(sync->token, "access_token");
    const json_t *expires = json_object_get(sync->token, "expires_at_us");

    if (json_is_true(json_object_get(sync->token, "invalid")))
        return false;
    if (!json_is_string(access) || json_string_length(access) == 0 ||
        json_string_length(access) >= sizeof(((struct prov_request *)0)->secret))
        return false;
    return json_is_integer(expires) && json_integer_value(expires) > sync->now_us;
}

static const char *credential(const struct prov_sync *sync, const char *name)
{
    const char *value = json_string_value(json_object_get(sync->credentials, name));

    return value && value[0] ? value : NULL;
}

/* Appends s as a JSON string literal to out (*len of cap used); false when it does not fit. */
static bool json_literal(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = *len;

    if (n + 1 >= cap)
        return false;
    out[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int w;

        if (c == '"' || c == '\\')
            w = snprintf(out + n, cap - n, "\\%c", c);
        else if (c < 0x20)
            w = snprintf(out + n, cap - n, "\\u%04x", c);
        else
            w = snprintf(out + n, cap - n, "%c", c);
        if (w < 0 || (size_t)w >= cap - n)
            return false;
        n += (size_t)w;
    }
    if (n + 1 >= cap)
        return false;
    out[n++] = '"';
    *len = n;
    return true;
}

/* The JSON body {"client_id": …, "client_secret": …}, built in wiped memory only. */
static enum rs_err auth_body(const char *id, const char *secret, struct prov_request *req)
{
    char body[2048];
    size_t len = 0;
    enum rs_err err = RS_ERR_INVALID;

    memcpy(body, "{\"client_id\":", 13);
    len = 13;
    if (!json_literal(body, sizeof(body), &len, id) || len + 18 >= sizeof(body))
        goto out;
    memcpy(body + len, ",\"client_secret\":", 17);
    len += 17;
    if (!json_literal(body, sizeof(body), &len, secret) || len + 1 >= sizeof(body))
        goto out;
    body[len++] = '}';
    err = RS_ERR_NOMEM;
    req->body = malloc(len);
    if (!req->body)
        goto out;
    memcpy(req->body, body, len);
    req->body_len = len;
    err = RS_OK;
out:
    sodium_memzero(body, sizeof(body));
    return err;
}

static enum rs_err auth_request(const struct prov_sync *sync, struct prov_request *req,
                                struct rs_errbuf *eb)
{
    const char *id = credential(sync, "client_id");
    const char *secret = credential(sync, "client_secret");
    enum rs_err err;

    if (!id || !secret)
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "Personio needs credentials client_id and client_secret");
    if (prov_request_url(sync, ORIGIN, AUTH_PATH, req->url, sizeof(req->url)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "Personio request URL is too long");
    err = auth_body(id, secret, req);
    if (err == RS_ERR_INVALID)
        return rs_errbuf_set(eb, err, "Personio credentials are too long");
    if (err != RS_OK)
        return rs_errbuf_set(eb, err, "out of memory building a Personio request");
    snprintf(req->method, sizeof(req->method), "POST");
    snprintf(req->content_type, sizeof(req->content_type), "application/json");
    req->auth = PROV_REQ_AUTH_NONE;
    req->page = -1;
    return RS_OK;
}

/*
 * "&updated_since=…" for an incremental sync, in the documented form (2022-12-24T08:15:30, no
 * zone). The instant is UTC floored to the second: if Personio reads it as Berlin time it only
 * reaches further back, so nothing is missed either way.
 */
static enum rs_err since_param(const struct prov_sync *sync, char *out, size_t outlen)
{
    char iso[RS_TIME_ISO_LEN], escaped[3 * RS_TIME_ISO_LEN];
    int64_t second = sync->since_us - sync->since_us % US_PER_S;
    int n;

    out[0] = '\0';
    if (sync->full || sync->since_us <= 0)
        return RS_OK;
    rs_time_format(second, iso);
    iso[strcspn(iso, "Z")] = '\0';
    if (prov_request_escape(iso, escaped, sizeof(escaped)) != RS_OK)
        return RS_ERR_INVALID;
    n = snprintf(out, outlen, "&updated_since=%s", escaped);
    return n < 0 || (size_t)n >= outlen ? RS_ERR_INVALID : RS_OK;
}

static enum rs_err employees_request(const struct prov_sync *sync, struct prov_request *req,
                                     struct rs_errbuf *eb)
{
    const char *token = json_string_value(json_object_get(sync->token, "access_token"));
    char path[256], since[96];
    int n;

    if (since_param(sync, since, sizeof(since)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "Personio incremental time out of range");
    n = snprintf(path, sizeof(path), EMPLOYEES_PATH "?limit=%d&offset=%lld%s", PAGE_LIMIT,
                 (long long)state_int(sync, "offset"), since);
    if (n < 0 || (size_t)n >= sizeof(path) ||
        prov_request_url(sync, ORIGIN, path, req->url, sizeof(req->url)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "Personio request URL is too long");
    snprintf(req->method, sizeof(req->method), "GET");
    req->auth = PROV_REQ_AUTH_BEARER;
    snprintf(req->secret, sizeof(req->secret), "%s", token);
    req->page = (int)state_int(sync, "page");
    return RS_OK;
}

static enum rs_err personio_next_request(const struct prov_sync *sync, struct prov_request *req,
                                         bool *done, struct rs_errbuf *eb)
{
    enum rs_err err;

    memset(req, 0, sizeof(*req));
    *done = json_is_true(json_object_get(sync->state, "done"));
    if (*done)
        return RS_OK;
    err = token_usable(sync) ? employees_request(sync, req, eb) : auth_request(sync, req, eb);
    if (err != RS_OK)
        prov_request_cleanup(req);
    return err;
}

/* ---- the answer to POST /v1/auth */

static enum rs_err parse_auth(struct prov_sync *sync, const json_t *data, struct rs_errbuf *eb)
{
    const json_t *token = json_object_get(data, "token");
    json_t *fresh;

    if (!prov_request_token_fits(token))
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Personio /v1/auth answered without a token");
    fresh = json_pack("{s:O, s:I}", "access_token", token, "expires_at_us",
                      (json_int_t)(sync->now_us + TOKEN_TTL_US));
    if (!fresh)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory keeping the Personio token");
    /* update in place when the engine handed us an object: it may hold that pointer */
    if (json_is_object(sync->token)) {
        json_object_clear(sync->token);
        if (json_object_update(sync->token, fresh) != 0) {
            json_decref(fresh);
            return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory keeping the Personio token");
        }
        json_decref(fresh);
    } else {
        json_decref(sync->token);
        sync->token = fresh;
    }
    return RS_OK;
}

/* ---- one employee */

/* A string with an escaped NUL inside: as an id it would be cut short and could collide. */
static bool has_nul(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) != json_string_length(value);
}

/* The employee's id as text (an integer in Personio's example), or NULL. */
static const char *employee_id(const json_t *row, char *out, size_t outlen)
{
    const json_t *value = prov_json_path(row, "attributes.id.value");
    const char *text;

    if (has_nul(value) || (json_is_string(value) && json_string_length(value) >= outlen))
        return NULL;
    text = prov_json_text(value, out, outlen);
    return text && text[0] ? text : NULL;
}

/*
 * The remote id of one unit value ({type, attributes{id, name}}): prefix + id, or prefix +
 * name when it has no id; *name receives the name (or NULL). RS_ERR_NOTFOUND when the value
 * names no unit (null, neither id nor name), RS_ERR_INVALID for a wrong shape or an id that
 * does not fit.
 */
static enum rs_err unit_id(const json_t *value, const char *prefix, char *out, size_t outlen,
                           const json_t **name)
{
    const json_t *attrs = json_object_get(value, "attributes");
    const json_t *id = json_object_get(attrs, "id");
    const char *key = NULL;
    char text[ID_MAX];
    int n;

    *name = json_object_get(attrs, "name");
    if (!value || json_is_null(value))
        return RS_ERR_NOTFOUND;
    if (!json_is_object(value) || (attrs && !json_is_object(attrs) && !json_is_null(attrs)))
        return RS_ERR_INVALID;
    if ((*name && !json_is_string(*name) && !json_is_null(*name)) || has_nul(id))
        return RS_ERR_INVALID;
    if (id && !json_is_null(id)) {
        if (json_is_string(id) && json_string_length(id) >= sizeof(text))
            return RS_ERR_INVALID;
        if (!(key = prov_json_text(id, text, sizeof(text))))
            return RS_ERR_INVALID;
    }
    if ((!key || !key[0]) && has_nul(*name))
        return RS_ERR_INVALID;
    if (!key || !key[0])
        key = json_string_value(*name);
    if (!key || !key[0])
        return RS_ERR_NOTFOUND;
    n = snprintf(out, outlen, "%s%s", prefix, key);
    return n < 0 || (size_t)n >= outlen ? RS_ERR_INVALID : RS_OK;
}

typedef enum rs_err (*unit_visit_fn)(void *arg, const struct unit_kind *u, const char *remote_id,
                                     const json_t *name, const json_t *value);

/*
 * Calls visit for every unit the employee names (department, each cost center, team, office,
 * subcompany). RS_ERR_INVALID with the attribute in *bad when one has the wrong shape; else
 * visit's first error.
 */
static enum rs_err each_unit(const json_t *attrs, unit_visit_fn visit, void *arg, const char **bad)
{
    for (size_t k = 0; k < NUNITS; k++) {
        const struct unit_kind *u = &units[k];
        const json_t *value = prov_json_path(attrs, u->attr);
        size_t n;

        value = json_object_get(value, "value");
        *bad = u->attr;
        if (u->many && value && !json_is_null(value) && !json_is_array(value))
            return RS_ERR_INVALID;
        n = u->many ? json_array_size(value) : 1;
        for (size_t i = 0; i < n; i++) {
            const json_t *unit = u->many ? json_array_get(value, i) : value;
            const json_t *name;
            char id[ID_MAX];
            enum rs_err err = unit_id(unit, u->prefix, id, sizeof(id), &name);

            if (err == RS_OK)
                err = visit(arg, u, id, name, unit);
            if (err != RS_OK && err != RS_ERR_NOTFOUND)
                return err;
        }
    }
    *bad = NULL;
    return RS_OK;
}

/* What one employee's mapping is building. */
struct employee_build {
    struct prov_sync *sync;
    const struct prov_sink *sink;
    json_t *employee; /* fields */
    json_t *groups;   /* the employee's "groups" array (borrowed from employee) */
    bool has_company; /* a subcompany was named */
};

/* Adds ref to the array refs unless it is already there. */
static enum rs_err refs_add(json_t *refs, json_t *ref_owned)
{
    size_t i;
    json_t *have;

    if (!ref_owned)
        return RS_ERR_NOMEM;
    json_array_foreach(refs, i, have)
    {
        if (json_equal(have, ref_owned)) {
            json_decref(ref_owned);
            return RS_OK;
        }
    }
    return json_array_append_new(refs, ref_owned) == 0 ? RS_OK : RS_ERR_NOMEM;
}

static enum rs_err link_unit(void *arg, const struct unit_kind *u, const char *remote_id,
                             const json_t *name, const json_t *value)
{
    struct employee_build *b = arg;
    json_t *ref = prov_ref(&b->sync->account, u->kind, remote_id);

    (void)name;
    (void)value;
    if (u->kind == RS_MODEL_COMPANY)
        b->has_company = true;
    if (u->kind == RS_MODEL_GROUP)
        return refs_add(b->groups, ref);
    return json_object_set_new(b->employee, u->field, ref) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* The fields of a derived unit record (a new object), or NULL on allocation failure. */
static json_t *unit_fields(const struct unit_kind *u, const json_t *name)
{
    const char *text = json_string_value(name);
    json_t *value = text && text[0] ? json_string(text) : json_null();

    switch (u->kind) {
    case RS_MODEL_GROUP:
        return json_pack("{s:o, s:s, s:b, s:n}", "name", value, "type", u->group_type,
                         "is_commonly_used_as_team", 0, "parent_group");
    case RS_MODEL_TEAM:
        return json_pack("{s:o, s:n}", "name", value, "parent_team");
    case RS_MODEL_LOCATION:
        return json_pack("{s:o, s:s}", "name", value, "location_type", "WORK");
    case RS_MODEL_COMPANY:
        return json_pack("{s:O, s:o, s:n}", "legal_name", value, "display_name", value, "eins");
    default:
        json_decref(value);
        return NULL;
    }
}

static enum rs_err emit_unit(void *arg, const struct unit_kind *u, const char *remote_id,
                             const json_t *name, const json_t *value)
{
    struct employee_build *b = arg;
    json_t *unit;
    enum rs_err err;

    if (u->kind == RS_MODEL_COMPANY && state_set(b->sync, "company", json_true()) != RS_OK)
        return RS_ERR_NOMEM;
    if (seen_before(b->sync, u->kind, remote_id))
        return RS_OK;
    unit = unit_fields(u, name);
    if (!unit)
        return RS_ERR_NOMEM;
    err = prov_deliver(b->sink, u->kind, remote_id, unit, EMPLOYEES_PATH, value);
    json_decref(unit);
    return err;
}

/* The account's one Company when Personio names no subcompany: remote id "company". */
static enum rs_err emit_default_company(struct prov_sync *sync, const struct prov_sink *sink)
{
    json_t *company;
    enum rs_err err;

    if (state_set(sync, "company", json_true()) != RS_OK)
        return RS_ERR_NOMEM;
    if (seen_before(sync, RS_MODEL_COMPANY, COMPANY_ID))
        return RS_OK;
    company = json_pack("{s:n, s:n, s:n}", "legal_name", "display_name", "eins");
    if (!company)
        return RS_ERR_NOMEM;
    err = prov_deliver(sink, RS_MODEL_COMPANY, COMPANY_ID, company, NULL, NULL);
    json_decref(company);
    return err;
}

/*
 * preferred_name and display_full_name. Personio's example holds a full name in
 * preferred_name ("Alexander Bergmann"); Merge's field is a preferred first name, so a
 * preferred name that ends with " <last_name>" keeps only what precedes it.
 */
static enum rs_err set_names(json_t *employee)
{
    const char *last = json_string_value(json_object_get(employee, "last_name"));
    const char *preferred = json_string_value(json_object_get(employee, "preferred_name"));
    size_t plen = preferred ? strlen(preferred) : 0, llen = last ? strlen(last) : 0;
    size_t keep = plen > llen + 1 ? plen - llen - 1 : 0;

    if (keep > 0 && preferred[keep] == ' ' && strcmp(preferred + keep + 1, last) == 0) {
        while (keep > 0 && preferred[keep - 1] == ' ')
            keep--;
        if (keep > 0 &&
            json_object_set_new(employee, "preferred_name", json_stringn(preferred, keep)) != 0)
            return RS_ERR_NOMEM;
    }
    return json_object_set_new(employee, "display_full_name", prov_display_name(employee)) == 0
               ? RS_OK
               : RS_ERR_NOMEM;
}

/* Weekly working hours ("40", "37,5" or a number), or -1 when unknown. */
static double weekly_hours(const json_t *attrs)
{
    const json_t *value = prov_json_path(attrs, "weekly_working_hours.value");
    char text[32], *end, *comma;
    double hours;

    if (json_is_number(value))
        return json_number_value(value);
    if (!json_is_string(value) || json_string_length(value) >= sizeof(text))
        return -1;
    snprintf(text, sizeof(text), "%s", json_string_value(value));
    comma = strchr(text, ',');
    if (comma)
        *comma = '.';
    hours = strtod(text, &end);
    return end != text && *end == '\0' ? hours : -1;
}

static enum rs_err build_employment(const struct prov_sync *sync, const json_t *attrs,
                                    const char *id, json_t *employment, const char **bad)
{
    const char *type;
    double hours = weekly_hours(attrs);
    enum rs_err err;

    err = prov_map_apply(employment_map, sizeof(employment_map) / sizeof(employment_map[0]), attrs,
                         &sync->account, employment, bad);
    if (err != RS_OK)
        return err;
    type = json_string_value(json_object_get(employment, "employment_type"));
    if (type && strcmp(type, "FULL_TIME") == 0 && hours > 0 && hours < PART_TIME_BELOW &&
        json_object_set_new(employment, "employment_type", json_string("PART_TIME")) != 0)
        return RS_ERR_NOMEM;
    if (json_object_set_new(employment, "employee",
                            prov_ref(&sync->account, RS_MODEL_EMPLOYEE, id)) != 0)
        return RS_ERR_NOMEM;
    return RS_OK;
}

static enum rs_err build_employee(struct employee_build *b, const json_t *attrs, const char *id,
                                  const char **bad)
{
    json_t *employee = b->employee;
    const struct rs_uuid *account = &b->sync->account;
    json_t *employments = json_array();
    json_t *company = prov_ref(account, RS_MODEL_COMPANY, COMPANY_ID); /* unless a subcompany */
    enum rs_err err;

    if (!company || json_object_set_new(employee, "company", company) != 0)
        return RS_ERR_NOMEM;
    if (!employments || json_object_set_new(employee, "employments", employments) != 0 ||
        json_array_append_new(employments, prov_ref(account, RS_MODEL_EMPLOYMENT, id)) != 0)
        return RS_ERR_NOMEM;
    b->groups = json_array();
    if (!b->groups || json_object_set_new(employee, "groups", b->groups) != 0)
        return RS_ERR_NOMEM;
    err = prov_map_apply(employee_map, sizeof(employee_map) / sizeof(employee_map[0]), attrs,
                         account, employee, bad);
    if (err == RS_OK)
        err = set_names(employee);
    if (err == RS_OK)
        err = each_unit(attrs, link_unit, b, bad);
    return err;
}

static void skip(const struct prov_sink *sink, const char *why, const char *field)
{
    char text[160];

    snprintf(text, sizeof(text), "Personio employee %s%.64s", why, field ? field : "");
    sink->skipped(sink->arg, RS_MODEL_EMPLOYEE, text);
}

/*
 * Maps one element of data[] and delivers the employee, its employment and the units it names
 * (those not yet delivered in this sync). An unmappable employee is skipped (RS_OK); errors
 * are allocation failures and the sink's.
 */
static enum rs_err map_employee(struct prov_sync *sync, const json_t *row,
                                const struct prov_sink *sink)
{
    struct employee_build b = {.sync = sync, .sink = sink, .employee = json_object()};
    json_t *employment = json_object();
    const json_t *attrs = json_object_get(row, "attributes");
    const char *bad = NULL;
    char id[ID_MAX];
    enum rs_err err = RS_ERR_NOMEM;

    if (!b.employee || !employment)
        goto out;
    err = RS_OK;
    if (!json_is_object(attrs) || !employee_id(row, id, sizeof(id))) {
        skip(sink, "without attributes or a usable id", NULL);
        goto out;
    }
    err = build_employee(&b, attrs, id, &bad);
    if (err == RS_OK)
        err = build_employment(sync, attrs, id, employment, &bad);
    if (err == RS_ERR_INVALID) {
        skip(sink, "with a malformed ", bad);
        err = RS_OK;
        goto out;
    }
    if (err == RS_OK)
        err = each_unit(attrs, emit_unit, &b, &bad);
    if (err == RS_OK && !b.has_company)
        err = emit_default_company(sync, sink);
    if (err == RS_OK)
        err = prov_deliver(sink, RS_MODEL_EMPLOYEE, id, b.employee, EMPLOYEES_PATH, row);
    if (err == RS_OK)
        err = prov_deliver(sink, RS_MODEL_EMPLOYMENT, id, employment, NULL, NULL);
out:
    json_decref(employment);
    json_decref(b.employee);
    return err;
}

/* ---- a page of GET /v1/company/employees */

/* The end of the sync: every account has a Company, so a full sync delivers one at least. */
static enum rs_err finish(struct prov_sync *sync, const struct prov_sink *sink,
                          struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;

    if (sync->full && !json_is_true(json_object_get(sync->state, "company")))
        err = emit_default_company(sync, sink);
    if (err == RS_OK)
        err = state_set(sync, "done", json_true());
    return err == RS_OK ? RS_OK : rs_errbuf_set(eb, err, "Personio sync could not finish");
}

/* The id of the first row that has one, or "". */
static const char *first_id(const json_t *rows, char *out, size_t outlen)
{
    size_t i;
    const json_t *row;

    json_array_foreach(rows, i, row)
    {
        if (employee_id(row, out, outlen))
            return out;
    }
    out[0] = '\0';
    return out;
}

/*
 * Moves the offset past this page, or finishes: on a short page, or once total_elements is
 * reached. A page longer than asked (updated_since is documented to ignore limit and offset)
 * does not finish by itself: the next request either continues or repeats this page, which
 * parse_page recognizes.
 */
static enum rs_err advance(struct prov_sync *sync, const json_t *root, size_t rows,
                           const char *first, const struct prov_sink *sink, struct rs_errbuf *eb)
{
    const json_t *limit = json_object_get(root, "limit");
    const json_t *total = prov_json_path(root, "metadata.total_elements");
    json_int_t offset = state_int(sync, "offset") + (json_int_t)rows;
    json_int_t page = state_int(sync, "page") + 1;
    json_int_t size = PAGE_LIMIT;

    /* a server that clamps limit lower says so: a page of its size is not short */
    if (json_is_integer(limit) && json_integer_value(limit) > 0 && json_integer_value(limit) < size)
        size = json_integer_value(limit);
    if ((json_int_t)rows < size || (json_is_integer(total) && offset >= json_integer_value(total)))
        return finish(sync, sink, eb);
    if (page >= PAGES_MAX)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Personio kept paging past page %d", PAGES_MAX);
    if (state_set(sync, "offset", json_integer(offset)) != RS_OK ||
        state_set(sync, "page", json_integer(page)) != RS_OK ||
        state_set(sync, "first_id", json_string(first)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory paging Personio");
    return RS_OK;
}

static enum rs_err parse_page(struct prov_sync *sync, const json_t *root, const json_t *rows,
                              const struct prov_sink *sink, struct rs_errbuf *eb)
{
    const char *previous = json_string_value(json_object_get(sync->state, "first_id"));
    char first[ID_MAX];
    const json_t *row;
    size_t i;
    enum rs_err err;

    /* offset ignored (as documented under updated_since): the rows were delivered already */
    if (first_id(rows, first, sizeof(first))[0] && previous && strcmp(first, previous) == 0)
        return finish(sync, sink, eb);
    json_array_foreach(rows, i, row)
    {
        err = map_employee(sync, row, sink);
        if (err != RS_OK)
            return rs_errbuf_set(eb, err, "a Personio employee could not be delivered (%s)",
                                 rs_err_name(err));
    }
    return advance(sync, root, json_array_size(rows), first, sink, eb);
}

/* A token was there to send, so the request was for employees (even if it expired since). */
static bool token_present(const struct prov_sync *sync)
{
    return json_string_length(json_object_get(sync->token, "access_token")) > 0 &&
           !json_is_true(json_object_get(sync->token, "invalid"));
}

static enum rs_err personio_parse_response(struct prov_sync *sync, const struct prov_response *resp,
                                           const struct prov_sink *sink, struct rs_errbuf *eb)
{
    json_error_t error;
    /* valid JSON may escape a NUL: one odd value must not fail the whole sync */
    json_t *root = json_loadb(resp->body ? resp->body : "", resp->body ? resp->len : 0,
                              JSON_ALLOW_NUL, &error);
    const json_t *success = json_object_get(root, "success");
    const json_t *data = json_object_get(root, "data");
    enum rs_err err;

    if (!json_is_object(root))
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Personio answered with no JSON object");
    else if (success && !json_is_true(success))
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Personio answered success: false");
    else if (json_is_object(data))
        err = parse_auth(sync, data, eb);
    else if (json_is_array(data) && token_present(sync))
        err = parse_page(sync, root, data, sink, eb);
    else
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "Personio answer lacks its data");
    json_decref(root);
    return err;
}

const struct prov_ops prov_personio_ops = {
    .slug = "personio",
    .name = "Personio",
    .color = "#1B1B1B",
    .auth = PROV_AUTH_OAUTH2_CLIENT,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .caps = PROV_CAP_INCREMENTAL,
    .rate_per_s = 5,           /* GET employees: 300/min */
    .burst = 15,               /* "bursts of 15 req/s" */
    .rate_reset_header = NULL, /* 429 headers are not documented; Retry-After is honoured */
    .next_request = personio_next_request,
    .parse_response = personio_parse_response,
};
