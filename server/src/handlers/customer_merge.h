/*
 * customer_merge.h: merging one customer into another (customer_merge.c), shared by
 * POST /v1/customers/{id}/merge and the PATCH that gives a customer another's email (customers.c).
 */
#ifndef HDF_CUSTOMER_MERGE_H
#define HDF_CUSTOMER_MERGE_H

#include <stdint.h>
#include "http/request.h"

/* Called inside the still-open transaction once the merge is written, with r->handler_data
 * given back to the caller and the survivor's JSON (in the request's pool). */
typedef void (*hdf_customer_merged_fn)(struct hdf_req *r, const char *survivor_json, size_t len);

struct hdf_customer_merge {
    int64_t survivor, source;
    const char *survivor_email; /* when set, the survivor must still have this email (409 if not) */
    void *caller_data;          /* r->handler_data to restore before done */
    hdf_customer_merged_fn done;
    /* the merge's own */
    char workspace[24], survivor_text[24], source_text[24];
};

/* Opens (or joins) the request's transaction, locks both customers in id order under
 * HDF_LOCK_TIMEOUT_MS, checks both are live customers of the workspace, and merges source into
 * survivor. Every failure is answered here (404 with merged_into, 409); then done(r, ...). m lives
 * in the request's pool. */
void customer_merge_start(struct hdf_req *r, struct hdf_customer_merge *m);

/* 404 for a merged customer: the problem carries merged_into (GET, PATCH, merge). field, when
 * set, is named in errors[] (the body member that referred to the customer). */
void customer_respond_merged(struct hdf_req *r, int64_t id, int64_t merged_into, const char *field);

#endif
