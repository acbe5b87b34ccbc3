/*
 * errors.h: error codes from errors.def and the problem+json (RFC 9457) body builder.
 * Handlers return a code plus a detail and, for validation, a list of field errors; one
 * function (respond_problem in http/respond.c) turns that into the response.
 */
#ifndef HDF_ERRORS_H
#define HDF_ERRORS_H

#include <stddef.h>
#include <jansson.h>

typedef enum {
    HDF_OK = 0,
#define X(name, status, slug, title) HDF_E_##name,
#include "common/errors.def"
#undef X
    HDF_E__COUNT
} hdf_error_t;

#define HDF_PROBLEM_TYPE_BASE "https://helpdeskflow.dev/problems/"

int hdf_error_status(hdf_error_t e);
const char *hdf_error_code(hdf_error_t e);  /* "validation_failed" */
const char *hdf_error_slug(hdf_error_t e);  /* "validation" */
const char *hdf_error_title(hdf_error_t e); /* "Request validation failed" */
/* The error for an HTTP status h2o produced itself (413 from its body limit, say). */
hdf_error_t hdf_error_from_status(int status);

/* Field errors for validation_failed: collected while validating, reported all at once. */
typedef struct hdf_field_errors {
    json_t *list; /* array of {field, code, message}; NULL until the first error */
} hdf_field_errors_t;

void field_errors_add(hdf_field_errors_t *fe, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t field_errors_count(const hdf_field_errors_t *fe);
void field_errors_clear(hdf_field_errors_t *fe);

/* Builds the problem object; takes ownership of errors (may be NULL). extra members may be NULL. */
json_t *problem_build(hdf_error_t e, const char *detail, const char *request_id, json_t *errors);

#endif
