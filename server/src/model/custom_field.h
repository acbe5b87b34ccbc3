/*
 * custom_field.h: the rules of custom field definitions (POST/PATCH /v1/custom-fields): which
 * objects and types exist, the key pattern and enum options. Pure (jansson only), unit-tested.
 * Each check reports into hdf_field_errors_t so a handler collects every failing field at once.
 */
#ifndef HDF_CUSTOM_FIELD_H
#define HDF_CUSTOM_FIELD_H

#include <jansson.h>
#include "common/errors.h"

#define HDF_CF_KEY_MAX 64
#define HDF_CF_OPTIONS_MAX 100
#define HDF_CF_OPTION_MAX_CHARS 100

/* "ticket" or "customer": what a field is defined on. */
int custom_field_object_is_valid(const char *s);
/* "text", "number", "boolean", "date" or "enum". */
int custom_field_type_is_valid(const char *s);
/* ^[a-z][a-z0-9_]{0,63}$ */
int custom_field_key_is_valid(const char *s);

/* Checks an enum's options: an array of 1..100 distinct strings of 1..100 characters. Failures
 * are reported as "options" (the array) or "options[i]" (an element). Returns 0 when valid. */
int custom_field_check_options(const json_t *options, hdf_field_errors_t *fe);

#define HDF_CF_TEXT_MAX_CHARS 1000

/* Whether s is a real calendar date written YYYY-MM-DD (years 0001..9999, leap years counted). */
int custom_field_date_is_valid(const char *s, size_t len);

/* Checks a custom_fields object of a ticket or customer against the workspace's definitions for
 * that object: defs is a JSON array of {"key", "type", "options"} (as HDF_STMT_CUSTOM_FIELD_DEFS
 * returns it). values must be an object (else `prefix` invalid_type). For each member, as
 * `prefix.key`: no definition: unknown_field; null: allowed (it deletes the value when merged);
 * text: a string of at most 1000 characters (too_long); number: a JSON number; boolean: true or
 * false; date: "YYYY-MM-DD", a real date (invalid); enum: one of options (invalid_option). A value
 * of the wrong JSON type: invalid_type. */
void custom_fields_check_values(const json_t *values, const json_t *defs, const char *prefix, hdf_field_errors_t *fe);

#endif
