/*
 * retention.c: the outbox retention purge (see retention.h): schedules runs, keeps the cursor,
 * counts and logs what each run deleted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "outbox/retention.h"
#include "common/log.h"
#include "common/metrics.h"

static int64_t column_int(PGresult *res, int col)
{
    return (int64_t)strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void on_purged(struct hdf_db_chore *c, PGresult *res)
{
    struct hdf_outbox_retention *r = H2O_STRUCT_FROM_MEMBER(struct hdf_outbox_retention, chore, c);
    uint64_t now = h2o_now(r->loop);
    if (res == NULL || PQntuples(res) != 1 || PQnfields(res) != 6) { /* failed (logged if it was a bug): later */
        r->next_run_at = now + HDF_RETENTION_EVERY_MS;
        return;
    }
    int more = PQgetvalue(res, 0, 1)[0] == 't';
    int64_t events = column_int(res, 2), deliveries = column_int(res, 3), attempts = column_int(res, 4),
            orphans = column_int(res, 5);
    r->after_id = column_int(res, 0);
    if (more) {
        r->next_run_at = now; /* the next tick */
    } else {
        r->next_run_at = now + HDF_RETENTION_EVERY_MS;
        if (now >= r->rescan_at) { /* caught up: the next pass starts from the first event again */
            r->after_id = 0;
            r->rescan_at = now + HDF_RETENTION_RESCAN_MS;
        }
    }
    atomic_fetch_add_explicit(&hdf_metrics.wh_purged_events, (uint64_t)events, memory_order_relaxed);
    atomic_fetch_add_explicit(&hdf_metrics.wh_purged_deliveries, (uint64_t)(deliveries + orphans), memory_order_relaxed);
    if (orphans > 0) /* none should exist: redelivery locks its event against this purge */
        log_line(HDF_LOG_WARN, "outbox purge removed deliveries of missing events", "\"orphan_deliveries\":%" PRId64, orphans);
    if (events + deliveries + attempts + orphans > 0)
        log_line(HDF_LOG_INFO, "outbox purge",
                 "\"events\":%" PRId64 ",\"deliveries\":%" PRId64 ",\"attempts\":%" PRId64 ",\"orphan_deliveries\":%" PRId64,
                 events, deliveries, attempts, orphans);
}

void outbox_retention_init(struct hdf_outbox_retention *r, h2o_loop_t *loop, int days)
{
    *r = (struct hdf_outbox_retention){0};
    r->loop = loop;
    r->days = days;
    r->next_run_at = h2o_now(loop); /* the first tick */
    r->rescan_at = r->next_run_at + HDF_RETENTION_RESCAN_MS;
    r->chore.stmt = HDF_STMT_OUTBOX_PURGE;
    r->chore.on_done = on_purged;
    r->chore.params = r->params;
    r->params[0] = r->after_text;
    r->params[1] = r->days_text;
    snprintf(r->days_text, sizeof(r->days_text), "%d", days);
}

void outbox_retention_tick(struct hdf_outbox_retention *r, hdf_db_pool_t *pool)
{
    uint64_t now = h2o_now(r->loop);
    if (r->days == 0 || r->chore.busy || now < r->next_run_at)
        return;
    snprintf(r->after_text, sizeof(r->after_text), "%" PRId64, r->after_id);
    /* on_purged sets the next run; it may run before db_chore_run returns (no connection after all) */
    r->next_run_at = now + HDF_RETENTION_EVERY_MS;
    if (db_chore_run(pool, &r->chore) != 0) /* every connection is busy: try again soon */
        r->next_run_at = now + 1000;
}

void outbox_retention_stop(struct hdf_outbox_retention *r)
{
    db_chore_cancel(&r->chore);
}
