/*
 * router.h: matches a request path and method against routes.def. Pure (no h2o), fuzzed.
 */
#ifndef HDF_ROUTER_H
#define HDF_ROUTER_H

#include <stddef.h>

typedef enum { HDF_GET, HDF_POST, HDF_PUT, HDF_PATCH, HDF_DELETE, HDF_HEAD, HDF_OPTIONS, HDF_METHOD_OTHER } hdf_method_t;
typedef enum { HDF_ACCESS_PUBLIC, HDF_ACCESS_READ, HDF_ACCESS_WRITE, HDF_ACCESS_ADMIN } hdf_access_t;

typedef enum {
#define ROUTE(id, method, tmpl, handler, access) HDF_ROUTE_##id,
#include "http/routes.def"
#undef ROUTE
    HDF_ROUTE__COUNT /* also the metrics slot for unmatched requests */
} hdf_route_id_t;

struct hdf_route {
    hdf_method_t method;
    const char *method_name;
    const char *tmpl;
    hdf_access_t access;
};
extern const struct hdf_route hdf_routes[HDF_ROUTE__COUNT];

#define HDF_ROUTE_MAX_PARAMS 4
struct hdf_route_match {
    hdf_route_id_t route;
    size_t nparams;
    struct {
        const char *base;
        size_t len;
    } params[HDF_ROUTE_MAX_PARAMS];
    unsigned allowed; /* bit per hdf_method_t of routes whose template matched */
};

enum hdf_router_result { HDF_ROUTER_OK, HDF_ROUTER_NOT_FOUND, HDF_ROUTER_METHOD_NOT_ALLOWED };

hdf_method_t router_method_from(const char *s, size_t len);
const char *router_method_name(hdf_method_t m);
/* path must not include the query string. */
enum hdf_router_result router_match(const char *path, size_t len, hdf_method_t method, struct hdf_route_match *m);
/* "GET, PATCH" into buf from a mask. */
void router_allow_header(unsigned allowed, char *buf, size_t bufsz);

#endif
