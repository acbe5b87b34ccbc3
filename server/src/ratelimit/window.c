/*
 * window.c: two-bucket sliding-window arithmetic (see window.h). Integer only, so this file, the
 * SQL lease function and the unit tests agree to the millisecond and the request.
 */
#include "ratelimit/window.h"

int64_t window_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

void window_init(struct hdf_window *w, int64_t window_ms, int64_t now_ms)
{
    window_load(w, window_ms, window_floor_div(now_ms, window_ms > 0 ? window_ms : 1), 0, 0, now_ms);
}

void window_load(struct hdf_window *w, int64_t window_ms, int64_t bucket, int64_t prev, int64_t curr, int64_t now_ms)
{
    w->window_ms = window_ms > 0 ? window_ms : 1;
    w->bucket = bucket;
    w->prev = prev > 0 ? prev : 0;
    w->curr = curr > 0 ? curr : 0;
    w->now_ms = now_ms;
}

void window_advance(struct hdf_window *w, int64_t now_ms)
{
    if (now_ms <= w->now_ms)
        return; /* a clock going backwards holds the window where it was */
    w->now_ms = now_ms;
    int64_t b = window_floor_div(now_ms, w->window_ms);
    if (b == w->bucket + 1) {
        w->prev = w->curr;
        w->curr = 0;
    } else if (b > w->bucket + 1) { /* idle for a whole window or more: nothing is left */
        w->prev = 0;
        w->curr = 0;
    }
    if (b > w->bucket)
        w->bucket = b;
}

/* Elapsed time into the current bucket, in [0, W). */
static int64_t elapsed(const struct hdf_window *w)
{
    int64_t e = w->now_ms - w->bucket * w->window_ms;
    return e < 0 ? 0 : e >= w->window_ms ? w->window_ms - 1 : e;
}

int64_t window_available(const struct hdf_window *w, int64_t limit)
{
    int64_t W = w->window_ms;
    int64_t a = window_floor_div(limit * W - w->prev * (W - elapsed(w)), W) - w->curr;
    return a > 0 ? a : 0;
}

int64_t window_take(struct hdf_window *w, int64_t limit, int64_t want, int64_t now_ms)
{
    window_advance(w, now_ms);
    int64_t a = window_available(w, limit);
    int64_t n = want < a ? want : a;
    if (n < 0)
        n = 0;
    w->curr += n;
    return n;
}

/* The smallest elapsed time e' >= e in a bucket with counts prev, curr at which one more request
 * fits: prev * (W - e') <= (limit - curr - 1) * W. Returns -1 when it never fits in this bucket. */
static int64_t first_fit(int64_t limit, int64_t W, int64_t prev, int64_t curr, int64_t e)
{
    int64_t room = limit - curr - 1;
    if (room < 0)
        return -1;
    if (prev == 0)
        return e;
    int64_t need = W - window_floor_div(room * W, prev);
    return need > e ? need : e;
}

int64_t window_ms_until_room(const struct hdf_window *w, int64_t limit)
{
    int64_t W = w->window_ms, e = elapsed(w);
    int64_t at = first_fit(limit, W, w->prev, w->curr, e);
    if (at >= 0 && at < W)
        return at - e;
    /* next bucket: curr becomes prev and decays from there (first_fit <= W when limit >= 1) */
    at = first_fit(limit, W, w->curr, 0, 0);
    return (W - e) + (at >= 0 ? at : W);
}

int64_t window_seconds_ceil(int64_t ms)
{
    return ms <= 0 ? 0 : (ms + 999) / 1000;
}
