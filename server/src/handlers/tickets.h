/*
 * tickets.h: what the ticket handlers share (tickets.c, messages.c).
 */
#ifndef HDF_HANDLERS_TICKETS_H
#define HDF_HANDLERS_TICKETS_H

#include "http/request.h"

/* Sanitizes an HTML body into the request's pool; answers (400 too_complex, 500) and returns NULL
 * when it cannot. */
const char *ticket_sanitize_body(struct hdf_req *r, const char *html, size_t len);

#endif
