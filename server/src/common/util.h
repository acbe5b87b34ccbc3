/*
 * util.h: small pure helpers shared by every module: hex, time formatting, request ids, UTF-8.
 */
#ifndef HDF_UTIL_H
#define HDF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HDF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The value of one hex digit, or -1. */
int hex_value(char c);
/* Decodes 2*outlen hex chars; returns bytes written or -1 on a non-hex character / odd length. */
int hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outlen);
void hex_encode(const unsigned char *in, size_t len, char *out /* 2*len+1 */);

/* RFC 3339 UTC with milliseconds: 2026-11-24T08:15:30.123Z (needs 25 bytes). */
#define HDF_TIME_BUFSZ 25
void time_format_ms(int64_t unix_ms, char *out);
int64_t time_now_ms(void);
int64_t time_mono_ns(void);
/* Parses the text form Postgres sends for timestamptz (with the session in UTC). -1 if unparsable. */
int64_t time_parse_pg(const char *s);

/* A caller's X-Request-Id is kept when it is 1..128 chars of [A-Za-z0-9._:+/=-]. */
#define HDF_REQUEST_ID_MAX 128
int request_id_is_sane(const char *s, size_t len);
/* 32 lowercase hex characters from the CSPRNG; out needs 33 bytes. */
void request_id_generate(char *out);

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). Returns the offset of the first bad
 * byte, or -1 when the whole buffer is valid. */
ptrdiff_t utf8_find_invalid(const char *s, size_t len);
/* Cuts s to at most maxbytes without splitting a character, and drops a last character that an
 * earlier cut (snprintf into a short buffer, say) left incomplete. */
void utf8_truncate(char *s, size_t maxbytes);
/* Ends s at its first invalid UTF-8 byte, if any. */
void utf8_cut_invalid(char *s);
/* Number of code points in valid UTF-8. */
size_t utf8_length(const char *s, size_t len);

/* Parses a decimal id 1..INT64_MAX with nothing else around it; -1 when it is not one. */
int64_t parse_id(const char *s, size_t len);

#endif
