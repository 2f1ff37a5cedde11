/*
 * Sending webhook deliveries: one libcurl multi handle per dispatcher, so many deliveries run
 * at once over kept-alive connections; each is signed when it starts (Standard Webhooks and
 * Merge), answers are cut to a snippet, redirects are not followed, and private or loopback
 * addresses are refused when curl connects (unless allowed), whatever DNS said before.
 *
 * The multi handle is driven by its sockets (curl_multi_socket_action over an epoll set that
 * also holds the dispatcher's database socket and a wake-up eventfd): each turn costs what
 * happened on the sockets, not a pass over every transfer in flight as curl_multi_perform's
 * does, which took most of a dispatcher's CPU at a hundred transfers in flight.
 */
#include "wh_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"
#include "roster/rs_url.h"

#define CONNECT_TIMEOUT_MAX_MS 10000
#define EVENTS_MAX             128 /* socket events taken per wait */

struct wh_sender {
    CURLM *multi;
    int64_t timeout_ms;
    bool allow_private;
    int running;
    struct wh_delivery *inflight; /* list through run_prev/run_next */
    CURL **idle;                  /* easy handles to reuse */
    size_t nidle, cap;
    int epoll_fd;     /* curl's sockets, wake_fd and extra_fd */
    int wake_fd;      /* an eventfd: wh_sender_wakeup */
    int extra_fd;     /* the caller's socket (-1: none) */
    int64_t timer_us; /* monotonic: when curl wants its timeouts handled (-1: no timer) */
};

void wh_delivery_free(struct wh_delivery *d)
{
    if (!d)
        return;
    curl_slist_free_all(d->headers);
    free(d->body);
    free(d);
}

bool wh_delivery_ok(const struct wh_delivery *d)
{
    return d->code == CURLE_OK && d->status >= 200 && d->status <= 299;
}

/* curl's socket callback: what to wait for on fd, kept in the epoll set. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *known)
{
    struct wh_sender *s = arg;
    struct epoll_event ev = {.events = 0, .data.fd = fd};

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        /* a closed socket has left the set already: ENOENT/EBADF are expected */
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(s->multi, fd, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    if (epoll_ctl(s->epoll_fd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 &&
        epoll_ctl(s->epoll_fd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0)
        return -1; /* curl fails the transfer: recorded as a failed attempt */
    if (!known)
        curl_multi_assign(s->multi, fd, s);
    return 0;
}

/* curl's timer callback: when to call it with CURL_SOCKET_TIMEOUT. */
static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    struct wh_sender *s = arg;

    (void)multi;
    s->timer_us = timeout_ms < 0 ? -1 : rs_time_mono_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

enum rs_err wh_sender_new(int64_t timeout_ms, bool allow_private, long max_connections,
                          struct wh_sender **out)
{
    struct wh_sender *s = calloc(1, sizeof(*s));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = -1};

    if (!s)
        return RS_ERR_NOMEM;
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->extra_fd = -1;
    s->timer_us = -1;
    ev.data.fd = s->wake_fd;
    if (s->epoll_fd < 0 || s->wake_fd < 0 ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->wake_fd, &ev) != 0 ||
        !(s->multi = curl_multi_init())) {
        wh_sender_free(s);
        return RS_ERR_NOMEM;
    }
    s->timeout_ms = timeout_ms;
    s->allow_private = allow_private;
    /* connections stay open between deliveries: the cache holds one per concurrent transfer */
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, max_connections);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    *out = s;
    return RS_OK;
}

void wh_sender_free(struct wh_sender *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nidle; i++)
        curl_easy_cleanup(s->idle[i]);
    free(s->idle);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s);
}

int wh_sender_running(const struct wh_sender *s)
{
    return s->running;
}

void wh_sender_wakeup(struct wh_sender *s)
{
    uint64_t one = 1;

    /* the counter only grows: a failed write means a wake-up is pending already */
    if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return;
}

/* Keeps the start of the answer for the log; the rest is read and dropped. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct wh_delivery *d = arg;
    size_t n = size * nmemb, room = WH_SNIPPET_MAX - d->response_len;

    if (room > 0) {
        size_t take = n < room ? n : room;
        memcpy(d->response + d->response_len, ptr, take);
        d->response_len += take;
        d->response[d->response_len] = '\0';
    }
    return n;
}

/* Retry-After of the final answer (a new status line starts afresh). */
static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
    struct wh_delivery *d = arg;
    size_t n = size * nitems, len = n;
    static const char name[] = "retry-after:";

    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        d->retry_after[0] = '\0';
        return n;
    }
    if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *value = line + sizeof(name) - 1;

        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
            len--;
        while (value < line + len && (*value == ' ' || *value == '\t'))
            value++;
        if ((size_t)(line + len - value) < sizeof(d->retry_after)) {
            memcpy(d->retry_after, value, (size_t)(line + len - value));
            d->retry_after[line + len - value] = '\0';
        }
    }
    return n;
}

/*
 * The connect-time address check, installed only when private addresses are refused: every
 * address curl is about to connect to must be public, whatever the name resolved to now.
 */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct wh_delivery *d = arg;

    (void)purpose;
    if (!rs_url_addr_is_private(&address->addr))
        return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    d->refused = true;
    return CURL_SOCKET_BAD;
}

/* "Name: value" into the delivery's header list. */
static bool add_header(struct wh_delivery *d, const char *name, const char *value)
{
    char line[512];
    struct curl_slist *grown;

    if (snprintf(line, sizeof(line), "%s: %s", name, value) >= (int)sizeof(line))
        return false;
    grown = curl_slist_append(d->headers, line);
    if (grown)
        d->headers = grown;
    return grown != NULL;
}

/* The signature headers of d, signed at the current time. */
static bool sign(struct wh_delivery *d)
{
    const struct wh_target *t = d->target;
    char timestamp[24], merge[RS_SIGN_MERGE_LEN];
    char standard[2 * RS_SIGN_STANDARD_LEN + 2], previous[RS_SIGN_STANDARD_LEN];
    int64_t now_s = rs_time_now_us() / 1000000;

    snprintf(timestamp, sizeof(timestamp), "%lld", (long long)now_s);
    rs_sign_standard(&t->key, d->id, now_s, d->body, d->body_len, standard);
    if (t->previous.len > 0) {
        /* both during a rotation: a receiver holding either secret verifies one of them */
        size_t used = strlen(standard);

        rs_sign_standard(&t->previous, d->id, now_s, d->body, d->body_len, previous);
        snprintf(standard + used, sizeof(standard) - used, " %s", previous);
    }
    rs_sign_merge(&t->key, d->body, d->body_len, merge);
    return add_header(d, "Content-Type", "application/json") &&
           add_header(d, "User-Agent", "roster-webhooks/1") && add_header(d, "Expect", "") &&
           add_header(d, "webhook-id", d->id) && add_header(d, "webhook-timestamp", timestamp) &&
           add_header(d, "webhook-signature", standard) &&
           add_header(d, "X-Merge-Webhook-Signature", merge);
}

/* What every delivery of this sender's easy handles shares: set once per handle. */
static bool set_common_options(struct wh_sender *s, CURL *easy)
{
    long connect_ms =
        s->timeout_ms < CONNECT_TIMEOUT_MAX_MS ? (long)s->timeout_ms : CONNECT_TIMEOUT_MAX_MS;
    bool failed = false;

    failed |= curl_easy_setopt(easy, CURLOPT_POST, 1L) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    /* a 3xx is a failed delivery, never a redirect to follow (Standard Webhooks) */
    failed |= curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    /* the address check must see the receiver itself, never a proxy from the environment */
    failed |= curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    if (!s->allow_private)
        failed |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK;
    return !failed;
}

/* What is this delivery's own: its URL, body, headers, and where its answer goes. */
static bool set_options(struct wh_sender *s, CURL *easy, struct wh_delivery *d)
{
    bool failed = false;

    failed |= curl_easy_setopt(easy, CURLOPT_URL, d->target->url) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS, d->body) != CURLE_OK;
    failed |=
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, d->headers) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, d) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, d) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_PRIVATE, d) != CURLE_OK;
    if (!s->allow_private)
        failed |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, d) != CURLE_OK;
    return !failed;
}

/* Keeps an easy handle for the next delivery (its options are reset then). */
static void recycle(struct wh_sender *s, CURL *easy)
{
    if (s->nidle == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        CURL **grown = realloc(s->idle, cap * sizeof(*grown));

        if (!grown) {
            curl_easy_cleanup(easy);
            return;
        }
        s->idle = grown;
        s->cap = cap;
    }
    s->idle[s->nidle++] = easy;
}

enum rs_err wh_sender_start(struct wh_sender *s, struct wh_delivery *d)
{
    /* a recycled handle keeps the common options; the delivery's own are all set below */
    bool recycled = s->nidle > 0;
    CURL *easy = recycled ? s->idle[--s->nidle] : curl_easy_init();

    if (!easy)
        return RS_ERR_NOMEM;
    if (!recycled && !set_common_options(s, easy)) {
        curl_easy_cleanup(easy);
        return RS_ERR_INTERNAL;
    }
    d->started = true;
    d->started_us = rs_time_mono_us();
    d->attempted_us = rs_time_now_us();
    if (!sign(d) || !set_options(s, easy, d) || curl_multi_add_handle(s->multi, easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        return RS_ERR_INTERNAL;
    }
    d->easy = easy;
    d->run_prev = NULL;
    d->run_next = s->inflight;
    if (s->inflight)
        s->inflight->run_prev = d;
    s->inflight = d;
    s->running++;
    return RS_OK;
}

/* Takes d's transfer out of the multi handle and the list of those in flight. */
static void finish(struct wh_sender *s, struct wh_delivery *d)
{
    curl_multi_remove_handle(s->multi, d->easy);
    recycle(s, d->easy);
    d->easy = NULL;
    if (d->run_prev)
        d->run_prev->run_next = d->run_next;
    else
        s->inflight = d->run_next;
    if (d->run_next)
        d->run_next->run_prev = d->run_prev;
    d->run_prev = d->run_next = NULL;
    s->running--;
}

void wh_sender_abort(struct wh_sender *s, wh_done_fn fn, void *arg)
{
    while (s->inflight) {
        struct wh_delivery *d = s->inflight;

        finish(s, d);
        d->code = CURLE_ABORTED_BY_CALLBACK;
        d->status = 0;
        fn(arg, d);
    }
}

/* Hands every finished transfer to done; how many there were. */
static int collect(struct wh_sender *s, wh_done_fn done, void *arg)
{
    CURLMsg *msg;
    int left = 0, n = 0;

    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        struct wh_delivery *d = NULL;
        CURL *easy = msg->easy_handle;
        curl_off_t total_us = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&d);
        d->code = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &d->status);
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
        d->latency_ms = (int64_t)(total_us / 1000);
        finish(s, d);
        done(arg, d);
        n++;
    }
    return n;
}

void wh_sender_watch(struct wh_sender *s, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

    if (s->extra_fd >= 0)
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->extra_fd, NULL); /* closed: gone already */
    s->extra_fd = -1;
    if (fd >= 0 && (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ||
                    (errno == EEXIST && epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0)))
        s->extra_fd = fd;
}

/* Lets curl handle its timeouts (and start transfers just added) when its timer is due. */
static void run_timer(struct wh_sender *s)
{
    int still = 0;

    if (s->timer_us >= 0 && rs_time_mono_us() >= s->timer_us) {
        s->timer_us = -1;
        curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    }
}

/* Hands one socket event to curl (or notes the caller's socket, or drains the wake-up). */
static void on_event(struct wh_sender *s, const struct epoll_event *ev, bool *extra_ready)
{
    int fd = ev->data.fd, still = 0, flags = 0;
    uint64_t count;

    if (fd == s->wake_fd) {
        if (read(s->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
            rs_log(RS_LOG_WARN, "webhook wake-up not read", "errno=%d", errno);
        return;
    }
    if (fd == s->extra_fd) {
        *extra_ready = true;
        return;
    }
    flags |= (ev->events & EPOLLIN) ? CURL_CSELECT_IN : 0;
    flags |= (ev->events & EPOLLOUT) ? CURL_CSELECT_OUT : 0;
    flags |= (ev->events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0;
    curl_multi_socket_action(s->multi, fd, flags, &still);
}

void wh_sender_run(struct wh_sender *s, int timeout_ms, bool *extra_ready, wh_done_fn done,
                   void *arg)
{
    struct epoll_event events[EVENTS_MAX];
    int64_t wait_ms = timeout_ms > 0 ? timeout_ms : 0;
    int n;

    *extra_ready = false;
    run_timer(s);
    /* slots came free: back to the caller, which starts what waits for them */
    if (collect(s, done, arg) > 0)
        return;
    if (s->timer_us >= 0) { /* no longer than curl's timer (rounded up: never early) */
        int64_t left_us = s->timer_us - rs_time_mono_us();
        int64_t timer_ms = left_us > 0 ? (left_us + 999) / 1000 : 0;

        wait_ms = timer_ms < wait_ms ? timer_ms : wait_ms;
    }
    n = epoll_wait(s->epoll_fd, events, EVENTS_MAX, (int)wait_ms);
    for (int i = 0; i < n; i++)
        on_event(s, &events[i], extra_ready);
    run_timer(s);
    collect(s, done, arg);
}
