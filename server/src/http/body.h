/*
 * body.h: checks on a request body before it is parsed (pure): the media type.
 */
#ifndef HDF_BODY_H
#define HDF_BODY_H

#include <stddef.h>

/* application/json, case-insensitive, optionally followed by parameters (";charset=utf-8").
 * A charset other than utf-8 is refused: the contract is UTF-8 only. */
int body_content_type_is_json(const char *ct, size_t len);

#endif
