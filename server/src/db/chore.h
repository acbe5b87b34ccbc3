/*
 * chore.h: housekeeping statements (purges) that run on an idle pooled connection only, so they
 * never queue behind or crowd out requests; one in flight per chore. Used by the idempotency-key
 * purge and the rate-limit bucket purge.
 */
#ifndef HDF_DB_CHORE_H
#define HDF_DB_CHORE_H

#include "db/pool.h"

struct hdf_db_chore {
    hdf_db_waiter_t db;
    enum hdf_stmt stmt; /* a statement without parameters */
    int busy;
};

/* Sends the chore's statement when a connection is idle. Returns -1 when none was (nothing was
 * done: try again shortly), else 0 (sent, or the previous run is still in flight). */
int db_chore_run(hdf_db_pool_t *pool, struct hdf_db_chore *c);
/* The owner is going away: forgets a run in flight. */
void db_chore_cancel(struct hdf_db_chore *c);

#endif
