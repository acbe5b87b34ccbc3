/*
 * delivery.h: the webhook delivery worker. One thread with its own loop: a libcurl multi handle
 * sends many deliveries at once, and curl_multi_poll also waits on the socket of the worker's own
 * database connection, which LISTENs on hdf_outbox, so a committed event wakes it at once (no
 * polling); a timer wakes it when the next retry is due. Claims use FOR UPDATE SKIP LOCKED and a
 * lease (claimed_until), so several workers (threads of `serve` or `helpdeskflow worker`
 * processes) share the queue, and a killed worker's claims are taken over when they expire.
 * Database calls are blocking on the worker's own connection: short, indexed statements that
 * never touch a request thread's loop. See docs/architecture.md (Outbox).
 */
#ifndef HDF_OUTBOX_DELIVERY_H
#define HDF_OUTBOX_DELIVERY_H

#include <pthread.h>
#include <stdatomic.h>
#include "config.h"

/* A claim lasts this long: well beyond the 3 s a request may take plus the statements around it. */
#define HDF_DELIVERY_LEASE_MS 10000
#define HDF_DELIVERY_TIMEOUT_MS 3000
#define HDF_DELIVERY_MAX_IN_FLIGHT 256
#define HDF_DELIVERY_BODY_KEEP 4096

struct hdf_delivery_worker {
    const struct hdf_config *cfg;
    pthread_t tid;
    atomic_int stop;
    void *multi; /* CURLM */
};

/* curl_global_init: once, before any thread starts. */
int delivery_global_init(void);
void delivery_global_cleanup(void);
/* Starts the worker thread. Returns 0, or -1. */
int delivery_start(struct hdf_delivery_worker *w, const struct hdf_config *cfg);
/* Asks it to stop (deliveries in flight get up to their timeout to finish) and joins it. */
void delivery_stop(struct hdf_delivery_worker *w);

#endif
