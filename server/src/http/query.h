/*
 * query.h: query-string parsing (pure). Names and values are percent-decoded into caller memory;
 * a malformed escape or invalid UTF-8 makes the whole query invalid.
 */
#ifndef HDF_QUERY_H
#define HDF_QUERY_H

#include <stddef.h>

#define HDF_QUERY_MAX_PARAMS 32

struct hdf_query_param {
    char *name, *value; /* decoded, NUL-terminated, pointing into the parse buffer */
};

struct hdf_query {
    size_t n;
    struct hdf_query_param params[HDF_QUERY_MAX_PARAMS];
    char *buf; /* owns the decoded strings */
};

/* qs is the part after '?', without it. Returns 0, or -1 if malformed / too many params.
 * alloc is used for the buffer (so requests can use their pool); it must not fail. */
int query_parse(const char *qs, size_t len, struct hdf_query *q, void *(*alloc)(void *ctx, size_t), void *ctx);
const char *query_get(const struct hdf_query *q, const char *name);
/* True when a parameter that looks like a credential (api_key, token, access_token) is present. */
int query_has_credential(const struct hdf_query *q);
/* Returns the first parameter whose name is not in allowed (NULL-terminated), or NULL. */
const char *query_first_unknown(const struct hdf_query *q, const char *const *allowed);

#endif
