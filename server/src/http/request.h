/*
 * request.h: the per-request context every handler works with, and the pipeline that builds it:
 * request id -> route (404/405) -> credentials in the query (400) -> key (401) -> rate limit (429) -> role (403) ->
 * body (415/400) -> handler. A handler answers through respond.h, now or from a database callback.
 */
#ifndef HDF_REQUEST_H
#define HDF_REQUEST_H

#include <h2o.h>
#include <jansson.h>
#include "common/util.h"
#include "db/pool.h"
#include "http/idempotency.h"
#include "http/query.h"
#include "http/router.h"
#include "ratelimit/limiter.h"
#include "worker.h"

enum hdf_role { HDF_ROLE_READONLY, HDF_ROLE_AGENT, HDF_ROLE_ADMIN };

struct hdf_auth {
    int64_t key_id, workspace_id;
    enum hdf_role role;
    const char *role_name, *label, *workspace_slug, *workspace_name;
    const char *expires_at; /* RFC 3339, or NULL */
};

struct hdf_req;
typedef void (*hdf_query_done_fn)(struct hdf_req *r, PGresult *res);

struct hdf_req {
    h2o_req_t *req; /* NULL once h2o has disposed of the request (client gone) */
    struct hdf_worker *worker;
    hdf_method_t method;
    struct hdf_route_match match;
    char request_id[HDF_REQUEST_ID_MAX + 1];
    struct hdf_query query;
    int authenticated;
    struct hdf_auth auth;
    json_t *body; /* the parsed body, when the request had one */
    hdf_db_waiter_t db;
    int64_t started_ns;
    int responded;
    /* request_query's call, kept while a connection is awaited */
    enum hdf_stmt query_stmt;
    char **query_params;
    int *query_lengths;
    hdf_query_done_fn query_done;
    int64_t handler_arg; /* a handler's own value across its callbacks (a list's limit, say) */
    void *handler_data;  /* ... or its own state */
    void (*txn_then)(struct hdf_req *r);
    struct {
        int status;
        const char *json;
        size_t len;
    } committed;              /* request_commit_respond's answer, held until COMMIT */
    const char *handler_str;  /* a handler's own constant across its callbacks (a list's cursor kind, say) */
    int in_txn;               /* db holds a connection inside BEGIN (a transaction or an Idempotency-Key) */
    int txn_pending;          /* request_txn_begin: BEGIN goes out with the next statement */
    int lock_timeout_pending; /* request_txn_lock_timeout: so does SET LOCAL lock_timeout */
    hdf_db_result_cb send_cb; /* request_send's callback */
    int64_t acting_agent_id;  /* X-Acting-Agent-Id, checked: 0 when absent */
    struct hdf_idem idem;
    struct hdf_rl_req rl; /* rate limit: category, header values, lease queue, throttle delay */
};

typedef void (*hdf_handler_fn)(struct hdf_req *r);

/* The h2o handler: everything enters here. */
int request_on_req(h2o_handler_t *self, h2o_req_t *req);
/* Continues the pipeline after authentication (called by auth.c). */
void request_after_auth(struct hdf_req *r);

/* Copies into the request's pool (valid until the request ends). */
char *request_strdup(struct hdf_req *r, const char *s);

/* Runs one statement on a pooled connection and calls done with its successful result; database
 * failures are answered (503/409/500) without calling done. The connection is released first,
 * unless the request runs in a transaction (in_txn), whose connection it keeps using.
 * params (and lengths: non-zero for binary parameters) are copied, so they may live on the stack. */
void request_query(struct hdf_req *r, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_query_done_fn done);

/* The primitive under request_query: sends stmt with what the request queued before it (BEGIN,
 * SET LOCAL lock_timeout) in one round trip, acquiring a connection first unless the request holds
 * one in its transaction; cb gets the statement's result, or the first failure's. */
void request_send(struct hdf_req *r, enum hdf_stmt stmt, const char *const *params, const int *lengths, hdf_db_result_cb cb);

/* Who the audit log names for this request: the acting agent (source agent) or the key (api). */
const char *request_actor_type(const struct hdf_req *r);
int64_t request_actor_id(const struct hdf_req *r);
const char *request_source(const struct hdf_req *r);

/* A transaction on one connection for the statements that follow (request_query uses it). Under
 * an Idempotency-Key the request already runs in one: begin does nothing more, and commit is left
 * to the response, which stores the key in the same transaction. BEGIN is not a round trip of its
 * own: it is pipelined with the next statement, so then(r) runs at once. commit's then(r) runs once
 * committed; database failures are answered. */
void request_txn_begin(struct hdf_req *r, void (*then)(struct hdf_req *r));
/* Bounds this transaction's row-lock waits by HDF_LOCK_TIMEOUT_MS (a failed wait is 409
 * lock_timeout); sent with the next statement, like BEGIN. */
void request_txn_lock_timeout(struct hdf_req *r);
void request_txn_commit(struct hdf_req *r, void (*then)(struct hdf_req *r));
/* Commits, then answers status with the JSON (copied now; headers added before are kept). */
void request_commit_respond(struct hdf_req *r, int status, const char *json, size_t len);

/* The path parameter i as an id; answers 400 naming field and returns -1 when it is not one. */
int64_t request_path_id(struct hdf_req *r, size_t i, const char *field);

#endif
