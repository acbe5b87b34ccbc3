/*
 * category.h: the rate-limit categories (CONTRACT.md, Rate limits) and the one function that
 * says which category a route belongs to. Pure: no h2o, no libpq.
 */
#ifndef HDF_RATELIMIT_CATEGORY_H
#define HDF_RATELIMIT_CATEGORY_H

#include "http/router.h"

enum hdf_rl_category { HDF_RL_TICKET_CREATE, HDF_RL_TICKET_UPDATE, HDF_RL_CUSTOMER, HDF_RL_READ, HDF_RL_ADMIN, HDF_RL__COUNT };

/* "ticket_create", ... (the names in HDF_RATE_LIMIT_<NAME>, the SQL functions and /metrics) */
extern const char *const hdf_rl_category_names[HDF_RL__COUNT];

/* The category of an authenticated request on route (a matched /v1 route) with method. Admin
 * routes are `admin`; everything under /v1/customers is `customer`; POST /v1/tickets is
 * `ticket_create`; other writes under /v1/tickets are `ticket_update`; other reads (GET, HEAD)
 * are `read`. A write that fits none of these (there is none today) counts as `ticket_update`,
 * the general write budget, so a new write route is never unlimited. */
enum hdf_rl_category ratelimit_category_of(hdf_route_id_t route, hdf_method_t method);

#endif
