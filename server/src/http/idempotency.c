/*
 * idempotency.c: Idempotency-Key claims, replays and completion (see idempotency.h).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "http/idempotency.h"
#include "http/request.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "common/log.h"
#include "db/sqlstate.h"

#define IDEM_CLAIM_ATTEMPTS 3

static struct hdf_req *req_of(hdf_db_waiter_t *w)
{
    return H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
}

static int key_is_valid(const char *s, size_t len)
{
    if (len == 0 || len > HDF_IDEMPOTENCY_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* The request's identity: method, path with query, body. */
static void request_hash(struct hdf_req *r, unsigned char out[32])
{
    h2o_req_t *req = r->req;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL)
        abort();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, req->method.base, req->method.len);
    EVP_DigestUpdate(c, "\n", 1);
    EVP_DigestUpdate(c, req->path.base, req->path.len);
    EVP_DigestUpdate(c, "\n", 1);
    if (req->entity.base != NULL)
        EVP_DigestUpdate(c, req->entity.base, req->entity.len);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

static void send_claim(struct hdf_req *r);

static void respond_in_flight(struct hdf_req *r)
{
    respond_problem(r, HDF_E_IDEMPOTENCY_IN_FLIGHT, "a request with this Idempotency-Key is being processed", NULL);
}

/* Answers from the stored response of a completed request. */
static void replay(struct hdf_req *r, PGresult *res)
{
    int status = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
    json_t *headers = json_loads(PQgetvalue(res, 0, 4), 0, NULL);
    const char *ctype = "application/json";
    size_t i;
    json_t *h;
    json_array_foreach(headers, i, h)
    {
        const char *name = json_string_value(json_array_get(h, 0)), *value = json_string_value(json_array_get(h, 1));
        if (name == NULL || value == NULL)
            continue;
        if (strcmp(name, "content-type") == 0)
            ctype = request_strdup(r, value);
        else
            respond_add_header(r, name, value);
    }
    json_decref(headers);
    respond_add_header(r, "Idempotent-Replayed", "true");
    respond_text(r, status, ctype, PQgetvalue(res, 0, 5), (size_t)PQgetlength(res, 0, 5));
}

static void on_claim(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = req_of(w);
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err != HDF_OK) {
        if (err == HDF_E_INTERNAL)
            db_log_error("idem_claim", res);
        respond_problem(r, err, err == HDF_E_UNAVAILABLE ? "the database is unavailable; retry shortly" : NULL, NULL);
        return;
    }
    if (PQntuples(res) == 0) { /* the key was committed after this statement's snapshot: ask again */
        if (++r->idem.attempts < IDEM_CLAIM_ATTEMPTS)
            send_claim(r);
        else
            respond_in_flight(r);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "busy") == 0) { /* another request holds the key right now */
        respond_in_flight(r);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "claimed") == 0) {
        r->idem.state = HDF_IDEM_CLAIMED;
        r->idem.next(r);
        return;
    }
    r->idem.state = HDF_IDEM_DONE; /* nothing of ours to store: the transaction is rolled back */
    if (PQgetvalue(res, 0, 1)[0] != 't')
        respond_problem(r, HDF_E_IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used with a different request (method, path or body)", NULL);
    else
        replay(r, res);
}

static void send_claim(struct hdf_req *r)
{
    char ws[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    const char *params[] = {ws, r->idem.key, (const char *)r->idem.hash, r->idem.token};
    const int lengths[] = {0, 0, (int)sizeof(r->idem.hash), 0};
    request_send(r, HDF_STMT_IDEM_CLAIM, params, lengths, on_claim);
}

/* The claim is the transaction's first statement: when the request fails, its client goes away,
 * its connection breaks or its server dies, the rollback releases the key with everything else. */
static void claim_begun(struct hdf_req *r)
{
    send_claim(r);
}

void idem_begin(struct hdf_req *r, void (*next)(struct hdf_req *r))
{
    h2o_req_t *req = r->req;
    ssize_t i = (r->method == HDF_POST || r->method == HDF_PATCH)
                    ? h2o_find_header_by_str(&req->headers, H2O_STRLIT("idempotency-key"), -1)
                    : -1;
    if (i < 0) {
        next(r);
        return;
    }
    h2o_iovec_t v = req->headers.entries[i].value;
    if (!key_is_valid(v.base, v.len)) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "Idempotency-Key", "invalid", "Idempotency-Key must be 1 to %d printable ASCII characters",
                         HDF_IDEMPOTENCY_KEY_MAX);
        respond_field_errors(r, &fe);
        return;
    }
    r->idem.key = h2o_strdup(&req->pool, v.base, v.len).base;
    r->idem.next = next;
    r->idem.state = HDF_IDEM_CLAIMING;
    request_hash(r, r->idem.hash);
    request_id_generate(r->idem.token);
    request_txn_begin(r, claim_begun);
}

/* ---- completion ---- */

static void send_now(struct hdf_req *r)
{
    r->idem.state = HDF_IDEM_DONE;
    r->in_txn = 0;
    respond_text(r, r->idem.status, r->idem.content_type, r->idem.body, r->idem.len);
}

static void on_finished(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = req_of(w);
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err != HDF_OK) {
        /* the outcome of COMMIT is unknown: the client retries with the same key and gets the
         * stored response if it committed */
        r->idem.state = HDF_IDEM_DONE;
        r->in_txn = 0;
        respond_problem(r, HDF_E_UNAVAILABLE, "the database is unavailable; retry with the same Idempotency-Key", NULL);
        return;
    }
    send_now(r);
}

static void on_completed(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = req_of(w);
    if (err == HDF_OK && db_error_from_result(res) == HDF_OK && strcmp(PQcmdTuples(res), "1") == 0) {
        db_query(w, HDF_STMT_COMMIT, NULL, NULL, on_finished);
        return;
    }
    /* the update failed: none of this request's writes may stand (respond rolls back) */
    r->idem.state = HDF_IDEM_DONE;
    r->in_txn = 0;
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err == HDF_OK || err == HDF_E_INTERNAL) {
        db_log_error("idem_complete", res);
        err = HDF_E_INTERNAL;
    }
    respond_problem(r, err, err == HDF_E_UNAVAILABLE ? "the database is unavailable; retry with the same Idempotency-Key" : NULL,
                    NULL);
}

/* The response headers worth replaying, as [[name, value], ...]. */
static char *headers_json(struct hdf_req *r, const char *content_type)
{
    json_t *a = json_array();
    h2o_headers_t *hs = &r->req->res.headers;
    json_array_append_new(a, json_pack("[s, s]", "content-type", content_type));
    for (size_t i = 0; i < hs->size; i++) {
        json_t *row = json_pack("[s%, s%]", hs->entries[i].name->base, hs->entries[i].name->len, hs->entries[i].value.base,
                                hs->entries[i].value.len);
        if (row != NULL)
            json_array_append_new(a, row);
    }
    size_t len;
    char *s = json_dump_compact(a, &len);
    json_decref(a);
    char *copy = request_strdup(r, s);
    free(s);
    return copy;
}

static void on_rolled_back(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    (void)res, (void)err; /* the claim went with the rollback; if the connection broke, with it */
    send_now(req_of(w));
}

int idem_finish(struct hdf_req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->idem.state != HDF_IDEM_CLAIMED || r->req == NULL)
        return 0;
    r->idem.state = HDF_IDEM_FINISHING;
    r->idem.status = status;
    r->idem.content_type = request_strdup(r, content_type);
    r->idem.body = h2o_strdup(&r->req->pool, body, len).base;
    r->idem.len = len;
    if (r->db.conn == NULL) { /* the connection broke: nothing was committed */
        send_now(r);
        return 1;
    }
    if (status < 200 || status > 299) {
        db_query(&r->db, HDF_STMT_ROLLBACK, NULL, NULL, on_rolled_back);
        return 1;
    }
    char ws[24], st[8];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(st, sizeof(st), "%d", status);
    const char *params[] = {ws, r->idem.key, r->idem.token, st, headers_json(r, content_type), r->idem.body};
    db_query(&r->db, HDF_STMT_IDEM_COMPLETE, params, NULL, on_completed);
    return 1;
}

/* ---- housekeeping ---- */

int idem_purge_expired(struct hdf_worker *w)
{
    w->idem_purge.stmt = HDF_STMT_IDEM_PURGE;
    return db_chore_run(w->db, &w->idem_purge);
}
