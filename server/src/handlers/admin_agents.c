/*
 * admin_agents.c: /v1/agents (admin keys): the people tickets are assigned to and that
 * X-Acting-Agent-Id names; an agent is not a login. {name (1..200), email (normalised by
 * model/email.c, unique per workspace), team_ids (teams of the workspace, returned sorted),
 * active (default true)}. Lists filter by team_id and active.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "model/email.h"

#define AGENTS_CURSOR_KIND "ag"
#define AGENTS_COLLECTION "/v1/agents"
#define AGENT_NAME_MAX 200
#define AGENT_TEAMS_MAX 100

static const char *const agent_fields[] = {"name", "email", "team_ids", "active", NULL};

struct agent_input {
    const char *name, *email, *active; /* active: "true", "false" or NULL (absent) */
    char email_buf[HDF_EMAIL_MAX + 1];
    char *team_ids; /* the JSON array, malloc'd; NULL when absent */
};

static void agent_read_email(json_t *body, int create, struct agent_input *in, hdf_field_errors_t *fe)
{
    const char *raw;
    if (json_get_string(body, "email", "email", 1, SIZE_MAX, create, &raw, fe) <= 0)
        return;
    enum hdf_email_result res = email_normalize(raw, strlen(raw), in->email_buf);
    if (res == HDF_EMAIL_OK)
        in->email = in->email_buf;
    else
        field_errors_add(fe, "email",
                         res == HDF_EMAIL_TOO_LONG ? "too_long"
                         : res == HDF_EMAIL_EMPTY  ? "too_short"
                                                   : "invalid",
                         "email %s", email_result_message(res));
}

/* team_ids[i]: a positive integer that no earlier element repeats. */
static void agent_check_team_id(json_t *ids, size_t i, hdf_field_errors_t *fe)
{
    json_t *v = json_array_get(ids, i);
    char field[32];
    snprintf(field, sizeof(field), "team_ids[%zu]", i);
    if (!json_is_integer(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be an integer (a team id)", field);
        return;
    }
    if (json_integer_value(v) < 1) {
        field_errors_add(fe, field, "invalid", "%s must be a positive integer", field);
        return;
    }
    for (size_t j = 0; j < i; j++) {
        json_t *w = json_array_get(ids, j);
        if (json_is_integer(w) && json_integer_value(w) == json_integer_value(v)) {
            field_errors_add(fe, field, "duplicate", "%s repeats an earlier team id", field);
            return;
        }
    }
}

static void agent_read_team_ids(json_t *body, struct agent_input *in, hdf_field_errors_t *fe)
{
    json_t *ids = json_object_get(body, "team_ids");
    size_t before = field_errors_count(fe);
    if (ids == NULL)
        return;
    if (!json_is_array(ids)) {
        field_errors_add(fe, "team_ids", "invalid_type", "team_ids must be an array of team ids");
        return;
    }
    if (json_array_size(ids) > AGENT_TEAMS_MAX) {
        field_errors_add(fe, "team_ids", "too_long", "team_ids may list at most %d teams", AGENT_TEAMS_MAX);
        return;
    }
    for (size_t i = 0; i < json_array_size(ids); i++)
        agent_check_team_id(ids, i, fe);
    if (field_errors_count(fe) == before) {
        size_t len;
        in->team_ids = json_dump_compact(ids, &len);
    }
}

/* Reads the body into in (free in->team_ids afterwards); create requires name and email. */
static void agent_read(struct hdf_req *r, int create, struct agent_input *in, hdf_field_errors_t *fe)
{
    json_t *body = admin_body(r, agent_fields, fe);
    int active;
    memset(in, 0, sizeof(*in));
    if (body == NULL)
        return;
    json_get_string(body, "name", "name", 1, AGENT_NAME_MAX, create, &in->name, fe);
    agent_read_email(body, create, in, fe);
    if (json_get_bool(body, "active", "active", active, &active, fe) > 0)
        in->active = active ? "true" : "false";
    agent_read_team_ids(body, in, fe);
}

/* Reports team_ids[i] not_found for each 0-based position in a Postgres array text "{1,3}".
 * Returns how many. */
static size_t agent_report_missing(const char *positions, hdf_field_errors_t *fe)
{
    size_t n = 0;
    for (const char *p = positions; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        char *end;
        long long i = strtoll(p, &end, 10);
        char field[32];
        snprintf(field, sizeof(field), "team_ids[%lld]", i);
        field_errors_add(fe, field, "not_found", "%s is not a team of your workspace", field);
        n++;
        p = end - 1;
    }
    return n;
}

/* Answers 400 when the statement found team ids that are not the workspace's (column 0). */
static int agent_teams_missing(struct hdf_req *r, PGresult *res)
{
    hdf_field_errors_t fe = {0};
    if (PQntuples(res) == 0 || agent_report_missing(PQgetvalue(res, 0, 0), &fe) == 0)
        return 0;
    respond_field_errors(r, &fe);
    return 1;
}

/* A list filter: team_id (a positive integer) and active (true or false), or NULL when absent. */
static void agents_read_filters(struct hdf_req *r, char team_id[24], const char **team, const char **active, hdf_field_errors_t *fe)
{
    const char *t = query_get(&r->query, "team_id"), *a = query_get(&r->query, "active");
    *team = *active = NULL;
    if (t != NULL) {
        int64_t id = parse_id(t, strlen(t));
        if (id < 0)
            field_errors_add(fe, "team_id", "invalid", "team_id must be a positive integer below 2^63");
        snprintf(team_id, 24, "%lld", (long long)id);
        *team = team_id;
    }
    if (a != NULL && strcmp(a, "true") != 0 && strcmp(a, "false") != 0)
        field_errors_add(fe, "active", "invalid", "active must be true or false");
    *active = a;
}

void agents_list(struct hdf_req *r)
{
    static const char *const filters[] = {"team_id", "active", NULL};
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    char team_id[24];
    const char *team, *active;
    list_read_page(r, AGENTS_CURSOR_KIND, filters, &page, &fe);
    agents_read_filters(r, team_id, &team, &active, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, team, active};
    list_query(r, AGENTS_CURSOR_KIND, &page, HDF_STMT_AGENTS_LIST, params);
}

/* (missing team positions, id, json) */
static void on_created(struct hdf_req *r, PGresult *res)
{
    if (agent_teams_missing(r, res))
        return;
    admin_respond_created(r, res, AGENTS_COLLECTION, 1, 2);
}

void agent_create(struct hdf_req *r)
{
    struct agent_input in;
    hdf_field_errors_t fe = {0};
    agent_read(r, 1, &in, &fe);
    if (admin_fail(r, &fe) != 0) {
        free(in.team_ids);
        return;
    }
    char ws[24];
    admin_workspace_text(r, ws);
    const char *params[] = {ws, in.name, in.email, in.active != NULL ? in.active : "true",
                            in.team_ids != NULL ? in.team_ids : "[]"};
    request_query(r, HDF_STMT_AGENT_CREATE, params, NULL, on_created);
    free(in.team_ids);
}

void agent_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_AGENT_GET, "agent");
}

/* (missing team positions, json or NULL). No such agent comes first: 404 before 400. */
static void on_updated(struct hdf_req *r, PGresult *res)
{
    if (PQgetisnull(res, 0, 1)) {
        admin_not_found(r, "agent");
        return;
    }
    if (agent_teams_missing(r, res))
        return;
    admin_respond_one(r, res, 1, "agent");
}

void agent_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct agent_input in;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    agent_read(r, 0, &in, &fe);
    if (admin_fail(r, &fe) != 0) {
        free(in.team_ids);
        return;
    }
    const char *params[] = {t.workspace, t.id_text, in.name, in.email, in.active, in.team_ids};
    request_query(r, HDF_STMT_AGENT_UPDATE, params, NULL, on_updated);
    free(in.team_ids);
}

void agent_delete(struct hdf_req *r)
{
    admin_delete_referenced(r, HDF_STMT_AGENT_DELETE, "agent");
}
