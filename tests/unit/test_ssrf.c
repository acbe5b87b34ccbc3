/*
 * test_ssrf.c: tests webhook/ssrf.c, table-driven: the class of every special-purpose IPv4 and
 * IPv6 range (edges included) and of the IPv6 forms that carry an IPv4 address; URLs with host
 * literals in every numeric form getaddrinfo/inet_aton accept (decimal, hex, octal, short forms,
 * bracketed IPv6 spellings), each refused or allowed per flags, and the canonical URL they vet
 * to; URL syntax refusals; picking the first allowed resolved address; CURLOPT_RESOLVE text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "webhook/ssrf.h"

typedef struct {
    const char *addr;
    hdf_addr_class_t cls;
} addr_case_t;

static const addr_case_t addr_cases[] = {
    /* IPv4 */
    {"0.0.0.0", HDF_ADDR_UNSPECIFIED},
    {"0.255.255.255", HDF_ADDR_UNSPECIFIED},
    {"1.0.0.0", HDF_ADDR_PUBLIC},
    {"1.1.1.1", HDF_ADDR_PUBLIC},
    {"8.8.8.8", HDF_ADDR_PUBLIC},
    {"9.255.255.255", HDF_ADDR_PUBLIC},
    {"10.0.0.0", HDF_ADDR_PRIVATE},
    {"10.255.255.255", HDF_ADDR_PRIVATE},
    {"11.0.0.0", HDF_ADDR_PUBLIC},
    {"100.63.255.255", HDF_ADDR_PUBLIC},
    {"100.64.0.0", HDF_ADDR_CGNAT},
    {"100.127.255.255", HDF_ADDR_CGNAT},
    {"100.128.0.0", HDF_ADDR_PUBLIC},
    {"100.100.100.200", HDF_ADDR_METADATA},
    {"100.100.100.201", HDF_ADDR_CGNAT},
    {"126.255.255.255", HDF_ADDR_PUBLIC},
    {"127.0.0.0", HDF_ADDR_LOOPBACK},
    {"127.0.0.1", HDF_ADDR_LOOPBACK},
    {"127.255.255.254", HDF_ADDR_LOOPBACK},
    {"128.0.0.0", HDF_ADDR_PUBLIC},
    {"168.63.129.16", HDF_ADDR_METADATA},
    {"168.63.129.17", HDF_ADDR_PUBLIC},
    {"169.253.255.255", HDF_ADDR_PUBLIC},
    {"169.254.0.0", HDF_ADDR_LINK_LOCAL},
    {"169.254.0.23", HDF_ADDR_METADATA},
    {"169.254.169.254", HDF_ADDR_METADATA},
    {"169.254.169.253", HDF_ADDR_LINK_LOCAL},
    {"169.254.170.2", HDF_ADDR_METADATA},
    {"169.254.170.23", HDF_ADDR_METADATA},
    {"169.254.255.255", HDF_ADDR_LINK_LOCAL},
    {"169.255.0.0", HDF_ADDR_PUBLIC},
    {"172.15.255.255", HDF_ADDR_PUBLIC},
    {"172.16.0.0", HDF_ADDR_PRIVATE},
    {"172.31.255.255", HDF_ADDR_PRIVATE},
    {"172.32.0.0", HDF_ADDR_PUBLIC},
    {"192.0.0.0", HDF_ADDR_RESERVED},
    {"192.0.0.255", HDF_ADDR_RESERVED},
    {"192.0.1.0", HDF_ADDR_PUBLIC},
    {"192.0.2.0", HDF_ADDR_DOCUMENTATION},
    {"192.0.2.255", HDF_ADDR_DOCUMENTATION},
    {"192.88.99.1", HDF_ADDR_RESERVED},
    {"192.167.255.255", HDF_ADDR_PUBLIC},
    {"192.168.0.0", HDF_ADDR_PRIVATE},
    {"192.168.255.255", HDF_ADDR_PRIVATE},
    {"192.169.0.0", HDF_ADDR_PUBLIC},
    {"198.17.255.255", HDF_ADDR_PUBLIC},
    {"198.18.0.0", HDF_ADDR_RESERVED},
    {"198.19.255.255", HDF_ADDR_RESERVED},
    {"198.20.0.0", HDF_ADDR_PUBLIC},
    {"198.51.100.7", HDF_ADDR_DOCUMENTATION},
    {"203.0.113.9", HDF_ADDR_DOCUMENTATION},
    {"203.0.114.0", HDF_ADDR_PUBLIC},
    {"223.255.255.255", HDF_ADDR_PUBLIC},
    {"224.0.0.0", HDF_ADDR_MULTICAST},
    {"239.255.255.255", HDF_ADDR_MULTICAST},
    {"240.0.0.0", HDF_ADDR_RESERVED},
    {"255.255.255.254", HDF_ADDR_RESERVED},
    {"255.255.255.255", HDF_ADDR_BROADCAST},
    /* IPv6 */
    {"::", HDF_ADDR_UNSPECIFIED},
    {"::1", HDF_ADDR_LOOPBACK},
    {"::2", HDF_ADDR_UNSPECIFIED}, /* ::0.0.0.2, compatible form of 0.0.0.2 */
    {"::7f00:1", HDF_ADDR_LOOPBACK},
    {"::127.0.0.1", HDF_ADDR_LOOPBACK},
    {"::8.8.8.8", HDF_ADDR_RESERVED}, /* compatible form of a public address: deprecated */
    {"::ffff:127.0.0.1", HDF_ADDR_LOOPBACK},
    {"::ffff:7f00:1", HDF_ADDR_LOOPBACK},
    {"0:0:0:0:0:ffff:7f00:1", HDF_ADDR_LOOPBACK},
    {"::ffff:10.1.2.3", HDF_ADDR_PRIVATE},
    {"::ffff:169.254.169.254", HDF_ADDR_METADATA},
    {"::ffff:a9fe:a9fe", HDF_ADDR_METADATA},
    {"::ffff:0.0.0.0", HDF_ADDR_UNSPECIFIED},
    {"::ffff:8.8.8.8", HDF_ADDR_PUBLIC},
    {"::ffff:0:127.0.0.1", HDF_ADDR_LOOPBACK}, /* SIIT */
    {"::ffff:0:8.8.8.8", HDF_ADDR_RESERVED},
    {"64:ff9b::127.0.0.1", HDF_ADDR_LOOPBACK},
    {"64:ff9b::a9fe:a9fe", HDF_ADDR_METADATA},
    {"64:ff9b::c0a8:101", HDF_ADDR_PRIVATE},
    {"64:ff9b::808:808", HDF_ADDR_PUBLIC},
    {"64:ff9b:1::1", HDF_ADDR_RESERVED},
    {"2002:7f00:1::", HDF_ADDR_LOOPBACK},
    {"2002:a9fe:a9fe::1", HDF_ADDR_METADATA},
    {"2002:0a00:0001::", HDF_ADDR_PRIVATE},
    {"2002:808:808::1", HDF_ADDR_PUBLIC},
    {"100::1", HDF_ADDR_RESERVED},
    {"2001::1", HDF_ADDR_RESERVED}, /* Teredo */
    {"2001:db8::1", HDF_ADDR_DOCUMENTATION},
    {"2001:db8:ffff::", HDF_ADDR_DOCUMENTATION},
    {"2001:200::1", HDF_ADDR_PUBLIC},
    {"2001:4860:4860::8888", HDF_ADDR_PUBLIC},
    {"2606:4700:4700::1111", HDF_ADDR_PUBLIC},
    {"3fff::1", HDF_ADDR_DOCUMENTATION},
    {"3ffe:ffff::1", HDF_ADDR_PUBLIC},
    {"4000::1", HDF_ADDR_RESERVED},
    {"1000::1", HDF_ADDR_RESERVED},
    {"fbff::1", HDF_ADDR_RESERVED},
    {"fc00::1", HDF_ADDR_PRIVATE},
    {"fd12:3456::1", HDF_ADDR_PRIVATE},
    {"fd00:ec2::254", HDF_ADDR_METADATA},
    {"fd00:ec2::23", HDF_ADDR_METADATA},
    {"fd00:ec2::253", HDF_ADDR_PRIVATE},
    {"fe80::1", HDF_ADDR_LINK_LOCAL},
    {"febf:ffff::1", HDF_ADDR_LINK_LOCAL},
    {"fec0::1", HDF_ADDR_PRIVATE},
    {"ff02::1", HDF_ADDR_MULTICAST},
    {"ff0e::101", HDF_ADDR_MULTICAST},
};

static struct sockaddr_storage sockaddr_of(const char *addr, socklen_t *len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        *len = sizeof(*v4);
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, &v6->sin6_addr), 1);
        v6->sin6_family = AF_INET6;
        *len = sizeof(*v6);
    }
    return ss;
}

static void test_classify_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        socklen_t len;
        struct sockaddr_storage ss = sockaddr_of(addr_cases[i].addr, &len);
        hdf_addr_class_t got = ssrf_classify((struct sockaddr *)&ss, len);
        if (got != addr_cases[i].cls)
            fail_msg("%s: %s, expected %s", addr_cases[i].addr, ssrf_class_name(got), ssrf_class_name(addr_cases[i].cls));
    }
}

static void test_classify_odd_sockaddrs(void **state)
{
    (void)state;
    socklen_t len;
    struct sockaddr_storage ss = sockaddr_of("8.8.8.8", &len);
    assert_int_equal(ssrf_classify((struct sockaddr *)&ss, len - 1), HDF_ADDR_RESERVED);
    assert_int_equal(ssrf_classify(NULL, len), HDF_ADDR_RESERVED);
    ss.ss_family = AF_UNIX;
    assert_int_equal(ssrf_classify((struct sockaddr *)&ss, sizeof(ss)), HDF_ADDR_RESERVED);
}

static void test_policy(void **state)
{
    (void)state;
    assert_true(ssrf_class_allowed(HDF_ADDR_PUBLIC, 0));
    static const hdf_addr_class_t private_like[] = {HDF_ADDR_LOOPBACK, HDF_ADDR_PRIVATE, HDF_ADDR_LINK_LOCAL, HDF_ADDR_CGNAT};
    for (size_t i = 0; i < sizeof(private_like) / sizeof(private_like[0]); i++) {
        assert_false(ssrf_class_allowed(private_like[i], 0));
        assert_false(ssrf_class_allowed(private_like[i], HDF_SSRF_ALLOW_HTTP));
        assert_true(ssrf_class_allowed(private_like[i], HDF_SSRF_ALLOW_PRIVATE));
    }
    static const hdf_addr_class_t never[] = {HDF_ADDR_METADATA,  HDF_ADDR_UNSPECIFIED,   HDF_ADDR_MULTICAST,
                                             HDF_ADDR_BROADCAST, HDF_ADDR_DOCUMENTATION, HDF_ADDR_RESERVED};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        assert_false(ssrf_class_allowed(never[i], HDF_SSRF_ALLOW_PRIVATE | HDF_SSRF_ALLOW_HTTP));
    for (int c = HDF_ADDR_PUBLIC; c <= HDF_ADDR_RESERVED; c++)
        assert_string_not_equal(ssrf_class_name((hdf_addr_class_t)c), "unknown");
    assert_string_equal(ssrf_class_name((hdf_addr_class_t)42), "unknown");
}

/* ---- IPv4 literals: what inet_aton reads ---------------------------------------------------- */

typedef struct {
    const char *text;
    const char *addr; /* dotted quad, or NULL: not an IPv4 literal */
} v4_case_t;

static const v4_case_t v4_cases[] = {
    {"127.0.0.1", "127.0.0.1"},
    {"127.1", "127.0.0.1"},
    {"127.0.1", "127.0.0.1"},
    {"2130706433", "127.0.0.1"},
    {"0x7f000001", "127.0.0.1"},
    {"0X7F000001", "127.0.0.1"},
    {"0x7f.1", "127.0.0.1"},
    {"0x7f.0x0.0x0.0x1", "127.0.0.1"},
    {"0177.0.0.1", "127.0.0.1"},
    {"0177.1", "127.0.0.1"},
    {"017700000001", "127.0.0.1"},
    {"00000177.0.0.1", "127.0.0.1"},
    {"0x0000007f.1", "127.0.0.1"},
    {"0", "0.0.0.0"},
    {"0x0", "0.0.0.0"},
    {"00", "0.0.0.0"},
    {"4294967295", "255.255.255.255"},
    {"0xffffffff", "255.255.255.255"},
    {"037777777777", "255.255.255.255"},
    {"169.254.43518", "169.254.169.254"},
    {"169.16689662", "169.254.169.254"},
    {"2852039166", "169.254.169.254"},
    {"0xa9fea9fe", "169.254.169.254"},
    {"0251.0376.0251.0376", "169.254.169.254"},
    {"10.0.65535", "10.0.255.255"},
    {"1.16777215", "1.255.255.255"},
    {"4294967296", NULL},
    {"0x100000000", NULL},
    {"040000000000", NULL},
    {"99999999999999999999999", NULL},
    {"256.0.0.1", NULL},
    {"1.256.0.1", NULL},
    {"1.2.256.1", NULL},
    {"1.2.3.256", NULL},
    {"1.2.65536", NULL},
    {"1.16777216", NULL},
    {"1.2.3.4.5", NULL},
    {"08.0.0.1", NULL},
    {"0x", NULL},
    {"0x.1", NULL},
    {"0xg", NULL},
    {"1..1", NULL},
    {".1.2.3", NULL},
    {"1.2.3.", NULL},
    {"", NULL},
    {"-1", NULL},
    {"+1", NULL},
    {" 1", NULL},
    {"1 ", NULL},
    {"1.2.3.4x", NULL},
    {"0x7f.0x100", "127.0.1.0"},
};

static void test_parse_ipv4(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(v4_cases) / sizeof(v4_cases[0]); i++) {
        uint8_t got[4];
        int rc = ssrf_parse_ipv4(v4_cases[i].text, strlen(v4_cases[i].text), got);
        if (v4_cases[i].addr == NULL) {
            if (rc != -1)
                fail_msg("\"%s\" parsed", v4_cases[i].text);
            continue;
        }
        if (rc != 0)
            fail_msg("\"%s\" refused", v4_cases[i].text);
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, got, text, sizeof(text));
        if (strcmp(text, v4_cases[i].addr) != 0)
            fail_msg("\"%s\" -> %s, expected %s", v4_cases[i].text, text, v4_cases[i].addr);
        /* and inet_aton agrees */
        struct in_addr a;
        assert_int_equal(inet_aton(v4_cases[i].text, &a), 1);
        assert_memory_equal(&a, got, 4);
    }
}

/* ---- URLs ------------------------------------------------------------------------------------ */

typedef struct {
    const char *url;
    int flags;
    const char *canonical; /* NULL: refused */
    const char *why;       /* a substring of the reason when refused */
} url_case_t;

#define P HDF_SSRF_ALLOW_PRIVATE
#define H HDF_SSRF_ALLOW_HTTP

static const url_case_t url_cases[] = {
    {"https://example.com/hook", 0, "https://example.com/hook", NULL},
    {"https://Example.COM/Hook?A=B", 0, "https://example.com/Hook?A=B", NULL},
    {"HTTPS://example.com", 0, "https://example.com/", NULL},
    {"https://example.com.", 0, "https://example.com/", NULL},
    {"https://example.com:443/x", 0, "https://example.com/x", NULL},
    {"https://example.com:8443/x", 0, "https://example.com:8443/x", NULL},
    {"https://example.com?x=1", 0, "https://example.com/?x=1", NULL},
    {"https://a_b.example.com/", 0, "https://a_b.example.com/", NULL},
    {"https://xn--bcher-kva.example/", 0, "https://xn--bcher-kva.example/", NULL},
    {"https://example.com/a%20b", 0, "https://example.com/a%20b", NULL},
    {"https://127.0.0.1.nip.io/", 0, "https://127.0.0.1.nip.io/", NULL}, /* a name: vetted after resolving */
    {"https://1.example/", 0, "https://1.example/", NULL},
    {"https://8.8.8.8/", 0, "https://8.8.8.8/", NULL},
    {"https://134744072/", 0, "https://8.8.8.8/", NULL},
    {"https://[2606:4700:4700::1111]/", 0, "https://[2606:4700:4700::1111]/", NULL},
    {"https://[2606:4700:4700:0:0:0:0:1111]:8443/", 0, "https://[2606:4700:4700::1111]:8443/", NULL},
    {"http://example.com/", 0, NULL, "https"},
    {"http://example.com/", H, "http://example.com/", NULL},
    {"http://example.com:80/", H, "http://example.com/", NULL},
    {"http://example.com:443/", H, "http://example.com:443/", NULL},
    /* numeric tricks that are loopback */
    {"https://127.0.0.1/", 0, NULL, "loopback"},
    {"https://127.0.0.1/", P, "https://127.0.0.1/", NULL},
    {"http://127.0.0.1:8080/hook", P | H, "http://127.0.0.1:8080/hook", NULL},
    {"https://127.1/", 0, NULL, "127.0.0.1 is a loopback"},
    {"https://127.1/", P, "https://127.0.0.1/", NULL},
    {"https://2130706433/", 0, NULL, "loopback"},
    {"https://2130706433/", P, "https://127.0.0.1/", NULL},
    {"https://0x7f.1/", 0, NULL, "loopback"},
    {"https://0x7f.1/", P, "https://127.0.0.1/", NULL},
    {"https://0x7f000001/", 0, NULL, "loopback"},
    {"https://0177.0.0.1/", 0, NULL, "loopback"},
    {"https://0177.0.0.1/", P, "https://127.0.0.1/", NULL},
    {"https://0177.1/", 0, NULL, "loopback"},
    {"https://127.0.0.1./", 0, NULL, "loopback"},
    {"https://[::1]/", 0, NULL, "loopback"},
    {"https://[::1]/", P, "https://[::1]/", NULL},
    {"https://[::ffff:127.0.0.1]/", 0, NULL, "loopback"},
    {"https://[::ffff:127.0.0.1]/", P, "https://[::ffff:127.0.0.1]/", NULL},
    {"https://[::ffff:7f00:1]/", 0, NULL, "loopback"},
    {"https://[0:0:0:0:0:ffff:7f00:1]/", 0, NULL, "loopback"},
    {"https://[::127.0.0.1]/", 0, NULL, "loopback"},
    {"https://[2002:7f00:1::1]/", 0, NULL, "loopback"},
    {"https://[64:ff9b::7f00:1]/", 0, NULL, "loopback"},
    /* metadata: refused even with ALLOW_PRIVATE */
    {"https://169.254.169.254/latest/meta-data/", P, NULL, "cloud metadata"},
    {"http://169.254.169.254/", P | H, NULL, "cloud metadata"},
    {"https://2852039166/", P, NULL, "cloud metadata"},
    {"https://0xa9fea9fe/", P, NULL, "cloud metadata"},
    {"https://0251.0376.0251.0376/", P, NULL, "cloud metadata"},
    {"https://169.254.43518/", P, NULL, "cloud metadata"},
    {"https://[64:ff9b::a9fe:a9fe]/", P, NULL, "cloud metadata"},
    {"https://[::ffff:169.254.169.254]/", P, NULL, "cloud metadata"},
    {"https://[::ffff:a9fe:a9fe]/", P, NULL, "cloud metadata"},
    {"https://[2002:a9fe:a9fe::]/", P, NULL, "cloud metadata"},
    {"https://[fd00:ec2::254]/", P, NULL, "cloud metadata"},
    {"https://100.100.100.200/", P, NULL, "cloud metadata"},
    {"https://169.254.170.2/v2/credentials", P, NULL, "cloud metadata"},
    /* other classes */
    {"https://10.0.0.1/", 0, NULL, "private address (allowed only with HDF_WEBHOOK_ALLOW_PRIVATE)"},
    {"https://10.1/", 0, NULL, "10.0.0.1 is a private"},
    {"https://172.16.0.1/", 0, NULL, "private"},
    {"https://192.168.1.1/", 0, NULL, "private"},
    {"https://0xc0a80101/", 0, NULL, "192.168.1.1 is a private"},
    {"https://[fd12::1]/", 0, NULL, "private"},
    {"https://169.254.1.1/", 0, NULL, "link-local"},
    {"https://169.254.1.1/", P, "https://169.254.1.1/", NULL},
    {"https://[fe80::1]/", 0, NULL, "link-local"},
    {"https://100.64.0.1/", 0, NULL, "CGNAT"},
    {"https://0.0.0.0/", P, NULL, "unspecified"},
    {"https://0/", P, NULL, "unspecified"},
    {"https://[::]/", P, NULL, "unspecified"},
    {"https://224.0.0.1/", P, NULL, "multicast"},
    {"https://[ff02::1]/", P, NULL, "multicast"},
    {"https://255.255.255.255/", P, NULL, "broadcast"},
    {"https://4294967295/", P, NULL, "broadcast"},
    {"https://192.0.2.1/", P, NULL, "documentation"},
    {"https://[2001:db8::1]/", P, NULL, "documentation"},
    {"https://240.0.0.1/", P, NULL, "reserved"},
    {"https://198.18.0.1/", P, NULL, "reserved"},
    {"https://[2001::1]/", P, NULL, "reserved"},
    /* hosts that end in a number but are no address */
    {"https://256.0.0.1/", 0, NULL, "ends in a number"},
    {"https://1.2.3.4.5/", 0, NULL, "ends in a number"},
    {"https://4294967296/", 0, NULL, "ends in a number"},
    {"https://08.0.0.1/", 0, NULL, "ends in a number"},
    {"https://0x7g.1/", 0, NULL, "ends in a number"},
    {"https://example.123/", 0, NULL, "ends in a number"},
    {"https://example.0x1/", 0, NULL, "ends in a number"},
    /* syntax */
    {"ftp://example.com/", P | H, NULL, "absolute http or https"},
    {"//example.com/", 0, NULL, "absolute"},
    {"example.com", 0, NULL, "absolute"},
    {"https:/example.com", 0, NULL, "absolute"},
    {"javascript:alert(1)", 0, NULL, "absolute"},
    {"https://", 0, NULL, "no host"},
    {"https:///x", 0, NULL, "no host"},
    {"https://:443/", 0, NULL, "no host"},
    {"https://user@example.com/", 0, NULL, "user name"},
    {"https://user:pw@example.com/", 0, NULL, "user name"},
    {"https://example.com@127.0.0.1/", P, NULL, "user name"},
    {"https://example.com:0/", 0, NULL, "port"},
    {"https://example.com:65536/", 0, NULL, "port"},
    {"https://example.com:123456/", 0, NULL, "port"},
    {"https://example.com:/", 0, NULL, "port"},
    {"https://example.com:-1/", 0, NULL, "port"},
    {"https://example.com:80x/", 0, NULL, "port"},
    {"https://example.com:65535/", 0, "https://example.com:65535/", NULL},
    {"https://example.com/#frag", 0, NULL, "fragment"},
    {"https://example.com/a b", 0, NULL, "space"},
    {"https://example.com/a\tb", 0, NULL, "control"},
    {"https://example.com/\r\nHost: x", 0, NULL, "control"},
    {"https://example.com\\@127.0.0.1/", P, NULL, "'\\'"},
    {"https://example.com/a\"b", 0, NULL, "percent-encode"},
    {"https://example.com/%zz", 0, NULL, "%XX"},
    {"https://example.com/%2", 0, NULL, "%XX"},
    {"https://ex%61mple.com/", 0, NULL, "percent-encoded host"},
    {"https://b\xc3\xbc"
     "cher.example/",
     0, NULL, "non-ASCII"},
    {"https://example.com/\xc3\xa9", 0, NULL, "non-ASCII"},
    {"https://-example.com/", 0, NULL, "'-'"},
    {"https://example-.com/", 0, NULL, "'-'"},
    {"https://exa!mple.com/", 0, NULL, "ASCII letters"},
    {"https://example..com/", 0, NULL, "1 to 63"},
    {"https://.example.com/", 0, NULL, "1 to 63"},
    {"https://[::1/", P, NULL, "closed"},
    {"https://[::1]x/", P, NULL, "only a port"},
    {"https://[::1]:99999/", P, NULL, "port"},
    {"https://[fe80::1%25eth0]/", P, NULL, "zone"},
    {"https://[127.0.0.1]/", P, NULL, "IPv6 address in brackets is not valid"},
    {"https://[v1.x]/", P, NULL, "not valid"},
    {"https://[]/", P, NULL, "not valid"},
    {"https://[::1]:8443/", P, "https://[::1]:8443/", NULL},
};

static void test_url_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const url_case_t *c = &url_cases[i];
        hdf_webhook_url_t u;
        char why[256];
        int rc = ssrf_parse_url(c->url, strlen(c->url), c->flags, &u, why, sizeof(why));
        if (c->canonical != NULL) {
            if (rc != 0)
                fail_msg("%s refused: %s", c->url, why);
            if (strcmp(u.canonical, c->canonical) != 0)
                fail_msg("%s -> %s, expected %s", c->url, u.canonical, c->canonical);
        } else {
            if (rc != -1)
                fail_msg("%s accepted as %s", c->url, u.canonical);
            if (strstr(why, c->why) == NULL)
                fail_msg("%s: reason \"%s\" lacks \"%s\"", c->url, why, c->why);
        }
    }
}

static void test_url_fields(void **state)
{
    (void)state;
    hdf_webhook_url_t u;
    char why[256];
    const char *url = "https://0x7f.1:8443/x";
    assert_int_equal(ssrf_parse_url(url, strlen(url), P, &u, why, sizeof(why)), 0);
    assert_int_equal(u.https, 1);
    assert_int_equal(u.host_kind, HDF_HOST_IPV4);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8443);
    assert_memory_equal(u.addr, "\x7f\0\0\1", 4);
    url = "http://Example.com/";
    assert_int_equal(ssrf_parse_url(url, strlen(url), H, &u, why, sizeof(why)), 0);
    assert_int_equal(u.https, 0);
    assert_int_equal(u.host_kind, HDF_HOST_NAME);
    assert_string_equal(u.host, "example.com");
    assert_int_equal(u.port, 80);
    url = "https://[::ffff:7f00:1]/";
    assert_int_equal(ssrf_parse_url(url, strlen(url), P, &u, why, sizeof(why)), 0);
    assert_int_equal(u.host_kind, HDF_HOST_IPV6);
    assert_string_equal(u.host, "::ffff:127.0.0.1");
    /* the length bounds the parse: no NUL needed, nothing read past it */
    url = "https://example.com/abc";
    assert_int_equal(ssrf_parse_url(url, 19, 0, &u, why, sizeof(why)), 0);
    assert_string_equal(u.canonical, "https://example.com/");
    /* an embedded NUL is a control character */
    assert_int_equal(ssrf_parse_url("https://example.com/\0x", 22, 0, &u, why, sizeof(why)), -1);
}

static void test_url_lengths(void **state)
{
    (void)state;
    static char url[HDF_URL_MAX + 16];
    hdf_webhook_url_t u;
    char why[256];
    size_t pre = strlen("https://example.com/");
    memcpy(url, "https://example.com/", pre);
    memset(url + pre, 'a', HDF_URL_MAX - pre);
    assert_int_equal(ssrf_parse_url(url, HDF_URL_MAX, 0, &u, why, sizeof(why)), 0);
    assert_int_equal(strlen(u.canonical), HDF_URL_MAX);
    memset(url + pre, 'a', HDF_URL_MAX + 1 - pre);
    assert_int_equal(ssrf_parse_url(url, HDF_URL_MAX + 1, 0, &u, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "longer"));
    /* "1.1" is 3 characters but 1.0.0.1 is 7: a URL at the limit can grow past it */
    snprintf(url, sizeof(url), "https://1.1/");
    memset(url + 12, 'a', HDF_URL_MAX - 12);
    assert_int_equal(ssrf_parse_url(url, HDF_URL_MAX, 0, &u, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "longer"));
    /* host name: 253 characters at most, labels 63 */
    char host[300];
    memset(host, 'a', sizeof(host));
    for (int i = 63; i < (int)sizeof(host); i += 64)
        host[i] = '.';
    snprintf(url, sizeof(url), "https://%.253s/", host);
    assert_int_equal(ssrf_parse_url(url, strlen(url), 0, &u, why, sizeof(why)), 0);
    snprintf(url, sizeof(url), "https://%.254s/", host);
    assert_int_equal(ssrf_parse_url(url, strlen(url), 0, &u, why, sizeof(why)), -1);
    snprintf(url, sizeof(url), "https://%.64s.com/", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(ssrf_parse_url(url, strlen(url), 0, &u, why, sizeof(why)), -1);
    /* numeric literals too: 255 characters of zeros are 0.0.0.0 to inet_aton, but too long for a host */
    memset(url, '0', sizeof(url));
    memcpy(url, "https://", 8);
    assert_int_equal(ssrf_parse_url(url, 8 + 255, P, &u, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "longer than 253"));
    memcpy(url + 8 + 240, "0177.0.0.1", 10);
    assert_int_equal(ssrf_parse_url(url, 8 + 250, P, &u, why, sizeof(why)), 0);
    assert_string_equal(u.canonical, "https://127.0.0.1/");
    /* a tiny or absent reason buffer is fine */
    assert_int_equal(ssrf_parse_url("ftp://x", 7, 0, &u, why, 1), -1);
    assert_string_equal(why, "");
    assert_int_equal(ssrf_parse_url("ftp://x", 7, 0, &u, NULL, 0), -1);
}

/* ---- resolved addresses ------------------------------------------------------------------ */

typedef struct {
    struct addrinfo ai[6];
    struct sockaddr_storage ss[6];
} ai_list_t;

static void ai_build(ai_list_t *l, const char *const *addrs, int n)
{
    memset(l, 0, sizeof(*l));
    for (int i = 0; i < n; i++) {
        socklen_t len;
        l->ss[i] = sockaddr_of(addrs[i], &len);
        l->ai[i].ai_family = l->ss[i].ss_family;
        l->ai[i].ai_addr = (struct sockaddr *)&l->ss[i];
        l->ai[i].ai_addrlen = len;
        l->ai[i].ai_next = i + 1 < n ? &l->ai[i + 1] : NULL;
    }
}

static void test_pick_address(void **state)
{
    (void)state;
    ai_list_t l;
    struct sockaddr_storage out;
    socklen_t outlen = 0;
    char why[256];
    const char *mixed[] = {"127.0.0.1", "::1", "10.0.0.1", "93.184.216.34", "2606:2800:220:1::1"};
    ai_build(&l, mixed, 5);
    assert_int_equal(ssrf_pick_address("example.com", l.ai, 443, 0, &out, &outlen, why, sizeof(why)), 0);
    assert_int_equal(out.ss_family, AF_INET);
    assert_int_equal(outlen, sizeof(struct sockaddr_in));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out;
    assert_int_equal(ntohs(v4->sin_port), 443);
    assert_int_equal(v4->sin_addr.s_addr, inet_addr("93.184.216.34"));
    char resolve[128];
    assert_int_equal(ssrf_format_resolve("example.com", 443, (struct sockaddr *)&out, resolve, sizeof(resolve)), 29);
    assert_string_equal(resolve, "example.com:443:93.184.216.34");
    /* with ALLOW_PRIVATE the first one is taken */
    assert_int_equal(ssrf_pick_address("example.com", l.ai, 8080, P, &out, &outlen, why, sizeof(why)), 0);
    assert_int_equal(v4->sin_addr.s_addr, inet_addr("127.0.0.1"));
    assert_int_equal(ntohs(v4->sin_port), 8080);

    const char *bad[] = {"127.0.0.1", "::ffff:169.254.169.254", "10.0.0.1", "::1", "fe80::1", "192.168.0.1"};
    ai_build(&l, bad, 6);
    assert_int_equal(ssrf_pick_address("evil.example", l.ai, 443, 0, &out, &outlen, why, sizeof(why)), -1);
    assert_string_equal(why, "every address of evil.example is refused: 127.0.0.1 (loopback), ::ffff:169.254.169.254 (cloud "
                             "metadata), 10.0.0.1 (private), ::1 (loopback), ...");
    /* ALLOW_PRIVATE skips the metadata address */
    const char *meta[] = {"169.254.169.254", "fd00:ec2::254", "10.0.0.1"};
    ai_build(&l, meta, 3);
    assert_int_equal(ssrf_pick_address("m.example", l.ai, 443, P, &out, &outlen, why, sizeof(why)), 0);
    assert_int_equal(v4->sin_addr.s_addr, inet_addr("10.0.0.1"));
    ai_build(&l, meta, 2);
    assert_int_equal(ssrf_pick_address("m.example", l.ai, 443, P, &out, &outlen, why, sizeof(why)), -1);
    assert_string_equal(why,
                        "every address of m.example is refused: 169.254.169.254 (cloud metadata), fd00:ec2::254 (cloud metadata)");

    const char *v6[] = {"2606:4700:4700::1111"};
    ai_build(&l, v6, 1);
    assert_int_equal(ssrf_pick_address("one.example", l.ai, 8443, 0, &out, &outlen, why, sizeof(why)), 0);
    assert_int_equal(outlen, sizeof(struct sockaddr_in6));
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&out)->sin6_port), 8443);
    assert_true(ssrf_format_resolve("one.example", 8443, (struct sockaddr *)&out, resolve, sizeof(resolve)) > 0);
    assert_string_equal(resolve, "one.example:8443:[2606:4700:4700::1111]");
    assert_int_equal(ssrf_format_resolve("one.example", 8443, (struct sockaddr *)&out, resolve, 10), -1);

    /* nothing usable */
    assert_int_equal(ssrf_pick_address("none.example", NULL, 443, P, &out, &outlen, why, sizeof(why)), -1);
    assert_string_equal(why, "none.example resolved to no IPv4 or IPv6 address");
    ai_build(&l, v6, 1);
    l.ss[0].ss_family = AF_UNIX;
    assert_int_equal(ssrf_pick_address("u.example", l.ai, 443, P, &out, &outlen, why, sizeof(why)), -1);
    assert_int_equal(ssrf_format_resolve("u.example", 1, (struct sockaddr *)&l.ss[0], resolve, sizeof(resolve)), -1);
    ai_build(&l, v6, 1);
    l.ai[0].ai_addrlen = sizeof(struct sockaddr_in); /* short for AF_INET6 */
    assert_int_equal(ssrf_pick_address("s.example", l.ai, 443, P, &out, &outlen, why, sizeof(why)), -1);
    assert_int_equal(ssrf_pick_address("s.example", l.ai, 443, P, &out, &outlen, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table), cmocka_unit_test(test_classify_odd_sockaddrs),
        cmocka_unit_test(test_policy),         cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_url_table),      cmocka_unit_test(test_url_fields),
        cmocka_unit_test(test_url_lengths),    cmocka_unit_test(test_pick_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
