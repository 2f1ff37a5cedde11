/* Schema migrations: migrations/NNNN_name.sql, compiled in, applied in order exactly once. */
#ifndef ROSTER_RS_MIGRATE_H
#define ROSTER_RS_MIGRATE_H

#include "roster/rs_db.h"
#include "roster/rs_err.h"

struct rs_migration {
    const char *name; /* "0001_init" */
    const char *sql;
};

/* Every migration, in order, ending with {NULL, NULL} (generated at build time). */
extern const struct rs_migration rs_migrations[];

/*
 * Applies every migration not yet recorded in schema_migrations, each in its own transaction,
 * under a session advisory lock so that concurrent rosterd processes apply each one once.
 * *applied (may be NULL) receives how many ran. Re-running is a no-op. RS_ERR_DB on failure
 * (the failing migration is rolled back and named in eb).
 */
enum rs_err rs_migrate_run(struct rs_db *db, int *applied, struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
