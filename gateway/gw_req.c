/*
 * One request's life: id, limits, routing, authentication (per the route table), the handler,
 * and the reply — including the one function that turns an enum rs_err into HTTP.
 */
#include "gw_int.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

static atomic_uint_fast64_t request_counter;

static void new_request_id(struct gw_req *req)
{
    static uint32_t process_tag;
    uint64_t n = atomic_fetch_add_explicit(&request_counter, 1, memory_order_relaxed);

    if (!process_tag)
        process_tag = randombytes_random() | 1; /* benign race: any nonzero tag will do */
    snprintf(req->id, sizeof(req->id), "%08" PRIx32 "-%" PRIu64, process_tag, n);
}

/*
 * In-flight tracking for graceful shutdown: a connection is busy from a request's arrival until
 * its reply is sent (on_complete) or the connection closes (the client went away mid-reply,
 * when libevent never calls on_complete). The worker waits for inflight to reach 0.
 */
static void busy_remove(struct gw_worker *worker, struct evhttp_connection *conn)
{
    for (int i = 0; i < worker->inflight; i++) {
        if (worker->busy[i] == conn) {
            worker->busy[i] = worker->busy[--worker->inflight];
            return;
        }
    }
}

static void busy_add(struct gw_worker *worker, struct evhttp_connection *conn)
{
    struct evhttp_connection **grown;

    if (worker->inflight == worker->busy_cap) {
        int cap = worker->busy_cap ? 2 * worker->busy_cap : 64;
        grown = realloc(worker->busy, (size_t)cap * sizeof(*grown));
        if (!grown)
            return; /* untracked: shutdown simply will not wait for this one */
        worker->busy = grown;
        worker->busy_cap = cap;
    }
    worker->busy[worker->inflight++] = conn;
}

static void on_complete(struct evhttp_request *ev, void *arg)
{
    busy_remove(arg, evhttp_request_get_connection(ev));
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
    busy_remove(arg, conn);
}

const char *gw_req_header(struct gw_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

static const char *method_name(enum evhttp_cmd_type method)
{
    switch (method) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    default:
        return "OTHER";
    }
}

/*
 * The path as logged: link tokens (/link/lt_…) and public tokens (/account-token/pt_…) are
 * bearer secrets in a path, so everything after their prefix is replaced by "***".
 */
static const char *loggable_path(const char *path, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *p = path; *p && o + 4 < outlen;) {
        bool secret =
            p > path && p[-1] == '/' && (strncmp(p, "lt_", 3) == 0 || strncmp(p, "pt_", 3) == 0);

        out[o++] = *p++;
        if (!secret)
            continue;
        out[o++] = *p++; /* "t" */
        out[o++] = *p++; /* "_" */
        while (*p && *p != '/')
            p++;
        memcpy(out + o, "***", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static void log_request(struct gw_req *req, int64_t duration_us)
{
    char path[160], plain[sizeof(req->path)];

    if (!req->app->cfg->access_log)
        return;
    rs_log(RS_LOG_INFO, "request", "method=%s path=%s status=%d dur_us=%" PRId64 " route=%s",
           method_name(evhttp_request_get_command(req->ev)),
           rs_log_quote(loggable_path(req->path, plain, sizeof(plain)), path, sizeof(path)),
           req->status, duration_us, req->route ? req->route->name : "-");
}

static void send_reply(struct gw_req *req, int status, struct evbuffer *body)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req->ev);
    size_t route_index = 0, nroutes;
    const struct gw_route *routes = gw_router_routes(&nroutes);
    int64_t duration;

    evhttp_add_header(headers, "X-Request-Id", req->id);
    req->status = status;
    evhttp_send_reply(req->ev, status, NULL, body);
    duration = rs_time_mono_us() - req->start_us;
    route_index = req->route ? (size_t)(req->route - routes) + 1 : 0;
    gw_metrics_observe(route_index, status, duration);
    log_request(req, duration);
}

static void free_buf(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

void gw_reply_json(struct gw_req *req, int status, struct rs_buf *body)
{
    struct evbuffer *out = evbuffer_new();
    size_t len = body->len;
    char *data = rs_buf_steal(body);

    evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Type",
                      "application/json");
    if (out && data)
        evbuffer_add_reference(out, data, len, free_buf, NULL);
    else
        free(data);
    send_reply(req, status, out);
    if (out)
        evbuffer_free(out);
}

static void release_entry(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    gw_cache_release(arg);
}

void gw_reply_cached(struct gw_req *req, int status, const struct gw_cache_entry *entry)
{
    struct evbuffer *out = evbuffer_new();
    size_t len;
    const char *body = gw_cache_body(entry, &len);

    evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Type",
                      "application/json");
    /* the buffer keeps the caller's reference until libevent has sent the bytes */
    if (!out || evbuffer_add_reference(out, body, len, release_entry, (void *)entry) != 0)
        gw_cache_release(entry);
    send_reply(req, status, out);
    if (out)
        evbuffer_free(out);
}

void gw_reply_text(struct gw_req *req, int status, const char *content_type, const char *text,
                   size_t len)
{
    struct evbuffer *out = evbuffer_new();

    evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Type", content_type);
    if (out)
        evbuffer_add(out, text, len);
    send_reply(req, status, out);
    if (out)
        evbuffer_free(out);
}

static int status_of(enum rs_err err)
{
    switch (err) {
    case RS_OK:
        return 200;
    case RS_ERR_INVALID:
        return 400;
    case RS_ERR_AUTH:
        return 401;
    case RS_ERR_FORBIDDEN:
        return 403;
    case RS_ERR_NOTFOUND:
        return 404;
    case RS_ERR_METHOD:
        return 405;
    case RS_ERR_CONFLICT:
        return 409;
    case RS_ERR_TOOBIG:
        return 413;
    case RS_ERR_RATELIMIT:
        return 429;
    case RS_ERR_UPSTREAM:
        return 502;
    case RS_ERR_UNAVAILABLE:
        return 503;
    case RS_ERR_TIMEOUT:
        return 504;
    default:
        return 500;
    }
}

static const char *default_message(int status)
{
    switch (status) {
    case 400:
        return "The request is invalid.";
    case 401:
        return "Invalid or missing credentials.";
    case 403:
        return "Not allowed.";
    case 404:
        return "Not found.";
    case 405:
        return "Method not allowed on this resource.";
    case 409:
        return "Conflict.";
    case 413:
        return "Request too large.";
    case 414:
        return "Request URI too long.";
    case 429:
        return "Too many requests.";
    case 503:
        return "Service temporarily unavailable; retry shortly.";
    default:
        return "Internal error.";
    }
}

static void reply_error(struct gw_req *req, enum rs_err err, int status)
{
    const char *message = req->eb.msg[0] ? req->eb.msg : default_message(status);
    struct rs_buf body;
    enum rs_err werr;

    if (status >= 500) {
        /* the detail stays in the log, with the request id the client sees */
        if (req->eb.msg[0])
            rs_log(RS_LOG_ERROR, "request failed", "error=%s detail=\"%s\"", rs_err_name(err),
                   req->eb.msg);
        message = default_message(status);
    }
    rs_buf_init(&body, 4096);
    werr = rs_buf_append_str(&body, "{\"detail\":");
    if (werr == RS_OK)
        werr = rs_buf_append_json_str(&body, message, strlen(message));
    if (werr == RS_OK)
        werr = rs_buf_appendf(&body, ",\"error\":\"%s\"", rs_err_name(err));
    if (werr == RS_OK && req->eb.param[0] && status < 500) {
        werr = rs_buf_append_str(&body, ",\"param\":");
        if (werr == RS_OK)
            werr = rs_buf_append_json_str(&body, req->eb.param, strlen(req->eb.param));
    }
    if (werr == RS_OK)
        werr = rs_buf_appendf(&body, ",\"request_id\":\"%s\"}", req->id);
    if (werr != RS_OK) {
        rs_buf_cleanup(&body);
        gw_reply_text(req, 500, "application/json", "{\"detail\":\"Internal error.\"}", 28);
        return;
    }
    if (status == 503) {
        /* a client should come back when rosterd will next try to reconnect */
        char retry[24];
        snprintf(retry, sizeof(retry), "%lld",
                 (long long)(req->app->cfg->db_retry_interval_ms + 999) / 1000);
        evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Retry-After", retry);
    }
    gw_reply_json(req, status, &body);
}

void gw_reply_error(struct gw_req *req, enum rs_err err)
{
    reply_error(req, err, status_of(err));
}

enum rs_err gw_req_json_body(struct gw_req *req, json_t **out)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(in);
    const char *bytes = (const char *)evbuffer_pullup(in, -1);
    json_error_t jerr;
    json_t *doc;

    if (len == 0)
        return rs_errbuf_set(&req->eb, RS_ERR_INVALID, "a JSON object body is required");
    doc = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return rs_errbuf_set(&req->eb, RS_ERR_INVALID, "body is not valid JSON: %s (line %d)",
                             jerr.text, jerr.line);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return rs_errbuf_set(&req->eb, RS_ERR_INVALID, "body must be a JSON object");
    }
    *out = doc;
    return RS_OK;
}

/* The length of the UTF-8 sequence that lead starts, or 0 when no valid one starts with it. */
static size_t utf8_sequence_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    return lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
}

/*
 * True when s is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF): PostgreSQL refuses anything else in a text parameter, which would be a 500.
 */
static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        size_t n = utf8_sequence_len(*s);

        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
        }
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
            (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
            return false;
        s += n;
    }
    return true;
}

/* Every query parameter's name and value must be UTF-8; the 400 names the parameter. */
static enum rs_err check_query_utf8(struct gw_req *req)
{
    for (struct evkeyval *kv = TAILQ_FIRST(&req->query); kv; kv = TAILQ_NEXT(kv, next)) {
        bool key_ok = utf8_valid((const unsigned char *)kv->key);

        if (!key_ok || !utf8_valid((const unsigned char *)kv->value))
            return rs_errbuf_param(&req->eb, RS_ERR_INVALID, key_ok ? kv->key : "query",
                                   "query parameters must be UTF-8 (percent-encoded)");
    }
    return RS_OK;
}

/* Copies the decoded path of the URI into req->path; RS_ERR_INVALID if it is malformed. */
static enum rs_err read_path(struct gw_req *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    char *decoded;
    size_t len;

    if (!raw || !*raw)
        raw = "/";
    decoded = evhttp_uridecode(raw, 0, &len);
    if (!decoded)
        return RS_ERR_NOMEM;
    if (len >= sizeof(req->path) || strlen(decoded) != len) {
        free(decoded);
        return rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no such path");
    }
    memcpy(req->path, decoded, len + 1);
    free(decoded);
    if (query && evhttp_parse_query_str(query, &req->query) != 0)
        return rs_errbuf_set(&req->eb, RS_ERR_INVALID, "malformed query string");
    return check_query_utf8(req);
}

static void handle(struct gw_req *req)
{
    enum rs_err err = RS_OK;
    const char *uri = evhttp_request_get_uri(req->ev);

    if (strlen(uri) > (size_t)req->app->cfg->max_uri_bytes) {
        rs_errbuf_set(&req->eb, RS_ERR_TOOBIG, "request URI longer than %lld bytes",
                      (long long)req->app->cfg->max_uri_bytes);
        reply_error(req, RS_ERR_TOOBIG, 414);
        return;
    }
    if ((err = read_path(req)) != RS_OK)
        goto fail;
    req->route = gw_router_match(req, &err);
    if (!req->route)
        goto fail;
    if (req->route->auth != GW_AUTH_NONE) {
        if ((err = rs_db_ensure(req->db)) != RS_OK) {
            rs_errbuf_set(&req->eb, err, "database unavailable");
            goto fail;
        }
        if ((err = gw_auth(req, req->route->auth)) != RS_OK)
            goto fail;
        rs_log_set_context(req->id,
                           req->route->auth == GW_AUTH_ACCOUNT ? req->account.id_text : NULL);
    }
    req->route->handler(req);
    return;
fail:
    gw_reply_error(req, err);
}

void gw_req_release(struct gw_req *req)
{
    evhttp_clear_headers(&req->query);
    free(req);
}

void gw_req_add_header(struct gw_req *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

const char *gw_req_body(struct gw_req *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);

    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : "";
}

void gw_req_dispatch(struct evhttp_request *ev, void *arg)
{
    struct gw_worker *worker = arg;
    struct gw_req *req = calloc(1, sizeof(*req));

    if (!req) {
        evhttp_send_error(ev, 503, "Out of memory");
        return;
    }
    req->ev = ev;
    req->worker = worker;
    req->app = worker->app;
    req->db = worker->db;
    req->start_us = rs_time_mono_us();
    TAILQ_INIT(&req->query);
    new_request_id(req);
    rs_log_set_context(req->id, NULL);
    busy_add(worker, evhttp_request_get_connection(ev));
    evhttp_connection_set_closecb(evhttp_request_get_connection(ev), on_close, worker);
    evhttp_request_set_on_complete_cb(ev, on_complete, worker);
    handle(req);
    rs_log_clear_context();
    if (!req->deferred)
        gw_req_release(req);
}

enum rs_err gw_req_owned_row(struct gw_req *req, const char *sql, const char *id, const char *what,
                             PGresult **row)
{
    const char *params[2] = {id, req->org_text};
    enum rs_err err;
    PGresult *res = rs_db_exec(req->db, sql, 2, params, false, true, &err);

    if (res && PQntuples(res) != 1)
        err = rs_errbuf_set(&req->eb, RS_ERR_NOTFOUND, "no %s with this id", what);
    if (row && err == RS_OK)
        *row = res;
    else
        PQclear(res);
    return err;
}

enum rs_err gw_req_path_id(struct gw_req *req, char id[RS_UUID_STR_LEN])
{
    struct rs_uuid uuid;

    if (rs_uuid_parse(req->params[0], &uuid) != RS_OK)
        return rs_errbuf_param(&req->eb, RS_ERR_INVALID, "id", "id must be a UUID");
    rs_uuid_format(&uuid, id);
    return RS_OK;
}
