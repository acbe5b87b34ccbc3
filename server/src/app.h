/*
 * app.h: `helpdeskflow serve` (h2o configuration, listeners, worker threads, signals) and
 * `helpdeskflow worker`.
 */
#ifndef HDF_APP_H
#define HDF_APP_H

#include "config.h"

/* Runs until SIGTERM/SIGINT and a graceful shutdown; returns the process exit status. */
int app_serve(const struct hdf_config *cfg);
/* `helpdeskflow worker`: the webhook delivery worker alone, until SIGTERM/SIGINT. */
int app_worker(const struct hdf_config *cfg);

#endif
