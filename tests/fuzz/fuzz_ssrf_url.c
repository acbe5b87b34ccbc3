/*
 * fuzz_ssrf_url.c: libFuzzer target for webhook/ssrf.c. The first byte picks the flags; the rest
 * is tried as a URL and as an IPv4 host literal. Properties, beyond not crashing:
 *  - ssrf_parse_ipv4 agrees with glibc's inet_aton on every input without whitespace or NUL
 *    (inet_aton tolerates trailing whitespace, which a URL host cannot hold);
 *  - an accepted URL's canonical form is accepted again, to itself (idempotent), within
 *    HDF_URL_MAX, and holds no byte that check_chars refuses;
 *  - a literal host's address class is allowed by the flags, and for IPv4 it equals the class of
 *    what inet_aton makes of the host text as written;
 *  - a refused URL always says why.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "webhook/ssrf.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

static void check_ipv4(const char *s, size_t n)
{
    uint8_t mine[4];
    int rc = ssrf_parse_ipv4(s, n, mine);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))
            return;
    char *z = malloc(n + 1);
    memcpy(z, s, n);
    z[n] = '\0';
    struct in_addr a;
    int libc = inet_aton(z, &a);
    free(z);
    CHECK((rc == 0) == (libc == 1));
    if (rc == 0)
        CHECK(memcmp(mine, &a, 4) == 0);
}

/* The host as written in url (between "://" and the port/path), for the inet_aton comparison. */
static void check_literal_class(const char *url, size_t n, const hdf_webhook_url_t *u, int flags)
{
    hdf_addr_class_t c = u->host_kind == HDF_HOST_IPV4 ? ssrf_classify_v4(u->addr) : ssrf_classify_v6(u->addr);
    CHECK(ssrf_class_allowed(c, flags));
    if (u->host_kind != HDF_HOST_IPV4)
        return;
    const char *h = memchr(url, ':', n) + 3;
    size_t hl = 0;
    while (h + hl < url + n && h[hl] != ':' && h[hl] != '/' && h[hl] != '?')
        hl++;
    if (hl > 0 && h[hl - 1] == '.')
        hl--;
    char z[300];
    CHECK(hl < sizeof(z));
    memcpy(z, h, hl);
    z[hl] = '\0';
    struct in_addr a;
    CHECK(inet_aton(z, &a) == 1);
    CHECK(ssrf_classify_v4((const uint8_t *)&a) == c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0] & (HDF_SSRF_ALLOW_HTTP | HDF_SSRF_ALLOW_PRIVATE);
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    check_ipv4(s, n);

    static hdf_webhook_url_t u, again;
    char why[256];
    int rc = ssrf_parse_url(s, n, flags, &u, why, sizeof(why));
    if (rc != 0) {
        CHECK(rc == -1 && why[0] != '\0');
        return 0;
    }
    size_t cl = strlen(u.canonical);
    CHECK(cl <= HDF_URL_MAX && u.port >= 1);
    for (size_t i = 0; i < cl; i++)
        CHECK(u.canonical[i] > 0x20 && u.canonical[i] < 0x7f && u.canonical[i] != '#');
    CHECK(ssrf_parse_url(u.canonical, cl, flags, &again, why, sizeof(why)) == 0);
    CHECK(strcmp(again.canonical, u.canonical) == 0 && again.port == u.port && again.host_kind == u.host_kind);
    if (u.host_kind != HDF_HOST_NAME)
        check_literal_class(s, n, &u, flags);
    return 0;
}
