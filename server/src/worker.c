/*
 * worker.c: a worker thread's life: loop, listener, pool, a 100 ms housekeeping tick, and graceful
 * shutdown (stop accepting, let in-flight requests finish up to HDF_SHUTDOWN_TIMEOUT_MS, stop).
 */
#include <stdatomic.h>
#include <stdint.h>
#include "worker.h"
#include "http/auth.h"
#include "http/idempotency.h"
#include "common/log.h"
#include "ratelimit/limiter.h"

#define WORKER_TICK_MS 100
#define WORKER_ACCEPT_BATCH 16
#define WORKER_PURGE_EVERY_MS 60000
#define WORKER_PURGE_RETRY_MS 1000

static atomic_int shutdown_requested;

void worker_request_shutdown(void)
{
    atomic_store(&shutdown_requested, 1);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct hdf_worker *w = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < WORKER_ACCEPT_BATCH; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        h2o_accept(&w->accept_ctx, sock);
    }
}

static void begin_shutdown(struct hdf_worker *w)
{
    w->stopping = 1;
    w->shutdown_deadline = h2o_now(w->loop) + (uint64_t)w->cfg->shutdown_timeout_ms;
    if (w->listener != NULL) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
    /* idle HTTP/2 connections get GOAWAY; HTTP/1 ones close after their current response */
    h2o_context_request_shutdown(&w->ctx);
}

static int count_started(h2o_req_t *req, void *cbdata)
{
    /* h2o zeroes a connection's request between requests: a method means one has started,
     * perhaps with its body still arriving (our handler has not seen it yet) */
    if (req->input.method.len != 0)
        ++*(size_t *)cbdata;
    return 0;
}

/* Requests that h2o is still reading plus those our handlers hold. */
static size_t requests_in_progress(struct hdf_worker *w)
{
    size_t n = 0;
    w->globalconf->http1.callbacks.foreach_request(&w->ctx, count_started, &n);
    w->globalconf->http2.callbacks.foreach_request(&w->ctx, count_started, &n);
    return n + (size_t)w->in_flight;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    struct hdf_worker *w = H2O_STRUCT_FROM_MEMBER(struct hdf_worker, tick, entry);
    db_pool_tick(w->db);
    ratelimit_tick(w);
    if (w->index == 0 && !w->stopping && h2o_now(w->loop) >= w->next_purge_at)
        w->next_purge_at = h2o_now(w->loop) + (idem_purge_expired(w) == 0 ? WORKER_PURGE_EVERY_MS : WORKER_PURGE_RETRY_MS);
    if (w->index == 0 && !w->stopping)
        outbox_retention_tick(&w->retention, w->db);
    if (!w->stopping && atomic_load(&shutdown_requested))
        begin_shutdown(w);
    if (w->stopping) {
        if (requests_in_progress(w) == 0) {
            w->done = 1;
        } else if (h2o_now(w->loop) >= w->shutdown_deadline) {
            log_line(HDF_LOG_WARN, "shutdown timeout: abandoning in-flight requests", "\"worker\":%d,\"in_flight\":%lld", w->index,
                     (long long)w->in_flight);
            w->done = 1;
        }
    }
    if (!w->done)
        h2o_timeout_link(w->loop, &w->tick_timeout, &w->tick);
}

static void *worker_main(void *arg)
{
    struct hdf_worker *w = arg;
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, w->globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->globalconf->hosts;
    w->accept_ctx.ssl_ctx = w->ssl_ctx;
    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    w->db = db_pool_create(w->loop, w->cfg);
    w->auth_cache = auth_cache_create();
    w->ratelimit = ratelimit_create(w);
    outbox_retention_init(&w->retention, w->loop, w->cfg->event_retention_days);
    h2o_timeout_init(w->loop, &w->tick_timeout, WORKER_TICK_MS);
    w->tick.cb = on_tick;
    h2o_timeout_link(w->loop, &w->tick_timeout, &w->tick);

    log_batch_start();
    while (!w->done) {
        h2o_evloop_run(w->loop, INT32_MAX);
        log_flush();
    }

    /* Connections still open here are idle keep-alives or abandoned requests; the process exits
     * next, which closes them. The pool is closed so Postgres sees a clean disconnect. */
    ratelimit_destroy(w->ratelimit);
    w->ratelimit = NULL;
    outbox_retention_stop(&w->retention);
    db_pool_destroy(w->db);
    w->db = NULL;
    auth_cache_destroy(w->auth_cache);
    w->auth_cache = NULL;
    log_flush();
    return NULL;
}

int worker_start(struct hdf_worker *w)
{
    return pthread_create(&w->tid, NULL, worker_main, w);
}

void worker_join(struct hdf_worker *w)
{
    pthread_join(w->tid, NULL);
}
