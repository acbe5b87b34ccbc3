/*
 * limiter.c: permit leases, the per-thread table of (key, category) entries, 429 answers, the
 * soft-throttle delay and the rate-limit housekeeping (see limiter.h).
 *
 * Times: local decisions use the monotonic clock (ms); the shared budget uses the database's
 * clock, which every process agrees on. A lease's answer says where the database was in its
 * bucket; mapping that onto the monotonic clock with the send time makes the lease end early
 * (never spending a permit after its bucket ended), and with the receive time makes Reset and
 * Retry-After late (a retry after them finds room).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "ratelimit/limiter.h"
#include "ratelimit/throttle.h"
#include "ratelimit/window.h"
#include "http/request.h"
#include "http/respond.h"
#include "common/log.h"
#include "common/metrics.h"
#include "db/chore.h"
#include "db/sqlstate.h"

#define RL_LEASE_MS 1000       /* a lease's longest life: limit changes apply within ~1 s, idle permits return */
#define RL_BATCH_DIVISOR 20    /* a lease asks for limit/20 permits (1 for small limits) ... */
#define RL_BATCH_MAX 1000      /* ... and never more than this */
#define RL_IDLE_FREE_MS 5000   /* an entry unused this long is freed */
#define RL_SWEEP_EVERY_MS 250  /* expired leases give back their permits within this */
#define RL_PURGE_EVERY_MS 5000 /* hdf_rate_purge deletes up to 10,000 old rows a run */
#define RL_DENY_MIN_MS 250     /* a full window is asked about again at most this often per thread */
#define RL_INITIAL_SLOTS 256

struct rl_entry {
    struct rl_entry *next; /* hash chain */
    struct hdf_ratelimit *rl;
    int64_t key_id, workspace_id;
    enum hdf_rl_category category;
    h2o_linklist_t queue; /* requests waiting for the lease in flight */
    hdf_db_waiter_t db;
    int busy; /* a lease statement is in flight */
    /* the lease: limit 0 until the first answer */
    int64_t limit, window_ms, bucket;
    int64_t permits;         /* leased, not spent */
    int64_t expires_ms;      /* monotonic */
    int64_t denied_until_ms; /* the window was full: refuse without asking until then */
    int64_t offset_ms;       /* database ms - monotonic ms, as of the answer's arrival */
    struct hdf_window view;  /* the key's window (database time), our unspent permits left out */
    /* the statement in flight */
    int64_t want, sent_ms, ret_n, ret_window_ms, ret_bucket;
    int64_t last_used_ms;
};

struct hdf_ratelimit {
    struct hdf_worker *worker;
    struct rl_entry **slots;
    size_t nslots, count;
    h2o_timeout_t delay_timeout; /* HDF_SOFT_THROTTLE_DELAY_MS */
    struct hdf_db_chore purge;   /* old bucket rows (worker 0) */
    int64_t next_sweep_ms, next_purge_ms;
};

static int64_t mono_ms(void)
{
    return time_mono_ns() / 1000000;
}

/* ---- the table ---- */

static size_t slot_of(const struct hdf_ratelimit *rl, int64_t key_id, enum hdf_rl_category c)
{
    uint64_t h = ((uint64_t)key_id * HDF_RL__COUNT + (uint64_t)c) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) % rl->nslots;
}

static void table_grow(struct hdf_ratelimit *rl)
{
    size_t old = rl->nslots;
    struct rl_entry **slots = rl->slots;
    rl->nslots = old * 2;
    rl->slots = calloc(rl->nslots, sizeof(*rl->slots));
    if (rl->slots == NULL)
        abort();
    for (size_t i = 0; i < old; i++) {
        while (slots[i] != NULL) {
            struct rl_entry *e = slots[i];
            slots[i] = e->next;
            size_t s = slot_of(rl, e->key_id, e->category);
            e->next = rl->slots[s];
            rl->slots[s] = e;
        }
    }
    free(slots);
}

static struct rl_entry *entry_get(struct hdf_ratelimit *rl, const struct hdf_req *r, enum hdf_rl_category c)
{
    struct rl_entry **p = &rl->slots[slot_of(rl, r->auth.key_id, c)];
    for (; *p != NULL; p = &(*p)->next)
        if ((*p)->key_id == r->auth.key_id && (*p)->category == c)
            return *p;
    struct rl_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    e->rl = rl;
    e->key_id = r->auth.key_id;
    e->workspace_id = r->auth.workspace_id;
    e->category = c;
    h2o_linklist_init_anchor(&e->queue);
    *p = e;
    if (++rl->count > rl->nslots * 2)
        table_grow(rl);
    return e;
}

struct hdf_ratelimit *ratelimit_create(struct hdf_worker *w)
{
    struct hdf_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL || (rl->slots = calloc(RL_INITIAL_SLOTS, sizeof(*rl->slots))) == NULL)
        abort();
    rl->worker = w;
    rl->nslots = RL_INITIAL_SLOTS;
    h2o_timeout_init(w->loop, &rl->delay_timeout, (uint64_t)w->cfg->soft_throttle_delay_ms);
    if (w->index == 0)
        throttle_configure((int64_t)w->cfg->soft_throttle_after_s * 1000, (int64_t)w->cfg->soft_throttle_recover_s * 1000);
    return rl;
}

static void entry_free(struct rl_entry *e)
{
    if (e->busy)
        db_cancel(&e->db);
    while (!h2o_linklist_is_empty(&e->queue)) { /* abandoned requests of a stopping worker */
        struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, rl.link, e->queue.next);
        h2o_linklist_unlink(&r->rl.link);
        r->rl.entry = NULL;
    }
    free(e);
}

void ratelimit_destroy(struct hdf_ratelimit *rl)
{
    db_chore_cancel(&rl->purge);
    for (size_t i = 0; i < rl->nslots; i++) {
        while (rl->slots[i] != NULL) {
            struct rl_entry *e = rl->slots[i];
            rl->slots[i] = e->next;
            entry_free(e);
        }
    }
    free(rl->slots);
    free(rl);
}

/* ---- answers ---- */

static int64_t batch_of(int64_t limit)
{
    int64_t b = limit / RL_BATCH_DIVISOR;
    return b < 1 ? 1 : b > RL_BATCH_MAX ? RL_BATCH_MAX : b;
}

/* The entry's window as of now (database time, estimated late). */
static void view_now(struct rl_entry *e, int64_t now)
{
    window_advance(&e->view, now + e->offset_ms);
}

static void set_headers(struct rl_entry *e, struct hdf_req *r, int64_t remaining)
{
    r->rl.has_headers = 1;
    r->rl.limit = e->limit;
    r->rl.remaining = remaining;
    r->rl.reset_s = remaining > 0 ? 0 : window_seconds_ceil(window_ms_until_room(&e->view, e->limit));
    if (remaining == 0 && r->rl.reset_s < 1)
        r->rl.reset_s = 1;
}

/* Takes one leased permit for r and lets it through. */
static void spend(struct rl_entry *e, struct hdf_req *r, int64_t now)
{
    e->permits--;
    view_now(e, now);
    e->view.curr++;
    set_headers(e, r, window_available(&e->view, e->limit));
    request_after_auth(r);
}

static void reject(struct rl_entry *e, struct hdf_req *r, int64_t now)
{
    view_now(e, now);
    set_headers(e, r, 0);
    char retry[24];
    snprintf(retry, sizeof(retry), "%" PRId64, r->rl.reset_s);
    respond_add_header(r, "Retry-After", retry);
    metrics_inc(&hdf_metrics.rl_rejections[e->category]);
    throttle_note_rejection(e->workspace_id, now);
    respond_problem_fmt(r, HDF_E_RATE_LIMITED,
                        "this key may make %" PRId64 " %s requests per %" PRId64 " s; retry after %" PRId64 " s", e->limit,
                        hdf_rl_category_names[e->category], e->window_ms / 1000, r->rl.reset_s);
}

/* The window is full: refuse locally until it has room, but ask again within RL_LEASE_MS so a
 * raised limit or permits given back elsewhere are seen. Not sooner than RL_DENY_MIN_MS: in the
 * bucket after a full one, room for one request opens every W/limit ms, and asking each time would
 * cost a lease statement per request of a key that stays over its limit. Retry-After (whole
 * seconds, rounded up) is never shorter than this wait. */
static void deny(struct rl_entry *e, int64_t now)
{
    view_now(e, now);
    int64_t until = window_ms_until_room(&e->view, e->limit);
    e->denied_until_ms = now + (until < RL_DENY_MIN_MS ? RL_DENY_MIN_MS : until > RL_LEASE_MS ? RL_LEASE_MS : until);
}

static int lease_live(const struct rl_entry *e, int64_t now)
{
    return e->limit > 0 && now < e->expires_ms;
}

/* ---- leases ---- */

static void on_lease_result(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err);

static void on_lease_conn(hdf_db_waiter_t *w, hdf_error_t err)
{
    struct rl_entry *e = H2O_STRUCT_FROM_MEMBER(struct rl_entry, db, w);
    if (err != HDF_OK) {
        on_lease_result(w, NULL, err);
        return;
    }
    const struct hdf_rate_limit *dflt = &e->rl->worker->cfg->rate_limits[e->category];
    char key[24], ws[24], lim[24], win[24], want[24], rwin[24], rbucket[24], rn[24];
    snprintf(key, sizeof(key), "%" PRId64, e->key_id);
    snprintf(ws, sizeof(ws), "%" PRId64, e->workspace_id);
    snprintf(lim, sizeof(lim), "%" PRId64, dflt->limit);
    snprintf(win, sizeof(win), "%" PRId64, dflt->window_s * 1000);
    snprintf(want, sizeof(want), "%" PRId64, e->want);
    snprintf(rwin, sizeof(rwin), "%" PRId64, e->ret_window_ms);
    snprintf(rbucket, sizeof(rbucket), "%" PRId64, e->ret_bucket);
    snprintf(rn, sizeof(rn), "%" PRId64, e->ret_n);
    const char *params[] = {key, ws, hdf_rl_category_names[e->category], lim, win, want, rwin, rbucket, rn};
    db_query(w, HDF_STMT_RATE_LEASE, params, NULL, on_lease_result);
}

/* Sends one statement: gives back the unusable permits of an expired lease and asks for want
 * (0: only give back). */
static void lease_send(struct rl_entry *e, int64_t want, int64_t now, int idle_only)
{
    e->want = want;
    e->ret_n = e->permits;
    e->ret_window_ms = e->window_ms;
    e->ret_bucket = e->bucket;
    e->permits = 0;
    e->busy = 1;
    e->sent_ms = now;
    if (idle_only) {
        if (db_pool_acquire_idle(e->rl->worker->db, &e->db, on_lease_conn) != 0) {
            e->permits = e->ret_n; /* housekeeping never queues behind requests: next sweep */
            e->busy = 0;
            return;
        }
    } else { /* requests wait on it: ahead of them in the pool's queue */
        db_pool_acquire_first(e->rl->worker->db, &e->db, on_lease_conn);
    }
    metrics_inc(&hdf_metrics.rl_lease_statements);
}

static size_t queue_length(struct rl_entry *e)
{
    size_t n = 0;
    for (h2o_linklist_t *l = e->queue.next; l != &e->queue; l = l->next)
        n++;
    return n;
}

static void lease_for_queue(struct rl_entry *e, int64_t now)
{
    int64_t limit = e->limit > 0 ? e->limit : e->rl->worker->cfg->rate_limits[e->category].limit;
    int64_t want = batch_of(limit), queued = (int64_t)queue_length(e);
    lease_send(e, want > queued ? want : queued, now, 0);
}

static struct hdf_req *queue_pop(struct rl_entry *e)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, rl.link, e->queue.next);
    h2o_linklist_unlink(&r->rl.link);
    r->rl.entry = NULL;
    return r;
}

/* Serves the waiting requests from the lease just answered: permits first; when the window ran
 * out (granted < wanted), the rest are refused; otherwise (more arrived than were asked for, or
 * the lease ended in flight) another lease is sent for them. */
static void queue_drain(struct rl_entry *e, int exhausted)
{
    int64_t now = mono_ms();
    while (!h2o_linklist_is_empty(&e->queue)) {
        if (e->permits > 0 && lease_live(e, now)) {
            spend(e, queue_pop(e), now);
        } else if (exhausted && lease_live(e, now)) {
            reject(e, queue_pop(e), now);
        } else {
            lease_for_queue(e, now);
            return;
        }
    }
}

static void queue_fail(struct rl_entry *e, hdf_error_t err)
{
    while (!h2o_linklist_is_empty(&e->queue))
        respond_problem(queue_pop(e), err, err == HDF_E_UNAVAILABLE ? "the database is unavailable; retry shortly" : NULL, NULL);
}

static int64_t col(PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? 0 : strtoll(PQgetvalue(res, 0, c), NULL, 10);
}

/* Takes in a lease's answer: limit, window, bucket, elapsed, prev, curr (after it), granted. */
static void lease_load(struct rl_entry *e, PGresult *res, int64_t now)
{
    e->limit = col(res, 0);
    e->window_ms = col(res, 1);
    e->bucket = col(res, 2);
    int64_t db_ms = e->bucket * e->window_ms + col(res, 3);
    e->permits = col(res, 6);
    e->offset_ms = db_ms - now;
    int64_t bucket_end = (e->bucket + 1) * e->window_ms - (db_ms - e->sent_ms); /* monotonic, early */
    e->expires_ms = now + RL_LEASE_MS < bucket_end ? now + RL_LEASE_MS : bucket_end;
    window_load(&e->view, e->window_ms, e->bucket, col(res, 4), col(res, 5) - e->permits, db_ms);
}

static void on_lease_result(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct rl_entry *e = H2O_STRUCT_FROM_MEMBER(struct rl_entry, db, w);
    e->busy = 0;
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err == HDF_OK && PQntuples(res) != 1)
        err = HDF_E_INTERNAL;
    if (err != HDF_OK) {
        if (err == HDF_E_INTERNAL)
            db_log_error("rate_lease", res);
        db_release(w);
        queue_fail(e, err);
        return;
    }
    int64_t now = mono_ms();
    int exhausted = 0;
    if (e->want > 0) {
        lease_load(e, res, now);
        exhausted = e->permits < e->want;
        if (exhausted)
            deny(e, now);
    }
    db_release(w);
    queue_drain(e, exhausted);
}

/* ---- the pipeline stage ---- */

static void admit_now(struct hdf_req *r)
{
    struct rl_entry *e = entry_get(r->worker->ratelimit, r, r->rl.category);
    int64_t now = mono_ms();
    e->last_used_ms = now;
    if (!e->busy && e->permits > 0 && lease_live(e, now)) {
        spend(e, r, now);
        return;
    }
    if (!e->busy && now < e->denied_until_ms) {
        reject(e, r, now);
        return;
    }
    h2o_linklist_insert(&e->queue, &r->rl.link);
    r->rl.entry = e;
    if (!e->busy)
        lease_for_queue(e, now);
}

static void on_delay_done(h2o_timeout_entry_t *t)
{
    admit_now(H2O_STRUCT_FROM_MEMBER(struct hdf_req, rl.delay, t));
}

void ratelimit_admit(struct hdf_req *r)
{
    const struct hdf_config *cfg = r->worker->cfg;
    r->rl.category = ratelimit_category_of(r->match.route, r->method);
    if (cfg->rate_limits[r->rl.category].limit == 0) { /* off */
        request_after_auth(r);
        return;
    }
    if (cfg->soft_throttle_delay_ms > 0 && throttle_is_active(r->auth.workspace_id, mono_ms())) {
        metrics_inc(&hdf_metrics.rl_throttled_requests);
        r->rl.delay.cb = on_delay_done;
        h2o_timeout_link(r->worker->loop, &r->worker->ratelimit->delay_timeout, &r->rl.delay);
        return;
    }
    admit_now(r);
}

void ratelimit_cancel(struct hdf_req *r)
{
    if (h2o_linklist_is_linked(&r->rl.link))
        h2o_linklist_unlink(&r->rl.link);
    r->rl.entry = NULL;
    if (h2o_timeout_is_linked(&r->rl.delay))
        h2o_timeout_unlink(&r->rl.delay);
}

void ratelimit_add_headers(struct hdf_req *r)
{
    if (!r->rl.has_headers)
        return;
    char v[24];
    snprintf(v, sizeof(v), "%" PRId64, r->rl.limit);
    respond_add_header(r, "RateLimit-Limit", v);
    snprintf(v, sizeof(v), "%" PRId64, r->rl.remaining);
    respond_add_header(r, "RateLimit-Remaining", v);
    snprintf(v, sizeof(v), "%" PRId64, r->rl.reset_s);
    respond_add_header(r, "RateLimit-Reset", v);
}

/* ---- housekeeping ---- */

/* Gives back the permits of an expired lease, or frees an entry nobody used for a while. Returns
 * 1 when e was freed. */
static int entry_sweep(struct rl_entry *e, int64_t now)
{
    if (e->busy || !h2o_linklist_is_empty(&e->queue))
        return 0;
    if (e->permits > 0 && !lease_live(e, now)) {
        lease_send(e, 0, now, 1);
        return 0;
    }
    if (e->permits > 0 || now - e->last_used_ms < RL_IDLE_FREE_MS || now < e->denied_until_ms)
        return 0;
    free(e);
    return 1;
}

static void purge_old_buckets(struct hdf_ratelimit *rl, int64_t now)
{
    if (now < rl->next_purge_ms)
        return;
    rl->purge.stmt = HDF_STMT_RATE_PURGE;
    if (db_chore_run(rl->worker->db, &rl->purge) == 0) /* else every connection is busy: next tick */
        rl->next_purge_ms = now + RL_PURGE_EVERY_MS;
}

void ratelimit_tick(struct hdf_worker *w)
{
    struct hdf_ratelimit *rl = w->ratelimit;
    int64_t now = mono_ms();
    if (now < rl->next_sweep_ms)
        return;
    rl->next_sweep_ms = now + RL_SWEEP_EVERY_MS;
    for (size_t i = 0; i < rl->nslots; i++) {
        struct rl_entry **p = &rl->slots[i];
        while (*p != NULL) {
            struct rl_entry *e = *p, *next = e->next;
            if (entry_sweep(e, now)) {
                *p = next;
                rl->count--;
            } else {
                p = &e->next;
            }
        }
    }
    if (w->index == 0 && !w->stopping) {
        throttle_sweep(now);
        purge_old_buckets(rl, now);
    }
}
