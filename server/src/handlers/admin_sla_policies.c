/*
 * admin_sla_policies.c: /v1/sla-policies (admin keys): the response and resolution targets of a
 * workspace, one policy per priority: {name (1..200), priority (low|normal|high|urgent, unique per
 * workspace: 409 on a second), first_response_minutes, resolution_minutes (1..525600, a year)}.
 * A ticket gets the policy of its priority when created and whenever its priority changes
 * (migrations/0006, trigger hdf_ticket_sla); editing or deleting a policy leaves the due times
 * tickets already have (docs/automation.md, SLA).
 */
#include <stdio.h>
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "model/ticket.h"

#define SLA_CURSOR_KIND "sl"
#define SLA_COLLECTION "/v1/sla-policies"
#define SLA_NAME_MAX 200
#define SLA_MINUTES_MAX 525600

static const char *const sla_fields[] = {"name", "priority", "first_response_minutes", "resolution_minutes", NULL};

struct sla_input {
    const char *name, *priority;
    char frm[16], rm[16]; /* "" when absent */
};

/* minutes: an integer 1..SLA_MINUTES_MAX into out (as text); "" when absent. */
static void sla_read_minutes(json_t *body, const char *key, int required, char out[16], hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(body, key);
    out[0] = '\0';
    if (v == NULL) {
        if (required)
            field_errors_add(fe, key, "required", "%s is required", key);
        return;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > SLA_MINUTES_MAX) {
        field_errors_add(fe, key, json_is_integer(v) ? "invalid" : "invalid_type", "%s must be an integer from 1 to %d", key,
                         SLA_MINUTES_MAX);
        return;
    }
    snprintf(out, 16, "%lld", (long long)json_integer_value(v));
}

static void sla_read(struct hdf_req *r, int create, struct sla_input *in, hdf_field_errors_t *fe)
{
    json_t *body = admin_body(r, sla_fields, fe);
    *in = (struct sla_input){0};
    if (body == NULL)
        return;
    json_get_string(body, "name", "name", 1, SLA_NAME_MAX, create, &in->name, fe);
    if (create || json_object_get(body, "priority") != NULL)
        json_get_enum(body, "priority", "priority", hdf_ticket_priorities, NULL, &in->priority, fe);
    if (create && in->priority == NULL && json_object_get(body, "priority") == NULL)
        field_errors_add(fe, "priority", "required", "priority is required");
    sla_read_minutes(body, "first_response_minutes", create, in->frm, fe);
    sla_read_minutes(body, "resolution_minutes", create, in->rm, fe);
}

static const char *or_null(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

void sla_policies_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, SLA_CURSOR_KIND, NULL, &page, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text};
    list_query(r, SLA_CURSOR_KIND, &page, HDF_STMT_SLA_POLICIES_LIST, params);
}

static void on_created(struct hdf_req *r, PGresult *res)
{
    admin_respond_created(r, res, SLA_COLLECTION, 0, 1);
}

void sla_policy_create(struct hdf_req *r)
{
    struct sla_input in;
    hdf_field_errors_t fe = {0};
    sla_read(r, 1, &in, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    char ws[24];
    admin_workspace_text(r, ws);
    const char *params[] = {ws, in.name, in.priority, in.frm, in.rm};
    request_query(r, HDF_STMT_SLA_POLICY_CREATE, params, NULL, on_created);
}

void sla_policy_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_SLA_POLICY_GET, "SLA policy");
}

static void on_updated(struct hdf_req *r, PGresult *res)
{
    admin_respond_one(r, res, 0, "SLA policy");
}

void sla_policy_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct sla_input in;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    sla_read(r, 0, &in, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {t.workspace, t.id_text, in.name, in.priority, or_null(in.frm), or_null(in.rm)};
    request_query(r, HDF_STMT_SLA_POLICY_UPDATE, params, NULL, on_updated);
}

void sla_policy_delete(struct hdf_req *r)
{
    admin_delete(r, HDF_STMT_SLA_POLICY_DELETE, "SLA policy");
}
