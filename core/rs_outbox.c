/*
 * The outbox's write side: which events exist, the plan of a sync's model events (written by
 * rs_store.c's statements), single events, LinkedAccount.linked, and issues with their
 * Issue.new / Issue.resolved events (docs/design/webhooks.md).
 */
#include "roster/rs_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_types[] = {
    RS_EVENT_LINKED,         RS_EVENT_SYNC_COMPLETED, RS_EVENT_DELETED,     RS_EVENT_ISSUE_NEW,
    RS_EVENT_ISSUE_RESOLVED, "Employee.added",        "Employee.changed",   "Employee.removed",
    "Employment.added",      "Employment.changed",    "Employment.removed", "Group.added",
    "Group.changed",         "Group.removed",         "Team.added",         "Team.changed",
    "Team.removed",          "Location.added",        "Location.changed",   "Location.removed",
    "Company.added",         "Company.changed",       "Company.removed",
};
#define NTYPES (sizeof(event_types) / sizeof(event_types[0]))

static const char *const issue_kinds[RS_ISSUE_KINDS] = {"CREDENTIALS", "SYNC_FAILING",
                                                        "MASS_CHANGE", "ENDPOINT_DISABLED"};

const char *const *rs_outbox_event_types(size_t *n)
{
    *n = NTYPES;
    return event_types;
}

bool rs_outbox_event_known(const char *name)
{
    for (size_t i = 0; name && i < NTYPES; i++) {
        if (strcmp(event_types[i], name) == 0)
            return true;
    }
    return false;
}

static const char *change_suffix(enum rs_outbox_change change)
{
    switch (change) {
    case RS_OUTBOX_ADDED:
        return "added";
    case RS_OUTBOX_CHANGED:
        return "changed";
    case RS_OUTBOX_REMOVED:
        return "removed";
    }
    return "?";
}

const char *rs_outbox_model_event(enum rs_model_kind kind, enum rs_outbox_change change,
                                  char out[RS_EVENT_NAME_MAX])
{
    snprintf(out, RS_EVENT_NAME_MAX, "%s.%s", rs_model_get(kind)->name, change_suffix(change));
    return out;
}

/* Sets the plan's bit of a wanted event type (other types are not model events). */
static void want(struct rs_outbox_plan *plan, const char *type)
{
    char name[RS_EVENT_NAME_MAX];
    static const enum rs_outbox_change changes[] = {RS_OUTBOX_ADDED, RS_OUTBOX_CHANGED,
                                                    RS_OUTBOX_REMOVED};

    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        for (size_t c = 0; c < sizeof(changes) / sizeof(changes[0]); c++) {
            if (strcmp(type, rs_outbox_model_event((enum rs_model_kind)k, changes[c], name)) == 0)
                plan->wanted[k] |= changes[c];
        }
    }
}

/* One row per enabled endpoint of the account's organization and type it asks for. */
#define SQL_PLAN                                                                                   \
    "SELECT la.organization_id, la.last_sync_since IS NULL, e.initial_sync_events, "               \
    "e.events IS NULL, t.type FROM linked_accounts la JOIN webhook_endpoints e ON "                \
    "e.organization_id = la.organization_id AND e.enabled LEFT JOIN LATERAL unnest(e.events) "     \
    "AS t(type) ON true WHERE la.id = $1::uuid"
/* the next group, the account's row locked until the commit, and the dispatchers woken then */
#define SQL_GROUP                                                                                  \
    "UPDATE linked_accounts SET webhook_seq = webhook_seq + 1 WHERE id = $1::uuid "                \
    "RETURNING webhook_seq, pg_notify('" RS_OUTBOX_CHANNEL "', '')"

/* Reads the endpoints' wishes (SQL_PLAN) into plan. */
static void read_wishes(const PGresult *res, struct rs_outbox_plan *plan)
{
    for (int i = 0; i < PQntuples(res); i++) {
        bool initial_ok = strcmp(PQgetvalue(res, i, 2), "t") == 0;

        snprintf(plan->org, sizeof(plan->org), "%s", PQgetvalue(res, i, 0));
        plan->initial = strcmp(PQgetvalue(res, i, 1), "t") == 0;
        if (strcmp(PQgetvalue(res, i, 3), "t") == 0) {
            for (int k = 0; k < RS_MODEL_COUNT; k++)
                plan->wanted[k] |= RS_OUTBOX_CHANGED | RS_OUTBOX_REMOVED |
                                   (plan->initial && !initial_ok ? 0u : RS_OUTBOX_ADDED);
        } else if (!PQgetisnull(res, i, 4)) {
            const char *type = PQgetvalue(res, i, 4);
            /* an initial sync's .added go only to endpoints that want them */
            if (!(plan->initial && !initial_ok && strstr(type, ".added")))
                want(plan, type);
        }
    }
    for (int k = 0; k < RS_MODEL_COUNT; k++)
        plan->active = plan->active || plan->wanted[k] != 0;
}

enum rs_err rs_outbox_plan_sync(struct rs_db *db, const struct rs_uuid *account,
                                struct rs_outbox_plan *plan, struct rs_errbuf *eb)
{
    const char *params[1] = {plan->account};
    enum rs_err err;
    PGresult *res;

    memset(plan, 0, sizeof(*plan));
    rs_uuid_format(account, plan->account);
    if (!rs_db_conn(db) || PQtransactionStatus(rs_db_conn(db)) != PQTRANS_INTRANS)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "rs_outbox_plan_sync outside a transaction");
    res = rs_db_exec(db, SQL_PLAN, 1, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot read the webhook endpoints");
    read_wishes(res, plan);
    PQclear(res);
    if (!plan->active)
        return RS_OK;
    res = rs_db_exec(db, SQL_GROUP, 1, params, false, true, &err);
    if (!res)
        return rs_errbuf_set(eb, err, "cannot take the account's event group");
    if (PQntuples(res) == 1)
        snprintf(plan->group, sizeof(plan->group), "%s", PQgetvalue(res, 0, 0));
    else
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "the linked account is gone");
    PQclear(res);
    return err;
}

/*
 * The endpoints that want $2, a new group for the account only when there is one (so nothing
 * is locked or written otherwise), and a message per endpoint.
 */
#define SQL_EMIT                                                                                   \
    "WITH la AS (SELECT id, organization_id FROM linked_accounts WHERE id = $1::uuid), "           \
    "e AS (SELECT e.id FROM webhook_endpoints e JOIN la ON e.organization_id = "                   \
    "la.organization_id "                                                                          \
    "WHERE e.enabled AND (e.events IS NULL OR $2 = ANY (e.events))), "                             \
    "g AS (UPDATE linked_accounts a SET webhook_seq = a.webhook_seq + 1 FROM la WHERE a.id = "     \
    "la.id "                                                                                       \
    "AND EXISTS (SELECT 1 FROM e) RETURNING a.webhook_seq, pg_notify('" RS_OUTBOX_CHANNEL          \
    "', '')), "                                                                                    \
    "ins AS (INSERT INTO webhook_messages (endpoint_id, id, linked_account_id, grp, event_type, "  \
    "data) SELECT e.id, roster_uuid7(), $1::uuid, g.webhook_seq, $2, $3 FROM e CROSS JOIN g "      \
    "RETURNING 1) SELECT count(*) FROM ins"

enum rs_err rs_outbox_emit(struct rs_db *db, const char *account, const char *type,
                           const char *data, size_t *written, struct rs_errbuf *eb)
{
    const char *params[3] = {account, type, data};
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_EMIT, 3, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot write the %s event", type);
    if (written)
        *written = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return RS_OK;
}

enum rs_err rs_outbox_linked(struct rs_db *db, const char *account, bool is_relink,
                             struct rs_errbuf *eb)
{
    enum rs_err err =
        rs_outbox_emit(db, account, RS_EVENT_LINKED,
                       is_relink ? "{\"is_relink\":true}" : "{\"is_relink\":false}", NULL, eb);

    if (err == RS_OK && is_relink)
        err = rs_outbox_issue_resolve(db, account, RS_ISSUE_BIT(RS_ISSUE_CREDENTIALS), eb);
    return err;
}

/* Merge's Issue object of row i (alias i), with the account as end_user (alias la). */
#define ISSUE_JSON                                                                                 \
    "json_build_object('id', i.id, 'status', i.status, 'error_description', "                      \
    "i.error_description, 'end_user', CASE WHEN la.id IS NULL THEN NULL ELSE json_build_object("   \
    "'id', la.id, 'end_user_origin_id', la.end_user_origin_id, 'end_user_organization_name', "     \
    "la.end_user_organization_name, 'end_user_email_address', la.end_user_email_address) END, "    \
    "'first_incident_time', to_char(i.first_incident_time AT TIME ZONE 'UTC', "                    \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'last_incident_time', to_char(i.last_incident_time AT "    \
    "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'resolved_at', to_char(i.resolved_at AT " \
    "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'is_muted', false, 'error_details', "     \
    "json_build_array(i.kind), 'webhook_endpoint_id', CASE WHEN i.linked_account_id IS NULL THEN " \
    "i.subject_id END)::text"

#define SQL_ISSUE_OPEN                                                                             \
    "WITH i AS (INSERT INTO issues (id, organization_id, linked_account_id, subject_id, kind, "    \
    "status, error_description) SELECT gen_random_uuid(), organization_id, id, id, $2, "           \
    "'ONGOING', $3 FROM linked_accounts WHERE id = $1::uuid AND ($2 <> 'CREDENTIALS' OR status = " \
    "'RELINK_NEEDED') ON CONFLICT (subject_id, kind) "                                             \
    "WHERE status = 'ONGOING' DO UPDATE SET last_incident_time = now(), error_description = "      \
    "EXCLUDED.error_description RETURNING *, (xmax = 0) AS opened) "                               \
    "SELECT i.opened, " ISSUE_JSON " FROM i LEFT JOIN linked_accounts la ON la.id = "              \
    "i.linked_account_id"
#define SQL_ISSUE_RESOLVE                                                                          \
    "WITH i AS (UPDATE issues SET status = 'RESOLVED', resolved_at = now() WHERE subject_id = "    \
    "$1::uuid AND status = 'ONGOING' AND kind = ANY ($2::text[]) RETURNING *) "                    \
    "SELECT true, " ISSUE_JSON " FROM i LEFT JOIN linked_accounts la ON la.id = "                  \
    "i.linked_account_id"

/* Runs an issue statement and emits `type` for each row whose first column is true. */
static enum rs_err issue_events(struct rs_db *db, const char *account, const char *sql, int n,
                                const char *const *params, const char *type, struct rs_errbuf *eb)
{
    enum rs_err err;
    PGresult *res = rs_db_exec(db, sql, n, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot record the issue");
    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        if (strcmp(PQgetvalue(res, i, 0), "t") == 0)
            err = rs_outbox_emit(db, account, type, PQgetvalue(res, i, 1), NULL, eb);
    }
    PQclear(res);
    return err;
}

enum rs_err rs_outbox_issue_open(struct rs_db *db, const char *account, enum rs_issue_kind kind,
                                 const char *description, struct rs_errbuf *eb)
{
    const char *params[3] = {account, issue_kinds[kind], description};

    return issue_events(db, account, SQL_ISSUE_OPEN, 3, params, RS_EVENT_ISSUE_NEW, eb);
}

/* "{KIND,KIND}" of the kinds in mask, into out. */
static const char *kind_array(unsigned mask, char *out, size_t outlen)
{
    size_t used = (size_t)snprintf(out, outlen, "{");

    for (int k = 0; k < RS_ISSUE_KINDS && used < outlen; k++) {
        if (mask & RS_ISSUE_BIT(k))
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used > 1 ? "," : "",
                                     issue_kinds[k]);
    }
    if (used < outlen)
        snprintf(out + used, outlen - used, "}");
    return out;
}

enum rs_err rs_outbox_issue_resolve(struct rs_db *db, const char *account, unsigned mask,
                                    struct rs_errbuf *eb)
{
    char kinds[128];
    const char *params[2] = {account, kind_array(mask, kinds, sizeof(kinds))};

    return issue_events(db, account, SQL_ISSUE_RESOLVE, 2, params, RS_EVENT_ISSUE_RESOLVED, eb);
}

#define SQL_ENDPOINT_ISSUE_OPEN                                                                    \
    "WITH i AS (INSERT INTO issues (id, organization_id, subject_id, kind, status, "               \
    "error_description) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'ENDPOINT_DISABLED', "      \
    "'ONGOING', $3) ON CONFLICT (subject_id, kind) WHERE status = 'ONGOING' DO UPDATE SET "        \
    "last_incident_time = now() RETURNING *, (xmax = 0) AS opened) "                               \
    "SELECT i.opened, " ISSUE_JSON " FROM i LEFT JOIN linked_accounts la ON false"
#define SQL_ENDPOINT_ISSUE_RESOLVE                                                                 \
    "WITH i AS (UPDATE issues SET status = 'RESOLVED', resolved_at = now() WHERE subject_id = "    \
    "$2::uuid AND organization_id = $1::uuid AND status = 'ONGOING' AND kind = "                   \
    "'ENDPOINT_DISABLED' RETURNING *) SELECT true, " ISSUE_JSON                                    \
    " FROM i LEFT JOIN linked_accounts la ON false"
/* to the organization's enabled endpoints that want it, without a linked account or group */
#define SQL_EMIT_ORG                                                                               \
    "WITH ins AS (INSERT INTO webhook_messages (endpoint_id, id, grp, event_type, data) SELECT "   \
    "e.id, roster_uuid7(), 0, $2, $3 FROM webhook_endpoints e WHERE e.organization_id = "          \
    "$1::uuid AND e.enabled AND (e.events IS NULL OR $2 = ANY (e.events)) RETURNING 1) "           \
    "SELECT count(*), pg_notify('" RS_OUTBOX_CHANNEL "', '') FROM ins"

enum rs_err rs_outbox_endpoint_issue(struct rs_db *db, const char *org, const char *endpoint,
                                     bool open, const char *description, struct rs_errbuf *eb)
{
    const char *params[3] = {org, endpoint, description};
    const char *type = open ? RS_EVENT_ISSUE_NEW : RS_EVENT_ISSUE_RESOLVED;
    enum rs_err err;
    PGresult *res = rs_db_exec(db, open ? SQL_ENDPOINT_ISSUE_OPEN : SQL_ENDPOINT_ISSUE_RESOLVE,
                               open ? 3 : 2, params, false, true, &err);

    if (!res)
        return rs_errbuf_set(eb, err, "cannot record the endpoint's issue");
    for (int i = 0; i < PQntuples(res) && err == RS_OK; i++) {
        const char *emit[3] = {org, type, PQgetvalue(res, i, 1)};
        PGresult *sent;

        if (strcmp(PQgetvalue(res, i, 0), "t") != 0)
            continue;
        sent = rs_db_exec(db, SQL_EMIT_ORG, 3, emit, false, true, &err);
        if (!sent)
            rs_errbuf_set(eb, err, "cannot write the %s event", type);
        PQclear(sent);
    }
    PQclear(res);
    return err;
}
