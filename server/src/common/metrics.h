/*
 * metrics.h: process-wide counters and gauges (relaxed atomics: no locks on the request path) and
 * their Prometheus text rendering for GET /metrics.
 */
#ifndef HDF_METRICS_H
#define HDF_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "http/router.h"
#include "ratelimit/category.h"

#define HDF_METRICS_NSTATUS 19
#define HDF_METRICS_NBUCKETS 12

struct hdf_route_metrics {
    atomic_uint_fast64_t by_status[HDF_METRICS_NSTATUS];
    atomic_uint_fast64_t latency_bucket[HDF_METRICS_NBUCKETS]; /* non-cumulative; rendered cumulative */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t db_round_trips, db_statements; /* sent to answer this route's requests */
};

struct hdf_metrics {
    struct hdf_route_metrics routes[HDF_ROUTE__COUNT + 1]; /* last slot: unmatched */
    atomic_int_fast64_t in_flight;
    atomic_int_fast64_t db_conns_total, db_conns_connected, db_in_use, db_waiting;
    atomic_uint_fast64_t db_rejected, db_reconnects, auth_failures;
    /* rate limits (ratelimit/) */
    atomic_uint_fast64_t rl_rejections[HDF_RL__COUNT];
    atomic_uint_fast64_t rl_throttled_requests, rl_throttle_starts, rl_lease_statements;
    atomic_int_fast64_t rl_throttled_workspaces;
    /* webhooks (outbox/delivery.c): outcomes of attempts (ok, retry, failed), attempt latency, and
     * the outbox as the delivery worker last measured it (every few seconds) */
    atomic_uint_fast64_t wh_outcomes[3];
    atomic_uint_fast64_t wh_latency_bucket[HDF_METRICS_NBUCKETS];
    atomic_uint_fast64_t wh_latency_sum_us;
    atomic_int_fast64_t wh_outbox_depth, wh_oldest_age_ms, wh_in_flight;
    /* the worker's claims, and how often it went to sleep and was woken by a NOTIFY */
    atomic_uint_fast64_t wh_claims, wh_sleeps, wh_notified;
    /* the retention purge (outbox/retention.c): rows it deleted */
    atomic_uint_fast64_t wh_purged_events, wh_purged_deliveries;
};

enum hdf_wh_outcome { HDF_WH_SUCCEEDED = 0, HDF_WH_RETRIED, HDF_WH_FAILED };
/* One delivery attempt: its outcome and duration. */
void metrics_observe_delivery(enum hdf_wh_outcome outcome, uint64_t duration_us);

extern struct hdf_metrics hdf_metrics;

/* One answered request: its status, duration and the database round trips and statements it took. */
void metrics_observe_request(hdf_route_id_t route, int status, uint64_t duration_us, uint32_t round_trips, uint32_t statements);
static inline void metrics_add(atomic_int_fast64_t *g, int64_t d)
{
    atomic_fetch_add_explicit(g, d, memory_order_relaxed);
}
static inline void metrics_inc(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Renders the whole exposition into a malloc'd string; caller frees. */
char *metrics_render(size_t *len);

#endif
