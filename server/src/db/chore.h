/*
 * chore.h: housekeeping statements (purges) that run on an idle pooled connection only, so they
 * never queue behind or crowd out requests; one in flight per chore. Used by the idempotency-key
 * purge, the rate-limit bucket purge and the outbox retention purge.
 */
#ifndef HDF_DB_CHORE_H
#define HDF_DB_CHORE_H

#include "db/pool.h"

struct hdf_db_chore;
/* The statement's result (res NULL when it failed or the connection broke); res is valid only
 * during the call. */
typedef void (*hdf_db_chore_cb)(struct hdf_db_chore *c, PGresult *res);

struct hdf_db_chore {
    hdf_db_waiter_t db;
    enum hdf_stmt stmt;
    const char *const *params; /* NULL for a statement without parameters; read when the run is sent */
    hdf_db_chore_cb on_done;   /* optional */
    int busy;
};

/* Sends the chore's statement when a connection is idle. Returns -1 when none was (nothing was
 * done: try again shortly), else 0 (sent, or the previous run is still in flight). The statement
 * is sent before this returns, so params need to live only until then. */
int db_chore_run(hdf_db_pool_t *pool, struct hdf_db_chore *c);
/* The owner is going away: forgets a run in flight. */
void db_chore_cancel(struct hdf_db_chore *c);

#endif
