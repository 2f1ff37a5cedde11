/* Liveness (/healthz), readiness (/readyz: the database answers) and /metrics. */
#include "gw_int.h"

#include <string.h>

#include "roster/rs_log.h"

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
    if (req->app->cache) {
        uint64_t hits, misses;

        gw_cache_stats(req->app->cache, &hits, &misses);
        if (rs_buf_appendf(&out,
                           "# HELP roster_page_cache_lookups_total Read-API pages looked up in "
                           "the page cache, by result.\n"
                           "# TYPE roster_page_cache_lookups_total counter\n"
                           "roster_page_cache_lookups_total{result=\"hit\"} %llu\n"
                           "roster_page_cache_lookups_total{result=\"miss\"} %llu\n",
                           (unsigned long long)hits, (unsigned long long)misses) != RS_OK)
            rs_log(RS_LOG_WARN, "metrics truncated", NULL);
    }
    gw_reply_text(req, 200, "text/plain; version=0.0.4", out.data ? out.data : "", out.len);
    rs_buf_cleanup(&out);
}
