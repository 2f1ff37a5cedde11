/*
 * cmocka fixture for e2e tests of the sync engine: one roster-sandbox and one rosterd on a fresh
 * database, linked accounts per provider pointed at the sandbox, the sandbox's control API
 * (truth, edits, faults, request log), syncs run through the admin API and waited for with a
 * deadline, and the stored data read back through the HRIS API. Helpers fail the running cmocka
 * test (with the response in the message) instead of returning an error.
 */
#ifndef ROSTER_RT_SYNC_H
#define ROSTER_RT_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/rs_err.h"
#include "rt_proc.h"

/* One provider as the tests drive it. */
struct rt_sync_provider {
    const char *slug;         /* integration slug and sandbox prefix */
    const char *name;         /* the integration's name, as the API shows it */
    const char *credentials;  /* JSON object the sandbox accepts */
    const char *records_path; /* path_contains of the employee listing (faults, request log) */
    bool incremental;         /* the adapter can sync changes only */
    bool personal_email;      /* the adapter maps a personal e-mail */
    bool future_active;       /* the provider shows a not-yet-started hire as active (HiBob):
                                 PENDING only while the start date is ahead of today */
};

extern const struct rt_sync_provider rt_sync_bamboohr, rt_sync_personio, rt_sync_hibob;

/* What a test program shares. */
struct rt_sync_env {
    char db_name[64];
    char conninfo[1024];
    struct rt_proc *sandbox, *rosterd;
    char *key;          /* the organization's API key */
    int origin_counter; /* makes end_user_origin_id unique */
};

/* A linked account of the sandbox. */
struct rt_sync_account {
    const struct rt_sync_provider *prov;
    char id[64];
    char token[128];
};

/*
 * Makes a fresh migrated database, starts the sandbox (employees, seed) and rosterd with the
 * sync settings the tests rely on plus extra_env (NULL-terminated "ROSTER_X=v", or NULL), and
 * creates an organization. Returns 0, or -1 after printing why (everything started is stopped).
 */
int rt_sync_env_start(struct rt_sync_env *env, int employees, int seed,
                      const char *const *extra_env);
/*
 * Stops both children, checks that each exited cleanly (status 0, no sanitizer report), drops
 * the database. Returns 0, or -1 when one did not exit cleanly. Idempotent.
 */
int rt_sync_env_stop(struct rt_sync_env *env);

/* ---- the sandbox's control API ---- */

/*
 * A control call (path under /_control, body JSON text or NULL) that must answer 2xx; its JSON
 * answer (new reference; null when the body is not JSON).
 */
json_t *rt_sbx_call(struct rt_sync_env *env, const char *method, const char *path,
                    const char *body);
/* POST /_control/reset with a new company (faults, revocations cleared), and empties the log. */
void rt_sbx_reset(struct rt_sync_env *env, int employees, int seed);
/* POST /_control/faults with body (a JSON object text). */
void rt_sbx_fault(struct rt_sync_env *env, const char *body);
/* GET /_control/company (new reference). */
json_t *rt_sbx_truth(struct rt_sync_env *env);
/* The request log's entries (new reference). */
json_t *rt_sbx_requests(struct rt_sync_env *env);
/* Person `index` of truth (borrowed). */
json_t *rt_sbx_person(const json_t *truth, json_int_t index);
/*
 * A control call on person index (action "", "/terminate" or "/rehire"); the person as the
 * sandbox answers (new reference).
 */
json_t *rt_sbx_edit(struct rt_sync_env *env, const char *method, int index, const char *action,
                    const char *body);
/* person's id at prov as text, in out (64 bytes). */
const char *rt_sbx_remote_id(const struct rt_sync_provider *prov, const json_t *person,
                             char out[64]);
/*
 * Index of the first person of truth after `after` (-1: from the start) who is active, not
 * deleted, not index 0 and nobody's manager, and is not in skip (n indexes); fails if none.
 */
int rt_sbx_pick(const json_t *truth, int after, const int *skip, size_t n);

/* ---- rosterd ---- */

/*
 * A request to rosterd with the API key (and the account token when acct is not NULL) that must
 * answer `status`; its JSON answer (new reference). path is formatted.
 */
json_t *rt_sync_call(struct rt_sync_env *env, const struct rt_sync_account *acct,
                     const char *method, const char *body, long status, const char *fmt, ...)
    RS_PRINTF(6, 7);
/*
 * Links an account of prov at the sandbox through the admin API and waits for its initial
 * sync, which must end DONE. The initial sync object is returned (new reference) when
 * initial is not NULL.
 */
void rt_sync_link(struct rt_sync_env *env, const struct rt_sync_provider *prov,
                  struct rt_sync_account *acct, json_t **initial);
/* Links without waiting: the admin API's 201 answer is checked, the initial sync is queued. */
void rt_sync_link_nowait(struct rt_sync_env *env, const struct rt_sync_provider *prov,
                         struct rt_sync_account *acct);
/* The account's sync history, newest first (new reference). */
json_t *rt_sync_history(struct rt_sync_env *env, const struct rt_sync_account *acct);
/*
 * Waits (deadline) until the newest sync of acct is not QUEUED or SYNCING and, when not_id is
 * not NULL, is not that sync; returns it (new reference).
 */
json_t *rt_sync_wait(struct rt_sync_env *env, const struct rt_sync_account *acct,
                     const char *not_id);
/*
 * rt_sync_wait whose sync must end with status `want` (the sync object is printed otherwise);
 * its id (malloc'd).
 */
char *rt_sync_wait_for(struct rt_sync_env *env, const struct rt_sync_account *acct,
                       const char *not_id, const char *want);
/*
 * Queues a sync of kind ("FULL" or "INCREMENTAL") through the admin API, which must queue it,
 * and waits for its end; returns the sync object (new reference). Its status is not checked.
 */
json_t *rt_sync_run(struct rt_sync_env *env, const struct rt_sync_account *acct, const char *kind);
/* rt_sync_run whose sync must end with status `want`. */
json_t *rt_sync_expect(struct rt_sync_env *env, const struct rt_sync_account *acct,
                       const char *kind, const char *want);
/* stats[model][field] of a sync object, or -1 when absent. */
long rt_sync_stat(const json_t *sync, const char *model, const char *field);

/*
 * Every record of model (e.g. "employees") of acct, following the cursors, with the extra
 * query (e.g. "include_deleted_data=true", or NULL), as one array (new reference).
 */
json_t *rt_sync_all(struct rt_sync_env *env, const struct rt_sync_account *acct, const char *model,
                    const char *query);
/* Every employee of acct, deleted ones and remote_data included, keyed by `key` ("id",
   "remote_id") (new reference). */
json_t *rt_sync_employees(struct rt_sync_env *env, const struct rt_sync_account *acct,
                          const char *key);
/* Every employment of acct keyed by its employee's id (new reference). */
json_t *rt_sync_jobs(struct rt_sync_env *env, const struct rt_sync_account *acct);
/* The stored employee of sandbox person (borrowed from employees keyed by remote id); fails
   the test when there is none. */
json_t *rt_sync_stored(const struct rt_sync_account *acct, const json_t *employees,
                       const json_t *person);
/*
 * Every employee of before (as rt_sync_employees keyed by "remote_id" gives them) is in after
 * with the same id: what a relink must keep.
 */
void rt_sync_expect_same_ids(const json_t *before, const json_t *after);
/* An object keyed by each record's `key` member ("id", "remote_id") (new reference). */
json_t *rt_sync_by(const json_t *records, const char *key);
/* The id of the group of type and name in groups, or NULL. */
const char *rt_sync_group_id(const json_t *groups, const char *type, const char *name);
/* True when the JSON array of strings holds value. */
bool rt_sync_has(const json_t *array, const char *value);
/* The string member key of obj, or NULL. */
const char *rt_sync_str(const json_t *obj, const char *key);

/*
 * One SQL statement on env's database with at most one text parameter (NULL: none); the first
 * value of the first row (malloc'd), or NULL when there is none or it is NULL. Fails the test
 * when the statement fails.
 */
char *rt_sync_sql_value(struct rt_sync_env *env, const char *sql, const char *param);

/* The value of one sample of rosterd's /metrics, e.g. `roster_syncs_total{outcome="done"}`
   (0 when absent). */
double rt_sync_metric(struct rt_sync_env *env, const char *sample);
/* rt_sync_sql_value as a number (a count); -1 when there is no value. */
long rt_sync_sql_count(struct rt_sync_env *env, const char *sql, const char *param);
/* Today's date in UTC as YYYY-MM-DD. */
const char *rt_sync_today(char out[16]);

/*
 * One cmocka test per API-key provider for a behaviour fn(const struct rt_sync_provider *):
 * RT_SYNC_PER_PROVIDER(fn) defines test_<fn>_bamboohr/_personio/_hibob, and
 * RT_SYNC_TESTS(fn) lists them in a CMUnitTest array.
 */
#define RT_SYNC_PER_PROVIDER(fn)                                                                   \
    static void test_##fn##_bamboohr(void **state)                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        fn(&rt_sync_bamboohr);                                                                     \
    }                                                                                              \
    static void test_##fn##_personio(void **state)                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        fn(&rt_sync_personio);                                                                     \
    }                                                                                              \
    static void test_##fn##_hibob(void **state)                                                    \
    {                                                                                              \
        (void)state;                                                                               \
        fn(&rt_sync_hibob);                                                                        \
    }
#define RT_SYNC_TESTS(fn)                                                                          \
    cmocka_unit_test(test_##fn##_bamboohr), cmocka_unit_test(test_##fn##_personio),                \
        cmocka_unit_test(test_##fn##_hibob)

#endif
