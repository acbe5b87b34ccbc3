/*
 * automation_dry_run.c: POST /v1/automations/dry-run (CONTRACT.md, Admin resources;
 * docs/automation.md, Dry-run). What the workspace's committed rules would do to a create, a
 * PATCH or a message: matched rules, the changes, a conflict and the trace. The embedded body is
 * validated as the real endpoint validates it (errors named under its member: `ticket.subject`);
 * everything needed is read by one statement, which also refreshes this thread's rules cache, and
 * nothing is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "handlers/ticket_rules.h"
#include "handlers/tickets.h"
#include "http/respond.h"
#include "model/custom_field.h"
#include "model/ticket.h"
#include "sanitize/sanitize.h"

struct dry_ctx {
    unsigned event;
    int64_t ticket_id;
    struct hdf_ticket_create in; /* ticket.created */
    const char *html;            /* the first message or the message, sanitized; NULL when none */
    const char *author_type;
    int internal;
};

static void dry_ctx_dispose(void *p)
{
    ticket_create_free(&((struct dry_ctx *)p)->in);
}

/* Moves sub's errors into fe, their fields named under member ("ticket.subject"). */
static void errors_under(hdf_field_errors_t *fe, hdf_field_errors_t *sub, const char *member)
{
    size_t i;
    json_t *e;
    json_array_foreach(sub->list, i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        field_errors_add(fe, "", json_string_value(json_object_get(e, "code")), "%s",
                         json_string_value(json_object_get(e, "message")));
        json_t *added = json_array_get(fe->list, json_array_size(fe->list) - 1);
        json_object_set_new(added, "field", json_sprintf("%s.%s", member, field != NULL ? field : ""));
    }
    field_errors_clear(sub);
}

/* The member holding the embedded body, which must be an object. */
static json_t *member_object(json_t *body, const char *name, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(body, name);
    if (!json_is_object(v)) {
        field_errors_add(fe, name, v == NULL ? "required" : "invalid_type", "%s must be an object", name);
        return NULL;
    }
    return v;
}

static void read_ticket_id(struct dry_ctx *c, json_t *body, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(body, "ticket_id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        field_errors_add(fe, "ticket_id", v == NULL ? "required" : "invalid_type", "ticket_id must be a positive integer id");
    else
        c->ticket_id = json_integer_value(v);
}

/* Checks the members the event allows; returns 0 or -1 with fe filled. */
static int validate_members(struct dry_ctx *c, json_t *body, hdf_field_errors_t *fe)
{
    const char *allowed[4] = {"event", NULL, NULL, NULL}, *key;
    json_t *v;
    if (c->event == HDF_AUTO_EV_TICKET_CREATED)
        allowed[1] = "ticket";
    else
        allowed[1] = "ticket_id", allowed[2] = c->event == HDF_AUTO_EV_TICKET_UPDATED ? "changes" : "message";
    json_object_foreach(body, key, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i] != NULL; i++)
            ok |= strcmp(allowed[i], key) == 0;
        if (!ok)
            field_errors_add(fe, key, "unknown_field", "%s is not a member of a %s dry-run", key,
                             json_string_value(json_object_get(body, "event")));
    }
    return field_errors_count(fe) > 0 ? -1 : 0;
}

/* The embedded body, validated as its endpoint does before any query. */
static void validate_embedded(struct hdf_req *r, struct dry_ctx *c, hdf_field_errors_t *fe)
{
    hdf_field_errors_t sub = {0};
    json_t *o;
    if (c->event == HDF_AUTO_EV_TICKET_CREATED) {
        if ((o = member_object(r->body, "ticket", fe)) != NULL && ticket_validate_create(o, &c->in, &sub) != 0)
            errors_under(fe, &sub, "ticket");
        c->author_type = "customer";
        return;
    }
    read_ticket_id(c, r->body, fe);
    if (c->event == HDF_AUTO_EV_TICKET_UPDATED) {
        if ((o = member_object(r->body, "changes", fe)) == NULL)
            return;
        json_t *blank = json_pack("{s:[], s:{}}", "tags", "custom_fields");
        json_decref(ticket_apply_patch(blank, o, &sub));
        json_decref(blank);
        errors_under(fe, &sub, "changes");
        return;
    }
    struct hdf_message_create m;
    if ((o = member_object(r->body, "message", fe)) != NULL && message_validate_create(o, &m, &sub) != 0)
        errors_under(fe, &sub, "message");
    else if (o != NULL)
        c->author_type = m.author_type, c->internal = m.internal, c->html = request_strdup(r, m.body);
}

/* {field: {from, to}} over the rules' effects in order: each field from its first from to its last to. */
static json_t *net_changes(const json_t *effects)
{
    json_t *out = json_object(), *e, *ch;
    size_t i;
    const char *field;
    json_array_foreach(effects, i, e)
    {
        json_object_foreach(json_object_get(e, "changes"), field, ch)
        {
            json_t *have = json_object_get(out, field);
            if (have == NULL)
                json_object_set(out, field, ch);
            else
                json_object_set_new(
                    out, field, json_pack("{s:O, s:O}", "from", json_object_get(have, "from"), "to", json_object_get(ch, "to")));
        }
    }
    return out;
}

static void respond_result(struct hdf_req *r, struct hdf_auto_result *res)
{
    int ok = res->conflict == NULL;
    json_t *out = json_pack("{s:O, s:o, s:o, s:o, s:o, s:O}", "matched", res->matched, "changes",
                            ok ? net_changes(res->effects) : json_object(), "effects",
                            ok ? json_incref(res->effects) : json_array(), "notes", ok ? json_incref(res->notes) : json_array(),
                            "conflict", ok ? json_null() : json_incref(res->conflict), "trace", res->trace);
    respond_json_obj(r, 200, out);
}

/* The rules over s; a PATCH that changes nothing runs none (as the real one). */
static void run(struct hdf_req *r, struct dry_ctx *c, struct hdf_auto_subject *s)
{
    struct hdf_auto_ruleset *rs = ticket_rules_get(r);
    struct hdf_auto_result res;
    char *text = NULL;
    size_t len;
    if (c->html != NULL && sanitize_text_content(c->html, strlen(c->html), &text, &len) != SANITIZE_OK)
        text = NULL;
    s->message_text = text;
    s->message_author_type = c->author_type;
    s->message_internal = c->internal;
    int none = s->previous != NULL && json_equal(s->previous, s->ticket);
    if (none) {
        json_t *empty = json_array();
        struct hdf_auto_result blank = {.trace = empty, .matched = empty, .effects = empty, .notes = empty};
        respond_result(r, &blank);
        json_decref(empty);
    } else {
        automation_run(rs, c->event, s, 1, &res);
        respond_result(r, &res);
        automation_result_free(&res);
    }
    free(text);
    automation_ruleset_release(rs);
}

static json_t *load_col(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : json_loads(PQgetvalue(res, 0, col), 0, NULL);
}

/* The created ticket's checks against the workspace (custom fields, team, agent), then the pass. */
static void run_created(struct hdf_req *r, struct dry_ctx *c, PGresult *res, hdf_field_errors_t *fe)
{
    json_t *dt = load_col(res, 4), *dc = load_col(res, 5), *stored = load_col(res, 3);
    if (c->in.custom_fields != NULL)
        custom_fields_check_values(c->in.custom_fields, dt, "ticket.custom_fields", fe);
    if (c->in.customer_custom_fields != NULL)
        custom_fields_check_values(c->in.customer_custom_fields, dc, "ticket.customer.custom_fields", fe);
    if (PQgetvalue(res, 0, 6)[0] != 't')
        field_errors_add(fe, "ticket.team_id", "not_found", "team_id names no team of this workspace");
    if (PQgetvalue(res, 0, 7)[0] != 't')
        field_errors_add(fe, "ticket.assignee_id", "not_found", "assignee_id names no agent of this workspace");
    if (field_errors_count(fe) > 0) {
        respond_field_errors(r, fe);
    } else {
        struct hdf_auto_subject s = {.ticket = ticket_create_fields(&c->in)};
        s.customer = stored != NULL ? json_incref(stored) : ticket_create_customer(&c->in);
        run(r, c, &s);
        json_decref(s.ticket);
        json_decref((json_t *)s.customer);
    }
    json_decref(dt);
    json_decref(dc);
    json_decref(stored);
}

/* An existing ticket: the PATCH applied (and checked) or the message, then the pass. */
static void run_on_ticket(struct hdf_req *r, struct dry_ctx *c, PGresult *res, hdf_field_errors_t *fe)
{
    json_t *old = load_col(res, 2), *customer = load_col(res, 3), *dt = load_col(res, 4), *ticket;
    json_t *changes = json_object_get(r->body, "changes");
    struct hdf_auto_subject s = {.customer = customer};
    if (c->event == HDF_AUTO_EV_TICKET_UPDATED) {
        hdf_field_errors_t sub = {0};
        ticket = ticket_apply_patch(old, changes, &sub);
        errors_under(fe, &sub, "changes");
        if (json_object_get(changes, "custom_fields") != NULL)
            custom_fields_check_values(json_object_get(changes, "custom_fields"), dt, "changes.custom_fields", fe);
        if (PQgetvalue(res, 0, 6)[0] != 't')
            field_errors_add(fe, "changes.team_id", "not_found", "team_id names no team of this workspace");
        if (PQgetvalue(res, 0, 7)[0] != 't')
            field_errors_add(fe, "changes.assignee_id", "not_found", "assignee_id names no agent of this workspace");
        s.previous = old;
    } else {
        ticket = json_deep_copy(old);
    }
    s.ticket = ticket;
    if (field_errors_count(fe) > 0)
        respond_field_errors(r, fe);
    else
        run(r, c, &s);
    json_decref(ticket);
    json_decref(old);
    json_decref(customer);
    json_decref(dt);
}

static void on_state(struct hdf_req *r, PGresult *res)
{
    struct dry_ctx *c = r->handler_data;
    hdf_field_errors_t fe = {0};
    ticket_rules_store(r, res); /* the committed rules: this thread's cache learns them too */
    if (c->event == HDF_AUTO_EV_TICKET_CREATED)
        run_created(r, c, res, &fe);
    else if (PQgetisnull(res, 0, 2))
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
    else
        run_on_ticket(r, c, res, &fe);
}

static void query_state(struct hdf_req *r, struct dry_ctx *c)
{
    char ws[24], tid[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(tid, sizeof(tid), "%lld", (long long)c->ticket_id);
    const json_t *src = c->event == HDF_AUTO_EV_TICKET_UPDATED ? json_object_get(r->body, "changes") : NULL;
    const char *team = src != NULL ? ticket_id_text(r, json_object_get(src, "team_id")) : NULL;
    const char *agent = src != NULL ? ticket_id_text(r, json_object_get(src, "assignee_id")) : NULL;
    char created_team[24], created_agent[24];
    if (c->event == HDF_AUTO_EV_TICKET_CREATED) {
        snprintf(created_team, sizeof(created_team), "%lld", (long long)c->in.team_id);
        snprintf(created_agent, sizeof(created_agent), "%lld", (long long)c->in.assignee_id);
        team = c->in.team_id > 0 ? created_team : NULL;
        agent = c->in.assignee_id > 0 ? created_agent : NULL;
    }
    const char *params[] = {ws, c->ticket_id > 0 ? tid : NULL, c->event == HDF_AUTO_EV_TICKET_CREATED ? c->in.customer_email : NULL,
                            team, agent};
    request_query(r, HDF_STMT_AUTOMATION_DRY_RUN_STATE, params, NULL, on_state);
}

void automation_dry_run(struct hdf_req *r)
{
    struct dry_ctx *c = h2o_mem_alloc_shared(&r->req->pool, sizeof(*c), dry_ctx_dispose);
    memset(c, 0, sizeof(*c));
    r->handler_data = c;
    hdf_field_errors_t fe = {0};
    json_t *ev = json_object_get(r->body, "event");
    c->event = json_is_string(ev) ? automation_event_bit(json_string_value(ev)) : 0;
    if (!json_is_object(r->body) || c->event == 0) {
        field_errors_add(&fe, "event", ev == NULL ? "required" : "invalid",
                         "event must be ticket.created, ticket.updated or message.created");
        respond_field_errors(r, &fe);
        return;
    }
    if (validate_members(c, r->body, &fe) == 0)
        validate_embedded(r, c, &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    const char *body = c->event == HDF_AUTO_EV_TICKET_CREATED ? c->in.body : c->html;
    size_t len = c->event == HDF_AUTO_EV_TICKET_CREATED ? c->in.body_len : (body != NULL ? strlen(body) : 0);
    if (body != NULL && (c->html = ticket_sanitize_body(r, body, len)) == NULL)
        return;
    query_state(r, c);
}
