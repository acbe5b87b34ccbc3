/*
 * test_util.c: tests common/util.c: hex encoding, RFC 3339 millisecond formatting (negative
 * times, no rounding of milliseconds), parsing of Postgres timestamptz text, X-Request-Id sanity
 * and generation, strict UTF-8 validation, counting and truncation, and parse_id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "common/util.h"

/* ---- hex ---------------------------------------------------------------------------------- */

static void test_hex_round_trip(void **state)
{
    (void)state;
    const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof(in) + 1];
    hex_encode(in, sizeof(in), hex);
    assert_string_equal(hex, "00017f80abff");
    unsigned char out[sizeof(in)];
    assert_int_equal(hex_decode(hex, strlen(hex), out, sizeof(out)), (int)sizeof(in));
    assert_memory_equal(in, out, sizeof(in));
}

static void test_hex_decode_uppercase_and_empty(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(hex_decode("ABcdEF", 6, out, sizeof(out)), 3);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    assert_int_equal(out[2], 0xef);
    assert_int_equal(hex_decode("", 0, out, sizeof(out)), 0);
    char empty[1];
    hex_encode((const unsigned char *)"", 0, empty);
    assert_string_equal(empty, "");
}

static void test_hex_decode_errors(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(hex_decode("abc", 3, out, sizeof(out)), -1);         /* odd length */
    assert_int_equal(hex_decode("zz", 2, out, sizeof(out)), -1);          /* not hex */
    assert_int_equal(hex_decode("0g", 2, out, sizeof(out)), -1);          /* low nibble bad */
    assert_int_equal(hex_decode("0 ", 2, out, sizeof(out)), -1);          /* space */
    assert_int_equal(hex_decode("0011223344", 10, out, sizeof(out)), -1); /* 5 bytes into 4 */
    assert_int_equal(hex_decode("00112233", 8, out, sizeof(out)), 4);     /* exactly fits */
}

/* ---- time --------------------------------------------------------------------------------- */

static void check_time(int64_t ms, const char *expect)
{
    char buf[HDF_TIME_BUFSZ];
    memset(buf, 'X', sizeof(buf));
    time_format_ms(ms, buf);
    assert_string_equal(buf, expect);
    assert_int_equal(strlen(buf), HDF_TIME_BUFSZ - 1);
}

static void test_time_format(void **state)
{
    (void)state;
    check_time(0, "1970-01-01T00:00:00.000Z");
    check_time(1795508130123, "2026-11-24T08:15:30.123Z");
    check_time(951868799999, "2000-02-29T23:59:59.999Z");
    check_time(253402300799999, "9999-12-31T23:59:59.999Z");
}

/* Milliseconds are printed as given, never rounded up into the next second. */
static void test_time_format_ms_not_rounded(void **state)
{
    (void)state;
    check_time(999, "1970-01-01T00:00:00.999Z");
    check_time(1000, "1970-01-01T00:00:01.000Z");
    check_time(1999, "1970-01-01T00:00:01.999Z");
    check_time(59999, "1970-01-01T00:00:59.999Z");
    check_time(1, "1970-01-01T00:00:00.001Z");
}

static void test_time_format_negative(void **state)
{
    (void)state;
    check_time(-1, "1969-12-31T23:59:59.999Z");
    check_time(-999, "1969-12-31T23:59:59.001Z");
    check_time(-1000, "1969-12-31T23:59:59.000Z");
    check_time(-1001, "1969-12-31T23:59:58.999Z");
    check_time(-86400000, "1969-12-31T00:00:00.000Z");
}

static void test_time_now_and_mono(void **state)
{
    (void)state;
    int64_t now = time_now_ms();
    assert_true(now > 1700000000000LL); /* after 2023 */
    int64_t a = time_mono_ns(), b = time_mono_ns();
    assert_true(b >= a);
    char buf[HDF_TIME_BUFSZ];
    time_format_ms(now, buf);
    assert_int_equal(time_parse_pg(buf), -1); /* RFC 3339 with T and Z is not Postgres text */
}

static void test_time_parse_pg(void **state)
{
    (void)state;
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.123456+00"), 1795508130123LL);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30+00"), 1795508130000LL);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.5+00"), 1795508130500LL);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.05+00"), 1795508130050LL);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.000001+00"), 1795508130000LL);
    assert_int_equal(time_parse_pg("1970-01-01 00:00:00+00"), 0);
    assert_int_equal(time_parse_pg("2000-02-29 23:59:59.999+00"), 951868799999LL);
    /* the session is UTC, but a bare value (timestamp without zone) is accepted too */
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.123"), 1795508130123LL);
}

/* Microseconds are truncated to milliseconds, not rounded (matches what we format back). */
static void test_time_parse_pg_truncates(void **state)
{
    (void)state;
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.999999+00"), 1795508130999LL);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.1239+00"), 1795508130123LL);
    char buf[HDF_TIME_BUFSZ];
    time_format_ms(time_parse_pg("2026-11-24 08:15:30.999999+00"), buf);
    assert_string_equal(buf, "2026-11-24T08:15:30.999Z");
}

static void test_time_parse_pg_before_epoch(void **state)
{
    (void)state;
    assert_int_equal(time_parse_pg("1969-12-31 23:59:58.500+00"), -1500);
    assert_int_equal(time_parse_pg("1969-12-31 00:00:00+00"), -86400000LL);
}

static void test_time_parse_pg_errors(void **state)
{
    (void)state;
    assert_int_equal(time_parse_pg(""), -1);
    assert_int_equal(time_parse_pg("garbage"), -1);
    assert_int_equal(time_parse_pg("infinity"), -1);
    assert_int_equal(time_parse_pg("2026-11-24"), -1);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30+01"), -1);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30.123+05:30"), -1);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30Z"), -1);
    assert_int_equal(time_parse_pg("2026-11-24 08:15:30+00 trailing"), -1);
    assert_int_equal(time_parse_pg("2026-13-24 08:15:30+00"), -1);
    assert_int_equal(time_parse_pg("2026-11-24 25:15:30+00"), -1);
}

/* ---- request ids ------------------------------------------------------------------------- */

static void test_request_id_sane_lengths(void **state)
{
    (void)state;
    char id[HDF_REQUEST_ID_MAX + 2];
    memset(id, 'a', sizeof(id));
    assert_true(request_id_is_sane(id, 1));
    assert_true(request_id_is_sane(id, 128));
    assert_false(request_id_is_sane(id, 129));
    assert_false(request_id_is_sane(id, 0));
    assert_false(request_id_is_sane("", 0));
}

static void test_request_id_sane_chars(void **state)
{
    (void)state;
    const char *ok = "AZaz09._:+/=-";
    assert_true(request_id_is_sane(ok, strlen(ok)));
    assert_true(request_id_is_sane("big-one-1", 9));
    assert_true(request_id_is_sane("dGVzdA==", 8));
    static const char *const bad[] = {"a b",  "a\"b", "a\nb", "a\rb", "a%b",      "a#b",   "a,b",  "a;b",
                                      "a\\b", "a?b",  "a~b",  "a*b",  "\xc3\xa9", "a\x7f", "a\tb", "a<b>"};
    for (size_t i = 0; i < HDF_ARRAY_SIZE(bad); i++)
        assert_false(request_id_is_sane(bad[i], strlen(bad[i])));
    /* an embedded NUL, with the length covering it, is not sane */
    assert_false(request_id_is_sane("ab\0cd", 5));
    assert_false(request_id_is_sane("\0", 1));
}

static void test_request_id_generate(void **state)
{
    (void)state;
    char a[33], b[33];
    memset(a, 'X', sizeof(a));
    request_id_generate(a);
    request_id_generate(b);
    assert_int_equal(strlen(a), 32);
    for (int i = 0; i < 32; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    assert_string_not_equal(a, b);
    assert_true(request_id_is_sane(a, 32));
    /* a few more: no repeats in a small sample */
    char seen[64][33];
    for (int i = 0; i < 64; i++) {
        request_id_generate(seen[i]);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(seen[i], seen[k]);
    }
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

struct utf8_case {
    const char *s;
    size_t len;
    ptrdiff_t bad;
};
#define U(lit, bad)                                                                                                                \
    {                                                                                                                              \
        lit, sizeof(lit) - 1, bad                                                                                                  \
    }

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct utf8_case cases[] = {
        U("", -1),
        U("hello", -1),
        U("\xc2\x80", -1),         /* U+0080, smallest 2-byte */
        U("\xc3\xa9", -1),         /* é */
        U("\xdf\xbf", -1),         /* U+07FF */
        U("\xe0\xa0\x80", -1),     /* U+0800, smallest 3-byte */
        U("\xe2\x82\xac", -1),     /* € */
        U("\xed\x9f\xbf", -1),     /* U+D7FF, just below the surrogates */
        U("\xee\x80\x80", -1),     /* U+E000, just above */
        U("\xef\xbf\xbf", -1),     /* U+FFFF */
        U("\xf0\x90\x80\x80", -1), /* U+10000, smallest 4-byte */
        U("\xf0\x9f\x98\x80", -1), /* 😀 */
        U("\xf4\x8f\xbf\xbf", -1), /* U+10FFFF */
        U("a\0b", -1),             /* NUL is a valid code point; callers refuse it separately */
        U("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80!", -1),
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++)
        assert_int_equal(utf8_find_invalid(cases[i].s, cases[i].len), cases[i].bad);
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    static const struct utf8_case cases[] = {
        U("\x80", 0),   /* lone continuation */
        U("ab\xbf", 2), /* continuation after ASCII */
        U("\xff", 0),   /* never valid */
        U("\xfe", 0),
        U("\xf8\x88\x80\x80\x80", 0), /* 5-byte form */
        U("\xc0\xaf", 0),             /* overlong '/' */
        U("\xc1\xbf", 0),             /* overlong U+007F */
        U("\xe0\x80\xaf", 0),         /* overlong 3-byte */
        U("\xe0\x9f\xbf", 0),         /* overlong U+07FF */
        U("\xf0\x80\x80\xaf", 0),     /* overlong 4-byte */
        U("\xf0\x8f\xbf\xbf", 0),     /* overlong U+FFFF */
        U("\xed\xa0\x80", 0),         /* U+D800 */
        U("\xed\xbf\xbf", 0),         /* U+DFFF */
        U("x\xed\xb0\x80y", 1),       /* U+DC00 in the middle */
        U("\xf4\x90\x80\x80", 0),     /* U+110000 */
        U("\xf5\x80\x80\x80", 0),     /* lead byte past U+10FFFF */
        U("\xf7\xbf\xbf\xbf", 0),
        U("abc\xe2\x82", 3),     /* truncated 3-byte at end */
        U("abc\xf0\x9f\x98", 3), /* truncated 4-byte at end */
        U("\xc3", 0),            /* truncated 2-byte */
        U("\xc3"
          "A",
          0), /* lead followed by ASCII */
        U("\xe2\x82"
          "A",
          0),
        U("ok \xc0\xaf", 3),
        U("\xc3\xa9\xc3", 2), /* good char then truncated */
        U("{\"label\":\"x\"}\x80", 13),
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++)
        assert_int_equal(utf8_find_invalid(cases[i].s, cases[i].len), cases[i].bad);
}

static void test_utf8_respects_len(void **state)
{
    (void)state;
    /* a sequence that is complete in memory but cut by len is invalid */
    assert_int_equal(utf8_find_invalid("\xc3\xa9", 1), 0);
    assert_int_equal(utf8_find_invalid("a\xf0\x9f\x98\x80", 4), 1);
    assert_int_equal(utf8_find_invalid("a\xf0\x9f\x98\x80", 5), -1);
    /* bytes past len are not looked at */
    assert_int_equal(utf8_find_invalid("ab\xff", 2), -1);
}

static void test_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(utf8_length("", 0), 0);
    assert_int_equal(utf8_length("abc", 3), 3);
    const char *s = "h\xc3\xa9llo\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(utf8_length(s, strlen(s)), 7);
    assert_int_equal(utf8_length("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8), 2);
}

static void test_utf8_truncate(void **state)
{
    (void)state;
    char s[32];
    strlcpy(s, "a\xc3\xa9", sizeof(s));
    utf8_truncate(s, 2); /* would split é */
    assert_string_equal(s, "a");

    strlcpy(s, "a\xc3\xa9", sizeof(s));
    utf8_truncate(s, 3);
    assert_string_equal(s, "a\xc3\xa9");

    strlcpy(s, "\xe2\x82\xac\xe2\x82\xac", sizeof(s));
    for (size_t max = 3; max <= 5; max++) {
        strlcpy(s, "\xe2\x82\xac\xe2\x82\xac", sizeof(s));
        utf8_truncate(s, max);
        assert_string_equal(s, "\xe2\x82\xac");
    }

    strlcpy(s, "\xf0\x9f\x98\x80z", sizeof(s));
    for (size_t max = 0; max <= 3; max++) {
        strlcpy(s, "\xf0\x9f\x98\x80z", sizeof(s));
        utf8_truncate(s, max);
        assert_string_equal(s, "");
    }
    strlcpy(s, "\xf0\x9f\x98\x80z", sizeof(s));
    utf8_truncate(s, 4);
    assert_string_equal(s, "\xf0\x9f\x98\x80");

    strlcpy(s, "short", sizeof(s));
    utf8_truncate(s, 100);
    assert_string_equal(s, "short");
    utf8_truncate(s, 5);
    assert_string_equal(s, "short");
    utf8_truncate(s, 4);
    assert_string_equal(s, "shor");
    utf8_truncate(s, 0);
    assert_string_equal(s, "");
}

/* Every cut of a mixed string leaves valid UTF-8 that is a prefix of the original. */
static void test_utf8_truncate_every_cut(void **state)
{
    (void)state;
    const char *orig = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                       "b\xdf\xbf";
    size_t n = strlen(orig);
    for (size_t max = 0; max <= n + 1; max++) {
        char s[32];
        strlcpy(s, orig, sizeof(s));
        utf8_truncate(s, max);
        size_t got = strlen(s);
        assert_true(got <= max);
        assert_true(got + 4 > max || got == n);
        assert_memory_equal(s, orig, got);
        assert_int_equal(utf8_find_invalid(s, got), -1);
    }
}

/* ---- parse_id ----------------------------------------------------------------------------- */

static void test_parse_id_ok(void **state)
{
    (void)state;
    assert_int_equal(parse_id("1", 1), 1);
    assert_int_equal(parse_id("42", 2), 42);
    assert_int_equal(parse_id("9223372036854775807", 19), INT64_MAX);
    assert_int_equal(parse_id("9223372036854775806", 19), INT64_MAX - 1);
    assert_int_equal(parse_id("1000000000000000000", 19), 1000000000000000000LL);
    assert_int_equal(parse_id("123", 2), 12); /* only len bytes */
}

static void test_parse_id_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "0",
                                      "00",
                                      "01",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1a",
                                      "a1",
                                      "1.0",
                                      "1e3",
                                      "0x10",
                                      "9223372036854775808",
                                      "9223372036854775809",
                                      "9999999999999999999",
                                      "10000000000000000000",
                                      "99999999999999999999999",
                                      "\xef\xbc\x91" /* fullwidth 1 */};
    for (size_t i = 0; i < HDF_ARRAY_SIZE(bad); i++)
        assert_int_equal(parse_id(bad[i], strlen(bad[i])), -1);
    assert_int_equal(parse_id("1\0", 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_decode_uppercase_and_empty),
        cmocka_unit_test(test_hex_decode_errors),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_format_ms_not_rounded),
        cmocka_unit_test(test_time_format_negative),
        cmocka_unit_test(test_time_now_and_mono),
        cmocka_unit_test(test_time_parse_pg),
        cmocka_unit_test(test_time_parse_pg_truncates),
        cmocka_unit_test(test_time_parse_pg_before_epoch),
        cmocka_unit_test(test_time_parse_pg_errors),
        cmocka_unit_test(test_request_id_sane_lengths),
        cmocka_unit_test(test_request_id_sane_chars),
        cmocka_unit_test(test_request_id_generate),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_respects_len),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_utf8_truncate),
        cmocka_unit_test(test_utf8_truncate_every_cut),
        cmocka_unit_test(test_parse_id_ok),
        cmocka_unit_test(test_parse_id_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
