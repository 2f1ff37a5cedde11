/* rosterd: the Roster server and its operator commands (migrate, create-org, seed-example). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gw_int.h"
#include "sync_int.h"
#include "roster/rs_log.h"
#include "roster/rs_migrate.h"
#include "roster/rs_token.h"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rosterd [--config FILE] COMMAND [ARGS]\n\n"
            "Commands:\n"
            "  serve                          apply migrations, then serve the API\n"
            "  migrate                        apply pending database migrations and exit\n"
            "  create-org NAME                create an organization; print its API key (shown "
            "once)\n"
            "  seed-example ACCOUNT_ID [N]    write an example company of N employees (default "
            "250)\n"
            "                                 into a linked account (demo and benchmarks)\n"
            "  config-doc                     print docs/CONFIG.md\n"
            "  --help                         this text\n\n");
    rs_config_print_help(out);
}

static enum rs_err open_db(const struct rs_config *cfg, struct rs_db **db, struct rs_errbuf *eb)
{
    return rs_db_open(cfg->database_url, (int)cfg->db_connect_timeout_s, false, db, eb);
}

static enum rs_err cmd_migrate(const struct rs_config *cfg, struct rs_errbuf *eb)
{
    struct rs_db *db = NULL;
    int applied = 0;
    enum rs_err err = open_db(cfg, &db, eb);

    if (err == RS_OK)
        err = rs_migrate_run(db, &applied, eb);
    if (err == RS_OK)
        rs_log(RS_LOG_INFO, "migrations applied", "count=%d", applied);
    rs_db_free(db);
    return err;
}

static enum rs_err cmd_create_org(const struct rs_config *cfg, const char *name,
                                  struct rs_errbuf *eb)
{
    static const char sql[] =
        "WITH org AS (INSERT INTO organizations (id, name) VALUES ($1::uuid, $2) RETURNING id) "
        "INSERT INTO api_keys (id, organization_id, key_hash) "
        "SELECT $3::uuid, org.id, decode($4, 'hex') FROM org";
    struct rs_db *db = NULL;
    struct rs_uuid org, key_id;
    char org_text[RS_UUID_STR_LEN], key_text[RS_UUID_STR_LEN], key[RS_TOKEN_MAX_LEN];
    char hash_hex[2 * RS_TOKEN_HASH_LEN + 1];
    uint8_t hash[RS_TOKEN_HASH_LEN];
    PGresult *res = NULL;
    enum rs_err err;

    if (!name || !*name || strlen(name) > 200)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "create-org needs a NAME of 1 to 200 bytes");
    if ((err = open_db(cfg, &db, eb)) != RS_OK || (err = rs_token_new("rk", key, sizeof(key))))
        goto out;
    rs_uuid_v4(&org);
    rs_uuid_v4(&key_id);
    rs_token_hash(key, strlen(key), hash);
    const char *params[4] = {rs_uuid_format(&org, org_text), name,
                             rs_uuid_format(&key_id, key_text), rs_token_hash_hex(hash, hash_hex)};
    res = rs_db_query(db, sql, 4, params, &err);
    if (!res) {
        rs_errbuf_set(eb, err, "cannot create the organization (is the database migrated?)");
        goto out;
    }
    rs_log(RS_LOG_INFO, "organization created", "org=%s", org_text);
    printf("%s\n", key);
out:
    sodium_memzero(key, sizeof(key));
    PQclear(res);
    rs_db_free(db);
    return err;
}

static enum rs_err cmd_seed(const struct rs_config *cfg, const char *account, const char *count,
                            struct rs_errbuf *eb)
{
    struct rs_db *db = NULL;
    struct rs_uuid id;
    char *end = NULL;
    long n = count ? strtol(count, &end, 10) : 250;
    enum rs_err err;

    if (!account || rs_uuid_parse(account, &id) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "seed-example needs a linked account id (UUID)");
    if ((count && (*end || end == count)) || n < 1 || n > 10000000)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "seed-example: N must be 1..10000000");
    if ((err = open_db(cfg, &db, eb)) == RS_OK)
        err = gw_seed_example(db, &id, (int)n, 1, eb);
    rs_db_free(db);
    return err;
}

static enum rs_err cmd_serve(const struct rs_config *cfg, struct rs_errbuf *eb)
{
    struct gw_app app = {.cfg = cfg};
    struct sync_pool *syncs = NULL;
    enum rs_err err;

    if ((err = rs_config_require_serve(cfg, eb)) != RS_OK)
        return err;
    if ((err = rs_vault_new(cfg->master_key, &app.vault, eb)) != RS_OK)
        return err;
    rs_vault_derive(app.vault, "cursor01", 1, app.cursor_key);
    if (cfg->page_cache_bytes > 0 &&
        (err = gw_cache_new((size_t)cfg->page_cache_bytes, &app.cache)) != RS_OK) {
        rs_vault_free(app.vault);
        return err;
    }
    rs_config_log(cfg);
    err = cmd_migrate(cfg, eb);
    if (err == RS_OK)
        err = sync_pool_start(&app, &syncs, eb);
    if (err == RS_OK)
        err = gw_server_run(&app, eb);
    sync_pool_stop(syncs, cfg->shutdown_grace_ms);
    sodium_memzero(app.cursor_key, sizeof(app.cursor_key));
    gw_cache_free(app.cache);
    rs_vault_free(app.vault);
    return err;
}

static enum rs_err run(const struct rs_config *cfg, int argc, char **argv, struct rs_errbuf *eb)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(cfg, eb);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(cfg, eb);
    if (strcmp(cmd, "create-org") == 0)
        return cmd_create_org(cfg, argc > 1 ? argv[1] : NULL, eb);
    if (strcmp(cmd, "seed-example") == 0)
        return cmd_seed(cfg, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL, eb);
    if (strcmp(cmd, "config-doc") == 0) {
        rs_config_print_markdown(stdout);
        return RS_OK;
    }
    usage(stderr);
    return rs_errbuf_set(eb, RS_ERR_INVALID, "unknown command \"%.40s\"", cmd);
}

int main(int argc, char **argv)
{
    struct rs_config cfg;
    struct rs_errbuf eb = {{0}, {0}};
    const char *config_path = NULL;
    enum rs_log_level level;
    enum rs_err err;
    int i = 1;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--config") == 0) {
        config_path = argv[2];
        i = 3;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "rosterd: libsodium failed to initialize\n");
        return 1;
    }
    if (rs_config_load(&cfg, config_path, environ, &eb) != RS_OK) {
        fprintf(stderr, "rosterd: configuration: %s\n", eb.msg);
        return 2;
    }
    if (rs_log_parse_level(cfg.log_level, &level) == RS_OK)
        rs_log_set_level(level);
    err = run(&cfg, argc - i, argv + i, &eb);
    if (err != RS_OK)
        rs_log(RS_LOG_ERROR, "rosterd failed", "command=%s error=%s detail=\"%s\"", argv[i],
               rs_err_name(err), eb.msg);
    rs_config_cleanup(&cfg);
    return err == RS_OK ? 0 : (err == RS_ERR_INVALID ? 2 : 1);
}
