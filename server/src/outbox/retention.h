/*
 * retention.h: the outbox retention purge (HDF_EVENT_RETENTION_DAYS). Worker 0 of each API server
 * runs hdf_outbox_purge (migrations/0010_outbox_retention.sql) as a chore on an idle connection:
 * every few seconds, and again on the next tick while a run found a whole window of events past
 * retention. Each run looks at no more than 1000 events, the next ones after a cursor kept here;
 * the cursor goes back to the first event once an hour (and at start), so that events kept for a
 * failed delivery are looked at again without every run reading them. See docs/webhooks.md
 * (Retention) and docs/architecture.md (Outbox).
 */
#ifndef HDF_OUTBOX_RETENTION_H
#define HDF_OUTBOX_RETENTION_H

#include <stdint.h>
#include <h2o.h>
#include "db/chore.h"

#define HDF_RETENTION_EVERY_MS 5000
#define HDF_RETENTION_RESCAN_MS 3600000

struct hdf_outbox_retention {
    struct hdf_db_chore chore;
    h2o_loop_t *loop;
    int days;                        /* 0: keep everything, never run */
    int64_t after_id;                /* the cursor: the last event id the previous run looked at */
    uint64_t next_run_at, rescan_at; /* loop milliseconds */
    char after_text[24], days_text[16];
    const char *params[2];
};

void outbox_retention_init(struct hdf_outbox_retention *r, h2o_loop_t *loop, int days);
/* Called on every housekeeping tick of the owning worker: starts a run when one is due. */
void outbox_retention_tick(struct hdf_outbox_retention *r, hdf_db_pool_t *pool);
/* The worker is stopping: forgets a run in flight. */
void outbox_retention_stop(struct hdf_outbox_retention *r);

#endif
