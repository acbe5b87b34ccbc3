/*
 * me.c: GET /v1/me, so an integrator can test a key: which key, role and workspace it is.
 * Everything comes from the authenticated key; no query.
 */
#include "http/respond.h"

void me_get(struct hdf_req *r)
{
    const struct hdf_auth *a = &r->auth;
    json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:{s:I, s:s, s:s}}", "key_id", (json_int_t)a->key_id, "label", a->label, "role",
                          a->role_name, "expires_at", a->expires_at != NULL ? json_string(a->expires_at) : json_null(), "workspace",
                          "id", (json_int_t)a->workspace_id, "slug", a->workspace_slug, "name", a->workspace_name);
    respond_json_obj(r, 200, j);
}
