/*
 * api_keys.c: /v1/api-keys, admin keys only: list and read the workspace's keys (never hashes or
 * tokens) and relabel one. Creating and revoking keys stays in SQL (hdf_admin), with whoever
 * administers the database, as the contract says.
 */
#include <stdio.h>
#include "http/respond.h"
#include "common/cursor.h"
#include "common/json_util.h"

#define API_KEYS_CURSOR_KIND "ak"
#define LIST_LIMIT_DEFAULT 25
#define LIST_LIMIT_MAX 100

/* limit and cursor of a list request; answers 400 naming the field and returns -1 when invalid. */
static int list_params(struct hdf_req *r, const char *cursor_kind, int *limit, int64_t *after)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    hdf_field_errors_t fe = {0};
    const char *unknown = query_first_unknown(&r->query, allowed);
    const char *l = query_get(&r->query, "limit"), *c = query_get(&r->query, "cursor");
    *limit = LIST_LIMIT_DEFAULT;
    *after = 0;
    if (unknown != NULL)
        field_errors_add(&fe, unknown, "unknown_parameter", "%s is not a parameter of this list", unknown);
    if (l != NULL) {
        const char *errstr = NULL;
        *limit = (int)strtonum(l, 1, LIST_LIMIT_MAX, &errstr);
        if (errstr != NULL)
            field_errors_add(&fe, "limit", "out_of_range", "limit must be an integer from 1 to %d", LIST_LIMIT_MAX);
    }
    if (c != NULL && cursor_decode_id(cursor_kind, c, after) != 0)
        field_errors_add(&fe, "cursor", "invalid", "cursor is not one this list returned");
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return -1;
    }
    return 0;
}

static void on_list(struct hdf_req *r, PGresult *res)
{
    int limit = (int)r->handler_arg;
    char next[HDF_CURSOR_MAX];
    int more = PQntuples(res) > limit;
    if (more)
        cursor_encode_id(API_KEYS_CURSOR_KIND, strtoll(PQgetvalue(res, limit - 1, 0), NULL, 10), next);
    respond_list(r, res, 1, limit, more ? next : NULL);
}

void api_keys_list(struct hdf_req *r)
{
    int limit;
    int64_t after;
    if (list_params(r, API_KEYS_CURSOR_KIND, &limit, &after) != 0)
        return;
    char ws[24], a[24], l[16];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(a, sizeof(a), "%lld", (long long)after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    const char *params[] = {ws, a, l};
    r->handler_arg = limit;
    request_query(r, HDF_STMT_API_KEYS_LIST, params, NULL, on_list);
}

/* One key's JSON in column 0, or 404. */
static void on_one(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no API key with this id in your workspace", NULL);
        return;
    }
    respond_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void api_key_get(struct hdf_req *r)
{
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    char ws[24], ids[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {ws, ids};
    request_query(r, HDF_STMT_API_KEY_GET, params, NULL, on_one);
}

void api_key_update(struct hdf_req *r)
{
    static const char *const allowed[] = {"label", NULL};
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    hdf_field_errors_t fe = {0};
    const char *label = NULL;
    if (!json_is_object(r->body)) {
        field_errors_add(&fe, "body", r->body == NULL ? "required" : "invalid_type", "the body must be a JSON object");
    } else {
        json_reject_unknown(r->body, allowed, "", &fe);
        json_get_string(r->body, "label", "label", 1, 200, 1, &label, &fe);
    }
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    char ws[24], ids[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {ws, ids, label};
    request_query(r, HDF_STMT_API_KEY_UPDATE_LABEL, params, NULL, on_one);
}
