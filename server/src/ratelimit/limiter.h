/*
 * limiter.h: the rate-limit stage of the request pipeline (after authentication, before role,
 * body and handler), per worker thread. Each (key, category) has a local entry that spends
 * permits leased in batches from the shared budget in Postgres (hdf_rate_lease, one statement
 * per batch, run on the thread's pool); while a lease is in flight, other requests for the same
 * pair wait for it. A lease lives at most RL_LEASE_MS and never past the end of its window
 * bucket; what was not spent is given back. A rejected request gets 429 rate_limited and does no
 * other work. Soft-throttled workspaces (throttle.h) have their requests delayed on the loop's
 * timers. See docs/architecture.md, Rate limits.
 */
#ifndef HDF_RATELIMIT_LIMITER_H
#define HDF_RATELIMIT_LIMITER_H

#include <h2o.h>
#include <stdint.h>
#include "ratelimit/category.h"

struct hdf_req;
struct hdf_worker;
struct hdf_ratelimit;
struct rl_entry;

/* A request's part: its category, the header values, and where it waits. */
struct hdf_rl_req {
    int has_headers; /* RateLimit-* are sent (the category is limited and was evaluated) */
    enum hdf_rl_category category;
    int64_t limit, remaining, reset_s;
    struct rl_entry *entry;    /* while queued for a lease */
    h2o_linklist_t link;       /* in entry's queue */
    h2o_timeout_entry_t delay; /* soft-throttle delay */
};

struct hdf_ratelimit *ratelimit_create(struct hdf_worker *w);
/* Before the worker's pool is destroyed: cancels statements in flight. */
void ratelimit_destroy(struct hdf_ratelimit *rl);
/* Admits r (then request_after_auth), or answers 429 (or 503 when the database is unreachable). */
void ratelimit_admit(struct hdf_req *r);
/* The request is going away: leaves any queue or timer it is in. */
void ratelimit_cancel(struct hdf_req *r);
/* RateLimit-Limit, -Remaining and -Reset on r's response (respond.c, for every response). */
void ratelimit_add_headers(struct hdf_req *r);
/* Worker housekeeping tick: gives back unused permits of expired leases, frees idle entries; on
 * worker 0 also ends soft-throttles and purges old bucket rows. */
void ratelimit_tick(struct hdf_worker *w);

#endif
