/*
 * Integration tests for the outbox's write side (core/rs_outbox.c, rs_store_apply_events) on a
 * real PostgreSQL: record events come out of the apply's own statements (an insert is .added,
 * a content change .changed, a sweep .removed, an unchanged record nothing), carrying the row as
 * stored; each endpoint gets only the types it asks for, a disabled one nothing, and one that
 * opted out no .added of an initial sync; without any endpoint nothing is written and no group
 * is taken; a rolled-back apply leaves no event; single events take a group each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "roster/rs_db.h"
#include "roster/rs_outbox.h"
#include "roster/rs_store.h"
#include "rt_pg.h"

#define ORG     "5e0c2a4e-8a52-4c09-9d5c-0c7a2f1b9e01"
#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"

static char db_name[64], conninfo[1024];
static struct rs_db *db;
static struct rs_uuid account;

static PGresult *run(const char *sql, const char *p1)
{
    const char *params[1] = {p1};
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res = rs_db_exec(db, sql, p1 ? 1 : 0, params, false, false, &err);

    if (!res)
        fail_msg("%s: %s", sql, rs_err_name(err));
    return res;
}

static long count(const char *sql, const char *p1)
{
    PGresult *res = run(sql, p1);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return n;
}

/* An endpoint of ORG: events a text[] literal or NULL (every type). */
static void add_endpoint(const char *id, const char *events, bool enabled, bool initial)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "INSERT INTO webhook_endpoints (id, organization_id, url, events, enabled, "
             "initial_sync_events, secret) VALUES ('%s', '" ORG "', 'https://93.184.216.34/h', "
             "%s%s%s, %s, %s, '\\x00')",
             id, events ? "'" : "", events ? events : "NULL", events ? "'" : "",
             enabled ? "true" : "false", initial ? "true" : "false");
    PQclear(run(sql, NULL));
}

static int group_setup(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};

    (void)state;
    if (rt_pg_migrated_db(db_name, sizeof(db_name), conninfo, sizeof(conninfo)) != RS_OK ||
        rs_db_open(conninfo, 5, false, &db, &eb) != RS_OK ||
        rs_uuid_parse(ACCOUNT, &account) != RS_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rs_db_free(db);
    rt_pg_drop_db(db_name);
    return 0;
}

/* Each test: a fresh organization, account and no endpoint; first_sync: never synced. */
static int test_setup(void **state)
{
    (void)state;
    PQclear(run("DELETE FROM organizations", NULL));
    PQclear(run("INSERT INTO organizations (id, name) VALUES ('" ORG "', 'Test org')", NULL));
    PQclear(run("INSERT INTO linked_accounts (id, organization_id, integration, "
                "end_user_origin_id, end_user_organization_name, end_user_email_address, status, "
                "last_sync_since) VALUES ('" ACCOUNT "', '" ORG "', 'bamboohr', 'o', 'Acme', "
                "'hr@acme.example', 'COMPLETE', now())",
                NULL));
    return 0;
}

/* Stages employees (remote id and last name each) under a new key; the key in *key. */
static void stage(enum rs_model_kind kind, const char *const *remote_ids, const char *name,
                  size_t n, struct rs_uuid *key)
{
    struct rs_store_batch *batch = NULL;
    struct rs_store_stats stats = {0};
    struct rs_errbuf eb = {{0}, {0}};

    rs_uuid_v4(key);
    assert_int_equal(rs_store_batch_new(&account, kind, key, &batch), RS_OK);
    for (size_t i = 0; i < n; i++) {
        json_t *fields = json_pack("{s:s}", kind == RS_MODEL_GROUP ? "name" : "last_name", name);
        struct rs_record rec = {.remote_id = remote_ids[i], .fields = fields};

        assert_int_equal(rs_store_batch_add(batch, &rec, &eb), RS_OK);
        json_decref(fields);
    }
    assert_int_equal(rs_store_batch_stage(batch, db, &stats, &eb), RS_OK);
    rs_store_batch_free(batch);
}

/* Applies key's rows with their events in one transaction (ROLLBACK when commit is false). */
static struct rs_outbox_plan apply(const struct rs_uuid *key, bool sweep, bool commit)
{
    struct rs_store_stats stats[RS_MODEL_COUNT];
    struct rs_outbox_plan plan;
    struct rs_errbuf eb = {{0}, {0}};

    memset(stats, 0, sizeof(stats));
    assert_int_equal(rs_db_command(db, "BEGIN"), RS_OK);
    if (rs_outbox_plan_sync(db, &account, &plan, &eb) != RS_OK ||
        rs_store_apply_events(db, &account, key, sweep, &plan, stats, &eb) != RS_OK)
        fail_msg("apply: %s", eb.msg);
    assert_int_equal(rs_db_command(db, commit ? "COMMIT" : "ROLLBACK"), RS_OK);
    return plan;
}

static long messages(const char *endpoint, const char *type)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM webhook_messages WHERE endpoint_id = '%s' AND event_type = $1",
             endpoint);
    return count(sql, type);
}

static long seq(void)
{
    return count("SELECT webhook_seq FROM linked_accounts WHERE id = '" ACCOUNT "'", NULL);
}

#define E1 "11111111-1111-4111-8111-111111111111"
#define E2 "22222222-2222-4222-8222-222222222222"
#define E3 "33333333-3333-4333-8333-333333333333"

static void test_no_endpoint_writes_nothing(void **state)
{
    static const char *const ids[] = {"1", "2", "3"};
    struct rs_uuid key;
    struct rs_outbox_plan plan;

    (void)state;
    stage(RS_MODEL_EMPLOYEE, ids, "Smith", 3, &key);
    plan = apply(&key, false, true);
    assert_false(plan.active);
    assert_int_equal(count("SELECT count(*) FROM employees", NULL), 3);
    assert_int_equal(count("SELECT count(*) FROM webhook_messages", NULL), 0);
    assert_int_equal(seq(), 0); /* no group taken, the account's row not locked */
    /* an endpoint that wants no record event changes nothing either */
    add_endpoint(E1, "{LinkedAccount.sync_completed}", true, true);
    stage(RS_MODEL_EMPLOYEE, ids, "Jones", 3, &key);
    plan = apply(&key, false, true);
    assert_false(plan.active);
    assert_int_equal(count("SELECT count(*) FROM webhook_messages", NULL), 0);
    assert_int_equal(seq(), 0);
}

/* Inserted, changed, unchanged, swept: .added, .changed, nothing, .removed, as stored. */
static void test_events_from_the_apply(void **state)
{
    static const char *const abc[] = {"a", "b", "c"}, *const ab[] = {"a", "b"};
    struct rs_uuid key;
    struct rs_outbox_plan plan;

    (void)state;
    add_endpoint(E1, NULL, true, true);
    stage(RS_MODEL_EMPLOYEE, abc, "Smith", 3, &key);
    plan = apply(&key, false, true);
    assert_true(plan.active);
    assert_int_equal(messages(E1, "Employee.added"), 3);
    assert_int_equal(seq(), 1);
    /* the message carries the row as stored */
    assert_int_equal(count("SELECT count(*) FROM webhook_messages m JOIN employees e ON "
                           "e.id = m.record_id AND e.normalized = m.normalized AND "
                           "e.modified_at = m.record_modified_at AND e.created_at = "
                           "m.record_created_at AND e.remote_id = m.remote_id AND m.grp = 1",
                           NULL),
                     3);
    /* a: changed; b: the same; c: gone from a sweeping sync */
    stage(RS_MODEL_EMPLOYEE, ab, "Smith", 2, &key);
    PQclear(run("UPDATE sync_stage_employees SET normalized = replace(normalized, 'Smith', "
                "'Smythe'), content_hash = '\\x01' WHERE remote_id = 'a'",
                NULL));
    apply(&key, true, true);
    assert_int_equal(messages(E1, "Employee.changed"), 1);
    assert_int_equal(messages(E1, "Employee.removed"), 1);
    assert_int_equal(messages(E1, "Employee.added"), 3);
    assert_int_equal(count("SELECT count(*) FROM webhook_messages WHERE event_type = "
                           "'Employee.removed' AND remote_id = 'c' AND remote_was_deleted AND "
                           "grp = 2",
                           NULL),
                     1);
    assert_int_equal(count("SELECT count(*) FROM webhook_messages WHERE event_type = "
                           "'Employee.changed' AND remote_id = 'a' AND normalized LIKE "
                           "'%Smythe%'",
                           NULL),
                     1);
    assert_int_equal(seq(), 2);
}

/* Each endpoint gets the types it asks for; a disabled one nothing. */
static void test_filters_and_disabled(void **state)
{
    static const char *const d[] = {"d"}, *const g[] = {"g"};
    struct rs_uuid key;

    (void)state;
    add_endpoint(E1, "{Employee.added}", true, true);
    add_endpoint(E2, "{Group.added,Group.removed}", true, true);
    add_endpoint(E3, NULL, false, true);
    stage(RS_MODEL_EMPLOYEE, d, "Doe", 1, &key);
    apply(&key, false, true);
    stage(RS_MODEL_GROUP, g, "Engineering", 1, &key);
    apply(&key, false, true);
    assert_int_equal(messages(E1, "Employee.added"), 1);
    assert_int_equal(messages(E1, "Group.added"), 0);
    assert_int_equal(messages(E2, "Group.added"), 1);
    assert_int_equal(messages(E2, "Employee.added"), 0);
    assert_int_equal(
        count("SELECT count(*) FROM webhook_messages WHERE endpoint_id = '" E3 "'", NULL), 0);
}

/* An initial sync's .added go only to endpoints that did not opt out. */
static void test_initial_sync_opt_out(void **state)
{
    static const char *const first[] = {"x", "y"}, *const later[] = {"z"};
    struct rs_uuid key;
    struct rs_outbox_plan plan;

    (void)state;
    add_endpoint(E1, NULL, true, false);
    add_endpoint(E2, NULL, true, true);
    PQclear(run("UPDATE linked_accounts SET last_sync_since = NULL", NULL));
    stage(RS_MODEL_EMPLOYEE, first, "First", 2, &key);
    plan = apply(&key, false, true);
    assert_true(plan.initial);
    assert_int_equal(messages(E1, "Employee.added"), 0);
    assert_int_equal(messages(E2, "Employee.added"), 2);
    PQclear(run("UPDATE linked_accounts SET last_sync_since = now()", NULL));
    stage(RS_MODEL_EMPLOYEE, later, "Later", 1, &key);
    plan = apply(&key, false, true);
    assert_false(plan.initial);
    assert_int_equal(messages(E1, "Employee.added"), 1);
    assert_int_equal(messages(E2, "Employee.added"), 3);
}

/* A rolled-back apply leaves neither rows nor events nor a group. */
static void test_rollback_emits_nothing(void **state)
{
    static const char *const ids[] = {"r1", "r2"};
    struct rs_uuid key;

    (void)state;
    add_endpoint(E1, NULL, true, true);
    stage(RS_MODEL_EMPLOYEE, ids, "Gone", 2, &key);
    apply(&key, false, false);
    assert_int_equal(count("SELECT count(*) FROM employees WHERE remote_id LIKE 'r%'", NULL), 0);
    assert_int_equal(count("SELECT count(*) FROM webhook_messages", NULL), 0);
    assert_int_equal(seq(), 0);
}

/* Single events: one message per endpoint that wants it, one group each; none: nothing. */
static void test_emit(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    size_t written = 99;

    (void)state;
    add_endpoint(E1, "{LinkedAccount.linked,Issue.new}", true, true);
    add_endpoint(E2, NULL, true, true);
    assert_int_equal(
        rs_outbox_emit(db, ACCOUNT, RS_EVENT_LINKED, "{\"is_relink\":false}", &written, &eb),
        RS_OK);
    assert_int_equal(written, 2);
    assert_int_equal(seq(), 1);
    assert_int_equal(rs_outbox_emit(db, ACCOUNT, RS_EVENT_DELETED, "{}", &written, &eb), RS_OK);
    assert_int_equal(written, 1); /* E2 only */
    assert_int_equal(seq(), 2);
    PQclear(run("UPDATE webhook_endpoints SET enabled = false", NULL));
    assert_int_equal(rs_outbox_emit(db, ACCOUNT, RS_EVENT_LINKED, "{}", &written, &eb), RS_OK);
    assert_int_equal(written, 0);
    assert_int_equal(seq(), 2);
    /* an issue: Issue.new once, however many incidents; resolved once */
    PQclear(run("UPDATE webhook_endpoints SET enabled = true", NULL));
    PQclear(run("UPDATE linked_accounts SET status = 'RELINK_NEEDED'", NULL));
    for (int i = 0; i < 2; i++)
        assert_int_equal(rs_outbox_issue_open(db, ACCOUNT, RS_ISSUE_CREDENTIALS, "refused", &eb),
                         RS_OK);
    assert_int_equal(messages(E1, "Issue.new"), 1);
    assert_int_equal(count("SELECT count(*) FROM issues WHERE status = 'ONGOING'", NULL), 1);
    assert_int_equal(rs_outbox_issue_resolve(db, ACCOUNT, RS_ISSUE_BIT(RS_ISSUE_CREDENTIALS), &eb),
                     RS_OK);
    assert_int_equal(messages(E2, "Issue.resolved"), 1);
    assert_int_equal(messages(E1, "Issue.resolved"), 0);
    assert_int_equal(count("SELECT count(*) FROM issues WHERE status = 'ONGOING'", NULL), 0);
}

/*
 * Every message is queued by the statement that writes it, whichever it is (migration 0010),
 * and nothing of a rolled-back one; an endpoint's queue and attempts go with it.
 */
static void test_every_message_queued(void **state)
{
    static const char *const ids[] = {"q1", "q2"}, *const more[] = {"q3"};
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_uuid key;
    const char *const queued = "SELECT count(*) FROM webhook_messages m JOIN webhook_queue q ON "
                               "q.endpoint_id = m.endpoint_id AND q.id = m.id AND q.grp = m.grp "
                               "AND q.linked_account_id IS NOT DISTINCT FROM m.linked_account_id "
                               "AND q.status = 'PENDING' AND q.attempts = 0 AND q.lease_id IS NULL";

    (void)state;
    add_endpoint(E1, NULL, true, true);
    add_endpoint(E2, "{Employee.added}", true, true);
    stage(RS_MODEL_EMPLOYEE, ids, "Queued", 2, &key);
    apply(&key, false, true);
    assert_int_equal(rs_outbox_emit(db, ACCOUNT, RS_EVENT_LINKED, "{}", NULL, &eb), RS_OK);
    assert_int_equal(rs_outbox_endpoint_issue(db, ORG, E2, true, "down", &eb), RS_OK);
    stage(RS_MODEL_EMPLOYEE, more, "Rolled back", 1, &key);
    apply(&key, false, false);
    /* 2 + 2 .added, 1 .linked (E1), 1 Issue.new (E1, an organization event) */
    assert_int_equal(count("SELECT count(*) FROM webhook_messages", NULL), 6);
    assert_int_equal(count("SELECT count(*) FROM webhook_queue", NULL), 6);
    assert_int_equal(count(queued, NULL), 6);
    PQclear(run("INSERT INTO webhook_attempts (endpoint_id, message_id, attempt, attempted_at, "
                "result, latency_ms) SELECT endpoint_id, id, 1, now(), 'SUCCESS', 1 FROM "
                "webhook_messages",
                NULL));
    PQclear(run("DELETE FROM webhook_endpoints WHERE id = '" E1 "'", NULL));
    assert_int_equal(count("SELECT count(*) FROM webhook_queue", NULL), 2);
    assert_int_equal(count("SELECT count(*) FROM webhook_attempts", NULL), 2);
    assert_int_equal(count("SELECT count(*) FROM webhook_queue WHERE endpoint_id = '" E2 "'", NULL),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_endpoint_writes_nothing, test_setup),
        cmocka_unit_test_setup(test_events_from_the_apply, test_setup),
        cmocka_unit_test_setup(test_filters_and_disabled, test_setup),
        cmocka_unit_test_setup(test_initial_sync_opt_out, test_setup),
        cmocka_unit_test_setup(test_rollback_emits_nothing, test_setup),
        cmocka_unit_test_setup(test_emit, test_setup),
        cmocka_unit_test_setup(test_every_message_queued, test_setup),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
