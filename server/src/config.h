/*
 * config.h: the environment, read and validated once at start-up into struct hdf_config.
 * A bad value stops start-up with a message naming the variable (config_load's err).
 */
#ifndef HDF_CONFIG_H
#define HDF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "ratelimit/category.h"
#include "webhook/secretbox.h"

enum hdf_log_level { HDF_LOG_DEBUG, HDF_LOG_INFO, HDF_LOG_WARN, HDF_LOG_ERROR };

/* One category's default limit: limit requests per window_s seconds; limit 0 means off. */
struct hdf_rate_limit {
    int64_t limit, window_s;
};

struct hdf_config {
    char *database_url;
    char *listen_host;
    uint16_t listen_port;
    int threads;
    int db_conns_per_thread;
    int db_queue_max; /* requests waiting for a connection, per thread */
    char *tls_cert, *tls_key;
    int64_t max_body_bytes;
    int lock_timeout_ms;
    int shutdown_timeout_ms; /* graceful shutdown bound for in-flight requests */
    int auth_cache_ms;       /* how long a key lookup is trusted; revocation lag */
    enum hdf_log_level log_level;
    unsigned char secret_key[32];
    int has_secret_key;
    struct hdf_rate_limit rate_limits[HDF_RL__COUNT]; /* HDF_RATE_LIMIT_<CATEGORY> */
    int soft_throttle_after_s, soft_throttle_delay_ms, soft_throttle_recover_s;
    /* webhooks: [0] HDF_SECRET_KEY, then HDF_SECRET_KEY_PREVIOUS (nsecret_keys 0 without a key) */
    hdf_secretbox_key_t secret_keys[1 + HDF_SECRETBOX_MAX_PREVIOUS];
    int nsecret_keys;
    int webhook_flags;          /* HDF_SSRF_ALLOW_HTTP | HDF_SSRF_ALLOW_PRIVATE (webhook/ssrf.h) */
    int64_t webhook_backoff_ms; /* HDF_WEBHOOK_BACKOFF_MS */
    int64_t secret_overlap_s;   /* HDF_SECRET_OVERLAP_S: a rotated secret keeps signing this long */
    int event_retention_days;   /* HDF_EVENT_RETENTION_DAYS: 0 keeps events and deliveries forever */
    int no_delivery_worker;     /* serve --no-worker (not from the environment) */
};

typedef const char *(*config_getenv_fn)(const char *name);

/* Fills c from the environment. Returns 0, or -1 with a message naming the variable in err. */
int config_load(struct hdf_config *c, config_getenv_fn get, char *err, size_t errlen);
void config_free(struct hdf_config *c);

/* "host:port" or "[v6]:port"; exposed for tests. */
int config_parse_listen(const char *s, char **host, uint16_t *port);

/* "<limit>/<window seconds>" (limit 1..1e9, window 1..86400) or "off"; exposed for tests. */
int config_parse_rate_limit(const char *s, struct hdf_rate_limit *out);

/* Text for --help: every variable, its default and meaning. */
extern const char config_help_text[];

#endif
