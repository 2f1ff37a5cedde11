/*
 * Test helpers for the PostgreSQL fixture (tests/support/pg-cluster.sh, started by CTest): each
 * test makes its own fresh database on the shared cluster, so tests never see each other's rows.
 */
#ifndef ROSTER_RT_PG_H
#define ROSTER_RT_PG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "roster/rs_db.h"
#include "roster/rs_err.h"

/* The fixture cluster's conninfo ($ROSTER_TEST_PG), or NULL when it is not set. */
const char *rt_pg_conninfo(void);

/*
 * Creates a new, empty database with a unique name ("t_<pid>_<n>_<random>") on the fixture
 * cluster. Writes its name to name_out and a conninfo that reaches it to conninfo_out. Returns
 * RS_ERR_UNAVAILABLE when the cluster is unknown or unreachable, RS_ERR_INVALID when an output
 * does not fit, RS_ERR_DB when CREATE DATABASE fails; the reason is printed on stderr.
 */
enum rs_err rt_pg_create_db(char *name_out, size_t name_len, char *conninfo_out,
                            size_t conninfo_len) RS_MUST_CHECK;

/* Drops a database made by rt_pg_create_db, closing its sessions; NULL or "" is a no-op. */
void rt_pg_drop_db(const char *name);

/* rt_pg_create_db, then rs_migrate_run on it. The database is dropped again on failure. */
enum rs_err rt_pg_migrated_db(char *name_out, size_t name_len, char *conninfo_out,
                              size_t conninfo_len) RS_MUST_CHECK;

/*
 * Runs sql with n text parameters on db (text results, not cached); fails the running cmocka
 * test, naming the statement and the error, when it fails. The caller PQclear()s the result.
 */
PGresult *rt_pg_exec(struct rs_db *db, const char *sql, int n, const char *const *params);

/*
 * The whole of a database as `pg_dump` prints it (schema and data, plain SQL), in *out
 * (malloc'd, NUL-terminated, at most 1 MiB; caller frees), for tests that look for what must
 * never be stored in plaintext. RS_OK, or an error after printing why.
 */
enum rs_err rt_pg_dump(const char *conninfo, char **out) RS_MUST_CHECK;

#endif
