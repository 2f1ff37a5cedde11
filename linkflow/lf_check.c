/*
 * Test connection: the adapter's first requests, sent as a sync sends them, until a page of
 * records came back; what went wrong becomes a category and a sentence for a person.
 */
#include "roster/lf_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define CHECK_MAX_REQUESTS 4 /* auth + metadata + the first page is the longest path */
#define CHECK_TIMEOUT_MS   10000
#define CHECK_MAX_BODY_BYTES                                                                       \
    ((size_t)16 << 20) /* a first page larger than this still proves                               \
                          the credentials work */
#define CHECK_MAX_429_WAIT_MS 3000
#define CHECK_TOTAL_US        INT64_C(25000000) /* a person is waiting: give up after this */

const char *lf_check_result_name(enum lf_check_result result)
{
    static const char *const names[] = {"ok",
                                        "wrong_credentials",
                                        "missing_permission",
                                        "not_found",
                                        "provider_down",
                                        "rate_limited",
                                        "bad_response",
                                        "error"};

    return (size_t)result < sizeof(names) / sizeof(names[0]) ? names[result] : "error";
}

/* The labels of ops' fields that are (or are not) secret, joined with "and", into out. */
static const char *labels(const struct prov_ops *ops, bool secret, char *out, size_t outlen)
{
    size_t n = 0, total = 0, len = 0;

    for (size_t i = 0; i < ops->nfields; i++)
        total += ops->fields[i].secret == secret;
    out[0] = '\0';
    for (size_t i = 0; i < ops->nfields && len < outlen; i++) {
        if (ops->fields[i].secret != secret)
            continue;
        n++;
        len += (size_t)snprintf(out + len, outlen - len, "%s%s",
                                n == 1 ? "" : (n == total ? " and " : ", "), ops->fields[i].label);
    }
    return out;
}

static void say(struct lf_check_outcome *out, enum lf_check_result result, long status,
                const char *fmt, ...) RS_PRINTF(4, 5);

static void say(struct lf_check_outcome *out, enum lf_check_result result, long status,
                const char *fmt, ...)
{
    va_list ap;

    out->result = result;
    out->http_status = status;
    va_start(ap, fmt);
    vsnprintf(out->sentence, sizeof(out->sentence), fmt, ap);
    va_end(ap);
}

static void say_wrong_credentials(const struct prov_ops *ops, long status,
                                  struct lf_check_outcome *out)
{
    char secret[160], plain[160];

    labels(ops, true, secret, sizeof(secret));
    labels(ops, false, plain, sizeof(plain));
    if (!plain[0])
        say(out, LF_CHECK_WRONG_CREDENTIALS, status,
            "%s did not accept the %s. Check that it was copied whole and is still active.",
            ops->name, secret[0] ? secret : "credentials");
    else
        say(out, LF_CHECK_WRONG_CREDENTIALS, status,
            "%s did not accept the %s. Check that it was copied whole, is still active and "
            "belongs to the %s entered.",
            ops->name, secret[0] ? secret : "credentials", plain);
}

static void say_not_found(const struct prov_ops *ops, long status, struct lf_check_outcome *out)
{
    char plain[160];

    labels(ops, false, plain, sizeof(plain));
    if (plain[0])
        say(out, LF_CHECK_NOT_FOUND, status,
            "%s could not find this company. Check the %s: a typing mistake there is the usual "
            "cause.",
            ops->name, plain);
    else
        say(out, LF_CHECK_NOT_FOUND, status,
            "%s could not find the company these credentials belong to. Check that they come "
            "from the right %s account.",
            ops->name, ops->name);
}

void lf_check_classify(const struct prov_ops *ops, enum rs_err err, long status, bool unresolved,
                       struct lf_check_outcome *out)
{
    const char *name = ops->name;

    if (err == RS_OK && status >= 200 && status <= 299)
        say(out, LF_CHECK_OK, status, "Connected to %s.", name);
    else if (err == RS_OK && status == 401)
        say_wrong_credentials(ops, status, out);
    else if (err == RS_OK && status == 403)
        say(out, LF_CHECK_MISSING_PERMISSION, status,
            "%s accepted the credentials but does not let them read employee data. Give them "
            "(or the user they belong to) permission to view employees, then try again.",
            name);
    else if ((err == RS_OK && status == 404) || (err != RS_OK && unresolved))
        say_not_found(ops, status, out);
    else if (err == RS_ERR_FORBIDDEN)
        say(out, LF_CHECK_NOT_FOUND, 0,
            "Roster is not allowed to reach %s at this address. Ask the app that sent this link "
            "to check the connection's settings.",
            name);
    else if (err == RS_ERR_RATELIMIT || (err == RS_OK && status == 429))
        say(out, LF_CHECK_RATE_LIMITED, status,
            "%s is limiting requests right now. Wait a minute, then try again.", name);
    else if ((err == RS_OK && status >= 500) || err == RS_ERR_TIMEOUT || err == RS_ERR_UPSTREAM)
        say(out, LF_CHECK_PROVIDER_DOWN, status,
            "%s did not answer in time or is having problems right now. Nothing was saved: try "
            "again in a few minutes.",
            name);
    else if (err == RS_OK || err == RS_ERR_TOOBIG)
        say(out, LF_CHECK_BAD_RESPONSE, status,
            "%s answered in an unexpected way (HTTP %ld). Check the values entered; if they are "
            "right, try again later.",
            name, status);
    else
        say(out, LF_CHECK_ERROR, status,
            "Roster could not test the connection because of a problem on its side. Try again; "
            "if it keeps happening, tell the app that sent this link.");
}

static enum rs_err send_default(void *arg, const struct rs_http_request *req,
                                struct rs_http_response *resp, struct rs_errbuf *eb)
{
    return rs_httpc_send(arg, NULL, req, resp, eb);
}

static enum rs_err sink_record(void *arg, enum rs_model_kind kind, const struct rs_record *record)
{
    (void)arg;
    (void)kind;
    (void)record;
    return RS_OK; /* a test stores nothing */
}

static void sink_skipped(void *arg, enum rs_model_kind kind, const char *why)
{
    (void)arg;
    (void)kind;
    (void)why;
}

struct check_run {
    const struct prov_ops *ops;
    struct prov_sync ps;
    lf_check_send_fn send;
    void *send_arg;
    struct lf_check_outcome *out;
};

/* One request and its answer; *finished once the outcome is known. */
static void check_step(struct check_run *c, bool *finished)
{
    static const struct rs_http_header accept = {"Accept", "application/json"};
    struct prov_request req;
    struct rs_http_response resp;
    struct rs_errbuf eb = {{0}, {0}};
    struct prov_sink sink = {sink_record, sink_skipped, NULL};
    bool done = false;
    enum rs_err err;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    rs_buf_init(&resp.body, CHECK_MAX_BODY_BYTES);
    *finished = true;
    c->ps.now_us = rs_time_now_us();
    err = c->ops->next_request(&c->ps, &req, &done, &eb);
    if (err != RS_OK || done) {
        /* a provider with nothing to fetch has still accepted everything asked so far */
        lf_check_classify(c->ops, err == RS_OK ? RS_OK : RS_ERR_INTERNAL, done ? 200 : 0, false,
                          c->out);
        goto out;
    }
    struct rs_http_request hreq = {
        .method = req.method,
        .url = req.url,
        .headers = &accept,
        .nheaders = 1,
        .basic_user = req.auth == PROV_REQ_AUTH_BASIC ? req.user : NULL,
        .basic_password = req.auth == PROV_REQ_AUTH_BASIC ? req.secret : NULL,
        .bearer = req.auth == PROV_REQ_AUTH_BEARER ? req.secret : NULL,
        .body = req.body,
        .body_len = req.body_len,
        .content_type = req.content_type[0] ? req.content_type : NULL,
        .rate_reset_header = c->ops->rate_reset_header,
    };
    c->out->requests++;
    err = c->send(c->send_arg, &hreq, &resp, &eb);
    if (err == RS_ERR_TOOBIG && req.page >= 0 && resp.status >= 200 && resp.status <= 299) {
        lf_check_classify(c->ops, RS_OK, resp.status, false, c->out); /* records came */
        goto out;
    }
    if (err != RS_OK || resp.status < 200 || resp.status > 299) {
        RS_LOG(RS_LOG_DEBUG, "test connection failed", "provider=%s status=%ld detail=\"%s\"",
               c->ops->slug, resp.status, eb.msg);
        lf_check_classify(c->ops, err, resp.status, resp.unresolved, c->out);
        goto out;
    }
    struct prov_response presp = {resp.status, resp.body.data ? resp.body.data : "", resp.body.len};
    if (c->ops->parse_response(&c->ps, &presp, &sink, &eb) != RS_OK) {
        lf_check_classify(c->ops, RS_OK, 0, false, c->out);
        c->out->result = LF_CHECK_BAD_RESPONSE;
        c->out->http_status = resp.status;
        snprintf(c->out->sentence, sizeof(c->out->sentence),
                 "%s answered, but not with the data Roster expects. Check the values entered; "
                 "if they are right, try again later.",
                 c->ops->name);
        goto out;
    }
    if (req.page >= 0)
        lf_check_classify(c->ops, RS_OK, resp.status, false, c->out);
    else
        *finished = false; /* an auth or metadata call: go on to the records */
out:
    prov_request_cleanup(&req);
    rs_http_response_cleanup(&resp);
}

enum rs_err lf_check_run(const struct prov_ops *ops, const json_t *credentials,
                         const char *base_url, const struct lf_check_options *opts,
                         struct lf_check_outcome *out)
{
    struct rs_httpc_options hopts = {
        .timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : CHECK_TIMEOUT_MS,
        .connect_timeout_ms = 5000,
        .max_response_bytes = CHECK_MAX_BODY_BYTES,
        .max_attempts = 2,
        .backoff_base_ms = 300,
        .backoff_max_ms = 1000,
        .max_wait_ms = CHECK_MAX_429_WAIT_MS,
        .allow_private = opts && opts->allow_private,
    };
    struct check_run c = {.ops = ops, .out = out};
    struct rs_httpc *http = NULL;
    bool finished = false;
    enum rs_err err = RS_OK;
    int64_t deadline = rs_time_mono_us() + CHECK_TOTAL_US;

    memset(out, 0, sizeof(*out));
    c.send = opts && opts->send ? opts->send : send_default;
    c.send_arg = opts && opts->send ? opts->send_arg : NULL;
    if (!opts || !opts->send) {
        if ((err = rs_httpc_new(&hopts, &http)) != RS_OK)
            goto out;
        c.send_arg = http;
    }
    c.ps.credentials = credentials;
    c.ps.base_url = base_url;
    c.ps.full = true;
    if (!(c.ps.state = json_object())) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < CHECK_MAX_REQUESTS && !finished; i++) {
        if (i > 0 && rs_time_mono_us() > deadline) {
            lf_check_classify(ops, RS_ERR_TIMEOUT, 0, false, out);
            goto out;
        }
        check_step(&c, &finished);
    }
    if (!finished) /* only metadata so far: what came back was fine */
        lf_check_classify(ops, RS_OK, 200, false, out);
out:
    json_decref(c.ps.state);
    json_decref(c.ps.token);
    rs_httpc_free(http);
    return err;
}
