/*
 * test_config.c: tests config.c through a fake getenv over a small table: defaults, every
 * variable's bad values (the error names the variable; secrets are never echoed), HDF_LISTEN
 * forms including [v6]:port, the TLS pair, HDF_SECRET_KEY decoding and HDF_LOG_LEVEL, and the
 * webhook variables (flags, backoff, overlap, HDF_SECRET_KEY_PREVIOUS).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "webhook/ssrf.h"

#define MAX_VARS 16
static const char *env_names[MAX_VARS], *env_values[MAX_VARS];
static size_t env_n;

static void env_reset(void)
{
    env_n = 0;
}

static void env_set(const char *name, const char *value)
{
    for (size_t i = 0; i < env_n; i++) {
        if (strcmp(env_names[i], name) == 0) {
            env_values[i] = value;
            return;
        }
    }
    assert_true(env_n < MAX_VARS);
    env_names[env_n] = name;
    env_values[env_n++] = value;
}

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    env_reset();
    env_set("DATABASE_URL", "postgresql://hdf@localhost:5432/hdf");
    return 0;
}

/* Loads; on failure asserts the message starts with the variable's name. */
static int load(struct hdf_config *c, char *err, size_t errlen)
{
    err[0] = '\0';
    return config_load(c, fake_getenv, err, errlen);
}

static void expect_error(const char *var, const char *value, const char *named)
{
    struct hdf_config c;
    char err[512];
    env_set(var, value);
    if (load(&c, err, sizeof(err)) != -1)
        fail_msg("%s=\"%s\" was accepted", var, value);
    if (strncmp(err, named, strlen(named)) != 0 || err[strlen(named)] != ':')
        fail_msg("%s=\"%s\": error does not name %s: %s", var, value, named, err);
    /* a failed load leaves nothing allocated behind */
    assert_null(c.database_url);
    assert_null(c.listen_host);
}

static void expect_ok(const char *var, const char *value, struct hdf_config *c)
{
    char err[512];
    env_set(var, value);
    if (load(c, err, sizeof(err)) != 0)
        fail_msg("%s=\"%s\" refused: %s", var, value, err);
}

static void test_defaults(void **state)
{
    (void)state;
    struct hdf_config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof(err)), 0);
    assert_string_equal(c.database_url, "postgresql://hdf@localhost:5432/hdf");
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(c.threads, cores > 0 ? (cores > 256 ? 256 : cores) : 1);
    assert_int_equal(c.db_conns_per_thread, 4);
    assert_int_equal(c.db_queue_max, 1024);
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.lock_timeout_ms, 50);
    assert_int_equal(c.shutdown_timeout_ms, 10000);
    assert_int_equal(c.auth_cache_ms, 1000);
    assert_int_equal(c.log_level, HDF_LOG_INFO);
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    assert_int_equal(c.has_secret_key, 0);
    config_free(&c);
    assert_null(c.database_url);
}

/* Set but empty means "use the default", as with unset. */
static void test_empty_values_are_defaults(void **state)
{
    (void)state;
    static const char *const vars[] = {"HDF_LISTEN",         "HDF_THREADS",         "HDF_DB_CONNS_PER_THREAD",
                                       "HDF_MAX_BODY_BYTES", "HDF_LOCK_TIMEOUT_MS", "HDF_LOG_LEVEL",
                                       "HDF_SECRET_KEY",     "HDF_TLS_CERT",        "HDF_TLS_KEY"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        env_set(vars[i], "");
    struct hdf_config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.listen_port, 8080);
    assert_int_equal(c.max_body_bytes, 1048576);
    config_free(&c);
}

static void test_database_url_required(void **state)
{
    (void)state;
    struct hdf_config c;
    char err[256];
    env_reset();
    assert_int_equal(load(&c, err, sizeof(err)), -1);
    assert_memory_equal(err, "DATABASE_URL:", 13);
    env_set("DATABASE_URL", "");
    assert_int_equal(load(&c, err, sizeof(err)), -1);
    assert_memory_equal(err, "DATABASE_URL:", 13);
}

static void test_listen(void **state)
{
    (void)state;
    struct hdf_config c;
    expect_ok("HDF_LISTEN", "[::1]:8080", &c);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8080);
    config_free(&c);
    expect_ok("HDF_LISTEN", "0.0.0.0:1", &c);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 1);
    config_free(&c);
    expect_ok("HDF_LISTEN", "localhost:65535", &c);
    assert_int_equal(c.listen_port, 65535);
    config_free(&c);
    expect_ok("HDF_LISTEN", "[::]:443", &c);
    assert_string_equal(c.listen_host, "::");
    config_free(&c);

    static const char *const bad[] = {"bogus",     ":80",        "host:0", "host:65536", "host:",     "host:80x",
                                      "host:-1",   "::1:8080",   "[::1]",  "[::1]8080",  "[::1]:",    "[]:80",
                                      "[::1:8080", "host:99999", "a:b:80", "8080",       "host:0x50", "host:80:81"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error("HDF_LISTEN", bad[i], "HDF_LISTEN");
}

static void test_parse_listen_direct(void **state)
{
    (void)state;
    char *host = NULL;
    uint16_t port = 0;
    assert_int_equal(config_parse_listen("[2001:db8::1]:9000", &host, &port), 0);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 9000);
    free(host);
    char longhost[300];
    memset(longhost, 'h', 256);
    snprintf(longhost + 256, sizeof(longhost) - 256, ":80");
    assert_int_equal(config_parse_listen(longhost, &host, &port), -1); /* host over 255 */
    assert_int_equal(config_parse_listen(longhost + 1, &host, &port), 0);
    assert_int_equal(strlen(host), 255);
    free(host);
}

static void test_numbers(void **state)
{
    (void)state;
    struct hdf_config c;
    expect_ok("HDF_THREADS", "1", &c);
    assert_int_equal(c.threads, 1);
    config_free(&c);
    expect_ok("HDF_THREADS", "256", &c);
    assert_int_equal(c.threads, 256);
    config_free(&c);
    env_set("HDF_THREADS", "2");
    expect_ok("HDF_MAX_BODY_BYTES", "1024", &c);
    assert_int_equal(c.max_body_bytes, 1024);
    config_free(&c);
    expect_ok("HDF_MAX_BODY_BYTES", "67108864", &c);
    assert_int_equal(c.max_body_bytes, 64 * 1024 * 1024);
    config_free(&c);
    expect_ok("HDF_AUTH_CACHE_MS", "0", &c);
    assert_int_equal(c.auth_cache_ms, 0);
    config_free(&c);
    expect_ok("HDF_SHUTDOWN_TIMEOUT_MS", "0", &c);
    assert_int_equal(c.shutdown_timeout_ms, 0);
    config_free(&c);
    expect_ok("HDF_LOCK_TIMEOUT_MS", "60000", &c);
    assert_int_equal(c.lock_timeout_ms, 60000);
    config_free(&c);
    expect_ok("HDF_DB_CONNS_PER_THREAD", "64", &c);
    assert_int_equal(c.db_conns_per_thread, 64);
    config_free(&c);
    expect_ok("HDF_DB_QUEUE_MAX", "100000", &c);
    assert_int_equal(c.db_queue_max, 100000);
    config_free(&c);
}

static void test_bad_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *var, *value;
    } bad[] = {
        {"HDF_THREADS", "0"},
        {"HDF_THREADS", "257"},
        {"HDF_THREADS", "-1"},
        {"HDF_THREADS", "abc"},
        {"HDF_THREADS", "1.5"},
        {"HDF_THREADS", "4x"},
        {"HDF_THREADS", "99999999999999999999999"},
        {"HDF_DB_CONNS_PER_THREAD", "0"},
        {"HDF_DB_CONNS_PER_THREAD", "65"},
        {"HDF_DB_QUEUE_MAX", "0"},
        {"HDF_MAX_BODY_BYTES", "abc"},
        {"HDF_MAX_BODY_BYTES", "1023"},
        {"HDF_MAX_BODY_BYTES", "67108865"},
        {"HDF_MAX_BODY_BYTES", "1MB"},
        {"HDF_LOCK_TIMEOUT_MS", "0"},
        {"HDF_LOCK_TIMEOUT_MS", "60001"},
        {"HDF_SHUTDOWN_TIMEOUT_MS", "-1"},
        {"HDF_AUTH_CACHE_MS", "1001"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setup(NULL);
        expect_error(bad[i].var, bad[i].value, bad[i].var);
    }
    /* the message says what is allowed and echoes the (non-secret) value */
    struct hdf_config c;
    char err[256];
    setup(NULL);
    env_set("HDF_THREADS", "0");
    assert_int_equal(load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "1 to 256"));
    assert_non_null(strstr(err, "\"0\""));
}

static void test_tls_pair(void **state)
{
    (void)state;
    setup(NULL);
    env_set("HDF_TLS_CERT", "/etc/hostname");
    expect_error("HDF_TLS_KEY", "", "HDF_TLS_KEY"); /* cert without key names the key */
    setup(NULL);
    env_set("HDF_TLS_KEY", "/etc/hostname");
    expect_error("HDF_TLS_CERT", "", "HDF_TLS_CERT");
    setup(NULL);
    env_set("HDF_TLS_KEY", "/etc/hostname");
    expect_error("HDF_TLS_CERT", "/nonexistent/cert.pem", "HDF_TLS_CERT");
    setup(NULL);
    env_set("HDF_TLS_CERT", "/etc/hostname");
    expect_error("HDF_TLS_KEY", "/nonexistent/key.pem", "HDF_TLS_KEY");

    char cert[] = "/tmp/hdf-test-cert-XXXXXX", key[] = "/tmp/hdf-test-key-XXXXXX";
    int fc = mkstemp(cert), fk = mkstemp(key);
    assert_true(fc >= 0 && fk >= 0);
    close(fc);
    close(fk);
    setup(NULL);
    env_set("HDF_TLS_CERT", cert);
    struct hdf_config c;
    expect_ok("HDF_TLS_KEY", key, &c);
    assert_string_equal(c.tls_cert, cert);
    assert_string_equal(c.tls_key, key);
    config_free(&c);
    unlink(cert);
    unlink(key);
}

static void test_secret_key(void **state)
{
    (void)state;
    static const char good[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    struct hdf_config c;
    expect_ok("HDF_SECRET_KEY", good, &c);
    assert_int_equal(c.has_secret_key, 1);
    assert_int_equal(c.secret_key[0], 0x00);
    assert_int_equal(c.secret_key[1], 0x11);
    assert_int_equal(c.secret_key[15], 0xff);
    assert_int_equal(c.secret_key[31], 0xff);
    config_free(&c);
    assert_int_equal(c.has_secret_key, 0);
    assert_int_equal(c.secret_key[1], 0);

    static const char *const bad[] = {"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
                                      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
                                      "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                                      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeg0",
                                      "short",
                                      "0011223344556677 8899aabbccddeeff00112233445566778899aabbccddeef"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512];
        env_set("HDF_SECRET_KEY", bad[i]);
        assert_int_equal(load(&c, err, sizeof(err)), -1);
        assert_memory_equal(err, "HDF_SECRET_KEY:", 15);
        if (strstr(err, bad[i]) != NULL || strstr(err, "00112233") != NULL)
            fail_msg("the error echoes the secret: %s", err);
    }
}

static void test_webhook_settings(void **state)
{
    (void)state;
    static const char key[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    static const char prev[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    struct hdf_config c;
    char err[512];
    assert_int_equal(load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.webhook_flags, 0);
    assert_int_equal(c.webhook_backoff_ms, 1000);
    assert_int_equal(c.secret_overlap_s, 86400);
    assert_int_equal(c.nsecret_keys, 0);
    assert_int_equal(c.event_retention_days, 30);
    config_free(&c);
    env_set("HDF_SECRET_KEY", key);
    env_set("HDF_SECRET_KEY_PREVIOUS", prev);
    env_set("HDF_WEBHOOK_ALLOW_HTTP", "1");
    env_set("HDF_WEBHOOK_ALLOW_PRIVATE", "1");
    env_set("HDF_WEBHOOK_BACKOFF_MS", "50");
    expect_ok("HDF_SECRET_OVERLAP_S", "0", &c);
    assert_int_equal(c.nsecret_keys, 2);
    assert_int_equal(c.webhook_flags, HDF_SSRF_ALLOW_HTTP | HDF_SSRF_ALLOW_PRIVATE);
    assert_int_equal(c.webhook_backoff_ms, 50);
    assert_int_equal(c.secret_overlap_s, 0);
    config_free(&c);
    expect_error("HDF_WEBHOOK_ALLOW_HTTP", "yes", "HDF_WEBHOOK_ALLOW_HTTP");
    env_set("HDF_WEBHOOK_ALLOW_HTTP", "0");
    expect_error("HDF_WEBHOOK_BACKOFF_MS", "0", "HDF_WEBHOOK_BACKOFF_MS");
    env_set("HDF_WEBHOOK_BACKOFF_MS", "1000");
    expect_error("HDF_SECRET_OVERLAP_S", "-1", "HDF_SECRET_OVERLAP_S");
    env_set("HDF_SECRET_OVERLAP_S", "60");
    expect_error("HDF_SECRET_KEY_PREVIOUS", "abc", "HDF_SECRET_KEY_PREVIOUS");
}

static void test_event_retention(void **state)
{
    (void)state;
    struct hdf_config c;
    expect_ok("HDF_EVENT_RETENTION_DAYS", "0", &c); /* keep forever */
    assert_int_equal(c.event_retention_days, 0);
    config_free(&c);
    expect_ok("HDF_EVENT_RETENTION_DAYS", "36500", &c);
    assert_int_equal(c.event_retention_days, 36500);
    config_free(&c);
    expect_error("HDF_EVENT_RETENTION_DAYS", "-1", "HDF_EVENT_RETENTION_DAYS");
    expect_error("HDF_EVENT_RETENTION_DAYS", "36501", "HDF_EVENT_RETENTION_DAYS");
    expect_error("HDF_EVENT_RETENTION_DAYS", "7d", "HDF_EVENT_RETENTION_DAYS");
}

static void test_log_level(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        enum hdf_log_level l;
    } ok[] = {{"debug", HDF_LOG_DEBUG}, {"info", HDF_LOG_INFO},   {"warn", HDF_LOG_WARN},
              {"error", HDF_LOG_ERROR}, {"DEBUG", HDF_LOG_DEBUG}, {"Warn", HDF_LOG_WARN}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct hdf_config c;
        expect_ok("HDF_LOG_LEVEL", ok[i].v, &c);
        assert_int_equal(c.log_level, ok[i].l);
        config_free(&c);
    }
    static const char *const bad[] = {"verbose", "warning", "trace", "0", "info ", "err"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error("HDF_LOG_LEVEL", bad[i], "HDF_LOG_LEVEL");
}

static void test_small_error_buffer(void **state)
{
    (void)state;
    struct hdf_config c;
    char err[8];
    memset(err, 'X', sizeof(err));
    env_set("HDF_LISTEN", "bogus");
    assert_int_equal(config_load(&c, fake_getenv, err, sizeof(err)), -1);
    assert_string_equal(err, "HDF_LIS");
}

static void test_help_text_lists_every_variable(void **state)
{
    (void)state;
    static const char *const vars[] = {"DATABASE_URL",
                                       "HDF_LISTEN",
                                       "HDF_THREADS",
                                       "HDF_DB_CONNS_PER_THREAD",
                                       "HDF_DB_QUEUE_MAX",
                                       "HDF_TLS_CERT",
                                       "HDF_TLS_KEY",
                                       "HDF_MAX_BODY_BYTES",
                                       "HDF_LOCK_TIMEOUT_MS",
                                       "HDF_SHUTDOWN_TIMEOUT_MS",
                                       "HDF_AUTH_CACHE_MS",
                                       "HDF_LOG_LEVEL",
                                       "HDF_SECRET_KEY",
                                       "HDF_SECRET_KEY_PREVIOUS",
                                       "HDF_SECRET_OVERLAP_S",
                                       "HDF_WEBHOOK_ALLOW_HTTP",
                                       "HDF_WEBHOOK_ALLOW_PRIVATE",
                                       "HDF_WEBHOOK_BACKOFF_MS",
                                       "HDF_EVENT_RETENTION_DAYS"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (strstr(config_help_text, vars[i]) == NULL)
            fail_msg("--help does not mention %s", vars[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_empty_values_are_defaults, setup),
        cmocka_unit_test_setup(test_database_url_required, setup),
        cmocka_unit_test_setup(test_listen, setup),
        cmocka_unit_test_setup(test_parse_listen_direct, setup),
        cmocka_unit_test_setup(test_numbers, setup),
        cmocka_unit_test_setup(test_bad_numbers, setup),
        cmocka_unit_test_setup(test_tls_pair, setup),
        cmocka_unit_test_setup(test_secret_key, setup),
        cmocka_unit_test_setup(test_webhook_settings, setup),
        cmocka_unit_test_setup(test_event_retention, setup),
        cmocka_unit_test_setup(test_log_level, setup),
        cmocka_unit_test_setup(test_small_error_buffer, setup),
        cmocka_unit_test_setup(test_help_text_lists_every_variable, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
