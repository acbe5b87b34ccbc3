/*
 * tickets.h: what the ticket handlers share (tickets.c, messages.c).
 */
#ifndef HDF_HANDLERS_TICKETS_H
#define HDF_HANDLERS_TICKETS_H

#include "http/request.h"

/* Sanitizes an HTML body into the request's pool; answers (400 too_complex, 500) and returns NULL
 * when it cannot. */
const char *ticket_sanitize_body(struct hdf_req *r, const char *html, size_t len);
/* Inside request_txn_begin: bounds this transaction's row-lock waits by HDF_LOCK_TIMEOUT_MS
 * (55P03 then answers 409 lock_timeout), then runs then. */
void ticket_txn_lock_timeout(struct hdf_req *r, hdf_query_done_fn then);

#endif
