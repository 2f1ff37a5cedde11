/*
 * The outbound HTTP client: one reused libcurl easy handle per client, with the timeouts, size
 * cap, retries, 429 waits, throttling and connect-time address check every upstream call needs.
 */
#include "roster/rs_httpc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"
#include "roster/rs_url.h"
#include "rs_int.h"

#define US_PER_MS  INT64_C(1000)
#define US_PER_SEC INT64_C(1000000)
/* Numbers in headers saturate here (year 33658): large enough for any epoch, no overflow. */
#define HINT_MAX_SEC INT64_C(1000000000000)
/* Reset values from here on are epoch seconds (2001-09-09); below, seconds from now. */
#define RESET_EPOCH_MIN INT64_C(1000000000)

_Static_assert(sizeof(curl_off_t) == sizeof(int64_t), "curl_off_t is 64 bits");

static const struct rs_httpc_options httpc_defaults = {
    .timeout_ms = 30000,
    .connect_timeout_ms = 10000,
    .max_response_bytes = (size_t)256 << 20,
    .max_attempts = 5,
    .backoff_base_ms = 500,
    .backoff_max_ms = 30000,
    .max_wait_ms = 120000,
};

struct rs_httpc {
    CURL *easy; /* reused, so that connections to a provider are kept alive */
    struct rs_httpc_options opts;
    void (*sleep_us)(void *arg, int64_t us);
    void *sleep_arg;
};

/* What the callbacks of one attempt record. */
struct httpc_attempt {
    struct rs_http_response *resp;
    const char *reset_name; /* the request's rate_reset_header, or NULL */
    char retry_after[sizeof(((struct rs_http_response *)0)->retry_after)];
    char reset[64];
    char refused_addr[INET6_ADDRSTRLEN];
    bool allow_private;
    bool refused; /* a connect went to a refused address */
    bool toobig;  /* the body went over the cap */
    bool nomem;
};

/* One rs_httpc_send call. */
struct httpc_send {
    struct rs_httpc *client;
    struct rs_throttle *throttle;
    const struct rs_http_request *req;
    struct rs_http_response *resp;
    struct curl_slist *headers;
    struct httpc_attempt att;
    int64_t not_before_us; /* monotonic: when this call may send again */
    int64_t waited_us;
    int retries;      /* backoff delays taken so far: the exponent of the next */
    int max_attempts; /* the request's own limit, else the client's */
    char target[300]; /* host and path (no query, no user info), quoted for logs */
};

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;
static bool httpc_global_ok;

static void httpc_global_init(void)
{
    httpc_global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK && sodium_init() >= 0;
}

static void sleep_real(void *arg, int64_t us)
{
    struct timespec ts = {.tv_sec = us / US_PER_SEC, .tv_nsec = (long)(us % US_PER_SEC) * 1000};

    (void)arg;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* ---- pure helpers (declared in rs_int.h for the unit tests) ---- */

enum rs_httpc_verdict rs_httpc_verdict(CURLcode code, long status)
{
    switch (code) {
    case CURLE_OK:
        if (status == 429)
            return RS_HTTPC_THROTTLED;
        if (status >= 500 && status <= 599 && status != 501 && status != 505)
            return RS_HTTPC_RETRY;
        return RS_HTTPC_DONE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return RS_HTTPC_RETRY;
    default:
        return RS_HTTPC_FAIL;
    }
}

bool rs_httpc_header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t name_len = strlen(name);
    size_t start = name_len + 1;

    if (len <= name_len || line[name_len] != ':' || strncasecmp(line, name, name_len) != 0)
        return false;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (len > start && isspace((unsigned char)line[len - 1]))
        len--;
    if (len - start >= outlen)
        return false;
    memcpy(out, line + start, len - start);
    out[len - start] = '\0';
    return true;
}

/* A whole non-negative decimal number, saturated at HINT_MAX_SEC. */
static bool parse_seconds(const char *text, int64_t *out)
{
    int64_t value = 0;

    if (!isdigit((unsigned char)*text))
        return false;
    for (; isdigit((unsigned char)*text); text++) {
        value = value * 10 + (*text - '0');
        if (value > HINT_MAX_SEC)
            value = HINT_MAX_SEC;
    }
    if (*text != '\0')
        return false;
    *out = value;
    return true;
}

bool rs_httpc_parse_retry_after(const char *value, int64_t now_wall_us, int64_t *delay_us)
{
    int64_t secs;
    time_t date;
    int64_t delay;

    if (!value || !value[0])
        return false;
    if (isdigit((unsigned char)value[0])) {
        if (!parse_seconds(value, &secs))
            return false;
        *delay_us = secs * US_PER_SEC + RS_HTTPC_MARGIN_US;
        return true;
    }
    date = curl_getdate(value, NULL);
    if (date < 0)
        return false;
    if ((int64_t)date > HINT_MAX_SEC)
        date = (time_t)HINT_MAX_SEC;
    delay = (int64_t)date * US_PER_SEC - now_wall_us;
    *delay_us = (delay > 0 ? delay : 0) + RS_HTTPC_MARGIN_US;
    return true;
}

bool rs_httpc_parse_reset(const char *value, int64_t now_wall_us, int64_t *delay_us)
{
    int64_t secs;
    int64_t delay;

    if (!value || !parse_seconds(value, &secs))
        return false;
    if (secs < RESET_EPOCH_MIN)
        delay = (secs + 1) * US_PER_SEC; /* seconds from now */
    else
        delay = (secs + 1) * US_PER_SEC - now_wall_us;
    if (delay <= 0)
        return false;
    *delay_us = delay + RS_HTTPC_MARGIN_US;
    return true;
}

bool rs_httpc_hint_delay(const char *retry_after, const char *reset, int64_t now_wall_us,
                         int64_t *delay_us)
{
    return rs_httpc_parse_retry_after(retry_after, now_wall_us, delay_us) ||
           rs_httpc_parse_reset(reset, now_wall_us, delay_us);
}

int64_t rs_httpc_backoff_cap_us(int64_t base_ms, int64_t max_ms, int retry)
{
    int64_t cap = base_ms > 0 ? base_ms : 0;

    for (int i = 0; i < retry && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    return cap * US_PER_MS;
}

int64_t rs_httpc_backoff_us(int64_t base_ms, int64_t max_ms, int retry)
{
    int64_t cap_ms = rs_httpc_backoff_cap_us(base_ms, max_ms, retry) / US_PER_MS;

    if (cap_ms <= 0)
        return 0;
    if (cap_ms >= UINT32_MAX / US_PER_MS)
        cap_ms = UINT32_MAX / US_PER_MS - 1;
    return (int64_t)randombytes_uniform((uint32_t)(cap_ms * US_PER_MS + 1));
}

int64_t rs_httpc_throttle_reserve(struct rs_throttle *throttle, int64_t now_us)
{
    double burst = throttle->burst >= 1 ? throttle->burst : 1;

    if (throttle->rate_per_s <= 0)
        return 0;
    if (throttle->last_refill_us == 0) { /* first use: the bucket starts full */
        throttle->tokens = burst;
        throttle->last_refill_us = now_us;
    }
    if (now_us > throttle->last_refill_us) {
        throttle->tokens +=
            (double)(now_us - throttle->last_refill_us) * throttle->rate_per_s / (double)US_PER_SEC;
        if (throttle->tokens > burst)
            throttle->tokens = burst;
        throttle->last_refill_us = now_us;
    }
    throttle->tokens -= 1;
    if (throttle->tokens >= 0)
        return 0;
    return (int64_t)(-throttle->tokens * (double)US_PER_SEC / throttle->rate_per_s) + 1;
}

/* ---- libcurl callbacks ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct httpc_attempt *att = userdata;
    size_t n = size * nmemb;
    enum rs_err err = rs_buf_append(&att->resp->body, ptr, n);

    if (err == RS_OK)
        return n;
    if (err == RS_ERR_TOOBIG)
        att->toobig = true;
    else
        att->nomem = true;
    return 0; /* aborts the transfer */
}

/* Keeps only what the retry logic reads; a new status line (1xx first) starts afresh. */
static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
    struct httpc_attempt *att = userdata;
    size_t n = size * nitems;

    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        att->retry_after[0] = '\0';
        att->reset[0] = '\0';
        return n;
    }
    rs_httpc_header_value(line, n, "Retry-After", att->retry_after, sizeof(att->retry_after));
    if (att->reset_name)
        rs_httpc_header_value(line, n, att->reset_name, att->reset, sizeof(att->reset));
    return n;
}

/*
 * The connect-time check: every address curl is about to connect to, whatever the name
 * resolved to this time, must be public unless private ones are allowed.
 */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    struct httpc_attempt *att = clientp;
    const struct sockaddr *sa = &address->addr;
    const void *raw;

    (void)purpose;
    if (att->allow_private || !rs_url_addr_is_private(sa))
        return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    att->refused = true;
    raw = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                    : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
        !inet_ntop(sa->sa_family, raw, att->refused_addr, sizeof(att->refused_addr)))
        att->refused_addr[0] = '\0';
    return CURL_SOCKET_BAD;
}

/* ---- request set-up ---- */

/* A method is an upper-case token; header names are tokens; nothing may carry CR or LF. */
static bool is_token(const char *text, bool upper_only)
{
    if (!text || !text[0])
        return false;
    for (; *text; text++) {
        unsigned char c = (unsigned char)*text;

        if (upper_only ? !isupper(c) : (!isalnum(c) && !strchr("!#$%&'*+-.^_`|~", c)))
            return false;
    }
    return true;
}

static bool is_header_value(const char *text)
{
    return text && !strpbrk(text, "\r\n");
}

static enum rs_err request_check(const struct rs_http_request *req, struct rs_errbuf *eb)
{
    if (!is_token(req->method, true))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "request method must be an upper-case token");
    if (!req->url || !req->url[0])
        return rs_errbuf_set(eb, RS_ERR_INVALID, "request url is empty");
    if (req->basic_user && req->bearer)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "request has both basic and bearer auth");
    if (req->content_type && !is_header_value(req->content_type))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "request content type is not a header value");
    if (req->rate_reset_header && !is_token(req->rate_reset_header, false))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "rate reset header is not a header name");
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!is_token(req->headers[i].name, false) || !is_header_value(req->headers[i].value))
            return rs_errbuf_set(eb, RS_ERR_INVALID, "request header %zu is malformed", i);
    }
    return RS_OK;
}

/* Header values may be API keys: wiped before they are freed. */
static void headers_free(struct curl_slist *list)
{
    for (struct curl_slist *item = list; item; item = item->next)
        sodium_memzero(item->data, strlen(item->data));
    curl_slist_free_all(list);
}

static enum rs_err headers_add(struct curl_slist **list, const char *name, const char *value)
{
    enum rs_err err;
    struct rs_buf line;
    struct curl_slist *grown;

    rs_buf_init(&line, 16384);
    err = rs_buf_appendf(&line, "%s:%s%s", name, value[0] ? " " : "", value);
    if (err != RS_OK)
        goto out;
    grown = curl_slist_append(*list, line.data);
    if (!grown) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    *list = grown;
out:
    if (line.data)
        sodium_memzero(line.data, line.len);
    rs_buf_cleanup(&line);
    return err;
}

static enum rs_err headers_build(const struct rs_http_request *req, struct curl_slist **out)
{
    enum rs_err err = RS_OK;
    struct curl_slist *list = NULL;

    /* no "Expect: 100-continue" round trip before a body */
    err = headers_add(&list, "Expect", "");
    if (err == RS_OK && req->body)
        err = headers_add(&list, "Content-Type", req->content_type ? req->content_type : "");
    for (size_t i = 0; i < req->nheaders && err == RS_OK; i++)
        err = headers_add(&list, req->headers[i].name, req->headers[i].value);
    if (err != RS_OK) {
        headers_free(list);
        return err;
    }
    *out = list;
    return RS_OK;
}

/* Options that do not depend on the request. Returns true when one could not be set. */
static bool setup_transport(CURL *easy, const struct rs_httpc_options *opts,
                            struct httpc_attempt *att)
{
    bool failed = false;
    curl_off_t cap = (uint64_t)opts->max_response_bytes < (uint64_t)INT64_MAX
                         ? (curl_off_t)opts->max_response_bytes
                         : (curl_off_t)INT64_MAX;

    failed |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)opts->connect_timeout_ms) !=
              CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    /* the address check must see the upstream itself, never a proxy from the environment */
    failed |= curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_USERAGENT, "roster") != CURLE_OK;
    /* refuses a declared Content-Length over the cap before reading it */
    failed |= curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, cap) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, att) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, att) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, att) != CURLE_OK;
    return failed;
}

static bool setup_method(CURL *easy, const struct rs_http_request *req)
{
    bool failed = false;
    bool post = strcmp(req->method, "POST") == 0;

    if (strcmp(req->method, "HEAD") == 0)
        return curl_easy_setopt(easy, CURLOPT_NOBODY, 1L) != CURLE_OK;
    if (strcmp(req->method, "GET") == 0 && !req->body)
        return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    if (!post)
        failed |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
    if (post || req->body) {
        failed |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) !=
                  CURLE_OK;
        failed |=
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "") != CURLE_OK;
    }
    return failed;
}

static bool setup_request(CURL *easy, const struct rs_http_request *req, struct curl_slist *headers)
{
    bool failed = setup_method(easy, req);

    failed |= curl_easy_setopt(easy, CURLOPT_URL, req->url) != CURLE_OK;
    failed |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
    if (req->basic_user) {
        failed |= curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        failed |= curl_easy_setopt(easy, CURLOPT_USERNAME, req->basic_user) != CURLE_OK;
        failed |= curl_easy_setopt(easy, CURLOPT_PASSWORD,
                                   req->basic_password ? req->basic_password : "") != CURLE_OK;
    } else if (req->bearer) {
        failed |= curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) != CURLE_OK;
        failed |= curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, req->bearer) != CURLE_OK;
    }
    return failed;
}

/* "host[:port]/path" of url, quoted for a log line: never the query, user info or fragment. */
static void target_format(const char *url, char *out, size_t outlen)
{
    CURLU *h = curl_url();
    char *host = NULL;
    char *port = NULL;
    char *path = NULL;
    char plain[256];

    plain[0] = '\0';
    if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        (void)curl_url_get(h, CURLUPART_PORT, &port, 0);
        (void)curl_url_get(h, CURLUPART_PATH, &path, 0);
        snprintf(plain, sizeof(plain), "%s%s%s%s", host, port ? ":" : "", port ? port : "",
                 path ? path : "");
    }
    rs_log_quote(plain[0] ? plain : "?", out, (unsigned)outlen);
    curl_free(path);
    curl_free(port);
    curl_free(host);
    curl_url_cleanup(h);
}

/* ---- the attempt loop ---- */

/* Sleeps until this call's own retry delay, the throttle's "not before" and a token allow. */
static enum rs_err wait_turn(struct httpc_send *s, struct rs_errbuf *eb)
{
    int64_t now = rs_time_mono_us();
    int64_t wait = s->not_before_us - now;
    int64_t token_wait;

    if (s->throttle && s->throttle->not_before_us - now > wait) {
        wait = s->throttle->not_before_us - now;
        /* a 429 of an earlier call asked for longer than this client will wait */
        if (wait - RS_HTTPC_MARGIN_US > s->client->opts.max_wait_ms * US_PER_MS)
            return rs_errbuf_set(eb, RS_ERR_RATELIMIT,
                                 "upstream %s is rate limited for another %lld s", s->target,
                                 (long long)(wait / US_PER_SEC));
    }
    token_wait = s->throttle ? rs_httpc_throttle_reserve(s->throttle, now) : 0;
    if (token_wait > wait)
        wait = token_wait;
    if (wait <= 0)
        return RS_OK;
    s->client->sleep_us(s->client->sleep_arg, wait);
    s->waited_us += wait;
    s->resp->waited_ms = s->waited_us / US_PER_MS;
    return RS_OK;
}

/* One request: fresh options, an empty body, the callbacks' record cleared. */
static CURLcode attempt_perform(struct httpc_send *s)
{
    struct rs_httpc *client = s->client;
    struct httpc_attempt *att = &s->att;
    CURLcode code;
    long status = 0;

    memset(att, 0, sizeof(*att));
    att->resp = s->resp;
    att->reset_name = s->req->rate_reset_header;
    att->allow_private = client->opts.allow_private;
    s->resp->status = 0;
    s->resp->retry_after[0] = '\0';
    rs_buf_reset(&s->resp->body);
    s->resp->body.max = client->opts.max_response_bytes;
    curl_easy_reset(client->easy); /* keeps live connections and the DNS cache */
    if (setup_transport(client->easy, &client->opts, att) ||
        setup_request(client->easy, s->req, s->headers))
        return CURLE_FAILED_INIT;
    code = curl_easy_perform(client->easy);
    s->resp->unresolved = code == CURLE_COULDNT_RESOLVE_HOST;
    /* a refused address matters only when no other address of the host could be reached */
    if (code != CURLE_COULDNT_CONNECT)
        att->refused = false;
    if (curl_easy_getinfo(client->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        s->resp->status = status;
    memcpy(s->resp->retry_after, att->retry_after, sizeof(att->retry_after));
    if (rs_buf_append(&s->resp->body, "", 0) != RS_OK) /* a body is always a string */
        att->nomem = true;
    return code;
}

static void log_attempt(const struct httpc_send *s, CURLcode code)
{
    curl_off_t total_us = 0;

    if (!rs_log_enabled(RS_LOG_DEBUG))
        return;
    (void)curl_easy_getinfo(s->client->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    rs_log(RS_LOG_DEBUG, "upstream request",
           "method=%s target=%s status=%ld attempt=%d elapsed_ms=%lld result=\"%s\"",
           s->req->method, s->target, s->resp->status, s->resp->attempts,
           (long long)(total_us / 1000), curl_easy_strerror(code));
}

/* Schedules the next attempt delay_us from now and says so at info level. */
static void retry_after_delay(struct httpc_send *s, CURLcode code, int64_t delay_us)
{
    s->not_before_us = rs_time_mono_us() + delay_us;
    s->retries++;
    RS_LOG(RS_LOG_INFO, "upstream retry",
           "method=%s target=%s status=%ld attempt=%d wait_ms=%lld result=\"%s\"", s->req->method,
           s->target, s->resp->status, s->resp->attempts, (long long)(delay_us / US_PER_MS),
           curl_easy_strerror(code));
}

/* A 429: wait as asked (and make the throttle remember it for later calls), or give up. */
static enum rs_err on_throttled(struct httpc_send *s, bool *again, struct rs_errbuf *eb)
{
    const struct rs_httpc_options *opts = &s->client->opts;
    int64_t delay;
    int64_t now = rs_time_mono_us();
    bool hinted = rs_httpc_hint_delay(s->att.retry_after, s->att.reset, rs_time_now_us(), &delay);

    if (!hinted)
        delay = rs_httpc_backoff_us(opts->backoff_base_ms, opts->backoff_max_ms, s->retries);
    if (s->throttle && s->throttle->not_before_us < now + delay)
        s->throttle->not_before_us = now + delay;
    if (hinted && delay - RS_HTTPC_MARGIN_US > opts->max_wait_ms * US_PER_MS)
        return rs_errbuf_set(eb, RS_ERR_RATELIMIT, "upstream %s asks to wait %lld s", s->target,
                             (long long)(delay / US_PER_SEC));
    if (s->resp->attempts >= s->max_attempts)
        return rs_errbuf_set(eb, RS_ERR_RATELIMIT, "upstream %s still says 429 after %d tries",
                             s->target, s->resp->attempts);
    retry_after_delay(s, CURLE_OK, delay);
    *again = true;
    return RS_OK;
}

static enum rs_err network_error(const struct httpc_send *s, CURLcode code, struct rs_errbuf *eb)
{
    return rs_errbuf_set(eb, code == CURLE_OPERATION_TIMEDOUT ? RS_ERR_TIMEOUT : RS_ERR_UPSTREAM,
                         "upstream %s: %s (attempt %d)", s->target, curl_easy_strerror(code),
                         s->resp->attempts);
}

/* A 5xx or a network error: back off (a 503's Retry-After is honoured) unless out of tries. */
static enum rs_err on_retryable(struct httpc_send *s, CURLcode code, bool *again,
                                struct rs_errbuf *eb)
{
    const struct rs_httpc_options *opts = &s->client->opts;
    int64_t delay;

    if (s->resp->attempts >= s->max_attempts)
        return code == CURLE_OK ? RS_OK : network_error(s, code, eb);
    if (code == CURLE_OK && s->resp->status == 503 &&
        rs_httpc_parse_retry_after(s->att.retry_after, rs_time_now_us(), &delay)) {
        if (delay - RS_HTTPC_MARGIN_US > opts->max_wait_ms * US_PER_MS)
            return RS_OK; /* too long to wait here: the 503 is the answer */
    } else {
        delay = rs_httpc_backoff_us(opts->backoff_base_ms, opts->backoff_max_ms, s->retries);
    }
    retry_after_delay(s, code, delay);
    *again = true;
    return RS_OK;
}

/* Errors that no retry can fix, recorded by the callbacks or reported by curl. */
static enum rs_err attempt_failed(const struct httpc_send *s, CURLcode code, struct rs_errbuf *eb)
{
    if (s->att.toobig || code == CURLE_FILESIZE_EXCEEDED)
        return rs_errbuf_set(eb, RS_ERR_TOOBIG, "upstream %s: response larger than %zu bytes",
                             s->target, s->client->opts.max_response_bytes);
    if (s->att.nomem || code == CURLE_OUT_OF_MEMORY)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory");
    if (s->att.refused)
        return rs_errbuf_set(eb, RS_ERR_FORBIDDEN, "upstream %s is at a non-public address (%s)",
                             s->target, s->att.refused_addr);
    if (code == CURLE_FAILED_INIT)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "could not set up the upstream request");
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL)
        return rs_errbuf_set(eb, RS_ERR_INVALID, "upstream url is not usable: %s",
                             curl_easy_strerror(code));
    return rs_errbuf_set(eb, RS_ERR_UPSTREAM, "upstream %s: %s", s->target,
                         curl_easy_strerror(code));
}

/* Sends once; *again tells the caller to wait its turn and send again. */
static enum rs_err attempt_run(struct httpc_send *s, bool *again, struct rs_errbuf *eb)
{
    CURLcode code = attempt_perform(s);
    enum rs_httpc_verdict verdict = rs_httpc_verdict(code, s->resp->status);

    *again = false;
    s->resp->attempts++;
    log_attempt(s, code);
    if (s->att.toobig || s->att.nomem || s->att.refused)
        verdict = RS_HTTPC_FAIL; /* whatever curl made of the aborted transfer */
    switch (verdict) {
    case RS_HTTPC_DONE:
        return RS_OK;
    case RS_HTTPC_THROTTLED:
        return on_throttled(s, again, eb);
    case RS_HTTPC_RETRY:
        return on_retryable(s, code, again, eb);
    case RS_HTTPC_FAIL:
        break;
    }
    return attempt_failed(s, code, eb);
}

enum rs_err rs_httpc_send(struct rs_httpc *client, struct rs_throttle *throttle,
                          const struct rs_http_request *req, struct rs_http_response *resp,
                          struct rs_errbuf *eb)
{
    enum rs_err err;
    struct httpc_send s = {.client = client, .throttle = throttle, .req = req, .resp = resp};
    bool again = false;

    resp->status = 0;
    resp->retry_after[0] = '\0';
    resp->attempts = 0;
    resp->waited_ms = 0;
    resp->unresolved = false;
    rs_buf_reset(&resp->body);
    err = request_check(req, eb);
    if (err != RS_OK)
        goto out;
    err = headers_build(req, &s.headers);
    if (err != RS_OK) {
        rs_errbuf_set(eb, err, "out of memory");
        goto out;
    }
    target_format(req->url, s.target, sizeof(s.target));
    s.max_attempts = req->max_attempts > 0 ? req->max_attempts : client->opts.max_attempts;
    do {
        err = wait_turn(&s, eb);
        if (err == RS_OK)
            err = attempt_run(&s, &again, eb);
    } while (err == RS_OK && again);
out:
    /* curl keeps pointers to the request's strings until the next reset */
    if (client->easy)
        curl_easy_reset(client->easy);
    headers_free(s.headers);
    return err;
}

/* ---- lifecycle ---- */

/* Zero or negative settings take their defaults. */
static void options_resolve(const struct rs_httpc_options *in, struct rs_httpc_options *out)
{
    *out = httpc_defaults;
    if (!in)
        return;
    out->allow_private = in->allow_private;
    if (in->timeout_ms > 0)
        out->timeout_ms = in->timeout_ms;
    if (in->connect_timeout_ms > 0)
        out->connect_timeout_ms = in->connect_timeout_ms;
    if (in->max_response_bytes > 0)
        out->max_response_bytes = in->max_response_bytes;
    if (in->max_attempts > 0)
        out->max_attempts = in->max_attempts;
    if (in->backoff_base_ms > 0)
        out->backoff_base_ms = in->backoff_base_ms;
    if (in->backoff_max_ms > 0)
        out->backoff_max_ms = in->backoff_max_ms;
    if (in->max_wait_ms > 0)
        out->max_wait_ms = in->max_wait_ms;
}

enum rs_err rs_httpc_new(const struct rs_httpc_options *opts, struct rs_httpc **out)
{
    enum rs_err err = RS_ERR_NOMEM;
    struct rs_httpc *client = NULL;

    if (pthread_once(&httpc_once, httpc_global_init) != 0 || !httpc_global_ok)
        goto out;
    client = calloc(1, sizeof(*client));
    if (!client)
        goto out;
    options_resolve(opts, &client->opts);
    client->sleep_us = sleep_real;
    client->easy = curl_easy_init();
    if (!client->easy)
        goto out;
    *out = client;
    client = NULL;
    err = RS_OK;
out:
    rs_httpc_free(client);
    return err;
}

void rs_httpc_free(struct rs_httpc *client)
{
    if (!client)
        return;
    if (client->easy)
        curl_easy_cleanup(client->easy);
    free(client);
}

void rs_http_response_cleanup(struct rs_http_response *resp)
{
    if (!resp)
        return;
    rs_buf_cleanup(&resp->body);
}

void rs_httpc_set_sleep_hook(struct rs_httpc *client, void (*sleep_us)(void *arg, int64_t us),
                             void *arg)
{
    client->sleep_us = sleep_us ? sleep_us : sleep_real;
    client->sleep_arg = sleep_us ? arg : NULL;
}
