/*
 * Fresh databases on the test PostgreSQL cluster: each test creates its own (optionally
 * migrated) database so that tests are isolated and may run in parallel.
 */
#include "rt_pg.h"

#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "roster/rs_db.h"
#include "roster/rs_migrate.h"
#include "rt_proc.h"

static atomic_uint rt_pg_counter;

const char *rt_pg_conninfo(void)
{
    const char *conninfo = getenv("ROSTER_TEST_PG");

    return conninfo && conninfo[0] ? conninfo : NULL;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs one command on the fixture's maintenance database. */
static enum rs_err admin_command(const char *sql)
{
    enum rs_err err = RS_ERR_UNAVAILABLE;
    const char *conninfo = rt_pg_conninfo();
    PGconn *conn = NULL;
    PGresult *res = NULL;

    if (!conninfo) {
        fprintf(stderr, "rt_pg: ROSTER_TEST_PG is not set (run the tests with ctest)\n");
        goto out;
    }
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "rt_pg: cannot reach the test cluster: %s", PQerrorMessage(conn));
        goto out;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "rt_pg: %s: %s", sql, PQerrorMessage(conn));
        err = RS_ERR_DB;
        goto out;
    }
    err = RS_OK;
out:
    PQclear(res);
    PQfinish(conn);
    return err;
}

/* Appends ` keyword='value'` (value quoted for a conninfo string); false when out is full. */
static bool append_pair(char *out, size_t outlen, size_t *used, const char *keyword,
                        const char *value)
{
    int n = snprintf(out + *used, outlen - *used, "%s%s='", *used ? " " : "", keyword);

    if (n < 0 || (size_t)n >= outlen - *used)
        return false;
    *used += (size_t)n;
    for (; *value; value++) {
        if (*used + 3 >= outlen)
            return false;
        if (*value == '\'' || *value == '\\')
            out[(*used)++] = '\\';
        out[(*used)++] = *value;
    }
    if (*used + 2 > outlen)
        return false;
    out[(*used)++] = '\'';
    out[*used] = '\0';
    return true;
}

/* The fixture's conninfo with its dbname replaced by `name`. */
static enum rs_err conninfo_for(const char *name, char *out, size_t outlen)
{
    enum rs_err err = RS_ERR_INVALID;
    PQconninfoOption *opts = NULL;
    PQconninfoOption *opt;
    size_t used = 0;

    opts = PQconninfoParse(rt_pg_conninfo(), NULL);
    if (!opts || outlen == 0)
        goto out;
    out[0] = '\0';
    for (opt = opts; opt->keyword; opt++) {
        if (!opt->val || strcmp(opt->keyword, "dbname") == 0)
            continue;
        if (!append_pair(out, outlen, &used, opt->keyword, opt->val))
            goto out;
    }
    if (!append_pair(out, outlen, &used, "dbname", name))
        goto out;
    err = RS_OK;
out:
    PQconninfoFree(opts);
    return err;
}

enum rs_err rt_pg_create_db(char *name_out, size_t name_len, char *conninfo_out,
                            size_t conninfo_len)
{
    char name[64];
    char sql[128];
    unsigned random_part = 0;
    enum rs_err err;

    if (getrandom(&random_part, sizeof(random_part), 0) != sizeof(random_part))
        random_part = (unsigned)time(NULL) ^ (unsigned)clock();
    snprintf(name, sizeof(name), "t_%ld_%u_%08x", (long)getpid(),
             atomic_fetch_add(&rt_pg_counter, 1), random_part);
    if (!rt_pg_conninfo()) {
        fprintf(stderr, "rt_pg: ROSTER_TEST_PG is not set (run the tests with ctest)\n");
        return RS_ERR_UNAVAILABLE;
    }
    if ((size_t)snprintf(name_out, name_len, "%s", name) >= name_len ||
        conninfo_for(name, conninfo_out, conninfo_len) != RS_OK) {
        fprintf(stderr, "rt_pg: output buffer too small for %s\n", name);
        return RS_ERR_INVALID;
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", name);
    err = admin_command(sql);
    if (err != RS_OK)
        name_out[0] = '\0';
    return err;
}

void rt_pg_drop_db(const char *name)
{
    char sql[128];

    if (!name || !name[0])
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    if (admin_command(sql) != RS_OK)
        fprintf(stderr, "rt_pg: could not drop database %s\n", name);
}

enum rs_err rt_pg_migrated_db(char *name_out, size_t name_len, char *conninfo_out,
                              size_t conninfo_len)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_db *db = NULL;
    enum rs_err err;

    err = rt_pg_create_db(name_out, name_len, conninfo_out, conninfo_len);
    if (err != RS_OK)
        return err;
    err = rs_db_open(conninfo_out, 5, false, &db, &eb);
    if (err == RS_OK)
        err = rs_migrate_run(db, NULL, &eb);
    rs_db_free(db);
    if (err != RS_OK) {
        fprintf(stderr, "rt_pg: migrating %s failed: %s\n", name_out, eb.msg);
        rt_pg_drop_db(name_out);
        name_out[0] = '\0';
    }
    return err;
}

/* The newest installed server's pg_dump (/usr/lib/postgresql/<major>/bin), like pg-cluster.sh. */
static bool find_pg_dump(char *out, size_t outlen)
{
    glob_t found;
    long best = -1;

    if (glob("/usr/lib/postgresql/*/bin/pg_dump", 0, NULL, &found) != 0)
        return false;
    for (size_t i = 0; i < found.gl_pathc; i++) {
        long major = strtol(found.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);

        if (major > best && access(found.gl_pathv[i], X_OK) == 0) {
            best = major;
            snprintf(out, outlen, "%s", found.gl_pathv[i]);
        }
    }
    globfree(&found);
    return best >= 0;
}

enum rs_err rt_pg_dump(const char *conninfo, char **out)
{
    char path[256];
    int status = -1;
    const char *argv[] = {path, "--no-owner", "--dbname", conninfo, NULL};
    enum rs_err err;

    *out = NULL;
    if (!find_pg_dump(path, sizeof(path))) {
        fprintf(stderr, "rt_pg: no pg_dump under /usr/lib/postgresql\n");
        return RS_ERR_UNAVAILABLE;
    }
    err = rt_proc_run(argv, NULL, 60000, out, &status);
    if (err == RS_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "rt_pg: pg_dump failed (status 0x%x)\n", status);
        err = RS_ERR_DB;
    }
    if (err != RS_OK) {
        free(*out);
        *out = NULL;
    }
    return err;
}

PGresult *rt_pg_exec(struct rs_db *db, const char *sql, int n, const char *const *params)
{
    enum rs_err err = RS_ERR_INTERNAL;
    PGresult *res = rs_db_exec(db, sql, n, params, false, false, &err);

    if (!res)
        fail_msg("%s: %s", sql, rs_err_name(err));
    return res;
}
