/*
 * The dispatchers' statements on webhook_queue (wh_dispatch.c claims, wh_settle.c records), with
 * the session options that make preparing them once safe; here so that a test can check their
 * plans (tests/integration/test_wh_plans.c). See docs/design/webhooks.md.
 */
#ifndef ROSTER_WH_SQL_H
#define ROSTER_WH_SQL_H

#include "wh_int.h"

/*
 * The claim and the settle are prepared once per connection (rs_db's generic plans): planning
 * them each time cost PostgreSQL about a fifth of its CPU per delivery. A generic plan is made
 * whatever the queue holds then, possibly nothing, so the dispatchers' sessions rule out the
 * plans a nearly empty table would favour and a full one would make slow: every statement here
 * reaches its rows by key, by index scans and nested loops. And their commits do not wait for
 * the WAL flush (a claim or an outcome a database crash forgets only means a message is sent
 * again: at least once, never lost; the events a dispatcher writes commit synchronously, see
 * disable_endpoints in wh_settle.c).
 */
#define WH_PLAN_ONCE true
#define WH_SESSION_OPTIONS                                                                         \
    "-c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off "                        \
    "-c synchronous_commit=off"

/*
 * Per enabled endpoint, its due messages (oldest first) up to its room, skipping those a
 * pending message of an earlier group of the same account and endpoint holds back, locked
 * without waiting for another claim's; then leased: lease_until is the lease's end, so claims
 * leave what is in flight alone, and a message whose dispatcher died is due again when its
 * lease ends. The lease's columns are in no index, so taking it is a HOT update
 * (migration 0010); a claim walks over what is held in flight, at most the endpoints' rooms.
 */
#define WH_SQL_CLAIM                                                                               \
    "WITH ep AS (SELECT e.id, LEAST(COALESCE(r.room, $3::int), $4::int) AS room FROM "             \
    "webhook_endpoints e LEFT JOIN unnest($1::uuid[], $2::int[]) AS r(id, room) ON r.id = e.id "   \
    "WHERE e.enabled), "                                                                           \
    "c AS (SELECT q.endpoint_id, q.id FROM ep CROSS JOIN LATERAL (SELECT q.endpoint_id, q.id "     \
    "FROM webhook_queue q WHERE q.endpoint_id = ep.id AND q.status = 'PENDING' AND "               \
    "q.next_attempt_at <= now() AND (q.lease_until IS NULL OR q.lease_until <= now()) AND NOT "    \
    "EXISTS (SELECT 1 FROM webhook_queue p WHERE p.endpoint_id = q.endpoint_id AND "               \
    "p.linked_account_id = q.linked_account_id AND p.status = 'PENDING' AND p.grp < q.grp) "       \
    "ORDER BY q.next_attempt_at LIMIT ep.room FOR UPDATE OF q SKIP LOCKED) q WHERE ep.room > 0 "   \
    "LIMIT $4::int), "                                                                             \
    "u AS (UPDATE webhook_queue q SET lease_id = $6::uuid, lease_until = now() + "                 \
    "make_interval(secs => $5::int) FROM c WHERE q.endpoint_id = c.endpoint_id AND q.id = c.id "   \
    "RETURNING q.endpoint_id, q.id, q.attempts, q.failures) "                                      \
    "SELECT " WH_MESSAGE_COLUMNS ", u.attempts AS wh_attempts, u.failures AS wh_failures FROM u "  \
    "JOIN webhook_messages m ON m.endpoint_id = u.endpoint_id AND m.id = u.id"

/*
 * One statement: what became of the messages (delivered: their queue rows go; retried later,
 * dead, or given back unsent: their rows say so), their attempts, the endpoints'
 * failing_since, and a failed message's later groups pushed back to its retry (so claims do
 * not keep scanning messages it holds back). An outcome counts only under the lease it was
 * claimed with: one whose lease ended and was taken over is ignored.
 */
#define WH_SQL_SETTLE                                                                              \
    "WITH r AS (SELECT * FROM json_to_recordset($1::json) AS r(e uuid, m uuid, l uuid, k int, "    \
    "a int, ok boolean, dead boolean, code int, ms int, at timestamptz, rm int8, la uuid, "        \
    "g int8, resp text, err text)), " /* k = 0: given back unsent (due at once); k = 1: an         \
                                         attempt's outcome */                                      \
    "d AS (DELETE FROM webhook_queue q USING r WHERE r.k = 1 AND r.ok AND q.endpoint_id = r.e "    \
    "AND q.id = r.m AND q.lease_id = r.l RETURNING 1), "                                           \
    "u AS (UPDATE webhook_queue q SET status = CASE WHEN r.k = 1 AND r.dead THEN 'DEAD' ELSE "     \
    "q.status END, attempts = CASE WHEN r.k = 0 THEN q.attempts ELSE GREATEST(q.attempts, r.a) "   \
    "END, failures = CASE WHEN r.k = 0 THEN q.failures ELSE q.failures + 1 END, next_attempt_at "  \
    "= CASE WHEN r.k = 0 OR r.dead THEN q.next_attempt_at ELSE r.at + make_interval(secs => "      \
    "r.rm / 1000.0) END, lease_id = NULL, lease_until = NULL FROM r WHERE NOT (r.k = 1 AND r.ok) " \
    "AND q.endpoint_id = r.e AND q.id = r.m AND q.lease_id = r.l RETURNING 1), "                   \
    "a AS (INSERT INTO webhook_attempts (endpoint_id, message_id, attempt, attempted_at, result, " \
    "status_code, latency_ms, response, error) SELECT r.e, r.m, r.a, r.at, CASE WHEN r.ok THEN "   \
    "'SUCCESS' ELSE 'FAILURE' END, r.code, r.ms, r.resp, r.err FROM r WHERE r.k = 1 AND r.e IN "   \
    "(SELECT id FROM webhook_endpoints) "                                                          \
    "ON CONFLICT DO NOTHING RETURNING 1), " /* failing_since is written only when it changes: no   \
                                               row churn while all goes well */                    \
    "h AS (UPDATE webhook_endpoints e SET failing_since = CASE WHEN s.any_ok THEN NULL ELSE "      \
    "s.first_fail END FROM (SELECT r.e, bool_or(r.ok) AS any_ok, min(r.at) AS first_fail FROM r "  \
    "WHERE r.k = 1 GROUP BY r.e) s WHERE e.id = s.e AND ((s.any_ok AND e.failing_since IS NOT "    \
    "NULL) OR (NOT s.any_ok AND e.failing_since IS NULL)) RETURNING 1), "                          \
    "f AS (SELECT r.e, r.la, min(r.g) AS g, max(r.at + make_interval(secs => r.rm / 1000.0)) AS "  \
    "until FROM r WHERE r.k = 1 AND NOT r.ok AND NOT r.dead AND r.la IS NOT NULL GROUP BY r.e, "   \
    "r.la), "                                                                                      \
    "p AS (UPDATE webhook_queue q SET next_attempt_at = b.until FROM (SELECT q.endpoint_id, "      \
    "q.id, f.until FROM f CROSS JOIN LATERAL (SELECT q.endpoint_id, q.id FROM webhook_queue q "    \
    "WHERE q.endpoint_id = f.e AND q.linked_account_id = f.la AND q.status = 'PENDING' AND q.grp " \
    "> f.g AND q.next_attempt_at < f.until AND q.lease_id IS NULL) q) b WHERE q.endpoint_id = "    \
    "b.endpoint_id AND q.id = b.id AND NOT EXISTS (SELECT 1 FROM r WHERE r.e = q.endpoint_id AND " \
    "r.m = q.id) RETURNING 1) "                                                                    \
    "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM u), (SELECT count(*) FROM a), "       \
    "(SELECT count(*) FROM h), (SELECT count(*) FROM p)"

#endif
