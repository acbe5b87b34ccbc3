/*
 * sqlstate.h: the one place where a database error becomes an API error.
 */
#ifndef HDF_SQLSTATE_H
#define HDF_SQLSTATE_H

#include <libpq-fe.h>
#include "common/errors.h"

/* HDF_OK for a successful result; otherwise the API error its SQLSTATE maps to. */
hdf_error_t db_error_from_result(const PGresult *res);
/* Logs a failed result: SQLSTATE, constraint and the primary message; never DETAIL (it can echo
 * values such as email addresses). */
void db_log_error(const char *what, const PGresult *res);

#endif
