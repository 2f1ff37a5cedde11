/*
 * One PostgreSQL connection (libpq) with reconnect and a per-connection cache of prepared
 * statements. Not thread-safe: each thread owns its own struct rs_db.
 */
#ifndef ROSTER_RS_DB_H
#define ROSTER_RS_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "roster/rs_err.h"

struct rs_db;

/*
 * Connects with conninfo (copied; "" = libpq defaults). The session runs with timezone UTC.
 * When the database is unreachable and `lazy` is true, still returns RS_OK with a
 * disconnected handle that reconnects on first use; otherwise RS_ERR_UNAVAILABLE (detail in
 * eb, never the password). A conninfo that libpq cannot parse is RS_ERR_INVALID either way.
 */
enum rs_err rs_db_open(const char *conninfo, int connect_timeout_s, bool lazy, struct rs_db **out,
                       struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * rs_db_open whose every session (reconnects included) also starts with session_options
 * ("-c name=value …", as libpq's `options`; NULL: none), in force before its first statement.
 */
enum rs_err rs_db_open_with(const char *conninfo, int connect_timeout_s, bool lazy,
                            const char *session_options, struct rs_db **out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;
void rs_db_free(struct rs_db *db);
/* The minimum pause between reconnect attempts (default 1000 ms). */
void rs_db_set_retry_interval(struct rs_db *db, int64_t ms);

/*
 * Makes sure the connection is usable, reconnecting (at most once per retry interval) if it
 * was lost. Returns RS_OK or RS_ERR_UNAVAILABLE.
 */
enum rs_err rs_db_ensure(struct rs_db *db) RS_MUST_CHECK;
/*
 * True when the connection is up: established, and not found lost by a statement or ping since
 * (a statement that fails for its own reasons, e.g. a unique violation, does not clear it).
 */
bool rs_db_is_up(const struct rs_db *db);
/* Runs `SELECT 1` (reconnecting if needed). RS_OK or RS_ERR_UNAVAILABLE. */
enum rs_err rs_db_ping(struct rs_db *db) RS_MUST_CHECK;

/*
 * Runs sql with n text parameters (NULL entries are SQL NULL). binary_results selects the
 * result format of every column. When the statement is in the prepared-statement cache (by
 * its text) it is executed by name, else prepared first (`cache` true) or sent unnamed.
 * Returns the result (caller PQclear()s it) when its status is COMMAND_OK or TUPLES_OK, or
 * NULL: then *err (may be NULL) is RS_ERR_UNAVAILABLE if the connection was lost (the next
 * call reconnects), RS_ERR_CONFLICT on a unique violation (SQLSTATE 23505), RS_ERR_DB
 * otherwise; the error is logged and counted.
 */
PGresult *rs_db_exec(struct rs_db *db, const char *sql, int n, const char *const *params,
                     bool binary_results, bool cache, enum rs_err *err);
/* Shorthand: text results, not cached. */
PGresult *rs_db_query(struct rs_db *db, const char *sql, int n, const char *const *params,
                      enum rs_err *err);
/* Runs a parameterless command (BEGIN, COMMIT, …). */
enum rs_err rs_db_command(struct rs_db *db, const char *sql) RS_MUST_CHECK;

/* The underlying connection, for COPY and LISTEN; NULL when disconnected. */
PGconn *rs_db_conn(struct rs_db *db);
/*
 * Which session the connection is (1 for the first, counting every reconnect), 0 when
 * disconnected: what a session holds (LISTEN, SET) must be redone when it changes, which a
 * comparison of rs_db_conn's pointers cannot tell (a new connection may reuse the address).
 */
uint64_t rs_db_session(const struct rs_db *db);

/* Total statement failures in this process (all connections), for /metrics. */
uint64_t rs_db_error_count(void);

#endif
