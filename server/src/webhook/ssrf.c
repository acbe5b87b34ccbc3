/*
 * ssrf.c: URL vetting and address classification for webhook targets (see ssrf.h).
 *
 * Cloud metadata endpoints (HDF_ADDR_METADATA), refused even with HDF_SSRF_ALLOW_PRIVATE:
 *   169.254.169.254   AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, Hetzner instance metadata
 *   169.254.170.2     AWS ECS task metadata and credentials
 *   169.254.170.23    AWS EKS Pod Identity agent
 *   169.254.0.23      Tencent Cloud metadata
 *   100.100.100.200   Alibaba Cloud metadata
 *   168.63.129.16     Azure WireServer / host agent (a public address that only the platform answers)
 *   fd00:ec2::254     AWS instance metadata over IPv6
 *   fd00:ec2::23      AWS EKS Pod Identity agent over IPv6
 * ALLOW_PRIVATE exists so that tests and on-premises installs can reach receivers on loopback and
 * private networks. No receiver lives on a metadata endpoint, and those hand out the host's cloud
 * credentials to anyone who asks: a flag set for tests must not open them, so they stay refused.
 *
 * Reserved space (HDF_ADDR_RESERVED, never allowed): IPv4 192.0.0/24 (IETF protocol
 * assignments), 192.88.99/24 (6to4 relay anycast), 198.18/15 (benchmarking), 240/4; IPv6
 * 100::/64 (discard), 2001::/23 (IETF protocol assignments, Teredo included: its client address
 * is obfuscated and its relays are not ours to vet), 64:ff9b:1::/48 (local-use NAT64, whose
 * embedding we cannot know), IPv4-compatible and SIIT-translated forms of public addresses, and
 * everything outside 2000::/3 not listed above (unallocated).
 *
 * IPv6 forms that carry an IPv4 address are judged by that address: ::ffff:a.b.c.d (mapped),
 * ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d (SIIT), 64:ff9b::a.b.c.d (NAT64 well-known
 * prefix) and 2002:aabb:ccdd::/48 (6to4). A public IPv4 address in a mapped, NAT64 or 6to4 form
 * is public; in the deprecated forms it is reserved.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/cidr.h"
#include "webhook/ssrf.h"

/* ---- address classes ---------------------------------------------------------------------- */

typedef struct st_range_t {
    const char *text;
    hdf_addr_class_t cls;
    hdf_cidr_t net; /* parsed from text once */
} st_range_t;

/* First match wins: the metadata hosts come before the networks that contain them. */
static st_range_t v4_ranges[] = {
    {"169.254.169.254", HDF_ADDR_METADATA, {0}},
    {"169.254.170.2", HDF_ADDR_METADATA, {0}},
    {"169.254.170.23", HDF_ADDR_METADATA, {0}},
    {"169.254.0.23", HDF_ADDR_METADATA, {0}},
    {"100.100.100.200", HDF_ADDR_METADATA, {0}},
    {"168.63.129.16", HDF_ADDR_METADATA, {0}},
    {"255.255.255.255", HDF_ADDR_BROADCAST, {0}},
    {"0.0.0.0/8", HDF_ADDR_UNSPECIFIED, {0}},
    {"10.0.0.0/8", HDF_ADDR_PRIVATE, {0}},
    {"100.64.0.0/10", HDF_ADDR_CGNAT, {0}},
    {"127.0.0.0/8", HDF_ADDR_LOOPBACK, {0}},
    {"169.254.0.0/16", HDF_ADDR_LINK_LOCAL, {0}},
    {"172.16.0.0/12", HDF_ADDR_PRIVATE, {0}},
    {"192.0.0.0/24", HDF_ADDR_RESERVED, {0}},
    {"192.0.2.0/24", HDF_ADDR_DOCUMENTATION, {0}},
    {"192.88.99.0/24", HDF_ADDR_RESERVED, {0}},
    {"192.168.0.0/16", HDF_ADDR_PRIVATE, {0}},
    {"198.18.0.0/15", HDF_ADDR_RESERVED, {0}},
    {"198.51.100.0/24", HDF_ADDR_DOCUMENTATION, {0}},
    {"203.0.113.0/24", HDF_ADDR_DOCUMENTATION, {0}},
    {"224.0.0.0/4", HDF_ADDR_MULTICAST, {0}},
    {"240.0.0.0/4", HDF_ADDR_RESERVED, {0}},
};

/* After the IPv4-carrying forms, which ssrf_classify_v6 handles first. */
static st_range_t v6_ranges[] = {
    {"fd00:ec2::254", HDF_ADDR_METADATA, {0}},
    {"fd00:ec2::23", HDF_ADDR_METADATA, {0}},
    {"::", HDF_ADDR_UNSPECIFIED, {0}},
    {"::1", HDF_ADDR_LOOPBACK, {0}},
    {"100::/64", HDF_ADDR_RESERVED, {0}},
    {"64:ff9b:1::/48", HDF_ADDR_RESERVED, {0}},
    {"2001:db8::/32", HDF_ADDR_DOCUMENTATION, {0}},
    {"2001::/23", HDF_ADDR_RESERVED, {0}},
    {"3fff::/20", HDF_ADDR_DOCUMENTATION, {0}},
    {"fc00::/7", HDF_ADDR_PRIVATE, {0}},
    {"fe80::/10", HDF_ADDR_LINK_LOCAL, {0}},
    {"fec0::/10", HDF_ADDR_PRIVATE, {0}},
    {"ff00::/8", HDF_ADDR_MULTICAST, {0}},
    {"2000::/3", HDF_ADDR_PUBLIC, {0}},
    {"::/0", HDF_ADDR_RESERVED, {0}},
};

static pthread_once_t ranges_once = PTHREAD_ONCE_INIT;

static void parse_ranges(st_range_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cidr_parse(r[i].text, strlen(r[i].text), &r[i].net) != 0)
            abort(); /* a typo in the tables above; the unit tests catch it first */
}

static void on_ranges_once(void)
{
    parse_ranges(v4_ranges, sizeof(v4_ranges) / sizeof(v4_ranges[0]));
    parse_ranges(v6_ranges, sizeof(v6_ranges) / sizeof(v6_ranges[0]));
}

static hdf_addr_class_t match_ranges(const st_range_t *r, size_t n, const uint8_t *addr, hdf_addr_class_t dflt)
{
    pthread_once(&ranges_once, on_ranges_once);
    for (size_t i = 0; i < n; i++)
        if (cidr_prefix_equal(addr, r[i].net.addr, r[i].net.prefix))
            return r[i].cls;
    return dflt;
}

hdf_addr_class_t ssrf_classify_v4(const uint8_t addr[4])
{
    return match_ranges(v4_ranges, sizeof(v4_ranges) / sizeof(v4_ranges[0]), addr, HDF_ADDR_PUBLIC);
}

/* The IPv4 address an IPv6 address carries, if it is one of the forms in the header comment;
 * *public_ok says whether a public IPv4 address in this form is reachable as such. */
static const uint8_t *embedded_v4(const uint8_t a[16], int *public_ok)
{
    static const uint8_t zero[12] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t siit[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    *public_ok = 1;
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return a + 12;
    if (a[0] == 0x20 && a[1] == 0x02)
        return a + 2;
    *public_ok = 0;
    if (memcmp(a, siit, 12) == 0)
        return a + 12;
    /* ::a.b.c.d, but not :: and ::1 themselves */
    if (memcmp(a, zero, 12) == 0 && !(a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1))
        return a + 12;
    return NULL;
}

hdf_addr_class_t ssrf_classify_v6(const uint8_t addr[16])
{
    int public_ok;
    const uint8_t *v4 = embedded_v4(addr, &public_ok);
    if (v4 != NULL) {
        hdf_addr_class_t c = ssrf_classify_v4(v4);
        return c == HDF_ADDR_PUBLIC && !public_ok ? HDF_ADDR_RESERVED : c;
    }
    return match_ranges(v6_ranges, sizeof(v6_ranges) / sizeof(v6_ranges[0]), addr, HDF_ADDR_RESERVED);
}

hdf_addr_class_t ssrf_classify(const struct sockaddr *sa, socklen_t len)
{
    if (sa == NULL)
        return HDF_ADDR_RESERVED;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        return ssrf_classify_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        return ssrf_classify_v6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return HDF_ADDR_RESERVED;
}

const char *ssrf_class_name(hdf_addr_class_t c)
{
    static const char *const names[] = {"public",         "loopback",       "private",     "link-local",
                                        "shared (CGNAT)", "cloud metadata", "unspecified", "multicast",
                                        "broadcast",      "documentation",  "reserved"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

int ssrf_class_allowed(hdf_addr_class_t c, int flags)
{
    switch (c) {
    case HDF_ADDR_PUBLIC:
        return 1;
    case HDF_ADDR_LOOPBACK:
    case HDF_ADDR_PRIVATE:
    case HDF_ADDR_LINK_LOCAL:
    case HDF_ADDR_CGNAT:
        return (flags & HDF_SSRF_ALLOW_PRIVATE) != 0;
    default:
        return 0;
    }
}

/* ---- IPv4 literals ------------------------------------------------------------------------ */

/* One part of an inet_aton literal at s[*i]: strtoul(base 0) as inet_aton calls it, which needs a
 * leading digit, reads 0x/0X as hex and a leading 0 as octal. Returns the value, or -1 when there
 * is no digit, the number is empty after 0x, or it passes 0xffffffff. */
static int64_t ipv4_part(const char *s, size_t len, size_t *i)
{
    size_t p = *i;
    if (p >= len || s[p] < '0' || s[p] > '9')
        return -1;
    int base = 10;
    if (s[p] == '0' && p + 1 < len && (s[p + 1] == 'x' || s[p + 1] == 'X')) {
        base = 16;
        p += 2;
    } else if (s[p] == '0') {
        base = 8;
    }
    size_t start = p;
    int64_t v = 0;
    for (; p < len; p++) {
        int d = s[p] >= '0' && s[p] <= '9'   ? s[p] - '0'
                : s[p] >= 'a' && s[p] <= 'f' ? s[p] - 'a' + 10
                : s[p] >= 'A' && s[p] <= 'F' ? s[p] - 'A' + 10
                                             : 99;
        if (d >= base)
            break;
        v = v * base + d;
        if (v > 0xffffffffLL)
            v = 0x100000000LL; /* sticky: too big, whatever follows */
    }
    if (p == start || v > 0xffffffffLL)
        return -1;
    *i = p;
    return v;
}

int ssrf_parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    static const int64_t max_last[4] = {0xffffffffLL, 0xffffffLL, 0xffffLL, 0xffLL};
    uint8_t bytes[4] = {0};
    int nparts = 0;
    size_t i = 0;
    for (;;) {
        int64_t v = ipv4_part(s, len, &i);
        if (v < 0)
            return -1;
        if (i < len && s[i] == '.') {
            if (nparts > 2 || v > 0xff)
                return -1;
            bytes[nparts++] = (uint8_t)v;
            i++;
            continue;
        }
        if (i != len || v > max_last[nparts])
            return -1;
        for (int k = 3; k >= nparts; k--, v >>= 8)
            bytes[k] = (uint8_t)(v & 0xff);
        memcpy(out, bytes, 4);
        return 0;
    }
}

/* WHATWG's "ends in a number": the last label (after one trailing dot) is all digits, or 0x and
 * hex digits. Such a host is an IPv4 literal or an error, never a name to look up. */
static int ends_in_number(const char *h, size_t len)
{
    if (len > 0 && h[len - 1] == '.')
        len--;
    size_t start = len;
    while (start > 0 && h[start - 1] != '.')
        start--;
    const char *l = h + start;
    size_t n = len - start, i = 0;
    if (n == 0)
        return 0;
    int hex = n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X');
    for (i = hex ? 2 : 0; i < n; i++) {
        char c = l[i];
        int ok = (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- URLs --------------------------------------------------------------------------------- */

typedef struct st_url_ctx_t {
    int flags;
    hdf_webhook_url_t *out;
    char *why;
    size_t whysz;
} st_url_ctx_t;

#define REFUSE(ctx, ...)                                                                                                           \
    do {                                                                                                                           \
        snprintf((ctx)->why, (ctx)->whysz, __VA_ARGS__);                                                                           \
        return -1;                                                                                                                 \
    } while (0)

static int is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int parse_host_name(st_url_ctx_t *c, const char *h, size_t len)
{
    hdf_webhook_url_t *u = c->out;
    if (len > 0 && h[len - 1] == '.')
        len--; /* "example.com." is example.com */
    if (len == 0 || len > HDF_HOST_MAX)
        REFUSE(c, "the host name must be 1 to %d characters", HDF_HOST_MAX);
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || h[i] == '.') {
            if (label == 0 || label > 63)
                REFUSE(c, "host name labels must be 1 to 63 characters");
            if (h[i - label] == '-' || h[i - 1] == '-')
                REFUSE(c, "host name labels may not start or end with '-'");
            label = 0;
            if (i < len)
                u->host[i] = '.';
            continue;
        }
        if (!is_ldh(h[i]))
            REFUSE(c, "the host name may only hold ASCII letters, digits, '-', '_' and '.' (character %zu)", i + 1);
        label++;
        u->host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
    }
    u->host[len] = '\0';
    u->host_kind = HDF_HOST_NAME;
    return 0;
}

static int parse_host_literal6(st_url_ctx_t *c, const char *h, size_t len)
{
    hdf_webhook_url_t *u = c->out;
    char buf[INET6_ADDRSTRLEN];
    if (memchr(h, '%', len) != NULL)
        REFUSE(c, "IPv6 zone identifiers are not allowed in webhook URLs");
    if (len == 0 || len >= sizeof(buf))
        REFUSE(c, "the IPv6 address in brackets is not valid");
    memcpy(buf, h, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, u->addr) != 1)
        REFUSE(c, "the IPv6 address in brackets is not valid");
    inet_ntop(AF_INET6, u->addr, u->host, sizeof(u->host));
    u->host_kind = HDF_HOST_IPV6;
    return 0;
}

static int parse_host(st_url_ctx_t *c, const char *h, size_t len)
{
    hdf_webhook_url_t *u = c->out;
    /* non-ASCII bytes were refused with the whole URL (pointing to the xn-- form) */
    if (len > 0 && h[0] != '[' && memchr(h, '%', len) != NULL)
        REFUSE(c, "percent-encoded host names are not allowed");
    if (len == 0)
        REFUSE(c, "the URL has no host");
    if (len > HDF_HOST_MAX + 1) /* a name's limit (and its trailing dot); no literal needs more */
        REFUSE(c, "the host is longer than %d characters", HDF_HOST_MAX);
    if (h[0] == '[') {
        if (h[len - 1] != ']')
            REFUSE(c, "an IPv6 address must be closed by ']'");
        return parse_host_literal6(c, h + 1, len - 2);
    }
    if (!ends_in_number(h, len))
        return parse_host_name(c, h, len);
    size_t n = len > 0 && h[len - 1] == '.' ? len - 1 : len;
    if (ssrf_parse_ipv4(h, n, u->addr) != 0)
        REFUSE(c, "the host ends in a number but is not a valid IPv4 address");
    inet_ntop(AF_INET, u->addr, u->host, sizeof(u->host));
    u->host_kind = HDF_HOST_IPV4;
    return 0;
}

static int parse_port(st_url_ctx_t *c, const char *p, size_t len)
{
    long v = 0;
    if (len == 0 || len > 5)
        REFUSE(c, "the port must be a number from 1 to 65535");
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            REFUSE(c, "the port must be a number from 1 to 65535");
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535)
        REFUSE(c, "the port must be a number from 1 to 65535");
    c->out->port = (uint16_t)v;
    return 0;
}

/* host[:port] or [v6][:port]; userinfo was refused before. */
static int parse_authority(st_url_ctx_t *c, const char *a, size_t len)
{
    const char *colon = NULL;
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (close == NULL)
            REFUSE(c, "an IPv6 address must be closed by ']'");
        if (close + 1 < a + len && close[1] != ':')
            REFUSE(c, "only a port may follow the IPv6 address");
        colon = close + 1 < a + len ? close + 1 : NULL;
    } else {
        colon = memchr(a, ':', len);
    }
    size_t hlen = colon != NULL ? (size_t)(colon - a) : len;
    if (parse_host(c, a, hlen) != 0)
        return -1;
    if (colon != NULL)
        return parse_port(c, colon + 1, len - hlen - 1);
    c->out->port = c->out->https ? 443 : 80;
    return 0;
}

/* Characters the URL may hold at all: printable ASCII except those WHATWG would re-encode or
 * read differently (a backslash is a slash to browsers), and %XX escapes that are whole. */
static int check_chars(st_url_ctx_t *c, const char *url, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch >= 0x80)
            REFUSE(c, "the URL holds a non-ASCII byte at offset %zu: percent-encode it (IDNA hosts: use the xn-- form)", i);
        if (ch <= 0x20 || ch == 0x7f)
            REFUSE(c, "the URL holds a space or control character at offset %zu", i);
        if (strchr("\\\"<>^`{|}", ch) != NULL)
            REFUSE(c, "the URL holds '%c' at offset %zu: percent-encode it", ch, i);
        if (ch == '#')
            REFUSE(c, "webhook URLs may not have a fragment");
        if (ch == '%' && (i + 2 >= len || !isxdigit((unsigned char)url[i + 1]) || !isxdigit((unsigned char)url[i + 2])))
            REFUSE(c, "the URL holds a '%%' that does not start a %%XX escape at offset %zu", i);
    }
    return 0;
}

static int vet_literal(st_url_ctx_t *c)
{
    hdf_webhook_url_t *u = c->out;
    if (u->host_kind == HDF_HOST_NAME)
        return 0;
    hdf_addr_class_t cls = u->host_kind == HDF_HOST_IPV4 ? ssrf_classify_v4(u->addr) : ssrf_classify_v6(u->addr);
    if (ssrf_class_allowed(cls, c->flags))
        return 0;
    int flag_helps = ssrf_class_allowed(cls, c->flags | HDF_SSRF_ALLOW_PRIVATE);
    REFUSE(c, "%s is a %s address%s", u->host, ssrf_class_name(cls),
           flag_helps ? " (allowed only with HDF_WEBHOOK_ALLOW_PRIVATE)" : "");
}

static int build_canonical(st_url_ctx_t *c, const char *rest, size_t restlen)
{
    hdf_webhook_url_t *u = c->out;
    int dflt = u->port == (u->https ? 443 : 80);
    const char *lb = u->host_kind == HDF_HOST_IPV6 ? "[" : "", *rb = u->host_kind == HDF_HOST_IPV6 ? "]" : "";
    char port[8] = "";
    if (!dflt)
        snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
    int n = snprintf(u->canonical, sizeof(u->canonical), "%s://%s%s%s%s%s%.*s", u->https ? "https" : "http", lb, u->host, rb, port,
                     restlen > 0 && rest[0] == '/' ? "" : "/", (int)restlen, rest);
    if (n < 0 || (size_t)n >= sizeof(u->canonical))
        REFUSE(c, "the URL is longer than %d characters", HDF_URL_MAX);
    return 0;
}

int ssrf_parse_url(const char *url, size_t len, int flags, hdf_webhook_url_t *out, char *why, size_t whysz)
{
    st_url_ctx_t c = {flags, out, why, whysz};
    memset(out, 0, sizeof(*out));
    if (whysz > 0)
        why[0] = '\0';
    if (len > HDF_URL_MAX)
        REFUSE(&c, "the URL is longer than %d characters", HDF_URL_MAX);
    if (check_chars(&c, url, len) != 0)
        return -1;
    size_t skip;
    if (len >= 8 && strncasecmp(url, "https://", 8) == 0) {
        out->https = 1;
        skip = 8;
    } else if (len >= 7 && strncasecmp(url, "http://", 7) == 0) {
        if (!(flags & HDF_SSRF_ALLOW_HTTP))
            REFUSE(&c, "webhook URLs must use https (http only with HDF_WEBHOOK_ALLOW_HTTP)");
        skip = 7;
    } else {
        REFUSE(&c, "webhook URLs must be absolute http or https URLs");
    }
    const char *a = url + skip, *end = url + len;
    size_t alen = (size_t)(end - a);
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '/' || a[i] == '?') {
            alen = i;
            break;
        }
    if (memchr(a, '@', alen) != NULL)
        REFUSE(&c, "webhook URLs may not hold a user name or password");
    if (parse_authority(&c, a, alen) != 0 || vet_literal(&c) != 0)
        return -1;
    return build_canonical(&c, a + alen, (size_t)(end - a - alen));
}

/* ---- resolved addresses ------------------------------------------------------------------- */

static const void *sockaddr_bytes(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return &((const struct sockaddr_in *)sa)->sin_addr;
    return &((const struct sockaddr_in6 *)sa)->sin6_addr;
}

int ssrf_pick_address(const char *host, const struct addrinfo *list, uint16_t port, int flags, struct sockaddr_storage *out,
                      socklen_t *outlen, char *why, size_t whysz)
{
    size_t o = 0;
    int refused = 0;
    if (whysz > 0)
        why[0] = '\0';
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        const struct sockaddr *sa = ai->ai_addr;
        if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
            continue;
        socklen_t need = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (ai->ai_addrlen < need || ai->ai_addrlen > (socklen_t)sizeof(*out))
            continue;
        hdf_addr_class_t cls = ssrf_classify(sa, ai->ai_addrlen);
        if (ssrf_class_allowed(cls, flags)) {
            memset(out, 0, sizeof(*out));
            memcpy(out, sa, ai->ai_addrlen);
            if (sa->sa_family == AF_INET)
                ((struct sockaddr_in *)out)->sin_port = htons(port);
            else
                ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
            *outlen = ai->ai_addrlen;
            return 0;
        }
        char text[INET6_ADDRSTRLEN] = "?";
        inet_ntop(sa->sa_family, sockaddr_bytes(sa), text, sizeof(text));
        if (refused++ < 4 && o < whysz) {
            int n = snprintf(why + o, whysz - o, "%s%s (%s)", refused == 1 ? "" : ", ", text, ssrf_class_name(cls));
            o += n > 0 ? (size_t)n : 0;
        }
    }
    if (whysz == 0)
        return -1;
    char list_text[256];
    snprintf(list_text, sizeof(list_text), "%s%s", why, refused > 4 ? ", ..." : "");
    if (refused == 0)
        snprintf(why, whysz, "%s resolved to no IPv4 or IPv6 address", host);
    else
        snprintf(why, whysz, "every address of %s is refused: %s", host, list_text);
    return -1;
}

int ssrf_format_resolve(const char *host, uint16_t port, const struct sockaddr *sa, char *out, size_t outsz)
{
    char text[INET6_ADDRSTRLEN];
    if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
        inet_ntop(sa->sa_family, sockaddr_bytes(sa), text, sizeof(text)) == NULL)
        return -1;
    int v6 = sa->sa_family == AF_INET6;
    int n = snprintf(out, outsz, "%s:%u:%s%s%s", host, (unsigned)port, v6 ? "[" : "", text, v6 ? "]" : "");
    return n < 0 || (size_t)n >= outsz ? -1 : n;
}
