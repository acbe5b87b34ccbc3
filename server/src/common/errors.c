/*
 * errors.c: expands errors.def into lookups and builds RFC 9457 problem objects.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "common/errors.h"
#include "common/util.h"

struct error_row {
    int status;
    const char *code, *slug, *title;
};

/* The code is the enum name lower-cased; spelled out by the preprocessor would need a tolower
 * at run time, so the table is filled once from string literals below. */
static const struct error_row rows[HDF_E__COUNT] = {
    [HDF_OK] = {200, "ok", "ok", "OK"},
#define X(name, status, slug, title) [HDF_E_##name] = {status, #name, slug, title},
#include "common/errors.def"
#undef X
};

static char codes[HDF_E__COUNT][48];

static const char *code_of(hdf_error_t e)
{
    if (codes[e][0] == '\0') {
        const char *src = rows[e].code;
        size_t i;
        for (i = 0; src[i] != '\0' && i + 1 < sizeof(codes[e]); i++)
            codes[e][i] = (char)tolower((unsigned char)src[i]);
        codes[e][i] = '\0';
    }
    return codes[e];
}

/* Called once at start-up, before threads exist, so the lazily built codes are never raced. */
__attribute__((constructor)) static void errors_init(void)
{
    for (int e = 0; e < HDF_E__COUNT; e++)
        code_of((hdf_error_t)e);
}

static hdf_error_t clamp(hdf_error_t e)
{
    return (e < 0 || e >= HDF_E__COUNT) ? HDF_E_INTERNAL : e;
}

int hdf_error_status(hdf_error_t e)
{
    return rows[clamp(e)].status;
}

const char *hdf_error_code(hdf_error_t e)
{
    return code_of(clamp(e));
}

const char *hdf_error_slug(hdf_error_t e)
{
    return rows[clamp(e)].slug;
}

const char *hdf_error_title(hdf_error_t e)
{
    return rows[clamp(e)].title;
}

hdf_error_t hdf_error_from_status(int status)
{
    switch (status) {
    case 400:
        return HDF_E_MALFORMED_JSON;
    case 404:
        return HDF_E_NOT_FOUND;
    case 405:
        return HDF_E_METHOD_NOT_ALLOWED;
    case 413:
        return HDF_E_BODY_TOO_LARGE;
    case 415:
        return HDF_E_UNSUPPORTED_MEDIA_TYPE;
    case 503:
        return HDF_E_UNAVAILABLE;
    default:
        return HDF_E_INTERNAL;
    }
}

void field_errors_add(hdf_field_errors_t *fe, const char *field, const char *code, const char *fmt, ...)
{
    char msg[512], name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Field names can echo a caller's member names: keep them short and whole characters. */
    strlcpy(name, field, sizeof(name));
    utf8_truncate(name, sizeof(name) - 1);
    utf8_truncate(msg, sizeof(msg) - 1);
    if (fe->list == NULL)
        fe->list = json_array();
    json_t *row = json_pack("{s:s, s:s, s:s}", "field", name, "code", code, "message", msg);
    if (row != NULL)
        json_array_append_new(fe->list, row);
}

size_t field_errors_count(const hdf_field_errors_t *fe)
{
    return fe->list == NULL ? 0 : json_array_size(fe->list);
}

void field_errors_clear(hdf_field_errors_t *fe)
{
    json_decref(fe->list);
    fe->list = NULL;
}

json_t *problem_build(hdf_error_t e, const char *detail, const char *request_id, json_t *errors)
{
    char type[160];
    e = clamp(e);
    snprintf(type, sizeof(type), "%s%s", HDF_PROBLEM_TYPE_BASE, rows[e].slug);
    json_t *p =
        json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", rows[e].title, "status", rows[e].status, "code", code_of(e));
    json_t *d = json_string(detail != NULL ? detail : rows[e].title);
    json_object_set_new(p, "detail", d != NULL ? d : json_string(rows[e].title)); /* never drop the member */
    if (request_id != NULL)
        json_object_set_new(p, "request_id", json_string(request_id));
    if (errors != NULL)
        json_object_set_new(p, "errors", errors);
    return p;
}
