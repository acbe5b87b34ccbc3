/*
 * tags.h: tags on tickets and customers (CONTRACT.md: "≤ 50; lowercased, then each must match
 * [a-z0-9][a-z0-9_:-]{0,63}; deduplicated"). Pure (jansson only), unit-tested; the ticket and
 * customer handlers both normalise through here, and store the result as a Postgres text[].
 */
#ifndef HDF_TAGS_H
#define HDF_TAGS_H

#include <jansson.h>
#include "common/errors.h"

#define HDF_TAGS_MAX 50
#define HDF_TAG_MAX_CHARS 64

/* Whether s (already lower-cased) matches ^[a-z0-9][a-z0-9_:-]{0,63}$. */
int tag_is_valid(const char *s, size_t len);

/* Normalises a tags array: each string is lower-cased (ASCII) and checked; duplicates after
 * lower-casing are dropped, keeping the first occurrence's position. Errors are reported as
 * `field` (not an array: invalid_type; over HDF_TAGS_MAX elements: too_many) or `field[i]` (not a
 * string: invalid_type; out of pattern: invalid). Returns a new array (the caller decrefs), or
 * NULL when any error was reported. */
json_t *tags_normalize(const json_t *tags, const char *field, hdf_field_errors_t *fe);

/* A Postgres text[] literal of a normalised tags array, e.g. {"a","b:c"}; malloc'd, the caller
 * frees. Elements are quoted (and '"' and '\' escaped) whatever they hold. NULL if tags is not an
 * array of strings. */
char *tags_to_pg_array(const json_t *tags);

#endif
