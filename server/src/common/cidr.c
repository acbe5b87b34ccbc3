/*
 * cidr.c: network parsing and matching for allowed_cidrs (see cidr.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "common/cidr.h"

int cidr_parse(const char *s, size_t len, hdf_cidr_t *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash != NULL) {
        const char *errstr = NULL;
        long long p = strtonum(slash + 1, 0, out->prefix, &errstr);
        if (errstr != NULL)
            return -1;
        out->prefix = (int)p;
    }
    return 0;
}

int cidr_parse_pg_array(const char *s, hdf_cidr_t *out, int max)
{
    size_t len = strlen(s);
    if (len < 2 || s[0] != '{' || s[len - 1] != '}')
        return -1;
    int n = 0;
    const char *p = s + 1, *end = s + len - 1;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        if (n >= max || cidr_parse(p, (size_t)(stop - p), &out[n]) != 0)
            return -1;
        n++;
        p = comma != NULL ? comma + 1 : end;
        if (comma != NULL && p == end) /* "{a,}" */
            return -1;
    }
    return n;
}

int cidr_prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int cidr_contains(const hdf_cidr_t *net, const struct sockaddr *sa)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *addr;
    int family = sa->sa_family;
    if (family == AF_INET) {
        addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (net->family == AF_INET && memcmp(addr, v4mapped, 12) == 0) {
            addr += 12;
            family = AF_INET;
        }
    } else {
        return 0;
    }
    return family == net->family && cidr_prefix_equal(addr, net->addr, net->prefix);
}

int cidr_any_contains(const hdf_cidr_t *nets, int n, const struct sockaddr *sa)
{
    for (int i = 0; i < n; i++)
        if (cidr_contains(&nets[i], sa))
            return 1;
    return 0;
}
