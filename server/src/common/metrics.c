/*
 * metrics.c: counters for /metrics and their Prometheus text exposition (format 0.0.4).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/metrics.h"

struct hdf_metrics hdf_metrics;

static const int statuses[HDF_METRICS_NSTATUS - 1] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                                      409, 412, 413, 415, 422, 429, 500, 503, 504};
static const double bucket_le[HDF_METRICS_NBUCKETS - 1] = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5};

static int status_slot(int status)
{
    for (int i = 0; i < HDF_METRICS_NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return HDF_METRICS_NSTATUS - 1; /* "other" */
}

void metrics_observe_request(hdf_route_id_t route, int status, uint64_t duration_us, uint32_t round_trips, uint32_t statements)
{
    struct hdf_route_metrics *rm = &hdf_metrics.routes[route <= HDF_ROUTE__COUNT ? route : HDF_ROUTE__COUNT];
    metrics_inc(&rm->by_status[status_slot(status)]);
    int b = 0;
    while (b < HDF_METRICS_NBUCKETS - 1 && (double)duration_us / 1e6 > bucket_le[b])
        b++;
    metrics_inc(&rm->latency_bucket[b]);
    atomic_fetch_add_explicit(&rm->latency_sum_us, duration_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->db_round_trips, round_trips, memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->db_statements, statements, memory_order_relaxed);
}

struct out {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void emit(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap * 2 + (size_t)(n > 0 ? n : 0);
        o->buf = realloc(o->buf, o->cap);
        if (o->buf == NULL)
            abort();
    }
}

static uint64_t load(atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static int64_t gauge(atomic_int_fast64_t *g)
{
    return atomic_load_explicit(g, memory_order_relaxed);
}

static void route_labels(int r, char *buf, size_t sz)
{
    if (r == HDF_ROUTE__COUNT)
        snprintf(buf, sz, "route=\"unmatched\",method=\"\"");
    else
        snprintf(buf, sz, "route=\"%s\",method=\"%s\"", hdf_routes[r].tmpl, hdf_routes[r].method_name);
}

static void render_requests(struct out *o)
{
    char labels[160];
    emit(o, "# HELP hdf_http_requests_total HTTP requests by route template, method and status.\n"
            "# TYPE hdf_http_requests_total counter\n");
    for (int r = 0; r <= HDF_ROUTE__COUNT; r++) {
        route_labels(r, labels, sizeof(labels));
        for (int s = 0; s < HDF_METRICS_NSTATUS; s++) {
            uint64_t v = load(&hdf_metrics.routes[r].by_status[s]);
            if (v == 0)
                continue;
            if (s == HDF_METRICS_NSTATUS - 1)
                emit(o, "hdf_http_requests_total{%s,status=\"other\"} %ju\n", labels, (uintmax_t)v);
            else
                emit(o, "hdf_http_requests_total{%s,status=\"%d\"} %ju\n", labels, statuses[s], (uintmax_t)v);
        }
    }
}

void metrics_observe_delivery(enum hdf_wh_outcome outcome, uint64_t duration_us)
{
    int b = 0;
    while (b < HDF_METRICS_NBUCKETS - 1 && (double)duration_us / 1e6 > bucket_le[b])
        b++;
    metrics_inc(&hdf_metrics.wh_outcomes[outcome]);
    metrics_inc(&hdf_metrics.wh_latency_bucket[b]);
    atomic_fetch_add_explicit(&hdf_metrics.wh_latency_sum_us, duration_us, memory_order_relaxed);
}

static void render_gauge(struct out *o, const char *name, const char *help, const char *type, int64_t v);

static void render_webhooks(struct out *o)
{
    static const char *const outcomes[] = {"succeeded", "retried", "failed"};
    emit(o, "# HELP hdf_webhook_attempts_total Webhook delivery attempts by outcome (retried: failed, tried again later;"
            " failed: the last attempt failed).\n# TYPE hdf_webhook_attempts_total counter\n");
    for (int i = 0; i < 3; i++)
        emit(o, "hdf_webhook_attempts_total{outcome=\"%s\"} %ju\n", outcomes[i], (uintmax_t)load(&hdf_metrics.wh_outcomes[i]));
    emit(o, "# HELP hdf_webhook_attempt_duration_seconds Time a delivery attempt took.\n"
            "# TYPE hdf_webhook_attempt_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < HDF_METRICS_NBUCKETS; b++) {
        cum += load(&hdf_metrics.wh_latency_bucket[b]);
        if (b < HDF_METRICS_NBUCKETS - 1)
            emit(o, "hdf_webhook_attempt_duration_seconds_bucket{le=\"%g\"} %ju\n", bucket_le[b], (uintmax_t)cum);
        else
            emit(o, "hdf_webhook_attempt_duration_seconds_bucket{le=\"+Inf\"} %ju\n", (uintmax_t)cum);
    }
    emit(o, "hdf_webhook_attempt_duration_seconds_sum %.6f\n", (double)load(&hdf_metrics.wh_latency_sum_us) / 1e6);
    emit(o, "hdf_webhook_attempt_duration_seconds_count %ju\n", (uintmax_t)cum);
    render_gauge(o, "hdf_outbox_depth", "Webhook deliveries not yet done (pending or being delivered).", "gauge",
                 gauge(&hdf_metrics.wh_outbox_depth));
    emit(o,
         "# HELP hdf_outbox_oldest_age_seconds Age of the oldest delivery not yet done.\n"
         "# TYPE hdf_outbox_oldest_age_seconds gauge\nhdf_outbox_oldest_age_seconds %.3f\n",
         (double)gauge(&hdf_metrics.wh_oldest_age_ms) / 1e3);
    render_gauge(o, "hdf_webhook_in_flight", "Webhook requests being sent by this process.", "gauge",
                 gauge(&hdf_metrics.wh_in_flight));
    render_gauge(o, "hdf_webhook_claims_total", "Claim statements run by this process's delivery worker.", "counter",
                 (int64_t)load(&hdf_metrics.wh_claims));
    render_gauge(o, "hdf_webhook_worker_sleeps_total", "Times the delivery worker went to sleep (writers then notify).", "counter",
                 (int64_t)load(&hdf_metrics.wh_sleeps));
    render_gauge(o, "hdf_webhook_worker_notified_total", "Times a NOTIFY woke the delivery worker.", "counter",
                 (int64_t)load(&hdf_metrics.wh_notified));
    render_gauge(o, "hdf_outbox_purged_events_total", "Outbox events deleted by this process's retention purge.", "counter",
                 (int64_t)load(&hdf_metrics.wh_purged_events));
    render_gauge(o, "hdf_outbox_purged_deliveries_total",
                 "Webhook deliveries (and their attempts) deleted by this process's retention purge.", "counter",
                 (int64_t)load(&hdf_metrics.wh_purged_deliveries));
}

static void render_latency(struct out *o)
{
    char labels[160];
    emit(o, "# HELP hdf_http_request_duration_seconds Time from request to response, by route.\n"
            "# TYPE hdf_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= HDF_ROUTE__COUNT; r++) {
        struct hdf_route_metrics *rm = &hdf_metrics.routes[r];
        uint64_t cum = 0, total = 0;
        for (int b = 0; b < HDF_METRICS_NBUCKETS; b++)
            total += load(&rm->latency_bucket[b]);
        if (total == 0) /* a route never requested has no series yet, as with the counter */
            continue;
        route_labels(r, labels, sizeof(labels));
        for (int b = 0; b < HDF_METRICS_NBUCKETS; b++) {
            cum += load(&rm->latency_bucket[b]);
            if (b < HDF_METRICS_NBUCKETS - 1)
                emit(o, "hdf_http_request_duration_seconds_bucket{%s,le=\"%g\"} %ju\n", labels, bucket_le[b], (uintmax_t)cum);
            else
                emit(o, "hdf_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %ju\n", labels, (uintmax_t)cum);
        }
        emit(o, "hdf_http_request_duration_seconds_sum{%s} %.6f\n", labels, (double)load(&rm->latency_sum_us) / 1e6);
        emit(o, "hdf_http_request_duration_seconds_count{%s} %ju\n", labels, (uintmax_t)cum);
    }
}

/* Round trips (and statements: a pipeline sends several in one) to the database per route, so
 * round trips per request = this / hdf_http_requests_total (docs/architecture.md has the table). */
static void render_db_counter(struct out *o, const char *name, const char *help, size_t offset)
{
    char labels[160];
    emit(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int r = 0; r <= HDF_ROUTE__COUNT; r++) {
        uint64_t v = load((atomic_uint_fast64_t *)((char *)&hdf_metrics.routes[r] + offset));
        if (v == 0)
            continue;
        route_labels(r, labels, sizeof(labels));
        emit(o, "%s{%s} %ju\n", name, labels, (uintmax_t)v);
    }
}

static void render_gauge(struct out *o, const char *name, const char *help, const char *type, int64_t v)
{
    emit(o, "# HELP %s %s\n# TYPE %s %s\n%s %jd\n", name, help, name, type, name, (intmax_t)v);
}

static void render_rate_limits(struct out *o)
{
    emit(o, "# HELP hdf_rate_limit_rejections_total Requests answered 429 rate_limited, by category.\n"
            "# TYPE hdf_rate_limit_rejections_total counter\n");
    for (int c = 0; c < HDF_RL__COUNT; c++)
        emit(o, "hdf_rate_limit_rejections_total{category=\"%s\"} %ju\n", hdf_rl_category_names[c],
             (uintmax_t)load(&hdf_metrics.rl_rejections[c]));
    render_gauge(o, "hdf_rate_limit_throttled_requests_total", "Requests delayed by soft-throttle.", "counter",
                 (int64_t)load(&hdf_metrics.rl_throttled_requests));
    render_gauge(o, "hdf_rate_limit_throttle_starts_total", "Times a workspace was put in soft-throttle.", "counter",
                 (int64_t)load(&hdf_metrics.rl_throttle_starts));
    render_gauge(o, "hdf_rate_limit_throttled_workspaces", "Workspaces in soft-throttle now (this process).", "gauge",
                 gauge(&hdf_metrics.rl_throttled_workspaces));
    render_gauge(o, "hdf_rate_limit_lease_statements_total", "Permit lease (and return) statements sent to the database.",
                 "counter", (int64_t)load(&hdf_metrics.rl_lease_statements));
}

char *metrics_render(size_t *len)
{
    struct out o = {malloc(16384), 0, 16384};
    if (o.buf == NULL)
        abort();
    render_requests(&o);
    render_latency(&o);
    render_db_counter(&o, "hdf_db_round_trips_total", "Database round trips made to answer requests, by route.",
                      offsetof(struct hdf_route_metrics, db_round_trips));
    render_db_counter(&o, "hdf_db_statements_total", "Database statements sent to answer requests, by route.",
                      offsetof(struct hdf_route_metrics, db_statements));
    render_gauge(&o, "hdf_http_in_flight", "Requests being processed.", "gauge", gauge(&hdf_metrics.in_flight));
    render_gauge(&o, "hdf_db_pool_connections", "Database connections configured (all threads).", "gauge",
                 gauge(&hdf_metrics.db_conns_total));
    render_gauge(&o, "hdf_db_pool_connected", "Database connections currently established.", "gauge",
                 gauge(&hdf_metrics.db_conns_connected));
    render_gauge(&o, "hdf_db_pool_in_use", "Database connections lent to a request.", "gauge", gauge(&hdf_metrics.db_in_use));
    render_gauge(&o, "hdf_db_pool_waiting", "Requests waiting for a database connection.", "gauge", gauge(&hdf_metrics.db_waiting));
    render_gauge(&o, "hdf_db_pool_rejected_total", "Requests refused with 503 because the wait queue was full.", "counter",
                 (int64_t)load(&hdf_metrics.db_rejected));
    render_gauge(&o, "hdf_db_reconnects_total", "Database connection attempts after a failure.", "counter",
                 (int64_t)load(&hdf_metrics.db_reconnects));
    render_gauge(&o, "hdf_auth_failures_total", "Requests answered 401.", "counter", (int64_t)load(&hdf_metrics.auth_failures));
    render_rate_limits(&o);
    render_webhooks(&o);
    emit(&o, "# HELP hdf_build_info Build information.\n# TYPE hdf_build_info gauge\nhdf_build_info{version=\"%s\"} 1\n",
         HDF_VERSION);
    *len = o.len;
    return o.buf;
}
