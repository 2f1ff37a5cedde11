/*
 * The HTTP server: one listening socket shared by N worker threads, each with its own
 * event_base, evhttp and PostgreSQL connection (no locks on the request path), and a graceful
 * stop on SIGTERM/SIGINT that lets in-flight requests finish.
 */
#include "gw_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

struct worker_ctx {
    struct gw_worker w;
    struct evhttp_bound_socket *bound;
    struct event *stop_event;
    struct event *drain_timer;
    int64_t deadline_us;
    int64_t grace_ms;
};

/*
 * evutil_parse_sockaddr_port refuses port 0, which asks the kernel for a free port (tests and
 * the demo listen on it and read the port from the "listening" line): parse the address with
 * a placeholder port, then set 0.
 */
static int parse_listen(const char *listen_addr, struct sockaddr_storage *ss, int *sslen)
{
    const char *colon = strrchr(listen_addr, ':');
    char placeholder[256];

    if (!colon || colon[1] == '\0' || strspn(colon + 1, "0") != strlen(colon + 1))
        return evutil_parse_sockaddr_port(listen_addr, (struct sockaddr *)ss, sslen);
    if (snprintf(placeholder, sizeof(placeholder), "%.*s:1", (int)(colon - listen_addr),
                 listen_addr) >= (int)sizeof(placeholder) ||
        evutil_parse_sockaddr_port(placeholder, (struct sockaddr *)ss, sslen) != 0)
        return -1;
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = 0;
    else
        ((struct sockaddr_in *)ss)->sin_port = 0;
    return 0;
}

static evutil_socket_t bind_listener(const char *listen_addr, struct rs_errbuf *eb)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss), one = 1;
    evutil_socket_t fd;

    if (parse_listen(listen_addr, &ss, &sslen) != 0) {
        rs_errbuf_param(eb, RS_ERR_INVALID, "listen", "listen: \"%s\" is not HOST:PORT",
                        listen_addr);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        /* accepted sockets inherit TCP_NODELAY: large replies must not wait for delayed ACKs */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, 1024) != 0) {
        rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "cannot listen on %s: %s", listen_addr,
                      strerror(errno));
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

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
            port = ntohs(in->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
            port = ntohs(in6->sin6_port);
        }
    }
    rs_log(RS_LOG_INFO, "listening", "addr=%s:%d", host, port);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker_ctx *ctx = arg;

    (void)fd;
    (void)what;
    if ((ctx->w.inflight <= 0 && atomic_load(&ctx->w.deferred) <= 0) ||
        rs_time_mono_us() >= ctx->deadline_us) {
        if (ctx->w.inflight > 0)
            rs_log(RS_LOG_WARN, "shutdown grace expired", "worker=%d inflight=%d", ctx->w.index,
                   ctx->w.inflight);
        event_base_loopbreak(ctx->w.base);
        return;
    }
    struct timeval tick = {0, 20000};
    evtimer_add(ctx->drain_timer, &tick);
}

/* Runs in the worker's own thread: stop accepting, then wait for in-flight requests. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct worker_ctx *ctx = arg;

    (void)fd;
    (void)what;
    if (ctx->bound) {
        evhttp_del_accept_socket(ctx->w.http, ctx->bound);
        ctx->bound = NULL;
    }
    ctx->deadline_us = rs_time_mono_us() + ctx->grace_ms * 1000;
    on_drain_tick(-1, 0, ctx);
}

static void *worker_main(void *arg)
{
    struct worker_ctx *ctx = arg;

    event_base_dispatch(ctx->w.base);
    return NULL;
}

static enum rs_err worker_init(struct worker_ctx *ctx, const struct gw_app *app, int index,
                               evutil_socket_t listen_fd, struct rs_errbuf *eb)
{
    const struct rs_config *cfg = app->cfg;
    evutil_socket_t fd;
    enum rs_err err;

    ctx->w.index = index;
    ctx->w.app = app;
    ctx->grace_ms = cfg->shutdown_grace_ms;
    err = rs_db_open(cfg->database_url, (int)cfg->db_connect_timeout_s, true, &ctx->w.db, eb);
    if (err != RS_OK)
        return err;
    rs_db_set_retry_interval(ctx->w.db, cfg->db_retry_interval_ms);
    ctx->w.base = event_base_new();
    ctx->w.http = ctx->w.base ? evhttp_new(ctx->w.base) : NULL;
    if (!ctx->w.http)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "cannot create the event loop");
    evhttp_set_gencb(ctx->w.http, gw_req_dispatch, &ctx->w);
    evhttp_set_max_body_size(ctx->w.http, (ev_ssize_t)cfg->max_body_bytes);
    evhttp_set_max_headers_size(ctx->w.http, (ev_ssize_t)cfg->max_header_bytes);
    evhttp_set_timeout(ctx->w.http, (int)cfg->http_idle_timeout_s);
    evhttp_set_allowed_methods(ctx->w.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    /* each worker accepts on its own descriptor of the one listening socket */
    fd = dup(listen_fd);
    if (fd < 0 || !(ctx->bound = evhttp_accept_socket_with_handle(ctx->w.http, fd)))
        return rs_errbuf_set(eb, RS_ERR_UNAVAILABLE, "cannot accept on the listening socket");
    ctx->stop_event = event_new(ctx->w.base, -1, 0, on_stop, ctx);
    ctx->drain_timer = evtimer_new(ctx->w.base, on_drain_tick, ctx);
    if (!ctx->stop_event || !ctx->drain_timer)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "cannot create worker events");
    return RS_OK;
}

static void worker_cleanup(struct worker_ctx *ctx)
{
    /* a deferred request's thread posts its completion to this loop: wait for it first */
    if (ctx->w.base)
        gw_defer_drain(&ctx->w, 60000); /* a test gives up after 25 s + one request */
    if (ctx->stop_event)
        event_free(ctx->stop_event);
    if (ctx->drain_timer)
        event_free(ctx->drain_timer);
    if (ctx->w.http)
        evhttp_free(ctx->w.http);
    free(ctx->w.busy);
    if (ctx->w.base)
        event_base_free(ctx->w.base);
    rs_db_free(ctx->w.db);
}

static int wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

enum rs_err gw_server_run(const struct gw_app *app, struct rs_errbuf *eb)
{
    int n = (int)app->cfg->http_workers, started = 0;
    struct worker_ctx *workers = calloc((size_t)n, sizeof(*workers));
    evutil_socket_t listen_fd = -1;
    enum rs_err err = RS_ERR_NOMEM;
    sigset_t set;

    if (!workers)
        goto out;
    evthread_use_pthreads();
    /* only the main thread takes SIGTERM/SIGINT (via sigwait); workers never see them */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((listen_fd = bind_listener(app->cfg->listen, eb)) < 0) {
        err = eb->param[0] ? RS_ERR_INVALID : RS_ERR_UNAVAILABLE;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if ((err = worker_init(&workers[i], app, i, listen_fd, eb)) != RS_OK)
            goto out;
    }
    for (; started < n; started++) {
        if (pthread_create(&workers[started].w.thread, NULL, worker_main, &workers[started])) {
            err = rs_errbuf_set(eb, RS_ERR_INTERNAL, "cannot start worker threads");
            goto out;
        }
    }
    log_listening(listen_fd);
    rs_log(RS_LOG_INFO, "serving", "workers=%d", n);
    int sig = wait_for_signal();
    rs_log(RS_LOG_INFO, "shutting down", "signal=%d grace_ms=%lld", sig,
           (long long)app->cfg->shutdown_grace_ms);
    err = RS_OK;
out:
    for (int i = 0; i < started; i++)
        event_active(workers[i].stop_event, EV_READ, 0);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].w.thread, NULL);
    for (int i = 0; workers && i < n; i++)
        worker_cleanup(&workers[i]);
    if (listen_fd >= 0)
        close(listen_fd);
    free(workers);
    return err;
}
