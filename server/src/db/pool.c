/*
 * pool.c: asynchronous libpq on the worker's event loop (see pool.h for the model).
 *
 * libpq's socket is registered with the loop as a dup() so that closing the loop's socket never
 * closes libpq's. While connecting, libpq may replace its socket (one address after another), so
 * the loop's socket is rebuilt after every PQconnectPoll step.
 */
#include <stdatomic.h>
#include <unistd.h>
#include "db/pool.h"
#include "common/log.h"
#include "common/metrics.h"

#define POOL_BACKOFF_MIN_MS 100
#define POOL_BACKOFF_MAX_MS 2000
#define POOL_WAIT_MAX_MS 5000

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_SETUP, CONN_IDLE, CONN_BUSY, CONN_RESETTING };

struct hdf_db_conn {
    hdf_db_pool_t *pool;
    PGconn *pg;
    h2o_socket_t *sock;
    enum conn_state state;
    int setup_step; /* -1: session setup; i: preparing statement i */
    unsigned char prepared[HDF_STMT__COUNT];
    hdf_db_waiter_t *waiter;
    int in_query;
    int pipeline_left; /* in pipeline mode: statements whose results are still to come */
    PGresult *result;
    uint64_t retry_at;
    uint32_t backoff_ms;
    h2o_linklist_t idle_link;
};

/* Bumped when a connection succeeds after failures: the database is back, so every pool (all
 * threads) retries its down connections on its next tick instead of sitting out its backoff. */
static atomic_uint_fast64_t recovered_generation;

struct hdf_db_pool {
    uint64_t seen_generation;
    h2o_loop_t *loop;
    const struct hdf_config *cfg;
    size_t nconns, connected;
    hdf_db_conn_t *conns;
    h2o_linklist_t idle, waiting;
    size_t nwaiting;
};

static void conn_start(hdf_db_conn_t *c);
static void conn_fail(hdf_db_conn_t *c, const char *why);
static void conn_make_available(hdf_db_conn_t *c);
static void on_readable(h2o_socket_t *sock, const char *err);
static void on_writable(h2o_socket_t *sock, const char *err);

static void set_waiting(hdf_db_pool_t *p, size_t n)
{
    metrics_add(&hdf_metrics.db_waiting, (int64_t)n - (int64_t)p->nwaiting);
    p->nwaiting = n;
}

static void close_socket(hdf_db_conn_t *c)
{
    if (c->sock != NULL) {
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
}

/* (Re)registers a dup of libpq's socket with the loop. */
static int open_socket(hdf_db_conn_t *c)
{
    close_socket(c);
    int fd = dup(PQsocket(c->pg));
    if (fd < 0)
        return -1;
    c->sock = h2o_evloop_socket_create(c->pool->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->data = c;
    return 0;
}

static void wait_for(hdf_db_conn_t *c, int writable)
{
    if (writable) {
        h2o_socket_read_stop(c->sock);
        h2o_socket_notify_write(c->sock, on_writable);
    } else {
        h2o_socket_read_start(c->sock, on_readable);
    }
}

static int pool_connecting(const hdf_db_pool_t *p)
{
    for (size_t i = 0; i < p->nconns; i++)
        if (p->conns[i].state == CONN_CONNECTING || p->conns[i].state == CONN_SETUP)
            return 1;
    return 0;
}

static void fail_waiters(hdf_db_pool_t *p)
{
    while (!h2o_linklist_is_empty(&p->waiting)) {
        hdf_db_waiter_t *w = H2O_STRUCT_FROM_MEMBER(hdf_db_waiter_t, link, p->waiting.next);
        h2o_linklist_unlink(&w->link);
        set_waiting(p, p->nwaiting - 1);
        w->on_acquire(w, HDF_E_UNAVAILABLE);
    }
}

static void lend(hdf_db_conn_t *c, hdf_db_waiter_t *w)
{
    c->state = CONN_BUSY;
    c->waiter = w;
    w->conn = c;
    metrics_add(&hdf_metrics.db_in_use, 1);
}

static void conn_make_available(hdf_db_conn_t *c)
{
    hdf_db_pool_t *p = c->pool;
    if (!h2o_linklist_is_empty(&p->waiting)) {
        hdf_db_waiter_t *w = H2O_STRUCT_FROM_MEMBER(hdf_db_waiter_t, link, p->waiting.next);
        h2o_linklist_unlink(&w->link);
        set_waiting(p, p->nwaiting - 1);
        lend(c, w);
        w->on_acquire(w, HDF_OK);
        return;
    }
    c->state = CONN_IDLE;
    h2o_linklist_insert(&p->idle, &c->idle_link);
}

static void conn_send_failed(hdf_db_conn_t *c)
{
    conn_fail(c, PQerrorMessage(c->pg));
}

static void conn_flush(hdf_db_conn_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0)
        conn_send_failed(c);
    else if (r > 0)
        h2o_socket_notify_write(c->sock, on_writable);
}

static void setup_next(hdf_db_conn_t *c, PGresult *res)
{
    if (c->setup_step < 0) {
        if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
            conn_fail(c, res != NULL ? PQresultErrorMessage(res) : "no result for session setup");
            return;
        }
        if (strcmp(PQgetvalue(res, 0, 4), "not-member") == 0)
            log_line(HDF_LOG_WARN, "database login is not a member of hdf_server: serving with its own privileges",
                     "\"see\":\"docs/security.md\"");
    } else {
        /* A statement may not prepare before migrations ran; it is then sent unprepared. */
        c->prepared[c->setup_step] = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    }
    if (++c->setup_step == HDF_STMT__COUNT) {
        c->pool->connected++;
        metrics_add(&hdf_metrics.db_conns_connected, 1);
        if (c->backoff_ms != 0)
            atomic_fetch_add(&recovered_generation, 1);
        c->backoff_ms = 0;
        conn_make_available(c);
        return;
    }
    const struct hdf_statement *s = &hdf_statements[c->setup_step];
    if (!PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL)) {
        conn_send_failed(c);
        return;
    }
    c->in_query = 1;
    conn_flush(c);
}

static void conn_connected(hdf_db_conn_t *c)
{
    c->state = CONN_SETUP;
    c->setup_step = -1;
    if (open_socket(c) != 0 || PQsetnonblocking(c->pg, 1) != 0 || !PQsendQuery(c->pg, hdf_session_setup_sql)) {
        conn_fail(c, "session setup could not be sent");
        return;
    }
    c->in_query = 1;
    wait_for(c, 0);
    conn_flush(c);
}

static void conn_poll(hdf_db_conn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    if (st == PGRES_POLLING_OK) {
        conn_connected(c);
        return;
    }
    if (st == PGRES_POLLING_FAILED) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    if (open_socket(c) != 0) {
        conn_fail(c, "dup() of the database socket failed");
        return;
    }
    wait_for(c, st == PGRES_POLLING_WRITING);
}

/* A connection back from its waiter: roll back a transaction it left open, then lend it again. */
static void conn_recycle(hdf_db_conn_t *c)
{
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
        conn_make_available(c);
        return;
    }
    c->state = CONN_RESETTING;
    if (!PQsendQuery(c->pg, "ROLLBACK")) {
        conn_send_failed(c);
        return;
    }
    c->in_query = 1;
    conn_flush(c);
}

/* Called when the command in flight has all its results. */
static void command_done(hdf_db_conn_t *c)
{
    PGresult *res = c->result;
    c->result = NULL;
    switch (c->state) {
    case CONN_SETUP:
        setup_next(c, res);
        break;
    case CONN_BUSY:
        if (c->waiter != NULL && c->waiter->on_result != NULL) {
            hdf_db_waiter_t *w = c->waiter;
            hdf_db_result_cb cb = w->on_result;
            w->on_result = NULL;
            cb(w, res, HDF_OK);
        } else if (c->waiter == NULL) {
            conn_recycle(c); /* its request went away mid-query */
        }
        break;
    case CONN_RESETTING:
        conn_make_available(c);
        break;
    default:
        break;
    }
    PQclear(res);
}

/* Keeps the result a command's callback gets: outside a pipeline the first (a multi-statement
 * simple query answers several), in a pipeline the last; an error always wins over success. */
static void keep_result(hdf_db_conn_t *c, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    int kept_failed = c->result != NULL && PQresultStatus(c->result) == PGRES_FATAL_ERROR;
    int in_pipeline = PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF;
    if (c->result == NULL || (!kept_failed && (st == PGRES_FATAL_ERROR || (in_pipeline && st != PGRES_PIPELINE_ABORTED)))) {
        PQclear(c->result);
        c->result = r;
    } else {
        PQclear(r);
    }
}

/* In pipeline mode a NULL ends one statement's results and the sync point ends the command.
 * Returns 1 when it dealt with r. */
static int pipeline_step(hdf_db_conn_t *c, PGresult *r)
{
    if (r == NULL) {
        if (c->pipeline_left == 0) { /* results ended without the sync point: the protocol is lost */
            conn_fail(c, "pipeline ended without its sync point");
            return 1;
        }
        c->pipeline_left--;
        return 1;
    }
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        return 0;
    PQclear(r);
    if (!PQexitPipelineMode(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return 1;
    }
    c->in_query = 0;
    command_done(c); /* may start the next command on this connection */
    return 1;
}

static void conn_consume(hdf_db_conn_t *c)
{
    if (!PQconsumeInput(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    while (c->in_query && c->pg != NULL && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF && pipeline_step(c, r))
            continue;
        if (r == NULL) {
            c->in_query = 0;
            command_done(c); /* may start the next command on this connection */
            continue;
        }
        keep_result(c, r);
    }
    PGnotify *n;
    while (c->pg != NULL && (n = PQnotifies(c->pg)) != NULL)
        PQfreemem(n);
}

static void on_readable(h2o_socket_t *sock, const char *err)
{
    hdf_db_conn_t *c = sock->data;
    (void)err; /* libpq reports the same failure with a better message */
    if (c->state == CONN_CONNECTING)
        conn_poll(c);
    else
        conn_consume(c);
}

static void on_writable(h2o_socket_t *sock, const char *err)
{
    hdf_db_conn_t *c = sock->data;
    (void)err;
    if (c->state == CONN_CONNECTING)
        conn_poll(c);
    else
        conn_flush(c);
}

static void conn_schedule_retry(hdf_db_conn_t *c)
{
    c->backoff_ms = c->backoff_ms == 0 ? POOL_BACKOFF_MIN_MS : c->backoff_ms * 2;
    if (c->backoff_ms > POOL_BACKOFF_MAX_MS)
        c->backoff_ms = POOL_BACKOFF_MAX_MS;
    c->retry_at = h2o_now(c->pool->loop) + c->backoff_ms;
}

static void conn_fail(hdf_db_conn_t *c, const char *why)
{
    hdf_db_pool_t *p = c->pool;
    int was_connected = c->state >= CONN_IDLE;
    if (c->backoff_ms == 0 || was_connected) {
        char msg[256];
        log_escape(why != NULL ? why : "", msg, sizeof(msg));
        log_line(HDF_LOG_WARN, "database connection failed", "\"reason\":\"%s\"", msg);
    }
    if (c->state == CONN_IDLE)
        h2o_linklist_unlink(&c->idle_link);
    if (was_connected) {
        p->connected--;
        metrics_add(&hdf_metrics.db_conns_connected, -1);
    }
    close_socket(c);
    PQclear(c->result);
    c->result = NULL;
    PQfinish(c->pg);
    c->pg = NULL;
    c->in_query = 0;
    c->state = CONN_DOWN;
    conn_schedule_retry(c);
    hdf_db_waiter_t *w = c->waiter;
    c->waiter = NULL;
    if (w != NULL) {
        w->conn = NULL;
        metrics_add(&hdf_metrics.db_in_use, -1);
        hdf_db_result_cb cb = w->on_result;
        w->on_result = NULL;
        if (cb != NULL)
            cb(w, NULL, HDF_E_UNAVAILABLE);
    }
    if (p->connected == 0 && !pool_connecting(p))
        fail_waiters(p);
}

/* Server notices (and the FATAL text of a terminated session) go to the log, not to stderr. */
static void on_notice(void *arg, const char *message)
{
    char msg[512];
    (void)arg;
    if (!log_enabled(HDF_LOG_DEBUG))
        return;
    log_escape(message, msg, sizeof(msg));
    log_line(HDF_LOG_DEBUG, "database notice", "\"notice\":\"%s\"", msg);
}

static void conn_start(hdf_db_conn_t *c)
{
    c->pg = PQconnectStart(c->pool->cfg->database_url);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    c->state = CONN_CONNECTING;
    memset(c->prepared, 0, sizeof(c->prepared));
    if (open_socket(c) != 0) {
        conn_fail(c, "dup() of the database socket failed");
        return;
    }
    wait_for(c, 1); /* libpq: behave as if PQconnectPoll last returned PGRES_POLLING_WRITING */
}

hdf_db_pool_t *db_pool_create(h2o_loop_t *loop, const struct hdf_config *cfg)
{
    hdf_db_pool_t *p = h2o_mem_alloc(sizeof(*p));
    *p = (hdf_db_pool_t){.seen_generation = atomic_load(&recovered_generation),
                         .loop = loop,
                         .cfg = cfg,
                         .nconns = (size_t)cfg->db_conns_per_thread};
    h2o_linklist_init_anchor(&p->idle);
    h2o_linklist_init_anchor(&p->waiting);
    p->conns = h2o_mem_alloc(sizeof(*p->conns) * p->nconns);
    memset(p->conns, 0, sizeof(*p->conns) * p->nconns);
    metrics_add(&hdf_metrics.db_conns_total, (int64_t)p->nconns);
    for (size_t i = 0; i < p->nconns; i++) {
        p->conns[i].pool = p;
        conn_start(&p->conns[i]);
    }
    return p;
}

void db_pool_destroy(hdf_db_pool_t *p)
{
    for (size_t i = 0; i < p->nconns; i++) {
        hdf_db_conn_t *c = &p->conns[i];
        close_socket(c);
        PQclear(c->result);
        if (c->pg != NULL)
            PQfinish(c->pg);
    }
    metrics_add(&hdf_metrics.db_conns_total, -(int64_t)p->nconns);
    metrics_add(&hdf_metrics.db_conns_connected, -(int64_t)p->connected);
    free(p->conns);
    free(p);
}

/* Starts the connections whose backoff is over, or all down ones once another thread has seen the
 * database come back. */
static void pool_retry_due(hdf_db_pool_t *p)
{
    uint64_t now = h2o_now(p->loop), gen = atomic_load(&recovered_generation);
    int recovered = gen != p->seen_generation;
    p->seen_generation = gen;
    for (size_t i = 0; i < p->nconns; i++) {
        hdf_db_conn_t *c = &p->conns[i];
        if (c->state == CONN_DOWN && (recovered || now >= c->retry_at)) {
            metrics_inc(&hdf_metrics.db_reconnects);
            conn_start(c);
        }
    }
}

void db_pool_tick(hdf_db_pool_t *p)
{
    uint64_t now = h2o_now(p->loop);
    pool_retry_due(p);
    while (!h2o_linklist_is_empty(&p->waiting)) {
        hdf_db_waiter_t *w = H2O_STRUCT_FROM_MEMBER(hdf_db_waiter_t, link, p->waiting.next);
        if (now - w->enqueued_at < POOL_WAIT_MAX_MS)
            break;
        h2o_linklist_unlink(&w->link);
        set_waiting(p, p->nwaiting - 1);
        w->on_acquire(w, HDF_E_UNAVAILABLE);
    }
}

int db_pool_is_up(const hdf_db_pool_t *p)
{
    return p->connected > 0;
}

static void acquire(hdf_db_pool_t *p, hdf_db_waiter_t *w, hdf_db_acquire_cb cb, int first)
{
    w->pool = p;
    w->conn = NULL;
    w->on_acquire = cb;
    w->on_result = NULL;
    if (!h2o_linklist_is_empty(&p->idle)) {
        hdf_db_conn_t *c = H2O_STRUCT_FROM_MEMBER(hdf_db_conn_t, idle_link, p->idle.next);
        h2o_linklist_unlink(&c->idle_link);
        lend(c, w);
        cb(w, HDF_OK);
        return;
    }
    if (p->connected == 0)
        pool_retry_due(p);
    /* with nothing connected and no attempt under way the database is down: fail fast */
    int down = p->connected == 0 && !pool_connecting(p);
    if (down || (!first && p->nwaiting >= (size_t)p->cfg->db_queue_max)) {
        if (!down)
            metrics_inc(&hdf_metrics.db_rejected);
        cb(w, HDF_E_UNAVAILABLE);
        return;
    }
    w->enqueued_at = h2o_now(p->loop);
    h2o_linklist_insert(first ? p->waiting.next : &p->waiting, &w->link);
    set_waiting(p, p->nwaiting + 1);
}

void db_pool_acquire(hdf_db_pool_t *p, hdf_db_waiter_t *w, hdf_db_acquire_cb cb)
{
    acquire(p, w, cb, 0);
}

void db_pool_acquire_first(hdf_db_pool_t *p, hdf_db_waiter_t *w, hdf_db_acquire_cb cb)
{
    acquire(p, w, cb, 1);
}

int db_pool_acquire_idle(hdf_db_pool_t *p, hdf_db_waiter_t *w, hdf_db_acquire_cb cb)
{
    if (h2o_linklist_is_empty(&p->idle))
        return -1;
    db_pool_acquire(p, w, cb);
    return 0;
}

static int send_step(hdf_db_conn_t *c, const struct hdf_db_step *step)
{
    const struct hdf_statement *s = &hdf_statements[step->stmt];
    int formats[HDF_STMT_MAX_PARAMS] = {0};
    if (s->nparams > HDF_STMT_MAX_PARAMS)
        abort(); /* a statement in statements.c with more parameters than this: a programming error */
    for (int i = 0; step->lengths != NULL && i < s->nparams; i++)
        formats[i] = step->lengths[i] > 0;
    return c->prepared[step->stmt] ? PQsendQueryPrepared(c->pg, s->name, s->nparams, step->params, step->lengths, formats, 0)
                                   : PQsendQueryParams(c->pg, s->sql, s->nparams, NULL, step->params, step->lengths, formats, 0);
}

/* One sync point after the last statement: a failure aborts the rest, and one round trip
 * carries them all. */
static int send_pipeline(hdf_db_conn_t *c, const struct hdf_db_step *steps, int n)
{
    if (!PQenterPipelineMode(c->pg))
        return 0;
    for (int i = 0; i < n; i++)
        if (!send_step(c, &steps[i]))
            return 0;
    c->pipeline_left = n;
    return PQpipelineSync(c->pg);
}

void db_query_pipeline(hdf_db_waiter_t *w, const struct hdf_db_step *steps, int n, hdf_db_result_cb cb)
{
    hdf_db_conn_t *c = w->conn;
    w->on_result = cb;
    if (c == NULL) { /* the connection broke after it was lent */
        w->on_result = NULL;
        cb(w, NULL, HDF_E_UNAVAILABLE);
        return;
    }
    w->round_trips++;
    w->statements += (uint32_t)n;
    if (!(n == 1 ? send_step(c, steps) : send_pipeline(c, steps, n))) {
        conn_send_failed(c);
        return;
    }
    c->in_query = 1;
    conn_flush(c);
}

void db_query(hdf_db_waiter_t *w, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_db_result_cb cb)
{
    const struct hdf_db_step step = {stmt, params, lengths};
    db_query_pipeline(w, &step, 1, cb);
}

void db_release(hdf_db_waiter_t *w)
{
    hdf_db_conn_t *c = w->conn;
    if (c == NULL)
        return;
    w->conn = NULL;
    c->waiter = NULL;
    metrics_add(&hdf_metrics.db_in_use, -1);
    conn_recycle(c);
}

void db_cancel(hdf_db_waiter_t *w)
{
    if (h2o_linklist_is_linked(&w->link)) {
        h2o_linklist_unlink(&w->link);
        set_waiting(w->pool, w->pool->nwaiting - 1);
    }
    hdf_db_conn_t *c = w->conn;
    if (c == NULL)
        return;
    w->on_result = NULL;
    if (c->in_query) {
        /* command_done recycles the connection once the command finishes */
        c->waiter = NULL;
        w->conn = NULL;
        metrics_add(&hdf_metrics.db_in_use, -1);
        return;
    }
    db_release(w);
}
