/*
 * admin_common.h: what the directory handlers (admin_teams.c, admin_agents.c,
 * admin_custom_fields.c) share: the {id} of a path, body checks, and the get / delete / created
 * answers, so that each resource file holds only its own fields and rules.
 */
#ifndef HDF_ADMIN_COMMON_H
#define HDF_ADMIN_COMMON_H

#include <stdint.h>
#include <jansson.h>
#include "http/request.h"

/* An object addressed by /v1/<resource>/{id}, as statement parameters ($1 workspace, $2 id). */
struct hdf_admin_target {
    int64_t id;
    char workspace[24], id_text[24];
};

/* The workspace of the caller, as the text of a statement parameter. */
void admin_workspace_text(struct hdf_req *r, char out[24]);
/* Reads {id}; answers 400 naming `id` and returns -1 when it is not a positive integer. */
int admin_target(struct hdf_req *r, struct hdf_admin_target *t);

/* The request body as an object, reporting into fe a missing or non-object body and every member
 * not in allowed (NULL-terminated). NULL when there is no object to read fields from. */
json_t *admin_body(struct hdf_req *r, const char *const *allowed, hdf_field_errors_t *fe);
/* Answers 400 validation_failed and returns -1 when fe holds errors; 0 otherwise. */
int admin_fail(struct hdf_req *r, hdf_field_errors_t *fe);

/* A string member that may be null: 0 absent, 1 a valid string (*out set), 2 null (*out NULL),
 * -1 invalid (reported). */
int admin_get_nullable_string(json_t *obj, const char *key, size_t max_chars, const char **out, hdf_field_errors_t *fe);

/* GET /v1/<resource>/{id}: stmt ($1 workspace, $2 id) returns the object's JSON, or no row (404
 * "no <what> with this id in your workspace"). what must be a string constant. */
void admin_get(struct hdf_req *r, enum hdf_stmt stmt, const char *what);
/* DELETE /v1/<resource>/{id}: stmt returns the deleted id, or no row (404); answers 204. */
void admin_delete(struct hdf_req *r, enum hdf_stmt stmt, const char *what);
/* For teams, agents and custom fields: a delete refused with 409 naming how many tickets refer to
 * the object, or which automation rules do (rule_ids). */
void admin_delete_referenced(struct hdf_req *r, enum hdf_stmt stmt, const char *what);
/* A 404 for <what>. */
void admin_not_found(struct hdf_req *r, const char *what);
/* 201 Created from a create statement's (id, json) columns, with Location: <collection>/<id>. */
void admin_respond_created(struct hdf_req *r, PGresult *res, const char *collection, int id_col, int json_col);
/* 200 with the JSON in row 0, column col, or 404 for <what> when there is none. */
void admin_respond_one(struct hdf_req *r, PGresult *res, int col, const char *what);

#endif
