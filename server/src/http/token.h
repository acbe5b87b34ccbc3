/*
 * token.h: API key tokens: format check and the SHA-256 that is all the database stores.
 */
#ifndef HDF_TOKEN_H
#define HDF_TOKEN_H

#include <stddef.h>

#define HDF_TOKEN_PREFIX "hdf_"
#define HDF_TOKEN_LEN 44 /* "hdf_" + 40 base62 characters */
#define HDF_TOKEN_HASH_LEN 32

/* Extracts the token from an Authorization header value ("Bearer <token>", scheme
 * case-insensitive). Returns 0 and sets *tok when the value is well-formed. */
int token_from_authorization(const char *value, size_t len, const char **tok);
int token_is_well_formed(const char *tok, size_t len);
void token_hash(const char *tok, size_t len, unsigned char out[HDF_TOKEN_HASH_LEN]);

#endif
