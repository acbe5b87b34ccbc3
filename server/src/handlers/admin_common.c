/*
 * admin_common.c: shared parts of the directory handlers (see admin_common.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include "handlers/admin_common.h"
#include "http/respond.h"
#include "common/json_util.h"

void admin_workspace_text(struct hdf_req *r, char out[24])
{
    snprintf(out, 24, "%lld", (long long)r->auth.workspace_id);
}

int admin_target(struct hdf_req *r, struct hdf_admin_target *t)
{
    t->id = request_path_id(r, 0, "id");
    if (t->id < 0)
        return -1;
    admin_workspace_text(r, t->workspace);
    snprintf(t->id_text, sizeof(t->id_text), "%lld", (long long)t->id);
    return 0;
}

json_t *admin_body(struct hdf_req *r, const char *const *allowed, hdf_field_errors_t *fe)
{
    if (!json_is_object(r->body)) {
        field_errors_add(fe, "body", r->body == NULL ? "required" : "invalid_type", "the body must be a JSON object");
        return NULL;
    }
    json_reject_unknown(r->body, allowed, "", fe);
    return r->body;
}

int admin_fail(struct hdf_req *r, hdf_field_errors_t *fe)
{
    if (field_errors_count(fe) == 0)
        return 0;
    respond_field_errors(r, fe);
    return -1;
}

int admin_get_nullable_string(json_t *obj, const char *key, size_t max_chars, const char **out, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v != NULL && json_is_null(v))
        return 2;
    return json_get_string(obj, key, key, 0, max_chars, 0, out, fe);
}

void admin_not_found(struct hdf_req *r, const char *what)
{
    respond_problem_fmt(r, HDF_E_NOT_FOUND, "no %s with this id in your workspace", what);
}

void admin_respond_one(struct hdf_req *r, PGresult *res, int col, const char *what)
{
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, col)) {
        admin_not_found(r, what);
        return;
    }
    respond_json(r, 200, PQgetvalue(res, 0, col), (size_t)PQgetlength(res, 0, col));
}

void admin_respond_created(struct hdf_req *r, PGresult *res, const char *collection, int id_col, int json_col)
{
    char location[96];
    snprintf(location, sizeof(location), "%s/%s", collection, PQgetvalue(res, 0, id_col));
    respond_add_header(r, "Location", location);
    respond_json(r, 201, PQgetvalue(res, 0, json_col), (size_t)PQgetlength(res, 0, json_col));
}

/* handler_str holds the object's name for the 404 detail. */
static void on_get(struct hdf_req *r, PGresult *res)
{
    admin_respond_one(r, res, 0, r->handler_str);
}

static void on_delete(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0)
        admin_not_found(r, r->handler_str);
    else
        respond_no_content(r);
}

static void by_id(struct hdf_req *r, enum hdf_stmt stmt, const char *what, hdf_query_done_fn done)
{
    struct hdf_admin_target t;
    if (admin_target(r, &t) != 0)
        return;
    const char *params[] = {t.workspace, t.id_text};
    r->handler_str = what;
    request_query(r, stmt, params, NULL, done);
}

void admin_get(struct hdf_req *r, enum hdf_stmt stmt, const char *what)
{
    by_id(r, stmt, what, on_get);
}

void admin_delete(struct hdf_req *r, enum hdf_stmt stmt, const char *what)
{
    by_id(r, stmt, what, on_delete);
}

/* A Postgres bigint[] literal ({3,5}) as a JSON array of ids. */
static json_t *pg_ids(const char *s)
{
    json_t *ids = json_array();
    for (const char *p = s; *p != '\0';) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end != p)
            json_array_append_new(ids, json_integer(v));
        p = end != p ? end : p + 1;
    }
    return ids;
}

/* 409: automation rules refer to the object (rule_ids names them). */
static void respond_rules_refer(struct hdf_req *r, json_t *ids)
{
    char detail[400], *list = json_dumps(ids, JSON_COMPACT);
    snprintf(detail, sizeof(detail), "automation rules %s refer to this %s; change or delete them first (see rule_ids)", list,
             r->handler_str);
    free(list);
    respond_problem_member(r, HDF_E_CONFLICT, detail, "rule_ids", ids);
}

/* (deleted id or NULL, tickets referring, exists, rules referring): tickets refer to it → 409
 * with their number; rules → 409 with their ids. */
static void on_delete_referenced(struct hdf_req *r, PGresult *res)
{
    json_t *rules = pg_ids(PQgetvalue(res, 0, 3));
    if (!PQgetisnull(res, 0, 0)) {
        json_decref(rules);
        respond_no_content(r);
    } else if (PQgetvalue(res, 0, 2)[0] != 't') {
        json_decref(rules);
        admin_not_found(r, r->handler_str);
    } else if (json_array_size(rules) > 0) {
        respond_rules_refer(r, rules);
    } else {
        json_decref(rules);
        long long n = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        respond_problem_fmt(r, HDF_E_CONFLICT, "%lld ticket%s refer%s to this %s; reassign %s first", n, n == 1 ? "" : "s",
                            n == 1 ? "s" : "", r->handler_str, n == 1 ? "it" : "them");
    }
}

void admin_delete_referenced(struct hdf_req *r, enum hdf_stmt stmt, const char *what)
{
    by_id(r, stmt, what, on_delete_referenced);
}
