/*
 * json_util.c: request-body JSON parsing and field readers (see json_util.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "common/util.h"

int json_nesting_exceeds(const char *buf, size_t len, int max)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

/* Finds the first string holding a NUL and writes its path ("customer.tags[2]") into path. */
static int find_nul(const json_t *j, char *path, size_t pathsz, size_t at)
{
    if (json_is_string(j))
        return memchr(json_string_value(j), '\0', json_string_length(j)) != NULL;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            snprintf(path + at, pathsz - at, "[%zu]", i);
            if (find_nul(json_array_get(j, i), path, pathsz, strlen(path)))
                return 1;
        }
    } else if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v)
        {
            snprintf(path + at, pathsz - at, "%s%s", at == 0 ? "" : ".", key);
            utf8_truncate(path, pathsz - 1);
            if (find_nul(v, path, pathsz, strlen(path)))
                return 1;
        }
    }
    path[at] = '\0';
    return 0;
}

json_t *json_parse_body(const char *buf, size_t len, hdf_error_t *err, char *detail, size_t detaillen, hdf_field_errors_t *fe)
{
    ptrdiff_t bad = utf8_find_invalid(buf, len);
    if (bad >= 0) {
        *err = HDF_E_MALFORMED_JSON;
        snprintf(detail, detaillen, "invalid UTF-8 at byte %td", bad);
        return NULL;
    }
    if (json_nesting_exceeds(buf, len, HDF_JSON_MAX_DEPTH)) {
        *err = HDF_E_MALFORMED_JSON;
        snprintf(detail, detaillen, "JSON nesting deeper than %d levels", HDF_JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t je;
    /* NUL is let through the parser so that the string holding it can be named in the error; any
     * JSON value is parsed, so that a valid non-object body is a validation error, not a syntax one */
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (j == NULL) {
        *err = HDF_E_MALFORMED_JSON;
        /* jansson quotes the input near the error byte-wise: it can end inside a character */
        utf8_cut_invalid(je.text);
        snprintf(detail, detaillen, "%s at byte %d (line %d, column %d)", je.text, je.position, je.line, je.column);
        return NULL;
    }
    char path[256] = "";
    if (find_nul(j, path, sizeof(path), 0)) {
        json_decref(j);
        *err = HDF_E_VALIDATION_FAILED;
        snprintf(detail, detaillen, "strings must not contain NUL (\\u0000)");
        field_errors_add(fe, path[0] != '\0' ? path : "body", "nul_character", "%s must not contain NUL (\\u0000)",
                         path[0] != '\0' ? path : "body");
        return NULL;
    }
    return j;
}

int json_get_string(json_t *obj, const char *key, const char *field, size_t min_chars, size_t max_chars, int required,
                    const char **out, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL) {
        if (required) {
            field_errors_add(fe, field, "required", "%s is required", field);
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be a string", field);
        return -1;
    }
    size_t n = utf8_length(json_string_value(v), json_string_length(v));
    if (n < min_chars) {
        field_errors_add(fe, field, "too_short", "%s must be at least %zu characters", field, min_chars);
        return -1;
    }
    if (n > max_chars) {
        field_errors_add(fe, field, "too_long", "%s exceeds %zu characters", field, max_chars);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int json_get_enum(json_t *obj, const char *key, const char *field, const char *const *values, const char *dflt, const char **out,
                  hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be a string", field);
        return -1;
    }
    for (const char *const *p = values; *p != NULL; p++) {
        if (strcmp(*p, json_string_value(v)) == 0) {
            *out = *p;
            return 1;
        }
    }
    char allowed[256] = "";
    for (const char *const *p = values; *p != NULL; p++) {
        if (allowed[0] != '\0')
            strlcat(allowed, ", ", sizeof(allowed));
        strlcat(allowed, *p, sizeof(allowed));
    }
    field_errors_add(fe, field, "invalid", "%s must be one of %s", field, allowed);
    return -1;
}

int json_get_id(json_t *obj, const char *key, const char *field, int64_t *out, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be an integer id or null", field);
        return -1;
    }
    if (json_integer_value(v) <= 0) {
        field_errors_add(fe, field, "invalid", "%s must be a positive id", field);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 1;
}

int json_get_bool(json_t *obj, const char *key, const char *field, int dflt, int *out, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be true or false", field);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

void json_reject_unknown(json_t *obj, const char *const *allowed, const char *prefix, hdf_field_errors_t *fe)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int known = 0;
        for (const char *const *a = allowed; *a != NULL && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            char field[256];
            snprintf(field, sizeof(field), "%s%s", prefix, key);
            utf8_truncate(field, sizeof(field) - 1);
            field_errors_add(fe, field, "unknown_field", "%s is not a known field", field);
        }
    }
}

char *json_dump_compact(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        abort(); /* only on out of memory: the rest of the server treats that as fatal too */
    *len = strlen(s);
    return s;
}
