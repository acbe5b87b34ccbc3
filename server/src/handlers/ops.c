/*
 * ops.c: operations endpoints, no key needed: /healthz (the process answers), /readyz (the database
 * answers and its schema is at least the version this binary needs), /metrics (Prometheus text).
 */
#include <stdio.h>
#include <stdlib.h>
#include "http/respond.h"
#include "common/metrics.h"
#include "db/sqlstate.h"
#include "migrate.h"

void ops_healthz(struct hdf_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    respond_json(r, 200, body, sizeof(body) - 1);
}

static void on_ready_result(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    int need = migrate_latest_version();
    if (err != HDF_OK || res == NULL) {
        respond_problem(r, HDF_E_UNAVAILABLE, "database unreachable", NULL);
        return;
    }
    int have = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        have = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    } else if (db_error_from_result(res) != HDF_E_UNAVAILABLE) {
        db_log_error("ready", res);
        respond_problem(r, HDF_E_UNAVAILABLE, "database check failed", NULL);
        return;
    }
    if (have < need) {
        respond_problem_fmt(r, HDF_E_UNAVAILABLE, "migrations pending (database at %d, binary needs %d): run helpdeskflow migrate",
                            have, need);
        return;
    }
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"status\":\"ready\",\"schema_version\":%d}", have);
    respond_json(r, 200, body, (size_t)n);
}

static void on_ready_conn(hdf_db_waiter_t *w, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    if (err != HDF_OK) {
        respond_problem(r, HDF_E_UNAVAILABLE, "database unreachable", NULL);
        return;
    }
    db_query(w, HDF_STMT_READY, NULL, NULL, on_ready_result);
}

void ops_readyz(struct hdf_req *r)
{
    db_pool_acquire(r->worker->db, &r->db, on_ready_conn);
}

void ops_metrics(struct hdf_req *r)
{
    size_t len;
    char *text = metrics_render(&len);
    respond_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}
