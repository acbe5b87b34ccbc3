/*
 * base64.c: strict standard base64 (see base64.h). Written out rather than EVP_DecodeBlock, which
 * skips whitespace, accepts non-zero trailing bits and counts padding as zero bytes.
 */
#include <stdint.h>
#include "common/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void base64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

int base64_decode(const char *in, size_t len, unsigned char *out, size_t outsz)
{
    if (len % 4 != 0)
        return -1;
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=')
        pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
    size_t n = len / 4 * 3 - pad;
    if (n > outsz || n > INT32_MAX)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        int last = i + 4 == len;
        for (size_t k = 0; k < 4; k++) {
            int d = b64_value(in[i + k]);
            if (d < 0) {
                if (!(last && in[i + k] == '=' && k >= 4 - pad))
                    return -1;
                d = 0;
            }
            v = v << 6 | (uint32_t)d;
        }
        /* the bits that padding hides must be zero, or two texts would decode to the same bytes */
        if ((last && pad == 1 && (v & 0xff) != 0) || (last && pad == 2 && (v & 0xffff) != 0))
            return -1;
        out[o++] = (unsigned char)(v >> 16);
        if (o < n)
            out[o++] = (unsigned char)(v >> 8);
        if (o < n)
            out[o++] = (unsigned char)v;
    }
    return (int)n;
}
