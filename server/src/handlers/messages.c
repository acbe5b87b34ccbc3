/*
 * messages.c: POST /v1/tickets/{id}/messages (CONTRACT.md, Tickets): a message on a ticket, its
 * body sanitized. Agent messages may be internal notes; with X-Acting-Agent-Id they are that
 * agent's, and a customer's message is the ticket's customer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/respond.h"
#include "model/ticket.h"
#include "sanitize/sanitize.h"

static void on_message(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
        return;
    }
    respond_json(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
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
    char *html;
    size_t len;
    int rc = sanitize_html(m.body, m.body_len, &html, &len);
    if (rc != SANITIZE_OK) {
        if (rc == SANITIZE_TOO_COMPLEX) {
            field_errors_add(&fe, "body", "too_complex", "body markup is too deeply nested or too large to sanitize");
            respond_field_errors(r, &fe);
        } else {
            respond_problem(r, HDF_E_INTERNAL, "out of memory while sanitizing", NULL);
        }
        return;
    }
    char ws[24], ids[24], author[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    snprintf(author, sizeof(author), "%lld", (long long)r->acting_agent_id);
    const char *params[] = {ws, ids, m.author_type, r->acting_agent_id > 0 ? author : NULL, m.internal ? "true" : "false", html};
    request_query(r, HDF_STMT_MESSAGE_CREATE, params, NULL, on_message);
    free(html);
}
