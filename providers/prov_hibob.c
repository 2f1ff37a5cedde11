/*
 * HiBob adapter (service user over HTTP Basic): the company's named lists (departments, sites),
 * then one people search with leavers included. See docs/providers/hibob.md.
 */
#include "providers/prov_int.h"

#include <stdio.h>
#include <string.h>

#define HIBOB_ORIGIN "https://api.hibob.com"
/* archived items too: leavers (and people not yet moved) may still sit in an archived unit */
#define LISTS_REQUEST "/v1/company/named-lists?includeArchived=true"
#define LISTS_PATH    "/v1/company/named-lists"
#define SEARCH_PATH   "/v1/people/search"
#define COMPANY_NONE  "company" /* the Company's remote id when no record carries companyId */

#define LIST_ITEMS_MAX 20000 /* named-list items remembered per list for resolving people */
#define LIST_DEPTH_MAX 16    /* nesting of a hierarchical list followed */
#define DERIVED_MAX    10000 /* derived units remembered as delivered (past it: re-delivered) */

static const struct prov_field fields[] = {
    {"service_user_id", "Service user ID",
     "In Bob: Settings > Integrations > Service Users > create one with People read access.",
     "^[^[:space:]]{4,200}$", false},
    {"service_user_token", "Service user token", "Shown once when the service user is created.",
     "^[^[:space:]]{6,400}$", true},
};

/* What the people search asks for; root.* fields come back at the top level of a record. */
static const char *const search_fields[] = {
    "root.id",
    "root.firstName",
    "root.surname",
    "root.email",
    "root.displayName",
    "root.fullName",
    "root.companyId",
    "root.creationDateTime",
    "work.startDate",
    "work.manager",
    "work.reportsTo",
    "work.department",
    "work.site",
    "work.title",
    "work.workMobile",
    "home.privateEmail",
    "home.legalGender",
    "internal.status",
    "internal.terminationDate",
};

static const struct prov_enum genders[] = {
    {"Male", "MALE"},
    {"Female", "FEMALE"},
    {"Non-binary", "NON-BINARY"},
    {"Nonbinary", "NON-BINARY"},
    {"Non binary", "NON-BINARY"},
    {"Other", "OTHER"},
    {"Prefer not to say", "PREFER_NOT_TO_DISCLOSE"},
    {"Prefer not to disclose", "PREFER_NOT_TO_DISCLOSE"},
    {"Undisclosed", "PREFER_NOT_TO_DISCLOSE"},
    {NULL, NULL},
};

static const struct prov_enum statuses[] = {
    {"Active", "ACTIVE"},
    {"Inactive", "INACTIVE"},
    {NULL, NULL},
};

static const struct prov_map employee_map[] = {
    {"firstName", "first_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"surname", "last_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"displayName", "display_full_name", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"email", "work_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"home.privateEmail", "personal_email", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"work.workMobile", "mobile_phone_number", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"home.legalGender", "gender", PROV_ENUM, genders, RS_MODEL_NONE},
    {"work.startDate", "start_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"work.startDate", "hire_date", PROV_DATE, NULL, RS_MODEL_NONE},
    {"creationDateTime", "remote_created_at", PROV_DATETIME, NULL, RS_MODEL_NONE},
    {"internal.terminationDate", "termination_date", PROV_DATE, NULL, RS_MODEL_NONE},
};

/* Used only when the field before them left the value null. */
static const struct prov_map termination_fallback = {"work.terminationDate", "termination_date",
                                                     PROV_DATE, NULL, RS_MODEL_NONE};
static const struct prov_map full_name_fallback = {"fullName", "display_full_name", PROV_TEXT, NULL,
                                                   RS_MODEL_NONE};

static const struct prov_map employment_map[] = {
    {"work.title", "job_title", PROV_TEXT, NULL, RS_MODEL_NONE},
    {"work.startDate", "effective_date", PROV_DATE, NULL, RS_MODEL_NONE},
};

/* The two named lists read, and the person fields whose values are their items. */
struct unit_kind {
    const char *list;        /* named list, and its key in sync->state */
    const char *field;       /* the employee field holding an item id (or its name) */
    enum rs_model_kind kind; /* RS_MODEL_GROUP or RS_MODEL_LOCATION */
    const char *prefix;      /* of the remote id, before the item id or name */
};

static const struct unit_kind departments = {"department", "work.department", RS_MODEL_GROUP,
                                             "department:"};
static const struct unit_kind sites = {"site", "work.site", RS_MODEL_LOCATION, ""};

/*
 * sync->state: {"phase": "people"|"done" (absent: the named lists come first), and per list
 * ("department", "site"): {"ids": {item id: true}, "names": {item name: item id},
 * "derived": {remote id: true}} — what people's values resolve against, and the units made
 * from values no list item carries, delivered once each}.
 */
struct run {
    struct prov_sync *sync;
    const struct prov_sink *sink;
    char company[RS_MODEL_REMOTE_ID_MAX + 1];
};

static const char *state_phase(const struct prov_sync *sync)
{
    return json_string_value(json_object_get(sync->state, "phase"));
}

static enum rs_err state_set(struct prov_sync *sync, const char *key, json_t *value_owned)
{
    return json_object_set_new(sync->state, key, value_owned) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* The list's entry in sync->state, created empty when missing; NULL when out of memory. */
static json_t *state_list(struct prov_sync *sync, const struct unit_kind *u)
{
    json_t *known = json_object_get(sync->state, u->list);

    if (json_is_object(known))
        return known;
    known = json_pack("{s:{}, s:{}, s:{}}", "ids", "names", "derived");
    if (state_set(sync, u->list, known) != RS_OK)
        return NULL;
    return known;
}

/* The text of a string or a number (formatted into buf); NULL for any other value. */
static const char *scalar_text(const json_t *value, char *buf, size_t len)
{
    if (json_is_string(value))
        return json_string_value(value);
    return json_is_number(value) ? prov_json_text(value, buf, len) : NULL;
}

/* ---- requests */

static const char *credential(const struct prov_sync *sync, const char *name)
{
    const json_t *value = json_object_get(sync->credentials, name);

    return json_is_string(value) && json_string_length(value) > 0 ? json_string_value(value) : NULL;
}

static enum rs_err request_start(const struct prov_sync *sync, struct prov_request *req,
                                 const char *method, const char *path, struct rs_errbuf *eb)
{
    const char *user = credential(sync, "service_user_id");
    const char *token = credential(sync, "service_user_token");
    int n, m;

    if (!user || !token)
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "HiBob needs credentials service_user_id and service_user_token");
    /* HTTP Basic puts user:token on the wire: a colon in the user would move the boundary */
    if (strchr(user, ':'))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "HiBob service_user_id cannot contain ':'");
    n = snprintf(req->user, sizeof(req->user), "%s", user);
    m = snprintf(req->secret, sizeof(req->secret), "%s", token);
    if (n < 0 || (size_t)n >= sizeof(req->user) || m < 0 || (size_t)m >= sizeof(req->secret))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "HiBob credentials are too long");
    if (prov_request_url(sync, HIBOB_ORIGIN, path, req->url, sizeof(req->url)) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "HiBob request URL is too long");
    snprintf(req->method, sizeof(req->method), "%s", method);
    req->auth = PROV_REQ_AUTH_BASIC;
    return RS_OK;
}

/* {"showInactive": true, "fields": [...]}: everyone, leavers included, machine values. */
static enum rs_err search_body(struct prov_request *req)
{
    json_t *body = json_pack("{s:b, s:[]}", "showInactive", 1, "fields");
    json_t *list = json_object_get(body, "fields");
    enum rs_err err = RS_ERR_NOMEM;

    if (!body)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < sizeof(search_fields) / sizeof(search_fields[0]); i++)
        if (json_array_append_new(list, json_string(search_fields[i])) != 0)
            goto out;
    req->body = json_dumps(body, JSON_COMPACT);
    if (!req->body)
        goto out;
    req->body_len = strlen(req->body);
    snprintf(req->content_type, sizeof(req->content_type), "application/json");
    err = RS_OK;
out:
    json_decref(body);
    return err;
}

static enum rs_err hibob_next_request(const struct prov_sync *sync, struct prov_request *req,
                                      bool *done, struct rs_errbuf *eb)
{
    const char *phase = state_phase(sync);
    enum rs_err err;

    memset(req, 0, sizeof(*req));
    *done = false;
    if (phase && strcmp(phase, "done") == 0) {
        *done = true;
        return RS_OK;
    }
    if (!phase) {
        req->page = -1;
        err = request_start(sync, req, "GET", LISTS_REQUEST, eb);
    } else if (strcmp(phase, "people") == 0) {
        req->page = 0; /* the one and only page: the search does not paginate */
        err = request_start(sync, req, "POST", SEARCH_PATH, eb);
        if (err == RS_OK && search_body(req) != RS_OK)
            err = rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory building a HiBob request");
    } else {
        err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "HiBob sync state has an unknown phase");
    }
    if (err != RS_OK)
        prov_request_cleanup(req);
    return err;
}

/* ---- delivering records */

static enum rs_err deliver(const struct run *run, enum rs_model_kind kind, const char *remote_id,
                           const json_t *record_fields, const json_t *remote_data)
{
    const struct rs_record record = {
        .remote_id = remote_id,
        .fields = record_fields,
        .remote_data = remote_data,
    };

    return run->sink->record(run->sink->arg, kind, &record);
}

/* "<prefix><id>" into out (RS_MODEL_REMOTE_ID_MAX + 1 bytes); false when it does not fit. */
static bool unit_remote_id(const struct unit_kind *u, const char *id, char *out)
{
    int n = snprintf(out, RS_MODEL_REMOTE_ID_MAX + 1, "%s%s", u->prefix, id);

    return n > 0 && n <= RS_MODEL_REMOTE_ID_MAX && id[0];
}

/* A department (Group) or site (Location); parent_id is the parent item's id, or NULL. */
static enum rs_err deliver_unit(const struct run *run, const struct unit_kind *u,
                                const char *remote_id, const char *name, const char *parent_id,
                                const json_t *remote_data)
{
    char parent[RS_MODEL_REMOTE_ID_MAX + 1];
    json_t *record;
    enum rs_err err;

    if (u->kind == RS_MODEL_LOCATION) {
        record = json_pack("{s:s, s:s}", "name", name, "location_type", "WORK");
    } else {
        bool has_parent = parent_id && unit_remote_id(u, parent_id, parent);

        record = json_pack("{s:s, s:s, s:b, s:o}", "name", name, "type", "DEPARTMENT",
                           "is_commonly_used_as_team", 0, "parent_group",
                           has_parent ? prov_ref(&run->sync->account, RS_MODEL_GROUP, parent)
                                      : json_null());
    }
    if (!record)
        return RS_ERR_NOMEM;
    err = deliver(run, u->kind, remote_id, record, remote_data);
    json_decref(record);
    return err;
}

/* ---- GET /v1/company/named-lists */

/*
 * The items of one named list. The answer's shape is not documented: an object keyed by list
 * name (the sandbox) and an array of {name, items|values} (Bob's generated SDKs) both occur.
 */
static const json_t *list_items(const json_t *root, const char *name)
{
    const json_t *list = NULL, *items;

    if (json_is_object(root))
        list = json_object_get(root, name);
    for (size_t i = 0; json_is_array(root) && i < json_array_size(root) && !list; i++) {
        const json_t *entry = json_array_get(root, i);
        const char *entry_name = json_string_value(json_object_get(entry, "name"));

        if (entry_name && strcmp(entry_name, name) == 0)
            list = entry;
    }
    items = json_object_get(list, "items");
    if (!json_is_array(items))
        items = json_object_get(list, "values");
    return json_is_array(items) ? items : NULL;
}

/* Records the item so that people whose value is its id or its name resolve to it. */
static enum rs_err remember_item(json_t *known, const char *id, const char *name)
{
    json_t *ids = json_object_get(known, "ids"), *names = json_object_get(known, "names");

    if (json_object_size(ids) >= LIST_ITEMS_MAX)
        return RS_OK; /* people in the rest become units derived from their values */
    if (json_object_set_new(ids, id, json_true()) != 0)
        return RS_ERR_NOMEM;
    if (!json_object_get(names, name) && json_object_set_new(names, name, json_string(id)) != 0)
        return RS_ERR_NOMEM;
    return RS_OK;
}

/* remote_data of an item: the item without its children (they are records of their own). */
static json_t *item_remote_data(json_t *item)
{
    json_t *copy = json_copy(item), *remote;

    if (!copy)
        return NULL;
    json_object_del(copy, "children");
    remote = json_pack("[{s:s, s:o}]", "path", LISTS_PATH, "data", copy);
    return remote;
}

static enum rs_err deliver_items(const struct run *run, const struct unit_kind *u, json_t *known,
                                 const json_t *items, const char *parent_id, int depth);

static enum rs_err deliver_item(const struct run *run, const struct unit_kind *u, json_t *known,
                                json_t *item, const char *parent_id, int depth)
{
    char num[32], remote_id[RS_MODEL_REMOTE_ID_MAX + 1];
    const char *id = scalar_text(json_object_get(item, "id"), num, sizeof(num));
    const char *name = json_string_value(json_object_get(item, "name"));
    const json_t *children = json_object_get(item, "children");
    json_t *remote = NULL;
    enum rs_err err;

    if (!name || !name[0])
        name = json_string_value(json_object_get(item, "value"));
    if (!id || !unit_remote_id(u, id, remote_id)) {
        run->sink->skipped(run->sink->arg, u->kind, "HiBob named-list item without a usable id");
        return RS_OK;
    }
    if (!name || !name[0])
        name = id;
    err = remember_item(known, id, name);
    if (err == RS_OK)
        err = (remote = item_remote_data(item)) ? RS_OK : RS_ERR_NOMEM;
    if (err == RS_OK)
        err = deliver_unit(run, u, remote_id, name, parent_id, remote);
    json_decref(remote);
    if (err == RS_OK && json_array_size(children) > 0)
        err = deliver_items(run, u, known, children, id, depth + 1);
    return err;
}

static enum rs_err deliver_items(const struct run *run, const struct unit_kind *u, json_t *known,
                                 const json_t *items, const char *parent_id, int depth)
{
    enum rs_err err = RS_OK;

    if (depth > LIST_DEPTH_MAX) {
        run->sink->skipped(run->sink->arg, u->kind, "HiBob named list nested too deeply");
        return RS_OK;
    }
    for (size_t i = 0; i < json_array_size(items) && err == RS_OK; i++)
        err = deliver_item(run, u, known, json_array_get(items, i), parent_id, depth);
    return err;
}

static enum rs_err parse_lists(struct run *run, const json_t *root, struct rs_errbuf *eb)
{
    const struct unit_kind *const kinds[] = {&departments, &sites};
    enum rs_err err = RS_OK;

    if (!json_is_object(root) && !json_is_array(root))
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "HiBob named-lists answer is not a list set");
    for (size_t i = 0; i < 2 && err == RS_OK; i++) {
        json_t *known = state_list(run->sync, kinds[i]);

        err = known ? deliver_items(run, kinds[i], known, list_items(root, kinds[i]->list), NULL, 0)
                    : RS_ERR_NOMEM;
    }
    if (err == RS_OK)
        err = state_set(run->sync, "phase", json_string("people"));
    return err;
}

/* ---- POST /v1/people/search */

/* A person's department or site, resolved against its named list. */
struct unit_ref {
    char remote_id[RS_MODEL_REMOTE_ID_MAX + 1]; /* "" when the person has none */
    const char *name; /* set for a unit no list item carries (derived from the value) */
};

/* The value's item id (and name, when the value is an {id, name} object); NULL if unusable. */
static const char *unit_value(const json_t *value, char *buf, size_t len, const char **label)
{
    const char *key;

    *label = NULL;
    if (!json_is_object(value))
        return scalar_text(value, buf, len);
    /* an object {id, name}: how Nango's types model the field */
    *label = json_string_value(json_object_get(value, "name"));
    key = scalar_text(json_object_get(value, "id"), buf, len);
    return key ? key : *label;
}

static enum rs_err resolve_unit(struct run *run, const struct unit_kind *u, const json_t *person,
                                struct unit_ref *out, const char **bad)
{
    const json_t *value = prov_json_path(person, u->field);
    json_t *known = state_list(run->sync, u);
    char num[32];
    const char *label, *key, *id;

    out->remote_id[0] = '\0';
    out->name = NULL;
    if (!known)
        return RS_ERR_NOMEM;
    if (!value || json_is_null(value))
        return RS_OK;
    key = unit_value(value, num, sizeof(num), &label);
    if (!key) {
        *bad = u->field;
        return RS_ERR_INVALID;
    }
    if (!key[0])
        return RS_OK;
    /* machine mode answers the item id; a name (humanReadable, old data) resolves by name */
    id = json_object_get(json_object_get(known, "ids"), key) ? key : NULL;
    if (!id)
        id = json_string_value(json_object_get(json_object_get(known, "names"), key));
    if (!id && label)
        id = json_string_value(json_object_get(json_object_get(known, "names"), label));
    if (!unit_remote_id(u, id ? id : key, out->remote_id)) {
        out->remote_id[0] = '\0';
        run->sink->skipped(run->sink->arg, u->kind, "HiBob unit value too long for an id");
        return RS_OK;
    }
    if (!id)
        out->name = label ? label : out->remote_id + strlen(u->prefix);
    return RS_OK;
}

/* A unit made from a value no list item carries: delivered once per sync (bounded). */
static enum rs_err deliver_derived(struct run *run, const struct unit_kind *u,
                                   const struct unit_ref *ref)
{
    json_t *derived = json_object_get(state_list(run->sync, u), "derived");

    if (!ref->remote_id[0] || !ref->name || json_object_get(derived, ref->remote_id))
        return RS_OK;
    if (json_object_size(derived) < DERIVED_MAX &&
        json_object_set_new(derived, ref->remote_id, json_true()) != 0)
        return RS_ERR_NOMEM;
    return deliver_unit(run, u, ref->remote_id, ref->name, NULL, NULL);
}

/* The manager's id: work.manager, else work.reportsTo.id when reportsTo is an object. */
static json_t *manager_ref(const struct run *run, const json_t *person)
{
    char num[32];
    const json_t *reports_to = prov_json_path(person, "work.reportsTo");
    const char *id = scalar_text(prov_json_path(person, "work.manager"), num, sizeof(num));

    /* in humanReadable mode reportsTo is the manager's display name: no id to refer to */
    if ((!id || !id[0]) && json_is_object(reports_to))
        id = scalar_text(json_object_get(reports_to, "id"), num, sizeof(num));
    return prov_ref(&run->sync->account, RS_MODEL_EMPLOYEE, id);
}

/* An ISO date-time field of fields as microseconds; false when null. */
static bool field_time(const json_t *record_fields, const char *name, int64_t *us)
{
    const char *text = json_string_value(json_object_get(record_fields, name));

    return text && rs_time_parse(text, us) == RS_OK;
}

/*
 * internal.status Active/Inactive; an Active person who has not started yet is PENDING. Without
 * a status (not readable by the service user, say) only the dates speak: a past termination
 * is INACTIVE and a future start PENDING; otherwise null rather than a guessed ACTIVE. An
 * unknown status is null too.
 */
static const char *employment_status(const json_t *person, const json_t *record_fields,
                                     int64_t now_us)
{
    const json_t *status = prov_json_path(person, "internal.status");
    const char *mapped = NULL;
    int64_t start, end;
    bool started = !field_time(record_fields, "start_date", &start) || start <= now_us;
    bool ended = field_time(record_fields, "termination_date", &end) && end <= now_us;

    if (!status || json_is_null(status))
        return ended ? "INACTIVE" : started ? NULL : "PENDING";
    if (json_is_string(status))
        mapped = prov_enum_lookup(statuses, json_string_value(status));
    if (mapped && strcmp(mapped, "ACTIVE") == 0 && !started)
        return "PENDING";
    return mapped;
}

/* displayName, else fullName, else first and last name as far as they are known. */
static enum rs_err display_name(const json_t *person, const struct rs_uuid *account,
                                json_t *record_fields, const char **bad)
{
    const char *first, *last;
    json_t *name;
    enum rs_err err = RS_OK;

    if (json_is_null(json_object_get(record_fields, "display_full_name")))
        err = prov_map_apply(&full_name_fallback, 1, person, account, record_fields, bad);
    if (err != RS_OK || !json_is_null(json_object_get(record_fields, "display_full_name")))
        return err;
    first = json_string_value(json_object_get(record_fields, "first_name"));
    last = json_string_value(json_object_get(record_fields, "last_name"));
    if (!first && !last)
        return RS_OK;
    name = first && last ? json_sprintf("%s %s", first, last) : json_string(first ? first : last);
    return json_object_set_new(record_fields, "display_full_name", name) == 0 ? RS_OK
                                                                              : RS_ERR_NOMEM;
}

/* The fields read straight from the record; RS_ERR_INVALID (naming it in *bad) for a bad one. */
static enum rs_err map_person(const struct run *run, const json_t *person, json_t *employee,
                              json_t *employment, const char **bad)
{
    const struct rs_uuid *account = &run->sync->account;
    const size_t nmap = sizeof(employee_map) / sizeof(employee_map[0]);
    const size_t njob = sizeof(employment_map) / sizeof(employment_map[0]);
    const char *status;
    enum rs_err err;

    err = prov_map_apply(employee_map, nmap, person, account, employee, bad);
    if (err == RS_OK && json_is_null(json_object_get(employee, "termination_date")))
        err = prov_map_apply(&termination_fallback, 1, person, account, employee, bad);
    if (err == RS_OK)
        err = display_name(person, account, employee, bad);
    if (err == RS_OK)
        err = prov_map_apply(employment_map, njob, person, account, employment, bad);
    if (err != RS_OK)
        return err;
    status = employment_status(person, employee, run->sync->now_us);
    if (json_object_set_new(employee, "employment_status",
                            status ? json_string(status) : json_null()) != 0)
        return RS_ERR_NOMEM;
    return RS_OK;
}

/* Relations: company, employment, department group, site location, manager. */
static enum rs_err link_person(const struct run *run, const json_t *person, const char *id,
                               const struct unit_ref *department, const struct unit_ref *site,
                               json_t *employee, json_t *employment)
{
    const struct rs_uuid *account = &run->sync->account;
    json_t *groups = json_array();
    int rc = groups ? 0 : -1;

    if (groups && department->remote_id[0])
        rc |=
            json_array_append_new(groups, prov_ref(account, RS_MODEL_GROUP, department->remote_id));
    rc |= json_object_set_new(employee, "groups", groups);
    rc |= json_object_set_new(employee, "work_location",
                              prov_ref(account, RS_MODEL_LOCATION, site->remote_id));
    rc |= json_object_set_new(employee, "manager", manager_ref(run, person));
    rc |=
        json_object_set_new(employee, "company", prov_ref(account, RS_MODEL_COMPANY, run->company));
    rc |= json_object_set_new(employee, "employments",
                              json_pack("[o]", prov_ref(account, RS_MODEL_EMPLOYMENT, id)));
    /* HiBob documents no field for the employment type: left null (see the provider page) */
    rc |= json_object_set_new(employment, "employment_type", json_null());
    rc |= json_object_set_new(employment, "employee", prov_ref(account, RS_MODEL_EMPLOYEE, id));
    return rc == 0 ? RS_OK : RS_ERR_NOMEM;
}

static enum rs_err deliver_person(struct run *run, json_t *person, const char *id,
                                  const struct unit_ref *department, const struct unit_ref *site,
                                  const json_t *employee, const json_t *employment)
{
    json_t *remote = json_pack("[{s:s, s:O}]", "path", SEARCH_PATH, "data", person);
    enum rs_err err = remote ? RS_OK : RS_ERR_NOMEM;

    if (err == RS_OK)
        err = deliver_derived(run, &departments, department);
    if (err == RS_OK)
        err = deliver_derived(run, &sites, site);
    if (err == RS_OK)
        err = deliver(run, RS_MODEL_EMPLOYEE, id, employee, remote);
    if (err == RS_OK)
        err = deliver(run, RS_MODEL_EMPLOYMENT, id, employment, NULL);
    json_decref(remote);
    return err;
}

/* The record's id as text into out; false when it has none that can be a remote id. */
static bool person_id(const json_t *person, char *out, size_t len)
{
    char num[32];
    const char *id = scalar_text(json_object_get(person, "id"), num, sizeof(num));
    int n;

    if (!id || !id[0])
        return false;
    n = snprintf(out, len, "%s", id);
    return n > 0 && (size_t)n < len;
}

/* One employees[] entry: an Employee, its Employment and any unit only it names. */
static enum rs_err parse_person(struct run *run, json_t *person)
{
    char id[RS_MODEL_REMOTE_ID_MAX + 1], why[160];
    struct unit_ref department, site;
    json_t *employee = json_object(), *employment = json_object();
    const char *bad = "?";
    enum rs_err err = employee && employment ? RS_OK : RS_ERR_NOMEM;

    if (err == RS_OK && !person_id(person, id, sizeof(id))) {
        run->sink->skipped(run->sink->arg, RS_MODEL_EMPLOYEE, "HiBob employee without a usable id");
        goto out;
    }
    if (err == RS_OK)
        err = map_person(run, person, employee, employment, &bad);
    if (err == RS_OK)
        err = resolve_unit(run, &departments, person, &department, &bad);
    if (err == RS_OK)
        err = resolve_unit(run, &sites, person, &site, &bad);
    if (err == RS_ERR_INVALID) {
        snprintf(why, sizeof(why), "HiBob employee %.40s: unexpected value in %.60s", id, bad);
        run->sink->skipped(run->sink->arg, RS_MODEL_EMPLOYEE, why);
        err = RS_OK;
        goto out;
    }
    if (err == RS_OK)
        err = link_person(run, person, id, &department, &site, employee, employment);
    if (err == RS_OK)
        err = deliver_person(run, person, id, &department, &site, employee, employment);
out:
    json_decref(employee);
    json_decref(employment);
    return err;
}

/* Every person belongs to the one Company: the first companyId seen, else "company". */
static enum rs_err deliver_company(struct run *run, const json_t *employees)
{
    json_t *record = json_pack("{s:n, s:n, s:n}", "legal_name", "display_name", "eins");
    enum rs_err err;

    snprintf(run->company, sizeof(run->company), "%s", COMPANY_NONE);
    for (size_t i = 0; i < json_array_size(employees); i++) {
        char num[32];
        const char *company = scalar_text(
            json_object_get(json_array_get(employees, i), "companyId"), num, sizeof(num));

        if (company && company[0] && strlen(company) <= RS_MODEL_REMOTE_ID_MAX) {
            snprintf(run->company, sizeof(run->company), "%s", company);
            break;
        }
    }
    if (!record)
        return RS_ERR_NOMEM;
    err = deliver(run, RS_MODEL_COMPANY, run->company, record, NULL);
    json_decref(record);
    return err;
}

static enum rs_err parse_people(struct run *run, const json_t *root, struct rs_errbuf *eb)
{
    const json_t *employees = json_object_get(root, "employees");
    enum rs_err err;

    if (!json_is_array(employees))
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "HiBob people search answer has no employees");
    err = deliver_company(run, employees);
    for (size_t i = 0; i < json_array_size(employees) && err == RS_OK; i++) {
        json_t *person = json_array_get(employees, i);

        if (json_is_object(person))
            err = parse_person(run, person);
        else
            run->sink->skipped(run->sink->arg, RS_MODEL_EMPLOYEE,
                               "HiBob employees entry is not an object");
    }
    if (err == RS_OK)
        err = state_set(run->sync, "phase", json_string("done"));
    return err;
}

static enum rs_err hibob_parse_response(struct prov_sync *sync, const struct prov_response *resp,
                                        const struct prov_sink *sink, struct rs_errbuf *eb)
{
    const char *phase = state_phase(sync);
    const char *what = phase ? "people search" : "named-lists";
    struct run run = {.sync = sync, .sink = sink};
    json_error_t jerr;
    json_t *root = NULL;
    enum rs_err err;

    if (phase && strcmp(phase, "people") != 0)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "HiBob sync has no request outstanding");
    root = json_loadb(resp->body ? resp->body : "", resp->body ? resp->len : 0, 0, &jerr);
    if (!root)
        return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "HiBob %s answer is not JSON (line %d)", what,
                             jerr.line);
    err = phase ? parse_people(&run, root, eb) : parse_lists(&run, root, eb);
    if (err == RS_ERR_NOMEM)
        rs_errbuf_set(eb, err, "out of memory reading a HiBob %s answer", what);
    else if (err != RS_OK && err != RS_ERR_UPSTREAM)
        rs_errbuf_set(eb, err, "a HiBob record was refused: %s", rs_err_name(err));
    json_decref(root);
    return err;
}

const struct prov_ops prov_hibob_ops = {
    .slug = "hibob",
    .name = "HiBob",
    .color = "#E42C64",
    .auth = PROV_AUTH_BASIC,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .caps = 0, /* no changed-since filter is documented for the people search: full syncs */
    .rate_per_s = 50.0 / 60.0, /* POST /v1/people/search: 50 requests a minute */
    .burst = 5,
    .rate_reset_header = "x-ratelimit-reset",
    .next_request = hibob_next_request,
    .parse_response = hibob_parse_response,
};
