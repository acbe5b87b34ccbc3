/*
 * test_router.c: tests http/router.c: every route in routes.def matches its own template with
 * its params extracted; near misses (trailing slash, double slash, prefixes, extra segments, case)
 * are NOT_FOUND; a wrong method is METHOD_NOT_ALLOWED with the allowed mask; method names; and
 * the Allow header text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "http/router.h"

static enum hdf_router_result match(const char *path, hdf_method_t method, struct hdf_route_match *m)
{
    return router_match(path, strlen(path), method, m);
}

/* Fills a template's {params} with "123" (or the given value). */
static void instantiate(const char *tmpl, const char *value, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *t = tmpl; *t != '\0' && o + 1 < outsz;) {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            assert_non_null(close);
            o += (size_t)snprintf(out + o, outsz - o, "%s", value);
            t = close + 1;
        } else {
            out[o++] = *t++;
        }
    }
    out[o] = '\0';
}

static size_t count_params(const char *tmpl)
{
    size_t n = 0;
    for (const char *t = tmpl; *t != '\0'; t++)
        n += *t == '{';
    return n;
}

static void test_every_route_matches_its_template(void **state)
{
    (void)state;
    for (int r = 0; r < HDF_ROUTE__COUNT; r++) {
        char path[256];
        instantiate(hdf_routes[r].tmpl, "123", path, sizeof(path));
        struct hdf_route_match m;
        assert_int_equal(match(path, hdf_routes[r].method, &m), HDF_ROUTER_OK);
        assert_int_equal(m.route, r);
        assert_int_equal(m.nparams, count_params(hdf_routes[r].tmpl));
        for (size_t i = 0; i < m.nparams; i++) {
            assert_int_equal(m.params[i].len, 3);
            assert_memory_equal(m.params[i].base, "123", 3);
            assert_true(m.params[i].base >= path && m.params[i].base < path + strlen(path));
        }
        assert_true(m.allowed & (1u << hdf_routes[r].method));
        assert_string_equal(router_method_name(hdf_routes[r].method), hdf_routes[r].method_name);
    }
}

/* No two rows share (method, template): the first one would shadow the second. */
static void test_routes_unique(void **state)
{
    (void)state;
    for (int a = 0; a < HDF_ROUTE__COUNT; a++)
        for (int b = a + 1; b < HDF_ROUTE__COUNT; b++)
            assert_false(hdf_routes[a].method == hdf_routes[b].method && strcmp(hdf_routes[a].tmpl, hdf_routes[b].tmpl) == 0);
}

static void test_known_routes(void **state)
{
    (void)state;
    struct hdf_route_match m;
    assert_int_equal(match("/healthz", HDF_GET, &m), HDF_ROUTER_OK);
    assert_int_equal(m.route, HDF_ROUTE_HEALTHZ);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match("/v1/me", HDF_GET, &m), HDF_ROUTER_OK);
    assert_int_equal(m.route, HDF_ROUTE_ME_GET);
    assert_int_equal(match("/v1/api-keys", HDF_GET, &m), HDF_ROUTER_OK);
    assert_int_equal(m.route, HDF_ROUTE_API_KEYS_LIST);
    assert_int_equal(match("/v1/api-keys/42", HDF_PATCH, &m), HDF_ROUTER_OK);
    assert_int_equal(m.route, HDF_ROUTE_API_KEY_UPDATE);
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.params[0].len, 2);
    assert_memory_equal(m.params[0].base, "42", 2);
    assert_int_equal(m.allowed, (1u << HDF_GET) | (1u << HDF_PATCH));
}

/* A param is any one non-empty segment: validating it (parse_id) is the handler's job. */
static void test_param_values(void **state)
{
    (void)state;
    static const char *const values[] = {"abc", "0", "-1", "99999999999999999999999", "%2F", "a.b", "\xc3\xa9", "{id}"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/v1/api-keys/%s", values[i]);
        struct hdf_route_match m;
        assert_int_equal(match(path, HDF_GET, &m), HDF_ROUTER_OK);
        assert_int_equal(m.route, HDF_ROUTE_API_KEY_GET);
        assert_int_equal(m.params[0].len, strlen(values[i]));
        assert_memory_equal(m.params[0].base, values[i], m.params[0].len);
    }
}

static void test_not_found(void **state)
{
    (void)state;
    static const char *const paths[] = {"",
                                        "/",
                                        "healthz",
                                        "/healthz/",
                                        "//healthz",
                                        "/healthz//",
                                        "/healthzz",
                                        "/health",
                                        "/HEALTHZ",
                                        "/healthz/x",
                                        "/nope",
                                        "/v1",
                                        "/v1/",
                                        "/v1/nope",
                                        "/v1/me/",
                                        "/v1/me/x",
                                        "/V1/me",
                                        "/v1//me",
                                        "//v1/me",
                                        "/v1/api-keys/",
                                        "/v1/api-keys//",
                                        "/v1/api-keys/1/",
                                        "/v1/api-keys/1/extra",
                                        "/v1/api-keys//1",
                                        "/v1/api-key",
                                        "/v1/api-keysx",
                                        "/v1/api-keys/1/2",
                                        "/%00",
                                        "/v1/me?x=1",
                                        "/v1/me#f"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (hdf_method_t meth = HDF_GET; meth <= HDF_METHOD_OTHER; meth++) {
            struct hdf_route_match m;
            enum hdf_router_result r = match(paths[i], meth, &m);
            if (r != HDF_ROUTER_NOT_FOUND)
                fail_msg("path \"%s\" %s: expected NOT_FOUND, got %d", paths[i], router_method_name(meth), r);
            assert_int_equal(m.allowed, 0);
            assert_int_equal(m.route, HDF_ROUTE__COUNT);
            assert_int_equal(m.nparams, 0);
        }
    }
}

/* The path is len bytes, not NUL-terminated: a longer buffer does not leak into the match. */
static void test_len_bounded(void **state)
{
    (void)state;
    struct hdf_route_match m;
    assert_int_equal(router_match("/v1/mexyz", 6, HDF_GET, &m), HDF_ROUTER_OK);
    assert_int_equal(m.route, HDF_ROUTE_ME_GET);
    assert_int_equal(router_match("/v1/api-keys/77/extra", 15, HDF_GET, &m), HDF_ROUTER_OK);
    assert_int_equal(m.params[0].len, 2);
    assert_int_equal(router_match("/v1/me", 5, HDF_GET, &m), HDF_ROUTER_NOT_FOUND);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    struct hdf_route_match m;
    assert_int_equal(match("/v1/api-keys/1", HDF_DELETE, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(m.allowed, (1u << HDF_GET) | (1u << HDF_PATCH));
    assert_int_equal(m.route, HDF_ROUTE__COUNT);
    assert_int_equal(match("/v1/api-keys/1", HDF_PUT, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(match("/v1/api-keys", HDF_POST, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(m.allowed, 1u << HDF_GET);
    assert_int_equal(match("/v1/me", HDF_PATCH, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(match("/healthz", HDF_DELETE, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(match("/v1/me", HDF_OPTIONS, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(match("/v1/me", HDF_METHOD_OTHER, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    /* HEAD is not GET: only where listed */
    assert_int_equal(match("/healthz", HDF_HEAD, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(m.allowed, 1u << HDF_GET);
}

static void test_method_from(void **state)
{
    (void)state;
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(router_method_from(names[i], strlen(names[i])), (hdf_method_t)i);
        assert_string_equal(router_method_name((hdf_method_t)i), names[i]);
    }
    assert_int_equal(router_method_from("get", 3), HDF_METHOD_OTHER); /* methods are case-sensitive */
    assert_int_equal(router_method_from("GETX", 4), HDF_METHOD_OTHER);
    assert_int_equal(router_method_from("GE", 2), HDF_METHOD_OTHER);
    assert_int_equal(router_method_from("", 0), HDF_METHOD_OTHER);
    assert_int_equal(router_method_from("TRACE", 5), HDF_METHOD_OTHER);
    assert_int_equal(router_method_from("GETTING", 3), HDF_GET);
    assert_string_equal(router_method_name(HDF_METHOD_OTHER), "OTHER");
    assert_string_equal(router_method_name((hdf_method_t)99), "OTHER");
}

static void test_allow_header(void **state)
{
    (void)state;
    char buf[64];
    router_allow_header((1u << HDF_GET) | (1u << HDF_PATCH), buf, sizeof(buf));
    assert_string_equal(buf, "GET, PATCH");
    router_allow_header(1u << HDF_GET, buf, sizeof(buf));
    assert_string_equal(buf, "GET");
    router_allow_header(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
    router_allow_header(0x7f, buf, sizeof(buf));
    assert_string_equal(buf, "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
    /* the OTHER bit and unknown bits are never listed */
    router_allow_header((1u << HDF_METHOD_OTHER) | (1u << 20) | (1u << HDF_DELETE), buf, sizeof(buf));
    assert_string_equal(buf, "DELETE");
    /* a small buffer truncates but stays terminated */
    char small[6];
    router_allow_header((1u << HDF_GET) | (1u << HDF_PATCH), small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
    assert_memory_equal(small, "GET, ", strlen(small));
}

static void test_allow_header_from_match(void **state)
{
    (void)state;
    struct hdf_route_match m;
    char buf[64];
    assert_int_equal(match("/v1/api-keys/9", HDF_DELETE, &m), HDF_ROUTER_METHOD_NOT_ALLOWED);
    router_allow_header(m.allowed, buf, sizeof(buf));
    assert_string_equal(buf, "GET, PATCH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_matches_its_template),
        cmocka_unit_test(test_routes_unique),
        cmocka_unit_test(test_known_routes),
        cmocka_unit_test(test_param_values),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_len_bounded),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_method_from),
        cmocka_unit_test(test_allow_header),
        cmocka_unit_test(test_allow_header_from_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
