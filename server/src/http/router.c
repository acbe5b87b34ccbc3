/*
 * router.c: path and method matching over routes.def. Templates are literal segments and
 * {param} segments; a param matches one non-empty segment. No regexes, no allocation.
 */
#include <string.h>
#include "http/router.h"

const struct hdf_route hdf_routes[HDF_ROUTE__COUNT] = {
#define ROUTE(id, method, tmpl, handler, access) [HDF_ROUTE_##id] = {HDF_##method, #method, tmpl, HDF_ACCESS_##access},
#include "http/routes.def"
#undef ROUTE
};

static const char *const method_names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER"};

hdf_method_t router_method_from(const char *s, size_t len)
{
    for (int m = 0; m < HDF_METHOD_OTHER; m++)
        if (strlen(method_names[m]) == len && memcmp(method_names[m], s, len) == 0)
            return (hdf_method_t)m;
    return HDF_METHOD_OTHER;
}

const char *router_method_name(hdf_method_t m)
{
    return method_names[m <= HDF_METHOD_OTHER ? m : HDF_METHOD_OTHER];
}

/* Matches one template; fills params. */
static int match_template(const char *tmpl, const char *path, size_t len, struct hdf_route_match *m)
{
    const char *p = path, *end = path + len;
    size_t nparams = 0;
    while (*tmpl != '\0') {
        if (p >= end || *p != '/' || *tmpl != '/')
            return 0;
        tmpl++, p++;
        const char *tseg_end = strchr(tmpl, '/');
        size_t tseg_len = tseg_end != NULL ? (size_t)(tseg_end - tmpl) : strlen(tmpl);
        const char *pseg_end = memchr(p, '/', (size_t)(end - p));
        size_t pseg_len = pseg_end != NULL ? (size_t)(pseg_end - p) : (size_t)(end - p);
        if (tseg_len >= 2 && tmpl[0] == '{') {
            if (pseg_len == 0 || nparams == HDF_ROUTE_MAX_PARAMS)
                return 0;
            m->params[nparams].base = p;
            m->params[nparams].len = pseg_len;
            nparams++;
        } else if (tseg_len != pseg_len || memcmp(tmpl, p, pseg_len) != 0) {
            return 0;
        }
        tmpl += tseg_len;
        p += pseg_len;
    }
    if (p != end)
        return 0;
    m->nparams = nparams;
    return 1;
}

enum hdf_router_result router_match(const char *path, size_t len, hdf_method_t method, struct hdf_route_match *m)
{
    struct hdf_route_match candidate;
    int found = 0;
    memset(m, 0, sizeof(*m));
    m->route = HDF_ROUTE__COUNT;
    for (int r = 0; r < HDF_ROUTE__COUNT; r++) {
        memset(&candidate, 0, sizeof(candidate));
        if (!match_template(hdf_routes[r].tmpl, path, len, &candidate))
            continue;
        m->allowed |= 1u << hdf_routes[r].method;
        if (!found && hdf_routes[r].method == method) {
            unsigned allowed = m->allowed;
            *m = candidate;
            m->allowed = allowed;
            m->route = (hdf_route_id_t)r;
            found = 1;
        }
    }
    if (found)
        return HDF_ROUTER_OK;
    return m->allowed != 0 ? HDF_ROUTER_METHOD_NOT_ALLOWED : HDF_ROUTER_NOT_FOUND;
}

void router_allow_header(unsigned allowed, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    for (int m = 0; m < HDF_METHOD_OTHER; m++) {
        if ((allowed & (1u << m)) == 0)
            continue;
        if (buf[0] != '\0')
            strlcat(buf, ", ", bufsz);
        strlcat(buf, method_names[m], bufsz);
    }
}
