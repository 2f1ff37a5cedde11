/*
 * Every setting of rosterd, from one declarative table (core/rs_config.c) that drives parsing,
 * validation, `rosterd --help` and docs/CONFIG.md. Precedence: defaults < file < environment
 * (ROSTER_<NAME>, upper case).
 */
#ifndef ROSTER_RS_CONFIG_H
#define ROSTER_RS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "roster/rs_err.h"

struct rs_config {
    char *database_url;              /* libpq conninfo or URI; "" = libpq defaults (PG* env) */
    char *listen;                    /* HOST:PORT for the HTTP server; port 0 = pick one */
    char *public_url;                /* base URL users reach rosterd at; "" = http://<listen> */
    char *master_key;                /* base64 of 32 bytes; secret */
    char *master_keys_retired;       /* comma-separated base64 keys that only open; secret */
    bool allow_private_upstreams;    /* allow base_url/webhook hosts on private/loopback nets */
    int64_t http_workers;            /* HTTP worker threads */
    int64_t max_body_bytes;          /* request body limit */
    int64_t max_header_bytes;        /* request header block limit */
    int64_t max_uri_bytes;           /* request URI length limit */
    char *log_level;                 /* debug|info|warn|error */
    bool access_log;                 /* one log line per request */
    int64_t shutdown_grace_ms;       /* how long SIGTERM waits for in-flight requests */
    int64_t db_connect_timeout_s;    /* libpq connect_timeout */
    int64_t db_retry_interval_ms;    /* minimum pause between reconnect attempts */
    int64_t http_idle_timeout_s;     /* idle/slow HTTP connections are closed after this */
    int64_t page_cache_bytes;        /* rendered pages kept in memory; 0 = no cache */
    int64_t sync_workers;            /* sync threads; 0 = none */
    int64_t sync_lease_s;            /* lease of a running sync without heartbeat */
    int64_t sync_poll_ms;            /* idle sync workers look for work this often */
    int64_t upstream_timeout_ms;     /* one provider request */
    int64_t upstream_max_attempts;   /* retries of one provider request */
    int64_t webhook_dispatchers;     /* webhook delivery threads; 0 = none */
    int64_t webhook_timeout_ms;      /* one delivery attempt */
    char *webhook_retry_schedule_ms; /* delays after each failed attempt, comma-separated ms */
    int64_t webhook_endpoint_concurrency; /* deliveries in flight per endpoint and dispatcher */
    int64_t webhook_disable_after_s;      /* an endpoint failing this long is disabled */
    int64_t webhook_secret_grace_s;       /* a rotated-out secret keeps signing this long */
    int64_t webhook_poll_ms;              /* idle dispatchers look for due messages this often */
    int64_t webhook_retention_days;       /* delivered and dead messages are kept this long */
};

/*
 * Fills cfg from defaults, then the file at `path` (NULL: none; lines `name = value`, `#`
 * comments), then the environment `envp` (NULL-terminated "KEY=VALUE" strings; NULL: none).
 * On an unknown name in the file, a value of the wrong type or out of bounds, returns
 * RS_ERR_INVALID with eb naming the setting and the reason; cfg is then cleaned up.
 * cfg must be cleaned up with rs_config_cleanup after success.
 */
enum rs_err rs_config_load(struct rs_config *cfg, const char *path, char *const *envp,
                           struct rs_errbuf *eb) RS_MUST_CHECK;
void rs_config_cleanup(struct rs_config *cfg);

/* Checks settings that a serving process requires (master_key present). */
enum rs_err rs_config_require_serve(const struct rs_config *cfg,
                                    struct rs_errbuf *eb) RS_MUST_CHECK;

/* `rosterd --help`'s settings section: one entry per setting with env name, default, help. */
void rs_config_print_help(FILE *out);
/* docs/CONFIG.md, generated from the same table. */
void rs_config_print_markdown(FILE *out);
/* Logs every setting at info level, secrets masked. */
void rs_config_log(const struct rs_config *cfg);

#endif
