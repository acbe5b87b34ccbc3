/*
 * admin_automations.c: /v1/automations (admin keys): a workspace's automation rules
 * (docs/automation.md). A rule is validated whole in C on every write (automation_rule_parse: 400s
 * naming paths like conditions.all[2].op); the custom fields it names must be defined (and a
 * set_custom_field value must suit the field's type); the teams and agents it names must exist,
 * checked by the write statement, which also stores what the rule refers to so that deleting
 * those is refused (409 naming the rules). A PATCH replaces the members it gives and validates the
 * result; it is written only if the rule did not change meanwhile (revision), else 409.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "automation/automation.h"
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "model/custom_field.h"

#define AUTOMATIONS_CURSOR_KIND "au"
#define AUTOMATIONS_COLLECTION "/v1/automations"

struct auto_write {
    json_t *def; /* the definition to store */
    struct hdf_auto_rule rule;
    struct hdf_auto_refs refs;
    json_t *defs_ticket, *defs_customer;
    struct hdf_admin_target t;
    char revision[24];
    int update;
};

static void auto_write_dispose(void *p)
{
    struct auto_write *w = p;
    json_decref(w->def);
    automation_rule_free(&w->rule);
    automation_refs_free(&w->refs);
    json_decref(w->defs_ticket);
    json_decref(w->defs_customer);
}

static struct auto_write *auto_write_new(struct hdf_req *r)
{
    struct auto_write *w = h2o_mem_alloc_shared(&r->req->pool, sizeof(*w), auto_write_dispose);
    memset(w, 0, sizeof(*w));
    r->handler_data = w;
    return w;
}

/* Column i of the refs pairs ([value, path] or [key, value, path]) as a JSON array text. */
static char *refs_column(struct hdf_req *r, const json_t *pairs, size_t i)
{
    json_t *out = json_array(), *p;
    size_t k;
    json_array_foreach(pairs, k, p) json_array_append(out, json_array_get(p, i));
    size_t len;
    char *s = json_dump_compact(out, &len), *copy = request_strdup(r, s);
    free(s);
    json_decref(out);
    return copy;
}

static char *dump(struct hdf_req *r, const json_t *j)
{
    size_t len;
    char *s = json_dump_compact(j, &len), *copy = request_strdup(r, s);
    free(s);
    return copy;
}

/* missing: a Postgres int[] of positions into pairs; each is reported at its path. */
static void report_missing(const char *missing, const json_t *pairs, const char *what, hdf_field_errors_t *fe)
{
    for (const char *p = missing; *p != '\0';) {
        char *end;
        long long i = strtoll(p, &end, 10);
        if (end != p) {
            json_t *pair = json_array_get(pairs, (size_t)i);
            field_errors_add(fe, json_string_value(json_array_get(pair, 1)), "not_found", "%s names no %s of this workspace",
                             json_string_value(json_array_get(pair, 1)), what);
        }
        p = end != p ? end : p + 1;
    }
}

/* (missing teams, missing agents, [id,] json) */
static void on_written(struct hdf_req *r, PGresult *res)
{
    struct auto_write *w = r->handler_data;
    hdf_field_errors_t fe = {0};
    report_missing(PQgetvalue(res, 0, 0), w->refs.team_ids, "team", &fe);
    report_missing(PQgetvalue(res, 0, 1), w->refs.agent_ids, "agent", &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    if (!w->update) {
        admin_respond_created(r, res, AUTOMATIONS_COLLECTION, 2, 3);
    } else if (PQgetisnull(res, 0, 2)) {
        respond_problem(r, HDF_E_CONFLICT, "the rule was changed or deleted by another request meanwhile; retry", NULL);
    } else {
        respond_json(r, 200, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
    }
}

static void auto_store(struct hdf_req *r)
{
    struct auto_write *w = r->handler_data;
    char position[24];
    snprintf(position, sizeof(position), "%lld", (long long)w->rule.position);
    json_t *conditions = json_object_get(w->def, "conditions");
    const char *fields[] = {w->rule.name,
                            position,
                            w->rule.enabled ? "true" : "false",
                            dump(r, json_object_get(w->def, "events")),
                            conditions != NULL && !json_is_null(conditions) ? dump(r, conditions) : "{}",
                            dump(r, json_object_get(w->def, "actions")),
                            refs_column(r, w->refs.team_ids, 0),
                            refs_column(r, w->refs.agent_ids, 0),
                            refs_column(r, w->refs.ticket_fields, 0),
                            refs_column(r, w->refs.customer_fields, 0)};
    const char *params[13] = {w->t.workspace};
    size_t at = 1;
    if (w->update) {
        params[at++] = w->t.id_text;
        params[at++] = w->revision;
    }
    memcpy(&params[at], fields, sizeof(fields));
    request_query(r, w->update ? HDF_STMT_AUTOMATION_UPDATE : HDF_STMT_AUTOMATION_CREATE, params, NULL, on_written);
}

/* The custom fields a rule names must be defined; a value it sets must suit the field's type. */
static void check_custom_fields(struct auto_write *w, hdf_field_errors_t *fe)
{
    size_t i;
    json_t *p, *d;
    const struct {
        const json_t *pairs, *defs;
        const char *object;
    } lists[] = {{w->refs.ticket_fields, w->defs_ticket, "ticket"}, {w->refs.customer_fields, w->defs_customer, "customer"}};
    for (size_t l = 0; l < 2; l++) {
        json_array_foreach(lists[l].pairs, i, p)
        {
            const char *key = json_string_value(json_array_get(p, 0));
            int found = 0;
            size_t k;
            json_array_foreach(lists[l].defs, k, d) found |= strcmp(json_string_value(json_object_get(d, "key")), key) == 0;
            if (!found)
                field_errors_add(fe, json_string_value(json_array_get(p, 1)), "not_found", "no %s custom field has the key %s",
                                 lists[l].object, key);
        }
    }
    json_array_foreach(w->refs.custom_values, i, p)
    {
        const char *path = json_string_value(json_array_get(p, 2));
        json_t *one = json_pack("{s:O}", json_string_value(json_array_get(p, 0)), json_array_get(p, 1));
        hdf_field_errors_t sub = {0};
        custom_fields_check_values(one, w->defs_ticket, "value", &sub);
        if (field_errors_count(&sub) > 0) {
            json_t *e = json_array_get(sub.list, 0);
            field_errors_add(fe, path, json_string_value(json_object_get(e, "code")), "%s: %s", path,
                             json_string_value(json_object_get(e, "message")));
        }
        field_errors_clear(&sub);
        json_decref(one);
    }
}

static void auto_check_and_store(struct hdf_req *r)
{
    hdf_field_errors_t fe = {0};
    check_custom_fields(r->handler_data, &fe);
    if (admin_fail(r, &fe) == 0)
        auto_store(r);
}

static json_t *defs_of(PGresult *res)
{
    json_t *d = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    return d != NULL ? d : json_array();
}

static void on_customer_defs(struct hdf_req *r, PGresult *res)
{
    ((struct auto_write *)r->handler_data)->defs_customer = defs_of(res);
    auto_check_and_store(r);
}

static void load_customer_defs(struct hdf_req *r)
{
    struct auto_write *w = r->handler_data;
    if (json_array_size(w->refs.customer_fields) == 0) {
        auto_check_and_store(r);
        return;
    }
    const char *params[] = {w->t.workspace, "customer"};
    request_query(r, HDF_STMT_CUSTOM_FIELD_DEFS, params, NULL, on_customer_defs);
}

static void on_ticket_defs(struct hdf_req *r, PGresult *res)
{
    ((struct auto_write *)r->handler_data)->defs_ticket = defs_of(res);
    load_customer_defs(r);
}

/* Validates w->def whole, then checks what it refers to (custom field definitions are read only
 * when the rule names custom fields) and writes it. */
static void auto_validate_write(struct hdf_req *r)
{
    struct auto_write *w = r->handler_data;
    hdf_field_errors_t fe = {0};
    if (automation_rule_parse(w->def, w->t.id, &w->rule, &w->refs, &fe) != 0) {
        respond_field_errors(r, &fe);
        return;
    }
    if (json_array_size(w->refs.ticket_fields) + json_array_size(w->refs.custom_values) == 0) {
        load_customer_defs(r);
        return;
    }
    const char *params[] = {w->t.workspace, "ticket"};
    request_query(r, HDF_STMT_CUSTOM_FIELD_DEFS, params, NULL, on_ticket_defs);
}

void automations_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, AUTOMATIONS_CURSOR_KIND, NULL, &page, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text};
    list_query(r, AUTOMATIONS_CURSOR_KIND, &page, HDF_STMT_AUTOMATIONS_LIST, params);
}

void automation_create(struct hdf_req *r)
{
    struct auto_write *w = auto_write_new(r);
    admin_workspace_text(r, w->t.workspace);
    w->def = json_incref(r->body);
    auto_validate_write(r);
}

void automation_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_AUTOMATION_GET, "automation rule");
}

/* (revision, definition): the body's members replace the stored ones. */
static void on_def(struct hdf_req *r, PGresult *res)
{
    struct auto_write *w = r->handler_data;
    if (PQntuples(res) == 0) {
        admin_not_found(r, "automation rule");
        return;
    }
    strlcpy(w->revision, PQgetvalue(res, 0, 0), sizeof(w->revision));
    w->def = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    if (w->def == NULL) {
        respond_problem(r, HDF_E_INTERNAL, "the stored rule could not be read", NULL);
        return;
    }
    json_object_update(w->def, r->body);
    auto_validate_write(r);
}

void automation_update(struct hdf_req *r)
{
    struct auto_write *w = auto_write_new(r);
    if (admin_target(r, &w->t) != 0)
        return;
    w->update = 1;
    hdf_field_errors_t fe = {0};
    static const char *const members[] = {"name", "position", "enabled", "events", "conditions", "actions", NULL};
    admin_body(r, members, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {w->t.workspace, w->t.id_text};
    request_query(r, HDF_STMT_AUTOMATION_DEF, params, NULL, on_def);
}

void automation_delete(struct hdf_req *r)
{
    admin_delete(r, HDF_STMT_AUTOMATION_DELETE, "automation rule");
}
