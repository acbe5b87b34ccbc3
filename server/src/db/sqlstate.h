/*
 * sqlstate.h: the one place where a database error becomes an API error.
 */
#ifndef HDF_SQLSTATE_H
#define HDF_SQLSTATE_H

#include <libpq-fe.h>
#include "common/errors.h"

/* HDF_OK for a successful result; otherwise the API error its SQLSTATE maps to. */
hdf_error_t db_error_from_result(const PGresult *res);
/* What a unique (23505) or foreign-key (23503) violation means to the caller, by constraint name
 * (the table is in sqlstate.c, the one place that knows the schema's constraint names). field and
 * code are NULL when no request field is to blame; detail is always set. */
struct hdf_db_conflict {
    const char *field; /* errors[].field, e.g. "name" */
    const char *code;  /* errors[].code: duplicate, not_found */
    char detail[256];
};
void db_conflict_describe(const PGresult *res, struct hdf_db_conflict *out);
/* Logs a failed result: SQLSTATE, constraint and the primary message; never DETAIL (it can echo
 * values such as email addresses). */
void db_log_error(const char *what, const PGresult *res);
/* The SQLSTATE of a failed result, "" when it has none (for log lines). */
const char *db_sqlstate(const PGresult *res);

#endif
