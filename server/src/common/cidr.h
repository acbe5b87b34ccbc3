/*
 * cidr.h: IPv4/IPv6 network parsing and matching for api_keys.allowed_cidrs. Pure: no libpq.
 * An IPv4-mapped IPv6 peer (::ffff:10.0.0.1) is matched as the IPv4 address it carries.
 */
#ifndef HDF_CIDR_H
#define HDF_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct hdf_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int prefix;
} hdf_cidr_t;

/* "10.0.0.0/8", "::1/128", or a bare address (full prefix). 0 on success. */
int cidr_parse(const char *s, size_t len, hdf_cidr_t *out);
/* Parses Postgres's text form of cidr[] ("{10.0.0.0/8,::1/128}"). Returns the count, -1 if malformed;
 * at most max are stored (more is malformed). */
int cidr_parse_pg_array(const char *s, hdf_cidr_t *out, int max);
/* Whether the first bits bits of a and b are equal. */
int cidr_prefix_equal(const uint8_t *a, const uint8_t *b, int bits);
int cidr_contains(const hdf_cidr_t *net, const struct sockaddr *sa);
int cidr_any_contains(const hdf_cidr_t *nets, int n, const struct sockaddr *sa);

#endif
