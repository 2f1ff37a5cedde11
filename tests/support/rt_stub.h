/*
 * A tiny HTTP server in a thread for integration tests that need an upstream of our own (an
 * OAuth token endpoint, a provider's records endpoint): it answers each request, one
 * connection at a time and closing it after the answer, with what a test's callback says.
 * Every request is counted and the last few are kept (method, path, headers, body).
 */
#ifndef ROSTER_RT_STUB_H
#define ROSTER_RT_STUB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_err.h"

#define RT_STUB_KEEP     16
#define RT_STUB_TEXT_MAX 8192

/* A request as the stub received it (NUL-terminated texts). */
struct rt_stub_request {
    char method[16];
    char path[1024];    /* with the query */
    char headers[4096]; /* the header block, "Name: value\r\n" lines */
    char body[RT_STUB_TEXT_MAX];
};

/* What to answer: status, a JSON body (copied), an optional pause before answering. */
struct rt_stub_reply {
    int status;
    char body[RT_STUB_TEXT_MAX];
    int delay_ms;
};

/* Called on the stub's thread for every request; fills reply (zeroed: 404, empty body). */
typedef void (*rt_stub_fn)(void *arg, const struct rt_stub_request *req,
                           struct rt_stub_reply *reply);

struct rt_stub;

/* Starts a stub on 127.0.0.1 (ephemeral port). NULL after printing why. */
struct rt_stub *rt_stub_start(rt_stub_fn fn, void *arg);
/* Stops the thread and frees the stub (NULL is a no-op). */
void rt_stub_stop(struct rt_stub *stub);
/* "http://127.0.0.1:PORT" (borrowed). */
const char *rt_stub_url(const struct rt_stub *stub);
/* Requests answered so far (thread-safe). */
int rt_stub_count(struct rt_stub *stub);
/* A copy of request number i (0-based, among the first RT_STUB_KEEP); 0, or -1 if none. */
int rt_stub_request(struct rt_stub *stub, int i, struct rt_stub_request *out);
/*
 * A struct prov_oauth endpoint for a test-only adapter whose authorization server is a stub:
 * base_url + "/oauth/token" for the token endpoint, base_url + "/oauth/authorize" otherwise
 * (fields ignored). RS_ERR_INVALID without a base_url, RS_ERR_TOOBIG when out is too small.
 */
enum rs_err rt_stub_oauth_endpoint(const json_t *fields, const char *base_url,
                                   enum prov_oauth_endpoint which, char *out, size_t outlen,
                                   struct rs_errbuf *eb);

/*
 * True once the len bytes of buf (NUL-terminated) hold a whole HTTP/1.1 request: the header
 * block and the Content-Length body; *total receives the request's size then. For servers of
 * tests that read requests themselves.
 */
bool rt_stub_request_complete(const char *buf, size_t len, size_t *total);

/* Forgets the count and the kept requests. */
void rt_stub_reset(struct rt_stub *stub);

#endif
