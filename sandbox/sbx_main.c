/*
 * roster-sandbox: emulates the providers' HTTP APIs (BambooHR, Personio, HiBob, Factorial, and the
 * OAuth servers of BambooHR and Factorial) over a deterministic synthetic company, for the demo,
 * the end-to-end tests and the benchmarks.
 */
#include "sbx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster/rs_log.h"

struct options {
    const char *listen;
    long employees;
    long seed;
    long token_ttl_s;
    bool rate_limits;
    enum rs_log_level level;
};

static const char usage[] =
    "usage: roster-sandbox [--listen HOST:PORT] [--employees N] [--seed S]\n"
    "                      [--token-ttl SECONDS] [--rate-limits on|off] [--log-level LEVEL]\n"
    "\n"
    "  --listen HOST:PORT    address to serve on (default 127.0.0.1:8090; port 0 = any free\n"
    "                        port, printed on stderr as msg=\"listening\" addr=HOST:PORT)\n"
    "  --employees N         people in the synthetic company (default 250, max 1000000)\n"
    "  --seed S              generation seed (default 1); same N and S, same company\n"
    "  --token-ttl SECONDS   lifetime of Personio bearer tokens (default 86400)\n"
    "  --rate-limits on|off  enforce the providers' documented rate limits (default off)\n"
    "  --log-level LEVEL     debug, info, warn or error (default info)\n"
    "\n"
    "APIs: http://HOST:PORT/bamboohr, /personio, /hibob, /factorial (secret credential:\n"
    "\"sandbox\", also as OAuth client secret); control API: http://HOST:PORT/_control\n"
    "(see sandbox/README.md).\n";

/* "--name value" or "--name=value"; advances *i past what it used. NULL when not this option. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool parse_one(int argc, char **argv, int *i, struct options *o)
{
    const char *v;

    if ((v = option_value(argc, argv, i, "--listen")))
        o->listen = v;
    else if ((v = option_value(argc, argv, i, "--employees")))
        return sbx_http_long(v, 0, SBX_EMPLOYEES_MAX, &o->employees);
    else if ((v = option_value(argc, argv, i, "--seed")))
        return sbx_http_long(v, 0, 2147483647L, &o->seed);
    else if ((v = option_value(argc, argv, i, "--token-ttl")))
        return sbx_http_long(v, 1, 315360000L, &o->token_ttl_s);
    else if ((v = option_value(argc, argv, i, "--rate-limits"))) {
        o->rate_limits = strcmp(v, "on") == 0;
        return o->rate_limits || strcmp(v, "off") == 0;
    } else if ((v = option_value(argc, argv, i, "--log-level")))
        return rs_log_parse_level(v, &o->level) == RS_OK;
    else
        return false;
    return true;
}

int main(int argc, char **argv)
{
    struct options o = {"127.0.0.1:8090", 250, 1, 86400, false, RS_LOG_INFO};
    struct sbx_company *company = NULL;
    struct sbx_ctx *ctx = NULL;
    struct rs_errbuf eb;
    enum rs_err err;

    rs_errbuf_clear(&eb);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (!parse_one(argc, argv, &i, &o)) {
            fprintf(stderr, "roster-sandbox: bad argument \"%s\"\n%s", argv[i], usage);
            return 2;
        }
    }
    rs_log_set_level(o.level);
    ctx = calloc(1, sizeof(*ctx));
    if (sodium_init() < 0 || !ctx ||
        sbx_company_new((int)o.employees, (uint64_t)o.seed, &company) != RS_OK) {
        rs_log(RS_LOG_ERROR, "roster-sandbox failed", "error=start-up");
        free(ctx);
        return 1;
    }
    sbx_server_ctx_init(ctx, company, o.token_ttl_s, o.rate_limits);
    rs_log(RS_LOG_INFO, "company generated", "employees=%ld seed=%ld rate_limits=%s", o.employees,
           o.seed, o.rate_limits ? "on" : "off");
    err = sbx_server_run(ctx, o.listen, &eb);
    if (err != RS_OK)
        rs_log(RS_LOG_ERROR, "roster-sandbox failed", "error=%s detail=\"%s\"", rs_err_name(err),
               eb.msg);
    sbx_server_ctx_cleanup(ctx);
    free(ctx);
    return err == RS_OK ? 0 : 1;
}
