/*
 * worker.h: one worker thread = one h2o event loop + h2o context + SO_REUSEPORT listener + its own
 * database pool and key cache. Nothing on the request path is shared between workers except
 * atomics (metrics) and read-only configuration.
 */
#ifndef HDF_WORKER_H
#define HDF_WORKER_H

#include <pthread.h>
#include <h2o.h>
#include "config.h"
#include "db/chore.h"
#include "db/pool.h"
#include "outbox/retention.h"

struct hdf_auth_cache;
struct hdf_ratelimit;

struct hdf_worker {
    int index;
    pthread_t tid;
    const struct hdf_config *cfg;
    h2o_globalconf_t *globalconf;
    SSL_CTX *ssl_ctx;
    int listen_fd;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    hdf_db_pool_t *db;
    struct hdf_auth_cache *auth_cache;
    struct hdf_ratelimit *ratelimit;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    int64_t in_flight;
    struct hdf_db_chore idem_purge; /* housekeeping (worker 0) */
    uint64_t next_purge_at;
    struct hdf_outbox_retention retention; /* worker 0 */
    uint64_t shutdown_deadline;
    int stopping, done;
};

/* Set by the signal thread; each worker notices it on its next tick (<= 100 ms). */
void worker_request_shutdown(void);
int worker_start(struct hdf_worker *w);
void worker_join(struct hdf_worker *w);

static inline struct hdf_worker *worker_of(h2o_context_t *ctx)
{
    return H2O_STRUCT_FROM_MEMBER(struct hdf_worker, ctx, ctx);
}

#endif
