/*
 * Integration tests for core/rs_httpc.c over loopback: a scripted HTTP server in a thread
 * answers each request with the next canned response, and records when each arrived. Needs no
 * database. Real waits are kept to the two 429 cases that must be measured (about 3 s).
 */
#include "roster/rs_httpc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"
#include "rt_stub.h"

#define SEC       INT64_C(1000000)
#define MAX_STEPS 8
#define REQ_MAX   16384

#define OK_HELLO             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
#define STATUS(code, reason) "HTTP/1.1 " #code " " reason "\r\nContent-Length: 2\r\n\r\n{}"

/* One canned answer: raw bytes sent after delay_ms, then the connection is closed if asked. */
struct step {
    const char *raw;
    int delay_ms;
    bool close_after;
};

struct server {
    int listen_fd;
    int wake[2];
    unsigned port;
    pthread_t thread;
    pthread_mutex_t mu;
    struct step steps[MAX_STEPS];
    size_t nsteps;
    size_t requests;
    int accepts;
    int64_t mono_us[MAX_STEPS];
    int64_t wall_us[MAX_STEPS];
    char text[MAX_STEPS][2048];
    char url[128];
};

/* Fake sleep: records what the client asked to wait and returns at once. */
struct sleeps {
    int count;
    int64_t us[16];
};

static void fake_sleep(void *arg, int64_t us)
{
    struct sleeps *sleeps = arg;

    if (sleeps->count < 16)
        sleeps->us[sleeps->count] = us;
    sleeps->count++;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

static void serve_request(struct server *srv, int *conn, const char *buf, size_t total)
{
    static const struct step unscripted = {STATUS(599, "Unscripted"), 0, true};
    struct step step;
    size_t i;
    size_t off = 0;

    pthread_mutex_lock(&srv->mu);
    i = srv->requests++;
    if (i < MAX_STEPS) {
        size_t n = total < sizeof(srv->text[i]) - 1 ? total : sizeof(srv->text[i]) - 1;

        srv->mono_us[i] = rs_time_mono_us();
        srv->wall_us[i] = rs_time_now_us();
        memcpy(srv->text[i], buf, n);
        srv->text[i][n] = '\0';
    }
    step = i < srv->nsteps ? srv->steps[i] : unscripted;
    pthread_mutex_unlock(&srv->mu);
    if (step.delay_ms)
        sleep_ms(step.delay_ms);
    while (off < strlen(step.raw)) {
        ssize_t n = send(*conn, step.raw + off, strlen(step.raw) - off, MSG_NOSIGNAL);

        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (step.close_after) {
        close(*conn);
        *conn = -1;
    }
}

/* Reads requests off conn and answers every complete one; false when conn is gone. */
static bool serve_readable(struct server *srv, int *conn, char *buf, size_t *len)
{
    ssize_t n = recv(*conn, buf + *len, REQ_MAX - *len, 0);
    size_t total;

    if (n <= 0 || *len + (size_t)n >= REQ_MAX)
        return false;
    *len += (size_t)n;
    buf[*len] = '\0';
    while (*conn >= 0 && rt_stub_request_complete(buf, *len, &total)) {
        serve_request(srv, conn, buf, total);
        memmove(buf, buf + total, *len - total);
        *len -= total;
        buf[*len] = '\0';
    }
    return *conn >= 0;
}

/* One connection at a time: the client is sequential, and a new connection replaces the old. */
static void *server_main(void *arg)
{
    struct server *srv = arg;
    static char buf[REQ_MAX + 1];
    size_t len = 0;
    int conn = -1;

    for (;;) {
        struct pollfd fds[3] = {
            {srv->wake[0], POLLIN, 0}, {srv->listen_fd, POLLIN, 0}, {conn, POLLIN, 0}};

        if (poll(fds, conn >= 0 ? 3 : 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents & POLLIN) {
            if (conn >= 0)
                close(conn);
            conn = accept(srv->listen_fd, NULL, NULL);
            len = 0;
            pthread_mutex_lock(&srv->mu);
            srv->accepts++;
            pthread_mutex_unlock(&srv->mu);
        } else if (conn >= 0 && fds[2].revents && !serve_readable(srv, &conn, buf, &len)) {
            if (conn >= 0)
                close(conn);
            conn = -1;
        }
    }
    if (conn >= 0)
        close(conn);
    return NULL;
}

static int server_start(void **state)
{
    struct server *srv = calloc(1, sizeof(*srv));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addrlen = sizeof(addr);

    if (!srv || pipe(srv->wake) != 0)
        return -1;
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(srv->listen_fd, 8) != 0 ||
        getsockname(srv->listen_fd, (struct sockaddr *)&addr, &addrlen) != 0)
        return -1;
    srv->port = ntohs(addr.sin_port);
    snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%u/v1/people?api_key=qs3cr3t",
             srv->port);
    pthread_mutex_init(&srv->mu, NULL);
    if (pthread_create(&srv->thread, NULL, server_main, srv) != 0)
        return -1;
    rs_log_set_level(RS_LOG_WARN);
    *state = srv;
    return 0;
}

static int server_stop(void **state)
{
    struct server *srv = *state;

    if (write(srv->wake[1], "x", 1) != 1)
        return -1;
    pthread_join(srv->thread, NULL);
    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    return 0;
}

static void script(struct server *srv, const struct step *steps, size_t n)
{
    pthread_mutex_lock(&srv->mu);
    memcpy(srv->steps, steps, n * sizeof(*steps));
    srv->nsteps = n;
    pthread_mutex_unlock(&srv->mu);
}

static size_t requests_seen(struct server *srv)
{
    size_t n;

    pthread_mutex_lock(&srv->mu);
    n = srv->requests;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

/* A client for loopback (allow_private), with short backoffs, waits faked when sleeps given. */
static struct rs_httpc *client_new(struct rs_httpc_options opts, struct sleeps *sleeps)
{
    struct rs_httpc *client = NULL;

    if (!opts.backoff_base_ms)
        opts.backoff_base_ms = 100;
    assert_int_equal(rs_httpc_new(&opts, &client), RS_OK);
    if (sleeps)
        rs_httpc_set_sleep_hook(client, fake_sleep, sleeps);
    return client;
}

static enum rs_err get(struct rs_httpc *client, struct rs_throttle *throttle, const char *url,
                       struct rs_http_response *resp, struct rs_errbuf *eb)
{
    const struct rs_http_request req = {
        .method = "GET", .url = url, .rate_reset_header = "X-RateLimit-Reset"};

    rs_errbuf_clear(eb);
    return rs_httpc_send(client, throttle, &req, resp, eb);
}

static void test_ok_and_connection_reuse(void **state)
{
    static const struct step steps[] = {
        {OK_HELLO, 0, false},
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false},
        {OK_HELLO, 0, false},
    };
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 3);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(resp.waited_ms, 0);
    assert_string_equal(resp.body.data, "hello");
    /* the same response struct again; an empty body is still a string */
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_non_null(resp.body.data);
    assert_string_equal(resp.body.data, "");
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_string_equal(resp.body.data, "hello");
    assert_int_equal(srv->accepts, 1); /* one kept-alive connection */
    assert_non_null(strstr(srv->text[0], "GET /v1/people?api_key=qs3cr3t HTTP/1.1\r\n"));
    assert_non_null(strstr(srv->text[0], "Accept-Encoding: "));
    assert_non_null(strstr(srv->text[0], "gzip"));
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_post_headers_and_auth(void **state)
{
    static const struct step steps[] = {{OK_HELLO, 0, false}, {OK_HELLO, 0, false}};
    static const struct rs_http_header headers[] = {{"X-Api-Key", "k3y"}, {"Accept", "*/json"}};
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    const struct rs_http_request post = {.method = "POST",
                                         .url = srv->url,
                                         .headers = headers,
                                         .nheaders = 2,
                                         .bearer = "t0ken",
                                         .body = "{\"a\":1}",
                                         .body_len = 7,
                                         .content_type = "application/json"};
    const struct rs_http_request basic = {
        .method = "DELETE", .url = srv->url, .basic_user = "u", .basic_password = "p"};

    script(srv, steps, 2);
    assert_int_equal(rs_httpc_send(client, NULL, &post, &resp, &eb), RS_OK);
    assert_non_null(strstr(srv->text[0], "POST /v1/people?api_key=qs3cr3t HTTP/1.1\r\n"));
    assert_non_null(strstr(srv->text[0], "\r\nAuthorization: Bearer t0ken\r\n"));
    assert_non_null(strstr(srv->text[0], "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(srv->text[0], "\r\nX-Api-Key: k3y\r\n"));
    assert_non_null(strstr(srv->text[0], "\r\nAccept: */json\r\n"));
    assert_null(strstr(srv->text[0], "Expect:"));
    assert_non_null(strstr(srv->text[0], "\r\n\r\n{\"a\":1}"));
    assert_int_equal(rs_httpc_send(client, NULL, &basic, &resp, &eb), RS_OK);
    assert_non_null(strstr(srv->text[1], "DELETE /v1/people?api_key=qs3cr3t HTTP/1.1\r\n"));
    assert_non_null(strstr(srv->text[1], "\r\nAuthorization: Basic dTpw\r\n"));
    assert_null(strstr(srv->text[1], "Bearer"));
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_500_then_200(void **state)
{
    static const struct step steps[] = {{STATUS(500, "Oops"), 0, false}, {OK_HELLO, 0, false}};
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 2);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body.data, "hello");
    assert_int_equal(sleeps.count, 1);
    assert_in_range(sleeps.us[0], 0, 100 * 1000); /* full jitter under the first cap */
    assert_int_equal(resp.waited_ms, sleeps.us[0] / 1000);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_5xx_exhausted_and_not_retried(void **state)
{
    static const struct step steps[] = {
        {STATUS(502, "Bad Gateway"), 0, false}, {STATUS(504, "Timeout"), 0, false},
        {STATUS(500, "Oops"), 0, false},        {STATUS(501, "Not Implemented"), 0, false},
        {STATUS(505, "Version"), 0, false},
    };
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client =
        client_new((struct rs_httpc_options){.allow_private = true, .max_attempts = 3}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 5);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.attempts, 3);
    assert_int_equal(sleeps.count, 2);
    assert_in_range(sleeps.us[1], 0, 200 * 1000); /* the second cap is twice the first */
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 501);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 505);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(sleeps.count, 2);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

/* A request's own max_attempts (1: token calls) overrides the client's: no retry at all. */
static void test_request_max_attempts(void **state)
{
    static const struct step steps[] = {
        {STATUS(502, "Bad Gateway"), 0, false},
        {STATUS(500, "Oops"), 0, false},
        {OK_HELLO, 0, false},
    };
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client =
        client_new((struct rs_httpc_options){.allow_private = true, .max_attempts = 5}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    const struct rs_http_request once = {.method = "POST", .url = srv->url, .max_attempts = 1};

    script(srv, steps, 3);
    assert_int_equal(rs_httpc_send(client, NULL, &once, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 502);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(sleeps.count, 0);
    /* the next request without a limit of its own retries as the client says */
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_503_retry_after_honoured(void **state)
{
    static const struct step steps[] = {
        {"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", 0, false},
        {OK_HELLO, 0, false},
        {"HTTP/1.1 503 Busy\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n", 0, false},
    };
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 3);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(sleeps.count, 1);
    assert_in_range(sleeps.us[0], 7 * SEC, 7 * SEC + 200000);
    /* longer than max_wait: the 503 is the answer, with nothing slept */
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.attempts, 1);
    assert_string_equal(resp.retry_after, "86400");
    assert_int_equal(sleeps.count, 1);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_429_retry_after_waits(void **state)
{
    static const struct step steps[] = {
        {"HTTP/1.1 429 Slow Down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n", 0, false},
        {OK_HELLO, 0, false},
    };
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 2);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(requests_seen(srv), 2);
    /* real time: the retry came no sooner than the second the server asked for */
    assert_true(srv->mono_us[1] - srv->mono_us[0] >= 1 * SEC);
    assert_true(resp.waited_ms >= 1000);
    assert_string_equal(resp.retry_after, ""); /* the final response had none */
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_429_reset_header_waits(void **state)
{
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    char limited[160];
    long long reset = (long long)(rs_time_now_us() / SEC) + 1;
    struct step steps[] = {{limited, 0, false}, {OK_HELLO, 0, false}};

    snprintf(limited, sizeof(limited),
             "HTTP/1.1 429 Slow Down\r\nx-ratelimit-reset: %lld\r\nContent-Length: 0\r\n\r\n",
             reset);
    script(srv, steps, 2);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    /* no request before the reset, wherever within its second it falls */
    assert_true(srv->wall_us[1] >= (reset + 1) * SEC);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_429_too_long_and_remembered(void **state)
{
    static const struct step steps[] = {
        {"HTTP/1.1 429 Slow Down\r\nRetry-After: 3600\r\nContent-Length: 2\r\n\r\n{}", 0, false},
        {OK_HELLO, 0, false},
    };
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client =
        client_new((struct rs_httpc_options){.allow_private = true, .max_wait_ms = 10000}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_throttle throttle = {0};
    struct rs_errbuf eb;

    script(srv, steps, 2);
    assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_ERR_RATELIMIT);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 1);
    assert_string_equal(resp.retry_after, "3600");
    assert_string_equal(resp.body.data, "{}");
    assert_int_equal(sleeps.count, 0);
    assert_true(throttle.not_before_us > rs_time_mono_us() + 3500 * SEC);
    /* the next call on the same throttle does not even send */
    assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_ERR_RATELIMIT);
    assert_int_equal(resp.attempts, 0);
    assert_int_equal(resp.status, 0); /* nothing received this time */
    assert_string_equal(resp.retry_after, "");
    assert_int_equal(requests_seen(srv), 1);
    /* without the throttle the client itself holds no memory of it */
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_429_next_call_waits(void **state)
{
    static const struct step steps[] = {
        {"HTTP/1.1 429 Slow Down\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n", 0, false},
        {OK_HELLO, 0, false},
        {OK_HELLO, 0, false},
        {STATUS(429, "Slow Down"), 0, false},
        {STATUS(429, "Slow Down"), 0, false},
    };
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client =
        client_new((struct rs_httpc_options){.allow_private = true, .max_attempts = 2}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_throttle throttle = {0};
    struct rs_errbuf eb;

    script(srv, steps, 5);
    assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(sleeps.count, 1);
    assert_in_range(sleeps.us[0], 5 * SEC, 5 * SEC + 200000);
    /* the waits were faked, so the provider's 5 s are not over: the next call waits too */
    assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(sleeps.count, 2);
    assert_in_range(sleeps.us[1], 4 * SEC, 5 * SEC + 200000);
    assert_true(resp.waited_ms >= 4000);
    /* a 429 with no hint backs off, and one that persists is a rate-limit error */
    throttle.not_before_us = 0;
    assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_ERR_RATELIMIT);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(sleeps.count, 3);
    assert_in_range(sleeps.us[2], 0, 100 * 1000);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_throttle_paces_real_requests(void **state)
{
    static const struct step steps[] = {
        {OK_HELLO, 0, false}, {OK_HELLO, 0, false}, {OK_HELLO, 0, false}, {OK_HELLO, 0, false}};
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_throttle throttle = {.rate_per_s = 20, .burst = 2};
    struct rs_errbuf eb;
    int64_t start = rs_time_mono_us();

    script(srv, steps, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(get(client, &throttle, srv->url, &resp, &eb), RS_OK);
    /* two at once from the burst (not 50 ms apart), then one per 50 ms */
    assert_true(srv->mono_us[1] - srv->mono_us[0] < 45000);
    assert_true(srv->mono_us[2] - start >= 50000);
    assert_true(srv->mono_us[3] - start >= 100000);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_body_over_cap(void **state)
{
    struct server *srv = *state;
    struct rs_httpc *client = client_new(
        (struct rs_httpc_options){.allow_private = true, .max_response_bytes = 1024}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    char *declared = malloc(8192);
    char *chunked = malloc(8192);
    char *fits = malloc(8192);
    int n;

    assert_non_null(declared);
    assert_non_null(chunked);
    assert_non_null(fits);
    n = snprintf(declared, 8192, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n");
    memset(declared + n, 'x', 4096);
    declared[n + 4096] = '\0';
    n = snprintf(chunked, 8192, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n");
    memset(chunked + n, 'y', 4096);
    memcpy(chunked + n + 4096, "\r\n0\r\n\r\n", 8);
    n = snprintf(fits, 8192, "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n");
    memset(fits + n, 'z', 1024);
    fits[n + 1024] = '\0';
    {
        const struct step steps[] = {{declared, 0, true}, {chunked, 0, true}, {fits, 0, false}};

        script(srv, steps, 3);
        assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_ERR_TOOBIG);
        assert_int_equal(resp.attempts, 1);
        assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_ERR_TOOBIG);
        assert_int_equal(resp.attempts, 1);
        assert_true(resp.body.len <= 1024);
        assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
        assert_int_equal(resp.body.len, 1024);
        assert_int_equal(requests_seen(srv), 3);
    }
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
    free(declared);
    free(chunked);
    free(fits);
}

static void test_truncated_body_retried(void **state)
{
    static const char truncated[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
    static const struct step steps[] = {
        {truncated, 0, true}, {OK_HELLO, 0, false}, {truncated, 0, true}, {truncated, 0, true}};
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client =
        client_new((struct rs_httpc_options){.allow_private = true, .max_attempts = 2}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 4);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body.data, "hello");
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_ERR_UPSTREAM);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(sleeps.count, 2);
    assert_non_null(strstr(eb.msg, "127.0.0.1"));
    assert_null(strstr(eb.msg, "qs3cr3t"));
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_slow_response_times_out(void **state)
{
    static const struct step steps[] = {{OK_HELLO, 600, false}};
    struct server *srv = *state;
    struct rs_httpc *client = client_new(
        (struct rs_httpc_options){.allow_private = true, .timeout_ms = 200, .max_attempts = 1},
        NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    int64_t start = rs_time_mono_us();

    script(srv, steps, 1);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_ERR_TIMEOUT);
    assert_true(rs_time_mono_us() - start < 550000);
    assert_int_equal(resp.status, 0);
    assert_int_equal(resp.attempts, 1);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_redirect_not_followed(void **state)
{
    static const struct step steps[] = {
        {"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n", 0, false},
        {OK_HELLO, 0, false},
    };
    struct server *srv = *state;
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;

    script(srv, steps, 2);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 302);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(requests_seen(srv), 1);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

static void test_private_address_refused(void **state)
{
    static const struct step steps[] = {{OK_HELLO, 0, false}};
    struct server *srv = *state;
    struct sleeps sleeps = {0};
    struct rs_httpc *client = client_new((struct rs_httpc_options){0}, &sleeps);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    char by_name[128];

    script(srv, steps, 1);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_ERR_FORBIDDEN);
    assert_non_null(strstr(eb.msg, "127.0.0.1"));
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(resp.status, 0);
    /* a name that resolves to loopback is refused the same way, at connect time */
    snprintf(by_name, sizeof(by_name), "http://localhost:%u/", srv->port);
    assert_int_equal(get(client, NULL, by_name, &resp, &eb), RS_ERR_FORBIDDEN);
    assert_int_equal(sleeps.count, 0);
    assert_int_equal(srv->accepts, 0);
    rs_httpc_free(client);
    /* allowed */
    client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    assert_int_equal(get(client, NULL, srv->url, &resp, &eb), RS_OK);
    assert_int_equal(resp.status, 200);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
}

/* Runs one retried POST with debug logging on, stderr captured in a temporary file. */
static char *capture_logs(struct server *srv)
{
    static const struct rs_http_header headers[] = {{"X-Api-Key", "h3cr3t"}};
    struct rs_httpc *client = client_new((struct rs_httpc_options){.allow_private = true}, NULL);
    struct rs_http_response resp = {0};
    struct rs_errbuf eb;
    const struct rs_http_request req = {.method = "POST",
                                        .url = srv->url,
                                        .headers = headers,
                                        .nheaders = 1,
                                        .bearer = "b34r3r",
                                        .body = "b0dys3cr3t",
                                        .body_len = 10,
                                        .content_type = "text/plain"};
    FILE *log = tmpfile();
    int saved = dup(STDERR_FILENO);
    char *text = calloc(1, 65536);

    assert_non_null(log);
    assert_non_null(text);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(log), STDERR_FILENO), STDERR_FILENO);
    rs_log_set_level(RS_LOG_DEBUG);
    assert_int_equal(rs_httpc_send(client, NULL, &req, &resp, &eb), RS_OK);
    rs_log_set_level(RS_LOG_WARN);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    rewind(log);
    assert_true(fread(text, 1, 65535, log) > 0);
    fclose(log);
    rs_http_response_cleanup(&resp);
    rs_httpc_free(client);
    return text;
}

static void test_logs_without_secrets(void **state)
{
    static const struct step steps[] = {
        {STATUS(500, "Oops"), 0, false},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nr3sps3cr3t", 0, false},
    };
    struct server *srv = *state;
    char target[64];
    char *text;

    script(srv, steps, 2);
    text = capture_logs(srv);
    snprintf(target, sizeof(target), "target=\"127.0.0.1:%u/v1/people\"", srv->port);
    assert_non_null(strstr(text, "upstream request"));
    assert_non_null(strstr(text, "upstream retry"));
    assert_non_null(strstr(text, "level=info"));
    assert_non_null(strstr(text, "attempt=2"));
    assert_non_null(strstr(text, "status=500"));
    assert_non_null(strstr(text, "method=POST"));
    assert_non_null(strstr(text, "wait_ms="));
    assert_non_null(strstr(text, target));
    assert_null(strstr(text, "3cr3t"));
    assert_null(strstr(text, "b34r3r"));
    assert_null(strstr(text, "api_key"));
    assert_null(strstr(text, "Authorization"));
    free(text);
}

#define SERVER_TEST(fn) cmocka_unit_test_setup_teardown(fn, server_start, server_stop)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SERVER_TEST(test_ok_and_connection_reuse),
        SERVER_TEST(test_post_headers_and_auth),
        SERVER_TEST(test_500_then_200),
        SERVER_TEST(test_5xx_exhausted_and_not_retried),
        SERVER_TEST(test_request_max_attempts),
        SERVER_TEST(test_503_retry_after_honoured),
        SERVER_TEST(test_429_retry_after_waits),
        SERVER_TEST(test_429_reset_header_waits),
        SERVER_TEST(test_429_too_long_and_remembered),
        SERVER_TEST(test_429_next_call_waits),
        SERVER_TEST(test_throttle_paces_real_requests),
        SERVER_TEST(test_body_over_cap),
        SERVER_TEST(test_truncated_body_retried),
        SERVER_TEST(test_slow_response_times_out),
        SERVER_TEST(test_redirect_not_followed),
        SERVER_TEST(test_private_address_refused),
        SERVER_TEST(test_logs_without_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
