/*
 * problem_filter.h: turns the few errors h2o answers by itself (a body over
 * max_request_entity_size: 413) into problem+json with an X-Request-Id, so that every error a
 * client sees has the same shape.
 */
#ifndef HDF_PROBLEM_FILTER_H
#define HDF_PROBLEM_FILTER_H

#include <h2o.h>

void problem_filter_register(h2o_pathconf_t *pathconf);

#endif
