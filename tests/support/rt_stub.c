/*
 * The tiny HTTP server of rt_stub.h: accept, read one request (headers and a Content-Length
 * body), ask the callback, answer with Connection: close.
 */
#include "rt_stub.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define READ_MAX     (RT_STUB_TEXT_MAX + 8192)
#define READ_WAIT_MS 10000

struct rt_stub {
    int listen_fd;
    int wake[2];
    pthread_t thread;
    pthread_mutex_t mu;
    rt_stub_fn fn;
    void *arg;
    int count;
    struct rt_stub_request kept[RT_STUB_KEEP];
    char url[64];
};

bool rt_stub_request_complete(const char *buf, size_t len, size_t *total)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *cl;
    size_t body = 0;

    if (!end)
        return false;
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end)
        body = strtoul(cl + strlen("\r\nContent-Length:"), NULL, 10);
    *total = (size_t)(end - buf) + 4 + body;
    return len >= *total;
}

/* Reads one request into buf (NUL-terminated); false on timeout, EOF or overflow. */
static bool read_request(int conn, char *buf, size_t *len, size_t *total)
{
    *len = 0;
    while (!rt_stub_request_complete(buf, *len, total)) {
        struct pollfd pfd = {conn, POLLIN, 0};
        ssize_t n;

        if (poll(&pfd, 1, READ_WAIT_MS) <= 0)
            return false;
        n = recv(conn, buf + *len, READ_MAX - 1 - *len, 0);
        if (n <= 0)
            return false;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return *total < READ_MAX;
}

static void parse_request(const char *buf, size_t total, struct rt_stub_request *req)
{
    const char *head_end = strstr(buf, "\r\n\r\n");
    const char *line_end = strstr(buf, "\r\n");
    size_t body_len = total - (size_t)(head_end + 4 - buf);

    memset(req, 0, sizeof(*req));
    sscanf(buf, "%15s %1023s", req->method, req->path);
    if (line_end && line_end < head_end)
        snprintf(req->headers, sizeof(req->headers), "%.*s", (int)(head_end + 2 - line_end - 2),
                 line_end + 2);
    snprintf(req->body, sizeof(req->body), "%.*s", (int)body_len, head_end + 4);
}

static void send_all(int conn, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = send(conn, bytes, len, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        bytes += n;
        len -= (size_t)n;
    }
}

static void answer(struct rt_stub *stub, int conn)
{
    static char buf[READ_MAX];
    struct rt_stub_request req;
    struct rt_stub_reply reply;
    char head[256];
    size_t len = 0, total = 0;

    if (!read_request(conn, buf, &len, &total))
        return;
    parse_request(buf, total, &req);
    memset(&reply, 0, sizeof(reply));
    reply.status = 404;
    stub->fn(stub->arg, &req, &reply);
    pthread_mutex_lock(&stub->mu);
    if (stub->count < RT_STUB_KEEP)
        stub->kept[stub->count] = req;
    stub->count++;
    pthread_mutex_unlock(&stub->mu);
    if (reply.delay_ms > 0) {
        struct timespec ts = {reply.delay_ms / 1000, (long)(reply.delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d Stub\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             reply.status, strlen(reply.body));
    send_all(conn, head, strlen(head));
    send_all(conn, reply.body, strlen(reply.body));
}

static void *serve(void *arg)
{
    struct rt_stub *stub = arg;

    for (;;) {
        struct pollfd fds[2] = {{stub->wake[0], POLLIN, 0}, {stub->listen_fd, POLLIN, 0}};
        int conn;

        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break;
        conn = accept(stub->listen_fd, NULL, NULL);
        if (conn < 0)
            continue;
        answer(stub, conn);
        shutdown(conn, SHUT_WR);
        close(conn);
    }
    return NULL;
}

struct rt_stub *rt_stub_start(rt_stub_fn fn, void *arg)
{
    struct rt_stub *stub = calloc(1, sizeof(*stub));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addrlen = sizeof(addr);

    if (!stub)
        return NULL;
    stub->fn = fn;
    stub->arg = arg;
    stub->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (stub->listen_fd < 0 || pipe(stub->wake) != 0 ||
        bind(stub->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(stub->listen_fd, 16) != 0 ||
        getsockname(stub->listen_fd, (struct sockaddr *)&addr, &addrlen) != 0) {
        fprintf(stderr, "rt_stub: cannot listen: %s\n", strerror(errno));
        free(stub);
        return NULL;
    }
    snprintf(stub->url, sizeof(stub->url), "http://127.0.0.1:%u", ntohs(addr.sin_port));
    pthread_mutex_init(&stub->mu, NULL);
    if (pthread_create(&stub->thread, NULL, serve, stub) != 0) {
        fprintf(stderr, "rt_stub: cannot start its thread\n");
        free(stub);
        return NULL;
    }
    return stub;
}

void rt_stub_stop(struct rt_stub *stub)
{
    if (!stub)
        return;
    if (write(stub->wake[1], "x", 1) == 1)
        pthread_join(stub->thread, NULL);
    close(stub->listen_fd);
    close(stub->wake[0]);
    close(stub->wake[1]);
    pthread_mutex_destroy(&stub->mu);
    free(stub);
}

const char *rt_stub_url(const struct rt_stub *stub)
{
    return stub->url;
}

int rt_stub_count(struct rt_stub *stub)
{
    int n;

    pthread_mutex_lock(&stub->mu);
    n = stub->count;
    pthread_mutex_unlock(&stub->mu);
    return n;
}

int rt_stub_request(struct rt_stub *stub, int i, struct rt_stub_request *out)
{
    int rc = -1;

    pthread_mutex_lock(&stub->mu);
    if (i >= 0 && i < stub->count && i < RT_STUB_KEEP) {
        *out = stub->kept[i];
        rc = 0;
    }
    pthread_mutex_unlock(&stub->mu);
    return rc;
}

void rt_stub_reset(struct rt_stub *stub)
{
    pthread_mutex_lock(&stub->mu);
    stub->count = 0;
    memset(stub->kept, 0, sizeof(stub->kept));
    pthread_mutex_unlock(&stub->mu);
}

enum rs_err rt_stub_oauth_endpoint(const json_t *fields, const char *base_url,
                                   enum prov_oauth_endpoint which, char *out, size_t outlen,
                                   struct rs_errbuf *eb)
{
    int n;

    (void)fields;
    if (!base_url)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "no base_url");
    n = snprintf(out, outlen, "%s/oauth/%s", base_url,
                 which == PROV_OAUTH_TOKEN ? "token" : "authorize");
    return n < 0 || (size_t)n >= outlen ? RS_ERR_TOOBIG : RS_OK;
}
