/*
 * messages.c: POST /v1/tickets/{id}/messages (CONTRACT.md, Tickets): a message on a ticket, its
 * body sanitized. Agent messages may be internal notes; with X-Acting-Agent-Id they are that
 * agent's, and a customer's message is the ticket's customer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "handlers/tickets.h"
#include "http/respond.h"
#include "model/ticket.h"

/* The message is written in a transaction whose row-lock wait is bounded like a PATCH's: it
 * touches the ticket (updated_at), and a PATCH holding the ticket must not stall it for long. */
struct message_ctx {
    char ws[24], id[24], author[24];
    const char *author_type, *internal, *html;
    int64_t acting;
};

static void on_message(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
        return;
    }
    request_commit_respond(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void message_begun(struct hdf_req *r)
{
    struct message_ctx *c = r->handler_data;
    const char *params[] = {c->ws, c->id, c->author_type, c->acting > 0 ? c->author : NULL, c->internal, c->html};
    request_txn_lock_timeout(r);
    request_query(r, HDF_STMT_MESSAGE_CREATE, params, NULL, on_message);
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
    struct message_ctx *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    memset(c, 0, sizeof(*c));
    if ((c->html = ticket_sanitize_body(r, m.body, m.body_len)) == NULL)
        return;
    snprintf(c->ws, sizeof(c->ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(c->id, sizeof(c->id), "%lld", (long long)id);
    snprintf(c->author, sizeof(c->author), "%lld", (long long)r->acting_agent_id);
    c->acting = r->acting_agent_id;
    c->author_type = m.author_type;
    c->internal = m.internal ? "true" : "false";
    r->handler_data = c;
    request_txn_begin(r, message_begun);
}
