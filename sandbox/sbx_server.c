/*
 * roster-sandbox's HTTP server: one libevent loop, each request routed by its first path
 * segment to a provider emulation or the control API, with faults applied around the provider
 * and every provider request recorded in the request log.
 */
#include "sbx_int.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define URI_MAX     8192
#define BODY_MAX    (1 << 20)
#define HEADERS_MAX (64 << 10)
#define MALFORMED   "{\"data\": [{\"id\": \"1\", \"firstName\": \"Trunc"

static const struct sbx_provider *const providers[SBX_PROV_COUNT] = {
    &sbx_bamboohr_provider,
    &sbx_personio_provider,
    &sbx_hibob_provider,
    &sbx_factorial_provider,
};

void sbx_server_ctx_init(struct sbx_ctx *ctx, struct sbx_company *company_owned,
                         int64_t token_ttl_s, bool rate_limits)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->company = company_owned;
    ctx->token_ttl_s = token_ttl_s;
    ctx->rate_limits = rate_limits;
    sbx_oauth_reset(&ctx->oauth);
}

void sbx_server_ctx_cleanup(struct sbx_ctx *ctx)
{
    sbx_company_free(ctx->company);
    ctx->company = NULL;
    sbx_reqlog_free(&ctx->reqlog);
}

int sbx_server_provider_find(const char *slug, size_t len)
{
    for (int i = 0; i < SBX_PROV_COUNT; i++)
        if (strlen(providers[i]->slug) == len && memcmp(providers[i]->slug, slug, len) == 0)
            return i;
    return -1;
}

const struct sbx_provider *sbx_server_provider(int index)
{
    return index >= 0 && index < SBX_PROV_COUNT ? providers[index] : NULL;
}

static enum rs_err malformed(struct sbx_resp *resp)
{
    sbx_http_resp_reset(resp);
    sbx_http_json(resp, 200);
    return rs_buf_append_str(&resp->body, MALFORMED);
}

enum rs_err sbx_server_respond(struct sbx_ctx *ctx, int provider, const struct sbx_fault *fault,
                               const struct sbx_req *req, struct sbx_resp *resp)
{
    const struct sbx_provider *prov = providers[provider];
    enum rs_err err;

    if (fault && fault->kind == SBX_FAULT_STATUS)
        return prov->error(req, resp, fault->status, fault->retry_after_s);
    if (fault && fault->kind == SBX_FAULT_MALFORMED)
        return malformed(resp);
    if (fault && fault->kind == SBX_FAULT_REVOKE && !ctx->revoked[provider]) {
        ctx->revoked[provider] = true;
        if (provider == SBX_PROV_PERSONIO)
            ctx->ntokens = 0; /* the issued tokens die with the credentials */
    }
    err = prov->handle(ctx, req, resp);
    if (err == RS_OK && fault && fault->kind == SBX_FAULT_TRUNCATE)
        resp->body.len /= 2;
    return err;
}

/* ---- libevent glue */

struct server {
    struct sbx_ctx *ctx;
    struct event_base *base;
    struct evhttp *http;
};

/* A request held back by a "slow" fault. */
struct pending {
    struct server *srv;
    struct evhttp_request *ev;
    struct event *timer;
    int provider;
    uint64_t log_id;
};

static enum sbx_method method_of(struct evhttp_request *ev)
{
    switch (evhttp_request_get_command(ev)) {
    case EVHTTP_REQ_GET:
        return SBX_GET;
    case EVHTTP_REQ_POST:
        return SBX_POST;
    case EVHTTP_REQ_PUT:
        return SBX_PUT;
    case EVHTTP_REQ_PATCH:
        return SBX_PATCH;
    case EVHTTP_REQ_DELETE:
        return SBX_DELETE;
    default:
        return SBX_OTHER;
    }
}

/* Phrases libevent does not know (it would say "Client Error"); NULL lets it choose. */
static const char *reason(int status)
{
    switch (status) {
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    default:
        return NULL;
    }
}

static void free_body(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Sends resp; the body moves to libevent without a copy (HiBob answers can be 100 MB). */
static void send_resp(struct evhttp_request *ev, struct sbx_resp *resp)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(ev);
    struct evbuffer *out = evbuffer_new();
    size_t len = resp->body.len;
    char *data = NULL;

    if (resp->content_type[0])
        evhttp_add_header(headers, "Content-Type", resp->content_type);
    for (int i = 0; i < resp->nheaders; i++)
        evhttp_add_header(headers, resp->header_name[i], resp->header_value[i]);
    if (out && len > 0) {
        data = rs_buf_steal(&resp->body);
        if (evbuffer_add_reference(out, data, len, free_body, NULL) != 0)
            free(data);
    }
    evhttp_send_reply(ev, resp->status ? resp->status : 500, reason(resp->status), out);
    if (out)
        evbuffer_free(out);
}

/* Fills req from ev (uri_copy is cut at the '?'); req->path starts after the prefix. */
static enum rs_err build_req(struct evhttp_request *ev, struct sbx_req *req, char *uri_copy,
                             size_t prefix_len, char *base, size_t baselen)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(ev);
    struct evbuffer *body = evhttp_request_get_input_buffer(ev);
    const char *host = evhttp_find_header(in, "Host");
    char *query = strchr(uri_copy, '?');

    memset(req, 0, sizeof(*req));
    if (query)
        *query++ = '\0';
    req->method = method_of(ev);
    req->path = uri_copy + prefix_len;
    snprintf(base, baselen, "http://%s%.*s", host ? host : "localhost", (int)prefix_len, uri_copy);
    req->base = base;
    req->authorization = evhttp_find_header(in, "Authorization");
    req->api_key = evhttp_find_header(in, "x-api-key");
    req->content_type = evhttp_find_header(in, "Content-Type");
    req->body_len = evbuffer_get_length(body);
    req->body = req->body_len ? (const char *)evbuffer_pullup(body, -1) : NULL;
    req->now_us = rs_time_now_us();
    return sbx_http_query_parse(&req->query, query);
}

static void log_request(int provider, const struct sbx_req *req, const char *uri, int status)
{
    char quoted[200];
    const struct sbx_provider *prov = sbx_server_provider(provider);

    RS_LOG(RS_LOG_INFO, "request", "provider=%s method=%s path=%s status=%d dur_us=%" PRId64,
           prov ? prov->slug : "_control", sbx_reqlog_method_name(req->method),
           rs_log_quote(uri, quoted, sizeof(quoted)), status, rs_time_now_us() - req->now_us);
}

/* Reply for a request too odd to route (over-long URI, too many parameters, unknown prefix). */
static void reply_text(struct evhttp_request *ev, int status, const char *text)
{
    struct sbx_resp resp;

    sbx_http_resp_init(&resp);
    if (sbx_http_text(&resp, status, text) == RS_OK)
        send_resp(ev, &resp);
    else
        evhttp_send_error(ev, 500, NULL);
    sbx_http_resp_cleanup(&resp);
}

/* provider is -1 for the control API. */
static void finish(struct server *srv, struct evhttp_request *ev, int provider,
                   const struct sbx_fault *fault, uint64_t log_id)
{
    const char *uri = evhttp_request_get_uri(ev);
    size_t prefix = provider < 0 ? strlen("/_control") : 1 + strlen(providers[provider]->slug);
    char copy[URI_MAX], base[512];
    struct sbx_req *req = malloc(sizeof(*req));
    struct sbx_resp resp;
    enum rs_err err = RS_ERR_NOMEM;

    sbx_http_resp_init(&resp);
    snprintf(copy, sizeof(copy), "%s", uri);
    if (req)
        err = build_req(ev, req, copy, prefix, base, sizeof(base));
    if (req)
        req->log_id = log_id;
    if (err == RS_OK)
        err = provider < 0 ? sbx_control_handle(srv->ctx, req, &resp)
                           : sbx_server_respond(srv->ctx, provider, fault, req, &resp);
    if (err == RS_ERR_TOOBIG)
        err = sbx_http_text(&resp, 414, "query too long\n");
    if (err != RS_OK) {
        rs_log(RS_LOG_ERROR, "request failed", "error=%s", rs_err_name(err));
        sbx_http_resp_reset(&resp);
        err = sbx_http_text(&resp, 500, "internal error\n");
    }
    if (provider >= 0)
        sbx_reqlog_status(&srv->ctx->reqlog, log_id, resp.status);
    if (req)
        log_request(provider, req, uri, resp.status);
    send_resp(ev, &resp);
    sbx_http_resp_cleanup(&resp);
    free(req);
}

static void pending_free(struct pending *pd)
{
    if (pd->timer)
        event_free(pd->timer);
    free(pd);
}

/* The client went away while its request was held: forget it. */
static void on_pending_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    pending_free(arg);
}

static void on_pending_timer(evutil_socket_t fd, short what, void *arg)
{
    struct pending *pd = arg;

    (void)fd;
    (void)what;
    evhttp_connection_set_closecb(evhttp_request_get_connection(pd->ev), NULL, NULL);
    finish(pd->srv, pd->ev, pd->provider, NULL, pd->log_id);
    pending_free(pd);
}

static void hold(struct server *srv, struct evhttp_request *ev, int provider, int delay_ms,
                 uint64_t log_id)
{
    struct pending *pd = calloc(1, sizeof(*pd));
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

    if (pd)
        pd->timer = evtimer_new(srv->base, on_pending_timer, pd);
    if (!pd || !pd->timer || evtimer_add(pd->timer, &tv) != 0) {
        if (pd)
            pending_free(pd);
        finish(srv, ev, provider, NULL, log_id);
        return;
    }
    pd->srv = srv;
    pd->ev = ev;
    pd->provider = provider;
    pd->log_id = log_id;
    evhttp_connection_set_closecb(evhttp_request_get_connection(ev), on_pending_close, pd);
}

/* The provider named by the first path segment, -2 for the control API, -1 for neither. */
static int route_prefix(const char *uri)
{
    const char *seg = uri[0] == '/' ? uri + 1 : uri;
    size_t n = strcspn(seg, "/?");

    if (n == strlen("_control") && memcmp(seg, "_control", n) == 0)
        return -2;
    return sbx_server_provider_find(seg, n);
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct server *srv = arg;
    const char *uri = evhttp_request_get_uri(ev);
    int provider = route_prefix(uri);
    const struct sbx_fault *fault;
    uint64_t log_id;

    if (strlen(uri) >= URI_MAX) {
        reply_text(ev, 414, "URI too long\n");
        return;
    }
    if (provider == -2) {
        finish(srv, ev, -1, NULL, 0);
        return;
    }
    if (provider < 0) {
        reply_text(ev, 404,
                   "no such provider: use /bamboohr, /personio, /hibob, /factorial or /_control\n");
        return;
    }
    log_id = sbx_reqlog_add(&srv->ctx->reqlog, rs_time_now_us(), provider, method_of(ev), uri);
    fault = sbx_fault_match(srv->ctx, provider, uri);
    if (fault && fault->kind == SBX_FAULT_SLOW) {
        hold(srv, ev, provider, fault->delay_ms, log_id);
        return;
    }
    finish(srv, ev, provider, fault, log_id);
}

/* ---- listening */

/*
 * evutil_parse_sockaddr_port refuses port 0 (a free port, which tests ask for and read back
 * from the "listening" line): parse with a placeholder port, then set 0.
 */
static int parse_listen(const char *addr, struct sockaddr_storage *ss, int *sslen)
{
    const char *colon = strrchr(addr, ':');
    char placeholder[256];

    if (!colon || colon[1] == '\0' || strspn(colon + 1, "0") != strlen(colon + 1))
        return evutil_parse_sockaddr_port(addr, (struct sockaddr *)ss, sslen);
    if (snprintf(placeholder, sizeof(placeholder), "%.*s:1", (int)(colon - addr), addr) >=
            (int)sizeof(placeholder) ||
        evutil_parse_sockaddr_port(placeholder, (struct sockaddr *)ss, sslen) != 0)
        return -1;
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = 0;
    else
        ((struct sockaddr_in *)ss)->sin_port = 0;
    return 0;
}

static evutil_socket_t open_listener(const char *addr, struct rs_errbuf *eb)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss), one = 1;
    evutil_socket_t fd;

    memset(&ss, 0, sizeof(ss));
    if (parse_listen(addr, &ss, &sslen) != 0) {
        rs_errbuf_param(eb, RS_ERR_INVALID, "listen", "--listen \"%s\" is not HOST:PORT", addr);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, 1024) != 0) {
        rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "cannot listen on %s", addr);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void log_listening(evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[64] = "?";
    int port = 0;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    rs_log(RS_LOG_INFO, "listening", "addr=%s:%d", host, port);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    rs_log(RS_LOG_INFO, "shutting down", "signal=%d", (int)sig);
    event_base_loopbreak(arg);
}

static enum rs_err setup_http(struct server *srv, evutil_socket_t fd, struct rs_errbuf *eb)
{
    srv->http = evhttp_new(srv->base);
    if (!srv->http)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "cannot create the HTTP server");
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(srv->http, BODY_MAX);
    evhttp_set_max_headers_size(srv->http, HEADERS_MAX);
    evhttp_set_timeout(srv->http, 600);
    evhttp_set_gencb(srv->http, on_request, srv);
    if (!evhttp_accept_socket_with_handle(srv->http, fd))
        return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "cannot accept on the listening socket");
    return RS_OK;
}

enum rs_err sbx_server_run(struct sbx_ctx *ctx, const char *listen_addr, struct rs_errbuf *eb)
{
    struct server srv = {ctx, NULL, NULL};
    struct event *sigint = NULL, *sigterm = NULL;
    evutil_socket_t fd = -1, listen_fd;
    enum rs_err err = RS_ERR_NOMEM;

    signal(SIGPIPE, SIG_IGN);
    fd = open_listener(listen_addr, eb);
    if (fd < 0) {
        err = RS_ERR_UNAVAILABLE;
        goto out;
    }
    srv.base = event_base_new();
    if (!srv.base)
        goto out;
    err = setup_http(&srv, fd, eb);
    if (err != RS_OK)
        goto out;
    listen_fd = fd;
    fd = -1; /* the evhttp owns it now */
    err = RS_ERR_NOMEM;
    sigint = evsignal_new(srv.base, SIGINT, on_signal, srv.base);
    sigterm = evsignal_new(srv.base, SIGTERM, on_signal, srv.base);
    if (!sigint || !sigterm || evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0)
        goto out;
    log_listening(listen_fd);
    err = event_base_dispatch(srv.base) < 0 ? RS_ERR_INTERNAL : RS_OK;
out:
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    if (srv.http)
        evhttp_free(srv.http);
    if (srv.base)
        event_base_free(srv.base);
    if (fd >= 0)
        close(fd);
    return err;
}
