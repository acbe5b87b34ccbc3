/*
 * backoff.c: the retry schedule of webhook deliveries (see backoff.h for the formulas).
 */
#include <stdlib.h>
#include "webhook/backoff.h"

uint64_t backoff_random_system(void *ctx)
{
    (void)ctx;
    uint64_t v;
    arc4random_buf(&v, sizeof(v));
    return v;
}

hdf_backoff_policy_t backoff_policy_default(int64_t base_ms)
{
    hdf_backoff_policy_t p = {base_ms, HDF_BACKOFF_DEFAULT_CAP_MS, HDF_JITTER_FULL, HDF_WEBHOOK_MAX_ATTEMPTS};
    if (p.cap_ms < base_ms)
        p.cap_ms = base_ms;
    return p;
}

int64_t backoff_uniform(int64_t lo, int64_t hi, hdf_random_fn rnd, void *ctx)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* hi - lo < 2^63: no wrap to 0 */
    /* 2^64 mod span values at the top would favour small results: draw again when one comes */
    uint64_t excess = (UINT64_MAX % span + 1) % span;
    uint64_t v;
    do {
        v = rnd(ctx);
    } while (excess != 0 && v > UINT64_MAX - excess);
    return lo + (int64_t)(v % span);
}

int64_t backoff_ceiling_ms(const hdf_backoff_policy_t *p, int attempt)
{
    int64_t c = p->base_ms;
    for (int i = 1; i < attempt && c < p->cap_ms; i++)
        c = c > INT64_MAX / 2 ? INT64_MAX : c * 2;
    return c < p->cap_ms ? c : p->cap_ms;
}

hdf_backoff_decision_t backoff_next(const hdf_backoff_policy_t *p, int attempt, int64_t prev_delay_ms, hdf_random_fn rnd, void *ctx,
                                    int64_t *delay_ms)
{
    if (attempt >= p->max_attempts)
        return HDF_BACKOFF_GIVE_UP;
    if (p->jitter == HDF_JITTER_DECORRELATED) {
        int64_t prev = prev_delay_ms > p->base_ms ? prev_delay_ms : p->base_ms;
        int64_t hi = prev > p->cap_ms / 3 ? p->cap_ms : prev * 3; /* 3 * prev > cap: the cap bounds it anyway */
        if (hi < p->base_ms)
            hi = p->base_ms;
        *delay_ms = backoff_uniform(p->base_ms, hi, rnd, ctx);
    } else {
        *delay_ms = backoff_uniform(0, backoff_ceiling_ms(p, attempt), rnd, ctx);
    }
    return HDF_BACKOFF_RETRY;
}
