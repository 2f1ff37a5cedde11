/*
 * roster-hook-receiver: the local webhook receiver of bench/webhooks. It answers every request
 * with 204 (or --status), as fast as libevent can, and counts what it received; it checks
 * nothing, so the benchmark measures rosterd's side. `GET /count` answers how many it received
 * (not counting itself), so the benchmark can wait for them without asking the database.
 * Prints `listening addr=HOST:PORT` (port 0 picks a free one) and, at SIGTERM or SIGINT,
 * `received requests=N`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

struct receiver {
    struct event_base *base;
    int status;
    unsigned long long requests;
};

static void on_request(struct evhttp_request *req, void *arg)
{
    struct receiver *r = arg;
    struct evbuffer *body;

    if (evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
        strcmp(evhttp_request_get_uri(req), "/count") == 0 && (body = evbuffer_new()) != NULL) {
        evbuffer_add_printf(body, "%llu\n", r->requests);
        evhttp_send_reply(req, 200, "OK", body);
        evbuffer_free(body);
        return;
    }
    r->requests++;
    evhttp_send_reply(req, r->status, NULL, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct receiver *r = arg;

    (void)sig;
    (void)what;
    event_base_loopbreak(r->base);
}

/* "HOST:PORT" of the bound socket into out. */
static void bound_address(struct evhttp_bound_socket *bound, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char host[64] = "?";
    int port = 0;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(bound);

    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    }
    snprintf(out, len, "%s:%d", host, port);
}

static int usage(void)
{
    fprintf(stderr, "usage: roster-hook-receiver [--listen 127.0.0.1:0] [--status 204]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct receiver r = {.status = 204};
    const char *listen = "127.0.0.1:0";
    char host[64], addr[96];
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *sigterm, *sigint;
    const char *colon;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            r.status = (int)strtol(argv[++i], NULL, 10);
        else
            return usage();
    }
    colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || r.status < 100 || r.status > 599)
        return usage();
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    signal(SIGPIPE, SIG_IGN);
    r.base = event_base_new();
    http = r.base ? evhttp_new(r.base) : NULL;
    if (!http)
        return 1;
    evhttp_set_gencb(http, on_request, &r);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
    bound = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)strtol(colon + 1, NULL, 10));
    if (!bound) {
        fprintf(stderr, "roster-hook-receiver: cannot listen on %s\n", listen);
        return 1;
    }
    sigterm = evsignal_new(r.base, SIGTERM, on_signal, &r);
    sigint = evsignal_new(r.base, SIGINT, on_signal, &r);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    bound_address(bound, addr, sizeof(addr));
    fprintf(stderr, "msg=\"listening\" addr=%s\n", addr);
    event_base_dispatch(r.base);
    fprintf(stderr, "msg=\"received\" requests=%llu\n", r.requests);
    event_free(sigterm);
    event_free(sigint);
    evhttp_free(http);
    event_base_free(r.base);
    return 0;
}
