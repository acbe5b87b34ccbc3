/*
 * email.h: email addresses as HelpDeskFlow stores and compares them (agents now; customers and
 * tickets later). Pure: no h2o, no libpq.
 *
 * Normalising trims ASCII whitespace at both ends and lower-cases ASCII letters (non-ASCII
 * characters are kept as they are: case-folding them needs Unicode tables and is not what mail
 * servers do either). The address is then accepted when it is a sane "dot-atom" address:
 *   - at most HDF_EMAIL_MAX (254) bytes in all, at most 64 bytes before the @ (RFC 5321);
 *   - exactly one @, with something on both sides;
 *   - local part: letters, digits, !#$%&'*+/=?^_`{|}~- and dots, or any non-ASCII character; no
 *     leading, trailing or consecutive dots (quoted local parts are not accepted);
 *   - domain: at least two dot-separated labels of 1 to 63 bytes each, made of letters, digits,
 *     hyphens or non-ASCII characters (internationalised names), no label starting or ending
 *     with a hyphen; so no leading, trailing or consecutive dots, and no IP-literal domains;
 *   - no spaces or control characters anywhere.
 * The input must already be valid UTF-8 (request bodies are checked before this runs).
 */
#ifndef HDF_EMAIL_H
#define HDF_EMAIL_H

#include <stddef.h>

#define HDF_EMAIL_MAX 254
#define HDF_EMAIL_LOCAL_MAX 64
#define HDF_EMAIL_LABEL_MAX 63

enum hdf_email_result {
    HDF_EMAIL_OK,
    HDF_EMAIL_EMPTY,    /* nothing but whitespace */
    HDF_EMAIL_TOO_LONG, /* over HDF_EMAIL_MAX bytes once trimmed */
    HDF_EMAIL_INVALID,  /* not an address of the shape above */
};

/* Normalises s (len bytes) into out (HDF_EMAIL_MAX + 1 bytes, NUL-terminated) and validates it.
 * out holds the normalised address only when the result is HDF_EMAIL_OK. */
enum hdf_email_result email_normalize(const char *s, size_t len, char out[HDF_EMAIL_MAX + 1]);

/* A short human reason for a result other than HDF_EMAIL_OK ("is not a valid email address", ...). */
const char *email_result_message(enum hdf_email_result res);

#endif
