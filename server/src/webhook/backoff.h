/*
 * backoff.h: when a failed webhook delivery is tried again. Exponential backoff with jitter from
 * a base (HDF_WEBHOOK_BACKOFF_MS, default 1000 ms) up to a cap; at most HDF_WEBHOOK_MAX_ATTEMPTS
 * attempts, after which the delivery is failed for good (the contract). The random source is a
 * parameter so that tests can pin it.
 *
 * After failed attempt n (1-based, n < HDF_WEBHOOK_MAX_ATTEMPTS), with ceil(n) = min(cap, base * 2^(n-1)):
 *   full jitter (default):  delay = uniform integer in [0, ceil(n)]
 *   decorrelated jitter:    delay = uniform integer in [base, min(cap, 3 * max(base, previous delay))]
 *                           (previous delay: the delay before the attempt that failed; 0 for the first)
 * Full jitter spreads retries of many deliveries that failed together (a receiver outage) evenly
 * over the window; decorrelated keeps a floor of base. Both are "Exponential Backoff And Jitter"
 * (Marc Brooker, AWS Architecture Blog, 2015).
 */
#ifndef HDF_WEBHOOK_BACKOFF_H
#define HDF_WEBHOOK_BACKOFF_H

#include <stdint.h>

#define HDF_WEBHOOK_MAX_ATTEMPTS 3
#define HDF_BACKOFF_DEFAULT_BASE_MS 1000
#define HDF_BACKOFF_DEFAULT_CAP_MS (60 * 60 * 1000)

typedef enum hdf_jitter { HDF_JITTER_FULL = 0, HDF_JITTER_DECORRELATED } hdf_jitter_t;

typedef struct hdf_backoff_policy {
    int64_t base_ms; /* >= 1 */
    int64_t cap_ms;  /* >= base_ms */
    hdf_jitter_t jitter;
    int max_attempts; /* >= 1 */
} hdf_backoff_policy_t;

/* 64 uniformly random bits. */
typedef uint64_t (*hdf_random_fn)(void *ctx);
/* The default source: arc4random_buf. ctx is unused. */
uint64_t backoff_random_system(void *ctx);

/* base, HDF_BACKOFF_DEFAULT_CAP_MS (or base, if larger), full jitter, HDF_WEBHOOK_MAX_ATTEMPTS. */
hdf_backoff_policy_t backoff_policy_default(int64_t base_ms);

/* Uniform integer in [lo, hi] (lo <= hi), unbiased (rejection sampling). */
int64_t backoff_uniform(int64_t lo, int64_t hi, hdf_random_fn rnd, void *ctx);
/* ceil(n) above, saturating; n < 1 counts as 1. */
int64_t backoff_ceiling_ms(const hdf_backoff_policy_t *p, int attempt);

typedef enum hdf_backoff_decision { HDF_BACKOFF_RETRY = 0, HDF_BACKOFF_GIVE_UP } hdf_backoff_decision_t;

/* After failed attempt `attempt` (1-based): HDF_BACKOFF_GIVE_UP when attempt >= max_attempts
 * (the delivery is failed), else HDF_BACKOFF_RETRY and *delay_ms. prev_delay_ms is the delay
 * before this attempt (0 for the first attempt); only decorrelated jitter reads it. */
hdf_backoff_decision_t backoff_next(const hdf_backoff_policy_t *p, int attempt, int64_t prev_delay_ms, hdf_random_fn rnd, void *ctx,
                                    int64_t *delay_ms);

#endif
