/*
 * The query string a provider sends the admin's browser back with (RFC 6749 §4.1.2 and
 * §4.1.2.1): state with code, or state with error. Pure: read, bounded and checked here,
 * before anything touches the database.
 */
#include "roster/lf_oauth.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "linkflow/lf_int.h"

/* One parameter this reader keeps: where it goes and which bytes it may hold. */
struct param {
    const char *name;
    char *out;
    size_t outlen;
    bool seen;
};

/* RFC 6749 A.11 (code: VSCHAR) and A.7 (error: NQSCHAR, without '"' and '\'). */
static bool chars_ok(const char *name, const char *value)
{
    bool error = strcmp(name, "error") == 0;

    if (!*value)
        return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || (error && (*p == '"' || *p == '\\')))
            return false;
    }
    return true;
}

/* The slot of a parameter this reader keeps, or NULL (error_description, iss… are ignored). */
static struct param *slot(struct param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    }
    return NULL;
}

/* One "name=value" of len bytes into its slot. */
static enum rs_err take(const char *pair, size_t len, struct param *params, size_t n, char *value,
                        size_t valuelen)
{
    const char *eq = memchr(pair, '=', len);
    char name[64];
    struct param *to;

    if (!eq)
        return RS_ERR_INVALID;
    if (!lf_form_decode(pair, (size_t)(eq - pair), name, sizeof(name)) ||
        !(to = slot(params, n, name)))
        return RS_OK; /* not one of ours: its value is never read */
    /* RFC 6749 §3.1: a parameter MUST NOT be given twice (which one would count?) */
    if (to->seen || !lf_form_decode(eq + 1, len - (size_t)(eq - pair) - 1, value, valuelen) ||
        !chars_ok(name, value) || strlen(value) >= to->outlen)
        return RS_ERR_INVALID;
    snprintf(to->out, to->outlen, "%s", value);
    to->seen = true;
    return RS_OK;
}

static enum rs_err read_pairs(const char *query, struct param *params, size_t n)
{
    char value[LF_OAUTH_CODE_MAX + 2];
    enum rs_err err = RS_OK;

    for (const char *p = query; *p && err == RS_OK;) {
        size_t len = strcspn(p, "&");

        if (len > 0)
            err = take(p, len, params, n, value, sizeof(value));
        p += len + (p[len] == '&');
    }
    sodium_memzero(value, sizeof(value)); /* it held the code */
    return err;
}

enum rs_err lf_oauth_callback_parse(const char *query, struct lf_oauth_callback *out)
{
    struct param params[] = {
        {"state", out->state, sizeof(out->state), false},
        {"code", out->code, sizeof(out->code), false},
        {"error", out->error, sizeof(out->error), false},
    };
    char hash[LF_HASH_HEX_LEN];
    enum rs_err err;

    memset(out, 0, sizeof(*out));
    err = read_pairs(query ? query : "", params, sizeof(params) / sizeof(params[0]));
    /* ours are 43 base64url characters: anything else did not come from this server */
    if (err == RS_OK && !lf_oauth_pending_hash(out->state, hash))
        err = RS_ERR_INVALID;
    /* exactly one of code (granted) and error (refused) */
    if (err == RS_OK && params[1].seen == params[2].seen)
        err = RS_ERR_INVALID;
    if (err != RS_OK)
        lf_oauth_callback_cleanup(out);
    return err;
}

void lf_oauth_callback_cleanup(struct lf_oauth_callback *cb)
{
    sodium_memzero(cb, sizeof(*cb));
}
