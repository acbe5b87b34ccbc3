/*
 * request.c: the request pipeline (see request.h). Each stage either answers with a problem or
 * hands on to the next; the only asynchronous stages are the key lookup and the handler's queries.
 */
#include <stdio.h>
#include <string.h>
#include "http/request.h"
#include "http/auth.h"
#include "http/body.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "common/metrics.h"
#include "db/sqlstate.h"

/* The handler table: routes.def names a function per route. */
#define ROUTE(id, method, tmpl, handler, access) void handler(struct hdf_req *r);
#include "http/routes.def"
#undef ROUTE
static const hdf_handler_fn handlers[HDF_ROUTE__COUNT] = {
#define ROUTE(id, method, tmpl, handler, access) [HDF_ROUTE_##id] = handler,
#include "http/routes.def"
#undef ROUTE
};

char *request_strdup(struct hdf_req *r, const char *s)
{
    if (s == NULL || r->req == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = h2o_mem_alloc_pool(&r->req->pool, n);
    memcpy(d, s, n);
    return d;
}

static void *pool_alloc(void *ctx, size_t n)
{
    return h2o_mem_alloc_pool(ctx, n);
}

/* h2o frees the request's pool when the request ends, whether or not we answered. */
static void on_dispose(void *p)
{
    struct hdf_req *r = p;
    db_cancel(&r->db);
    ratelimit_cancel(r);
    json_decref(r->body);
    r->worker->in_flight--;
    metrics_add(&hdf_metrics.in_flight, -1);
    r->req = NULL;
}

static void set_request_id(struct hdf_req *r)
{
    h2o_req_t *req = r->req;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (request_id_is_sane(v.base, v.len)) {
            memcpy(r->request_id, v.base, v.len);
            r->request_id[v.len] = '\0';
            return;
        }
    }
    request_id_generate(r->request_id);
}

static int route(struct hdf_req *r)
{
    h2o_req_t *req = r->req;
    size_t pathlen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    switch (router_match(req->path.base, pathlen, r->method, &r->match)) {
    case HDF_ROUTER_OK:
        return 0;
    case HDF_ROUTER_METHOD_NOT_ALLOWED: {
        char allow[64];
        router_allow_header(r->match.allowed, allow, sizeof(allow));
        r->match.route = HDF_ROUTE__COUNT;
        respond_add_header(r, "Allow", allow);
        respond_problem_fmt(r, HDF_E_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s", router_method_name(r->method),
                            allow);
        return -1;
    }
    default:
        respond_problem(r, HDF_E_NOT_FOUND, "no such resource", NULL);
        return -1;
    }
}

static int parse_query(struct hdf_req *r)
{
    h2o_req_t *req = r->req;
    if (req->query_at == SIZE_MAX)
        return 0;
    const char *qs = req->path.base + req->query_at + 1;
    size_t len = req->path.len - req->query_at - 1;
    if (query_parse(qs, len, &r->query, pool_alloc, &req->pool) != 0) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "query", "invalid", "the query string is malformed (bad escape, invalid UTF-8 or over %d parameters)",
                         HDF_QUERY_MAX_PARAMS);
        respond_field_errors(r, &fe);
        return -1;
    }
    if (query_has_credential(&r->query)) {
        respond_problem(r, HDF_E_API_KEY_IN_QUERY,
                        "send the API key in the Authorization header (Bearer); keys in URLs leak into logs and histories", NULL);
        return -1;
    }
    return 0;
}

static int check_role(struct hdf_req *r)
{
    hdf_access_t access = hdf_routes[r->match.route].access;
    if (r->auth.role == HDF_ROLE_READONLY && r->method != HDF_GET && r->method != HDF_HEAD) {
        respond_problem(r, HDF_E_FORBIDDEN, "readonly keys may only read", NULL);
        return -1;
    }
    if (access == HDF_ACCESS_ADMIN && r->auth.role != HDF_ROLE_ADMIN) {
        respond_problem(r, HDF_E_FORBIDDEN, "this resource needs an admin key", NULL);
        return -1;
    }
    if (access == HDF_ACCESS_WRITE && r->auth.role == HDF_ROLE_READONLY) {
        respond_problem(r, HDF_E_FORBIDDEN, "this resource needs an admin or agent key", NULL);
        return -1;
    }
    return 0;
}

static int parse_body(struct hdf_req *r)
{
    h2o_req_t *req = r->req;
    if (req->entity.base == NULL || req->entity.len == 0)
        return 0;
    if ((int64_t)req->entity.len > r->worker->cfg->max_body_bytes) { /* h2o enforces it first; kept as a backstop */
        respond_problem_fmt(r, HDF_E_BODY_TOO_LARGE, "request bodies are limited to %lld bytes",
                            (long long)r->worker->cfg->max_body_bytes);
        return -1;
    }
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0 || !body_content_type_is_json(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
        respond_problem(r, HDF_E_UNSUPPORTED_MEDIA_TYPE, "request bodies must be application/json (UTF-8)", NULL);
        return -1;
    }
    hdf_error_t err;
    hdf_field_errors_t fe = {0};
    char detail[256];
    r->body = json_parse_body(req->entity.base, req->entity.len, &err, detail, sizeof(detail), &fe);
    if (r->body == NULL) {
        if (field_errors_count(&fe) > 0)
            respond_field_errors(r, &fe);
        else
            respond_problem(r, err, detail, NULL);
        return -1;
    }
    return 0;
}

static void run_handler(struct hdf_req *r)
{
    idem_begin(r, handlers[r->match.route]);
}

static void on_acting_agent(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        r->acting_agent_id = 0;
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "X-Acting-Agent-Id", "not_found", "X-Acting-Agent-Id names no active agent of this workspace");
        respond_field_errors(r, &fe);
        return;
    }
    run_handler(r);
}

/* X-Acting-Agent-Id (CONTRACT.md): admin and agent keys may name the agent they act for. */
static int check_acting_agent(struct hdf_req *r)
{
    ssize_t i = h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("x-acting-agent-id"), -1);
    if (i < 0)
        return 0;
    if (r->auth.role == HDF_ROLE_READONLY) {
        respond_problem(r, HDF_E_FORBIDDEN, "readonly keys cannot act for an agent", NULL);
        return -1;
    }
    h2o_iovec_t v = r->req->headers.entries[i].value;
    r->acting_agent_id = parse_id(v.base, v.len);
    if (r->acting_agent_id < 0) {
        r->acting_agent_id = 0;
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "X-Acting-Agent-Id", "invalid", "X-Acting-Agent-Id must be an agent id");
        respond_field_errors(r, &fe);
        return -1;
    }
    char ws[24], id[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(id, sizeof(id), "%lld", (long long)r->acting_agent_id);
    const char *params[] = {ws, id};
    request_query(r, HDF_STMT_AGENT_IS_ACTIVE, params, NULL, on_acting_agent);
    return 1;
}

void request_after_auth(struct hdf_req *r)
{
    if (check_role(r) != 0 || parse_body(r) != 0)
        return;
    int acting = check_acting_agent(r);
    if (acting == 0)
        run_handler(r);
}

const char *request_actor_type(const struct hdf_req *r)
{
    return r->acting_agent_id > 0 ? "agent" : "api_key";
}

int64_t request_actor_id(const struct hdf_req *r)
{
    return r->acting_agent_id > 0 ? r->acting_agent_id : r->auth.key_id;
}

const char *request_source(const struct hdf_req *r)
{
    return r->acting_agent_id > 0 ? "agent" : "api";
}

static void respond_db_conflict(struct hdf_req *r, const PGresult *res);

/* The answer to a failed statement: its SQLSTATE's error (sqlstate.c), with the details each
 * error kind deserves. */
static void respond_db_error(struct hdf_req *r, const char *what, hdf_error_t err, PGresult *res)
{
    if (err == HDF_E_INTERNAL)
        db_log_error(what, res);
    if (err == HDF_E_CONFLICT)
        respond_db_conflict(r, res);
    else if (err == HDF_E_LOCK_TIMEOUT)
        respond_problem_fmt(r, err, "another request holds this row; its lock was not released within %d ms: retry",
                            r->worker->cfg->lock_timeout_ms);
    else
        respond_problem(r, err, err == HDF_E_UNAVAILABLE ? "the database is unavailable; retry shortly" : NULL, NULL);
}

/* ---- transactions ---- */

static void on_txn_done(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err != HDF_OK) { /* a failed BEGIN or COMMIT (a serialization failure at COMMIT, say) */
        r->in_txn = 0;
        respond_db_error(r, "transaction", err, res);
        return;
    }
    r->txn_then(r);
}

void request_txn_begin(struct hdf_req *r, void (*then)(struct hdf_req *r))
{
    if (!r->in_txn)
        r->txn_pending = 1;
    then(r);
}

void request_txn_lock_timeout(struct hdf_req *r)
{
    r->lock_timeout_pending = 1;
}

static void on_committed(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    r->in_txn = 0;
    if (err == HDF_OK && db_error_from_result(res) == HDF_OK)
        db_release(w);
    on_txn_done(w, res, err);
}

static void respond_committed(struct hdf_req *r)
{
    respond_json(r, r->committed.status, r->committed.json, r->committed.len);
}

void request_commit_respond(struct hdf_req *r, int status, const char *json, size_t len)
{
    r->committed.status = status;
    r->committed.json = h2o_strdup(&r->req->pool, json, len).base;
    r->committed.len = len;
    request_txn_commit(r, respond_committed);
}

void request_txn_commit(struct hdf_req *r, void (*then)(struct hdf_req *r))
{
    r->txn_then = then;
    if (r->idem.state == HDF_IDEM_CLAIMED || (r->txn_pending && !r->in_txn)) {
        /* idem_finish commits with the stored response; a BEGIN never sent has nothing to commit */
        r->txn_pending = 0;
        then(r);
        return;
    }
    db_query(&r->db, HDF_STMT_COMMIT, NULL, NULL, on_committed);
}

int request_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct hdf_req *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_dispose);
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->worker = worker_of(req->conn->ctx);
    r->started_ns = time_mono_ns();
    r->method = router_method_from(req->method.base, req->method.len);
    r->match.route = HDF_ROUTE__COUNT;
    r->worker->in_flight++;
    metrics_add(&hdf_metrics.in_flight, 1);
    set_request_id(r);
    if (route(r) != 0)
        return 0;
    if (hdf_routes[r->match.route].access == HDF_ACCESS_PUBLIC) {
        if (parse_query(r) == 0)
            handlers[r->match.route](r);
        return 0;
    }
    if (parse_query(r) != 0)
        return 0;
    auth_authenticate(r);
    return 0;
}

/* ---- one-statement queries on behalf of a handler ---- */

static struct hdf_req *req_of_waiter(hdf_db_waiter_t *w)
{
    return H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
}

/* 409 conflict saying which constraint was hit (sqlstate.c knows), naming the field when one is
 * to blame: {"errors": [{"field": "name", "code": "duplicate", ...}]}. */
static void respond_db_conflict(struct hdf_req *r, const PGresult *res)
{
    struct hdf_db_conflict c;
    db_conflict_describe(res, &c);
    hdf_field_errors_t fe = {0};
    if (c.field != NULL)
        field_errors_add(&fe, c.field, c.code, "%s", c.detail);
    respond_problem(r, HDF_E_CONFLICT, c.detail, fe.list);
}

static void on_query_result(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = req_of_waiter(w);
    hdf_query_done_fn done = r->query_done;
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err != HDF_OK) {
        respond_db_error(r, hdf_statements[r->query_stmt].name, err, res);
        return;
    }
    if (!r->in_txn)
        db_release(w);
    done(r, res);
}

/* Sends the request's statement, after BEGIN and SET LOCAL lock_timeout when they are pending,
 * in one round trip. */
static void send_statement(struct hdf_req *r)
{
    char ms[16];
    const char *lt[] = {ms};
    struct hdf_db_step steps[3];
    int n = 0;
    if (r->txn_pending)
        steps[n++] = (struct hdf_db_step){HDF_STMT_BEGIN, NULL, NULL};
    if (r->lock_timeout_pending) {
        snprintf(ms, sizeof(ms), "%d", r->worker->cfg->lock_timeout_ms);
        steps[n++] = (struct hdf_db_step){HDF_STMT_LOCK_TIMEOUT, lt, NULL};
    }
    steps[n++] = (struct hdf_db_step){r->query_stmt, (const char *const *)r->query_params, r->query_lengths};
    r->in_txn |= r->txn_pending;
    r->txn_pending = r->lock_timeout_pending = 0;
    db_query_pipeline(&r->db, steps, n, r->send_cb);
}

static void on_send_conn(hdf_db_waiter_t *w, hdf_error_t err)
{
    struct hdf_req *r = req_of_waiter(w);
    if (err != HDF_OK) {
        respond_problem(r, err, "the database is unavailable; retry shortly", NULL);
        return;
    }
    send_statement(r);
}

void request_send(struct hdf_req *r, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_db_result_cb cb)
{
    int n = hdf_statements[stmt].nparams;
    r->query_stmt = stmt;
    r->send_cb = cb;
    r->query_params = h2o_mem_alloc_pool(&r->req->pool, sizeof(char *) * (size_t)(n + 1));
    r->query_lengths = h2o_mem_alloc_pool(&r->req->pool, sizeof(int) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        int len = lengths != NULL ? lengths[i] : 0;
        r->query_lengths[i] = len;
        if (params[i] == NULL) {
            r->query_params[i] = NULL;
        } else if (len > 0) {
            r->query_params[i] = h2o_mem_alloc_pool(&r->req->pool, (size_t)len);
            memcpy(r->query_params[i], params[i], (size_t)len);
        } else {
            r->query_params[i] = request_strdup(r, params[i]);
        }
    }
    if (r->in_txn && r->db.conn == NULL) /* the transaction's connection broke: never go on outside it */
        respond_problem(r, HDF_E_UNAVAILABLE, "the database connection was lost; retry shortly", NULL);
    else if (r->in_txn)
        send_statement(r);
    else
        db_pool_acquire(r->worker->db, &r->db, on_send_conn);
}

void request_query(struct hdf_req *r, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_query_done_fn done)
{
    r->query_done = done;
    request_send(r, stmt, params, lengths, on_query_result);
}

int64_t request_path_id(struct hdf_req *r, size_t i, const char *field)
{
    int64_t id = i < r->match.nparams ? parse_id(r->match.params[i].base, r->match.params[i].len) : -1;
    if (id < 0) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, field, "invalid", "%s must be a positive integer below 2^63", field);
        respond_field_errors(r, &fe);
    }
    return id;
}
