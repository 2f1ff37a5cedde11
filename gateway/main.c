/*
 * rosterd: the Roster server and its operator commands (migrate, create-org, seed-example,
 * rotate-key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gw_int.h"
#include "sync_int.h"
#include "wh_int.h"
#include "roster/rs_log.h"
#include "roster/rs_migrate.h"
#include "roster/rs_sealed.h"
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
            "  rotate-key                     re-seal every stored secret under the current\n"
            "                                 master key (opening with it or a retired one)\n"
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

/* The vault of ROSTER_MASTER_KEY (which seals) and ROSTER_MASTER_KEYS_RETIRED (which open). */
static enum rs_err open_vault(const struct rs_config *cfg, struct rs_vault **out,
                              struct rs_errbuf *eb)
{
    enum rs_err err = rs_config_require_serve(cfg, eb);
    char id[17];

    if (err == RS_OK)
        err = rs_vault_new(cfg->master_key, out, eb);
    if (err != RS_OK)
        return err;
    if ((err = rs_vault_add_retired(*out, cfg->master_keys_retired, eb)) != RS_OK) {
        rs_vault_free(*out);
        *out = NULL;
        return err;
    }
    rs_log(RS_LOG_INFO, "vault", "key_id=%s keys=%zu", rs_vault_key_id(*out, id),
           rs_vault_key_count(*out));
    return RS_OK;
}

/* Cursors are signed under the current key and still accepted under retired ones. */
static void derive_cursor_keys(struct gw_app *app)
{
    uint8_t keys[RS_VAULT_MAX_KEYS][RS_CURSOR_KEY_LEN];
    size_t n = rs_vault_key_count(app->vault);

    rs_vault_derive_all(app->vault, "cursor01", 1, keys, RS_VAULT_MAX_KEYS);
    memcpy(app->cursor_key, keys[0], RS_CURSOR_KEY_LEN);
    for (size_t i = 1; i < n && i < RS_VAULT_MAX_KEYS; i++)
        memcpy(app->retired_cursor_keys[i - 1], keys[i], RS_CURSOR_KEY_LEN);
    app->nretired_cursor_keys = n > 0 ? n - 1 : 0;
    sodium_memzero(keys, sizeof(keys));
}

static void print_rotate_failure(void *arg, const struct rs_sealed_column *column, const char *key1,
                                 const char *key2, const char *why)
{
    (void)arg;
    (void)column;
    (void)key1;
    (void)key2;
    /* part of the report on stdout: why names the row and the key id, never a secret */
    printf("cannot open: %s\n", why);
}

static enum rs_err cmd_rotate_key(const struct rs_config *cfg, struct rs_errbuf *eb)
{
    struct rs_vault *vault = NULL;
    struct rs_db *db = NULL;
    struct rs_sealed_rotation done;
    const struct rs_sealed_column *columns;
    size_t ncolumns;
    char id[17];
    enum rs_err err = open_vault(cfg, &vault, eb);

    if (err == RS_OK)
        err = open_db(cfg, &db, eb);
    if (err != RS_OK)
        goto out;
    err = rs_sealed_rotate(db, vault, 50, &done, print_rotate_failure, NULL, eb);
    columns = rs_sealed_columns(&ncolumns);
    for (size_t k = 0; k < ncolumns; k++)
        printf("%s.%s: %zu re-sealed, %zu under key %s, %zu failed, %zu under another key\n",
               columns[k].table, columns[k].column, done.resealed[k], done.current[k],
               rs_vault_key_id(vault, id), done.failed[k], done.stray[k]);
    fflush(stdout);
out:
    rs_db_free(db);
    rs_vault_free(vault);
    return err;
}

static enum rs_err cmd_serve(const struct rs_config *cfg, struct rs_errbuf *eb)
{
    struct gw_app app = {.cfg = cfg};
    struct sync_pool *syncs = NULL;
    struct wh_pool *hooks = NULL;
    enum rs_err err;

    if ((err = open_vault(cfg, &app.vault, eb)) != RS_OK)
        return err;
    derive_cursor_keys(&app);
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
        err = wh_pool_start(&app, &hooks, eb);
    if (err == RS_OK)
        err = gw_server_run(&app, eb);
    sync_pool_stop(syncs, cfg->shutdown_grace_ms);
    /* after the syncs: what their last commits wrote is still delivered before the exit */
    wh_pool_stop(hooks, cfg->shutdown_grace_ms);
    sodium_memzero(app.cursor_key, sizeof(app.cursor_key));
    sodium_memzero(app.retired_cursor_keys, sizeof(app.retired_cursor_keys));
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
    if (strcmp(cmd, "rotate-key") == 0)
        return cmd_rotate_key(cfg, eb);
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
