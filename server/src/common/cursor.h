/*
 * cursor.h: opaque pagination cursors. A cursor is base64url of "<kind>:<payload>"; decoding
 * checks the kind, so a cursor from one list is refused by another. Cursors carry positions only:
 * every list query also filters by the caller's workspace, so a forged cursor can only move
 * within data the caller may see anyway.
 */
#ifndef HDF_CURSOR_H
#define HDF_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define HDF_CURSOR_MAX 256

/* out needs HDF_CURSOR_MAX bytes; payload must be short (< 150 bytes). */
void cursor_encode(const char *kind, const char *payload, char *out);
/* Returns 0 and the payload (NUL-terminated) when s is a cursor of this kind. */
int cursor_decode(const char *kind, const char *s, char *payload, size_t payloadsz);
/* The common case: a cursor holding one id. */
void cursor_encode_id(const char *kind, int64_t id, char *out);
int cursor_decode_id(const char *kind, const char *s, int64_t *id);

#endif
