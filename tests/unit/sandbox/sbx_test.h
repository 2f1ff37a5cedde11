/* Helpers shared by the sandbox unit tests: a process context and requests without sockets. */
#ifndef ROSTER_TEST_SBX_TEST_H
#define ROSTER_TEST_SBX_TEST_H

#include "sbx_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <sodium.h>

#include "roster/rs_time.h"

#define SBX_TEST_BASIC_SANDBOX "Basic c2FuZGJveDp4"     /* sandbox:x */
#define SBX_TEST_BASIC_SERVICE "Basic c3ZjOnNhbmRib3g=" /* svc:sandbox */

static inline struct sbx_ctx *sbx_test_ctx(int n, uint64_t seed)
{
    struct sbx_ctx *ctx = calloc(1, sizeof(*ctx));
    struct sbx_company *c = NULL;

    assert_non_null(ctx);
    assert_true(sodium_init() >= 0);
    assert_int_equal(sbx_company_new(n, seed, &c), RS_OK);
    sbx_server_ctx_init(ctx, c, 86400, false);
    return ctx;
}

static inline void sbx_test_ctx_free(struct sbx_ctx *ctx)
{
    sbx_server_ctx_cleanup(ctx);
    free(ctx);
}

/* A request to a provider path ("/v1/people/search") with an optional query and body. */
static inline void sbx_test_req(struct sbx_req *req, enum sbx_method method, const char *base,
                                const char *path, const char *query, const char *auth,
                                const char *body)
{
    static char query_copy[SBX_QUERY_BYTES];

    memset(req, 0, sizeof(*req));
    req->method = method;
    req->path = path;
    req->base = base;
    req->authorization = auth;
    req->content_type = body ? "application/json" : NULL;
    req->body = body;
    req->body_len = body ? strlen(body) : 0;
    req->now_us = rs_time_now_us();
    snprintf(query_copy, sizeof(query_copy), "%s", query ? query : "");
    assert_int_equal(sbx_http_query_parse(&req->query, query_copy), RS_OK);
}

/* Runs the request through the server's respond path (faults applied); resp must be inited. */
static inline void sbx_test_run(struct sbx_ctx *ctx, int provider, const struct sbx_req *req,
                                struct sbx_resp *resp)
{
    const struct sbx_fault *fault = sbx_fault_match(ctx, provider, req->path);

    sbx_http_resp_reset(resp);
    assert_int_equal(sbx_server_respond(ctx, provider, fault, req, resp), RS_OK);
}

/* The response body as JSON (fails the test when it is not). */
static inline json_t *sbx_test_json(const struct sbx_resp *resp)
{
    json_error_t error;
    json_t *root = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &error);

    if (!root)
        fail_msg("not JSON (%s): %.*s", error.text,
                 (int)(resp->body.len > 300 ? 300 : resp->body.len),
                 resp->body.data ? resp->body.data : "");
    return root;
}

/*
 * A call of the control API (path under /_control, body JSON text or NULL): its status; its
 * JSON answer in *out (new reference) when out is not NULL. Every answer must be JSON.
 */
static inline int sbx_test_control(struct sbx_ctx *ctx, enum sbx_method method, const char *path,
                                   const char *body, json_t **out)
{
    struct sbx_req req;
    struct sbx_resp resp;
    int status;

    sbx_http_resp_init(&resp);
    sbx_test_req(&req, method, "http://sandbox.test/_control", path, NULL, NULL, body);
    assert_int_equal(sbx_control_handle(ctx, &req, &resp), RS_OK);
    status = resp.status;
    if (out)
        *out = sbx_test_json(&resp);
    else
        json_decref(sbx_test_json(&resp));
    sbx_http_resp_cleanup(&resp);
    return status;
}

/* Value of a response header, or NULL. */
static inline const char *sbx_test_header(const struct sbx_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->header_name[i], name) == 0)
            return resp->header_value[i];
    return NULL;
}

#endif
