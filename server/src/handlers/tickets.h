/*
 * tickets.h: what the ticket handlers share (tickets.c, messages.c).
 */
#ifndef HDF_HANDLERS_TICKETS_H
#define HDF_HANDLERS_TICKETS_H

#include "http/request.h"
#include "model/ticket.h"

/* Sanitizes an HTML body into the request's pool; answers (400 too_complex, 500) and returns NULL
 * when it cannot. */
const char *ticket_sanitize_body(struct hdf_req *r, const char *html, size_t len);
/* A JSON integer id as text in the request's pool; NULL for anything else (a null team, say). */
const char *ticket_id_text(struct hdf_req *r, const json_t *v);

/* A create's request as ticket.created rules see it: its ticket in hdf_ticket_fields form (without
 * customer_id), and its customer {email, name, tags, custom_fields} (a new customer's). */
json_t *ticket_create_fields(const struct hdf_ticket_create *in);
json_t *ticket_create_customer(const struct hdf_ticket_create *in);

#endif
