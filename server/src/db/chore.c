/*
 * chore.c: housekeeping statements on idle connections (see chore.h).
 */
#include "db/chore.h"
#include "common/log.h"
#include "db/sqlstate.h"

static void on_chore_done(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_db_chore *c = H2O_STRUCT_FROM_MEMBER(struct hdf_db_chore, db, w);
    hdf_error_t e = err == HDF_OK ? db_error_from_result(res) : err;
    if (e == HDF_E_INTERNAL)
        db_log_error(hdf_statements[c->stmt].name, res);
    else if (e != HDF_OK && err == HDF_OK) /* a timeout or a lock not granted: silent, it could repeat forever */
        log_line(HDF_LOG_WARN, "chore failed", "\"statement\":\"%s\",\"sqlstate\":\"%s\"", hdf_statements[c->stmt].name,
                 db_sqlstate(res));
    c->busy = 0;
    /* on_done must not run this chore again: its waiter still holds the connection until below */
    if (c->on_done != NULL)
        c->on_done(c, e == HDF_OK ? res : NULL);
    db_release(w);
}

static void on_chore_conn(hdf_db_waiter_t *w, hdf_error_t err)
{
    struct hdf_db_chore *c = H2O_STRUCT_FROM_MEMBER(struct hdf_db_chore, db, w);
    if (err != HDF_OK) {
        c->busy = 0;
        if (c->on_done != NULL)
            c->on_done(c, NULL);
        return;
    }
    db_query(w, c->stmt, c->params, NULL, on_chore_done);
}

int db_chore_run(hdf_db_pool_t *pool, struct hdf_db_chore *c)
{
    if (c->busy)
        return 0;
    c->busy = 1;
    if (db_pool_acquire_idle(pool, &c->db, on_chore_conn) != 0) {
        c->busy = 0;
        return -1;
    }
    return 0;
}

void db_chore_cancel(struct hdf_db_chore *c)
{
    if (c->busy)
        db_cancel(&c->db);
    c->busy = 0;
}
