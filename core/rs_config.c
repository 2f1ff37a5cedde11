/*
 * The one declarative table of rosterd's settings, and everything it drives: defaults, the
 * config file, the environment, validation, `--help`, docs/CONFIG.md and the start-up log.
 */
#include "roster/rs_config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "roster/rs_log.h"

enum rs_config_type { RS_CONFIG_STRING, RS_CONFIG_INT, RS_CONFIG_BOOL };

#define RS_CONFIG_SECRET   0x1u /* never printed or logged: only "(set)" / "(unset)" */
#define RS_CONFIG_SERVE    0x2u /* must be non-empty for `rosterd serve` */
#define RS_CONFIG_CONNINFO 0x4u /* a libpq conninfo: logged without its password */

/* Longest setting name; env names are "ROSTER_" + the upper-cased name. */
#define RS_CONFIG_NAME_MAX 32
#define RS_CONFIG_ENV_MAX  (RS_CONFIG_NAME_MAX + 8)
#define RS_CONFIG_LINE_MAX 4096

struct rs_config_setting {
    const char *name;
    enum rs_config_type type;
    const char *default_text;
    int64_t min, max; /* RS_CONFIG_INT only */
    unsigned flags;
    size_t offset; /* of the char *, int64_t or bool in struct rs_config */
    /* Extra validation of a string value; NULL = any string. */
    enum rs_err (*check)(const char *value, struct rs_errbuf *eb);
    const char *help;
};

static enum rs_err check_listen(const char *value, struct rs_errbuf *eb);
static enum rs_err check_public_url(const char *value, struct rs_errbuf *eb);
static enum rs_err check_log_level(const char *value, struct rs_errbuf *eb);
static enum rs_err check_key_list(const char *value, struct rs_errbuf *eb);
static enum rs_err check_delays(const char *value, struct rs_errbuf *eb);

#define FIELD(member) offsetof(struct rs_config, member)

static const struct rs_config_setting rs_config_table[] = {
    {"database_url", RS_CONFIG_STRING, "", 0, 0, RS_CONFIG_CONNINFO, FIELD(database_url), NULL,
     "PostgreSQL conninfo (`host=… dbname=…`) or URI; empty uses libpq's defaults (PG* "
     "variables)"},
    {"listen", RS_CONFIG_STRING, "127.0.0.1:8080", 0, 0, 0, FIELD(listen), check_listen,
     "HOST:PORT the HTTP server listens on; port 0 picks a free port"},
    {"public_url", RS_CONFIG_STRING, "", 0, 0, 0, FIELD(public_url), check_public_url,
     "base URL users reach rosterd at, used in magic links and OAuth redirects; empty means "
     "http://<listen>"},
    {"master_key", RS_CONFIG_STRING, "", 0, 0, RS_CONFIG_SECRET | RS_CONFIG_SERVE,
     FIELD(master_key), NULL,
     "base64 of 32 random bytes that seal stored credentials (`openssl rand -base64 32`); "
     "required to serve"},
    {"master_keys_retired", RS_CONFIG_STRING, "", 0, 0, RS_CONFIG_SECRET,
     FIELD(master_keys_retired), check_key_list,
     "comma-separated earlier master keys (base64 of 32 bytes each, at most 7) that still open "
     "what they sealed but never seal; set during a key rotation until `rosterd rotate-key` has "
     "re-sealed everything (see docs/operations.md)"},
    {"allow_private_upstreams", RS_CONFIG_BOOL, "false", 0, 0, 0, FIELD(allow_private_upstreams),
     NULL, "allow provider base_url and webhook hosts on private or loopback networks"},
    {"http_workers", RS_CONFIG_INT, "2", 1, 64, 0, FIELD(http_workers), NULL,
     "HTTP worker threads, each with its own database connection"},
    {"max_body_bytes", RS_CONFIG_INT, "1048576", 1024, 67108864, 0, FIELD(max_body_bytes), NULL,
     "largest accepted request body, in bytes"},
    {"max_header_bytes", RS_CONFIG_INT, "16384", 1024, 1048576, 0, FIELD(max_header_bytes), NULL,
     "largest accepted request header block, in bytes"},
    {"max_uri_bytes", RS_CONFIG_INT, "8192", 256, 65536, 0, FIELD(max_uri_bytes), NULL,
     "longest accepted request URI, in bytes"},
    {"log_level", RS_CONFIG_STRING, "info", 0, 0, 0, FIELD(log_level), check_log_level,
     "least severe level logged: debug, info, warn or error"},
    {"access_log", RS_CONFIG_BOOL, "true", 0, 0, 0, FIELD(access_log), NULL,
     "log one line per HTTP request"},
    {"shutdown_grace_ms", RS_CONFIG_INT, "10000", 0, 600000, 0, FIELD(shutdown_grace_ms), NULL,
     "how long SIGTERM waits for in-flight requests before exiting, in milliseconds"},
    {"db_connect_timeout_s", RS_CONFIG_INT, "5", 1, 60, 0, FIELD(db_connect_timeout_s), NULL,
     "PostgreSQL connect timeout, in seconds"},
    {"db_retry_interval_ms", RS_CONFIG_INT, "1000", 10, 60000, 0, FIELD(db_retry_interval_ms), NULL,
     "least time between two attempts to reconnect to PostgreSQL, in milliseconds"},
    {"http_idle_timeout_s", RS_CONFIG_INT, "60", 1, 3600, 0, FIELD(http_idle_timeout_s), NULL,
     "how long an HTTP connection may stay idle or slow before rosterd closes it, in seconds"},
    {"page_cache_bytes", RS_CONFIG_INT, "268435456", 0, INT64_C(17179869184), 0,
     FIELD(page_cache_bytes), NULL,
     "memory for rendered read-API pages shared by the HTTP workers (a sync that changes an "
     "account's data retires its pages); 0 disables the cache"},
    {"sync_workers", RS_CONFIG_INT, "2", 0, 64, 0, FIELD(sync_workers), NULL,
     "sync worker threads (each runs one sync at a time); 0 serves the API without syncing"},
    {"sync_lease_s", RS_CONFIG_INT, "120", 10, 3600, 0, FIELD(sync_lease_s), NULL,
     "how long a running sync's lease lasts without a heartbeat before another worker takes "
     "it over, in seconds"},
    {"sync_poll_ms", RS_CONFIG_INT, "1000", 20, 60000, 0, FIELD(sync_poll_ms), NULL,
     "how often an idle sync worker looks for due syncs (a NOTIFY wakes it sooner)"},
    {"upstream_timeout_ms", RS_CONFIG_INT, "30000", 1000, 600000, 0, FIELD(upstream_timeout_ms),
     NULL, "timeout of one request to a provider, in milliseconds"},
    {"upstream_max_attempts", RS_CONFIG_INT, "5", 1, 20, 0, FIELD(upstream_max_attempts), NULL,
     "attempts per provider request on 5xx, network errors and 429 before the sync fails"},
    {"webhook_dispatchers", RS_CONFIG_INT, "1", 0, 16, 0, FIELD(webhook_dispatchers), NULL,
     "webhook delivery threads, each with its own database connection and connections to the "
     "endpoints; 0 delivers nothing (another rosterd process does)"},
    {"webhook_timeout_ms", RS_CONFIG_INT, "15000", 100, 120000, 0, FIELD(webhook_timeout_ms), NULL,
     "timeout of one webhook delivery attempt, connect included, in milliseconds"},
    {"webhook_retry_schedule_ms", RS_CONFIG_STRING,
     "5000,300000,1800000,7200000,18000000,"
     "36000000,36000000",
     0, 0, 0, FIELD(webhook_retry_schedule_ms), check_delays,
     "delays before each retry of a failed webhook delivery, comma-separated milliseconds (each "
     "drawn within +-10%); after the last retry fails the message is dead-lettered"},
    {"webhook_endpoint_concurrency", RS_CONFIG_INT, "16", 1, 1024, 0,
     FIELD(webhook_endpoint_concurrency), NULL,
     "deliveries in flight at once to one endpoint, per dispatcher (a slow receiver holds only "
     "these)"},
    {"webhook_disable_after_s", RS_CONFIG_INT, "432000", 1, INT64_C(31536000), 0,
     FIELD(webhook_disable_after_s), NULL,
     "an endpoint whose deliveries have all failed for this long is disabled and an Issue is "
     "raised, in seconds"},
    {"webhook_secret_grace_s", RS_CONFIG_INT, "86400", 0, INT64_C(2592000), 0,
     FIELD(webhook_secret_grace_s), NULL,
     "after a secret rotation, how long the previous secret keeps signing beside the new one, "
     "in seconds"},
    {"webhook_poll_ms", RS_CONFIG_INT, "1000", 20, 60000, 0, FIELD(webhook_poll_ms), NULL,
     "how often an idle webhook dispatcher looks for due messages (a NOTIFY wakes it sooner)"},
    {"webhook_retention_days", RS_CONFIG_INT, "30", 1, 3650, 0, FIELD(webhook_retention_days), NULL,
     "delivered and dead-lettered webhook messages and their attempts are kept this long"},
};

#define RS_CONFIG_COUNT (sizeof(rs_config_table) / sizeof(rs_config_table[0]))

static enum rs_err check_listen(const char *value, struct rs_errbuf *eb)
{
    const char *colon = strrchr(value, ':');
    char *end = NULL;
    long long port;

    if (!colon || colon == value)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is not HOST:PORT");
    errno = 0;
    port = strtoll(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno || port > 65535)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "has no valid port (0-65535)");
    return RS_OK;
}

static enum rs_err check_public_url(const char *value, struct rs_errbuf *eb)
{
    if (value[0] && strncasecmp(value, "http://", 7) != 0 && strncasecmp(value, "https://", 8))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "must start with http:// or https://");
    return RS_OK;
}

static enum rs_err check_log_level(const char *value, struct rs_errbuf *eb)
{
    enum rs_log_level level;

    if (rs_log_parse_level(value, &level) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "must be debug, info, warn or error");
    return RS_OK;
}

/*
 * Only the shape here (base64 characters, commas, blanks): the vault decodes each key when it
 * is built, naming the bad one's position, and nothing of a secret is echoed either way.
 */
static enum rs_err check_key_list(const char *value, struct rs_errbuf *eb)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789+/=, \t";

    if (value[strspn(value, allowed)] != '\0')
        return rs_errbuf_set(eb, RS_ERR_INVALID,
                             "must be base64 keys separated by commas (a character is neither)");
    return RS_OK;
}

/* 1 to 20 comma-separated whole milliseconds, each from 1 ms to 7 days. */
static enum rs_err check_delays(const char *value, struct rs_errbuf *eb)
{
    const char *p = value;
    int n = 0;

    for (;;) {
        char *end = NULL;
        long long ms;

        if (!isdigit((unsigned char)*p))
            return rs_errbuf_set(eb, RS_ERR_INVALID, "must be comma-separated milliseconds");
        errno = 0;
        ms = strtoll(p, &end, 10);
        if (errno || ms < 1 || ms > INT64_C(604800000))
            return rs_errbuf_set(eb, RS_ERR_INVALID, "has a delay outside 1..604800000 ms");
        if (++n > 20)
            return rs_errbuf_set(eb, RS_ERR_INVALID, "has more than 20 delays");
        p = end;
        if (*p != ',')
            break;
        p++;
    }
    if (*p != '\0')
        return rs_errbuf_set(eb, RS_ERR_INVALID, "must be comma-separated milliseconds");
    return RS_OK;
}

static const char *type_name(enum rs_config_type type)
{
    switch (type) {
    case RS_CONFIG_STRING:
        return "string";
    case RS_CONFIG_INT:
        return "integer";
    case RS_CONFIG_BOOL:
        return "boolean";
    }
    return "?";
}

static const char *env_name(const struct rs_config_setting *s, char out[RS_CONFIG_ENV_MAX])
{
    size_t i;

    memcpy(out, "ROSTER_", 7);
    for (i = 0; s->name[i] && i + 8 < RS_CONFIG_ENV_MAX; i++)
        out[7 + i] = (char)toupper((unsigned char)s->name[i]);
    out[7 + i] = '\0';
    return out;
}

static const struct rs_config_setting *find_setting(const char *name)
{
    size_t i;

    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        if (strcmp(rs_config_table[i].name, name) == 0)
            return &rs_config_table[i];
    }
    return NULL;
}

static enum rs_err parse_int(const struct rs_config_setting *s, const char *text, int64_t *out,
                             struct rs_errbuf *eb)
{
    char *end = NULL;
    long long value;

    if (!isdigit((unsigned char)text[0]) && !(text[0] == '-' && isdigit((unsigned char)text[1])))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is not an integer");
    errno = 0;
    value = strtoll(text, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is not an integer");
    if (value < s->min || value > s->max)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "is out of bounds [%lld..%lld]", (long long)s->min,
                             (long long)s->max);
    *out = value;
    return RS_OK;
}

static enum rs_err parse_bool(const char *text, bool *out, struct rs_errbuf *eb)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return RS_OK;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return RS_OK;
        }
    }
    return rs_errbuf_set(eb, RS_ERR_INVALID, "is not a boolean (1/0, true/false, yes/no, on/off)");
}

/* Frees a string setting, wiping it first when it is a secret. */
static void free_string(const struct rs_config_setting *s, char **field)
{
    if (*field && (s->flags & RS_CONFIG_SECRET))
        sodium_memzero(*field, strlen(*field));
    free(*field);
    *field = NULL;
}

/* Parses and stores one value; on failure eb holds the reason (without the setting's name). */
static enum rs_err set_value(struct rs_config *cfg, const struct rs_config_setting *s,
                             const char *text, struct rs_errbuf *eb)
{
    char *field = (char *)cfg + s->offset;
    char *copy = NULL;
    enum rs_err err;

    switch (s->type) {
    case RS_CONFIG_INT:
        return parse_int(s, text, (int64_t *)(void *)field, eb);
    case RS_CONFIG_BOOL:
        return parse_bool(text, (bool *)(void *)field, eb);
    case RS_CONFIG_STRING:
        break;
    }
    if (s->check) {
        err = s->check(text, eb);
        if (err != RS_OK)
            return err;
    }
    copy = strdup(text);
    if (!copy)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory");
    free_string(s, (char **)(void *)field);
    *(char **)(void *)field = copy;
    return RS_OK;
}

/* Prefixes eb's reason with where the value came from and which setting it was. */
static enum rs_err blame(struct rs_errbuf *eb, enum rs_err err, const char *where,
                         const struct rs_config_setting *s, const char *text)
{
    char reason[sizeof(eb->msg)];
    char env[RS_CONFIG_ENV_MAX];

    if (!eb)
        return err;
    memcpy(reason, eb->msg, sizeof(reason));
    if (s->flags & RS_CONFIG_SECRET || s->type == RS_CONFIG_STRING)
        return rs_errbuf_param(eb, err, s->name, "%s: %s (%s) %s", where, s->name, env_name(s, env),
                               reason);
    return rs_errbuf_param(eb, err, s->name, "%s: %s (%s): \"%.40s\" %s", where, s->name,
                           env_name(s, env), text, reason);
}

static enum rs_err load_defaults(struct rs_config *cfg, struct rs_errbuf *eb)
{
    size_t i;
    enum rs_err err;

    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        err = set_value(cfg, &rs_config_table[i], rs_config_table[i].default_text, eb);
        if (err != RS_OK)
            return blame(eb, err, "default", &rs_config_table[i], "");
    }
    return RS_OK;
}

static char *trim(char *text)
{
    char *end;

    while (isspace((unsigned char)*text))
        text++;
    end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return text;
}

/* One line of the file: blank, `# comment` or `name = value`. */
static enum rs_err load_line(struct rs_config *cfg, char *line, const char *where,
                             struct rs_errbuf *eb)
{
    const struct rs_config_setting *s;
    char *name = trim(line);
    char *equals;
    char *value;
    enum rs_err err;

    if (name[0] == '\0' || name[0] == '#')
        return RS_OK;
    equals = strchr(name, '=');
    if (!equals)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s: expected `name = value`", where);
    *equals = '\0';
    name = trim(name);
    s = find_setting(name);
    if (!s)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "%s: unknown setting \"%.64s\"", where, name);
    value = trim(equals + 1);
    err = set_value(cfg, s, value, eb);
    if (err != RS_OK)
        return blame(eb, err, where, s, value);
    return RS_OK;
}

static enum rs_err load_file(struct rs_config *cfg, const char *path, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_INVALID;
    char line[RS_CONFIG_LINE_MAX];
    char where[96];
    FILE *file = NULL;
    unsigned lineno = 0;

    file = fopen(path, "r");
    if (!file) {
        rs_errbuf_set(eb, err, "config file %.160s: %s", path, strerror(errno));
        goto out;
    }
    while (fgets(line, sizeof(line), file)) {
        lineno++;
        snprintf(where, sizeof(where), "%.64s line %u", path, lineno);
        if (!strchr(line, '\n') && !feof(file)) {
            rs_errbuf_set(eb, err, "%s: line too long", where);
            goto out;
        }
        if (load_line(cfg, line, where, eb) != RS_OK)
            goto out;
    }
    if (ferror(file)) {
        rs_errbuf_set(eb, err, "config file %.160s: read error", path);
        goto out;
    }
    err = RS_OK;
out:
    sodium_memzero(line, sizeof(line)); /* it may have held the master key */
    if (file)
        fclose(file);
    return err;
}

static const char *env_lookup(char *const *envp, const char *name)
{
    size_t len = strlen(name);

    for (; envp && *envp; envp++) {
        if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
            return *envp + len + 1;
    }
    return NULL;
}

static enum rs_err load_env(struct rs_config *cfg, char *const *envp, struct rs_errbuf *eb)
{
    char env[RS_CONFIG_ENV_MAX];
    const char *value;
    size_t i;
    enum rs_err err;

    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        value = env_lookup(envp, env_name(&rs_config_table[i], env));
        if (!value)
            continue;
        err = set_value(cfg, &rs_config_table[i], value, eb);
        if (err != RS_OK)
            return blame(eb, err, "environment", &rs_config_table[i], value);
    }
    return RS_OK;
}

enum rs_err rs_config_load(struct rs_config *cfg, const char *path, char *const *envp,
                           struct rs_errbuf *eb)
{
    enum rs_err err;

    memset(cfg, 0, sizeof(*cfg));
    err = load_defaults(cfg, eb);
    if (err == RS_OK && path)
        err = load_file(cfg, path, eb);
    if (err == RS_OK)
        err = load_env(cfg, envp, eb);
    if (err != RS_OK)
        rs_config_cleanup(cfg);
    return err;
}

void rs_config_cleanup(struct rs_config *cfg)
{
    size_t i;

    if (!cfg)
        return;
    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        if (rs_config_table[i].type == RS_CONFIG_STRING)
            free_string(&rs_config_table[i],
                        (char **)(void *)((char *)cfg + rs_config_table[i].offset));
    }
}

enum rs_err rs_config_require_serve(const struct rs_config *cfg, struct rs_errbuf *eb)
{
    char env[RS_CONFIG_ENV_MAX];
    const char *value;
    size_t i;

    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        const struct rs_config_setting *s = &rs_config_table[i];

        if (!(s->flags & RS_CONFIG_SERVE))
            continue;
        value = *(char *const *)(const void *)((const char *)cfg + s->offset);
        if (!value || value[0] == '\0')
            return rs_errbuf_param(eb, RS_ERR_INVALID, s->name, "%s (%s) is required to serve: %s",
                                   s->name, env_name(s, env), s->help);
    }
    return RS_OK;
}

/* "[1..64]" for an int, "" otherwise. */
static const char *bounds_text(const struct rs_config_setting *s, char *out, size_t outlen)
{
    out[0] = '\0';
    if (s->type == RS_CONFIG_INT)
        snprintf(out, outlen, "[%lld..%lld]", (long long)s->min, (long long)s->max);
    return out;
}

void rs_config_print_help(FILE *out)
{
    char env[RS_CONFIG_ENV_MAX];
    char bounds[48];
    size_t i;

    fputs("Settings (environment variable, default):\n", out);
    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        const struct rs_config_setting *s = &rs_config_table[i];

        fprintf(out, "  %-24s %s, default \"%s\" (%s%s%s%s%s)\n", s->name, env_name(s, env),
                s->default_text, type_name(s->type), s->type == RS_CONFIG_INT ? " " : "",
                bounds_text(s, bounds, sizeof(bounds)),
                (s->flags & RS_CONFIG_SECRET) ? ", secret" : "",
                (s->flags & RS_CONFIG_SERVE) ? ", required to serve" : "");
        fprintf(out, "  %-24s %s\n", "", s->help);
    }
    fputs("Precedence: defaults < config file (--config FILE) < environment.\n", out);
}

/* Writes text into a markdown table cell: `|` escaped, no newline. */
static void print_cell(FILE *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '|')
            fputs("\\|", out);
        else if (*text != '\n')
            fputc(*text, out);
    }
}

void rs_config_print_markdown(FILE *out)
{
    char env[RS_CONFIG_ENV_MAX];
    char bounds[48];
    size_t i;

    fputs("# Configuration\n\n"
          "<!-- Generated by `rosterd config-doc` from the settings table in core/rs_config.c; "
          "do not edit by hand. -->\n\n"
          "rosterd reads every setting below. Each has a default; a configuration file given "
          "with `--config FILE` overrides the defaults, and the environment overrides the file:"
          "\n\n    defaults < file (--config FILE) < environment (ROSTER_<NAME>)\n\n"
          "The file holds `name = value` lines; `#` starts a comment line and blank lines are "
          "ignored. An unknown name, a value of the wrong type or out of bounds stops start-up "
          "with the setting and the reason. Booleans accept 1/0, true/false, yes/no, on/off. "
          "Secret settings are never printed or logged.\n\n"
          "| setting | env var | type | default | bounds | description |\n"
          "|---|---|---|---|---|---|\n",
          out);
    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        const struct rs_config_setting *s = &rs_config_table[i];

        fprintf(out, "| `%s` | `%s` | %s | ", s->name, env_name(s, env), type_name(s->type));
        if (s->default_text[0])
            fprintf(out, "`%s`", s->default_text);
        else
            fputs("(empty)", out);
        fprintf(out, " | %s | ", bounds_text(s, bounds, sizeof(bounds)));
        print_cell(out, s->help);
        if (s->flags & RS_CONFIG_SECRET)
            fputs(" (secret)", out);
        fputs(" |\n", out);
    }
}

/* A conninfo for the log: every option libpq parsed from it except the password. */
static const char *conninfo_for_log(const char *conninfo, char *out, size_t outlen)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    PQconninfoOption *opt;
    size_t used = 0;
    int n;

    snprintf(out, outlen, "%s", opts ? "" : "(unparseable)");
    for (opt = opts; opt && opt->keyword && used < outlen; opt++) {
        if (!opt->val || !opt->val[0] || strcmp(opt->keyword, "password") == 0)
            continue;
        n = snprintf(out + used, outlen - used, "%s%s=%s", used ? " " : "", opt->keyword, opt->val);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    PQconninfoFree(opts);
    return out;
}

void rs_config_log(const struct rs_config *cfg)
{
    char quoted[512];
    char text[256];
    size_t i;

    for (i = 0; i < RS_CONFIG_COUNT; i++) {
        const struct rs_config_setting *s = &rs_config_table[i];
        const char *field = (const char *)cfg + s->offset;
        const char *value = NULL;

        if (s->type == RS_CONFIG_INT) {
            snprintf(text, sizeof(text), "%lld", (long long)*(const int64_t *)(const void *)field);
            value = text;
        } else if (s->type == RS_CONFIG_BOOL) {
            value = *(const bool *)(const void *)field ? "true" : "false";
        } else {
            value = *(char *const *)(const void *)field;
            if (s->flags & RS_CONFIG_SECRET)
                value = value && value[0] ? "(set)" : "(unset)";
            else if (s->flags & RS_CONFIG_CONNINFO)
                value = conninfo_for_log(value ? value : "", text, sizeof(text));
        }
        rs_log(RS_LOG_INFO, "setting", "name=%s value=%s", s->name,
               rs_log_quote(value ? value : "", quoted, sizeof(quoted)));
    }
}
