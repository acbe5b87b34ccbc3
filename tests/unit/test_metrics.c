/*
 * test_metrics.c: tests common/metrics.c: observing requests and rendering the Prometheus text
 * exposition: counter lines per route/method/status (and "other"/"unmatched"), the latency
 * histogram (buckets cumulative, boundaries inclusive, _sum and _count), gauges and build info,
 * and that every line is well-formed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/metrics.h"

static int reset(void **state)
{
    (void)state;
    memset(&hdf_metrics, 0, sizeof(hdf_metrics));
    return 0;
}

static char *render(void)
{
    size_t len = 0;
    char *s = metrics_render(&len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_true(len > 0 && s[len - 1] == '\n');
    return s;
}

static void expect_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\n%s\n", line);
    if (strstr(text, want) == NULL)
        fail_msg("missing line: %s\n--- got:\n%s", line, text);
}

static void expect_no(const char *text, const char *fragment)
{
    if (strstr(text, fragment) != NULL)
        fail_msg("unexpected: %s", fragment);
}

static void test_counter_lines(void **state)
{
    (void)state;
    metrics_observe_request(HDF_ROUTE_ME_GET, 200, 500, 1, 1);
    metrics_observe_request(HDF_ROUTE_ME_GET, 200, 700, 0, 0);
    metrics_observe_request(HDF_ROUTE_ME_GET, 401, 100, 2, 5);
    metrics_observe_request(HDF_ROUTE_API_KEY_UPDATE, 418, 100, 0, 0); /* not in the table: "other" */
    metrics_observe_request(HDF_ROUTE__COUNT, 404, 10, 0, 0);
    metrics_observe_request((hdf_route_id_t)1000, 405, 10, 0, 0); /* out of range: unmatched too */
    char *s = render();
    expect_line(s, "# TYPE hdf_http_requests_total counter");
    expect_line(s, "hdf_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"200\"} 2");
    expect_line(s, "hdf_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"401\"} 1");
    expect_line(s, "hdf_http_requests_total{route=\"/v1/api-keys/{id}\",method=\"PATCH\",status=\"other\"} 1");
    expect_line(s, "hdf_http_requests_total{route=\"unmatched\",method=\"\",status=\"404\"} 1");
    expect_line(s, "hdf_http_requests_total{route=\"unmatched\",method=\"\",status=\"405\"} 1");
    /* round trips and statements add up per route; routes without any have no series */
    expect_line(s, "hdf_db_round_trips_total{route=\"/v1/me\",method=\"GET\"} 3");
    expect_line(s, "hdf_db_statements_total{route=\"/v1/me\",method=\"GET\"} 6");
    expect_no(s, "hdf_db_round_trips_total{route=\"unmatched\"");
    /* routes never requested have no series */
    expect_no(s, "route=\"/healthz\"");
    expect_no(s, "status=\"500\"");
    free(s);
}

static void test_histogram_cumulative(void **state)
{
    (void)state;
    /* 1000 us is exactly the .001 bound (le is inclusive); 1001 is past it */
    static const uint64_t us[] = {500, 1000, 1001, 2500000, 3000000};
    for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++)
        metrics_observe_request(HDF_ROUTE_HEALTHZ, 200, us[i], 0, 0);
    char *s = render();
#define L(le, n) "hdf_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",le=\"" le "\"} " #n
    expect_line(s, "# TYPE hdf_http_request_duration_seconds histogram");
    expect_line(s, L("0.001", 2));
    expect_line(s, L("0.0025", 3));
    expect_line(s, L("0.005", 3));
    expect_line(s, L("0.01", 3));
    expect_line(s, L("0.025", 3));
    expect_line(s, L("0.05", 3));
    expect_line(s, L("0.1", 3));
    expect_line(s, L("0.25", 3));
    expect_line(s, L("0.5", 3));
    expect_line(s, L("1", 3));
    expect_line(s, L("2.5", 4));
    expect_line(s, L("+Inf", 5));
#undef L
    expect_line(s, "hdf_http_request_duration_seconds_sum{route=\"/healthz\",method=\"GET\"} 5.502501");
    expect_line(s, "hdf_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 5");
    expect_no(s, "hdf_http_request_duration_seconds_count{route=\"/v1/me\"");
    free(s);
}

static void test_gauges_and_build_info(void **state)
{
    (void)state;
    metrics_add(&hdf_metrics.in_flight, 3);
    metrics_add(&hdf_metrics.in_flight, -1);
    metrics_add(&hdf_metrics.db_conns_total, 8);
    metrics_add(&hdf_metrics.db_conns_connected, 7);
    metrics_add(&hdf_metrics.db_in_use, 2);
    metrics_add(&hdf_metrics.db_waiting, 5);
    metrics_inc(&hdf_metrics.db_rejected);
    metrics_inc(&hdf_metrics.db_reconnects);
    metrics_inc(&hdf_metrics.db_reconnects);
    metrics_inc(&hdf_metrics.auth_failures);
    char *s = render();
    expect_line(s, "# TYPE hdf_http_in_flight gauge");
    expect_line(s, "hdf_http_in_flight 2");
    expect_line(s, "hdf_db_pool_connections 8");
    expect_line(s, "hdf_db_pool_connected 7");
    expect_line(s, "hdf_db_pool_in_use 2");
    expect_line(s, "hdf_db_pool_waiting 5");
    expect_line(s, "# TYPE hdf_db_pool_rejected_total counter");
    expect_line(s, "hdf_db_pool_rejected_total 1");
    expect_line(s, "hdf_db_reconnects_total 2");
    expect_line(s, "hdf_auth_failures_total 1");
    expect_line(s, "# TYPE hdf_build_info gauge");
    char bi[128];
    snprintf(bi, sizeof(bi), "hdf_build_info{version=\"%s\"} 1", HDF_VERSION);
    expect_line(s, bi);
    free(s);
}

/* Every sample line is `name{labels} value` or `name value`; every family has HELP and TYPE. */
static void check_exposition(const char *s)
{
    char *copy = strdup(s), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
            continue;
        }
        const char *p = line;
        assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            p++;
        if (*p == '{') {
            const char *close = strrchr(p, '}');
            assert_non_null(close);
            p = close + 1;
        }
        assert_true(*p == ' ');
        char *end;
        strtod(p + 1, &end);
        if (*end != '\0' || end == p + 1)
            fail_msg("bad sample line: %s", line);
        /* the family has a TYPE line */
        char family[128];
        size_t n = strcspn(line, "{ ");
        snprintf(family, sizeof(family), "%.*s", (int)n, line);
        static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
        for (size_t k = 0; k < 3; k++) {
            size_t fl = strlen(family), sl = strlen(suffixes[k]);
            if (fl > sl && strcmp(family + fl - sl, suffixes[k]) == 0 && strstr(family, "duration") != NULL)
                family[fl - sl] = '\0';
        }
        char type[160];
        snprintf(type, sizeof(type), "# TYPE %s ", family);
        if (strstr(s, type) == NULL)
            fail_msg("no TYPE for %s", family);
    }
    free(copy);
}

/* Fills every series so the output outgrows the initial buffer, then checks its shape. */
static void test_every_series_well_formed(void **state)
{
    (void)state;
    static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 500, 503, 504, 299};
    for (int r = 0; r <= HDF_ROUTE__COUNT; r++)
        for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
            metrics_observe_request((hdf_route_id_t)r, statuses[k], (uint64_t)k * 150000, 1, 2);
    metrics_add(&hdf_metrics.in_flight, -4); /* a gauge may go negative transiently */
    size_t len;
    char *s = metrics_render(&len);
    assert_true(len > 16384);
    check_exposition(s);
    /* cumulative buckets never decrease and end at _count */
    for (int r = 0; r < HDF_ROUTE__COUNT; r++) {
        char prefix[256];
        snprintf(prefix, sizeof(prefix), "hdf_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"",
                 hdf_routes[r].tmpl, hdf_routes[r].method_name);
        long prev = -1;
        int buckets = 0;
        for (const char *p = strstr(s, prefix); p != NULL; p = strstr(p + 1, prefix)) {
            long v = strtol(strstr(p, "\"} ") + 3, NULL, 10);
            assert_true(v >= prev);
            prev = v;
            buckets++;
        }
        assert_int_equal(buckets, HDF_METRICS_NBUCKETS);
        assert_int_equal(prev, (long)(sizeof(statuses) / sizeof(statuses[0])));
    }
    expect_line(s, "hdf_http_in_flight -4");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counter_lines, reset),
        cmocka_unit_test_setup(test_histogram_cumulative, reset),
        cmocka_unit_test_setup(test_gauges_and_build_info, reset),
        cmocka_unit_test_setup(test_every_series_well_formed, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
