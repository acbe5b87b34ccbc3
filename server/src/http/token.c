/*
 * token.c: API key token parsing and hashing (see token.h).
 */
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>
#include "http/token.h"

int token_is_well_formed(const char *tok, size_t len)
{
    if (len != HDF_TOKEN_LEN || memcmp(tok, HDF_TOKEN_PREFIX, 4) != 0)
        return 0;
    for (size_t i = 4; i < len; i++) {
        char c = tok[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

int token_from_authorization(const char *value, size_t len, const char **tok)
{
    static const char bearer[] = "Bearer ";
    if (len <= sizeof(bearer) - 1 || strncasecmp(value, bearer, sizeof(bearer) - 1) != 0)
        return -1;
    const char *t = value + sizeof(bearer) - 1;
    size_t tlen = len - (sizeof(bearer) - 1);
    if (!token_is_well_formed(t, tlen))
        return -1;
    *tok = t;
    return 0;
}

void token_hash(const char *tok, size_t len, unsigned char out[HDF_TOKEN_HASH_LEN])
{
    SHA256((const unsigned char *)tok, len, out);
}
