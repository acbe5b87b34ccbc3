/*
 * tags.c: tag normalisation (see tags.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/tags.h"

int tag_is_valid(const char *s, size_t len)
{
    if (len == 0 || len > HDF_TAG_MAX_CHARS)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == ':' || c == '-'));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Whether out already holds the tag s (at most 50 x 50 comparisons). */
static int tags_contain(const json_t *out, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(out, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

/* Lower-cases and checks tags[i]; appends it to out unless it repeats an earlier tag. */
static void tags_add_one(const json_t *tags, size_t i, const char *field, json_t *out, hdf_field_errors_t *fe)
{
    const json_t *v = json_array_get(tags, i);
    char name[96], tag[HDF_TAG_MAX_CHARS + 1];
    snprintf(name, sizeof(name), "%s[%zu]", field, i);
    if (!json_is_string(v)) {
        field_errors_add(fe, name, "invalid_type", "%s must be a string", name);
        return;
    }
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len > HDF_TAG_MAX_CHARS) {
        field_errors_add(fe, name, "invalid", "%s exceeds %d characters", name, HDF_TAG_MAX_CHARS);
        return;
    }
    for (size_t j = 0; j < len; j++)
        tag[j] = (s[j] >= 'A' && s[j] <= 'Z') ? (char)(s[j] - 'A' + 'a') : s[j];
    tag[len] = '\0';
    if (!tag_is_valid(tag, len)) {
        field_errors_add(fe, name, "invalid", "%s must match [a-z0-9][a-z0-9_:-]{0,63} once lower-cased", name);
        return;
    }
    if (!tags_contain(out, tag))
        json_array_append_new(out, json_string(tag));
}

json_t *tags_normalize(const json_t *tags, const char *field, hdf_field_errors_t *fe)
{
    if (!json_is_array(tags)) {
        field_errors_add(fe, field, "invalid_type", "%s must be an array of strings", field);
        return NULL;
    }
    if (json_array_size(tags) > HDF_TAGS_MAX) {
        field_errors_add(fe, field, "too_many", "%s may hold at most %d tags", field, HDF_TAGS_MAX);
        return NULL;
    }
    size_t before = field_errors_count(fe);
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(tags); i++)
        tags_add_one(tags, i, field, out, fe);
    if (field_errors_count(fe) > before) {
        json_decref(out);
        return NULL;
    }
    return out;
}

char *tags_to_pg_array(const json_t *tags)
{
    if (!json_is_array(tags))
        return NULL;
    size_t cap = 3, i;
    const json_t *v;
    json_array_foreach(tags, i, v)
    {
        if (!json_is_string(v))
            return NULL;
        cap += 2 * json_string_length(v) + 3; /* worst case: every byte escaped, quotes, comma */
    }
    char *out = malloc(cap), *p = out;
    if (out == NULL)
        return NULL;
    *p++ = '{';
    json_array_foreach(tags, i, v)
    {
        if (i > 0)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = json_string_value(v); *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}
