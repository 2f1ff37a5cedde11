/*
 * Applies the compiled-in migrations in order, each once, each in its own transaction, under a
 * session advisory lock so that rosterd processes starting together do not race.
 */
#include "roster/rs_migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "roster/rs_log.h"

/* The advisory lock key: "RosterMg" in ASCII, fixed forever (other versions must agree). */
#define RS_MIGRATE_LOCK_KEY "5940093377280363879"

#define SQL_LOCK   "SELECT pg_advisory_lock(" RS_MIGRATE_LOCK_KEY ")"
#define SQL_UNLOCK "SELECT pg_advisory_unlock(" RS_MIGRATE_LOCK_KEY ")"
#define SQL_CREATE_TABLE                                                                           \
    "CREATE TABLE IF NOT EXISTS schema_migrations ("                                               \
    "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
#define SQL_IS_APPLIED "SELECT 1 FROM schema_migrations WHERE name = $1"
#define SQL_RECORD     "INSERT INTO schema_migrations (name) VALUES ($1)"

static enum rs_err is_applied(struct rs_db *db, const char *name, bool *applied,
                              struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;
    PGresult *res = NULL;

    res = rs_db_query(db, SQL_IS_APPLIED, 1, &name, &err);
    if (!res)
        return rs_errbuf_set(eb, RS_ERR_DB, "cannot read schema_migrations: %s", rs_err_name(err));
    *applied = PQntuples(res) > 0;
    PQclear(res);
    return RS_OK;
}

/* Runs a migration's script (possibly several statements) on the raw connection. */
static enum rs_err run_script(struct rs_db *db, const struct rs_migration *m, struct rs_errbuf *eb)
{
    PGconn *conn = rs_db_conn(db);
    PGresult *res = NULL;
    ExecStatusType status;
    const char *sqlstate;
    const char *message;
    enum rs_err err = RS_OK;

    if (!conn)
        return rs_errbuf_set(eb, RS_ERR_DB, "migration %s: database connection lost", m->name);
    res = PQexec(conn, m->sql);
    status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
        sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        err = rs_errbuf_set(eb, RS_ERR_DB, "migration %s failed: %s %.160s", m->name,
                            sqlstate ? sqlstate : "", message ? message : PQerrorMessage(conn));
    }
    PQclear(res);
    return err;
}

/* Applies one migration unless it is recorded; *ran tells whether it did. */
static enum rs_err apply_one(struct rs_db *db, const struct rs_migration *m, bool *ran,
                             struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_DB;
    bool in_transaction = false;
    bool applied = false;

    *ran = false;
    err = is_applied(db, m->name, &applied, eb);
    if (err != RS_OK || applied)
        goto out;
    err = rs_db_command(db, "BEGIN");
    if (err != RS_OK) {
        rs_errbuf_set(eb, RS_ERR_DB, "migration %s: BEGIN failed", m->name);
        goto out;
    }
    in_transaction = true;
    err = run_script(db, m, eb);
    if (err != RS_OK)
        goto out;
    PQclear(rs_db_query(db, SQL_RECORD, 1, &m->name, &err));
    if (err == RS_OK)
        err = rs_db_command(db, "COMMIT");
    if (err != RS_OK) {
        rs_errbuf_set(eb, RS_ERR_DB, "migration %s: cannot record it", m->name);
        goto out;
    }
    in_transaction = false;
    *ran = true;
    rs_log(RS_LOG_INFO, "migration applied", "migration=%s", m->name);
out:
    if (in_transaction && rs_db_command(db, "ROLLBACK") != RS_OK)
        rs_log(RS_LOG_WARN, "migration rollback failed", "migration=%s", m->name);
    return err == RS_OK ? RS_OK : RS_ERR_DB;
}

enum rs_err rs_migrate_run(struct rs_db *db, int *applied, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_DB;
    const struct rs_migration *m;
    bool locked = false;
    bool ran = false;
    int count = 0;

    if (rs_db_command(db, SQL_LOCK) != RS_OK) {
        rs_errbuf_set(eb, err, "cannot take the migration lock");
        goto out;
    }
    locked = true;
    if (rs_db_command(db, SQL_CREATE_TABLE) != RS_OK) {
        rs_errbuf_set(eb, err, "cannot create schema_migrations");
        goto out;
    }
    for (m = rs_migrations; m->name; m++) {
        err = apply_one(db, m, &ran, eb);
        if (err != RS_OK)
            goto out;
        count += ran;
    }
    err = RS_OK;
out:
    /* A lost connection has released the lock already; then this fails harmlessly. */
    if (locked && rs_db_command(db, SQL_UNLOCK) != RS_OK)
        rs_log(RS_LOG_WARN, "cannot release the migration lock", NULL);
    if (applied)
        *applied = count;
    return err;
}
