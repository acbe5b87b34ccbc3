/*
 * cursor.c: opaque pagination cursors (see cursor.h).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include "common/cursor.h"
#include "common/util.h"

void cursor_encode(const char *kind, const char *payload, char *out)
{
    char raw[180];
    int n = snprintf(raw, sizeof(raw), "%s:%s", kind, payload);
    if (n < 0 || (size_t)n >= sizeof(raw))
        n = (int)sizeof(raw) - 1;
    int m = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, n);
    while (m > 0 && out[m - 1] == '=')
        m--;
    for (int i = 0; i < m; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[m] = '\0';
}

int cursor_decode(const char *kind, const char *s, char *payload, size_t payloadsz)
{
    char b64[HDF_CURSOR_MAX + 4];
    unsigned char raw[HDF_CURSOR_MAX];
    size_t len = strlen(s);
    if (len == 0 || len > HDF_CURSOR_MAX || len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return -1;
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    size_t pad = (4 - len % 4) % 4;
    memset(b64 + len, '=', pad);
    b64[len + pad] = '\0';
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)(len + pad));
    if (n < 0)
        return -1;
    n -= (int)pad; /* EVP_DecodeBlock counts padding as zero bytes */
    size_t klen = strlen(kind);
    if ((size_t)n <= klen || memcmp(raw, kind, klen) != 0 || raw[klen] != ':')
        return -1;
    size_t plen = (size_t)n - klen - 1;
    if (plen >= payloadsz || memchr(raw + klen + 1, '\0', plen) != NULL)
        return -1;
    memcpy(payload, raw + klen + 1, plen);
    payload[plen] = '\0';
    return 0;
}

void cursor_encode_id(const char *kind, int64_t id, char *out)
{
    char p[24];
    snprintf(p, sizeof(p), "%lld", (long long)id);
    cursor_encode(kind, p, out);
}

int cursor_decode_id(const char *kind, const char *s, int64_t *id)
{
    char p[32];
    if (cursor_decode(kind, s, p, sizeof(p)) != 0)
        return -1;
    *id = parse_id(p, strlen(p));
    return *id < 0 ? -1 : 0;
}
