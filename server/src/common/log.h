/*
 * log.h: JSON-lines logging to stdout, one write(2) per line so lines from threads never interleave.
 * What may be logged: ids, routes, statuses, durations, SQLSTATEs and constraint names. Never a
 * token, secret, message body or email address: callers pass only such fields.
 */
#ifndef HDF_LOG_H
#define HDF_LOG_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

void log_set_level(enum hdf_log_level level);
int log_enabled(enum hdf_log_level level);

/* extra: a JSON fragment of members without braces (e.g. "\"sqlstate\":\"57P01\""), or NULL. */
void log_line(enum hdf_log_level level, const char *msg, const char *extra_fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends s as a JSON string body (without quotes) into out; always NUL-terminates. */
void log_escape(const char *s, char *out, size_t outsz);

struct hdf_request_log {
    const char *request_id;
    int64_t key_id; /* 0: none */
    const char *method, *route;
    int status;
    double duration_ms;
};
/* Formats a request line into buf (exposed for tests); returns its length. */
size_t log_format_request(const struct hdf_request_log *r, char *buf, size_t bufsz);
void log_request(const struct hdf_request_log *r);
/* Worker threads: from now on this thread's request lines are batched until log_flush (called after
 * every event-loop iteration and before the thread ends). */
void log_batch_start(void);
void log_flush(void);

#endif
