/*
 * test_cursor.c: tests common/cursor.c: base64url round trips, refusing a cursor of another
 * kind, garbage / too long / non-base64url / NUL-carrying cursors, small payload buffers, and the
 * id helpers (cursor_encode_id / cursor_decode_id).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include "common/cursor.h"

/* base64url without padding of len raw bytes (lets tests build cursors the encoder would not). */
static void b64url(const void *raw, size_t len, char *out)
{
    int m = EVP_EncodeBlock((unsigned char *)out, raw, (int)len);
    while (m > 0 && out[m - 1] == '=')
        m--;
    for (int i = 0; i < m; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[m] = '\0';
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "", "1", "12", "123", "2026-11-24T08:15:30.123Z,42", "a:b:c", "\xc3\xa9\xff\x01", "~~~?\x3f?>>>"};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char c[HDF_CURSOR_MAX], p[HDF_CURSOR_MAX];
        cursor_encode("ak", payloads[i], c);
        for (const char *s = c; *s != '\0'; s++)
            assert_true((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_');
        assert_int_equal(cursor_decode("ak", c, p, sizeof(p)), 0);
        assert_string_equal(p, payloads[i]);
    }
}

static void test_known_encoding(void **state)
{
    (void)state;
    char c[HDF_CURSOR_MAX];
    cursor_encode("ak", "42", c);
    assert_string_equal(c, "YWs6NDI"); /* base64("ak:42") without '=' */
    char p[8];
    assert_int_equal(cursor_decode("ak", "YWs6NDI", p, sizeof(p)), 0);
    assert_string_equal(p, "42");
    /* padded input is not base64url as we emit it */
    assert_int_equal(cursor_decode("ak", "YWs6NDI=", p, sizeof(p)), -1);
}

static void test_longest_payload(void **state)
{
    (void)state;
    char payload[150], c[HDF_CURSOR_MAX], p[HDF_CURSOR_MAX];
    memset(payload, 'x', sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    cursor_encode("tickets", payload, c);
    assert_true(strlen(c) <= HDF_CURSOR_MAX);
    assert_int_equal(cursor_decode("tickets", c, p, sizeof(p)), 0);
    assert_string_equal(p, payload);
}

static void test_kind_mismatch(void **state)
{
    (void)state;
    char c[HDF_CURSOR_MAX], p[64];
    cursor_encode("ak", "123", c);
    assert_int_equal(cursor_decode("tk", c, p, sizeof(p)), -1);
    assert_int_equal(cursor_decode("a", c, p, sizeof(p)), -1);   /* a prefix of the kind */
    assert_int_equal(cursor_decode("akx", c, p, sizeof(p)), -1); /* longer kind */
    assert_int_equal(cursor_decode("AK", c, p, sizeof(p)), -1);
    assert_int_equal(cursor_decode("", c, p, sizeof(p)), -1);
    /* "ak" without a colon after it */
    char raw_c[64];
    b64url("ak123", 5, raw_c);
    assert_int_equal(cursor_decode("ak", raw_c, p, sizeof(p)), -1);
    b64url("ak", 2, raw_c);
    assert_int_equal(cursor_decode("ak", raw_c, p, sizeof(p)), -1);
}

static void test_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {"",         "a",        "abcde",     "!!!!",     "YWs6NDI=",         "YWs6 NDI",
                                      "YWs6+NDI", "YWs6/NDI", "YWs6\nNDI", "YWs6.NDI", "\xc3\xa9\xc3\xa9", "====",
                                      "YW=s6NDI"};
    char p[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cursor_decode("ak", bad[i], p, sizeof(p)) != -1)
            fail_msg("accepted cursor \"%s\"", bad[i]);
}

static void test_too_long(void **state)
{
    (void)state;
    /* a valid cursor of exactly HDF_CURSOR_MAX characters decodes; one more is refused */
    unsigned char raw[HDF_CURSOR_MAX];
    memset(raw, 'x', sizeof(raw));
    memcpy(raw, "ak:", 3);
    char c[2 * HDF_CURSOR_MAX], p[HDF_CURSOR_MAX];
    b64url(raw, HDF_CURSOR_MAX / 4 * 3, c); /* 192 bytes -> 256 characters */
    assert_int_equal(strlen(c), HDF_CURSOR_MAX);
    assert_int_equal(cursor_decode("ak", c, p, sizeof(p)), 0);
    assert_int_equal(strlen(p), HDF_CURSOR_MAX / 4 * 3 - 3);
    b64url(raw, HDF_CURSOR_MAX / 4 * 3 + 1, c);
    assert_true(strlen(c) > HDF_CURSOR_MAX);
    assert_int_equal(cursor_decode("ak", c, p, sizeof(p)), -1);
    char huge[4096];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(cursor_decode("ak", huge, p, sizeof(p)), -1);
}

static void test_payload_with_nul_refused(void **state)
{
    (void)state;
    char c[64], p[64];
    b64url("ak:\0x", 5, c);
    assert_string_equal(c, "YWs6AHg");
    assert_int_equal(cursor_decode("ak", c, p, sizeof(p)), -1);
    b64url("ak:1\0", 5, c);
    assert_int_equal(cursor_decode("ak", c, p, sizeof(p)), -1);
}

static void test_small_payload_buffer(void **state)
{
    (void)state;
    char c[HDF_CURSOR_MAX], p[4];
    cursor_encode("ak", "123", c);
    assert_int_equal(cursor_decode("ak", c, p, 4), 0);
    assert_string_equal(p, "123");
    cursor_encode("ak", "1234", c);
    assert_int_equal(cursor_decode("ak", c, p, 4), -1);
    assert_int_equal(cursor_decode("ak", c, p, 0), -1);
}

static void test_id_round_trip(void **state)
{
    (void)state;
    static const int64_t ids[] = {1, 42, 1000000, INT64_MAX};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char c[HDF_CURSOR_MAX];
        int64_t got = -7;
        cursor_encode_id("ak", ids[i], c);
        assert_int_equal(cursor_decode_id("ak", c, &got), 0);
        assert_int_equal(got, ids[i]);
        assert_int_equal(cursor_decode_id("tk", c, &got), -1);
    }
}

static void test_decode_id_refused(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "", "0", "-1", "01", "12a", " 1", "9223372036854775808", "123456789012345678901234567890123456"};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char c[HDF_CURSOR_MAX];
        int64_t id;
        cursor_encode("ak", payloads[i], c);
        if (cursor_decode_id("ak", c, &id) != -1)
            fail_msg("cursor_decode_id accepted payload \"%s\"", payloads[i]);
    }
    char c[HDF_CURSOR_MAX];
    int64_t id;
    cursor_encode_id("ak", 0, c);
    assert_int_equal(cursor_decode_id("ak", c, &id), -1);
    cursor_encode_id("ak", -5, c);
    assert_int_equal(cursor_decode_id("ak", c, &id), -1);
    assert_int_equal(cursor_decode_id("ak", "!!", &id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_known_encoding),
        cmocka_unit_test(test_longest_payload),
        cmocka_unit_test(test_kind_mismatch),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_payload_with_nul_refused),
        cmocka_unit_test(test_small_payload_buffer),
        cmocka_unit_test(test_id_round_trip),
        cmocka_unit_test(test_decode_id_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
