/*
 * test_cidr.c: tests common/cidr.c: parsing IPv4/IPv6 networks and bare addresses, prefix
 * bounds, matching peers (including IPv4-mapped IPv6 peers against IPv4 networks and /0), and
 * Postgres's text form of cidr[].
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "common/cidr.h"

static int parse(const char *s, hdf_cidr_t *c)
{
    return cidr_parse(s, strlen(s), c);
}

static struct sockaddr_storage peer(const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, &v6->sin6_addr), 1);
        v6->sin6_family = AF_INET6;
    }
    return ss;
}

static int contains(const char *net, const char *addr)
{
    hdf_cidr_t c;
    assert_int_equal(parse(net, &c), 0);
    struct sockaddr_storage ss = peer(addr);
    return cidr_contains(&c, (const struct sockaddr *)&ss);
}

static void test_parse_v4(void **state)
{
    (void)state;
    hdf_cidr_t c;
    assert_int_equal(parse("10.0.0.0/8", &c), 0);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 8);
    assert_int_equal(c.addr[0], 10);
    assert_int_equal(parse("192.168.1.7", &c), 0); /* bare: full prefix */
    assert_int_equal(c.prefix, 32);
    assert_int_equal(parse("0.0.0.0/0", &c), 0);
    assert_int_equal(c.prefix, 0);
    assert_int_equal(parse("1.2.3.4/32", &c), 0);
    assert_int_equal(c.prefix, 32);
}

static void test_parse_v6(void **state)
{
    (void)state;
    hdf_cidr_t c;
    assert_int_equal(parse("::1/128", &c), 0);
    assert_int_equal(c.family, AF_INET6);
    assert_int_equal(c.prefix, 128);
    assert_int_equal(c.addr[15], 1);
    assert_int_equal(parse("2001:db8::/32", &c), 0);
    assert_int_equal(c.prefix, 32);
    assert_int_equal(parse("fe80::1", &c), 0);
    assert_int_equal(c.prefix, 128);
    assert_int_equal(parse("::/0", &c), 0);
    assert_int_equal(c.prefix, 0);
    assert_int_equal(parse("::ffff:10.0.0.0/104", &c), 0);
    assert_int_equal(c.family, AF_INET6);
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "10.0.0.0/33",  "::1/129",        "10.0.0.0/-1",
        "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/x",     "10.0.0.0/8x",
        "10.0.0",    "10.0.0.256",   "host.example",   "/8",
        "1.2.3.4.5", ":::1",         "2001:db8::g/32", "0123456789012345678901234567890123456789012345678901234567890123456789"};
    hdf_cidr_t c;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &c), -1);
    /* only len bytes are read */
    assert_int_equal(cidr_parse("10.0.0.0/8junk", 10, &c), 0);
    assert_int_equal(c.prefix, 8);
}

static void test_contains_v4(void **state)
{
    (void)state;
    assert_true(contains("10.0.0.0/8", "10.1.2.3"));
    assert_true(contains("10.0.0.0/8", "10.255.255.255"));
    assert_false(contains("10.0.0.0/8", "11.0.0.0"));
    assert_false(contains("10.0.0.0/8", "9.255.255.255"));
    assert_true(contains("192.168.1.128/25", "192.168.1.200"));
    assert_false(contains("192.168.1.128/25", "192.168.1.127"));
    assert_true(contains("172.16.0.0/12", "172.31.255.1"));
    assert_false(contains("172.16.0.0/12", "172.32.0.1"));
    assert_true(contains("1.2.3.4", "1.2.3.4"));
    assert_false(contains("1.2.3.4", "1.2.3.5"));
    assert_true(contains("0.0.0.0/0", "203.0.113.9"));
    /* host bits set in the network: the prefix still decides */
    assert_true(contains("10.9.9.9/8", "10.0.0.1"));
}

static void test_contains_v6(void **state)
{
    (void)state;
    assert_true(contains("::1/128", "::1"));
    assert_false(contains("::1/128", "::2"));
    assert_true(contains("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(contains("2001:db8::/32", "2001:db9::1"));
    assert_true(contains("2001:db8::/33", "2001:db8:7fff::1"));
    assert_false(contains("2001:db8::/33", "2001:db8:8000::1"));
    assert_true(contains("::/0", "2001:db8::1"));
}

static void test_families_do_not_mix(void **state)
{
    (void)state;
    assert_false(contains("::/0", "10.0.0.1"));     /* v4 peer, v6 net */
    assert_false(contains("::1/128", "127.0.0.1")); /* not the same loopback */
    assert_false(contains("0.0.0.0/0", "::1"));     /* v6 peer (not mapped), v4 net */
    assert_false(contains("0.0.0.0/0", "2001:db8::1"));
}

static void test_v4_mapped_peer(void **state)
{
    (void)state;
    assert_true(contains("10.0.0.0/8", "::ffff:10.0.0.1"));
    assert_false(contains("10.0.0.0/8", "::ffff:11.0.0.1"));
    assert_true(contains("127.0.0.1", "::ffff:127.0.0.1"));
    assert_true(contains("0.0.0.0/0", "::ffff:1.2.3.4"));
    /* not mapped (IPv4-compatible ::10.0.0.1 and NAT64 64:ff9b::) */
    assert_false(contains("10.0.0.0/8", "::10.0.0.1"));
    assert_false(contains("10.0.0.0/8", "64:ff9b::10.0.0.1"));
    /* a v6 net written in mapped form still matches the mapped peer as v6 */
    assert_true(contains("::ffff:10.0.0.0/104", "::ffff:10.1.1.1"));
}

static void test_unknown_family(void **state)
{
    (void)state;
    hdf_cidr_t c;
    assert_int_equal(parse("0.0.0.0/0", &c), 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    assert_false(cidr_contains(&c, (const struct sockaddr *)&ss));
}

static void test_any_contains(void **state)
{
    (void)state;
    hdf_cidr_t nets[3];
    assert_int_equal(cidr_parse_pg_array("{10.0.0.0/8,192.168.0.0/16,::1/128}", nets, 3), 3);
    struct sockaddr_storage a = peer("192.168.3.4"), b = peer("::1"), c = peer("8.8.8.8");
    assert_true(cidr_any_contains(nets, 3, (const struct sockaddr *)&a));
    assert_true(cidr_any_contains(nets, 3, (const struct sockaddr *)&b));
    assert_false(cidr_any_contains(nets, 3, (const struct sockaddr *)&c));
    assert_false(cidr_any_contains(nets, 0, (const struct sockaddr *)&a));
    assert_false(cidr_any_contains(nets, 1, (const struct sockaddr *)&a)); /* only the first */
}

static void test_pg_array(void **state)
{
    (void)state;
    hdf_cidr_t nets[4];
    assert_int_equal(cidr_parse_pg_array("{}", nets, 4), 0);
    assert_int_equal(cidr_parse_pg_array("{10.0.0.0/8}", nets, 4), 1);
    assert_int_equal(nets[0].prefix, 8);
    assert_int_equal(cidr_parse_pg_array("{10.0.0.0/8,::1/128}", nets, 4), 2);
    assert_int_equal(nets[1].family, AF_INET6);
    assert_int_equal(cidr_parse_pg_array("{1.1.1.1/32,2.2.2.2/32,3.3.3.3/32,4.4.4.4/32}", nets, 4), 4);
    assert_int_equal(nets[3].addr[0], 4);
}

static void test_pg_array_malformed(void **state)
{
    (void)state;
    hdf_cidr_t nets[2];
    static const char *const bad[] = {"",
                                      "{",
                                      "}",
                                      "10.0.0.0/8",
                                      "{10.0.0.0/8",
                                      "10.0.0.0/8}",
                                      "{,}",
                                      "{,10.0.0.0/8}",
                                      "{10.0.0.0/8,,::1/128}",
                                      "{bogus}",
                                      "{10.0.0.0/33}",
                                      "{10.0.0.0/8,bogus}",
                                      "{ 10.0.0.0/8}",
                                      "{\"10.0.0.0/8\"}",
                                      "{1.1.1.1,2.2.2.2,3.3.3.3}", /* more than max */
                                      "NULL"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cidr_parse_pg_array(bad[i], nets, 2) != -1)
            fail_msg("accepted malformed cidr[] text %s", bad[i]);
}

/* A trailing comma leaves an empty last element: malformed, like an empty first one. */
static void test_pg_array_trailing_comma(void **state)
{
    (void)state;
    hdf_cidr_t nets[2];
    assert_int_equal(cidr_parse_pg_array("{10.0.0.0/8,}", nets, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),           cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_parse_invalid),      cmocka_unit_test(test_contains_v4),
        cmocka_unit_test(test_contains_v6),        cmocka_unit_test(test_families_do_not_mix),
        cmocka_unit_test(test_v4_mapped_peer),     cmocka_unit_test(test_unknown_family),
        cmocka_unit_test(test_any_contains),       cmocka_unit_test(test_pg_array),
        cmocka_unit_test(test_pg_array_malformed), cmocka_unit_test(test_pg_array_trailing_comma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
