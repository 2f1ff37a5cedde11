/* Liveness (/healthz), readiness (/readyz: the database answers) and /metrics. */
#include "gw_int.h"

#include <string.h>

void gw_handle_healthz(struct gw_req *req)
{
    static const char body[] = "{\"status\":\"ok\"}";

    gw_reply_text(req, 200, "application/json", body, strlen(body));
}

void gw_handle_readyz(struct gw_req *req)
{
    static const char ready[] = "{\"status\":\"ready\",\"database\":\"up\"}";

    if (rs_db_ping(req->db) != RS_OK) {
        rs_errbuf_set(&req->eb, RS_ERR_UNAVAILABLE, "database unreachable");
        /* a 503 body says why, so an operator's curl shows it */
        static const char down[] = "{\"status\":\"unavailable\",\"database\":\"down\"}";
        evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Retry-After", "1");
        gw_reply_text(req, 503, "application/json", down, strlen(down));
        return;
    }
    gw_reply_text(req, 200, "application/json", ready, strlen(ready));
}

void gw_handle_metrics(struct gw_req *req)
{
    struct rs_buf out;

    rs_buf_init(&out, 4 << 20);
    gw_metrics_render(&out);
    gw_reply_text(req, 200, "text/plain; version=0.0.4", out.data ? out.data : "", out.len);
    rs_buf_cleanup(&out);
}
