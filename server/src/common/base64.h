/*
 * base64.h: standard base64 (RFC 4648 section 4, with padding) for secrets, signatures and sealed
 * blobs. Decoding is strict: only the canonical encoding of some byte string is accepted (no
 * whitespace, padding exactly as encoding produces it, unused trailing bits zero), so every value
 * has one text form and a comparison of texts is a comparison of bytes.
 */
#ifndef HDF_BASE64_H
#define HDF_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for n bytes, without the terminating NUL. */
#define HDF_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes HDF_BASE64_LEN(len) characters and a NUL into out. */
void base64_encode(const unsigned char *in, size_t len, char *out);
/* Decodes canonical base64 of exactly len characters into out (at most outsz bytes). Returns the
 * number of bytes, or -1 when the text is not canonical base64 or does not fit. */
int base64_decode(const char *in, size_t len, unsigned char *out, size_t outsz);

#endif
