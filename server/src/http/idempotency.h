/*
 * idempotency.h: Idempotency-Key on POST and PATCH (CONTRACT.md, Idempotency).
 *
 * Before the handler runs, a transaction opens and the key is claimed in its first statement,
 * under a transaction-scoped advisory lock on the key; the handler's statements run in the same
 * transaction. A concurrent request with the key finds the lock taken: 409 at once. When the handler answers 2xx,
 * the response is stored on the key record and COMMIT makes both durable together; any other
 * answer, a client that goes away, a lost connection or a crashed server rolls back, which gives
 * the key back with everything else, so the client may retry with it at once. A repeat of the same request within 24 h gets the
 * stored response with `Idempotent-Replayed: true`; the same key with another request 422; one still in flight 409.
 */
#ifndef HDF_IDEMPOTENCY_H
#define HDF_IDEMPOTENCY_H

#include <stddef.h>

struct hdf_req;
struct hdf_worker;

#define HDF_IDEMPOTENCY_KEY_MAX 255

enum hdf_idem_state { HDF_IDEM_NONE, HDF_IDEM_CLAIMING, HDF_IDEM_CLAIMED, HDF_IDEM_FINISHING, HDF_IDEM_DONE };

struct hdf_idem {
    enum hdf_idem_state state;
    const char *key;
    unsigned char hash[32];
    char token[33];
    int attempts;
    void (*next)(struct hdf_req *r);
    /* the handler's answer, held while it is stored and committed */
    int status;
    const char *content_type, *body;
    size_t len;
};

/* Runs next(r) now when the request carries no key (or is not a POST/PATCH); otherwise claims
 * the key and runs next(r) inside the transaction, or answers (replay, 409, 422, 400, 503). */
void idem_begin(struct hdf_req *r, void (*next)(struct hdf_req *r));
/* Called by respond for a request holding a claimed key: stores or releases it, then sends.
 * Returns 1 when it has taken over sending the response. */
int idem_finish(struct hdf_req *r, int status, const char *content_type, const char *body, size_t len);
/* Worker housekeeping: deletes expired key records, a batch at a time, on an idle connection.
 * Returns -1 when none was idle (nothing was done). */
int idem_purge_expired(struct hdf_worker *w);

#endif
