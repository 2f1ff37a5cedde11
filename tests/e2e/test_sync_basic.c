/*
 * End to end, the sync engine against roster-sandbox for BambooHR, Personio and HiBob: the
 * first sync matches the sandbox's truth; hires, changes, e-mail changes, terminations and
 * deletions show up after the next sync; a no-change resync writes nothing; sync-status;
 * selective sync; the mass-change guard with approve and discard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "rt_api.h"
#include "rt_http.h"
#include "rt_sync.h"

#define EMPLOYEES 120
#define SEED      2 /* a company with people on leave, an onboarding hire and leavers */
#define ADMIN_LA  "/api/admin/v1/linked-accounts"

static struct rt_sync_env env;
static bool teardown_failed;

static const char *const model_names[] = {"Employee", "Employment", "Group",
                                          "Team",     "Location",   "Company"};
#define NMODELS (sizeof(model_names) / sizeof(model_names[0]))

static int group_setup(void **state)
{
    (void)state;
    return rt_sync_env_start(&env, EMPLOYEES, SEED, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    if (rt_sync_env_stop(&env) != 0)
        teardown_failed = true;
    return teardown_failed ? -1 : 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void expect_str(const char *what, const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fail_msg("%s: got %s, want %s", what, got ? got : "null", want ? want : "null");
}

/* "YYYY-MM-DD" → "YYYY-MM-DDT00:00:00Z" in out (NULL stays NULL). */
static const char *midnight(const char *date, char out[32])
{
    if (!date)
        return NULL;
    snprintf(out, 32, "%sT00:00:00Z", date);
    return out;
}

/* What each adapter's documentation says a sandbox state maps to. */
static const char *expected_status(const struct rt_sync_provider *prov, const json_t *person)
{
    const char *state = rt_sync_str(person, "status");
    char today[16];

    if (strcmp(state, "terminated") == 0)
        return "INACTIVE";
    if (strcmp(state, "onboarding") == 0)
        return prov->future_active &&
                       strcmp(rt_sync_str(person, "hire_date"), rt_sync_today(today)) <= 0
                   ? "ACTIVE"
                   : "PENDING";
    return "ACTIVE"; /* active, leave */
}

/* The Roster id the employee of person index must have as its manager (NULL: none). */
static const char *manager_id(const struct rt_sync_account *acct, const json_t *truth,
                              const json_t *employees, const json_t *person)
{
    const json_t *manager = json_object_get(person, "manager");

    if (!json_is_integer(manager))
        return NULL;
    return rt_sync_str(
        rt_sync_stored(acct, employees, rt_sbx_person(truth, json_integer_value(manager))), "id");
}

/* Every normalized field the sandbox's truth pins down, for one person. */
static void check_person(const struct rt_sync_account *acct, const json_t *truth,
                         const json_t *person, const json_t *employees, const json_t *groups,
                         const json_t *locations, const json_t *employments)
{
    const json_t *e = rt_sync_stored(acct, employees, person);
    const char *dept = rt_sync_str(json_object_get(person, "department"), "name");
    const char *dept_id = rt_sync_group_id(groups, "DEPARTMENT", dept);
    const json_t *location = json_object_get(locations, rt_sync_str(e, "work_location"));
    const json_t *job = json_object_get(employments, rt_sync_str(e, "id"));
    char want[32], what[160];

    snprintf(what, sizeof(what), "%s person %lld", acct->prov->slug,
             (long long)json_integer_value(json_object_get(person, "index")));
    expect_str(what, rt_sync_str(e, "first_name"), rt_sync_str(person, "first_name"));
    expect_str(what, rt_sync_str(e, "last_name"), rt_sync_str(person, "last_name"));
    expect_str(what, rt_sync_str(e, "work_email"), rt_sync_str(person, "work_email"));
    if (acct->prov->personal_email)
        expect_str(what, rt_sync_str(e, "personal_email"), rt_sync_str(person, "personal_email"));
    expect_str(what, rt_sync_str(e, "employment_status"), expected_status(acct->prov, person));
    expect_str(what, rt_sync_str(e, "hire_date"), midnight(rt_sync_str(person, "hire_date"), want));
    expect_str(what, rt_sync_str(e, "termination_date"),
               midnight(rt_sync_str(person, "termination_date"), want));
    expect_str(what, rt_sync_str(e, "manager"), manager_id(acct, truth, employees, person));
    if (!dept_id || !rt_sync_has(json_object_get(e, "groups"), dept_id))
        fail_msg("%s: not in the DEPARTMENT group %s", what, dept);
    expect_str(what, rt_sync_str(location, "name"),
               rt_sync_str(json_object_get(person, "location"), "name"));
    if (!job || !rt_sync_has(json_object_get(e, "employments"), rt_sync_str(job, "id")))
        fail_msg("%s: no employment", what);
    expect_str(what, rt_sync_str(job, "job_title"), rt_sync_str(person, "title"));
    assert_false(json_is_true(json_object_get(e, "remote_was_deleted")));
}

static bool non_ascii(const char *text)
{
    for (; text && *text; text++) {
        if ((unsigned char)*text >= 0x80)
            return true;
    }
    return false;
}

/* People with a name outside ASCII. */
static size_t count_non_ascii(const json_t *people)
{
    size_t i, n = 0;
    json_t *p;

    json_array_foreach(people, i, p) n +=
        non_ascii(rt_sync_str(p, "first_name")) || non_ascii(rt_sync_str(p, "last_name"));
    return n;
}

/* The whole stored company of acct against the sandbox's truth. */
static void check_truth(const struct rt_sync_account *acct, const json_t *truth)
{
    const json_t *people = json_object_get(truth, "people");
    const json_t *departments = json_object_get(json_object_get(truth, "units"), "departments");
    json_t *employees = rt_sync_employees(&env, acct, "remote_id"),
           *groups = rt_sync_all(&env, acct, "groups", NULL);
    json_t *location_list = rt_sync_all(&env, acct, "locations", NULL);
    json_t *locations = rt_sync_by(location_list, "id");
    json_t *employments = rt_sync_jobs(&env, acct);
    size_t i, live = 0, dept_groups = 0;
    json_t *item;

    json_array_foreach(people, i, item)
    {
        if (json_is_true(json_object_get(item, "deleted")))
            continue;
        live++;
        check_person(acct, truth, item, employees, groups, locations, employments);
    }
    assert_int_equal(json_object_size(employees), live); /* deleted people never appear */
    assert_int_equal(json_object_size(employments), live);
    json_array_foreach(departments, i, item)
    {
        if (!rt_sync_group_id(groups, "DEPARTMENT", rt_sync_str(item, "name")))
            fail_msg("%s: no DEPARTMENT group %s", acct->prov->slug, rt_sync_str(item, "name"));
    }
    json_array_foreach(groups, i, item) dept_groups +=
        strcmp(rt_sync_str(item, "type"), "DEPARTMENT") == 0;
    assert_int_equal(dept_groups, json_array_size(departments));
    json_decref(employees);
    json_decref(groups);
    json_decref(location_list);
    json_decref(locations);
    json_decref(employments);
}

/* ---- the first sync ----------------------------------------------------------------------- */

/* The value of one sample line of rosterd's /metrics (0 when absent). */
static double metric(const char *sample)
{
    return rt_sync_metric(&env, sample);
}

static void first_sync(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *truth, *initial = NULL;
    double done_before = metric("roster_syncs_total{outcome=\"done\"}");
    double inserted_before = metric("roster_sync_rows_total{op=\"inserted\"}");

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, &initial);
    /* the sync shows in the process's metrics (its rows: employees, employments and more) */
    assert_true(metric("roster_syncs_total{outcome=\"done\"}") >= done_before + 1);
    assert_true(metric("roster_sync_rows_total{op=\"inserted\"}") >=
                inserted_before + 2 * EMPLOYEES);
    truth = rt_sbx_truth(&env);
    /* the company exercises what the comparison is for */
    assert_true(count_non_ascii(json_object_get(truth, "people")) >= 10);
    assert_int_equal(rt_sync_stat(initial, "Employee", "inserted"), EMPLOYEES);
    assert_int_equal(rt_sync_stat(initial, "Employment", "inserted"), EMPLOYEES);
    assert_int_equal(rt_sync_stat(initial, "Employee", "invalid"), 0);
    assert_int_equal(rt_sync_stat(initial, "Employee", "skipped"), 0);
    assert_true(rt_sync_stat(initial, "Company", "inserted") >= 1);
    check_truth(&acct, truth);
    json_decref(truth);
    json_decref(initial);
}

/* ---- changes after the first sync --------------------------------------------------------- */

/* Two hires (one starting today, one in the future) appear after an incremental sync. */
static void check_hires(const struct rt_sync_account *acct)
{
    char future[16], body[512], want[32];
    time_t later = time(NULL) + 60 * 86400;
    struct tm tm;
    json_t *now_hire, *later_hire, *sync, *employees, *truth, *e;

    gmtime_r(&later, &tm);
    strftime(future, sizeof(future), "%Y-%m-%d", &tm);
    now_hire = rt_sbx_call(&env, "POST", "/employees",
                           "{\"first_name\":\"Zoë\",\"last_name\":\"Ångström\","
                           "\"email\":\"zoe.angstrom.e2e@sandbox.example\","
                           "\"department\":\"Engineering\",\"title\":\"Staff Engineer\","
                           "\"manager\":0,\"employment_type\":\"full_time\"}");
    snprintf(body, sizeof(body),
             "{\"first_name\":\"Łukasz\",\"last_name\":\"Nguyễn 李\","
             "\"email\":\"lukasz.nguyen.e2e@sandbox.example\",\"department\":\"Sales\","
             "\"title\":\"Account Executive\",\"manager\":0,\"start_date\":\"%s\"}",
             future);
    later_hire = rt_sbx_call(&env, "POST", "/employees", body);
    sync = rt_sync_expect(&env, acct, acct->prov->incremental ? "INCREMENTAL" : "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "inserted"), 2);
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 0);
    if (acct->prov->incremental)
        assert_false(json_is_true(json_object_get(json_object_get(sync, "stats"), "full")));
    truth = rt_sbx_truth(&env);
    employees = rt_sync_employees(&env, acct, "remote_id");
    assert_int_equal(json_object_size(employees), EMPLOYEES + 2);
    e = rt_sync_stored(acct, employees, now_hire);
    expect_str("hire", rt_sync_str(e, "first_name"), "Zoë");
    expect_str("hire", rt_sync_str(e, "last_name"), "Ångström");
    expect_str("hire", rt_sync_str(e, "work_email"), "zoe.angstrom.e2e@sandbox.example");
    expect_str("hire", rt_sync_str(e, "employment_status"), "ACTIVE");
    expect_str("hire", rt_sync_str(e, "manager"), manager_id(acct, truth, employees, now_hire));
    e = rt_sync_stored(acct, employees, later_hire);
    expect_str("future hire", rt_sync_str(e, "last_name"), "Nguyễn 李");
    expect_str("future hire", rt_sync_str(e, "employment_status"), "PENDING");
    expect_str("future hire", rt_sync_str(e, "start_date"), midnight(future, want));
    json_decref(employees);
    json_decref(truth);
    json_decref(sync);
    json_decref(now_hire);
    json_decref(later_hire);
}

/* A new title, department and manager: the same employee, updated. */
static void check_change(const struct rt_sync_account *acct, int index)
{
    json_t *truth = rt_sbx_truth(&env), *before = rt_sync_employees(&env, acct, "remote_id"),
           *after, *sync, *groups, *jobs;
    const json_t *person = rt_sbx_person(truth, index);
    json_int_t old_manager = json_integer_value(json_object_get(person, "manager"));
    int manager = old_manager == 1 ? 2 : 1;
    const char *old_dept = rt_sync_str(json_object_get(person, "department"), "name");
    const json_t *old, *e;
    char body[256];

    assert_string_not_equal(old_dept, "Finance");
    old = rt_sync_stored(acct, before, person);
    snprintf(body, sizeof(body),
             "{\"title\":\"Principal Engineer (e2e)\",\"department\":\"Finance\",\"manager\":%d}",
             manager);
    json_decref(rt_sbx_edit(&env, "PATCH", index, "", body));
    sync = rt_sync_expect(&env, acct, acct->prov->incremental ? "INCREMENTAL" : "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "inserted"), 0);
    assert_true(rt_sync_stat(sync, "Employee", "updated") >= 1);
    after = rt_sync_employees(&env, acct, "remote_id");
    groups = rt_sync_all(&env, acct, "groups", NULL);
    jobs = rt_sync_jobs(&env, acct);
    e = rt_sync_stored(acct, after, person);
    expect_str("changed person keeps its id", rt_sync_str(e, "id"), rt_sync_str(old, "id"));
    assert_true(rt_sync_has(json_object_get(e, "groups"),
                            rt_sync_group_id(groups, "DEPARTMENT", "Finance")));
    assert_false(rt_sync_has(json_object_get(e, "groups"),
                             rt_sync_group_id(groups, "DEPARTMENT", old_dept)));
    expect_str("new manager", rt_sync_str(e, "manager"),
               rt_sync_str(rt_sync_stored(acct, after, rt_sbx_person(truth, manager)), "id"));
    expect_str("new title", rt_sync_str(json_object_get(jobs, rt_sync_str(e, "id")), "job_title"),
               "Principal Engineer (e2e)");
    assert_true(strcmp(rt_sync_str(e, "modified_at"), rt_sync_str(old, "modified_at")) > 0);
    expect_str("created_at", rt_sync_str(e, "created_at"), rt_sync_str(old, "created_at"));
    json_decref(truth);
    json_decref(before);
    json_decref(after);
    json_decref(sync);
    json_decref(groups);
    json_decref(jobs);
}

/* A new work e-mail is an update of the same person, not a new one. */
static void check_email_change(const struct rt_sync_account *acct, int index)
{
    json_t *truth = rt_sbx_truth(&env), *before = rt_sync_employees(&env, acct, "remote_id"),
           *after, *sync;
    const json_t *person = rt_sbx_person(truth, index), *old, *e, *item;
    char body[128], email[96];
    const char *key;

    snprintf(email, sizeof(email), "renamed.%d.e2e@sandbox.example", index);
    snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
    old = rt_sync_stored(acct, before, person);
    json_decref(rt_sbx_edit(&env, "PATCH", index, "", body));
    sync = rt_sync_expect(&env, acct, acct->prov->incremental ? "INCREMENTAL" : "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "inserted"), 0);
    after = rt_sync_employees(&env, acct, "remote_id");
    e = rt_sync_stored(acct, after, person);
    expect_str("e-mail change keeps the id", rt_sync_str(e, "id"), rt_sync_str(old, "id"));
    expect_str("new e-mail", rt_sync_str(e, "work_email"), email);
    assert_int_equal(json_object_size(after), json_object_size(before));
    json_object_foreach(after, key, item)
    {
        if (rt_sync_str(item, "work_email") &&
            strcmp(rt_sync_str(item, "work_email"), rt_sync_str(old, "work_email")) == 0)
            fail_msg("%s: the old e-mail is still stored (remote id %s)", acct->prov->slug, key);
    }
    json_decref(truth);
    json_decref(before);
    json_decref(after);
    json_decref(sync);
}

static void check_termination(const struct rt_sync_account *acct, int index)
{
    json_t *answer = rt_sbx_edit(&env, "POST", index, "/terminate", "{}"), *employees, *sync;
    const json_t *e;
    char want[32];

    assert_non_null(rt_sync_str(answer, "termination_date"));
    sync = rt_sync_expect(&env, acct, acct->prov->incremental ? "INCREMENTAL" : "FULL", "DONE");
    employees = rt_sync_employees(&env, acct, "remote_id");
    e = rt_sync_stored(acct, employees, answer);
    expect_str("terminated", rt_sync_str(e, "employment_status"), "INACTIVE");
    expect_str("termination date", rt_sync_str(e, "termination_date"),
               midnight(rt_sync_str(answer, "termination_date"), want));
    assert_false(json_is_true(json_object_get(e, "remote_was_deleted")));
    json_decref(answer);
    json_decref(employees);
    json_decref(sync);
}

/* A deleted person is marked remote_was_deleted by the next full sync only. */
static void check_deletion(const struct rt_sync_account *acct, int index)
{
    json_t *truth = rt_sbx_truth(&env), *employees = rt_sync_employees(&env, acct, "remote_id"),
           *sync, *visible, *after;
    json_t *list;
    const json_t *person = rt_sbx_person(truth, index);
    char id[64];
    const json_t *e;

    snprintf(id, sizeof(id), "%s", rt_sync_str(rt_sync_stored(acct, employees, person), "id"));
    json_decref(rt_sbx_edit(&env, "DELETE", index, "", NULL));
    if (acct->prov->incremental) { /* changes-only syncs cannot see a deletion */
        sync = rt_sync_expect(&env, acct, "INCREMENTAL", "DONE");
        assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 0);
        json_decref(sync);
        after = rt_sync_employees(&env, acct, "remote_id");
        assert_false(json_is_true(
            json_object_get(rt_sync_stored(acct, after, person), "remote_was_deleted")));
        json_decref(after);
    }
    sync = rt_sync_expect(&env, acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 1);
    after = rt_sync_employees(&env, acct, "remote_id");
    e = rt_sync_stored(acct, after, person);
    expect_str("deleted keeps its id", rt_sync_str(e, "id"), id);
    assert_true(json_is_true(json_object_get(e, "remote_was_deleted")));
    list = rt_sync_all(&env, acct, "employees", NULL);
    visible = rt_sync_by(list, "id");
    assert_null(json_object_get(visible, id)); /* hidden without include_deleted_data */
    assert_int_equal(json_object_size(visible), json_object_size(after) - 1);
    json_decref(list);
    json_decref(visible);
    json_decref(after);
    json_decref(sync);
    json_decref(truth);
    json_decref(employees);
}

static void mutations(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *truth;
    int picked[4];

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    truth = rt_sbx_truth(&env);
    for (size_t i = 0; i < 4; i++)
        picked[i] = rt_sbx_pick(truth, 2, picked, i);
    json_decref(truth);
    check_hires(&acct);
    check_change(&acct, picked[0]);
    check_email_change(&acct, picked[1]);
    check_termination(&acct, picked[2]);
    check_deletion(&acct, picked[3]);
}

/* ---- a resync without changes ------------------------------------------------------------- */

static void no_change(const struct rt_sync_provider *prov)
{
    const char *kinds[2] = {"FULL", prov->incremental ? "INCREMENTAL" : NULL};
    struct rt_sync_account acct;
    json_t *before, *after, *sync;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    before = rt_sync_employees(&env, &acct, "id");
    for (size_t k = 0; k < 2 && kinds[k]; k++) {
        sync = rt_sync_expect(&env, &acct, kinds[k], "DONE");
        for (size_t m = 0; m < NMODELS; m++) {
            if (rt_sync_stat(sync, model_names[m], "inserted") != 0 ||
                rt_sync_stat(sync, model_names[m], "updated") != 0 ||
                rt_sync_stat(sync, model_names[m], "deleted") != 0)
                fail_msg("%s: a no-change %s sync wrote %s rows", prov->slug, kinds[k],
                         model_names[m]);
        }
        if (strcmp(kinds[k], "FULL") == 0)
            assert_int_equal(rt_sync_stat(sync, "Employee", "unchanged"), EMPLOYEES);
        json_decref(sync);
        after = rt_sync_employees(&env, &acct, "id");
        /* every row as it was, modified_at included */
        if (!json_equal(before, after))
            fail_msg("%s: a no-change %s sync changed stored employees", prov->slug, kinds[k]);
        json_decref(after);
    }
    json_decref(before);
}

/* ---- Merge's sync-status and resync ------------------------------------------------------- */

/* Checks the SyncStatus array: one per model, each with status and is_initial_sync. */
static void check_statuses(const json_t *results, const char *status, bool initial)
{
    size_t i;
    json_t *item;

    assert_int_equal(json_array_size(results), NMODELS);
    json_array_foreach(results, i, item)
    {
        char model_id[64];
        const char *keys[] = {
            "model_name",      "model_id",         "last_sync_start",
            "next_sync_start", "last_sync_result", "last_sync_finished",
            "status",          "is_initial_sync",  "selective_sync_configurations_usage"};

        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (!json_object_get(item, keys[k]))
                fail_msg("SyncStatus lacks %s", keys[k]);
        }
        assert_int_equal(json_object_size(item), sizeof(keys) / sizeof(keys[0]));
        expect_str("model_name", rt_sync_str(item, "model_name"), model_names[i]);
        snprintf(model_id, sizeof(model_id), "hris.%s", model_names[i]);
        expect_str("model_id", rt_sync_str(item, "model_id"), model_id);
        expect_str("status", rt_sync_str(item, "status"), status);
        assert_int_equal(json_is_true(json_object_get(item, "is_initial_sync")), initial);
        assert_true(json_is_null(json_object_get(item, "selective_sync_configurations_usage")));
    }
}

static bool iso_time(const json_t *value)
{
    const char *t = json_string_value(value);

    return t && strlen(t) == 20 && t[4] == '-' && t[10] == 'T' && t[19] == 'Z';
}

static void sync_status(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *page, *first, *sync, *answer;
    char fault[256];

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    /* the initial sync takes at least 1.5 s, so it is seen before it ends */
    snprintf(fault, sizeof(fault),
             "{\"provider\":\"%s\",\"path_contains\":\"%s\",\"kind\":\"slow\","
             "\"delay_ms\":1500}",
             prov->slug, prov->records_path);
    rt_sbx_fault(&env, fault);
    rt_sync_link_nowait(&env, prov, &acct);
    page = rt_sync_call(&env, &acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    check_statuses(json_object_get(page, "results"), "SYNCING", true);
    first = json_array_get(json_object_get(page, "results"), 0);
    assert_true(json_is_null(json_object_get(first, "last_sync_result")));
    assert_true(json_is_null(json_object_get(first, "last_sync_finished")));
    assert_true(json_is_null(json_object_get(page, "next")));
    json_decref(page);

    sync = rt_sync_wait(&env, &acct, NULL);
    expect_str("initial sync", rt_sync_str(sync, "status"), "DONE");
    json_decref(sync);
    page = rt_sync_call(&env, &acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    check_statuses(json_object_get(page, "results"), "DONE", false);
    first = json_array_get(json_object_get(page, "results"), 0);
    expect_str("last_sync_result", rt_sync_str(first, "last_sync_result"), "DONE");
    assert_true(iso_time(json_object_get(first, "last_sync_start")));
    assert_true(iso_time(json_object_get(first, "last_sync_finished")));
    assert_true(iso_time(json_object_get(first, "next_sync_start")));
    assert_true(strcmp(rt_sync_str(first, "next_sync_start"),
                       rt_sync_str(first, "last_sync_finished")) > 0);
    json_decref(page);

    /* Merge's resync answers the bare array, and queues a full sync */
    answer = rt_sync_call(&env, &acct, "POST", NULL, 200, "/api/hris/v1/sync-status/resync");
    assert_true(json_is_array(answer));
    check_statuses(answer, "SYNCING", false);
    json_decref(answer);
    sync = rt_sync_wait(&env, &acct, NULL); /* the resync is the newest */
    expect_str("resync", rt_sync_str(sync, "status"), "DONE");
    expect_str("resync", rt_sync_str(sync, "trigger"), "MANUAL");
    expect_str("resync", rt_sync_str(sync, "kind"), "FULL");
    json_decref(sync);
}

/* ---- selective sync ----------------------------------------------------------------------- */

/* An active non-manager of department dept (not index 0). */
static int pick_in(const json_t *truth, const char *dept)
{
    int index = -1;

    for (;;) {
        index = rt_sbx_pick(truth, index, NULL, 0);
        if (strcmp(rt_sync_str(json_object_get(rt_sbx_person(truth, index), "department"), "name"),
                   dept) == 0)
            return index;
    }
}

static json_t *hire(const char *first, const char *email, const char *dept)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"first_name\":\"%s\",\"last_name\":\"Scope\",\"email\":\"%s\","
             "\"department\":\"%s\",\"title\":\"Hire\",\"manager\":0}",
             first, email, dept);
    return rt_sbx_call(&env, "POST", "/employees", body);
}

static void retitle(int index, const char *title)
{
    char body[128];

    snprintf(body, sizeof(body), "{\"title\":\"%s\"}", title);
    json_decref(rt_sbx_edit(&env, "PATCH", index, "", body));
}

static void set_scope(const struct rt_sync_account *acct, const char *scope)
{
    char body[512];
    json_t *settings, *want = json_loads(scope, 0, NULL);

    snprintf(body, sizeof(body), "{\"scope\":%s}", scope);
    settings = rt_sync_call(&env, NULL, "PATCH", body, 200, ADMIN_LA "/%s/sync-settings", acct->id);
    assert_true(json_equal(json_object_get(settings, "scope"), want)); /* the answer shows it */
    json_decref(want);
    json_decref(settings);
}

static const char *title_of(const json_t *jobs, const json_t *employee)
{
    return rt_sync_str(json_object_get(jobs, rt_sync_str(employee, "id")), "job_title");
}

/* No employee of employees is marked deleted. */
static void expect_none_deleted(const json_t *employees)
{
    const char *key;
    json_t *e;

    json_object_foreach((json_t *)employees, key, e)
    {
        if (json_is_true(json_object_get(e, "remote_was_deleted")))
            fail_msg("employee %s was marked deleted", key);
    }
}

static const char *selective_usage(const struct rt_sync_account *acct, json_t **page)
{
    *page = rt_sync_call(&env, acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    return rt_sync_str(json_array_get(json_object_get(*page, "results"), 0),
                       "selective_sync_configurations_usage");
}

static void selective(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *truth, *groups, *before, *after, *jobs, *sync, *page;
    json_t *hire_in, *hire_out, *hire_excluded;
    int in, out;
    char scope[512], upper[128];
    const char *key;
    json_t *e;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    truth = rt_sbx_truth(&env);
    groups = rt_sync_all(&env, &acct, "groups", NULL);
    in = pick_in(truth, "Engineering");
    out = pick_in(truth, "Sales");
    before = rt_sync_employees(&env, &acct, "remote_id");

    /* only Engineering: new people elsewhere are not stored, stored ones are left alone */
    snprintf(scope, sizeof(scope), "{\"group_ids\":[\"%s\"]}",
             rt_sync_group_id(groups, "DEPARTMENT", "Engineering"));
    set_scope(&acct, scope);
    hire_in = hire("Inés", "ines.scope.e2e@sandbox.example", "Engineering");
    hire_out = hire("Øyvind", "oyvind.scope.e2e@sandbox.example", "Sales");
    retitle(in, "In Scope (e2e)");
    retitle(out, "Out Of Scope (e2e)");
    sync = rt_sync_expect(&env, &acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "inserted"), 1);
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 0);
    json_decref(sync);
    after = rt_sync_employees(&env, &acct, "remote_id");
    jobs = rt_sync_jobs(&env, &acct);
    rt_sync_stored(&acct, after, hire_in);
    assert_int_equal(json_object_size(after), EMPLOYEES + 1); /* hire_out is not stored */
    expect_str("in scope", title_of(jobs, rt_sync_stored(&acct, after, rt_sbx_person(truth, in))),
               "In Scope (e2e)");
    json_object_foreach(before, key, e)
    {
        const json_t *now = json_object_get(after, key);
        const char *dept = NULL;
        size_t i;
        json_t *p;

        json_array_foreach(json_object_get(truth, "people"), i, p)
        {
            char rid[64];

            if (strcmp(rt_sbx_remote_id(prov, p, rid), key) == 0)
                dept = rt_sync_str(json_object_get(p, "department"), "name");
        }
        if (dept && strcmp(dept, "Engineering") != 0 && !json_equal(e, now))
            fail_msg("%s: out-of-scope employee %s changed", prov->slug, key);
    }
    expect_str("out of scope",
               title_of(jobs, rt_sync_stored(&acct, after, rt_sbx_person(truth, out))),
               rt_sync_str(rt_sbx_person(truth, out), "title"));
    expect_none_deleted(after);
    expect_str("usage", selective_usage(&acct, &page), "IN_LAST_SYNC");
    json_decref(page);
    json_decref(jobs);
    json_decref(before);
    before = after;

    /* excluded e-mails (compared case-insensitively); the group filter is gone */
    snprintf(upper, sizeof(upper), "%s", rt_sync_str(rt_sbx_person(truth, in), "work_email"));
    for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    snprintf(scope, sizeof(scope),
             "{\"exclude_emails\":[\"%s\",\"excluded.scope.e2e@sandbox.example\"]}", upper);
    set_scope(&acct, scope);
    hire_excluded = hire("Ēriks", "excluded.scope.e2e@sandbox.example", "Engineering");
    retitle(in, "Excluded (e2e)");
    sync = rt_sync_expect(&env, &acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "deleted"), 0);
    json_decref(sync);
    after = rt_sync_employees(&env, &acct, "remote_id");
    jobs = rt_sync_jobs(&env, &acct);
    rt_sync_stored(&acct, after, hire_out);                   /* in scope now */
    assert_int_equal(json_object_size(after), EMPLOYEES + 2); /* not hire_excluded */
    expect_str("excluded", title_of(jobs, rt_sync_stored(&acct, after, rt_sbx_person(truth, in))),
               "In Scope (e2e)");
    assert_true(json_equal(rt_sync_stored(&acct, before, rt_sbx_person(truth, in)),
                           rt_sync_stored(&acct, after, rt_sbx_person(truth, in))));
    expect_str("back in scope",
               title_of(jobs, rt_sync_stored(&acct, after, rt_sbx_person(truth, out))),
               "Out Of Scope (e2e)");
    expect_none_deleted(after);
    json_decref(jobs);
    json_decref(after);

    /* no scope: everyone */
    set_scope(&acct, "{}");
    json_decref(rt_sync_expect(&env, &acct, "FULL", "DONE"));
    after = rt_sync_employees(&env, &acct, "remote_id");
    jobs = rt_sync_jobs(&env, &acct);
    rt_sync_stored(&acct, after, hire_excluded);
    expect_str("scope cleared",
               title_of(jobs, rt_sync_stored(&acct, after, rt_sbx_person(truth, in))),
               "Excluded (e2e)");
    assert_null(selective_usage(&acct, &page));
    json_decref(page);
    json_decref(jobs);
    json_decref(after);
    json_decref(before);
    json_decref(hire_in);
    json_decref(hire_out);
    json_decref(hire_excluded);
    json_decref(groups);
    json_decref(truth);
}

/* ---- the mass-change guard ---------------------------------------------------------------- */

static size_t count_active(const json_t *employees)
{
    const char *key;
    json_t *e;
    size_t n = 0;

    json_object_foreach((json_t *)employees, key, e)
    {
        n += strcmp(rt_sync_str(e, "employment_status") ? rt_sync_str(e, "employment_status") : "",
                    "ACTIVE") == 0 &&
             !json_is_true(json_object_get(e, "remote_was_deleted"));
    }
    return n;
}

static json_t *decide(const struct rt_sync_account *acct, const json_t *sync, const char *action,
                      long status)
{
    return rt_sync_call(&env, NULL, "POST", NULL, status, ADMIN_LA "/%s/syncs/%s/%s", acct->id,
                        rt_sync_str(sync, "id"), action);
}

/* An emptied company: the full sync is held as PAUSED, nothing applied. */
static json_t *expect_paused(const struct rt_sync_account *acct, const json_t *before)
{
    json_t *sync = rt_sync_expect(&env, acct, "FULL", "PAUSED"), *now, *page, *answer;
    const json_t *first;
    size_t active = count_active(before);
    char counts[160];

    /* everybody vanished: all active people would be deleted, none deactivated */
    snprintf(counts, sizeof(counts),
             "%zu of %zu active employees would be deactivated (0) or deleted (%zu)", active,
             active, active);
    if (!rt_sync_str(sync, "reason") || !strstr(rt_sync_str(sync, "reason"), counts))
        fail_msg("%s: PAUSED without \"%s\" in its reason: %s", acct->prov->slug, counts,
                 rt_sync_str(sync, "reason") ? rt_sync_str(sync, "reason") : "null");
    now = rt_sync_employees(&env, acct, "id");
    assert_true(json_equal(before, now));
    json_decref(now);
    page = rt_sync_call(&env, acct, "GET", NULL, 200, "/api/hris/v1/sync-status");
    first = json_array_get(json_object_get(page, "results"), 0);
    expect_str("sync-status", rt_sync_str(first, "status"), "PAUSED");
    expect_str("sync-status", rt_sync_str(first, "last_sync_result"), "PAUSED");
    assert_true(json_is_null(json_object_get(first, "next_sync_start")));
    json_decref(page);
    answer = rt_sync_call(&env, acct, "POST", NULL, 200, "/api/hris/v1/sync-status/resync");
    expect_str("resync", rt_sync_str(json_array_get(answer, 0), "status"), "PAUSED");
    json_decref(answer);
    /* nothing more is queued while one waits for a decision */
    answer = rt_sync_call(&env, NULL, "POST", "{\"kind\":\"FULL\"}", 202, ADMIN_LA "/%s/syncs",
                          acct->id);
    assert_false(json_is_true(json_object_get(answer, "queued")));
    json_decref(answer);
    return sync;
}

/* A tighter guard (settings) holds a sync that would deactivate six people. */
static void guard_deactivations(const struct rt_sync_account *acct)
{
    json_t *truth = rt_sbx_truth(&env), *settings, *sync, *answer, *employees;
    int picked[6];
    char want[96];

    settings = rt_sync_call(&env, NULL, "PATCH", "{\"guard\":{\"max_share\":0.04,\"min_count\":5}}",
                            200, ADMIN_LA "/%s/sync-settings", acct->id);
    assert_true(
        json_integer_value(json_object_get(json_object_get(settings, "guard"), "min_count")) == 5);
    json_decref(settings);
    for (size_t i = 0; i < 6; i++) {
        picked[i] = rt_sbx_pick(truth, 0, picked, i);
        json_decref(rt_sbx_edit(&env, "POST", picked[i], "/terminate", "{}"));
    }
    sync = rt_sync_expect(&env, acct, acct->prov->incremental ? "INCREMENTAL" : "FULL", "PAUSED");
    snprintf(want, sizeof(want), "would be deactivated (6) or deleted (0)");
    if (!strstr(rt_sync_str(sync, "reason"), want))
        fail_msg("%s: reason %s lacks %s", acct->prov->slug, rt_sync_str(sync, "reason"), want);
    answer = decide(acct, sync, "approve", 200);
    json_decref(answer);
    employees = rt_sync_employees(&env, acct, "remote_id");
    for (size_t i = 0; i < 6; i++)
        expect_str("approved termination",
                   rt_sync_str(rt_sync_stored(acct, employees, rt_sbx_person(truth, picked[i])),
                               "employment_status"),
                   "INACTIVE");
    json_decref(employees);
    json_decref(sync);
    json_decref(truth);
}

static void guard(const struct rt_sync_provider *prov)
{
    struct rt_sync_account acct;
    json_t *before, *sync, *answer, *now, *visible, *history;
    const char *key;
    json_t *e;

    rt_sbx_reset(&env, EMPLOYEES, SEED);
    rt_sync_link(&env, prov, &acct, NULL);
    before = rt_sync_employees(&env, &acct, "id");
    json_decref(rt_sbx_call(&env, "POST", "/empty", "{}"));

    sync = expect_paused(&acct, before);
    answer = decide(&acct, sync, "discard", 200);
    expect_str("discard", rt_sync_str(answer, "status"), "DISCARDED");
    json_decref(answer);
    json_decref(decide(&acct, sync, "discard", 404)); /* decided already */
    history = rt_sync_history(&env, &acct);
    expect_str("history", rt_sync_str(json_array_get(history, 0), "status"), "DISCARDED");
    json_decref(history);
    now = rt_sync_employees(&env, &acct, "id");
    assert_true(json_equal(before, now));
    json_decref(now);
    json_decref(sync);

    sync = expect_paused(&acct, before);
    answer = decide(&acct, sync, "approve", 200);
    expect_str("approve", rt_sync_str(answer, "status"), "DONE");
    json_decref(answer);
    json_decref(decide(&acct, sync, "approve", 404));
    history = rt_sync_history(&env, &acct);
    expect_str("history", rt_sync_str(json_array_get(history, 0), "status"), "DONE");
    /* the approved sync's record says what applying it did */
    assert_int_equal(rt_sync_stat(json_array_get(history, 0), "Employee", "deleted"), EMPLOYEES);
    json_decref(history);
    now = rt_sync_employees(&env, &acct, "id");
    assert_int_equal(json_object_size(now), json_object_size(before));
    json_object_foreach(now, key, e)
    {
        if (!json_is_true(json_object_get(e, "remote_was_deleted")))
            fail_msg("%s: employee %s not marked deleted after the approval", prov->slug, key);
    }
    visible = rt_sync_all(&env, &acct, "employees", NULL);
    assert_int_equal(json_array_size(visible), 0);
    json_decref(visible);
    json_decref(now);
    json_decref(sync);

    /* the people come back: nobody is deactivated, so the guard lets it through */
    json_decref(rt_sbx_call(&env, "POST", "/empty", "{\"empty\":false}"));
    sync = rt_sync_expect(&env, &acct, "FULL", "DONE");
    assert_int_equal(rt_sync_stat(sync, "Employee", "updated"), EMPLOYEES);
    now = rt_sync_employees(&env, &acct, "id");
    expect_none_deleted(now);
    assert_int_equal(json_object_size(now), EMPLOYEES);
    json_decref(now);
    json_decref(sync);
    json_decref(before);
    guard_deactivations(&acct);
}

/* ---- one cmocka test per provider and behaviour ------------------------------------------- */

RT_SYNC_PER_PROVIDER(first_sync)
RT_SYNC_PER_PROVIDER(mutations)
RT_SYNC_PER_PROVIDER(no_change)
RT_SYNC_PER_PROVIDER(sync_status)
RT_SYNC_PER_PROVIDER(selective)
RT_SYNC_PER_PROVIDER(guard)

int main(void)
{
    const struct CMUnitTest tests[] = {
        RT_SYNC_TESTS(first_sync),  RT_SYNC_TESTS(mutations), RT_SYNC_TESTS(no_change),
        RT_SYNC_TESTS(sync_status), RT_SYNC_TESTS(selective), RT_SYNC_TESTS(guard),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

    return failed || teardown_failed ? 1 : 0;
}
