/* Unit tests for core/rs_config.c: defaults, file and environment, validation, help and docs. */
#include "roster/rs_config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "roster/rs_log.h"

/* Every field of struct rs_config, as its setting and environment names. */
static const char *const all_settings[][2] = {
    {"database_url", "ROSTER_DATABASE_URL"},
    {"listen", "ROSTER_LISTEN"},
    {"public_url", "ROSTER_PUBLIC_URL"},
    {"master_key", "ROSTER_MASTER_KEY"},
    {"master_keys_retired", "ROSTER_MASTER_KEYS_RETIRED"},
    {"allow_private_upstreams", "ROSTER_ALLOW_PRIVATE_UPSTREAMS"},
    {"http_workers", "ROSTER_HTTP_WORKERS"},
    {"max_body_bytes", "ROSTER_MAX_BODY_BYTES"},
    {"max_header_bytes", "ROSTER_MAX_HEADER_BYTES"},
    {"max_uri_bytes", "ROSTER_MAX_URI_BYTES"},
    {"log_level", "ROSTER_LOG_LEVEL"},
    {"access_log", "ROSTER_ACCESS_LOG"},
    {"shutdown_grace_ms", "ROSTER_SHUTDOWN_GRACE_MS"},
    {"db_connect_timeout_s", "ROSTER_DB_CONNECT_TIMEOUT_S"},
    {"db_retry_interval_ms", "ROSTER_DB_RETRY_INTERVAL_MS"},
};

#define MASTER_KEY "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="

/* Writes text to a new temporary file; returns its path (static storage). */
static const char *write_file(const char *text)
{
    static char path[64];
    FILE *file;
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_rs_config_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    file = fdopen(fd, "w");
    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
    return path;
}

/* Loads with only the environment entries given; returns the error, cfg loaded on RS_OK. */
static enum rs_err load_env(struct rs_config *cfg, char *const *envp, struct rs_errbuf *eb)
{
    return rs_config_load(cfg, NULL, envp, eb);
}

static void test_defaults(void **state)
{
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(rs_config_load(&cfg, NULL, NULL, &eb), RS_OK);
    assert_string_equal(cfg.database_url, "");
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.public_url, "");
    assert_string_equal(cfg.master_key, "");
    assert_false(cfg.allow_private_upstreams);
    assert_int_equal(cfg.http_workers, 2);
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_int_equal(cfg.max_header_bytes, 16384);
    assert_int_equal(cfg.max_uri_bytes, 8192);
    assert_string_equal(cfg.log_level, "info");
    assert_true(cfg.access_log);
    assert_int_equal(cfg.shutdown_grace_ms, 10000);
    assert_int_equal(cfg.db_connect_timeout_s, 5);
    assert_int_equal(cfg.db_retry_interval_ms, 1000);
    rs_config_cleanup(&cfg);
}

static void test_env_overrides(void **state)
{
    char *envp[] = {"PATH=/bin",
                    "ROSTER_HTTP_WORKERS=8",
                    "ROSTER_LISTEN=0.0.0.0:9000",
                    "ROSTER_ACCESS_LOG=off",
                    "ROSTER_ALLOW_PRIVATE_UPSTREAMS=YES",
                    "ROSTER_DATABASE_URL=host=/tmp dbname=roster",
                    "ROSTER_TEST_PG=not a setting, ignored",
                    "ROSTER_HTTP_WORKERSX=99",
                    NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(load_env(&cfg, envp, &eb), RS_OK);
    assert_int_equal(cfg.http_workers, 8);
    assert_string_equal(cfg.listen, "0.0.0.0:9000");
    assert_false(cfg.access_log);
    assert_true(cfg.allow_private_upstreams);
    assert_string_equal(cfg.database_url, "host=/tmp dbname=roster");
    assert_string_equal(cfg.log_level, "info");
    rs_config_cleanup(&cfg);
}

static void test_file_then_env(void **state)
{
    const char *path = write_file("# rosterd settings\n"
                                  "\n"
                                  "http_workers = 4\n"
                                  "  log_level=debug  \n"
                                  "database_url = host=/run/pg dbname=roster user=r\n"
                                  "max_body_bytes = 2048\r\n"
                                  "   # indented comment\n"
                                  "access_log = no\n"
                                  "master_key = " MASTER_KEY "\n");
    char *envp[] = {"ROSTER_HTTP_WORKERS=6", "ROSTER_ACCESS_LOG=1", NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(rs_config_load(&cfg, path, envp, &eb), RS_OK);
    unlink(path);
    assert_int_equal(cfg.http_workers, 6);       /* env beats file */
    assert_true(cfg.access_log);                 /* env beats file */
    assert_string_equal(cfg.log_level, "debug"); /* file beats default */
    assert_int_equal(cfg.max_body_bytes, 2048);  /* CRLF line endings */
    assert_string_equal(cfg.database_url, "host=/run/pg dbname=roster user=r"); /* '=' inside */
    assert_string_equal(cfg.master_key, MASTER_KEY);
    assert_string_equal(cfg.listen, "127.0.0.1:8080"); /* default kept */
    rs_config_cleanup(&cfg);
}

/* Expects loading with one environment entry to fail naming the setting. */
static void expect_env_invalid(const char *entry, const char *name, const char *env)
{
    char *envp[] = {(char *)entry, NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    assert_int_equal(load_env(&cfg, envp, &eb), RS_ERR_INVALID);
    if (!strstr(eb.msg, name) || !strstr(eb.msg, env))
        fail_msg("\"%s\": message \"%s\" should name %s and %s", entry, eb.msg, name, env);
    assert_string_equal(eb.param, name);
    /* cfg was cleaned up: nothing is left to free */
    assert_null(cfg.listen);
    assert_null(cfg.database_url);
}

static void test_bad_int(void **state)
{
    (void)state;
    expect_env_invalid("ROSTER_HTTP_WORKERS=abc", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=4x", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS= 4", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=0x10", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=4.0", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_MAX_BODY_BYTES=99999999999999999999999", "max_body_bytes",
                       "ROSTER_MAX_BODY_BYTES");
}

static void test_out_of_bounds(void **state)
{
    char *edges[] = {"ROSTER_HTTP_WORKERS=64", "ROSTER_SHUTDOWN_GRACE_MS=0",
                     "ROSTER_MAX_BODY_BYTES=1024", "ROSTER_MAX_URI_BYTES=65536", NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    expect_env_invalid("ROSTER_HTTP_WORKERS=65", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=0", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_HTTP_WORKERS=-1", "http_workers", "ROSTER_HTTP_WORKERS");
    expect_env_invalid("ROSTER_MAX_BODY_BYTES=1023", "max_body_bytes", "ROSTER_MAX_BODY_BYTES");
    expect_env_invalid("ROSTER_DB_RETRY_INTERVAL_MS=9", "db_retry_interval_ms",
                       "ROSTER_DB_RETRY_INTERVAL_MS");
    expect_env_invalid("ROSTER_SHUTDOWN_GRACE_MS=600001", "shutdown_grace_ms",
                       "ROSTER_SHUTDOWN_GRACE_MS");
    /* the bounds themselves are allowed */
    assert_int_equal(load_env(&cfg, edges, &eb), RS_OK);
    assert_int_equal(cfg.http_workers, 64);
    assert_int_equal(cfg.shutdown_grace_ms, 0);
    assert_int_equal(cfg.max_body_bytes, 1024);
    assert_int_equal(cfg.max_uri_bytes, 65536);
    rs_config_cleanup(&cfg);
}

static void test_bools(void **state)
{
    const char *truthy[] = {"1", "true", "TRUE", "yes", "On"};
    const char *falsy[] = {"0", "false", "No", "off", "OFF"};
    char entry[64];
    char *envp[] = {entry, NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        snprintf(entry, sizeof(entry), "ROSTER_ALLOW_PRIVATE_UPSTREAMS=%s", truthy[i]);
        assert_int_equal(load_env(&cfg, envp, &eb), RS_OK);
        assert_true(cfg.allow_private_upstreams);
        rs_config_cleanup(&cfg);
        snprintf(entry, sizeof(entry), "ROSTER_ACCESS_LOG=%s", falsy[i]);
        assert_int_equal(load_env(&cfg, envp, &eb), RS_OK);
        assert_false(cfg.access_log);
        rs_config_cleanup(&cfg);
    }
    expect_env_invalid("ROSTER_ACCESS_LOG=maybe", "access_log", "ROSTER_ACCESS_LOG");
    expect_env_invalid("ROSTER_ACCESS_LOG=2", "access_log", "ROSTER_ACCESS_LOG");
    expect_env_invalid("ROSTER_ACCESS_LOG=", "access_log", "ROSTER_ACCESS_LOG");
}

static void test_string_checks(void **state)
{
    (void)state;
    expect_env_invalid("ROSTER_LOG_LEVEL=verbose", "log_level", "ROSTER_LOG_LEVEL");
    expect_env_invalid("ROSTER_LISTEN=8080", "listen", "ROSTER_LISTEN");
    expect_env_invalid("ROSTER_LISTEN=localhost:http", "listen", "ROSTER_LISTEN");
    expect_env_invalid("ROSTER_LISTEN=localhost:70000", "listen", "ROSTER_LISTEN");
    expect_env_invalid("ROSTER_PUBLIC_URL=example.com", "public_url", "ROSTER_PUBLIC_URL");
    expect_env_invalid("ROSTER_MASTER_KEYS_RETIRED=" MASTER_KEY ";" MASTER_KEY,
                       "master_keys_retired", "ROSTER_MASTER_KEYS_RETIRED");
}

/* Expects a config file to be refused with a message holding both needles. */
static void expect_file_invalid(const char *text, const char *needle1, const char *needle2)
{
    const char *path = write_file(text);
    struct rs_config cfg;
    struct rs_errbuf eb;

    assert_int_equal(rs_config_load(&cfg, path, NULL, &eb), RS_ERR_INVALID);
    unlink(path);
    if (!strstr(eb.msg, needle1) || !strstr(eb.msg, needle2))
        fail_msg("message \"%s\" should hold \"%s\" and \"%s\"", eb.msg, needle1, needle2);
}

static void test_file_errors(void **state)
{
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    expect_file_invalid("# ok\nlisten = 127.0.0.1:1\nnonsense = 1\n", "line 3", "nonsense");
    expect_file_invalid("http_workers = 4\njust words\n", "line 2", "name = value");
    expect_file_invalid("\n\nhttp_workers = 100\n", "line 3", "http_workers");
    expect_file_invalid("access_log = sometimes\n", "line 1", "access_log");
    assert_int_equal(rs_config_load(&cfg, "/nonexistent/roster.conf", NULL, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "/nonexistent/roster.conf"));
}

static void test_require_serve(void **state)
{
    char *envp[] = {"ROSTER_MASTER_KEY=" MASTER_KEY, NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(rs_config_load(&cfg, NULL, NULL, &eb), RS_OK);
    assert_int_equal(rs_config_require_serve(&cfg, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "master_key"));
    assert_non_null(strstr(eb.msg, "ROSTER_MASTER_KEY"));
    rs_config_cleanup(&cfg);

    assert_int_equal(load_env(&cfg, envp, &eb), RS_OK);
    assert_int_equal(rs_config_require_serve(&cfg, &eb), RS_OK);
    rs_config_cleanup(&cfg);
}

/* Runs print(out) into a string (caller frees). */
static char *capture(void (*print)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    print(out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void test_help_lists_every_setting(void **state)
{
    char *help = capture(rs_config_print_help);

    (void)state;
    assert_non_null(strstr(help, "Settings (environment variable, default):"));
    for (size_t i = 0; i < sizeof(all_settings) / sizeof(all_settings[0]); i++) {
        if (!strstr(help, all_settings[i][0]) || !strstr(help, all_settings[i][1]))
            fail_msg("--help lacks %s / %s", all_settings[i][0], all_settings[i][1]);
    }
    assert_non_null(strstr(help, "127.0.0.1:8080"));
    assert_non_null(strstr(help, "[1..64]"));
    free(help);
}

static void test_markdown_lists_every_setting(void **state)
{
    char *doc = capture(rs_config_print_markdown);
    char row[128];

    (void)state;
    assert_true(strncmp(doc, "# Configuration\n", 16) == 0);
    assert_non_null(strstr(doc, "| setting | env var | type | default | bounds | description |"));
    assert_non_null(strstr(doc, "--config FILE"));
    for (size_t i = 0; i < sizeof(all_settings) / sizeof(all_settings[0]); i++) {
        snprintf(row, sizeof(row), "| `%s` | `%s` |", all_settings[i][0], all_settings[i][1]);
        if (!strstr(doc, row))
            fail_msg("CONFIG.md lacks the row %s", row);
    }
    assert_non_null(strstr(doc, "| `http_workers` | `ROSTER_HTTP_WORKERS` | integer | `2` | "
                                "[1..64] |"));
    free(doc);
}

/* Runs rs_config_log with stderr sent to a temporary file; returns what it wrote. */
static char *capture_log(const struct rs_config *cfg)
{
    static char text[16384];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    rs_config_log(cfg);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static void test_log_masks_secrets(void **state)
{
    char *envp[] = {"ROSTER_MASTER_KEY=" MASTER_KEY,
                    "ROSTER_MASTER_KEYS_RETIRED=RETIREDKEYEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=",
                    "ROSTER_DATABASE_URL=postgresql://roster:hunter2@db.internal/roster", NULL};
    struct rs_config cfg;
    struct rs_errbuf eb;
    const char *log;

    (void)state;
    rs_log_set_level(RS_LOG_INFO);
    assert_int_equal(load_env(&cfg, envp, &eb), RS_OK);
    log = capture_log(&cfg);
    for (size_t i = 0; i < sizeof(all_settings) / sizeof(all_settings[0]); i++) {
        char needle[64];

        snprintf(needle, sizeof(needle), "name=%s ", all_settings[i][0]);
        if (!strstr(log, needle))
            fail_msg("the log lacks %s:\n%s", all_settings[i][0], log);
    }
    assert_null(strstr(log, MASTER_KEY));
    assert_null(strstr(log, "q83vEjRW"));
    assert_null(strstr(log, "RETIREDKEY"));
    assert_non_null(strstr(log, "name=master_keys_retired value=\"(set)\""));
    assert_null(strstr(log, "hunter2"));
    assert_non_null(strstr(log, "db.internal"));
    rs_config_cleanup(&cfg);

    assert_int_equal(rs_config_load(&cfg, NULL, NULL, &eb), RS_OK);
    assert_non_null(strstr(capture_log(&cfg), "(unset)"));
    rs_config_cleanup(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_file_then_env),
        cmocka_unit_test(test_bad_int),
        cmocka_unit_test(test_out_of_bounds),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_string_checks),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_require_serve),
        cmocka_unit_test(test_help_lists_every_setting),
        cmocka_unit_test(test_markdown_lists_every_setting),
        cmocka_unit_test(test_log_masks_secrets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
