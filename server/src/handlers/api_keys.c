/*
 * api_keys.c: /v1/api-keys, admin keys only: list and read the workspace's keys (never hashes or
 * tokens) and relabel one. Creating and revoking keys stays in SQL (hdf_admin), with whoever
 * administers the database, as the contract says.
 */
#include <stdio.h>
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"

#define API_KEYS_CURSOR_KIND "ak"

void api_keys_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, API_KEYS_CURSOR_KIND, NULL, &page, &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    const char *params[] = {page.workspace, page.after_text, page.fetch_text};
    list_query(r, API_KEYS_CURSOR_KIND, &page, HDF_STMT_API_KEYS_LIST, params);
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
