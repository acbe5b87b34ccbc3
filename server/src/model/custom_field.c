/*
 * custom_field.c: custom field definition rules (see custom_field.h).
 */
#include <stdio.h>
#include <string.h>
#include "model/custom_field.h"
#include "common/util.h"

static int one_of(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

int custom_field_object_is_valid(const char *s)
{
    static const char *const objects[] = {"ticket", "customer", NULL};
    return one_of(s, objects);
}

int custom_field_type_is_valid(const char *s)
{
    static const char *const types[] = {"text", "number", "boolean", "date", "enum", NULL};
    return one_of(s, types);
}

int custom_field_key_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HDF_CF_KEY_MAX || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Whether options[i] equals an earlier element (at most 100 x 100 comparisons). */
static int repeats_earlier(const json_t *options, size_t i)
{
    const json_t *v = json_array_get(options, i);
    for (size_t j = 0; j < i; j++) {
        const json_t *w = json_array_get(options, j);
        if (json_is_string(w) && json_string_length(w) == json_string_length(v) &&
            memcmp(json_string_value(w), json_string_value(v), json_string_length(v)) == 0)
            return 1;
    }
    return 0;
}

static void check_option(const json_t *options, size_t i, hdf_field_errors_t *fe)
{
    const json_t *v = json_array_get(options, i);
    char field[32];
    snprintf(field, sizeof(field), "options[%zu]", i);
    if (!json_is_string(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be a string", field);
        return;
    }
    size_t n = utf8_length(json_string_value(v), json_string_length(v));
    if (n == 0)
        field_errors_add(fe, field, "too_short", "%s must be at least 1 character", field);
    else if (n > HDF_CF_OPTION_MAX_CHARS)
        field_errors_add(fe, field, "too_long", "%s exceeds %d characters", field, HDF_CF_OPTION_MAX_CHARS);
    else if (repeats_earlier(options, i))
        field_errors_add(fe, field, "duplicate", "%s repeats an earlier option", field);
}

int custom_field_check_options(const json_t *options, hdf_field_errors_t *fe)
{
    size_t before = field_errors_count(fe);
    if (!json_is_array(options)) {
        field_errors_add(fe, "options", "invalid_type", "options must be an array of strings");
        return -1;
    }
    size_t n = json_array_size(options);
    if (n == 0) {
        field_errors_add(fe, "options", "too_short", "options must list at least 1 option");
        return -1;
    }
    if (n > HDF_CF_OPTIONS_MAX) {
        field_errors_add(fe, "options", "too_long", "options may list at most %d options", HDF_CF_OPTIONS_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        check_option(options, i, fe);
    return field_errors_count(fe) > before ? -1 : 0;
}

/* ---- values of ticket and customer custom fields ---- */

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int custom_field_date_is_valid(const char *s, size_t len)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) != 0 || digits(s + 5, 2, &m) != 0 || digits(s + 8, 2, &d) != 0)
        return 0;
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

/* The definition of key in defs, or NULL. */
static const json_t *find_def(const json_t *defs, const char *key)
{
    size_t i;
    const json_t *d;
    json_array_foreach(defs, i, d)
    {
        const char *k = json_string_value(json_object_get(d, "key"));
        if (k != NULL && strcmp(k, key) == 0)
            return d;
    }
    return NULL;
}

static int enum_has(const json_t *options, const json_t *v)
{
    size_t i;
    const json_t *o;
    json_array_foreach(options, i, o)
    {
        if (json_is_string(o) && json_equal((json_t *)o, (json_t *)v))
            return 1;
    }
    return 0;
}

/* Checks one value against its definition's type; field names it. */
static void check_value(const json_t *v, const json_t *def, const char *field, hdf_field_errors_t *fe)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    type = type != NULL ? type : "";
    if (strcmp(type, "number") == 0) {
        if (!json_is_number(v)) /* jansson parses no NaN or infinity: every number is finite */
            field_errors_add(fe, field, "invalid_type", "%s must be a number", field);
    } else if (strcmp(type, "boolean") == 0) {
        if (!json_is_boolean(v))
            field_errors_add(fe, field, "invalid_type", "%s must be true or false", field);
    } else if (!json_is_string(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be a string", field);
    } else if (strcmp(type, "text") == 0) {
        if (utf8_length(json_string_value(v), json_string_length(v)) > HDF_CF_TEXT_MAX_CHARS)
            field_errors_add(fe, field, "too_long", "%s exceeds %d characters", field, HDF_CF_TEXT_MAX_CHARS);
    } else if (strcmp(type, "date") == 0) {
        if (!custom_field_date_is_valid(json_string_value(v), json_string_length(v)))
            field_errors_add(fe, field, "invalid", "%s must be a date written YYYY-MM-DD", field);
    } else if (strcmp(type, "enum") == 0) {
        if (!enum_has(json_object_get(def, "options"), v))
            field_errors_add(fe, field, "invalid_option", "%s is not one of the field's options", field);
    } else {
        field_errors_add(fe, field, "invalid", "%s has a definition of unknown type %s", field, type);
    }
}

void custom_fields_check_values(const json_t *values, const json_t *defs, const char *prefix, hdf_field_errors_t *fe)
{
    if (!json_is_object(values)) {
        field_errors_add(fe, prefix, "invalid_type", "%s must be an object", prefix);
        return;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)values, key, v)
    {
        char field[160];
        snprintf(field, sizeof(field), "%s.%s", prefix, key);
        utf8_truncate(field, sizeof(field) - 1);
        const json_t *def = find_def(defs, key);
        if (def == NULL)
            field_errors_add(fe, field, "unknown_field", "%s is not a custom field defined for this object", field);
        else if (!json_is_null(v))
            check_value(v, def, field, fe);
    }
}
