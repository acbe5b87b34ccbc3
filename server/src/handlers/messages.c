/*
 * messages.c: POST /v1/tickets/{id}/messages (CONTRACT.md, Tickets): a message on a ticket, its
 * body sanitized. Agent messages may be internal notes; with X-Acting-Agent-Id they are that
 * agent's, and a customer's message is the ticket's customer's. message.created rules run here
 * (docs/automation.md): when the workspace has none (the thread's cache, its version checked by
 * the insert itself) a message is one statement; when it has some, the ticket row is locked with
 * BEGIN, the rules are evaluated against it, and the message, the ticket's changes, their audit
 * entries and the rules' notes are written by one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "handlers/ticket_rules.h"
#include "handlers/tickets.h"
#include "http/respond.h"
#include "model/ticket.h"
#include "sanitize/sanitize.h"

/* The message is written in a transaction whose row-lock wait is bounded like a PATCH's: it
 * touches the ticket (updated_at), and a PATCH holding the ticket must not stall it for long. */
struct message_ctx {
    char ws[24], id[24], author[24];
    const char *author_type, *internal, *html;
    int64_t acting;
    int is_internal, attempts;
    struct hdf_auto_ruleset *rs;
    json_t *old, *customer; /* the locked ticket's fields and customer (rules path) */
};

static void message_ctx_dispose(void *p)
{
    struct message_ctx *c = p;
    json_decref(c->old);
    json_decref(c->customer);
    automation_ruleset_release(c->rs);
}

static void respond_no_ticket(struct hdf_req *r)
{
    respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
}

static void message_send(struct hdf_req *r);

static void on_message_rules(struct hdf_req *r, PGresult *res)
{
    ticket_rules_store(r, res);
    message_send(r);
}

/* (rules version, message or NULL). */
static void on_message(struct hdf_req *r, PGresult *res)
{
    struct message_ctx *c = r->handler_data;
    if (PQgetisnull(res, 0, 1)) {
        if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) == c->rs->version)
            respond_no_ticket(r);
        else if (c->attempts >= 3)
            respond_problem(r, HDF_E_CONFLICT, "the workspace's automation rules kept changing during the request; retry", NULL);
        else /* the rules changed: reload them (same transaction) and take the path they call for */
            ticket_rules_query(r, on_message_rules);
        return;
    }
    request_commit_respond(r, 201, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
}

static void on_message_written(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        respond_no_ticket(r);
        return;
    }
    request_commit_respond(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* The locked ticket and current rules: one message.created pass, then one write. */
static void message_run_rules(struct hdf_req *r)
{
    struct message_ctx *c = r->handler_data;
    char *text = NULL;
    size_t textlen;
    if (sanitize_text_content(c->html, strlen(c->html), &text, &textlen) != SANITIZE_OK) {
        respond_problem(r, HDF_E_INTERNAL, "out of memory while reading the message's text", NULL);
        return;
    }
    json_t *ticket = json_deep_copy(c->old);
    struct hdf_auto_subject s = {.ticket = ticket,
                                 .customer = c->customer,
                                 .message_text = text,
                                 .message_author_type = c->author_type,
                                 .message_internal = c->is_internal};
    struct hdf_rules_out out;
    /* the lock statement answered the rules version: these rules are current */
    int rc = ticket_rules_run(r, c->rs, HDF_AUTO_EV_MESSAGE_CREATED, &s, 1, &out);
    free(text);
    if (rc == 0) {
        size_t len;
        char *fields = json_dump_compact(ticket, &len);
        const char *params[] = {c->ws,       c->id,        c->author_type, c->acting > 0 ? c->author : NULL,
                                c->internal, c->html,      fields,         out.effects,
                                out.notes,   r->request_id};
        request_query(r, HDF_STMT_MESSAGE_CREATE_RULES, params, NULL, on_message_written);
        free(fields);
    }
    json_decref(ticket);
}

static void on_message_lock_rules(struct hdf_req *r, PGresult *res)
{
    struct message_ctx *c = r->handler_data;
    c->rs = ticket_rules_reload(r, res, c->rs);
    message_run_rules(r);
}

/* (version, fields, rules version, customer), as for a PATCH. */
static void on_message_locked(struct hdf_req *r, PGresult *res)
{
    struct message_ctx *c = r->handler_data;
    if (PQntuples(res) == 0) {
        respond_no_ticket(r);
        return;
    }
    c->old = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    c->customer = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
    if (c->rs->version != strtoll(PQgetvalue(res, 0, 2), NULL, 10))
        ticket_rules_query(r, on_message_lock_rules);
    else
        message_run_rules(r);
}

/* Without message.created rules: the insert, checking the version; with them: the row lock. Either
 * goes out with BEGIN and SET LOCAL lock_timeout when they are still pending. */
static void message_send(struct hdf_req *r)
{
    struct message_ctx *c = r->handler_data;
    char version[24];
    automation_ruleset_release(c->rs);
    c->rs = ticket_rules_get(r);
    c->attempts++;
    if (c->rs->events & HDF_AUTO_EV_MESSAGE_CREATED) {
        const char *params[] = {c->ws, c->id};
        request_query(r, HDF_STMT_TICKET_LOCK, params, NULL, on_message_locked);
        return;
    }
    snprintf(version, sizeof(version), "%lld", (long long)c->rs->version);
    const char *params[] = {c->ws, c->id, c->author_type, c->acting > 0 ? c->author : NULL, c->internal, c->html, version};
    request_query(r, HDF_STMT_MESSAGE_CREATE, params, NULL, on_message);
}

static void message_begun(struct hdf_req *r)
{
    request_txn_lock_timeout(r);
    message_send(r);
}

void message_create(struct hdf_req *r)
{
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    struct hdf_message_create m;
    hdf_field_errors_t fe = {0};
    if (message_validate_create(r->body, &m, &fe) != 0) {
        respond_field_errors(r, &fe);
        return;
    }
    struct message_ctx *c = h2o_mem_alloc_shared(&r->req->pool, sizeof(*c), message_ctx_dispose);
    memset(c, 0, sizeof(*c));
    r->handler_data = c;
    if ((c->html = ticket_sanitize_body(r, m.body, m.body_len)) == NULL)
        return;
    snprintf(c->ws, sizeof(c->ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(c->id, sizeof(c->id), "%lld", (long long)id);
    snprintf(c->author, sizeof(c->author), "%lld", (long long)r->acting_agent_id);
    c->acting = r->acting_agent_id;
    c->author_type = m.author_type;
    c->is_internal = m.internal;
    c->internal = m.internal ? "true" : "false";
    request_txn_begin(r, message_begun);
}
