/*
 * audit.c: GET /v1/tickets/{id}/audit (CONTRACT.md, Tickets): the ticket's audit entries, oldest
 * first, keyset-paginated like every list.
 */
#include <stdio.h>
#include "http/list.h"
#include "http/respond.h"

#define AUDIT_CURSOR_KIND "au"

static void on_audit(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0 && query_get(&r->query, "cursor") == NULL) {
        respond_problem(r, HDF_E_NOT_FOUND, "no ticket with this id in your workspace", NULL);
        return;
    }
    list_respond_page(r, res);
}

void ticket_audit_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    int64_t id = request_path_id(r, 0, "id");
    if (id < 0)
        return;
    list_read_page(r, AUDIT_CURSOR_KIND, NULL, &page, &fe);
    if (field_errors_count(&fe) > 0) {
        respond_field_errors(r, &fe);
        return;
    }
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, ids};
    r->handler_arg = page.limit;
    r->handler_str = AUDIT_CURSOR_KIND;
    request_query(r, HDF_STMT_TICKET_AUDIT, params, NULL, on_audit);
}
