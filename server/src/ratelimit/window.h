/*
 * window.h: the sliding-window arithmetic of the rate limiter, pure (no h2o, no libpq, no clock
 * of its own: every call is given the time), so the unit tests can drive it through boundaries,
 * clock steps and long idle periods.
 *
 * The window is the two-bucket weighted counter: time is cut into buckets one window long
 * (bucket k covers [k*W, (k+1)*W) ms); at elapsed time e into the current bucket the number of
 * requests in the last W is estimated as
 *     prev * (W - e) / W + curr
 * and a request is admitted while the estimate stays at or below the limit. The same formula,
 * in the same integer form, runs in Postgres (hdf_rate_lease in migrations/0005_rate_limits.sql):
 *     available = floor((limit * W - prev * (W - e)) / W) - curr
 * Times never go back: a clock that steps backwards is held at the latest time seen, so it can
 * only delay admissions, never grant a burst.
 */
#ifndef HDF_RATELIMIT_WINDOW_H
#define HDF_RATELIMIT_WINDOW_H

#include <stdint.h>

struct hdf_window {
    int64_t window_ms;
    int64_t bucket;     /* index of the current bucket */
    int64_t prev, curr; /* admissions counted in the previous and the current bucket */
    int64_t now_ms;     /* latest time seen (never decreases) */
};

/* An empty window of window_ms (>= 1) at time now_ms. */
void window_init(struct hdf_window *w, int64_t window_ms, int64_t now_ms);
/* Loads a window's counts as seen at now_ms, when now_ms lies in bucket `bucket`. */
void window_load(struct hdf_window *w, int64_t window_ms, int64_t bucket, int64_t prev, int64_t curr, int64_t now_ms);
/* Moves the window to now_ms (earlier times are ignored), rolling buckets over. */
void window_advance(struct hdf_window *w, int64_t now_ms);
/* How many more requests the window admits now (0 when full; never negative). */
int64_t window_available(const struct hdf_window *w, int64_t limit);
/* Advances to now_ms and admits up to want requests; returns how many were admitted. */
int64_t window_take(struct hdf_window *w, int64_t limit, int64_t want, int64_t now_ms);
/* Milliseconds from the window's time until it admits one more request, assuming no other
 * admissions: 0 when it has room now. limit must be >= 1. */
int64_t window_ms_until_room(const struct hdf_window *w, int64_t limit);
/* Whole seconds, rounded up (what Retry-After and RateLimit-Reset carry). */
int64_t window_seconds_ceil(int64_t ms);
/* floor(a / b) for b > 0, also for negative a. */
int64_t window_floor_div(int64_t a, int64_t b);

#endif
