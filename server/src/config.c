/*
 * config.c: environment -> struct hdf_config, validated once. Each variable has a default; each
 * bad value is reported with its name so an operator knows what to fix.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "config.h"
#include "common/util.h"
#include "webhook/backoff.h"
#include "webhook/ssrf.h"

const char config_help_text[] =
    "Configuration (environment):\n"
    "  DATABASE_URL              libpq URI of the database (required)\n"
    "  HDF_LISTEN                host:port to listen on (default 127.0.0.1:8080)\n"
    "  HDF_THREADS               worker threads, each with its own event loop (default: cores)\n"
    "  HDF_DB_CONNS_PER_THREAD   database connections per thread (default 4)\n"
    "  HDF_DB_QUEUE_MAX          requests that may wait for a connection per thread before 503 (default 1024)\n"
    "  HDF_TLS_CERT, HDF_TLS_KEY PEM certificate chain and key: serve HTTPS with HTTP/2 (both or neither)\n"
    "  HDF_MAX_BODY_BYTES        largest request body accepted (default 1048576)\n"
    "  HDF_LOCK_TIMEOUT_MS       row lock wait before 409 lock_timeout (default 50)\n"
    "  HDF_SHUTDOWN_TIMEOUT_MS   how long SIGTERM waits for in-flight requests (default 10000)\n"
    "  HDF_AUTH_CACHE_MS         how long a key lookup is reused; bounds revocation lag (default 1000, max 1000)\n"
    "  HDF_LOG_LEVEL             debug|info|warn|error (default info)\n"
    "  HDF_SECRET_KEY            64 hex characters; encrypts webhook secrets at rest (webhooks need it)\n"
    "  HDF_SECRET_KEY_PREVIOUS   keys replaced by HDF_SECRET_KEY that still open secrets (comma-separated)\n"
    "  HDF_SECRET_OVERLAP_S      seconds a rotated webhook secret keeps signing (default 86400)\n"
    "  HDF_WEBHOOK_ALLOW_HTTP    1: webhook URLs may be http (default: https only)\n"
    "  HDF_WEBHOOK_ALLOW_PRIVATE 1: webhooks may reach loopback, private and link-local addresses\n"
    "  HDF_WEBHOOK_BACKOFF_MS    base of the retry backoff (default 1000)\n"
    "  HDF_EVENT_RETENTION_DAYS  days events (and their finished deliveries) stay in the feed and the delivery log\n"
    "                            (default 30; 0 keeps them forever)\n"
    "  HDF_RATE_LIMIT_<CATEGORY> <limit>/<window seconds> or off, per API key; categories TICKET_CREATE (300/60),\n"
    "                            TICKET_UPDATE (600/60), CUSTOMER (600/60), READ (1200/60), ADMIN (120/60)\n"
    "  HDF_SOFT_THROTTLE_AFTER_S   seconds a workspace may stay over its limits before soft-throttle (default 600)\n"
    "  HDF_SOFT_THROTTLE_DELAY_MS  delay added to a throttled workspace's requests (default 250; 0 disables)\n"
    "  HDF_SOFT_THROTTLE_RECOVER_S seconds under its limits that end a throttle (default 60)\n";

struct getter {
    config_getenv_fn get;
    char *err;
    size_t errlen;
};

static int fail(struct getter *g, const char *name, const char *why, const char *value)
{
    /* The value is echoed only for variables that are not secrets (callers pass NULL for those). */
    if (value != NULL)
        snprintf(g->err, g->errlen, "%s: %s (got \"%.80s\")", name, why, value);
    else
        snprintf(g->err, g->errlen, "%s: %s", name, why);
    return -1;
}

static int get_int(struct getter *g, const char *name, long long min, long long max, long long dflt, long long *out)
{
    const char *v = g->get(name);
    if (v == NULL || *v == '\0') {
        *out = dflt;
        return 0;
    }
    const char *errstr = NULL;
    long long n = strtonum(v, min, max, &errstr);
    if (errstr != NULL) {
        char why[96];
        snprintf(why, sizeof(why), "must be an integer from %lld to %lld", min, max);
        return fail(g, name, why, v);
    }
    *out = n;
    return 0;
}

int config_parse_listen(const char *s, char **host, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return -1;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen > 255)
        return -1;
    const char *errstr = NULL;
    long long p = strtonum(colon + 1, 1, 65535, &errstr);
    if (errstr != NULL)
        return -1;
    *host = strndup(h, hlen);
    *port = (uint16_t)p;
    return *host == NULL ? -1 : 0;
}

static int load_listen(struct getter *g, struct hdf_config *c)
{
    const char *v = g->get("HDF_LISTEN");
    if (v == NULL || *v == '\0')
        v = "127.0.0.1:8080";
    if (config_parse_listen(v, &c->listen_host, &c->listen_port) != 0)
        return fail(g, "HDF_LISTEN", "must be host:port (IPv6 as [addr]:port)", v);
    return 0;
}

static int load_tls(struct getter *g, struct hdf_config *c)
{
    const char *cert = g->get("HDF_TLS_CERT"), *key = g->get("HDF_TLS_KEY");
    int has_cert = cert != NULL && *cert != '\0', has_key = key != NULL && *key != '\0';
    if (has_cert != has_key)
        return fail(g, has_cert ? "HDF_TLS_KEY" : "HDF_TLS_CERT", "must be set together with the other TLS variable", NULL);
    if (!has_cert)
        return 0;
    if (access(cert, R_OK) != 0)
        return fail(g, "HDF_TLS_CERT", "file is not readable", cert);
    if (access(key, R_OK) != 0)
        return fail(g, "HDF_TLS_KEY", "file is not readable", key);
    c->tls_cert = strdup(cert);
    c->tls_key = strdup(key);
    return 0;
}

static int load_log_level(struct getter *g, struct hdf_config *c)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    const char *v = g->get("HDF_LOG_LEVEL");
    c->log_level = HDF_LOG_INFO;
    if (v == NULL || *v == '\0')
        return 0;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, names[i]) == 0) {
            c->log_level = (enum hdf_log_level)i;
            return 0;
        }
    }
    return fail(g, "HDF_LOG_LEVEL", "must be one of debug, info, warn, error", v);
}

static int load_secret_key(struct getter *g, struct hdf_config *c)
{
    const char *v = g->get("HDF_SECRET_KEY");
    if (v == NULL || *v == '\0')
        return 0;
    if (strlen(v) != 64 || hex_decode(v, 64, c->secret_key, sizeof(c->secret_key)) != 32)
        return fail(g, "HDF_SECRET_KEY", "must be 64 hexadecimal characters", NULL);
    c->has_secret_key = 1;
    const char *why = NULL;
    if (secretbox_key_parse(v, strlen(v), &c->secret_keys[0], &why) != 0)
        return fail(g, "HDF_SECRET_KEY", why, NULL);
    c->nsecret_keys = 1;
    const char *prev = g->get("HDF_SECRET_KEY_PREVIOUS");
    if (prev == NULL || *prev == '\0')
        return 0;
    int n = secretbox_keys_parse_list(prev, strlen(prev), &c->secret_keys[1], HDF_SECRETBOX_MAX_PREVIOUS, &why);
    if (n < 0)
        return fail(g, "HDF_SECRET_KEY_PREVIOUS", why, NULL);
    c->nsecret_keys += n;
    return 0;
}

static int get_flag(struct getter *g, const char *name, int bit, int *flags)
{
    long long n;
    if (get_int(g, name, 0, 1, 0, &n) != 0)
        return -1;
    if (n)
        *flags |= bit;
    return 0;
}

static int load_webhooks(struct getter *g, struct hdf_config *c)
{
    long long n;
    if (get_flag(g, "HDF_WEBHOOK_ALLOW_HTTP", HDF_SSRF_ALLOW_HTTP, &c->webhook_flags) != 0 ||
        get_flag(g, "HDF_WEBHOOK_ALLOW_PRIVATE", HDF_SSRF_ALLOW_PRIVATE, &c->webhook_flags) != 0)
        return -1;
    if (get_int(g, "HDF_WEBHOOK_BACKOFF_MS", 1, 3600000, HDF_BACKOFF_DEFAULT_BASE_MS, &n) != 0)
        return -1;
    c->webhook_backoff_ms = n;
    if (get_int(g, "HDF_SECRET_OVERLAP_S", 0, 30LL * 86400, 86400, &n) != 0)
        return -1;
    c->secret_overlap_s = n;
    if (get_int(g, "HDF_EVENT_RETENTION_DAYS", 0, 36500, 30, &n) != 0)
        return -1;
    c->event_retention_days = (int)n;
    return 0;
}

static int load_numbers(struct getter *g, struct hdf_config *c)
{
    long long n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (get_int(g, "HDF_THREADS", 1, 256, cores > 0 ? cores : 1, &n) != 0)
        return -1;
    c->threads = (int)n;
    if (get_int(g, "HDF_DB_CONNS_PER_THREAD", 1, 64, 4, &n) != 0)
        return -1;
    c->db_conns_per_thread = (int)n;
    if (get_int(g, "HDF_DB_QUEUE_MAX", 1, 100000, 1024, &n) != 0)
        return -1;
    c->db_queue_max = (int)n;
    if (get_int(g, "HDF_MAX_BODY_BYTES", 1024, 64LL * 1024 * 1024, 1024 * 1024, &n) != 0)
        return -1;
    c->max_body_bytes = n;
    if (get_int(g, "HDF_LOCK_TIMEOUT_MS", 1, 60000, 50, &n) != 0)
        return -1;
    c->lock_timeout_ms = (int)n;
    if (get_int(g, "HDF_SHUTDOWN_TIMEOUT_MS", 0, 600000, 10000, &n) != 0)
        return -1;
    c->shutdown_timeout_ms = (int)n;
    if (get_int(g, "HDF_AUTH_CACHE_MS", 0, 1000, 1000, &n) != 0)
        return -1;
    c->auth_cache_ms = (int)n;
    return 0;
}

int config_parse_rate_limit(const char *s, struct hdf_rate_limit *out)
{
    if (strcasecmp(s, "off") == 0) {
        *out = (struct hdf_rate_limit){0, 0};
        return 0;
    }
    const char *slash = strchr(s, '/');
    char limit[16];
    if (slash == NULL || (size_t)(slash - s) >= sizeof(limit))
        return -1;
    memcpy(limit, s, (size_t)(slash - s));
    limit[slash - s] = '\0';
    const char *e1 = NULL, *e2 = NULL;
    long long l = strtonum(limit, 1, 1000000000, &e1), w = strtonum(slash + 1, 1, 86400, &e2);
    if (e1 != NULL || e2 != NULL)
        return -1;
    *out = (struct hdf_rate_limit){l, w};
    return 0;
}

static int load_rate_limits(struct getter *g, struct hdf_config *c)
{
    static const struct hdf_rate_limit defaults[HDF_RL__COUNT] = {
        [HDF_RL_TICKET_CREATE] = {300, 60}, [HDF_RL_TICKET_UPDATE] = {600, 60}, [HDF_RL_CUSTOMER] = {600, 60},
        [HDF_RL_READ] = {1200, 60},         [HDF_RL_ADMIN] = {120, 60},
    };
    for (int i = 0; i < HDF_RL__COUNT; i++) {
        char name[64];
        snprintf(name, sizeof(name), "HDF_RATE_LIMIT_%s", hdf_rl_category_names[i]);
        for (char *p = name; *p != '\0'; p++)
            *p = (char)toupper((unsigned char)*p);
        const char *v = g->get(name);
        c->rate_limits[i] = defaults[i];
        if (v != NULL && *v != '\0' && config_parse_rate_limit(v, &c->rate_limits[i]) != 0)
            return fail(g, name, "must be <limit>/<window seconds> (limit 1 to 1000000000, window 1 to 86400) or off", v);
    }
    long long n;
    if (get_int(g, "HDF_SOFT_THROTTLE_AFTER_S", 0, 86400, 600, &n) != 0)
        return -1;
    c->soft_throttle_after_s = (int)n;
    if (get_int(g, "HDF_SOFT_THROTTLE_DELAY_MS", 0, 10000, 250, &n) != 0)
        return -1;
    c->soft_throttle_delay_ms = (int)n;
    if (get_int(g, "HDF_SOFT_THROTTLE_RECOVER_S", 1, 86400, 60, &n) != 0)
        return -1;
    c->soft_throttle_recover_s = (int)n;
    return 0;
}

int config_load(struct hdf_config *c, config_getenv_fn get, char *err, size_t errlen)
{
    struct getter g = {get, err, errlen};
    memset(c, 0, sizeof(*c));
    const char *url = get("DATABASE_URL");
    if (url == NULL || *url == '\0') {
        fail(&g, "DATABASE_URL", "is required (a libpq URI such as postgresql://user@host:5432/db)", NULL);
        goto error;
    }
    c->database_url = strdup(url);
    if (load_listen(&g, c) != 0 || load_numbers(&g, c) != 0 || load_tls(&g, c) != 0 || load_log_level(&g, c) != 0 ||
        load_secret_key(&g, c) != 0 || load_webhooks(&g, c) != 0 || load_rate_limits(&g, c) != 0)
        goto error;
    return 0;
error:
    config_free(c);
    return -1;
}

void config_free(struct hdf_config *c)
{
    free(c->database_url);
    free(c->listen_host);
    free(c->tls_cert);
    free(c->tls_key);
    explicit_bzero(c->secret_key, sizeof(c->secret_key));
    explicit_bzero(c->secret_keys, sizeof(c->secret_keys));
    memset(c, 0, sizeof(*c));
}
