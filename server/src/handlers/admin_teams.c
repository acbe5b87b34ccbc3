/*
 * admin_teams.c: /v1/teams (admin keys): teams are what tickets are assigned to, alongside
 * agents. {name (1..100 characters, unique per workspace ignoring case), description (up to
 * 1000, nullable)}. Deleting a team removes its memberships; tickets referring to it refuse the
 * delete (409, see db/sqlstate.c).
 */
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"

#define TEAMS_CURSOR_KIND "tm"
#define TEAMS_COLLECTION "/v1/teams"
#define TEAM_NAME_MAX 100
#define TEAM_DESCRIPTION_MAX 1000

static const char *const team_fields[] = {"name", "description", NULL};

struct team_input {
    const char *name, *description;
    int has_description; /* present, possibly null */
};

/* Reads the body into in; create requires name. Reports every failing member into fe. */
static void team_read(struct hdf_req *r, int create, struct team_input *in, hdf_field_errors_t *fe)
{
    json_t *body = admin_body(r, team_fields, fe);
    *in = (struct team_input){0};
    if (body == NULL)
        return;
    json_get_string(body, "name", "name", 1, TEAM_NAME_MAX, create, &in->name, fe);
    in->has_description = admin_get_nullable_string(body, "description", TEAM_DESCRIPTION_MAX, &in->description, fe) > 0;
}

void teams_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, TEAMS_CURSOR_KIND, NULL, &page, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text};
    list_query(r, TEAMS_CURSOR_KIND, &page, HDF_STMT_TEAMS_LIST, params);
}

static void on_created(struct hdf_req *r, PGresult *res)
{
    admin_respond_created(r, res, TEAMS_COLLECTION, 0, 1);
}

void team_create(struct hdf_req *r)
{
    struct team_input in;
    hdf_field_errors_t fe = {0};
    team_read(r, 1, &in, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    char ws[24];
    admin_workspace_text(r, ws);
    const char *params[] = {ws, in.name, in.description};
    request_query(r, HDF_STMT_TEAM_CREATE, params, NULL, on_created);
}

void team_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_TEAM_GET, "team");
}

static void on_updated(struct hdf_req *r, PGresult *res)
{
    admin_respond_one(r, res, 0, "team");
}

void team_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct team_input in;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    team_read(r, 0, &in, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {t.workspace, t.id_text, in.name, in.has_description ? "true" : "false", in.description};
    request_query(r, HDF_STMT_TEAM_UPDATE, params, NULL, on_updated);
}

void team_delete(struct hdf_req *r)
{
    admin_delete_referenced(r, HDF_STMT_TEAM_DELETE, "team");
}
