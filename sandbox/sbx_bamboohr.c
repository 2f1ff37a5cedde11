/*
 * BambooHR under /bamboohr: HTTP Basic with the API key as user name (or an OAuth bearer),
 * both URL styles (`/api/v1/...` and `/api/gateway.php/{company}/v1/...`), the employee list,
 * directory, changed-since, meta lists, and the v2 dataset (sbx_dataset.c).
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_time.h"

#define SECRET         "sandbox"
#define LIST_LIMIT_DEF 50
#define LIST_LIMIT_MAX 100
#define PATH_MAX_LEN   512

static enum rs_err bamboohr_error(const struct sbx_req *req, struct sbx_resp *resp, int status,
                                  int retry_after_s)
{
    (void)req;
    sbx_http_resp_reset(resp);
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; charset=utf-8");
    if (status == 401) {
        sbx_http_header(resp, "WWW-Authenticate", "Basic realm=\"BambooHR API\"");
        sbx_http_header(resp, "X-BambooHR-Error-Message", "Invalid API key");
    } else if (status == 429) {
        sbx_http_header(resp, "Retry-After", "%d", retry_after_s >= 0 ? retry_after_s : 1);
        sbx_http_header(resp, "X-BambooHR-Error-Message", "Rate limit exceeded");
    } else {
        if (retry_after_s >= 0)
            sbx_http_header(resp, "Retry-After", "%d", retry_after_s);
        sbx_http_header(resp, "X-BambooHR-Error-Message", "Request failed (%d)", status);
    }
    return RS_OK; /* BambooHR's errors carry no body */
}

/*
 * The API key is the Basic user name (any password). Bearers: a live access token of the
 * emulated OAuth server, or "sandbox" (kept for tests written before OAuth was emulated).
 */
static bool authorized(const struct sbx_ctx *ctx, const struct sbx_req *req)
{
    char user[256], pass[256];
    const char *bearer = sbx_http_bearer(req->authorization);

    if (ctx->revoked[SBX_PROV_BAMBOOHR])
        return false;
    if (bearer)
        return strcmp(bearer, SECRET) == 0 ||
               !sbx_oauth_check_access(ctx, SBX_PROV_BAMBOOHR, bearer, req->now_us);
    if (sbx_http_basic(req->authorization, user, sizeof(user), pass, sizeof(pass)) != RS_OK)
        return false;
    return strcmp(user, SECRET) == 0;
}

/* "/api/gateway.php/{company}/v1/x" → "/api/v1/x"; other paths unchanged. */
static void normalize_path(const char *path, char *out, size_t outlen)
{
    static const char legacy[] = "/api/gateway.php/";
    const char *rest;

    if (strncmp(path, legacy, sizeof(legacy) - 1) == 0) {
        rest = strchr(path + sizeof(legacy) - 1, '/');
        snprintf(out, outlen, "/api%s", rest ? rest : "/");
        return;
    }
    snprintf(out, outlen, "%s", path);
}

static const char *status_name(const struct sbx_person *p)
{
    return p->state == SBX_STATE_ACTIVE || p->state == SBX_STATE_LEAVE ? "Active" : "Inactive";
}

/* Two people in three have a photo (the rest show null, as in the spec's example). */
static bool photo_url(const struct sbx_person *p, char *out, size_t outlen)
{
    if (p->index % 3 == 0)
        return false;
    snprintf(out, outlen, "https://images.sandbox.example/photos/%ld.jpg",
             sbx_company_bamboohr_id(p->index));
    return true;
}

/* ---- GET /api/v1/employees: cursor pages, as in the spec's example (the fixture) */

/* The spec's example cursor is base64 of {"cursor": "after-124"}; ours are the same. */
static void encode_cursor(long after_id, char *out, size_t outlen)
{
    char json[64];
    int n = snprintf(json, sizeof(json), "{\"cursor\": \"after-%ld\"}", after_id);

    sodium_bin2base64(out, outlen, (const unsigned char *)json, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
}

/* The person index the page starts at; false when the cursor is not one of ours. */
static bool decode_cursor(const char *cursor, long *start)
{
    unsigned char json[128];
    size_t n = 0;
    long id;
    char *after;

    if (sodium_base642bin(json, sizeof(json) - 1, cursor, strlen(cursor), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    json[n] = '\0';
    after = strstr((char *)json, "\"after-");
    if (!after)
        return false;
    after += 7;
    after[strcspn(after, "\"")] = '\0';
    if (!sbx_http_long(after, 1, SBX_EMPLOYEES_MAX, &id))
        return false;
    *start = id; /* id = index + 1: the next index */
    return true;
}

/* "a+b/c=" → "a%2Bb%2Fc%3D", for cursors inside URLs. */
static void url_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *in && o + 4 < outlen; in++) {
        if (*in == '+' || *in == '/' || *in == '=')
            o += (size_t)snprintf(out + o, outlen - o, "%%%02X", (unsigned char)*in);
        else
            out[o++] = *in;
    }
    out[o] = '\0';
}

struct list_query {
    long limit;
    long start;
    int status; /* -1 any, 0 active, 1 inactive */
};

static bool list_query_parse(const struct sbx_req *req, struct list_query *lq)
{
    const char *limit = sbx_http_query_get(&req->query, "page[limit]");
    const char *after = sbx_http_query_get(&req->query, "page[after]");
    const char *status = sbx_http_query_get(&req->query, "filter[status]");

    lq->limit = LIST_LIMIT_DEF;
    lq->start = 0;
    lq->status = -1;
    if (limit && !sbx_http_long(limit, 1, LIST_LIMIT_MAX, &lq->limit))
        return false;
    if (after && *after && !decode_cursor(after, &lq->start))
        return false;
    if (status && strcmp(status, "active") == 0)
        lq->status = 0;
    else if (status && strcmp(status, "inactive") == 0)
        lq->status = 1;
    else if (status)
        return false;
    return true;
}

static bool list_matches(const struct sbx_company *c, const struct sbx_person *p,
                         const struct list_query *lq)
{
    if (!sbx_company_listed(c, p))
        return false;
    return lq->status < 0 || (strcmp(status_name(p), "Active") == 0) == (lq->status == 0);
}

static void render_list_item(struct sbx_json *js, const struct sbx_person *p)
{
    char photo[96];
    bool has_photo = photo_url(p, photo, sizeof(photo));

    sbx_json_obj(js, NULL);
    sbx_json_strf(js, "employeeId", "%ld", sbx_company_bamboohr_id(p->index));
    sbx_json_str(js, "firstName", p->first_name);
    sbx_json_str(js, "lastName", p->last_name);
    sbx_json_opt(js, "preferredName", p->preferred_name);
    sbx_json_str(js, "photoUrl", has_photo ? photo : NULL);
    sbx_json_str(js, "jobTitleName", p->title);
    sbx_json_str(js, "status", status_name(p));
    sbx_json_arr(js, "_restrictedFields");
    sbx_json_end(js);
    sbx_json_end(js);
}

static void render_list_links(struct sbx_json *js, const struct sbx_req *req, long limit,
                              const char *after, const char *next)
{
    char escaped[160];

    sbx_json_obj(js, "_links");
    sbx_json_obj(js, "self");
    url_escape(after ? after : "", escaped, sizeof(escaped));
    sbx_json_strf(js, "href", "%s/api/v1/employees?page%%5Blimit%%5D=%ld%s%s", req->base, limit,
                  after ? "&page%5Bafter%5D=" : "", escaped);
    sbx_json_end(js);
    if (next) {
        url_escape(next, escaped, sizeof(escaped));
        sbx_json_obj(js, "next");
        sbx_json_strf(js, "href", "%s/api/v1/employees?page%%5Blimit%%5D=%ld&page%%5Bafter%%5D=%s",
                      req->base, limit, escaped);
        sbx_json_end(js);
    }
    sbx_json_end(js);
}

static enum rs_err handle_list(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp)
{
    const struct sbx_company *c = ctx->company;
    struct list_query lq;
    struct sbx_json js;
    long total = 0, shown = 0, last_id = 0;
    bool more = false;
    char next[96] = "";

    if (!list_query_parse(req, &lq))
        return bamboohr_error(req, resp, 400, -1);
    for (size_t i = 0; i < c->count; i++)
        total += list_matches(c, &c->people[i], &lq);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_arr(&js, "data");
    for (size_t i = (size_t)lq.start; i < c->count; i++) {
        if (!list_matches(c, &c->people[i], &lq))
            continue;
        if (shown == lq.limit) {
            more = true;
            break;
        }
        render_list_item(&js, &c->people[i]);
        last_id = sbx_company_bamboohr_id((int)i);
        shown++;
    }
    sbx_json_end(&js);
    if (more)
        encode_cursor(last_id, next, sizeof(next));
    sbx_json_obj(&js, "meta");
    sbx_json_int(&js, "total", total);
    sbx_json_obj(&js, "page");
    sbx_json_int(&js, "limit", lq.limit);
    sbx_json_opt(&js, "nextCursor", next);
    sbx_json_null(&js, "prevCursor");
    sbx_json_end(&js);
    sbx_json_end(&js);
    render_list_links(&js, req, lq.limit, sbx_http_query_get(&req->query, "page[after]"),
                      more ? next : NULL);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- GET /api/v1/employees/directory: current employees only, no paging */

static const char *const directory_fields[][3] = {
    {"displayName", "text", "Display name"},
    {"firstName", "text", "First name"},
    {"lastName", "text", "Last name"},
    {"preferredName", "text", "Preferred name"},
    {"jobTitle", "list", "Job title"},
    {"workPhone", "text", "Work Phone"},
    {"mobilePhone", "text", "Mobile Phone"},
    {"workEmail", "email", "Work Email"},
    {"department", "list", "Department"},
    {"location", "list", "Location"},
    {"division", "list", "Division"},
    {"supervisor", "text", "Supervisor"},
    {"photoUploaded", "bool", "Employee photo"},
    {"photoUrl", "url", "Photo URL"},
};

static void render_directory_person(struct sbx_json *js, const struct sbx_company *c,
                                    const struct sbx_person *p)
{
    const struct sbx_person *m = sbx_company_manager(c, p);
    char name[2 * SBX_NAME_MAX + 2], photo[96];
    bool has_photo;

    sbx_json_obj(js, NULL);
    sbx_json_strf(js, "id", "%ld", sbx_company_bamboohr_id(p->index));
    sbx_company_display_name(p, name, sizeof(name));
    sbx_json_str(js, "displayName", name);
    sbx_json_str(js, "firstName", p->first_name);
    sbx_json_str(js, "lastName", p->last_name);
    sbx_json_opt(js, "preferredName", p->preferred_name);
    sbx_json_str(js, "jobTitle", p->title);
    sbx_json_null(js, "workPhone");
    sbx_json_opt(js, "mobilePhone", p->mobile);
    sbx_json_str(js, "workEmail", p->work_email);
    sbx_json_str(js, "department", sbx_company_unit_name(c, SBX_UNIT_DEPARTMENT, p->department));
    sbx_json_opt(js, "location", sbx_company_unit_name(c, SBX_UNIT_LOCATION, p->location));
    sbx_json_opt(
        js, "division",
        sbx_company_unit_name(c, SBX_UNIT_DIVISION, sbx_company_division_of(c, p->department)));
    if (m)
        sbx_company_full_name(m, name, sizeof(name));
    sbx_json_str(js, "supervisor", m ? name : NULL);
    has_photo = photo_url(p, photo, sizeof(photo));
    sbx_json_bool(js, "photoUploaded", has_photo);
    sbx_json_str(js, "photoUrl", has_photo ? photo : NULL);
    sbx_json_end(js);
}

static enum rs_err handle_directory(struct sbx_ctx *ctx, struct sbx_resp *resp)
{
    const struct sbx_company *c = ctx->company;
    struct sbx_json js;

    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_obj(&js, NULL);
    sbx_json_arr(&js, "fields");
    for (size_t i = 0; i < sizeof(directory_fields) / sizeof(directory_fields[0]); i++) {
        sbx_json_obj(&js, NULL);
        sbx_json_str(&js, "id", directory_fields[i][0]);
        sbx_json_str(&js, "type", directory_fields[i][1]);
        sbx_json_str(&js, "name", directory_fields[i][2]);
        sbx_json_end(&js);
    }
    sbx_json_end(&js);
    sbx_json_arr(&js, "employees");
    for (size_t i = 0; i < c->count; i++) {
        const struct sbx_person *p = &c->people[i];

        if (sbx_company_listed(c, p) && strcmp(status_name(p), "Active") == 0)
            render_directory_person(&js, c, p);
    }
    sbx_json_end(&js);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- GET /api/v1/employees/changed?since=&type= */

enum change { CHANGE_INSERTED, CHANGE_UPDATED, CHANGE_DELETED };

static enum change change_of(const struct sbx_person *p, int64_t since_us)
{
    if (p->deleted)
        return CHANGE_DELETED;
    return p->created_us >= since_us ? CHANGE_INSERTED : CHANGE_UPDATED;
}

/* "all", "inserted", "updated", "deleted" → a bit mask of enum change; 0 when unknown. */
static int change_mask(const char *type)
{
    if (!type || strcmp(type, "all") == 0)
        return 7;
    if (strcmp(type, "inserted") == 0)
        return 1 << CHANGE_INSERTED;
    if (strcmp(type, "updated") == 0)
        return 1 << CHANGE_UPDATED;
    if (strcmp(type, "deleted") == 0)
        return 1 << CHANGE_DELETED;
    return 0;
}

static void render_changed(struct sbx_json *js, const struct sbx_company *c, int64_t since_us,
                           int mask)
{
    static const char *const actions[] = {"Inserted", "Updated", "Deleted"};
    int64_t latest = since_us;
    char iso[32], id[24];

    sbx_json_obj(js, NULL);
    sbx_json_obj(js, "employees");
    for (size_t i = 0; i < c->count && !c->empty; i++) {
        const struct sbx_person *p = &c->people[i];
        int64_t changed = p->changed_us - p->changed_us % 1000000; /* seconds, as shown */
        enum change ch = change_of(p, since_us);

        if (changed < since_us || !(mask & (1 << ch)))
            continue;
        if (changed > latest)
            latest = changed;
        snprintf(id, sizeof(id), "%ld", sbx_company_bamboohr_id(p->index));
        sbx_json_obj(js, id);
        sbx_json_str(js, "id", id);
        sbx_json_str(js, "action", actions[ch]);
        sbx_json_str(js, "lastChanged", sbx_time_iso_offset(changed, 0, 'T', iso));
        sbx_json_end(js);
    }
    sbx_json_end(js);
    sbx_json_str(js, "latest", sbx_time_iso_offset(latest, 0, 'T', iso));
    sbx_json_end(js);
}

static enum rs_err handle_changed(struct sbx_ctx *ctx, const struct sbx_req *req,
                                  struct sbx_resp *resp)
{
    const char *since = sbx_http_query_get(&req->query, "since");
    int mask = change_mask(sbx_http_query_get(&req->query, "type"));
    int64_t since_us;
    struct sbx_json js;

    if (!since || rs_time_parse(since, &since_us) != RS_OK || mask == 0)
        return bamboohr_error(req, resp, 400, -1);
    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    render_changed(&js, ctx->company, since_us, mask);
    return sbx_json_done(&js);
}

/* ---- GET /api/v1/meta/lists */

static void render_list_field(struct sbx_json *js, const struct sbx_company *c, int field_id,
                              const char *alias, const char *name, enum sbx_unit_kind kind)
{
    sbx_json_obj(js, NULL);
    sbx_json_int(js, "fieldId", field_id);
    sbx_json_str(js, "alias", alias);
    sbx_json_str(js, "manageable", "yes");
    sbx_json_str(js, "multiple", "no");
    sbx_json_str(js, "name", name);
    sbx_json_arr(js, "options");
    for (int i = 0; i < c->nunits[kind]; i++) {
        sbx_json_obj(js, NULL);
        sbx_json_int(js, "id", c->units[kind][i].id);
        sbx_json_str(js, "archived", "no");
        sbx_json_null(js, "createdDate");
        sbx_json_null(js, "archivedDate");
        sbx_json_str(js, "name", c->units[kind][i].name);
        sbx_json_end(js);
    }
    sbx_json_end(js);
    sbx_json_end(js);
}

static enum rs_err handle_lists(struct sbx_ctx *ctx, struct sbx_resp *resp)
{
    struct sbx_json js;

    sbx_http_json(resp, 200);
    sbx_json_init(&js, &resp->body);
    sbx_json_arr(&js, NULL);
    render_list_field(&js, ctx->company, 4, "department", "Department", SBX_UNIT_DEPARTMENT);
    render_list_field(&js, ctx->company, 17, "division", "Division", SBX_UNIT_DIVISION);
    render_list_field(&js, ctx->company, 18, "location", "Location", SBX_UNIT_LOCATION);
    sbx_json_end(&js);
    return sbx_json_done(&js);
}

/* ---- routing */

static enum rs_err route(struct sbx_ctx *ctx, const struct sbx_req *req, const char *path,
                         struct sbx_resp *resp)
{
    bool get = req->method == SBX_GET;

    if (strcmp(path, "/api/v2/datasets/employee/data") == 0)
        return req->method == SBX_POST ? sbx_dataset_handle(ctx, req, resp)
                                       : bamboohr_error(req, resp, 405, -1);
    if (strncmp(path, "/api/v2/datasets/", 17) == 0)
        return sbx_dataset_problem(resp, 404, "NOT_FOUND", "no such dataset");
    if (strcmp(path, "/api/v1/employees") == 0)
        return get ? handle_list(ctx, req, resp) : bamboohr_error(req, resp, 405, -1);
    if (strcmp(path, "/api/v1/employees/directory") == 0)
        return get ? handle_directory(ctx, resp) : bamboohr_error(req, resp, 405, -1);
    if (strcmp(path, "/api/v1/employees/changed") == 0)
        return get ? handle_changed(ctx, req, resp) : bamboohr_error(req, resp, 405, -1);
    if (strcmp(path, "/api/v1/meta/lists") == 0)
        return get ? handle_lists(ctx, resp) : bamboohr_error(req, resp, 405, -1);
    return bamboohr_error(req, resp, 404, -1);
}

static enum rs_err bamboohr_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                                   struct sbx_resp *resp)
{
    char path[PATH_MAX_LEN];
    char request_id[24];
    const char *request = sbx_http_query_get(&req->query, "request");

    /* OAuth (documented on the company's host; the sandbox takes any company) */
    if (strcmp(req->path, "/authorize.php") == 0)
        return sbx_authorize_handle(ctx, SBX_PROV_BAMBOOHR, "BambooHR", req, resp);
    if (strcmp(req->path, "/token.php") == 0 && request && strcmp(request, "token") == 0)
        return sbx_oauth_token(ctx, SBX_PROV_BAMBOOHR, req, resp);
    if (strcmp(req->path, "/token.php") == 0 && request && strcmp(request, "revoke") == 0)
        return sbx_oauth_revoke(ctx, SBX_PROV_BAMBOOHR, req, resp); /* UNCONFIRMED endpoint */
    if (strcmp(req->path, "/token.php") == 0)
        return bamboohr_error(req, resp, 400, -1);
    if (!authorized(ctx, req))
        return bamboohr_error(req, resp, 401, -1);
    normalize_path(req->path, path, sizeof(path));
    snprintf(request_id, sizeof(request_id), "%08x", randombytes_random());
    sbx_http_header(resp, "X-Request-ID", "%s", request_id);
    return route(ctx, req, path, resp);
}

const struct sbx_provider sbx_bamboohr_provider = {
    .slug = "bamboohr",
    .handle = bamboohr_handle,
    .error = bamboohr_error,
};
