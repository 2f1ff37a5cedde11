/* The e2e tests' webhook receiver: libevent's evhttp in a thread, recording every request. */
#include "rt_hook.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <cmocka.h>
#include <sodium.h>

#include "roster/rs_sign.h"
#include "rt_proc.h"
#include "rt_sync.h"

struct rt_hook {
    struct event_base *base;
    struct evhttp *http;
    struct event *wake;
    pthread_t thread;
    int fd; /* bound; listening once the mode is not down */
    bool listening;
    char url[96];
    pthread_mutex_t lock;
    enum rt_hook_mode mode; /* the rest under lock */
    int status, delay_ms, retry_after;
    char location[128]; /* a Location header for RT_HOOK_STATUS answers ("" none) */
    struct rt_hook_request *requests;
    size_t n, cap;
};

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t len)
{
    const char *value = evhttp_find_header(evhttp_request_get_input_headers(req), name);

    snprintf(out, len, "%s", value ? value : "");
}

/* Appends a copy of what req carries; false when out of memory. */
static bool record(struct rt_hook *hook, struct evhttp_request *req, int status, bool late)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    struct rt_hook_request r;

    memset(&r, 0, sizeof(r));
    copy_header(req, "webhook-id", r.id, sizeof(r.id));
    copy_header(req, "webhook-timestamp", r.timestamp, sizeof(r.timestamp));
    copy_header(req, "webhook-signature", r.signature, sizeof(r.signature));
    copy_header(req, "X-Merge-Webhook-Signature", r.merge, sizeof(r.merge));
    copy_header(req, "Content-Type", r.content_type, sizeof(r.content_type));
    if (!(r.body = malloc(len + 1)))
        return false;
    evbuffer_copyout(in, r.body, len);
    r.body[len] = '\0';
    r.body_len = len;
    r.at_ms = rt_now_ms();
    r.status = status;
    r.late = late;
    if (hook->n == hook->cap) {
        size_t cap = hook->cap ? 2 * hook->cap : 256;
        struct rt_hook_request *grown = realloc(hook->requests, cap * sizeof(*grown));

        if (!grown) {
            free(r.body);
            return false;
        }
        hook->requests = grown;
        hook->cap = cap;
    }
    hook->requests[hook->n++] = r;
    return true;
}

static void reply_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    /* a request whose client gave up meanwhile is freed by this reply (libevent) */
    evhttp_send_reply(arg, 204, "No Content", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct rt_hook *hook = arg;
    enum rt_hook_mode mode;
    int status, delay_ms, retry_after;
    char location[sizeof(hook->location)];

    pthread_mutex_lock(&hook->lock);
    mode = hook->mode;
    status = mode == RT_HOOK_STATUS ? hook->status : 204;
    delay_ms = hook->delay_ms;
    retry_after = hook->retry_after;
    memcpy(location, hook->location, sizeof(location));
    record(hook, req, status, mode == RT_HOOK_SLOW);
    pthread_mutex_unlock(&hook->lock);
    if (mode == RT_HOOK_SLOW) {
        struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
        event_base_once(hook->base, -1, EV_TIMEOUT, reply_later, req, &tv);
        return;
    }
    if (mode == RT_HOOK_STATUS && retry_after > 0) {
        char value[16];
        snprintf(value, sizeof(value), "%d", retry_after);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", value);
    }
    if (mode == RT_HOOK_STATUS && location[0])
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    evhttp_send_reply(req, status, NULL, NULL);
}

/* On the loop's thread: start accepting once the receiver is no longer down. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct rt_hook *hook = arg;
    bool up;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&hook->lock);
    up = hook->mode != RT_HOOK_DOWN;
    pthread_mutex_unlock(&hook->lock);
    if (!up || hook->listening)
        return;
    if (listen(hook->fd, 128) == 0 && evhttp_accept_socket(hook->http, hook->fd) == 0)
        hook->listening = true;
    else
        fprintf(stderr, "rt_hook: cannot listen\n");
}

static void *loop_main(void *arg)
{
    struct rt_hook *hook = arg;

    event_base_loop(hook->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* A TCP socket bound to 127.0.0.1:0, not listening yet: connections to it are refused. */
static int reserve_port(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

enum rs_err rt_hook_start(struct rt_hook **out)
{
    struct rt_hook *hook = calloc(1, sizeof(*hook));
    int port = 0;

    evthread_use_pthreads();
    if (!hook)
        return RS_ERR_NOMEM;
    pthread_mutex_init(&hook->lock, NULL);
    hook->fd = reserve_port(&port);
    hook->base = hook->fd >= 0 ? event_base_new() : NULL;
    hook->http = hook->base ? evhttp_new(hook->base) : NULL;
    hook->wake = hook->http ? event_new(hook->base, -1, 0, on_wake, hook) : NULL;
    if (!hook->wake || pthread_create(&hook->thread, NULL, loop_main, hook) != 0) {
        fprintf(stderr, "rt_hook: cannot start the receiver\n");
        if (hook->wake)
            event_free(hook->wake);
        if (hook->http)
            evhttp_free(hook->http);
        if (hook->base)
            event_base_free(hook->base);
        if (hook->fd >= 0)
            close(hook->fd);
        free(hook);
        return RS_ERR_UNAVAILABLE;
    }
    evhttp_set_gencb(hook->http, on_request, hook);
    evhttp_set_allowed_methods(hook->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
    snprintf(hook->url, sizeof(hook->url), "http://127.0.0.1:%d/hooks/roster", port);
    *out = hook;
    return RS_OK;
}

void rt_hook_stop(struct rt_hook *hook)
{
    if (!hook)
        return;
    event_base_loopbreak(hook->base);
    pthread_join(hook->thread, NULL);
    event_free(hook->wake);
    evhttp_free(hook->http);
    event_base_free(hook->base);
    if (!hook->listening)
        close(hook->fd); /* evhttp closes it once it accepts on it */
    rt_hook_requests_free(hook->requests, hook->n);
    pthread_mutex_destroy(&hook->lock);
    free(hook);
}

const char *rt_hook_url(const struct rt_hook *hook)
{
    return hook->url;
}

void rt_hook_set(struct rt_hook *hook, enum rt_hook_mode mode, int status, int delay_ms,
                 int retry_after)
{
    pthread_mutex_lock(&hook->lock);
    if (mode != RT_HOOK_DOWN)
        hook->mode = mode;
    hook->status = status;
    hook->delay_ms = delay_ms;
    hook->retry_after = retry_after;
    pthread_mutex_unlock(&hook->lock);
    event_active(hook->wake, EV_READ, 0);
}

void rt_hook_set_location(struct rt_hook *hook, const char *url)
{
    pthread_mutex_lock(&hook->lock);
    snprintf(hook->location, sizeof(hook->location), "%s", url ? url : "");
    pthread_mutex_unlock(&hook->lock);
}

size_t rt_hook_count(struct rt_hook *hook)
{
    size_t n;

    pthread_mutex_lock(&hook->lock);
    n = hook->n;
    pthread_mutex_unlock(&hook->lock);
    return n;
}

struct rt_hook_request *rt_hook_requests(struct rt_hook *hook, size_t *n)
{
    struct rt_hook_request *copy;

    pthread_mutex_lock(&hook->lock);
    *n = hook->n;
    copy = calloc(hook->n ? hook->n : 1, sizeof(*copy));
    for (size_t i = 0; copy && i < hook->n; i++) {
        copy[i] = hook->requests[i];
        copy[i].body = malloc(hook->requests[i].body_len + 1);
        if (copy[i].body)
            memcpy(copy[i].body, hook->requests[i].body, hook->requests[i].body_len + 1);
        copy[i].json = copy[i].body ? json_loads(copy[i].body, 0, NULL) : NULL;
    }
    pthread_mutex_unlock(&hook->lock);
    return copy;
}

void rt_hook_requests_free(struct rt_hook_request *requests, size_t n)
{
    for (size_t i = 0; requests && i < n; i++) {
        free(requests[i].body);
        json_decref(requests[i].json);
    }
    free(requests);
}

/* True when want is one of the space-separated tokens of list. */
static bool has_token(const char *list, const char *want)
{
    size_t len = strlen(want);

    for (const char *p = list; (p = strstr(p, want)) != NULL; p += len) {
        if ((p == list || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
            return true;
    }
    return false;
}

bool rt_hook_standard_signed(const struct rt_hook_request *r, const char *secret)
{
    struct rs_sign_key key;
    char standard[RS_SIGN_STANDARD_LEN];
    long long ts = strtoll(r->timestamp, NULL, 10);
    bool ok;

    if (rs_sign_key_from_secret(secret, &key) != RS_OK || ts <= 0)
        return false;
    rs_sign_standard(&key, r->id, ts, r->body, r->body_len, standard);
    ok = has_token(r->signature, standard);
    sodium_memzero(&key, sizeof(key));
    return ok;
}

bool rt_hook_merge_signed(const struct rt_hook_request *r, const char *secret)
{
    struct rs_sign_key key;
    char merge[RS_SIGN_MERGE_LEN];
    bool ok;

    if (rs_sign_key_from_secret(secret, &key) != RS_OK)
        return false;
    rs_sign_merge(&key, r->body, r->body_len, merge);
    ok = strcmp(r->merge, merge) == 0;
    sodium_memzero(&key, sizeof(key));
    return ok;
}

bool rt_hook_signed_by(const struct rt_hook_request *r, const char *secret)
{
    return rt_hook_standard_signed(r, secret) && rt_hook_merge_signed(r, secret);
}

void rt_hook_endpoint_create(struct rt_sync_env *env, const char *body,
                             struct rt_hook_endpoint *out)
{
    json_t *created = rt_sync_call(env, NULL, "POST", body, 201, "/api/admin/v1/webhook-endpoints");

    snprintf(out->id, sizeof(out->id), "%s", rt_sync_str(created, "id"));
    snprintf(out->secret, sizeof(out->secret), "%s", rt_sync_str(created, "secret"));
    assert_memory_equal(out->secret, "whsec_", 6);
    json_decref(created);
}
