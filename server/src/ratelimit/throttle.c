/*
 * throttle.c: the process-wide soft-throttle table (see throttle.h): a small chained hash table
 * under one mutex, entries only for workspaces with a recent rejection.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "ratelimit/throttle.h"
#include "common/log.h"
#include "common/metrics.h"

#define THROTTLE_SLOTS 256

struct ws_state {
    struct ws_state *next;
    int64_t workspace_id;
    int64_t over_since;      /* first rejection of the current run of rejections */
    int64_t last_rejection;  /* latest rejection */
    int64_t throttled_since; /* 0: not throttled */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ws_state *slots[THROTTLE_SLOTS];
static int64_t after_ms = 600000, recover_ms = 60000;
static atomic_int_fast64_t active;

static struct ws_state **find(int64_t ws)
{
    struct ws_state **p = &slots[(uint64_t)ws % THROTTLE_SLOTS];
    while (*p != NULL && (*p)->workspace_id != ws)
        p = &(*p)->next;
    return p;
}

void throttle_configure(int64_t after, int64_t recover)
{
    pthread_mutex_lock(&lock);
    after_ms = after;
    recover_ms = recover;
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        while (slots[i] != NULL) {
            struct ws_state *s = slots[i];
            slots[i] = s->next;
            free(s);
        }
    }
    atomic_store(&active, 0);
    atomic_store(&hdf_metrics.rl_throttled_workspaces, 0);
    pthread_mutex_unlock(&lock);
}

static void throttle_end(struct ws_state *s, int64_t now_ms)
{
    log_line(HDF_LOG_INFO, "soft-throttle ended", "\"workspace_id\":%lld,\"throttled_ms\":%lld", (long long)s->workspace_id,
             (long long)(now_ms - s->throttled_since));
    s->throttled_since = 0;
    atomic_fetch_sub(&active, 1);
    metrics_add(&hdf_metrics.rl_throttled_workspaces, -1);
}

void throttle_note_rejection(int64_t ws, int64_t now_ms)
{
    pthread_mutex_lock(&lock);
    struct ws_state **p = find(ws);
    if (*p == NULL && (*p = calloc(1, sizeof(**p))) != NULL) {
        (*p)->workspace_id = ws;
        (*p)->over_since = now_ms;
    }
    struct ws_state *s = *p;
    if (s != NULL) {
        if (now_ms - s->last_rejection > recover_ms) /* it was under its limits in between: a new run */
            s->over_since = now_ms;
        s->last_rejection = now_ms;
        if (s->throttled_since == 0 && now_ms - s->over_since > after_ms) {
            s->throttled_since = now_ms;
            atomic_fetch_add(&active, 1);
            metrics_add(&hdf_metrics.rl_throttled_workspaces, 1);
            metrics_inc(&hdf_metrics.rl_throttle_starts);
            log_line(HDF_LOG_WARN, "soft-throttle started", "\"workspace_id\":%lld,\"over_limits_ms\":%lld", (long long)ws,
                     (long long)(now_ms - s->over_since));
        }
    }
    pthread_mutex_unlock(&lock);
}

int throttle_is_active(int64_t ws, int64_t now_ms)
{
    if (atomic_load_explicit(&active, memory_order_relaxed) == 0)
        return 0;
    pthread_mutex_lock(&lock);
    struct ws_state *s = *find(ws);
    int on = s != NULL && s->throttled_since != 0;
    if (on && now_ms - s->last_rejection > recover_ms) {
        throttle_end(s, now_ms);
        on = 0;
    }
    pthread_mutex_unlock(&lock);
    return on;
}

void throttle_sweep(int64_t now_ms)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        struct ws_state **p = &slots[i];
        while (*p != NULL) {
            struct ws_state *s = *p;
            if (now_ms - s->last_rejection <= recover_ms) {
                p = &s->next;
                continue;
            }
            if (s->throttled_since != 0)
                throttle_end(s, now_ms);
            *p = s->next;
            free(s);
        }
    }
    pthread_mutex_unlock(&lock);
}

int64_t throttle_active_count(void)
{
    return atomic_load(&active);
}
