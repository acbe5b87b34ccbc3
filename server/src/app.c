/*
 * app.c: `helpdeskflow serve`. Builds the h2o global configuration (one handler for everything,
 * the problem filter), binds one SO_REUSEPORT listener per worker so the kernel spreads
 * connections, starts the workers (and the webhook delivery worker unless --no-worker), and turns
 * SIGTERM/SIGINT into a graceful shutdown. `helpdeskflow worker`: the delivery worker alone.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "worker.h"
#include "outbox/delivery.h"
#include "http/problem_filter.h"
#include "http/request.h"
#include "common/log.h"

static int listen_socket(const struct hdf_config *cfg)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *res;
    char port[8];
    snprintf(port, sizeof(port), "%u", cfg->listen_port);
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "helpdeskflow: HDF_LISTEN: cannot resolve %s: %s\n", cfg->listen_host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "helpdeskflow: HDF_LISTEN: cannot listen on %s:%u: %s\n", cfg->listen_host, cfg->listen_port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static SSL_CTX *tls_context(const struct hdf_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        fprintf(stderr, "helpdeskflow: HDF_TLS_CERT: cannot load %s: %s\n", cfg->tls_cert,
                ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "helpdeskflow: HDF_TLS_KEY: cannot load %s or it does not match the certificate\n", cfg->tls_key);
        SSL_CTX_free(ctx);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
}

static void configure_h2o(h2o_globalconf_t *gc, const struct hdf_config *cfg)
{
    h2o_config_init(gc);
    gc->server_name = h2o_iovec_init(H2O_STRLIT("helpdeskflow"));
    gc->max_request_entity_size = (size_t)cfg->max_body_bytes;
    h2o_hostconf_t *host = h2o_config_register_host(gc, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = request_on_req;
    problem_filter_register(path);
    /* h2o answers some errors before any path is chosen; they use the fallback path */
    problem_filter_register(&host->fallback_path);
}

static int wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

static void block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The delivery worker of `serve`: it needs HDF_SECRET_KEY to sign. */
static void start_delivery(const struct hdf_config *cfg, struct hdf_delivery_worker *d)
{
    if (cfg->no_delivery_worker)
        return;
    if (cfg->nsecret_keys == 0) {
        log_line(HDF_LOG_WARN, "webhook delivery is off: HDF_SECRET_KEY is not set", NULL);
        return;
    }
    if (delivery_start(d, cfg) != 0)
        log_line(HDF_LOG_ERROR, "cannot start the webhook delivery worker", NULL);
}

int app_worker(const struct hdf_config *cfg)
{
    struct hdf_delivery_worker d = {0};
    block_signals();
    if (cfg->nsecret_keys == 0) {
        fprintf(stderr, "helpdeskflow worker: HDF_SECRET_KEY is required to sign webhooks\n");
        return 2;
    }
    if (delivery_start(&d, cfg) != 0) {
        fprintf(stderr, "helpdeskflow worker: cannot start\n");
        return 1;
    }
    int sig = wait_for_signal();
    log_line(HDF_LOG_INFO, "shutdown requested", "\"signal\":\"%s\"", sig == SIGINT ? "SIGINT" : "SIGTERM");
    delivery_stop(&d);
    log_flush();
    return 0;
}

int app_serve(const struct hdf_config *cfg)
{
    struct hdf_delivery_worker delivery = {0};
    static h2o_globalconf_t globalconf;
    SSL_CTX *ssl_ctx = NULL;
    block_signals(); /* before any thread exists, so only sigwait below sees them */
    if (cfg->tls_cert != NULL && (ssl_ctx = tls_context(cfg)) == NULL)
        return 2;
    configure_h2o(&globalconf, cfg);
    struct hdf_worker *workers = calloc((size_t)cfg->threads, sizeof(*workers));
    for (int i = 0; i < cfg->threads; i++) {
        workers[i] = (struct hdf_worker){.index = i, .cfg = cfg, .globalconf = &globalconf, .ssl_ctx = ssl_ctx};
        if ((workers[i].listen_fd = listen_socket(cfg)) < 0)
            return 2;
    }
    for (int i = 0; i < cfg->threads; i++) {
        if (worker_start(&workers[i]) != 0) {
            fprintf(stderr, "helpdeskflow: cannot start worker thread %d\n", i);
            return 1;
        }
    }
    start_delivery(cfg, &delivery);
    log_line(HDF_LOG_INFO, "listening", "\"listen\":\"%s:%u\",\"threads\":%d,\"tls\":%s,\"version\":\"%s\"", cfg->listen_host,
             cfg->listen_port, cfg->threads, ssl_ctx != NULL ? "true" : "false", HDF_VERSION);
    int sig = wait_for_signal();
    log_line(HDF_LOG_INFO, "shutdown requested", "\"signal\":\"%s\"", sig == SIGINT ? "SIGINT" : "SIGTERM");
    worker_request_shutdown();
    delivery_stop(&delivery);
    for (int i = 0; i < cfg->threads; i++)
        worker_join(&workers[i]);
    log_line(HDF_LOG_INFO, "stopped", NULL);
    free(workers);
    if (ssl_ctx != NULL)
        SSL_CTX_free(ssl_ctx);
    return 0;
}
