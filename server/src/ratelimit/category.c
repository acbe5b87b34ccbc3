/*
 * category.c: route -> rate-limit category (see category.h). Derived from the route table's
 * access, method and template, so routes added to routes.def get a category without a new column.
 */
#include <string.h>
#include "ratelimit/category.h"

const char *const hdf_rl_category_names[HDF_RL__COUNT] = {
    [HDF_RL_TICKET_CREATE] = "ticket_create",
    [HDF_RL_TICKET_UPDATE] = "ticket_update",
    [HDF_RL_CUSTOMER] = "customer",
    [HDF_RL_READ] = "read",
    [HDF_RL_ADMIN] = "admin",
};

static int has_prefix(const char *tmpl, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(tmpl, prefix, n) == 0 && (tmpl[n] == '\0' || tmpl[n] == '/');
}

enum hdf_rl_category ratelimit_category_of(hdf_route_id_t route, hdf_method_t method)
{
    if (route >= HDF_ROUTE__COUNT)
        return HDF_RL_READ;
    const struct hdf_route *rt = &hdf_routes[route];
    if (rt->access == HDF_ACCESS_ADMIN)
        return HDF_RL_ADMIN;
    if (has_prefix(rt->tmpl, "/v1/customers"))
        return HDF_RL_CUSTOMER;
    if (method == HDF_GET || method == HDF_HEAD)
        return HDF_RL_READ;
    if (method == HDF_POST && strcmp(rt->tmpl, "/v1/tickets") == 0)
        return HDF_RL_TICKET_CREATE;
    return HDF_RL_TICKET_UPDATE;
}
