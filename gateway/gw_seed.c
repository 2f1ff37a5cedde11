/*
 * A deterministic example company, written through rs_store like a sync would write it: used
 * by the demo, the conformance tests and the read benchmark until a provider sync fills data.
 */
#include "gw_int.h"

#include <stdio.h>
#include <string.h>

#include "roster/rs_log.h"
#include "roster/rs_store.h"
#include "roster/rs_time.h"

#define FLUSH_EVERY 5000
#define NDEPTS      8
#define NCOST       3
#define NLOCS       5

static const char *const dept_names[NDEPTS] = {"Engineering", "Sales",     "Marketing",
                                               "People",      "Finance",   "Customer Success",
                                               "Product",     "Operations"};
static const char *const first_names[] = {"Ava",  "José",  "Zoë",   "Łukasz", "Amara", "Søren",
                                          "Mei",  "Ahmed", "Chloé", "Ngozi",  "Björn", "Priya",
                                          "Liam", "Yuki",  "Mateo", "Anaïs"};
static const char *const last_names[] = {"Nguyễn", "Müller", "O'Brien", "García",   "Kowalski",
                                         "Okafor", "Tanaka", "Smith",   "Ångström", "Rossi",
                                         "Dubois", "Patel",  "Jensen",  "Silva"};
static const struct {
    const char *name, *city, *country, *zip;
} locs[NLOCS] = {{"Berlin HQ", "Berlin", "DE", "10115"},
                 {"München Office", "München", "DE", "80331"},
                 {"São Paulo Office", "São Paulo", "BR", "01310-100"},
                 {"New York Office", "New York", "US", "10027"},
                 {"Remote", NULL, NULL, NULL}};

struct seed_ctx {
    const struct rs_uuid *account;
    struct rs_db *db;
    struct rs_store_batch *batch[RS_MODEL_COUNT];
    struct rs_store_stats stats;
    struct rs_errbuf *eb;
    int nteams;
};

/* The id, as text, that a record of kind with remote_id gets. */
static json_t *ref(struct seed_ctx *ctx, enum rs_model_kind kind, const char *remote_id)
{
    struct rs_uuid id;
    char text[RS_UUID_STR_LEN];

    if (rs_model_id(ctx->account, kind, remote_id, &id) != RS_OK)
        return json_null(); /* the seeder's remote ids are short; cannot happen */
    return json_string(rs_uuid_format(&id, text));
}

static enum rs_err put(struct seed_ctx *ctx, enum rs_model_kind kind, const char *remote_id,
                       json_t *fields_owned)
{
    json_t *remote = json_pack("[{s:s, s:O}]", "path", "/example", "data", fields_owned);
    struct rs_record rec = {.remote_id = remote_id, .fields = fields_owned, .remote_data = remote};
    enum rs_err err = fields_owned && remote ? RS_OK : RS_ERR_NOMEM;

    if (err == RS_OK)
        err = rs_store_batch_add(ctx->batch[kind], &rec, ctx->eb);
    if (err == RS_OK && rs_store_batch_count(ctx->batch[kind]) >= FLUSH_EVERY)
        err = rs_store_batch_flush(ctx->batch[kind], ctx->db, &ctx->stats, ctx->eb);
    json_decref(remote);
    json_decref(fields_owned);
    return err;
}

static enum rs_err seed_structure(struct seed_ctx *ctx)
{
    char rid[64];
    enum rs_err err = put(ctx, RS_MODEL_COMPANY, "acme",
                          json_pack("{s:s, s:s, s:[s]}", "legal_name", "Acme Example GmbH",
                                    "display_name", "Acme", "eins", "12-3456789"));

    for (int i = 0; i < NLOCS && err == RS_OK; i++) {
        snprintf(rid, sizeof(rid), "loc-%d", i);
        err = put(ctx, RS_MODEL_LOCATION, rid,
                  json_pack("{s:s, s:s?, s:s?, s:s?, s:s}", "name", locs[i].name, "city",
                            locs[i].city, "country", locs[i].country, "zip_code", locs[i].zip,
                            "location_type", "WORK"));
    }
    for (int i = 0; i < NDEPTS && err == RS_OK; i++) {
        snprintf(rid, sizeof(rid), "dept-%d", i);
        err = put(ctx, RS_MODEL_GROUP, rid,
                  json_pack("{s:s, s:s, s:b}", "name", dept_names[i], "type", "DEPARTMENT",
                            "is_commonly_used_as_team", 0));
    }
    for (int i = 0; i < NCOST && err == RS_OK; i++) {
        char name[32];
        snprintf(rid, sizeof(rid), "cc-%d", i);
        snprintf(name, sizeof(name), "CC-%d00", i + 1);
        err = put(ctx, RS_MODEL_GROUP, rid,
                  json_pack("{s:s, s:s, s:b, s:o}", "name", name, "type", "COST_CENTER",
                            "is_commonly_used_as_team", 0, "parent_group", json_null()));
    }
    for (int i = 0; i < ctx->nteams && err == RS_OK; i++) {
        char name[64], parent[32];
        snprintf(rid, sizeof(rid), "team-%d", i);
        snprintf(name, sizeof(name), "%s %d", dept_names[i % NDEPTS], i / NDEPTS + 1);
        snprintf(parent, sizeof(parent), "team-%d", i % NDEPTS);
        err = put(ctx, RS_MODEL_TEAM, rid,
                  json_pack("{s:s, s:o}", "name", name, "parent_team",
                            i < NDEPTS ? json_null() : ref(ctx, RS_MODEL_TEAM, parent)));
    }
    return err;
}

static const char *employment_type(int i)
{
    if (i % 10 == 4)
        return "PART_TIME";
    if (i % 17 == 5)
        return "CONTRACTOR";
    if (i % 31 == 6)
        return "INTERN";
    return "FULL_TIME";
}

/* Day d after 2015-01-01, as an ISO date-time. */
static const char *day(int d, char out[RS_TIME_ISO_LEN])
{
    return rs_time_format((INT64_C(1420070400) + (int64_t)d * 86400) * 1000000, out);
}

/* The id of the record of kind whose remote id is prefix followed by n. */
static json_t *ref_fmt(struct seed_ctx *ctx, enum rs_model_kind kind, const char *prefix, long n)
{
    char rid[64];

    snprintf(rid, sizeof(rid), "%s%ld", prefix, n);
    return ref(ctx, kind, rid);
}

static void set_ref(struct seed_ctx *ctx, json_t *obj, const char *key, enum rs_model_kind kind,
                    const char *prefix, long n)
{
    json_object_set_new(obj, key, ref_fmt(ctx, kind, prefix, n));
}

static void set_str(json_t *obj, const char *key, const char *value)
{
    json_object_set_new(obj, key, value ? json_string(value) : json_null());
}

static json_t *employee_fields(struct seed_ctx *ctx, int i, unsigned seed, const char *rid)
{
    const char *first = first_names[(i * 7 + seed) % (sizeof(first_names) / sizeof(char *))];
    const char *last = last_names[(i * 11 + seed) % (sizeof(last_names) / sizeof(char *))];
    int team = i % ctx->nteams, start_day = (i * 7919 + (int)seed) % 3650;
    bool leaver = i % 25 == 7, pending = i % 50 == 3;
    char text[160], when[RS_TIME_ISO_LEN];
    json_t *fields = json_object(), *groups = json_array(), *jobs = json_array();

    if (!fields || !groups || !jobs) {
        json_decref(fields);
        json_decref(groups);
        json_decref(jobs);
        return NULL;
    }
    set_str(fields, "employee_number", rid + 1);
    json_object_set_new(fields, "company", ref(ctx, RS_MODEL_COMPANY, "acme"));
    set_str(fields, "first_name", first);
    set_str(fields, "last_name", last);
    set_str(fields, "preferred_name", i % 3 ? NULL : first);
    snprintf(text, sizeof(text), "%s %s", first, last);
    set_str(fields, "display_full_name", text);
    snprintf(text, sizeof(text), "person%d@acme.example", i);
    set_str(fields, "username", text);
    set_str(fields, "work_email", text);
    set_str(fields, "personal_email", i % 2 ? NULL : "someone@home.example");
    json_array_append_new(groups, ref_fmt(ctx, RS_MODEL_GROUP, "dept-", team % NDEPTS));
    json_array_append_new(groups, ref_fmt(ctx, RS_MODEL_GROUP, "cc-", i % NCOST));
    json_object_set_new(fields, "groups", groups);
    snprintf(text, sizeof(text), "job-%s", rid);
    json_array_append_new(jobs, ref(ctx, RS_MODEL_EMPLOYMENT, text));
    json_object_set_new(fields, "employments", jobs);
    set_ref(ctx, fields, "work_location", RS_MODEL_LOCATION, "loc-", i % NLOCS);
    set_ref(ctx, fields, "team", RS_MODEL_TEAM, "team-", team);
    if (i > 0)
        set_ref(ctx, fields, "manager", RS_MODEL_EMPLOYEE, "E", 1000 + (i - 1) / 8);
    set_str(fields, "gender", i % 2 ? "FEMALE" : "MALE");
    set_str(fields, "employment_status", leaver ? "INACTIVE" : pending ? "PENDING" : "ACTIVE");
    set_str(fields, "hire_date", day(pending ? 4400 : start_day, when));
    set_str(fields, "start_date", when);
    if (leaver)
        set_str(fields, "termination_date", day(start_day + 400, when));
    return fields;
}

static enum rs_err seed_people(struct seed_ctx *ctx, int n, unsigned seed)
{
    static const char *const titles[] = {"Engineer",  "Account Executive", "Designer",
                                         "Recruiter", "Analyst",           "Support Specialist"};
    enum rs_err err = RS_OK;
    char rid[32], job[48], when[RS_TIME_ISO_LEN];

    for (int i = 0; i < n && err == RS_OK; i++) {
        snprintf(rid, sizeof(rid), "E%d", 1000 + i);
        err = put(ctx, RS_MODEL_EMPLOYEE, rid, employee_fields(ctx, i, seed, rid));
        if (err != RS_OK)
            break;
        snprintf(job, sizeof(job), "job-%s", rid);
        err = put(ctx, RS_MODEL_EMPLOYMENT, job,
                  json_pack("{s:o, s:s, s:f, s:s, s:s, s:s, s:s, s:s}", "employee",
                            ref(ctx, RS_MODEL_EMPLOYEE, rid), "job_title",
                            i == 0 ? "Chief Executive Officer" : titles[i % 6], "pay_rate",
                            50000.0 + (i % 40) * 1000, "pay_period", "YEAR", "pay_frequency",
                            "MONTHLY", "pay_currency", "EUR", "effective_date",
                            day((i * 7919 + (int)seed) % 3650, when), "employment_type",
                            employment_type(i)));
    }
    return err;
}

enum rs_err gw_seed_example(struct rs_db *db, const struct rs_uuid *account, int n, unsigned seed,
                            struct rs_errbuf *eb)
{
    struct seed_ctx ctx = {.account = account, .db = db, .eb = eb};
    enum rs_err err = RS_OK;

    ctx.nteams = n / 12 > NDEPTS ? n / 12 : NDEPTS;
    if (ctx.nteams > 2000)
        ctx.nteams = 2000;
    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++)
        err = rs_store_batch_new(account, (enum rs_model_kind)k, NULL, &ctx.batch[k]);
    if (err == RS_OK)
        err = rs_db_command(db, "BEGIN");
    if (err == RS_OK)
        err = seed_structure(&ctx);
    if (err == RS_OK)
        err = seed_people(&ctx, n, seed);
    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++)
        err = rs_store_batch_flush(ctx.batch[k], db, &ctx.stats, eb);
    if (err == RS_OK)
        err = rs_db_command(db, "COMMIT");
    else if (rs_db_command(db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "rollback failed", NULL);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "example company written",
               "employees=%d inserted=%zu updated=%zu unchanged=%zu", n, ctx.stats.inserted,
               ctx.stats.updated, ctx.stats.unchanged);
    for (int k = 0; k < RS_MODEL_COUNT; k++)
        rs_store_batch_free(ctx.batch[k]);
    return err;
}
