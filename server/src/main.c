/*
 * main.c: command-line dispatch only: serve, migrate, worker, routes, --help, --version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "config.h"
#include "migrate.h"
#include "outbox/delivery.h"
#include "common/log.h"
#include "http/router.h"

static const char usage[] = "usage: helpdeskflow <command>\n"
                            "\n"
                            "Commands:\n"
                            "  serve [--no-worker]  run the HTTP API server\n"
                            "  migrate              apply pending database migrations (idempotent)\n"
                            "  worker               run the webhook delivery worker alone\n"
                            "  routes               print the route table (METHOD /path)\n"
                            "  --help, --version\n"
                            "\n";

static const char *env_get(const char *name)
{
    return getenv(name);
}

static int load_config(struct hdf_config *cfg)
{
    char err[256];
    if (config_load(cfg, env_get, err, sizeof(err)) != 0) {
        fprintf(stderr, "helpdeskflow: config: %s\n", err);
        return -1;
    }
    log_set_level(cfg->log_level);
    return 0;
}

static int cmd_routes(void)
{
    for (int i = 0; i < HDF_ROUTE__COUNT; i++)
        printf("%s %s\n", hdf_routes[i].method_name, hdf_routes[i].tmpl);
    return 0;
}

static int cmd_with_config(const char *cmd, int argc, char **argv)
{
    struct hdf_config cfg;
    for (int i = 2; i < argc; i++) {
        if (!(strcmp(cmd, "serve") == 0 && strcmp(argv[i], "--no-worker") == 0)) {
            fprintf(stderr, "helpdeskflow %s: unknown option %s\n%s", cmd, argv[i], usage);
            return 2;
        }
    }
    if (load_config(&cfg) != 0)
        return 2;
    cfg.no_delivery_worker = argc > 2; /* serve --no-worker: the only option */
    if (strcmp(cmd, "migrate") != 0 && delivery_global_init() != 0) {
        fprintf(stderr, "helpdeskflow: cannot initialise libcurl\n");
        config_free(&cfg);
        return 1;
    }
    int rc;
    if (strcmp(cmd, "migrate") == 0) {
        rc = migrate_run(cfg.database_url);
    } else if (strcmp(cmd, "serve") == 0) {
        rc = app_serve(&cfg);
    } else {
        rc = app_worker(&cfg);
    }
    if (strcmp(cmd, "migrate") != 0)
        delivery_global_cleanup();
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        fputs(config_help_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("helpdeskflow %s\n", HDF_VERSION);
        return 0;
    }
    if (strcmp(cmd, "routes") == 0)
        return cmd_routes();
    if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "migrate") == 0 || strcmp(cmd, "worker") == 0)
        return cmd_with_config(cmd, argc, argv);
    fprintf(stderr, "helpdeskflow: unknown command %s\n%s", cmd, usage);
    return 2;
}
