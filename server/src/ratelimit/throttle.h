/*
 * throttle.h: soft-throttle state, shared by all threads of one process. A workspace is "over its
 * limits" from a rate-limit rejection until recover_ms pass without another; once it has been
 * over continuously for more than after_ms it is throttled (its requests are delayed, see
 * limiter.c), and the throttle ends when it has stayed under its limits (no rejection) for
 * recover_ms.
 *
 * Why per process and a mutex: only rejections write (they are already the slow, rare path for a
 * well-behaved workspace), and the request path reads an atomic count first, so while no
 * workspace is throttled a request never takes the lock. Each process decides on its own: a
 * workspace hammering two processes is throttled by each, which is what delaying its responses
 * needs, and no database round trip is spent on it. Pure (no h2o, no libpq); times are given.
 */
#ifndef HDF_RATELIMIT_THROTTLE_H
#define HDF_RATELIMIT_THROTTLE_H

#include <stdint.h>

/* Sets the thresholds (process start; tests call it again) and forgets every workspace. */
void throttle_configure(int64_t after_ms, int64_t recover_ms);
/* Records a rejection for workspace_id at now_ms; starts its throttle when due (logged, counted). */
void throttle_note_rejection(int64_t workspace_id, int64_t now_ms);
/* Whether workspace_id is throttled at now_ms; lock-free while no workspace is. */
int throttle_is_active(int64_t workspace_id, int64_t now_ms);
/* Ends throttles whose workspace stayed under its limits for recover_ms and forgets workspaces
 * that have been quiet as long (run from a housekeeping tick). */
void throttle_sweep(int64_t now_ms);
/* Workspaces throttled right now (the /metrics gauge). */
int64_t throttle_active_count(void);

#endif
