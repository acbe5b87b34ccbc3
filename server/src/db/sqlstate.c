/*
 * sqlstate.c: SQLSTATE -> API error (see sqlstate.h).
 */
#include <string.h>
#include "db/sqlstate.h"
#include "common/log.h"

hdf_error_t db_error_from_result(const PGresult *res)
{
    if (res == NULL)
        return HDF_E_UNAVAILABLE;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return HDF_OK;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL)
        return HDF_E_INTERNAL;
    if (strcmp(state, "55P03") == 0) /* lock_not_available: SET LOCAL lock_timeout expired */
        return HDF_E_LOCK_TIMEOUT;
    if (strcmp(state, "23505") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return HDF_E_CONFLICT;
    /* connection exceptions, admin shutdown, crash recovery, too many connections, and a schema
     * that is not migrated yet: the service is not available, retrying later can succeed */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0 ||
        strcmp(state, "42P01") == 0 || strcmp(state, "57014") == 0)
        return HDF_E_UNAVAILABLE;
    return HDF_E_INTERNAL;
}

void db_log_error(const char *what, const PGresult *res)
{
    char msg[256] = "", constraint[128] = "";
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    /* the primary message of a check or type error can quote input; only the SQLSTATE class
     * for data exceptions (22xxx) and integrity violations (23xxx) */
    if (primary != NULL && state != NULL && strncmp(state, "22", 2) != 0 && strncmp(state, "23", 2) != 0)
        log_escape(primary, msg, sizeof(msg));
    if (cons != NULL)
        log_escape(cons, constraint, sizeof(constraint));
    log_line(HDF_LOG_ERROR, "database error", "\"what\":\"%s\",\"sqlstate\":\"%s\",\"constraint\":\"%s\",\"message\":\"%s\"", what,
             state != NULL ? state : "", constraint, msg);
}
