/*
 * Deferred requests: a handler hands blocking work (a provider request, seconds long) to a
 * thread of its own, so the worker's event loop keeps serving; the completion is posted back
 * to the worker's event_base (thread-safe: evthread_use_pthreads) and answers the request there.
 */
#include "gw_int.h"

#include <stdlib.h>
#include <unistd.h>

#include "roster/rs_log.h"
#include "roster/rs_time.h"

#define DEFER_MAX_RUNNING 32 /* process-wide: past it, a 503 rather than a thread per request */

static atomic_int running;

struct defer_job {
    struct gw_req *req;
    struct gw_worker *worker;
    gw_defer_work_fn work;
    gw_defer_done_fn done;
    void *arg;
};

/* On the worker's thread: answer the request, then free it. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct defer_job *job = arg;
    struct gw_worker *worker = job->worker;

    (void)fd;
    (void)what;
    rs_log_set_context(job->req->id, NULL);
    job->done(job->req, job->arg);
    rs_log_clear_context();
    gw_req_release(job->req);
    free(job);
    atomic_fetch_sub(&worker->deferred, 1);
}

static void *job_main(void *arg)
{
    struct defer_job *job = arg;
    struct timeval now = {0, 0};

    job->work(job->arg);
    atomic_fetch_sub(&running, 1);
    if (event_base_once(job->worker->base, -1, EV_TIMEOUT, on_done, job, &now) != 0)
        rs_log(RS_LOG_ERROR, "deferred request lost", "request=%s", job->req->id);
    return NULL;
}

enum rs_err gw_defer(struct gw_req *req, gw_defer_work_fn work, gw_defer_done_fn done, void *arg)
{
    struct defer_job *job = NULL;
    pthread_attr_t attr;
    pthread_t thread;
    int rc;

    if (atomic_fetch_add(&running, 1) >= DEFER_MAX_RUNNING) {
        atomic_fetch_sub(&running, 1);
        return rs_errbuf_set(&req->eb, RS_ERR_UNAVAILABLE,
                             "too many connection tests at once; retry shortly");
    }
    job = calloc(1, sizeof(*job));
    if (!job) {
        atomic_fetch_sub(&running, 1);
        return RS_ERR_NOMEM;
    }
    *job = (struct defer_job){req, req->worker, work, done, arg};
    atomic_fetch_add(&req->worker->deferred, 1);
    req->deferred = true;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&thread, &attr, job_main, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        req->deferred = false;
        atomic_fetch_sub(&req->worker->deferred, 1);
        atomic_fetch_sub(&running, 1);
        free(job);
        return rs_errbuf_set(&req->eb, RS_ERR_UNAVAILABLE, "cannot start the connection test");
    }
    return RS_OK;
}

void gw_defer_drain(struct gw_worker *worker, int64_t timeout_ms)
{
    int64_t deadline = rs_time_mono_us() + timeout_ms * 1000;

    while (atomic_load(&worker->deferred) > 0 && rs_time_mono_us() < deadline) {
        event_base_loop(worker->base, EVLOOP_NONBLOCK);
        if (atomic_load(&worker->deferred) > 0)
            usleep(10000);
    }
    if (atomic_load(&worker->deferred) > 0)
        rs_log(RS_LOG_WARN, "deferred requests abandoned at shutdown", "worker=%d count=%d",
               worker->index, atomic_load(&worker->deferred));
}
