/*
 * customer_merge.c: POST /v1/customers/{id}/merge {"source_customer_id": N} (CONTRACT.md,
 * Customers): the source customer is merged into {id}, the survivor. customers.c runs the same
 * merge when a PATCH gives a customer the email another live customer has.
 *
 * One transaction: SET LOCAL lock_timeout (HDF_LOCK_TIMEOUT_MS), both rows locked in id order
 * (CUSTOMER_MERGE_LOCK), so that two merges of one pair, in the same or opposite directions, queue
 * instead of deadlocking; then both are checked to be live customers of the workspace, and one
 * statement (CUSTOMER_MERGE) moves tickets and external profiles, merges tags, custom fields and
 * metadata (the survivor's values win), marks the source merged_into and audits both. The loser
 * of a race finds the winner's merged_into (404) or gives up waiting (409 lock_timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "handlers/admin_common.h"
#include "handlers/customer_merge.h"
#include "http/respond.h"
#include "common/json_util.h"

#define MERGE_TAGS_MAX 50
#define MERGE_METADATA_MAX 16384
#define MERGE_SOURCE_FIELD "source_customer_id"

void customer_respond_merged(struct hdf_req *r, int64_t id, int64_t merged_into, const char *field)
{
    char detail[160];
    json_t *errors = NULL;
    snprintf(detail, sizeof(detail), "customer %lld was merged into customer %lld; see merged_into", (long long)id,
             (long long)merged_into);
    if (field != NULL) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, field, "merged", "%s", detail);
        errors = fe.list;
    }
    json_t *p = problem_build(HDF_E_NOT_FOUND, detail, r->request_id, errors);
    json_object_set_new(p, "merged_into", json_integer(merged_into));
    size_t len;
    char *s = json_dump_compact(p, &len);
    json_decref(p);
    respond_text(r, 404, "application/problem+json", s, len);
    free(s);
}

/* ---- the merge ---- */

/* Nothing was written: the union would break a limit of one customer. */
static void merge_refused(struct hdf_req *r, PGresult *res)
{
    struct hdf_customer_merge *m = r->handler_data;
    long long ntags = strtoll(PQgetvalue(res, 0, 1), NULL, 10), mdlen = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    hdf_field_errors_t fe = {0};
    char detail[256];
    if (ntags > MERGE_TAGS_MAX)
        field_errors_add(&fe, "tags", "too_many", "the merged customer would have %lld tags (at most %d)", ntags, MERGE_TAGS_MAX);
    if (mdlen > MERGE_METADATA_MAX)
        field_errors_add(&fe, "metadata", "too_long", "the merged metadata would be %lld bytes serialised (at most %d)", mdlen,
                         MERGE_METADATA_MAX);
    snprintf(detail, sizeof(detail),
             "merging customer %lld into customer %lld would exceed %s; nothing was merged: remove some from either customer first",
             (long long)m->source, (long long)m->survivor,
             ntags > MERGE_TAGS_MAX && mdlen > MERGE_METADATA_MAX ? "50 tags and 16 KiB of metadata"
             : ntags > MERGE_TAGS_MAX                             ? "50 tags"
                                                                  : "16 KiB of metadata");
    respond_problem(r, HDF_E_CONFLICT, detail, fe.list);
}

/* (ok, tag count, metadata bytes, tickets moved, survivor json) */
static void on_merged(struct hdf_req *r, PGresult *res)
{
    struct hdf_customer_merge *m = r->handler_data;
    if (PQntuples(res) == 0) { /* both rows are locked and were checked: cannot happen */
        admin_not_found(r, "customer");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        merge_refused(r, res);
        return;
    }
    size_t len = (size_t)PQgetlength(res, 0, 4);
    const char *json = h2o_strdup(&r->req->pool, PQgetvalue(res, 0, 4), len).base;
    r->handler_data = m->caller_data;
    m->done(r, json, len);
}

/* A locked row (or -1: none) that must be a live customer; answers 404 and returns -1 when not.
 * field names the body member that referred to it, if any. */
static int merge_check_live(struct hdf_req *r, PGresult *res, int row, int64_t id, const char *field)
{
    if (row >= 0 && PQgetisnull(res, row, 1))
        return 0;
    if (row >= 0) {
        customer_respond_merged(r, id, strtoll(PQgetvalue(res, row, 1), NULL, 10), field);
    } else if (field != NULL) {
        hdf_field_errors_t fe = {0};
        char detail[96];
        snprintf(detail, sizeof(detail), "no customer %lld in your workspace", (long long)id);
        field_errors_add(&fe, field, "not_found", "%s", detail);
        respond_problem(r, HDF_E_NOT_FOUND, detail, fe.list);
    } else {
        admin_not_found(r, "customer");
    }
    return -1;
}

/* (id, merged_into, email) of the two customers, locked */
static void on_locked(struct hdf_req *r, PGresult *res)
{
    struct hdf_customer_merge *m = r->handler_data;
    int srow = -1, orow = -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if (id == m->survivor)
            srow = i;
        else if (id == m->source)
            orow = i;
    }
    if (m->survivor_email == NULL) { /* POST {id}/merge: {id} first, then the body's source */
        if (merge_check_live(r, res, srow, m->survivor, NULL) != 0 ||
            merge_check_live(r, res, orow, m->source, MERGE_SOURCE_FIELD) != 0)
            return;
    } else { /* PATCH: the path's customer is the source; the email's owner must still own it */
        if (merge_check_live(r, res, orow, m->source, NULL) != 0)
            return;
        if (srow < 0 || !PQgetisnull(res, srow, 1) || strcmp(PQgetvalue(res, srow, 2), m->survivor_email) != 0) {
            respond_problem(r, HDF_E_CONFLICT, "the customer who had this email changed concurrently; retry", NULL);
            return;
        }
    }
    char actor[24];
    snprintf(actor, sizeof(actor), "%lld", (long long)request_actor_id(r));
    const char *params[] = {m->workspace, m->survivor_text,  m->source_text, request_actor_type(r),
                            actor,        request_source(r), r->request_id};
    request_query(r, HDF_STMT_CUSTOMER_MERGE, params, NULL, on_merged);
}

/* BEGIN, SET LOCAL lock_timeout and the locks of both rows: one round trip. */
static void on_begun(struct hdf_req *r)
{
    struct hdf_customer_merge *m = r->handler_data;
    const char *params[] = {m->workspace, m->survivor_text, m->source_text};
    request_txn_lock_timeout(r);
    request_query(r, HDF_STMT_CUSTOMER_MERGE_LOCK, params, NULL, on_locked);
}

void customer_merge_start(struct hdf_req *r, struct hdf_customer_merge *m)
{
    admin_workspace_text(r, m->workspace);
    snprintf(m->survivor_text, sizeof(m->survivor_text), "%lld", (long long)m->survivor);
    snprintf(m->source_text, sizeof(m->source_text), "%lld", (long long)m->source);
    r->handler_data = m;
    request_txn_begin(r, on_begun);
}

/* ---- POST /v1/customers/{id}/merge ---- */

static void on_explicit_merged(struct hdf_req *r, const char *json, size_t len)
{
    request_commit_respond(r, 200, json, len);
}

/* {"source_customer_id": N}: a positive integer other than the survivor's id; 0 when invalid. */
static int64_t merge_read_source(struct hdf_req *r, int64_t survivor, hdf_field_errors_t *fe)
{
    static const char *const fields[] = {MERGE_SOURCE_FIELD, NULL};
    json_t *body = admin_body(r, fields, fe);
    if (body == NULL)
        return 0;
    json_t *v = json_object_get(body, MERGE_SOURCE_FIELD);
    if (v == NULL) {
        field_errors_add(fe, MERGE_SOURCE_FIELD, "required", "source_customer_id is required: the customer to merge into this one");
        return 0;
    }
    if (!json_is_integer(v)) {
        field_errors_add(fe, MERGE_SOURCE_FIELD, "invalid_type", "source_customer_id must be an integer customer id");
        return 0;
    }
    int64_t id = (int64_t)json_integer_value(v);
    if (id <= 0) {
        field_errors_add(fe, MERGE_SOURCE_FIELD, "invalid", "source_customer_id must be a positive customer id");
        return 0;
    }
    if (id == survivor) {
        field_errors_add(fe, MERGE_SOURCE_FIELD, "invalid", "source_customer_id must differ from the customer merged into");
        return 0;
    }
    return id;
}

void customer_merge(struct hdf_req *r)
{
    struct hdf_admin_target t;
    if (admin_target(r, &t) != 0)
        return;
    hdf_field_errors_t fe = {0};
    int64_t source = merge_read_source(r, t.id, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    struct hdf_customer_merge *m = h2o_mem_alloc_pool(&r->req->pool, sizeof(*m));
    memset(m, 0, sizeof(*m));
    m->survivor = t.id;
    m->source = source;
    m->caller_data = m;
    m->done = on_explicit_merged;
    customer_merge_start(r, m);
}
