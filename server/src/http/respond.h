/*
 * respond.h: every response leaves through here, so each one gets X-Request-Id, is counted in
 * /metrics and logged once, and errors are always problem+json from the one error table.
 */
#ifndef HDF_RESPOND_H
#define HDF_RESPOND_H

#include <jansson.h>
#include "http/request.h"

void respond_json(struct hdf_req *r, int status, const char *json, size_t len);
/* Takes ownership of j. */
void respond_json_obj(struct hdf_req *r, int status, json_t *j);
void respond_text(struct hdf_req *r, int status, const char *content_type, const char *body, size_t len);
/* 204 No Content (a DELETE's answer): no body and no Content-Type. */
void respond_no_content(struct hdf_req *r);
/* detail may be NULL (the title is used); errors (owned) may be NULL. */
void respond_problem(struct hdf_req *r, hdf_error_t e, const char *detail, json_t *errors);
void respond_problem_fmt(struct hdf_req *r, hdf_error_t e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A problem with one more member (rule_ids of automation_conflict, say); takes ownership of value. */
void respond_problem_member(struct hdf_req *r, hdf_error_t e, const char *detail, const char *member, json_t *value);
/* 400 validation_failed from collected field errors. */
void respond_field_errors(struct hdf_req *r, hdf_field_errors_t *fe);
/* A list page: {"data": [rows' JSON text in column json_col, at most limit], "next_cursor": ...}
 * and a Link rel="next" header repeating the request's query with the new cursor. next_cursor is
 * NULL on the last page. */
void respond_list(struct hdf_req *r, PGresult *res, int json_col, int limit, const char *next_cursor);
/* Adds a response header before responding (value copied). */
void respond_add_header(struct hdf_req *r, const char *name, const char *value);

#endif
