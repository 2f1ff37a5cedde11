/*
 * One PostgreSQL connection: session defaults (UTC, application_name), reconnection at most once
 * per retry interval, an LRU cache of prepared statements, and error mapping, logging, counting.
 */
#include "roster/rs_db.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define RS_DB_STMT_CACHE    64
#define RS_DB_STMT_NAME_MAX 24
/*
 * Generic plans: rosterd's prepared statements are keyset and filter lookups whose best plan does
 * not depend on the values; a custom plan per execution only costs planning time (and with many
 * equal modified_at values PostgreSQL keeps choosing custom plans).
 */
#define RS_DB_SESSION_OPTIONS   "-c timezone=UTC -c plan_cache_mode=force_generic_plan"
#define RS_DB_DEFAULT_TIMEOUT_S 5
#define RS_DB_DEFAULT_RETRY_US  INT64_C(1000000)

struct rs_db_stmt {
    char *sql;          /* owned copy of the statement text; NULL: free slot */
    uint64_t hash;      /* of sql, to skip most strcmp()s */
    uint64_t last_used; /* db->tick at the last use, for LRU eviction */
    char name[RS_DB_STMT_NAME_MAX];
};

struct rs_db {
    PGconn *conn;     /* NULL or CONNECTION_BAD when down */
    char *conninfo;   /* as given; may hold a password: wiped on free, never logged */
    char *options;    /* the conninfo's own `options` plus RS_DB_SESSION_OPTIONS */
    char timeout[16]; /* connect_timeout, in seconds, as text */
    int64_t retry_interval_us;
    int64_t last_attempt_us; /* monotonic time of the last connection attempt; 0: none yet */
    bool up;
    uint64_t tick;
    uint64_t statements_prepared; /* names are rs_s<N>, unique for the handle's life */
    uint64_t sessions;            /* connections established so far */
    struct rs_db_stmt stmts[RS_DB_STMT_CACHE];
};

static atomic_uint_fast64_t rs_db_errors;

/* FNV-1a: the cache is small, so any decent spread will do. */
static uint64_t hash_sql(const char *sql)
{
    uint64_t hash = UINT64_C(14695981039346656037);

    for (; *sql; sql++)
        hash = (hash ^ (unsigned char)*sql) * UINT64_C(1099511628211);
    return hash;
}

/* Forgets every cached statement without telling the server (its session is gone). */
static void forget_statements(struct rs_db *db)
{
    size_t i;

    for (i = 0; i < RS_DB_STMT_CACHE; i++) {
        free(db->stmts[i].sql);
        memset(&db->stmts[i], 0, sizeof(db->stmts[i]));
    }
}

static void log_notice(void *arg, const char *message)
{
    char quoted[512];

    (void)arg;
    RS_LOG(RS_LOG_DEBUG, "database notice", "notice=%s",
           rs_log_quote(message, quoted, sizeof(quoted)));
}

/*
 * The conninfo's own `options` (or $PGOPTIONS) with ours and the caller's (extra, may be
 * NULL) appended, so that all apply.
 */
static enum rs_err build_options(const char *conninfo, const char *extra, char **out,
                                 struct rs_errbuf *eb)
{
    PQconninfoOption *opts = NULL;
    PQconninfoOption *opt;
    const char *theirs = getenv("PGOPTIONS");
    bool plain_dbname = !strchr(conninfo, '=') && strncmp(conninfo, "postgresql://", 13) != 0 &&
                        strncmp(conninfo, "postgres://", 11) != 0;
    size_t len;

    if (!plain_dbname) {
        /* No error message: libpq's would quote the string, password included. */
        opts = PQconninfoParse(conninfo, NULL);
        if (!opts)
            return rs_errbuf_set(eb, RS_ERR_INVALID,
                                 "database_url is not a valid libpq conninfo or URI");
        for (opt = opts; opt->keyword; opt++) {
            if (strcmp(opt->keyword, "options") == 0 && opt->val)
                theirs = opt->val;
        }
    }
    if (!theirs)
        theirs = "";
    if (!extra)
        extra = "";
    len = strlen(theirs) + sizeof(RS_DB_SESSION_OPTIONS) + strlen(extra) + 2;
    *out = malloc(len);
    if (*out)
        snprintf(*out, len, "%s%s%s%s%s", theirs, theirs[0] ? " " : "", RS_DB_SESSION_OPTIONS,
                 extra[0] ? " " : "", extra);
    PQconninfoFree(opts);
    return *out ? RS_OK : rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory");
}

/* Drops any old connection and makes a new one; logs and fills eb on failure. */
static enum rs_err connect_now(struct rs_db *db, struct rs_errbuf *eb)
{
    /* Later keywords win: the conninfo may rename the application, not change the session. */
    const char *const keys[] = {"application_name", "dbname", "connect_timeout", "options", NULL};
    const char *const values[] = {"rosterd", db->conninfo, db->timeout, db->options, NULL};
    char message[384];
    char quoted[512];
    const char *host;
    const char *dbname;
    size_t len;

    forget_statements(db);
    PQfinish(db->conn);
    db->up = false;
    db->last_attempt_us = rs_time_mono_us();
    db->conn = PQconnectdbParams(keys, values, 1);
    if (!db->conn)
        return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "cannot connect to PostgreSQL: no memory");
    if (PQstatus(db->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(db->conn, log_notice, NULL);
        db->up = true;
        db->sessions++;
        return RS_OK;
    }
    host = PQhost(db->conn) ? PQhost(db->conn) : "";
    dbname = PQdb(db->conn) ? PQdb(db->conn) : "";
    snprintf(message, sizeof(message), "%s", PQerrorMessage(db->conn));
    len = strlen(message);
    while (len > 0 && strchr(" \t\n", message[len - 1]))
        message[--len] = '\0';
    rs_log_quote(message, quoted, sizeof(quoted));
    rs_log(RS_LOG_ERROR, "database connection failed", "host=%s dbname=%s error=%s", host, dbname,
           quoted);
    /* libpq's connection errors name the server and the reason, never the password. */
    return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE,
                         "cannot connect to PostgreSQL (host=%s dbname=%s): %s", host, dbname,
                         message);
}

void rs_db_free(struct rs_db *db)
{
    if (!db)
        return;
    forget_statements(db);
    PQfinish(db->conn);
    if (db->conninfo)
        sodium_memzero(db->conninfo, strlen(db->conninfo));
    free(db->conninfo);
    free(db->options);
    free(db);
}

enum rs_err rs_db_open(const char *conninfo, int connect_timeout_s, bool lazy, struct rs_db **out,
                       struct rs_errbuf *eb)
{
    return rs_db_open_with(conninfo, connect_timeout_s, lazy, NULL, out, eb);
}

enum rs_err rs_db_open_with(const char *conninfo, int connect_timeout_s, bool lazy,
                            const char *session_options, struct rs_db **out, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_NOMEM;
    struct rs_db *db = NULL;

    if (!conninfo)
        conninfo = "";
    db = calloc(1, sizeof(*db));
    if (!db || !(db->conninfo = strdup(conninfo))) {
        rs_errbuf_set(eb, err, "out of memory");
        goto out;
    }
    err = build_options(conninfo, session_options, &db->options, eb);
    if (err != RS_OK)
        goto out;
    snprintf(db->timeout, sizeof(db->timeout), "%d",
             connect_timeout_s > 0 ? connect_timeout_s : RS_DB_DEFAULT_TIMEOUT_S);
    db->retry_interval_us = RS_DB_DEFAULT_RETRY_US;
    err = connect_now(db, eb);
    if (err != RS_OK && !lazy)
        goto out;
    if (err != RS_OK)
        db->last_attempt_us = 0; /* lazy: the first use tries again at once */
    *out = db;
    db = NULL;
    err = RS_OK;
out:
    rs_db_free(db);
    return err;
}

void rs_db_set_retry_interval(struct rs_db *db, int64_t ms)
{
    db->retry_interval_us = ms > 0 ? ms * 1000 : 0;
}

enum rs_err rs_db_ensure(struct rs_db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return RS_OK;
    db->up = false;
    if (db->last_attempt_us != 0 && rs_time_mono_us() - db->last_attempt_us < db->retry_interval_us)
        return RS_ERR_UNAVAILABLE;
    return connect_now(db, NULL);
}

bool rs_db_is_up(const struct rs_db *db)
{
    return db->up && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

/* Copies a server message that is safe to log: data exceptions (class 22) quote the offending
 * value, which may be a parameter, so they are cut before the first quote. */
static const char *loggable_message(const char *sqlstate, const char *message, char *out,
                                    size_t outlen)
{
    size_t len = strcspn(message, "\n");

    if (sqlstate && strncmp(sqlstate, "22", 2) == 0)
        len = strcspn(message, "\"\n");
    while (len > 0 && strchr(" :\n", message[len - 1]))
        len--;
    snprintf(out, outlen, "%.*s", (int)len, message);
    return out;
}

/* Maps a failed result to our error; drops the connection when the server is going away. */
static enum rs_err classify_failure(struct rs_db *db, const char *sqlstate)
{
    if (PQstatus(db->conn) == CONNECTION_BAD)
        return RS_ERR_UNAVAILABLE;
    if (sqlstate && strcmp(sqlstate, "23505") == 0)
        return RS_ERR_CONFLICT;
    /*
     * No SQLSTATE means libpq itself failed (the server vanished mid-statement, e.g. a crash):
     * like a shutdown or a connection exception, this session is over; the next call
     * reconnects and the caller answers 503, not 500.
     */
    if (!sqlstate || strncmp(sqlstate, "57P", 3) == 0 || strncmp(sqlstate, "08", 2) == 0) {
        /* Shutdown or crash of the server: this session is over; the next call reconnects. */
        PQfinish(db->conn);
        db->conn = NULL;
        return RS_ERR_UNAVAILABLE;
    }
    return RS_ERR_DB;
}

/*
 * RS_OK for a COMMAND_OK or TUPLES_OK result; otherwise maps, logs (SQLSTATE, message and the
 * statement's text, never its parameters) and returns the error.
 */
static enum rs_err check_result(struct rs_db *db, const PGresult *res, const char *sql)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char message[256];
    char quoted_message[300];
    char quoted_sql[160];
    enum rs_err err;

    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        db->up = true;
        return RS_OK;
    }
    if (!primary)
        primary = status == PGRES_EMPTY_QUERY ? "empty query" : PQerrorMessage(db->conn);
    loggable_message(sqlstate, primary, message, sizeof(message));
    err = classify_failure(db, sqlstate);
    if (err == RS_ERR_UNAVAILABLE)
        db->up = false;
    /* a unique violation is an answer the caller expects (409), not a database failure */
    rs_log(err == RS_ERR_CONFLICT ? RS_LOG_DEBUG : RS_LOG_ERROR, "database statement failed",
           "error=%s sqlstate=%s message=%s sql=%s", rs_err_name(err), sqlstate ? sqlstate : "none",
           rs_log_quote(message, quoted_message, sizeof(quoted_message)),
           rs_log_quote(sql, quoted_sql, sizeof(quoted_sql)));
    return err;
}

static struct rs_db_stmt *find_statement(struct rs_db *db, const char *sql, uint64_t hash)
{
    size_t i;

    for (i = 0; i < RS_DB_STMT_CACHE; i++) {
        struct rs_db_stmt *stmt = &db->stmts[i];

        if (stmt->sql && stmt->hash == hash && strcmp(stmt->sql, sql) == 0) {
            stmt->last_used = ++db->tick;
            return stmt;
        }
    }
    return NULL;
}

/* A free slot, or the least recently used one after deallocating its statement. */
static struct rs_db_stmt *free_slot(struct rs_db *db)
{
    struct rs_db_stmt *lru = &db->stmts[0];
    char sql[RS_DB_STMT_NAME_MAX + 16];
    size_t i;

    for (i = 0; i < RS_DB_STMT_CACHE; i++) {
        if (!db->stmts[i].sql)
            return &db->stmts[i];
        if (db->stmts[i].last_used < lru->last_used)
            lru = &db->stmts[i];
    }
    /* It fails only in an aborted transaction; the statement then lingers until disconnect. */
    snprintf(sql, sizeof(sql), "DEALLOCATE %s", lru->name);
    PQclear(PQexec(db->conn, sql));
    free(lru->sql);
    memset(lru, 0, sizeof(*lru));
    return lru;
}

/*
 * Prepares sql into the cache. NULL with *err RS_OK when it could not be copied (the caller
 * then runs it unnamed); NULL with an error when the server refused it.
 */
static struct rs_db_stmt *prepare_statement(struct rs_db *db, const char *sql, uint64_t hash, int n,
                                            enum rs_err *err)
{
    struct rs_db_stmt *slot = NULL;
    PGresult *res = NULL;
    char *copy = strdup(sql);

    *err = RS_OK;
    if (!copy)
        return NULL;
    slot = free_slot(db);
    snprintf(slot->name, sizeof(slot->name), "rs_s%llu",
             (unsigned long long)++db->statements_prepared);
    res = PQprepare(db->conn, slot->name, sql, n, NULL);
    *err = check_result(db, res, sql);
    PQclear(res);
    if (*err != RS_OK) {
        free(copy);
        memset(slot, 0, sizeof(*slot));
        return NULL;
    }
    slot->sql = copy;
    slot->hash = hash;
    slot->last_used = ++db->tick;
    return slot;
}

PGresult *rs_db_exec(struct rs_db *db, const char *sql, int n, const char *const *params,
                     bool binary_results, bool cache, enum rs_err *err_out)
{
    enum rs_err err = rs_db_ensure(db);
    const struct rs_db_stmt *stmt = NULL;
    PGresult *res = NULL;
    uint64_t hash = hash_sql(sql);
    int format = binary_results ? 1 : 0;

    if (err != RS_OK)
        goto out;
    stmt = find_statement(db, sql, hash);
    if (!stmt && cache)
        stmt = prepare_statement(db, sql, hash, n, &err);
    if (err != RS_OK)
        goto out;
    if (stmt)
        res = PQexecPrepared(db->conn, stmt->name, n, params, NULL, NULL, format);
    else
        res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, format);
    err = check_result(db, res, sql);
out:
    if (err != RS_OK) {
        if (err != RS_ERR_CONFLICT)
            atomic_fetch_add(&rs_db_errors, 1);
        PQclear(res);
        res = NULL;
    }
    if (err_out)
        *err_out = err;
    return res;
}

PGresult *rs_db_query(struct rs_db *db, const char *sql, int n, const char *const *params,
                      enum rs_err *err)
{
    return rs_db_exec(db, sql, n, params, false, false, err);
}

enum rs_err rs_db_command(struct rs_db *db, const char *sql)
{
    enum rs_err err = RS_OK;

    PQclear(rs_db_exec(db, sql, 0, NULL, false, false, &err));
    return err;
}

enum rs_err rs_db_ping(struct rs_db *db)
{
    return rs_db_command(db, "SELECT 1") == RS_OK ? RS_OK : RS_ERR_UNAVAILABLE;
}

uint64_t rs_db_session(const struct rs_db *db)
{
    return db->conn && PQstatus(db->conn) == CONNECTION_OK ? db->sessions : 0;
}

PGconn *rs_db_conn(struct rs_db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return db->conn;
    return NULL;
}

uint64_t rs_db_error_count(void)
{
    return atomic_load(&rs_db_errors);
}
