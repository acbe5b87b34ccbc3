/*
 * ssrf.h: what a webhook may be sent to. Three steps, all pure:
 *
 *  1. ssrf_parse_url: a strict parse of an absolute http(s) URL into a canonical form. Host
 *     literals are read the way the resolver reads them (inet_aton's "127.1", "0x7f.1",
 *     "2130706433", "0177.0.0.1" are all 127.0.0.1), so the canonical URL names the address a
 *     connect would reach; a host ending in a number that is not a valid IPv4 literal is refused.
 *  2. ssrf_classify: the class of a resolved address (loopback, private, metadata, ...), IPv6
 *     forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) judged by that address.
 *  3. ssrf_pick_address: given every address the name resolved to, the first allowed one, or why
 *     none is. The sender then connects to exactly that address (CURLOPT_RESOLVE /
 *     CURLOPT_CONNECT_TO with ssrf_format_resolve), so a second DNS answer cannot move it.
 *
 * Policy (ssrf_class_allowed): public addresses are allowed; loopback, private (RFC 1918, ULA,
 * site-local), link-local and shared CGNAT space only with HDF_SSRF_ALLOW_PRIVATE; cloud metadata
 * endpoints, unspecified, multicast, broadcast, documentation and other reserved space never.
 */
#ifndef HDF_WEBHOOK_SSRF_H
#define HDF_WEBHOOK_SSRF_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HDF_URL_MAX 2048
#define HDF_HOST_MAX 253

/* flags */
#define HDF_SSRF_ALLOW_HTTP 1    /* HDF_WEBHOOK_ALLOW_HTTP */
#define HDF_SSRF_ALLOW_PRIVATE 2 /* HDF_WEBHOOK_ALLOW_PRIVATE */

typedef enum hdf_addr_class {
    HDF_ADDR_PUBLIC = 0,
    HDF_ADDR_LOOPBACK,      /* 127/8, ::1 */
    HDF_ADDR_PRIVATE,       /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
    HDF_ADDR_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    HDF_ADDR_CGNAT,         /* 100.64/10 (RFC 6598 shared address space) */
    HDF_ADDR_METADATA,      /* cloud instance metadata endpoints: see ssrf.c */
    HDF_ADDR_UNSPECIFIED,   /* 0/8, :: (a connect to 0.0.0.0 reaches this host) */
    HDF_ADDR_MULTICAST,     /* 224/4, ff00::/8 */
    HDF_ADDR_BROADCAST,     /* 255.255.255.255 */
    HDF_ADDR_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20 */
    HDF_ADDR_RESERVED,      /* everything else that is not global unicast (see ssrf.c) */
} hdf_addr_class_t;

/* "loopback", "private", ... */
const char *ssrf_class_name(hdf_addr_class_t c);
int ssrf_class_allowed(hdf_addr_class_t c, int flags);

/* addr in network byte order (as in struct in_addr / in6_addr). */
hdf_addr_class_t ssrf_classify_v4(const uint8_t addr[4]);
hdf_addr_class_t ssrf_classify_v6(const uint8_t addr[16]);
/* AF_INET / AF_INET6; any other family (or a short len) is HDF_ADDR_RESERVED. */
hdf_addr_class_t ssrf_classify(const struct sockaddr *sa, socklen_t len);

/* An IPv4 literal exactly as glibc's inet_aton reads one (1 to 4 parts, each decimal, octal with a
 * leading 0 or hex with 0x, the last part filling the remaining bytes), minus the trailing
 * whitespace inet_aton tolerates. 0 and the address (network order), or -1. */
int ssrf_parse_ipv4(const char *s, size_t len, uint8_t out[4]);

typedef enum hdf_host_kind { HDF_HOST_NAME = 0, HDF_HOST_IPV4, HDF_HOST_IPV6 } hdf_host_kind_t;

typedef struct hdf_webhook_url {
    int https;
    hdf_host_kind_t host_kind;
    /* lowercase name without a trailing dot, dotted-quad IPv4, or IPv6 as inet_ntop writes it (no brackets) */
    char host[HDF_HOST_MAX + 1];
    uint16_t port;    /* the explicit port, or 443 / 80 */
    uint8_t addr[16]; /* the literal's address (4 or 16 bytes) when host_kind is not HDF_HOST_NAME */
    /* scheme://host[:port]/path?query with the canonical host; what the sender should request */
    char canonical[HDF_URL_MAX + 1];
} hdf_webhook_url_t;

/* Parses and vets url (len bytes, no NUL needed). Refused: anything but http/https (http only with
 * HDF_SSRF_ALLOW_HTTP), userinfo, a missing or over-long host, non-ASCII hosts (IDNA is not done:
 * use the xn-- form), percent-encoded hosts, ports outside 1..65535, fragments, backslashes,
 * control characters, spaces and non-ASCII bytes anywhere, longer than HDF_URL_MAX; and a literal
 * host whose address class the flags do not allow. Returns 0, or -1 with a reason in why. */
int ssrf_parse_url(const char *url, size_t len, int flags, hdf_webhook_url_t *out, char *why, size_t whysz);

/* The first AF_INET/AF_INET6 address in list (getaddrinfo's answer for host) that the flags allow,
 * copied to out (its port set to port). Returns 0, or -1 with a reason naming each refused address
 * (at most a few) in why. */
int ssrf_pick_address(const char *host, const struct addrinfo *list, uint16_t port, int flags, struct sockaddr_storage *out,
                      socklen_t *outlen, char *why, size_t whysz);

/* "host:port:address" for CURLOPT_RESOLVE (IPv6 addresses in brackets). Returns the length, or -1
 * when out is too small or the family is not AF_INET/AF_INET6. */
int ssrf_format_resolve(const char *host, uint16_t port, const struct sockaddr *sa, char *out, size_t outsz);

#endif
