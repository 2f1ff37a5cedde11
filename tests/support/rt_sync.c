/* The sync e2e fixture: sandbox + rosterd + database, control calls, syncs waited for. */
#include "rt_sync.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "rt_api.h"
#include "rt_http.h"
#include "rt_pg.h"

#define SYNC_DEADLINE_MS 90000 /* generous: sanitizer builds are slow; a pass takes far less */
#define SYNC_POLL_MS     20

const struct rt_sync_provider rt_sync_bamboohr = {
    .slug = "bamboohr",
    .name = "BambooHR",
    .credentials = "{\"subdomain\":\"acme\",\"api_key\":\"sandbox\"}",
    .records_path = "/api/v2/datasets/employee/data",
    .incremental = true,
    .personal_email = true,
};

const struct rt_sync_provider rt_sync_personio = {
    .slug = "personio",
    .name = "Personio",
    .credentials = "{\"client_id\":\"roster\",\"client_secret\":\"sandbox\"}",
    .records_path = "/v1/company/employees",
    .incremental = true,
};

const struct rt_sync_provider rt_sync_hibob = {
    .slug = "hibob",
    .name = "HiBob",
    .credentials = "{\"service_user_id\":\"roster\",\"service_user_token\":\"sandbox\"}",
    .records_path = "/v1/people/search",
    .personal_email = true,
    .future_active = true,
};

/* ---- the environment ---- */

int rt_sync_env_start(struct rt_sync_env *env, int employees, int seed,
                      const char *const *extra_env)
{
    const char *base[] = {"ROSTER_SYNC_WORKERS=2", "ROSTER_SYNC_POLL_MS=100",
                          "ROSTER_UPSTREAM_MAX_ATTEMPTS=3", "ROSTER_UPSTREAM_TIMEOUT_MS=10000"};
    const char *all_env[32] = {NULL};
    struct rt_rosterd_opts opts = {.allow_private_upstreams = true, .extra_env = all_env};
    char count[16], seed_text[16];
    const char *args[] = {"--employees", count, "--seed", seed_text, NULL};
    size_t n = 0;

    memset(env, 0, sizeof(*env));
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        all_env[n++] = base[i];
    for (size_t i = 0; extra_env && extra_env[i] && n + 1 < 32; i++)
        all_env[n++] = extra_env[i]; /* later entries win in rosterd's environment */
    snprintf(count, sizeof(count), "%d", employees);
    snprintf(seed_text, sizeof(seed_text), "%d", seed);
    if (rt_pg_migrated_db(env->db_name, sizeof(env->db_name), env->conninfo,
                          sizeof(env->conninfo)) != RS_OK)
        return -1;
    opts.database_url = env->conninfo;
    if (rt_proc_start_sandbox(args, &env->sandbox) != RS_OK ||
        rt_proc_start_rosterd(&opts, &env->rosterd) != RS_OK ||
        !(env->key = rt_api_create_org(env->conninfo, "Sync e2e"))) {
        rt_sync_env_stop(env);
        return -1;
    }
    return 0;
}

int rt_sync_env_stop(struct rt_sync_env *env)
{
    bool clean = true;

    if (env->rosterd) {
        rt_proc_stop(env->rosterd, 15000);
        clean = rt_proc_exited_cleanly(env->rosterd);
    }
    if (env->sandbox) {
        rt_proc_stop(env->sandbox, 15000);
        clean = rt_proc_exited_cleanly(env->sandbox) && clean;
    }
    rt_proc_free(env->rosterd);
    rt_proc_free(env->sandbox);
    rt_pg_drop_db(env->db_name);
    free(env->key);
    memset(env, 0, sizeof(*env));
    return clean ? 0 : -1;
}

/* ---- requests ---- */

/* Performs req, which must get an answer with status want; the JSON answer (new reference). */
static json_t *expect_answer(const struct rt_req *req, long want)
{
    struct rt_resp r = {0};
    json_t *out;

    if (rt_http_do(req, &r) != RS_OK)
        fail_msg("%s %s: no answer (%s)", req->method, req->url, r.errbuf);
    if (want ? r.status != want : (r.status < 200 || r.status > 299)) {
        char message[1024];

        snprintf(message, sizeof(message), "%s %s: status %ld, want %ld; body: %.500s", req->method,
                 req->url, r.status, want, r.body);
        rt_resp_cleanup(&r);
        fail_msg("%s", message);
    }
    out = r.json ? json_incref(r.json) : json_null();
    rt_resp_cleanup(&r);
    return out;
}

json_t *rt_sbx_call(struct rt_sync_env *env, const char *method, const char *path, const char *body)
{
    char url[RT_API_URL_MAX];
    struct rt_req req = {.method = method, .url = url, .body = body};

    rt_api_url(url, env->sandbox, "/_control%s", path);
    return expect_answer(&req, 0);
}

void rt_sbx_reset(struct rt_sync_env *env, int employees, int seed)
{
    char body[96];

    snprintf(body, sizeof(body), "{\"employees\":%d,\"seed\":%d}", employees, seed);
    json_decref(rt_sbx_call(env, "POST", "/reset", body));
    json_decref(rt_sbx_call(env, "DELETE", "/requests", NULL));
}

void rt_sbx_fault(struct rt_sync_env *env, const char *body)
{
    json_decref(rt_sbx_call(env, "POST", "/faults", body));
}

json_t *rt_sbx_truth(struct rt_sync_env *env)
{
    json_t *truth = rt_sbx_call(env, "GET", "/company", NULL);

    if (!json_is_array(json_object_get(truth, "people")))
        fail_msg("the sandbox's company has no people array");
    return truth;
}

json_t *rt_sbx_requests(struct rt_sync_env *env)
{
    json_t *log = rt_sbx_call(env, "GET", "/requests", NULL);
    json_t *requests = json_incref(json_object_get(log, "requests"));

    json_decref(log);
    if (!json_is_array(requests))
        fail_msg("the sandbox's request log has no requests array");
    return requests;
}

json_t *rt_sbx_person(const json_t *truth, json_int_t index)
{
    json_t *p = json_array_get(json_object_get(truth, "people"), (size_t)index);

    if (json_integer_value(json_object_get(p, "index")) != index)
        fail_msg("the sandbox's people are not in index order");
    return p;
}

json_t *rt_sbx_edit(struct rt_sync_env *env, const char *method, int index, const char *action,
                    const char *body)
{
    char path[96];

    snprintf(path, sizeof(path), "/employees/%d%s", index, action);
    return rt_sbx_call(env, method, path, body);
}

const char *rt_sbx_remote_id(const struct rt_sync_provider *prov, const json_t *person,
                             char out[64])
{
    const json_t *id = json_object_get(json_object_get(person, "ids"), prov->slug);

    if (json_is_string(id))
        snprintf(out, 64, "%s", json_string_value(id));
    else if (json_is_integer(id))
        snprintf(out, 64, "%lld", (long long)json_integer_value(id));
    else
        fail_msg("person without a %s id", prov->slug);
    return out;
}

static bool is_manager(const json_t *people, json_int_t index)
{
    size_t i;
    json_t *p;

    json_array_foreach(people, i, p)
    {
        if (!json_is_true(json_object_get(p, "deleted")) &&
            json_integer_value(json_object_get(p, "manager")) == index &&
            json_is_integer(json_object_get(p, "manager")))
            return true;
    }
    return false;
}

int rt_sbx_pick(const json_t *truth, int after, const int *skip, size_t n)
{
    const json_t *people = json_object_get(truth, "people");
    size_t i;
    json_t *p;

    json_array_foreach(people, i, p)
    {
        json_int_t index = json_integer_value(json_object_get(p, "index"));
        bool skipped = false;

        for (size_t s = 0; s < n; s++)
            skipped = skipped || skip[s] == index;
        if (index <= after || index == 0 || skipped ||
            json_is_true(json_object_get(p, "deleted")) ||
            strcmp(rt_sync_str(p, "status") ? rt_sync_str(p, "status") : "", "active") != 0 ||
            is_manager(people, index))
            continue;
        return (int)index;
    }
    fail_msg("no active non-manager person after %d in the sandbox", after);
    return -1;
}

json_t *rt_sync_call(struct rt_sync_env *env, const struct rt_sync_account *acct,
                     const char *method, const char *body, long status, const char *fmt, ...)
{
    char url[RT_API_URL_MAX], path[RT_API_URL_MAX / 2];
    struct rt_req req = {.method = method,
                         .url = url,
                         .api_key = env->key,
                         .account_token = acct ? acct->token : NULL,
                         .body = body};
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(path))
        fail_msg("path too long");
    rt_api_url(url, env->rosterd, "%s", path);
    return expect_answer(&req, status);
}

/* ---- linked accounts and syncs ---- */

void rt_sync_link_nowait(struct rt_sync_env *env, const struct rt_sync_provider *prov,
                         struct rt_sync_account *acct)
{
    char body[1024];
    json_t *created;

    snprintf(body, sizeof(body),
             "{\"integration\":\"%s\",\"end_user_origin_id\":\"%s-%d\","
             "\"end_user_organization_name\":\"Acme (sync e2e)\","
             "\"end_user_email_address\":\"hr@acme.example\",\"credentials\":%s,"
             "\"base_url\":\"%s/%s\"}",
             prov->slug, prov->slug, ++env->origin_counter, prov->credentials,
             rt_proc_url(env->sandbox), prov->slug);
    created = rt_sync_call(env, NULL, "POST", body, 201, "/api/admin/v1/linked-accounts");
    memset(acct, 0, sizeof(*acct));
    acct->prov = prov;
    if (!rt_sync_str(created, "id") || !rt_sync_str(created, "account_token"))
        fail_msg("%s: the 201 lacks id or account_token", prov->slug);
    snprintf(acct->id, sizeof(acct->id), "%s", rt_sync_str(created, "id"));
    snprintf(acct->token, sizeof(acct->token), "%s", rt_sync_str(created, "account_token"));
    json_decref(created);
}

void rt_sync_link(struct rt_sync_env *env, const struct rt_sync_provider *prov,
                  struct rt_sync_account *acct, json_t **initial)
{
    json_t *sync;

    rt_sync_link_nowait(env, prov, acct);
    sync = rt_sync_wait(env, acct, NULL);
    if (strcmp(rt_sync_str(sync, "status"), "DONE") != 0 ||
        strcmp(rt_sync_str(sync, "trigger"), "INITIAL") != 0 ||
        strcmp(rt_sync_str(sync, "kind"), "FULL") != 0) {
        char *text = json_dumps(sync, JSON_COMPACT);
        char message[2048];

        snprintf(message, sizeof(message), "%s: the initial sync is not a DONE FULL INITIAL: %s",
                 prov->slug, text ? text : "?");
        free(text);
        json_decref(sync);
        fail_msg("%s", message);
    }
    if (initial)
        *initial = sync;
    else
        json_decref(sync);
}

json_t *rt_sync_history(struct rt_sync_env *env, const struct rt_sync_account *acct)
{
    json_t *page = rt_sync_call(env, NULL, "GET", NULL, 200,
                                "/api/admin/v1/linked-accounts/%s/syncs", acct->id);
    json_t *results = json_incref(json_object_get(page, "results"));

    json_decref(page);
    if (!json_is_array(results))
        fail_msg("%s: the sync history has no results array", acct->prov->slug);
    return results;
}

static bool running(const json_t *sync)
{
    const char *status = rt_sync_str(sync, "status");

    return !status || strcmp(status, "QUEUED") == 0 || strcmp(status, "SYNCING") == 0;
}

json_t *rt_sync_wait(struct rt_sync_env *env, const struct rt_sync_account *acct,
                     const char *not_id)
{
    long long deadline = rt_now_ms() + SYNC_DEADLINE_MS;

    for (;;) {
        json_t *history = rt_sync_history(env, acct);
        json_t *newest = json_incref(json_array_get(history, 0));
        const char *id = rt_sync_str(newest, "id");

        json_decref(history);
        if (newest && !running(newest) && !(not_id && id && strcmp(id, not_id) == 0))
            return newest;
        json_decref(newest);
        if (rt_now_ms() >= deadline) {
            rt_proc_dump_log(env->rosterd, 40);
            fail_msg("%s: no sync of account %s ended within %d ms", acct->prov->slug, acct->id,
                     SYNC_DEADLINE_MS);
        }
        rt_poll_pause(SYNC_POLL_MS);
    }
}

json_t *rt_sync_run(struct rt_sync_env *env, const struct rt_sync_account *acct, const char *kind)
{
    char body[64];
    json_t *history = rt_sync_history(env, acct), *answer;
    char before[64] = "";

    if (json_array_size(history) > 0)
        snprintf(before, sizeof(before), "%s", rt_sync_str(json_array_get(history, 0), "id"));
    json_decref(history);
    snprintf(body, sizeof(body), "{\"kind\":\"%s\"}", kind);
    answer = rt_sync_call(env, NULL, "POST", body, 202, "/api/admin/v1/linked-accounts/%s/syncs",
                          acct->id);
    if (!json_is_true(json_object_get(answer, "queued")))
        fail_msg("%s: a %s sync was not queued", acct->prov->slug, kind);
    json_decref(answer);
    return rt_sync_wait(env, acct, before[0] ? before : NULL);
}

json_t *rt_sync_expect(struct rt_sync_env *env, const struct rt_sync_account *acct,
                       const char *kind, const char *want)
{
    json_t *sync = rt_sync_run(env, acct, kind);

    if (strcmp(rt_sync_str(sync, "status"), want) != 0) {
        char *text = json_dumps(sync, JSON_COMPACT);
        char message[2048];

        snprintf(message, sizeof(message), "%s: the %s sync ended %s, want %s: %s",
                 acct->prov->slug, kind, rt_sync_str(sync, "status"), want, text ? text : "?");
        free(text);
        json_decref(sync);
        fail_msg("%s", message);
    }
    return sync;
}

long rt_sync_stat(const json_t *sync, const char *model, const char *field)
{
    const json_t *value =
        json_object_get(json_object_get(json_object_get(sync, "stats"), model), field);

    return json_is_integer(value) ? (long)json_integer_value(value) : -1;
}

/* ---- reading back ---- */

json_t *rt_sync_all(struct rt_sync_env *env, const struct rt_sync_account *acct, const char *model,
                    const char *query)
{
    json_t *all = json_array();
    char cursor[1024] = "";

    for (int pages = 0; pages < 1000; pages++) {
        json_t *page = rt_sync_call(
            env, acct, "GET", NULL, 200, "/api/hris/v1/%s?page_size=100%s%s%s%s", model,
            query ? "&" : "", query ? query : "", cursor[0] ? "&cursor=" : "", cursor);
        const json_t *next = json_object_get(page, "next");

        if (!json_is_array(json_object_get(page, "results")))
            fail_msg("%s: %s has no results", acct->prov->slug, model);
        json_array_extend(all, json_object_get(page, "results"));
        if (!json_is_string(next)) {
            json_decref(page);
            return all;
        }
        if (!rt_http_escape(json_string_value(next), cursor, sizeof(cursor)))
            fail_msg("cursor too long");
        json_decref(page);
    }
    fail_msg("%s: %s never ended", acct->prov->slug, model);
    return NULL;
}

json_t *rt_sync_by(const json_t *records, const char *key)
{
    json_t *out = json_object();
    size_t i;
    json_t *record;

    json_array_foreach(records, i, record)
    {
        const char *value = rt_sync_str(record, key);

        if (!value)
            fail_msg("a record without %s", key);
        if (json_object_get(out, value))
            fail_msg("two records with %s %s", key, value);
        json_object_set(out, value, record);
    }
    return out;
}

json_t *rt_sync_employees(struct rt_sync_env *env, const struct rt_sync_account *acct,
                          const char *key)
{
    json_t *all =
        rt_sync_all(env, acct, "employees", "include_deleted_data=true&include_remote_data=true");
    json_t *out = rt_sync_by(all, key);

    json_decref(all);
    return out;
}

json_t *rt_sync_jobs(struct rt_sync_env *env, const struct rt_sync_account *acct)
{
    json_t *all = rt_sync_all(env, acct, "employments", NULL);
    json_t *out = rt_sync_by(all, "employee");

    json_decref(all);
    return out;
}

json_t *rt_sync_stored(const struct rt_sync_account *acct, const json_t *employees,
                       const json_t *person)
{
    char rid[64];
    json_t *e = json_object_get(employees, rt_sbx_remote_id(acct->prov, person, rid));

    if (!e)
        fail_msg("%s: person %lld (remote id %s) is not stored", acct->prov->slug,
                 (long long)json_integer_value(json_object_get(person, "index")), rid);
    return e;
}

const char *rt_sync_group_id(const json_t *groups, const char *type, const char *name)
{
    size_t i;
    json_t *group;

    json_array_foreach(groups, i, group)
    {
        const char *t = rt_sync_str(group, "type"), *n = rt_sync_str(group, "name");

        if (t && n && strcmp(t, type) == 0 && strcmp(n, name) == 0)
            return rt_sync_str(group, "id");
    }
    return NULL;
}

bool rt_sync_has(const json_t *array, const char *value)
{
    size_t i;
    json_t *item;

    json_array_foreach(array, i, item)
    {
        if (json_is_string(item) && strcmp(json_string_value(item), value) == 0)
            return true;
    }
    return false;
}

const char *rt_sync_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const char *rt_sync_today(char out[16])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
    return out;
}

char *rt_sync_wait_for(struct rt_sync_env *env, const struct rt_sync_account *acct,
                       const char *not_id, const char *want)
{
    json_t *sync = rt_sync_wait(env, acct, not_id);
    char *id = strdup(rt_sync_str(sync, "id"));

    if (strcmp(rt_sync_str(sync, "status"), want) != 0) {
        char *text = json_dumps(sync, 0);
        fail_msg("sync ended %s, want %s: %s", rt_sync_str(sync, "status"), want, text);
    }
    json_decref(sync);
    return id;
}

void rt_sync_expect_same_ids(const json_t *before, const json_t *after)
{
    const char *key;
    json_t *employee;

    json_object_foreach((json_t *)before, key, employee)
    {
        const char *kept = rt_sync_str(json_object_get(after, key), "id");

        if (!kept)
            fail_msg("employee %s is gone", key);
        assert_string_equal(kept, rt_sync_str(employee, "id"));
    }
}

char *rt_sync_sql_value(struct rt_sync_env *env, const char *sql, const char *param)
{
    PGconn *conn = PQconnectdb(env->conninfo);
    const char *params[1] = {param};
    PGresult *res =
        conn ? PQexecParams(conn, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0) : NULL;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    char *out = NULL;

    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fail_msg("SQL failed: %s", conn ? PQerrorMessage(conn) : "no connection");
    if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        out = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return out;
}

long rt_sync_sql_count(struct rt_sync_env *env, const char *sql, const char *param)
{
    char *value = rt_sync_sql_value(env, sql, param);
    long n = value ? strtol(value, NULL, 10) : -1;

    free(value);
    return n;
}

double rt_sync_metric(struct rt_sync_env *env, const char *sample)
{
    char url[RT_API_URL_MAX];
    struct rt_resp r = {0};
    const char *line;
    double value = 0;

    rt_api_get(rt_api_url(url, env->rosterd, "/metrics"), NULL, NULL, &r);
    rt_api_expect_status(&r, 200, "/metrics");
    for (line = r.body; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, sample, strlen(sample)) == 0 && line[strlen(sample)] == ' ') {
            value = strtod(line + strlen(sample) + 1, NULL);
            break;
        }
    }
    rt_resp_cleanup(&r);
    return value;
}
