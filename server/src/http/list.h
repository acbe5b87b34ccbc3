/*
 * list.h: what every list endpoint shares: the limit and cursor query parameters (and refusing
 * parameters the list does not have), the first three parameters of a list statement, and the
 * page answer with next_cursor and Link. Lists are keyset-paginated by id: a statement takes
 * ($1 workspace, $2 after id, $3 limit + 1, then its filters) and returns (id, json) rows.
 */
#ifndef HDF_LIST_H
#define HDF_LIST_H

#include <stdint.h>
#include "http/request.h"

#define HDF_LIST_LIMIT_DEFAULT 25
#define HDF_LIST_LIMIT_MAX 100

struct hdf_list_page {
    int limit;
    int64_t after;
    /* $1 $2 $3 of the list statement, as text: workspace, after id, limit + 1 (one more row tells
     * whether there is a next page) */
    char workspace[24], after_text[24], fetch_text[16];
};

/* Reads limit and cursor (of this cursor kind; NULL: a list whose cursor is not an id reads its own)
 * and reports, into fe, a bad limit or cursor and any
 * parameter that is neither of them nor in filters (NULL-terminated, may be NULL). The handler
 * checks its filters into the same fe, then answers them all at once. */
void list_read_page(struct hdf_req *r, const char *cursor_kind, const char *const *filters, struct hdf_list_page *page,
                    hdf_field_errors_t *fe);

/* Runs the list statement (params start with the page's three) and answers the page: rows'
 * column 1 as data, next_cursor from the last row's column 0. */
void list_query(struct hdf_req *r, const char *cursor_kind, const struct hdf_list_page *page, enum hdf_stmt stmt,
                const char *const *params);

/* The answer list_query gives, for a handler that looks at the rows first (r->handler_arg and
 * r->handler_str as list_query sets them). */
void list_respond_page(struct hdf_req *r, PGresult *res);

/* A time filter (updated_since, say): the parameter's value when it is an RFC 3339 date-time
 * (2026-11-24T08:15:30.123Z or with a +hh:mm offset), NULL when absent; a bad one is reported into
 * fe, naming the parameter. */
const char *list_read_time(struct hdf_req *r, const char *name, hdf_field_errors_t *fe);

#endif
