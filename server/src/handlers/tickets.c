/*
 * tickets.c: POST /v1/tickets, GET /v1/tickets/{id}, PATCH /v1/tickets/{id} (CONTRACT.md,
 * Tickets). A create is one statement (customer found or created, ticket, first message, audit,
 * composite view). A PATCH locks the row (SELECT ... FOR UPDATE, lock wait bounded by
 * HDF_LOCK_TIMEOUT_MS), computes the new fields in C, writes one version and one audit entry
 * only when something changed, and answers the composite view read in the same transaction.
 * Custom field values are checked against the workspace's definitions, read when a request
 * carries any.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "common/cursor.h"
#include "http/list.h"
#include "handlers/customer_merge.h"
#include "handlers/ticket_rules.h"
#include "handlers/tickets.h"
#include "http/respond.h"
#include "model/custom_field.h"
#include "model/tags.h"
#include "model/ticket.h"
#include "sanitize/sanitize.h"

struct create_ctx {
    struct hdf_ticket_create in;
    json_t *defs_ticket, *defs_customer;
    const char *body_html; /* sanitized */
    struct hdf_auto_ruleset *rs;
    json_t *initial, *final; /* the request's fields and the rules' outcome (NULL: rules changed nothing) */
    struct hdf_rules_out rules;
    int attempts;      /* sends of the create statement (a stale rules version makes one more) */
    int fresh;         /* the rules were loaded during this request */
    int customer_read; /* the stored customer was looked up (customer: it, or NULL: none) */
    json_t *customer;
};

static void create_ctx_dispose(void *p)
{
    struct create_ctx *c = p;
    ticket_create_free(&c->in);
    json_decref(c->defs_ticket);
    json_decref(c->defs_customer);
    json_decref(c->initial);
    json_decref(c->final);
    json_decref(c->customer);
    automation_ruleset_release(c->rs);
}

static void ws_text(struct hdf_req *r, char out[24])
{
    snprintf(out, 24, "%lld", (long long)r->auth.workspace_id);
}

static char *pool_json(struct hdf_req *r, const json_t *j)
{
    if (j == NULL)
        return NULL;
    size_t len;
    char *s = json_dump_compact(j, &len);
    char *copy = request_strdup(r, s);
    free(s);
    return copy;
}

static char *pool_tags(struct hdf_req *r, const json_t *tags)
{
    if (tags == NULL)
        return NULL;
    char *s = tags_to_pg_array(tags);
    char *copy = request_strdup(r, s);
    free(s);
    return copy;
}

const char *ticket_sanitize_body(struct hdf_req *r, const char *html, size_t len)
{
    char *out;
    size_t outlen;
    int rc = sanitize_html(html, len, &out, &outlen);
    if (rc == SANITIZE_TOO_COMPLEX) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "body", "too_complex", "body markup is nested deeper than %d levels or too large to sanitize",
                         SANITIZE_MAX_NESTING);
        respond_field_errors(r, &fe);
        return NULL;
    }
    if (rc != SANITIZE_OK) {
        respond_problem(r, HDF_E_INTERNAL, "out of memory while sanitizing", NULL);
        return NULL;
    }
    char *copy = h2o_mem_alloc_pool(&r->req->pool, outlen + 1);
    memcpy(copy, out, outlen + 1);
    free(out);
    return copy;
}

static int id_not_found(struct hdf_req *r, PGresult *res, hdf_field_errors_t *fe)
{
    if (PQgetvalue(res, 0, 0)[0] != 't')
        field_errors_add(fe, "team_id", "not_found", "team_id names no team of this workspace");
    if (PQgetvalue(res, 0, 1)[0] != 't')
        field_errors_add(fe, "assignee_id", "not_found", "assignee_id names no agent of this workspace");
    if (field_errors_count(fe) == 0)
        return 0;
    respond_field_errors(r, fe);
    return 1;
}

/* ETag, and Location for a creation: the headers of a ticket's view. */
static void view_headers(struct hdf_req *r, int status, int64_t id, int64_t version)
{
    char etag[32], loc[48];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)version);
    respond_add_header(r, "ETag", etag);
    if (status == 201) {
        snprintf(loc, sizeof(loc), "/v1/tickets/%lld", (long long)id);
        respond_add_header(r, "Location", loc);
    }
}

static void respond_view(struct hdf_req *r, int status, int64_t id, int64_t version, const char *json, size_t len)
{
    view_headers(r, status, id, version);
    respond_json(r, status, json, len);
}

/* ---- create ---- */

static void create_insert(struct hdf_req *r);

static void on_create_rules(struct hdf_req *r, PGresult *res)
{
    ((struct create_ctx *)r->handler_data)->fresh = 1;
    ticket_rules_store(r, res);
    create_insert(r);
}

/* (team ok, agent ok, id, view, version, rules version): no id with team and agent ok means the
 * rules version moved on and nothing was written: reload the rules and evaluate again. */
static void on_created(struct hdf_req *r, PGresult *res)
{
    struct create_ctx *c = r->handler_data;
    hdf_field_errors_t fe = {0};
    /* stale rules first: a team or agent their effects named may be what is missing */
    int stale = PQgetisnull(res, 0, 2) && strtoll(PQgetvalue(res, 0, 5), NULL, 10) != c->rs->version;
    if (!stale && id_not_found(r, res, &fe))
        return;
    if (PQgetisnull(res, 0, 2)) {
        if (c->attempts >= 3)
            respond_problem(r, HDF_E_CONFLICT, "the workspace's automation rules kept changing during the request; retry", NULL);
        else
            ticket_rules_query(r, on_create_rules);
        return;
    }
    respond_view(r, 201, strtoll(PQgetvalue(res, 0, 2), NULL, 10), strtoll(PQgetvalue(res, 0, 4), NULL, 10), PQgetvalue(res, 0, 3),
                 (size_t)PQgetlength(res, 0, 3));
}

json_t *ticket_create_fields(const struct hdf_ticket_create *in)
{
    json_t *cf = in->custom_fields != NULL ? json_deep_copy(in->custom_fields) : json_object();
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:O, s:o}", "subject", in->subject, "status", in->status, "priority",
                     in->priority, "channel", in->channel, "team_id", in->team_id > 0 ? json_integer(in->team_id) : json_null(),
                     "assignee_id", in->assignee_id > 0 ? json_integer(in->assignee_id) : json_null(), "tags", in->tags,
                     "custom_fields", cf);
}

json_t *ticket_create_customer(const struct hdf_ticket_create *in)
{
    return json_pack("{s:s, s:s?, s:O?, s:O?}", "email", in->customer_email, "name", in->customer_name, "tags", in->customer_tags,
                     "custom_fields", in->customer_custom_fields);
}

/* ticket.created rules over the request (and its first message's text); -1 after a 409, 1 on a
 * conflict of rules not known to be current (reload them first). */
static int create_run_rules(struct hdf_req *r)
{
    struct create_ctx *c = r->handler_data;
    json_decref(c->initial);
    json_decref(c->final);
    c->initial = c->final = NULL;
    memset(&c->rules, 0, sizeof(c->rules));
    if (!(c->rs->events & HDF_AUTO_EV_TICKET_CREATED))
        return 0;
    json_t *ticket = ticket_create_fields(&c->in);
    /* an existing customer is kept as stored (the create does not merge the request's members) */
    json_t *customer = c->customer != NULL ? json_incref(c->customer) : ticket_create_customer(&c->in);
    char *text = NULL;
    size_t textlen;
    /* parsing the body for its text is the dear part: only when a rule reads message.body (the
     * others still see that there is a first message, and its author type) */
    if (c->body_html != NULL && c->rs->needs_message_text &&
        sanitize_text_content(c->body_html, strlen(c->body_html), &text, &textlen) != SANITIZE_OK)
        text = NULL;
    const char *shown = text != NULL ? text : c->body_html != NULL && !c->rs->needs_message_text ? "" : NULL;
    struct hdf_auto_subject s = {.ticket = ticket, .customer = customer, .message_text = shown, .message_author_type = "customer"};
    int rc = ticket_rules_run(r, c->rs, HDF_AUTO_EV_TICKET_CREATED, &s, c->fresh, &c->rules);
    free(text);
    json_decref(customer);
    if (rc == 0 && c->rules.effects != NULL) {
        c->final = ticket;
        c->initial = ticket_create_fields(&c->in);
    } else {
        json_decref(ticket);
    }
    return rc;
}

const char *ticket_id_text(struct hdf_req *r, const json_t *v)
{
    char buf[24];
    if (!json_is_integer(v))
        return NULL;
    snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
    return request_strdup(r, buf);
}

static void on_stored_customer(struct hdf_req *r, PGresult *res)
{
    struct create_ctx *c = r->handler_data;
    c->customer_read = 1;
    if (PQntuples(res) > 0)
        c->customer = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    create_insert(r);
}

/* Whether ticket.created rules read stored customer fields (name, tags, custom fields) that were
 * not looked up yet: only then does a create cost the one query more. */
static int create_needs_customer(struct hdf_req *r)
{
    struct create_ctx *c = r->handler_data;
    if (c->customer_read || !(c->rs->customer_events & HDF_AUTO_EV_TICKET_CREATED))
        return 0;
    char ws[24];
    ws_text(r, ws);
    const char *params[] = {ws, c->in.customer_email};
    request_query(r, HDF_STMT_CUSTOMER_RULE_BY_EMAIL, params, NULL, on_stored_customer);
    return 1;
}

static void create_insert(struct hdf_req *r)
{
    struct create_ctx *c = r->handler_data;
    struct hdf_ticket_create *in = &c->in;
    automation_ruleset_release(c->rs);
    c->rs = ticket_rules_get(r);
    if (create_needs_customer(r))
        return;
    c->attempts++;
    int rc = create_run_rules(r);
    if (rc == 1)
        ticket_rules_query(r, on_create_rules);
    if (rc != 0)
        return;
    json_t *f = c->final != NULL ? c->final : ticket_create_fields(in);
    char ws[24], actor[24], version[24];
    ws_text(r, ws);
    snprintf(actor, sizeof(actor), "%lld", (long long)request_actor_id(r));
    snprintf(version, sizeof(version), "%lld", (long long)c->rs->version);
    const char *params[] = {ws,
                            in->customer_email,
                            in->customer_name,
                            pool_tags(r, in->customer_tags),
                            pool_json(r, in->customer_custom_fields),
                            json_string_value(json_object_get(f, "subject")),
                            json_string_value(json_object_get(f, "status")),
                            json_string_value(json_object_get(f, "priority")),
                            json_string_value(json_object_get(f, "channel")),
                            ticket_id_text(r, json_object_get(f, "team_id")),
                            ticket_id_text(r, json_object_get(f, "assignee_id")),
                            pool_tags(r, json_object_get(f, "tags")),
                            pool_json(r, json_object_get(f, "custom_fields")),
                            c->body_html,
                            request_actor_type(r),
                            actor,
                            request_source(r),
                            r->request_id,
                            pool_json(r, c->initial),
                            c->rules.effects,
                            c->rules.notes,
                            version};
    request_query(r, HDF_STMT_TICKET_CREATE, params, NULL, on_created);
    if (f != c->final)
        json_decref(f);
}

static void create_check_fields(struct hdf_req *r)
{
    struct create_ctx *c = r->handler_data;
    hdf_field_errors_t fe = {0};
    if (c->in.custom_fields != NULL)
        custom_fields_check_values(c->in.custom_fields, c->defs_ticket, "custom_fields", &fe);
    if (c->in.customer_custom_fields != NULL)
        custom_fields_check_values(c->in.customer_custom_fields, c->defs_customer, "customer.custom_fields", &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    create_insert(r);
}

static void load_defs(struct hdf_req *r, const char *object, hdf_query_done_fn done)
{
    char ws[24];
    ws_text(r, ws);
    const char *params[] = {ws, object};
    request_query(r, HDF_STMT_CUSTOM_FIELD_DEFS, params, NULL, done);
}

static json_t *defs_of(PGresult *res)
{
    json_t *d = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    return d != NULL ? d : json_array();
}

static void on_customer_defs(struct hdf_req *r, PGresult *res)
{
    ((struct create_ctx *)r->handler_data)->defs_customer = defs_of(res);
    create_check_fields(r);
}

static void on_ticket_defs(struct hdf_req *r, PGresult *res)
{
    struct create_ctx *c = r->handler_data;
    c->defs_ticket = defs_of(res);
    if (c->in.customer_custom_fields != NULL)
        load_defs(r, "customer", on_customer_defs);
    else
        create_check_fields(r);
}

void ticket_create(struct hdf_req *r)
{
    struct create_ctx *c = h2o_mem_alloc_shared(&r->req->pool, sizeof(*c), create_ctx_dispose);
    memset(c, 0, sizeof(*c));
    r->handler_data = c;
    hdf_field_errors_t fe = {0};
    if (ticket_validate_create(r->body, &c->in, &fe) != 0) {
        respond_field_errors(r, &fe);
        return;
    }
    if (c->in.body != NULL && (c->body_html = ticket_sanitize_body(r, c->in.body, c->in.body_len)) == NULL)
        return;
    if (c->in.custom_fields != NULL)
        load_defs(r, "ticket", on_ticket_defs);
    else if (c->in.customer_custom_fields != NULL)
        load_defs(r, "customer", on_customer_defs);
    else
        create_insert(r);
}

/* ---- read ---- */

static void on_view(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
        return;
    }
    respond_view(r, 200, 0, strtoll(PQgetvalue(res, 0, 0), NULL, 10), PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
}

static void query_view(struct hdf_req *r, int64_t id, int include_internal, hdf_query_done_fn done)
{
    char ws[24], ids[24];
    ws_text(r, ws);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {ws, ids, include_internal ? "true" : "false"};
    request_query(r, HDF_STMT_TICKET_GET, params, NULL, done);
}

void ticket_get(struct hdf_req *r)
{
    static const char *const allowed[] = {"include_internal", NULL};
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    const char *unknown = query_first_unknown(&r->query, allowed), *inc = query_get(&r->query, "include_internal");
    hdf_field_errors_t fe = {0};
    if (unknown != NULL)
        field_errors_add(&fe, unknown, "unknown_parameter", "%s is not a parameter of this resource", unknown);
    if (inc != NULL && strcmp(inc, "true") != 0 && strcmp(inc, "false") != 0)
        field_errors_add(&fe, "include_internal", "invalid", "include_internal must be true or false");
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    int internal = inc != NULL && strcmp(inc, "true") == 0;
    if (internal && r->auth.role != HDF_ROLE_ADMIN) {
        respond_problem(r, HDF_E_FORBIDDEN, "internal notes are shown to admin keys only", NULL);
        return;
    }
    query_view(r, id, internal, on_view);
}

/* ---- update ---- */

struct patch_ctx {
    int64_t id;
    int64_t if_match; /* -1: no If-Match */
    json_t *fields;   /* the new fields */
    json_t *defs;
    json_t *old, *customer, *user; /* as locked; the fields after the user's change alone, when rules changed more */
    struct hdf_auto_ruleset *rs;
    struct hdf_rules_out rules;
};

static void patch_ctx_dispose(void *p)
{
    struct patch_ctx *c = p;
    json_decref(c->fields);
    json_decref(c->defs);
    json_decref(c->old);
    json_decref(c->customer);
    json_decref(c->user);
    automation_ruleset_release(c->rs);
}

static void on_patch_view(struct hdf_req *r, PGresult *res)
{
    view_headers(r, 200, 0, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    request_commit_respond(r, 200, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
}

/* The update statement answers with the view (columns 2 and 3, as TICKET_GET's 0 and 1). */
static void on_updated(struct hdf_req *r, PGresult *res)
{
    hdf_field_errors_t fe = {0};
    if (id_not_found(r, res, &fe))
        return;
    view_headers(r, 200, 0, strtoll(PQgetvalue(res, 0, 2), NULL, 10));
    request_commit_respond(r, 200, PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3));
}

static void patch_write(struct hdf_req *r)
{
    struct patch_ctx *c = r->handler_data;
    char ws[24], ids[24], actor[24];
    ws_text(r, ws);
    snprintf(ids, sizeof(ids), "%lld", (long long)c->id);
    snprintf(actor, sizeof(actor), "%lld", (long long)request_actor_id(r));
    const char *params[] = {ws,
                            ids,
                            pool_json(r, c->fields),
                            request_actor_type(r),
                            actor,
                            request_source(r),
                            r->request_id,
                            pool_json(r, c->user),
                            c->rules.effects,
                            c->rules.notes};
    request_query(r, HDF_STMT_TICKET_UPDATE, params, NULL, on_updated);
}

static void on_patch_defs(struct hdf_req *r, PGresult *res)
{
    struct patch_ctx *c = r->handler_data;
    hdf_field_errors_t fe = {0};
    c->defs = defs_of(res);
    custom_fields_check_values(json_object_get(r->body, "custom_fields"), c->defs, "custom_fields", &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    patch_write(r);
}

/* The secondary pass: ticket.updated rules over (old, the user's new fields); -1 after a 409. */
static int patch_run_rules(struct hdf_req *r)
{
    struct patch_ctx *c = r->handler_data;
    if (!(c->rs->events & HDF_AUTO_EV_TICKET_UPDATED))
        return 0;
    json_t *ticket = json_deep_copy(c->fields);
    struct hdf_auto_subject s = {.ticket = ticket, .previous = c->old, .customer = c->customer};
    /* the lock statement answered the rules version: these rules are current */
    if (ticket_rules_run(r, c->rs, HDF_AUTO_EV_TICKET_UPDATED, &s, 1, &c->rules) != 0) {
        json_decref(ticket);
        return -1;
    }
    if (c->rules.effects != NULL) {
        c->user = c->fields;
        c->fields = ticket;
    } else {
        json_decref(ticket);
    }
    return 0;
}

/* The locked ticket and the current rules: apply the PATCH, run the rules, write. */
static void patch_apply(struct hdf_req *r)
{
    struct patch_ctx *c = r->handler_data;
    hdf_field_errors_t fe = {0};
    c->fields = ticket_apply_patch(c->old, r->body, &fe);
    if (c->fields == NULL) {
        respond_field_errors(r, &fe);
        return;
    }
    if (json_equal(c->old, c->fields)) { /* nothing changes: no write, no version, no audit entry, no rules */
        query_view(r, c->id, 0, on_patch_view);
        return;
    }
    if (patch_run_rules(r) != 0)
        return;
    if (json_object_get(r->body, "custom_fields") != NULL)
        load_defs(r, "ticket", on_patch_defs);
    else
        patch_write(r);
}

static void on_patch_rules(struct hdf_req *r, PGresult *res)
{
    struct patch_ctx *c = r->handler_data;
    c->rs = ticket_rules_reload(r, res, c->rs);
    patch_apply(r);
}

/* (version, fields, rules version, customer): the lock answers the rules version too, so a stale
 * cache costs one query only when the rules changed. */
static void on_locked(struct hdf_req *r, PGresult *res)
{
    struct patch_ctx *c = r->handler_data;
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
        return;
    }
    int64_t version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (c->if_match >= 0 && c->if_match != version) {
        respond_problem_fmt(r, HDF_E_VERSION_MISMATCH, "If-Match names version %lld; the ticket is at version %lld",
                            (long long)c->if_match, (long long)version);
        return;
    }
    c->old = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    c->customer = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
    c->rs = ticket_rules_get(r);
    if (c->rs->version != strtoll(PQgetvalue(res, 0, 2), NULL, 10))
        ticket_rules_query(r, on_patch_rules);
    else
        patch_apply(r);
}

/* BEGIN, SET LOCAL lock_timeout and the row lock go out as one round trip. */
static void patch_begun(struct hdf_req *r)
{
    struct patch_ctx *c = r->handler_data;
    char ws[24], ids[24];
    ws_text(r, ws);
    snprintf(ids, sizeof(ids), "%lld", (long long)c->id);
    const char *params[] = {ws, ids};
    request_txn_lock_timeout(r);
    request_query(r, HDF_STMT_TICKET_LOCK, params, NULL, on_locked);
}

/* If-Match: "<version>" (or W/"<version>", or a bare number); -1 when absent or "*" (any current
 * version: the ticket exists, which the lock checks anyway), -2 when unreadable. */
static int64_t if_match_version(struct hdf_req *r)
{
    ssize_t i = h2o_find_header(&r->req->headers, H2O_TOKEN_IF_MATCH, -1);
    if (i < 0)
        return -1;
    h2o_iovec_t v = r->req->headers.entries[i].value;
    if (v.len == 1 && v.base[0] == '*')
        return -1;
    const char *p = v.base, *end = v.base + v.len;
    if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
        p += 2;
    if (end - p >= 2 && *p == '"' && end[-1] == '"')
        p++, end--;
    int64_t n = parse_id(p, (size_t)(end - p));
    return n > 0 ? n : -2;
}

void ticket_update(struct hdf_req *r)
{
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    struct patch_ctx *c = h2o_mem_alloc_shared(&r->req->pool, sizeof(*c), patch_ctx_dispose);
    memset(c, 0, sizeof(*c));
    c->id = id;
    r->handler_data = c;
    c->if_match = if_match_version(r);
    if (c->if_match == -2) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "If-Match", "invalid", "If-Match must be the ticket's ETag, a quoted version number");
        respond_field_errors(r, &fe);
        return;
    }
    /* the body's shape is checked before any lock is taken: against an empty ticket */
    hdf_field_errors_t fe = {0};
    json_t *blank = json_pack("{s:[], s:{}}", "tags", "custom_fields");
    json_t *probe = ticket_apply_patch(blank, r->body, &fe);
    json_decref(blank);
    json_decref(probe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    request_txn_begin(r, patch_begun);
}

/* ---- list ---- */

#define TICKETS_CURSOR_KIND "tk"

static const char *const list_sorts[] = {"created_at", "-created_at", "updated_at", "-updated_at", NULL};
static const enum hdf_stmt list_stmts[] = {HDF_STMT_TICKETS_CREATED_ASC, HDF_STMT_TICKETS_CREATED_DESC,
                                           HDF_STMT_TICKETS_UPDATED_ASC, HDF_STMT_TICKETS_UPDATED_DESC};
static const enum hdf_stmt list_all_stmts[] = {HDF_STMT_TICKETS_ALL_CREATED_ASC, HDF_STMT_TICKETS_ALL_CREATED_DESC,
                                               HDF_STMT_TICKETS_ALL_UPDATED_ASC, HDF_STMT_TICKETS_ALL_UPDATED_DESC};

struct list_params {
    int sort; /* index into list_sorts */
    char pos[24], after[24];
    int has_cursor;
    const char *status, *priority, *tag, *updated_since;
    char customer[24], team[24], assignee[24];
};

/* An optional id filter into out ("" when absent). */
static void id_filter(struct hdf_req *r, const char *name, char out[24], hdf_field_errors_t *fe)
{
    const char *v = query_get(&r->query, name);
    out[0] = '\0';
    if (v == NULL)
        return;
    int64_t id = parse_id(v, strlen(v));
    if (id < 0)
        field_errors_add(fe, name, "invalid", "%s must be a positive integer id", name);
    else
        snprintf(out, 24, "%lld", (long long)id);
}

static const char *enum_filter(struct hdf_req *r, const char *name, const char *const *values, hdf_field_errors_t *fe)
{
    const char *v = query_get(&r->query, name);
    if (v == NULL)
        return NULL;
    for (const char *const *p = values; *p != NULL; p++)
        if (strcmp(*p, v) == 0)
            return *p;
    field_errors_add(fe, name, "invalid", "%s is not one of the allowed values", name);
    return NULL;
}

/* The cursor carries the sort it was made for, its position (microseconds) and the last id. */
static void read_cursor(struct hdf_req *r, struct list_params *lp, hdf_field_errors_t *fe)
{
    const char *c = query_get(&r->query, "cursor");
    char payload[96];
    long long pos, id;
    int sort, used = 0;
    if (c == NULL)
        return;
    if (cursor_decode(TICKETS_CURSOR_KIND, c, payload, sizeof(payload)) != 0 ||
        sscanf(payload, "%d|%lld|%lld%n", &sort, &pos, &id, &used) != 3 || (size_t)used != strlen(payload) || sort != lp->sort ||
        id <= 0) {
        field_errors_add(fe, "cursor", "invalid", "cursor is not one this list returned for this sort");
        return;
    }
    lp->has_cursor = 1;
    snprintf(lp->pos, sizeof(lp->pos), "%lld", pos);
    snprintf(lp->after, sizeof(lp->after), "%lld", id);
}

static void read_filters(struct hdf_req *r, struct list_params *lp, hdf_field_errors_t *fe)
{
    lp->status = enum_filter(r, "status", hdf_ticket_statuses, fe);
    lp->priority = enum_filter(r, "priority", hdf_ticket_priorities, fe);
    lp->tag = request_strdup(r, query_get(&r->query, "tag"));
    if (lp->tag != NULL) /* tags are stored lower-cased: so is the filter */
        for (char *p = (char *)lp->tag; *p != '\0'; p++)
            *p = (char)tolower((unsigned char)*p);
    if (lp->tag != NULL && !tag_is_valid(lp->tag, strlen(lp->tag)))
        field_errors_add(fe, "tag", "invalid", "tag must match [a-z0-9][a-z0-9_:-]{0,63}");
    id_filter(r, "customer_id", lp->customer, fe);
    id_filter(r, "team_id", lp->team, fe);
    id_filter(r, "assignee_id", lp->assignee, fe);
    lp->updated_since = list_read_time(r, "updated_since", fe);
    const char *sort = query_get(&r->query, "sort");
    lp->sort = 1; /* newest first */
    if (sort != NULL) {
        lp->sort = -1;
        for (int i = 0; list_sorts[i] != NULL; i++)
            if (strcmp(list_sorts[i], sort) == 0)
                lp->sort = i;
        if (lp->sort < 0) {
            field_errors_add(fe, "sort", "invalid", "sort must be created_at, -created_at, updated_at or -updated_at");
            lp->sort = 1;
        }
    }
    read_cursor(r, lp, fe);
}

static void on_tickets_page(struct hdf_req *r, PGresult *res)
{
    int limit = (int)r->handler_arg, sort = (int)(intptr_t)r->handler_data;
    char next[HDF_CURSOR_MAX], payload[96];
    int more = PQntuples(res) > limit;
    if (more) {
        snprintf(payload, sizeof(payload), "%d|%s|%s", sort, PQgetvalue(res, limit - 1, 1), PQgetvalue(res, limit - 1, 0));
        cursor_encode(TICKETS_CURSOR_KIND, payload, next);
    }
    respond_list(r, res, 2, limit, more ? next : NULL);
}

static const char *or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Reads the list's parameters into lp and page; answers 400 and returns -1 when any is bad. */
static int read_list(struct hdf_req *r, const char *const *filters, struct hdf_list_page *page, struct list_params *lp)
{
    hdf_field_errors_t fe = {0};
    memset(lp, 0, sizeof(*lp));
    list_read_page(r, NULL, filters, page, &fe);
    read_filters(r, lp, &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return -1;
    }
    return 0;
}

/* Whether any of the n filter parameters is given. */
static int any_given(const char *const *filters, int n)
{
    for (int i = 0; i < n; i++)
        if (filters[i] != NULL)
            return 1;
    return 0;
}

_Static_assert(HDF_LIST_LIMIT_MAX + 1 <= 101, "TICKETS_LIST_ALL's inner LIMIT must cover a page and the row after it");

static void query_list(struct hdf_req *r, const struct hdf_list_page *page, const struct list_params *lp)
{
    const char *params[] = {page->workspace,
                            lp->has_cursor ? lp->pos : NULL,
                            lp->has_cursor ? lp->after : NULL,
                            lp->status,
                            lp->priority,
                            lp->tag,
                            or_null(lp->customer),
                            or_null(lp->team),
                            or_null(lp->assignee),
                            lp->updated_since,
                            page->fetch_text};
    r->handler_arg = page->limit;
    r->handler_data = (void *)(intptr_t)lp->sort;
    int filtered = any_given(params + 3, 7);
    if (!filtered) { /* (ws, position, id, limit + 1): see TICKETS_LIST_ALL on why */
        const char *all[] = {params[0], params[1], params[2], params[10]};
        request_query(r, list_all_stmts[lp->sort], all, NULL, on_tickets_page);
        return;
    }
    request_query(r, list_stmts[lp->sort], params, NULL, on_tickets_page);
}

void tickets_list(struct hdf_req *r)
{
    static const char *const filters[] = {"status",      "priority",      "tag",  "customer_id", "team_id",
                                          "assignee_id", "updated_since", "sort", NULL};
    struct hdf_list_page page;
    struct list_params lp;
    if (read_list(r, filters, &page, &lp) == 0)
        query_list(r, &page, &lp);
}

/* GET /v1/customers/{id}/tickets: the tickets list with the customer fixed by the path; a missing
 * customer is 404, a merged one 404 with merged_into (its tickets moved to the survivor). */
struct customer_tickets {
    struct hdf_list_page page;
    struct list_params lp;
};

static void on_customer(struct hdf_req *r, PGresult *res)
{
    struct customer_tickets *c = r->handler_data;
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no customer with this id in your workspace", NULL);
        return;
    }
    if (!PQgetisnull(res, 0, 0)) {
        customer_respond_merged(r, strtoll(c->lp.customer, NULL, 10), strtoll(PQgetvalue(res, 0, 0), NULL, 10), NULL);
        return;
    }
    query_list(r, &c->page, &c->lp);
}

void customer_tickets_list(struct hdf_req *r)
{
    static const char *const filters[] = {"status", "priority", "tag", "team_id", "assignee_id", "updated_since", "sort", NULL};
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    struct customer_tickets *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    if (read_list(r, filters, &c->page, &c->lp) != 0)
        return;
    snprintf(c->lp.customer, sizeof(c->lp.customer), "%lld", (long long)id);
    r->handler_data = c;
    const char *params[] = {c->page.workspace, c->lp.customer};
    request_query(r, HDF_STMT_CUSTOMER_GET, params, NULL, on_customer);
}
