/*
 * pool.h: the asynchronous libpq pool of one worker thread, driven by that thread's h2o event loop.
 * Connections are established with PQconnectStart/PQconnectPoll, run a session setup and prepare
 * every statement, and are lent to one waiter at a time. Waiters queue in FIFO order up to a bound
 * (then 503). A broken connection fails its waiter with UNAVAILABLE and is re-established with
 * exponential backoff; when no connection is up, requests fail fast with 503 instead of queueing.
 */
#ifndef HDF_DB_POOL_H
#define HDF_DB_POOL_H

#include <libpq-fe.h>
#include <h2o.h>
#include "common/errors.h"
#include "config.h"
#include "db/statements.h"

typedef struct hdf_db_pool hdf_db_pool_t;
typedef struct hdf_db_conn hdf_db_conn_t;
typedef struct hdf_db_waiter hdf_db_waiter_t;

/* err is HDF_OK with a connection, else HDF_E_UNAVAILABLE (queue full, database down, timed out). */
typedef void (*hdf_db_acquire_cb)(hdf_db_waiter_t *w, hdf_error_t err);
/* res is valid only during the call (NULL when err != HDF_OK: the connection broke). */
typedef void (*hdf_db_result_cb)(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err);

struct hdf_db_waiter {
    h2o_linklist_t link; /* in the pool's wait queue */
    hdf_db_pool_t *pool;
    hdf_db_conn_t *conn; /* the connection held, if any */
    hdf_db_acquire_cb on_acquire;
    hdf_db_result_cb on_result;
    uint64_t enqueued_at;
    uint32_t round_trips, statements; /* sent on behalf of this waiter (metrics: per route) */
};

/* One statement of a pipeline: params as for db_query. */
struct hdf_db_step {
    enum hdf_stmt stmt;
    const char *const *params;
    const int *lengths;
};

hdf_db_pool_t *db_pool_create(h2o_loop_t *loop, const struct hdf_config *cfg);
/* Closes every connection; waiters must be gone. */
void db_pool_destroy(hdf_db_pool_t *pool);
/* Called about every 100 ms by the owning thread: expires waiters that waited too long. */
void db_pool_tick(hdf_db_pool_t *pool);
/* Whether at least one connection is established (for /readyz and fail-fast). */
int db_pool_is_up(const hdf_db_pool_t *pool);

/* Lends a connection: on_acquire runs now (an idle connection, or a refusal) or later. */
void db_pool_acquire(hdf_db_pool_t *pool, hdf_db_waiter_t *w, hdf_db_acquire_cb cb);
/* For a short statement that requests wait on (a rate-limit lease): queued ahead of every waiter
 * and never refused for a full queue, so it does not wait behind the requests it gates. */
void db_pool_acquire_first(hdf_db_pool_t *pool, hdf_db_waiter_t *w, hdf_db_acquire_cb cb);
/* For housekeeping that must never queue behind or crowd out requests: lends a connection only
 * when one is idle (on_acquire runs before this returns 0); otherwise returns -1 and does nothing. */
int db_pool_acquire_idle(hdf_db_pool_t *pool, hdf_db_waiter_t *w, hdf_db_acquire_cb cb);
/* Sends a prepared statement on the held connection; on_result runs when its result is complete.
 * params are text, except those with a non-zero length in lengths, sent as binary. */
void db_query(hdf_db_waiter_t *w, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_db_result_cb cb);
/* Sends n statements in one round trip (libpq pipeline mode, one sync point): on_result runs once,
 * with the first failed statement's result, or else the last statement's. A failure skips the
 * statements after it (in a transaction, which is then aborted). */
void db_query_pipeline(hdf_db_waiter_t *w, const struct hdf_db_step *steps, int n, hdf_db_result_cb cb);
/* Returns the connection to the pool (rolling back a transaction left open). */
void db_release(hdf_db_waiter_t *w);
/* The waiter's owner is going away: forget it wherever it is (queue or connection). */
void db_cancel(hdf_db_waiter_t *w);

#endif
