/*
 * json_util.h: request-body JSON parsing with the checks the contract requires before any field is
 * looked at (UTF-8, nesting depth, byte offsets in errors), and the typed field readers handlers use
 * to validate objects while collecting every failing field at once.
 */
#ifndef HDF_JSON_UTIL_H
#define HDF_JSON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/errors.h"

#define HDF_JSON_MAX_DEPTH 32

/* Parses a request body. On failure returns NULL, sets err and writes a human detail into detail:
 * MALFORMED_JSON (with the byte offset) for invalid UTF-8, nesting past HDF_JSON_MAX_DEPTH or bad
 * syntax; VALIDATION_FAILED, with the offending string's path added to fe, for a NUL in a string. */
json_t *json_parse_body(const char *buf, size_t len, hdf_error_t *err, char *detail, size_t detaillen, hdf_field_errors_t *fe);

/* Depth of the deepest array/object nesting, scanning outside strings; stops early past max. */
int json_nesting_exceeds(const char *buf, size_t len, int max);

/* Field readers over an object: each reports a failing field into fe and returns -1; 0 when the
 * value is absent (and not required) or valid, 1 when present and valid. */
int json_get_string(json_t *obj, const char *key, const char *field, size_t min_chars, size_t max_chars, int required,
                    const char **out, hdf_field_errors_t *fe);
/* One of values (NULL-terminated) or, when absent, dflt; reports `field` invalid_type / invalid. */
int json_get_enum(json_t *obj, const char *key, const char *field, const char *const *values, const char *dflt, const char **out,
                  hdf_field_errors_t *fe);
/* A positive integer id, or null/absent (*out = 0); reports `field` invalid_type / invalid. */
int json_get_id(json_t *obj, const char *key, const char *field, int64_t *out, hdf_field_errors_t *fe);
/* true/false, or dflt when absent; reports `field` invalid_type. */
int json_get_bool(json_t *obj, const char *key, const char *field, int dflt, int *out, hdf_field_errors_t *fe);
/* Reports every member of obj whose name is not in allowed (NULL-terminated) as unknown_field. */
void json_reject_unknown(json_t *obj, const char *const *allowed, const char *prefix, hdf_field_errors_t *fe);

/* Dumps compactly into a malloc'd buffer; caller frees. */
char *json_dump_compact(const json_t *j, size_t *len);

#endif
