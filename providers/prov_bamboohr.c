/*
 * BambooHR adapter (API key over HTTP Basic, or an OAuth access token as a bearer): the
 * department, division and location lists of /api/v1/meta/lists become Groups and Locations,
 * pages of the v2 employee dataset become Employees and Employments. See
 * docs/providers/bamboohr.md.
 */
#include "providers/prov_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LISTS_PATH   "/api/v1/meta/lists"
#define DATASET_PATH "/api/v2/datasets/employee/data"
#define PAGE_SIZE    1000   /* the dataset's documented maximum */
#define PAGES_MAX    100000 /* 100M employees: a provider that never stops paging is broken */
#define COMPANY_ID   "company"

/*
 * Dataset fields, requested and read back under the same names. The v2 dataset documents its
 * own qualified vocabulary (jobInformationJobTitle, jobInformationDepartment, employmentStatus…)
 * beside the employee endpoints' short names; see docs/providers/bamboohr.md.
 */
#define DS_ID          "id"
#define DS_NUMBER      "employeeNumber"
#define DS_FIRST       "firstName"
#define DS_LAST        "lastName"
#define DS_PREFERRED   "preferredName"
#define DS_DISPLAY     "displayName"
#define DS_WORK_EMAIL  "workEmail"
#define DS_HOME_EMAIL  "homeEmail"
#define DS_MOBILE      "mobilePhone"
#define DS_STATUS      "status"
#define DS_HIRE        "hireDate"
#define DS_TERMINATION "terminationDate"
#define DS_SUPERVISOR  "supervisorEId"
#define DS_DEPARTMENT  "jobInformationDepartment"
#define DS_DIVISION    "jobInformationDivision"
#define DS_LOCATION    "jobInformationLocation"
#define DS_TITLE       "jobInformationJobTitle"
#define DS_EMP_STATUS  "employmentStatus"
#define DS_CHANGED     "lastChanged"

static const char *const dataset_fields[] = {
    DS_ID,         DS_NUMBER,     DS_FIRST,    DS_LAST,     DS_PREFERRED, DS_DISPLAY,
    DS_WORK_EMAIL, DS_HOME_EMAIL, DS_MOBILE,   DS_STATUS,   DS_HIRE,      DS_TERMINATION,
    DS_SUPERVISOR, DS_DEPARTMENT, DS_DIVISION, DS_LOCATION, DS_TITLE,     DS_EMP_STATUS,
};

static const struct prov_field fields[] = {
    {"subdomain", "Company subdomain",
     "The part before .bamboohr.com in the address you use to sign in.",
     "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", false},
    {"api_key", "API key", "In BambooHR: your name (top right) > API Keys > Add New Key.",
     "^[^[:space:]]{6,200}$", true},
};

/* employmentStatus is customizable per account; these are BambooHR's defaults and near kin. */
static const struct prov_enum employment_types[] = {
    {"Full-Time", "FULL_TIME"},
    {"Full Time", "FULL_TIME"},
    {"Part-Time", "PART_TIME"},
    {"Part Time", "PART_TIME"},
    {"Contractor", "CONTRACTOR"},
    {"Contract", "CONTRACTOR"},
    {"Intern", "INTERN"},
    {"Internship", "INTERN"},
    {"Freelance", "FREELANCE"},
    {"Freelancer", "FREELANCE"},
    {"Terminated", NULL}, /* a leaver's type is not shown */
    {NULL, NULL},
};

static const struct prov_map employee_map[] = {
    {DS_NUMBER, "employee_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_FIRST, "first_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_LAST, "last_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_PREFERRED, "preferred_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_DISPLAY, "display_full_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_WORK_EMAIL, "work_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_HOME_EMAIL, "personal_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_MOBILE, "mobile_phone_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_HIRE, "hire_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {DS_HIRE, "start_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {DS_TERMINATION, "termination_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {DS_SUPERVISOR, "manager", PROV_REF, NULL, RS_MODEL_EMPLOYEE},
};

static const struct prov_map employment_map[] = {
    {DS_TITLE, "job_title", PROV_TEXT, NULL, RS_MODEL_NONE},
    {DS_EMP_STATUS, "employment_type", PROV_ENUM, employment_types, RS_MODEL_NONE},
};

/* A list field of /api/v1/meta/lists and where its options go. */
struct unit_list {
    const char *alias; /* the list's alias in meta/lists, and its key in state.options */
    const char *field; /* the dataset field holding an employee's option (by name) */
    enum rs_model_kind kind;
    const char *group_type; /* Merge Group type; NULL for a Location */
};

enum { UNIT_DEPARTMENT, UNIT_DIVISION, UNIT_LOCATION, UNIT_COUNT };

static const struct unit_list unit_lists[UNIT_COUNT] = {
    {"department", DS_DEPARTMENT, RS_MODEL_GROUP, "DEPARTMENT"},
    {"division", DS_DIVISION, RS_MODEL_GROUP, "BUSINESS_UNIT"},
    {"location", DS_LOCATION, RS_MODEL_LOCATION, NULL},
};

/*
 * sync->state: {"phase": "employees"|"done" (absent: the lists come first), "page": n (the
 * dataset page to fetch next), "options": {alias: {option name: remote id}}, "derived":
 * {"<alias>:<name>": true} for units made from a name no list option carries}.
 */
static const char *state_phase(const struct prov_sync *sync)
{
    const json_t *phase = json_object_get(sync->state, "phase");

    return json_is_string(phase) ? json_string_value(phase) : "lists";
}

static long state_page(const struct prov_sync *sync)
{
    const json_t *page = json_object_get(sync->state, "page");

    return json_is_integer(page) && json_integer_value(page) > 0 ? (long)json_integer_value(page)
                                                                 : 1;
}

static enum rs_err state_set(struct prov_sync *sync, const char *key, json_t *value_owned)
{
    return json_object_set_new(sync->state, key, value_owned) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* ---- requests */

static const char *credential(const struct prov_sync *sync, const char *name)
{
    const json_t *value = json_object_get(sync->credentials, name);

    return json_is_string(value) && json_string_length(value) > 0 ? json_string_value(value) : NULL;
}

/* "https://<subdomain>.bamboohr.com"; RS_ERR_INVALID when the subdomain is not a host label. */
static enum rs_err company_origin(const char *subdomain, char *out, size_t outlen,
                                  struct rs_errbuf *eb)
{
    static const char host_chars[] = "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    int n;

    if (!subdomain)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "BambooHR needs credential subdomain");
    /* it becomes a host name: nothing may escape into the path or another host */
    if (subdomain[strspn(subdomain, host_chars)] != '\0')
        return rs_errbuf_set(eb, RS_ERR_INVALID, "BambooHR credentials are malformed");
    n = snprintf(out, outlen, "https://%s.bamboohr.com", subdomain);
    if (n < 0 || (size_t)n >= outlen)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "BambooHR subdomain is too long");
    return RS_OK;
}

/*
 * The URL, method and auth of a request: Basic with the API key as user name and "x" as
 * password, or, for a connection made by OAuth (no api_key), the access token as a bearer.
 */
static enum rs_err request_start(const struct prov_sync *sync, struct prov_request *req,
                                 const char *method, const char *path, struct rs_errbuf *eb)
{
    const char *key = credential(sync, "api_key");
    char origin[128];
    enum rs_err err = company_origin(credential(sync, "subdomain"), origin, sizeof(origin), eb);

    if (err != RS_OK)
        return err;
    if (key && strlen(key) >= sizeof(req->user))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "BambooHR credentials are malformed");
    if (prov_request_url(sync, origin, path, req->url, sizeof(req->url)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "BambooHR request URL is too long");
    snprintf(req->method, sizeof(req->method), "%s", method);
    req->content_type[0] = '\0';
    req->body = NULL;
    req->body_len = 0;
    if (!key)
        return prov_oauth_bearer(sync, "BambooHR", req, eb);
    req->auth = PROV_REQ_AUTH_BASIC;
    snprintf(req->user, sizeof(req->user), "%s", key);
    snprintf(req->secret, sizeof(req->secret), "x");
    return RS_OK;
}

/*
 * "lastChanged gt '<since>'" for an incremental sync. BambooHR shows lastChanged to the second,
 * so a change in since's own second shows as that second, which gt excludes: step back one.
 */
static enum rs_err incremental_filter(const struct prov_sync *sync, json_t *body)
{
    char iso[RS_TIME_ISO_LEN], filter[80];
    int64_t second = sync->since_us / 1000000 - 1;

    snprintf(filter, sizeof(filter), DS_CHANGED " gt '%s'", rs_time_format(second * 1000000, iso));
    return json_object_set_new(body, "filter", json_string(filter)) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* The JSON body of a dataset page: every employee (no status filter), in id order. */
static enum rs_err dataset_body(const struct prov_sync *sync, long page, char **out, size_t *len)
{
    enum rs_err err = RS_ERR_NOMEM;
    json_t *body = json_object(), *names = json_array();

    if (!body || !names)
        goto out;
    for (size_t i = 0; i < sizeof(dataset_fields) / sizeof(dataset_fields[0]); i++) {
        if (json_array_append_new(names, json_string(dataset_fields[i])) != 0)
            goto out;
    }
    if (json_object_set(body, "fields", names) != 0 ||
        json_object_set_new(body, "page", json_integer(page)) != 0 ||
        json_object_set_new(body, "pageSize", json_integer(PAGE_SIZE)) != 0 ||
        /* a stable order keeps page n+1 from repeating or skipping rows of page n */
        json_object_set_new(body, "orderBy", json_string(DS_ID " asc")) != 0)
        goto out;
    if (!sync->full && sync->since_us > 0 && incremental_filter(sync, body) != RS_OK)
        goto out;
    *out = json_dumps(body, JSON_COMPACT);
    if (!*out)
        goto out;
    *len = strlen(*out);
    err = RS_OK;
out:
    json_decref(names);
    json_decref(body);
    return err;
}

static enum rs_err bamboohr_next_request(const struct prov_sync *sync, struct prov_request *req,
                                         bool *done, struct rs_errbuf *eb)
{
    const char *phase = state_phase(sync);
    enum rs_err err;

    *done = false;
    if (strcmp(phase, "done") == 0) {
        *done = true;
        return RS_OK;
    }
    if (strcmp(phase, "employees") != 0) {
        err = request_start(sync, req, "GET", LISTS_PATH, eb);
        req->page = -1;
        return err;
    }
    err = request_start(sync, req, "POST", DATASET_PATH, eb);
    if (err != RS_OK)
        return err;
    req->page = (int)(state_page(sync) - 1);
    snprintf(req->content_type, sizeof(req->content_type), "application/json");
    if (dataset_body(sync, state_page(sync), &req->body, &req->body_len) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory building a BambooHR request");
    return RS_OK;
}

/* ---- delivering records */

/* A scalar as non-empty text into buf, or NULL. */
static const char *text_of(const json_t *value, char *buf, size_t len)
{
    const char *text = prov_json_text(value, buf, len);

    return text && text[0] ? text : NULL;
}

/* A non-empty string as is (never copied into a buffer that could cut a UTF-8 sequence). */
static const char *name_of(const json_t *value)
{
    return json_is_string(value) && json_string_length(value) > 0 ? json_string_value(value) : NULL;
}

/* One department, division or location; option is its meta/lists entry (or NULL). */
static enum rs_err deliver_unit(const struct unit_list *unit, const struct prov_sink *sink,
                                const char *remote_id, const char *name, const json_t *option)
{
    enum rs_err err;
    json_t *record;

    if (unit->group_type)
        record = json_pack("{s:s, s:s, s:n, s:b}", "name", name, "type", unit->group_type,
                           "parent_group", "is_commonly_used_as_team", 0);
    else
        record = json_pack("{s:s, s:s}", "name", name, "location_type", "WORK");
    if (!record)
        return RS_ERR_NOMEM;
    err = prov_deliver(sink, unit->kind, remote_id, record, LISTS_PATH, option);
    json_decref(record);
    return err;
}

static enum rs_err deliver_company(const struct prov_sync *sync, const struct prov_sink *sink)
{
    const char *subdomain = credential(sync, "subdomain");
    json_t *record = json_pack("{s:s?, s:n, s:n}", "display_name", subdomain, "legal_name", "eins");
    enum rs_err err;

    if (!record)
        return RS_ERR_NOMEM;
    err = prov_deliver(sink, RS_MODEL_COMPANY, COMPANY_ID, record, NULL, NULL);
    json_decref(record);
    return err;
}

/* ---- /api/v1/meta/lists */

static const json_t *find_list(const json_t *lists, const char *alias)
{
    size_t i;
    const json_t *list;

    json_array_foreach(lists, i, list)
    {
        const json_t *a = json_object_get(list, "alias");

        if (json_is_string(a) && strcmp(json_string_value(a), alias) == 0)
            return list;
    }
    return NULL;
}

static bool option_archived(const json_t *option)
{
    const json_t *archived = json_object_get(option, "archived");

    return json_is_true(archived) ||
           (json_is_string(archived) && strcasecmp(json_string_value(archived), "yes") == 0);
}

/*
 * The remote id of a unit: "department:<key>" / "division:<key>" for Groups (the convention
 * every adapter follows, so two kinds of group never share an id), the key itself for a
 * Location. key is a list option's id, or a name no option carries.
 */
static void unit_remote_id(const struct unit_list *unit, const char *key, char *out, size_t len)
{
    if (unit->group_type)
        snprintf(out, len, "%s:%s", unit->alias, key);
    else
        snprintf(out, len, "%s", key);
}

/*
 * The Group or Location of each option, by option id, and name → remote id into names (a live
 * option wins over an archived one of the same name).
 */
static enum rs_err deliver_list(const struct unit_list *unit, const struct prov_sink *sink,
                                const json_t *list, json_t *names)
{
    char idbuf[64], remote[96];
    const json_t *options = json_object_get(list, "options"), *option;
    enum rs_err err;
    size_t i;

    json_array_foreach(options, i, option)
    {
        const char *id = text_of(json_object_get(option, "id"), idbuf, sizeof(idbuf));
        const char *name = name_of(json_object_get(option, "name"));

        if (!id || !name || strlen(id) >= sizeof(idbuf) - 1) {
            sink->skipped(sink->arg, unit->kind, "BambooHR list option without id or name");
            continue;
        }
        unit_remote_id(unit, id, remote, sizeof(remote));
        if ((!json_object_get(names, name) || !option_archived(option)) &&
            json_object_set_new(names, name, json_string(remote)) != 0)
            return RS_ERR_NOMEM;
        err = deliver_unit(unit, sink, remote, name, option);
        if (err != RS_OK)
            return err;
    }
    return RS_OK;
}

static enum rs_err parse_lists(struct prov_sync *sync, const json_t *lists,
                               const struct prov_sink *sink)
{
    enum rs_err err = RS_ERR_NOMEM;
    json_t *options = json_object();

    if (!options)
        goto out;
    for (int u = 0; u < UNIT_COUNT; u++) {
        const json_t *list = find_list(lists, unit_lists[u].alias);
        json_t *names = json_object();

        if (json_object_set_new(options, unit_lists[u].alias, names) != 0)
            goto out;
        err = list ? deliver_list(&unit_lists[u], sink, list, names) : RS_OK;
        if (err != RS_OK)
            goto out;
    }
    err = deliver_company(sync, sink);
    if (err != RS_OK)
        goto out;
    err = RS_ERR_NOMEM;
    if (state_set(sync, "options", json_incref(options)) != RS_OK ||
        state_set(sync, "derived", json_object()) != RS_OK ||
        state_set(sync, "page", json_integer(1)) != RS_OK ||
        state_set(sync, "phase", json_string("employees")) != RS_OK)
        goto out;
    err = RS_OK;
out:
    json_decref(options);
    return err;
}

/* ---- /api/v2/datasets/employee/data */

/*
 * The reference to an employee's department, division or location, which the dataset gives by
 * name: the id of the list option of that name, else the name itself, in which case the unit
 * is delivered once per sync from the name alone.
 */
static enum rs_err unit_ref(struct prov_sync *sync, const struct prov_sink *sink,
                            const struct unit_list *unit, const json_t *row, json_t **ref)
{
    char key[RS_MODEL_REMOTE_ID_MAX + 32], remote[RS_MODEL_REMOTE_ID_MAX + 32];
    const char *name = name_of(json_object_get(row, unit->field));
    const json_t *options = json_object_get(sync->state, "options");
    const json_t *id = json_object_get(json_object_get(options, unit->alias), name ? name : "");
    json_t *derived = json_object_get(sync->state, "derived");
    enum rs_err err;

    *ref = NULL;
    if (json_is_string(id) || !name || strlen(name) > RS_MODEL_REMOTE_ID_MAX) {
        *ref =
            prov_ref(&sync->account, unit->kind, json_is_string(id) ? json_string_value(id) : NULL);
        return *ref ? RS_OK : RS_ERR_NOMEM;
    }
    snprintf(key, sizeof(key), "%s:%s", unit->alias, name);
    unit_remote_id(unit, name, remote, sizeof(remote));
    if (!json_object_get(derived, key)) {
        err = deliver_unit(unit, sink, remote, name, NULL);
        if (err != RS_OK)
            return err;
        if (!json_is_object(derived) || json_object_set_new(derived, key, json_true()) != 0)
            return RS_ERR_NOMEM;
    }
    *ref = prov_ref(&sync->account, unit->kind, remote);
    return *ref ? RS_OK : RS_ERR_NOMEM;
}

/* A calendar date field as midnight UTC; false when null or not a date. */
static bool date_of(const json_t *row, const char *field, int64_t *us)
{
    char buf[64];
    const char *text = text_of(json_object_get(row, field), buf, sizeof(buf));

    if (!text || strncmp(text, "0000-00-00", 10) == 0 || strlen(text) < 10)
        return false;
    buf[10] = '\0'; /* text is buf: a time or offset after the date is the provider's */
    return rs_time_parse(buf, us) == RS_OK;
}

/*
 * ACTIVE, PENDING or INACTIVE. A termination dated today or earlier that is not older than the
 * (re)hire date ends the employment, whatever `status` says. BambooHR shows a future hire as
 * Inactive until the start date, which Merge calls PENDING; so is an Inactive employee whom
 * nothing shows as having left (no current termination date, employment status not
 * Terminated), whatever the hire date says: BambooHR's own status is the stronger signal.
 */
static const char *employment_status(const json_t *row, int64_t now_us, bool *stale_termination)
{
    int64_t hire = 0, term = 0;
    bool hired = date_of(row, DS_HIRE, &hire), terminated = date_of(row, DS_TERMINATION, &term);
    const json_t *status = json_object_get(row, DS_STATUS);
    const json_t *kind = json_object_get(row, DS_EMP_STATUS);
    const char *text = json_is_string(status) ? json_string_value(status) : "";
    bool left;

    *stale_termination = terminated && hired && term < hire; /* a rehire since */
    terminated = terminated && !*stale_termination;
    if (terminated && term <= now_us)
        return "INACTIVE";
    if (hired && hire > now_us)
        return "PENDING";
    if (strcasecmp(text, "Active") == 0)
        return "ACTIVE";
    if (strcasecmp(text, "Inactive") != 0)
        return NULL;
    left = terminated ||
           (json_is_string(kind) && strcasecmp(json_string_value(kind), "Terminated") == 0);
    return left ? "INACTIVE" : "PENDING";
}

/* Department and division into groups, location into work_location. */
static enum rs_err employee_units(struct prov_sync *sync, const struct prov_sink *sink,
                                  const json_t *row, json_t *employee)
{
    json_t *groups = json_array(), *ref = NULL;
    enum rs_err err = RS_ERR_NOMEM;
    int rc;

    if (!groups)
        goto out;
    for (int u = 0; u < UNIT_COUNT; u++) {
        err = unit_ref(sync, sink, &unit_lists[u], row, &ref);
        if (err != RS_OK)
            goto out;
        if (u == UNIT_LOCATION)
            rc = json_object_set_new(employee, "work_location", ref);
        else if (json_is_null(ref))
            rc = (json_decref(ref), 0);
        else
            rc = json_array_append_new(groups, ref);
        err = RS_ERR_NOMEM;
        if (rc != 0)
            goto out;
    }
    if (json_object_set(employee, "groups", groups) != 0)
        goto out;
    err = RS_OK;
out:
    json_decref(groups);
    return err;
}

/* What the mapping table cannot say: company, status, units, the employment link. */
static enum rs_err employee_links(struct prov_sync *sync, const struct prov_sink *sink,
                                  const json_t *row, const char *id, json_t *employee)
{
    bool stale = false;
    const char *status = employment_status(row, sync->now_us, &stale);
    json_t *employments = json_pack("[o]", prov_ref(&sync->account, RS_MODEL_EMPLOYMENT, id));
    enum rs_err err = employee_units(sync, sink, row, employee);

    if (err == RS_OK &&
        (json_object_set_new(employee, "employments", employments) != 0 ||
         json_object_set_new(employee, "company",
                             prov_ref(&sync->account, RS_MODEL_COMPANY, COMPANY_ID)) != 0 ||
         json_object_set_new(employee, "employment_status",
                             status ? json_string(status) : json_null()) != 0 ||
         (stale && json_object_set_new(employee, "termination_date", json_null()) != 0)))
        err = RS_ERR_NOMEM;
    else if (err != RS_OK)
        json_decref(employments);
    if (err == RS_OK && json_is_null(json_object_get(employee, "display_full_name")) &&
        json_object_set_new(employee, "display_full_name", prov_display_name(employee)) != 0)
        err = RS_ERR_NOMEM;
    return err;
}

/* Maps one dataset row; false (after telling the sink) when a field has the wrong shape. */
static bool map_row(const struct prov_sync *sync, const struct prov_sink *sink, const json_t *row,
                    json_t *employee, json_t *employment, enum rs_err *err)
{
    const char *bad = NULL;
    char why[128];

    *err = prov_map_apply(employee_map, sizeof(employee_map) / sizeof(employee_map[0]), row,
                          &sync->account, employee, &bad);
    if (*err == RS_OK)
        *err = prov_map_apply(employment_map, sizeof(employment_map) / sizeof(employment_map[0]),
                              row, &sync->account, employment, &bad);
    if (*err != RS_ERR_INVALID)
        return *err == RS_OK;
    snprintf(why, sizeof(why), "BambooHR employee field %s has the wrong shape", bad);
    sink->skipped(sink->arg, RS_MODEL_EMPLOYEE, why);
    *err = RS_OK;
    return false;
}

static enum rs_err deliver_row(struct prov_sync *sync, const struct prov_sink *sink,
                               const json_t *item)
{
    const json_t *row = json_object_get(item, "fields");
    char idbuf[64];
    const char *id = text_of(json_object_get(row, DS_ID), idbuf, sizeof(idbuf));
    json_t *employee = json_object(), *employment = json_object();
    enum rs_err err = RS_ERR_NOMEM;

    if (!employee || !employment)
        goto out;
    if (!json_is_object(row) || !id) {
        sink->skipped(sink->arg, RS_MODEL_EMPLOYEE, "BambooHR dataset row without an id");
        err = RS_OK;
        goto out;
    }
    if (!map_row(sync, sink, row, employee, employment, &err))
        goto out;
    err = employee_links(sync, sink, row, id, employee);
    if (err != RS_OK)
        goto out;
    err = RS_ERR_NOMEM;
    if (json_object_set_new(employment, "employee",
                            prov_ref(&sync->account, RS_MODEL_EMPLOYEE, id)) != 0)
        goto out;
    err = prov_deliver(sink, RS_MODEL_EMPLOYEE, id, employee, DATASET_PATH, row);
    if (err == RS_OK)
        err = prov_deliver(sink, RS_MODEL_EMPLOYMENT, id, employment, DATASET_PATH, row);
out:
    json_decref(employment);
    json_decref(employee);
    return err;
}

/* After a page: the next page number, or phase "done" (by meta.totalPages or links.next). */
static enum rs_err advance(struct prov_sync *sync, const json_t *page, long current,
                           struct rs_errbuf *eb)
{
    const json_t *data = json_object_get(page, "data");
    const json_t *total = json_object_get(json_object_get(page, "meta"), "totalPages");
    const json_t *next = json_object_get(json_object_get(page, "links"), "next");
    bool more = json_array_size(data) > 0 &&
                ((json_is_string(next) && json_string_length(next) > 0) ||
                 (json_is_integer(total) && json_integer_value(total) > current));

    if (!more)
        return state_set(sync, "phase", json_string("done"));
    if (current >= PAGES_MAX)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR kept paging past page %d", PAGES_MAX);
    return state_set(sync, "page", json_integer(current + 1));
}

static enum rs_err parse_dataset(struct prov_sync *sync, const json_t *page,
                                 const struct prov_sink *sink, struct rs_errbuf *eb)
{
    const json_t *data = json_object_get(page, "data"), *meta = json_object_get(page, "meta");
    const json_t *answered = json_object_get(meta, "page");
    long current = state_page(sync);
    const json_t *item;
    enum rs_err err;
    size_t i;

    if (!json_is_array(data) || !json_is_object(meta))
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR dataset answer lacks data or meta");
    /* a server that ignores `page` would otherwise be paged forever */
    if (json_is_integer(answered) && json_integer_value(answered) != current)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR answered page %ld for page %ld",
                             (long)json_integer_value(answered), current);
    json_array_foreach(data, i, item)
    {
        err = deliver_row(sync, sink, item);
        if (err != RS_OK)
            return err;
    }
    return advance(sync, page, current, eb);
}

static enum rs_err bamboohr_parse_response(struct prov_sync *sync, const struct prov_response *resp,
                                           const struct prov_sink *sink, struct rs_errbuf *eb)
{
    bool lists = strcmp(state_phase(sync), "employees") != 0;
    json_error_t jerr;
    json_t *root = json_loadb(resp->body, resp->len, 0, &jerr);
    enum rs_err err;

    if (!root)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR answered malformed JSON (line %d)",
                             jerr.line);
    if (strcmp(state_phase(sync), "done") == 0)
        err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "BambooHR sync already done");
    else if (lists && !json_is_array(root))
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR meta/lists answer is not an array");
    else if (lists)
        err = parse_lists(sync, root, sink);
    else if (!json_is_object(root))
        err = rs_errbuf_set(eb, RS_ERR_UPSTREAM, "BambooHR dataset answer is not an object");
    else
        err = parse_dataset(sync, root, sink, eb);
    json_decref(root);
    return err;
}

/* ---- OAuth (the link flow's; this adapter only sends the tokens) */

static const struct prov_field oauth_fields[] = {
    {"subdomain", "Company subdomain",
     "The part before .bamboohr.com in the address you use to sign in.",
     "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", false},
};

/*
 * The authorization server is on the company's own host (BHR-SPEC securitySchemes.oauth).
 * No revocation endpoint is documented: token.php?request=revoke is UNCONFIRMED (the sandbox
 * serves it).
 */
static enum rs_err bamboohr_oauth_endpoint(const json_t *pre, const char *base_url,
                                           enum prov_oauth_endpoint which, char *out, size_t outlen,
                                           struct rs_errbuf *eb)
{
    static const char *const paths[] = {
        [PROV_OAUTH_AUTHORIZE] = "/authorize.php",
        [PROV_OAUTH_TOKEN] = "/token.php?request=token",
        [PROV_OAUTH_REVOKE] = "/token.php?request=revoke",
    };
    const json_t *subdomain = json_object_get(pre, "subdomain");
    char origin[128];
    enum rs_err err;

    if ((unsigned)which >= sizeof(paths) / sizeof(paths[0]))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "no such OAuth endpoint");
    err = company_origin(json_string_length(subdomain) > 0 ? json_string_value(subdomain) : NULL,
                         origin, sizeof(origin), eb);
    return err == RS_OK ? prov_oauth_url(origin, paths[which], base_url, out, outlen, eb) : err;
}

/* Scopes are per endpoint: `field` covers meta/lists; the dataset's is UNCONFIRMED. */
static const struct prov_oauth oauth = {
    .fields = oauth_fields,
    .nfields = sizeof(oauth_fields) / sizeof(oauth_fields[0]),
    .scopes = "offline_access field employee",
    .client_auth_basic = false, /* the SDK posts client_id and client_secret in the form */
    .endpoint = bamboohr_oauth_endpoint,
    .authorize_origin = "https://*.bamboohr.com",
};

const struct prov_ops prov_bamboohr_ops = {
    .slug = "bamboohr",
    .name = "BambooHR",
    .color = "#73C41D",
    .auth = PROV_AUTH_BASIC,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .caps = PROV_CAP_INCREMENTAL,
    .rate_per_s = 0, /* none published */
    .burst = 0,
    .rate_reset_header =
        NULL, /* 429s carry Retry-After (from 2026-09-16), which the engine reads */
    .next_request = bamboohr_next_request,
    .parse_response = bamboohr_parse_response,
    .oauth = &oauth,
};
