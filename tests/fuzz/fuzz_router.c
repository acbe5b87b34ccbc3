/*
 * fuzz_router.c: libFuzzer target for http/router.c. The first byte picks the method, the rest
 * is the path (an exact-size heap copy, so reading past it is caught). Checks, beyond not
 * crashing: the result agrees with the allowed mask, a match's params are non-empty segments
 * inside the path and substituting them into the template gives back the path exactly, and
 * router_allow_header lists exactly the allowed methods, terminated within any buffer size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/router.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

static void check_match(const char *path, size_t len, hdf_method_t method, const struct hdf_route_match *m)
{
    CHECK(m->route < HDF_ROUTE__COUNT);
    const struct hdf_route *r = &hdf_routes[m->route];
    CHECK(r->method == method);
    CHECK(m->allowed & (1u << method));
    /* rebuild the path from the template and the params */
    char rebuilt[1024];
    size_t o = 0, k = 0;
    for (const char *t = r->tmpl; *t != '\0';) {
        if (*t == '{') {
            CHECK(k < m->nparams);
            const char *base = m->params[k].base;
            size_t plen = m->params[k].len;
            CHECK(plen > 0 && base >= path && base + plen <= path + len);
            CHECK(memchr(base, '/', plen) == NULL);
            CHECK(o + plen < sizeof(rebuilt));
            memcpy(rebuilt + o, base, plen);
            o += plen;
            k++;
            t = strchr(t, '}') + 1;
        } else {
            CHECK(o + 1 < sizeof(rebuilt));
            rebuilt[o++] = *t++;
        }
    }
    CHECK(k == m->nparams);
    CHECK(o == len && memcmp(rebuilt, path, len) == 0);
}

/* Parses "GET, PATCH" back into a mask; the names must be known and in method order. */
static void check_allow_header(unsigned allowed, size_t bufsz)
{
    char buf[128];
    router_allow_header(allowed, buf, sizeof(buf));
    unsigned seen = 0;
    int last = -1;
    const char *p = buf;
    while (*p != '\0') {
        const char *comma = strstr(p, ", ");
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        hdf_method_t m = router_method_from(p, n);
        CHECK(m != HDF_METHOD_OTHER && (int)m > last);
        last = (int)m;
        seen |= 1u << m;
        p += n;
        if (comma != NULL) {
            p += 2;
            CHECK(*p != '\0');
        }
    }
    CHECK(seen == (allowed & ((1u << HDF_METHOD_OTHER) - 1)));
    /* any smaller buffer: a terminated prefix of the full text */
    if (bufsz >= 1 && bufsz <= sizeof(buf)) {
        char *small = malloc(bufsz);
        router_allow_header(allowed, small, bufsz);
        size_t sl = strnlen(small, bufsz);
        CHECK(sl < bufsz && memcmp(small, buf, sl) == 0);
        free(small);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    hdf_method_t method = (hdf_method_t)(data[0] % (HDF_METHOD_OTHER + 1));
    size_t len = size - 1;
    char *path = malloc(len > 0 ? len : 1);
    memcpy(path, data + 1, len);

    struct hdf_route_match m;
    enum hdf_router_result res = router_match(path, len, method, &m);
    CHECK((m.allowed >> HDF_METHOD_OTHER) == 0); /* routes only use real methods */
    switch (res) {
    case HDF_ROUTER_OK:
        check_match(path, len, method, &m);
        break;
    case HDF_ROUTER_METHOD_NOT_ALLOWED:
        CHECK(m.allowed != 0 && (m.allowed & (1u << method)) == 0);
        CHECK(m.route == HDF_ROUTE__COUNT);
        break;
    case HDF_ROUTER_NOT_FOUND:
        CHECK(m.allowed == 0 && m.route == HDF_ROUTE__COUNT);
        break;
    default:
        CHECK(0);
    }
    /* the match does not depend on the method except through the mask */
    for (int other = 0; other <= HDF_METHOD_OTHER; other++) {
        struct hdf_route_match m2;
        enum hdf_router_result r2 = router_match(path, len, (hdf_method_t)other, &m2);
        CHECK(m2.allowed == m.allowed);
        CHECK((r2 == HDF_ROUTER_NOT_FOUND) == (res == HDF_ROUTER_NOT_FOUND));
        CHECK((r2 == HDF_ROUTER_OK) == ((m.allowed & (1u << other)) != 0));
    }
    check_allow_header(m.allowed, len % 40);
    check_allow_header(data[0] | (len > 0 ? (unsigned)data[1] << 8 : 0), len % 40);

    /* the method parser: either a known name spelled exactly, or OTHER */
    hdf_method_t pm = router_method_from(path, len);
    if (pm != HDF_METHOD_OTHER)
        CHECK(strlen(router_method_name(pm)) == len && memcmp(router_method_name(pm), path, len) == 0);
    free(path);
    return 0;
}
