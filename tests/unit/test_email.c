/*
 * test_email.c: tests model/email.c: trimming and ASCII lower-casing, the accepted shapes
 * (dot-atom local parts, internationalised characters, length limits in bytes) and every kind of
 * refused address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "model/email.h"

static enum hdf_email_result norm(const char *s, char *out)
{
    return email_normalize(s, strlen(s), out);
}

static void test_normalises(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"Ann@Example.COM", "ann@example.com"},
        {"  bob.smith+help@example.com\t\n", "bob.smith+help@example.com"},
        {"JOSÉ@Exämple.com", "josÉ@exämple.com"}, /* non-ASCII kept as is */
        {"o'hara!#$%&*+/=?^_`{|}~-@x.io", "o'hara!#$%&*+/=?^_`{|}~-@x.io"},
        {"a@b.co", "a@b.co"},
        {"a@sub-1.b2.example", "a@sub-1.b2.example"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[HDF_EMAIL_MAX + 1];
        assert_int_equal(norm(cases[i][0], out), HDF_EMAIL_OK);
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "plain",
        "a@b",
        "a@@b.com",
        "a@b@c.com",
        "@b.com",
        "a@",
        "a b@c.com",
        "a@b .com",
        ".a@b.com",
        "a.@b.com",
        "a..b@c.com",
        "a@.b.com",
        "a@b.com.",
        "a@b..com",
        "a@-b.com",
        "a@b-.com",
        "a\t@b.com",
        "a\x01@b.com",
        "a\x7f@b.com",
        "\"a\"@b.com",
        "a@[1.2.3.4]",
        "a(b)@c.com",
        "a,b@c.com",
        "a<b>@c.com",
        "a@b_c.com",
        "a\xc2\xa0@b.com",
        "a\xe2\x80\xa8@b.com",
        "a\xe3\x80\x80@b.com",
        "a\xc2\x85@b.com",
        "a\xef\xbb\xbf@b.com",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[HDF_EMAIL_MAX + 1];
        assert_int_equal(norm(bad[i], out), HDF_EMAIL_INVALID);
        assert_string_equal(out, "");
    }
}

static void test_empty_and_nul(void **state)
{
    (void)state;
    char out[HDF_EMAIL_MAX + 1];
    assert_int_equal(norm("", out), HDF_EMAIL_EMPTY);
    assert_int_equal(norm(" \t\r\n ", out), HDF_EMAIL_EMPTY);
    assert_int_equal(email_normalize("a\0b@c.com", 9, out), HDF_EMAIL_INVALID);
    assert_int_equal(email_normalize("a@c.com\0", 8, out), HDF_EMAIL_INVALID);
}

/* local part <= 64 bytes, labels <= 63 bytes, whole address <= 254 bytes */
static void test_lengths(void **state)
{
    (void)state;
    char s[600], out[HDF_EMAIL_MAX + 1];
    memset(s, 'x', 64);
    memcpy(s + 64, "@b.com", 7);
    assert_int_equal(norm(s, out), HDF_EMAIL_OK);
    memset(s, 'x', 65);
    memcpy(s + 65, "@b.com", 7);
    assert_int_equal(norm(s, out), HDF_EMAIL_INVALID);
    memcpy(s, "a@", 2);
    memset(s + 2, 'd', 63);
    memcpy(s + 65, ".com", 5);
    assert_int_equal(norm(s, out), HDF_EMAIL_OK);
    memset(s + 2, 'd', 64);
    memcpy(s + 66, ".com", 5);
    assert_int_equal(norm(s, out), HDF_EMAIL_INVALID);
    /* 254 bytes: a@ + 4 labels of 62 + 3 dots = 2 + 248 + 3 = 253, plus ".c"... build exactly */
    size_t n = 0;
    s[n++] = 'a';
    s[n++] = '@';
    while (n + 63 < HDF_EMAIL_MAX) {
        memset(s + n, 'd', 62);
        n += 62;
        s[n++] = '.';
    }
    while (n < HDF_EMAIL_MAX)
        s[n++] = 'e';
    s[n] = '\0';
    assert_int_equal(strlen(s), 254);
    assert_int_equal(norm(s, out), HDF_EMAIL_OK);
    assert_string_equal(out, s);
    s[n++] = 'e';
    s[n] = '\0';
    assert_int_equal(norm(s, out), HDF_EMAIL_TOO_LONG);
    /* whitespace does not count once trimmed */
    char padded[700];
    snprintf(padded, sizeof(padded), "   %.*s   ", HDF_EMAIL_MAX, s);
    assert_int_equal(norm(padded, out), HDF_EMAIL_OK);
    memset(padded, 'x', 599);
    padded[599] = '\0';
    assert_int_equal(norm(padded, out), HDF_EMAIL_TOO_LONG);
}

static void test_messages(void **state)
{
    (void)state;
    assert_non_null(strstr(email_result_message(HDF_EMAIL_TOO_LONG), "254"));
    assert_non_null(strstr(email_result_message(HDF_EMAIL_INVALID), "valid email"));
    assert_non_null(email_result_message(HDF_EMAIL_EMPTY));
    assert_non_null(email_result_message(HDF_EMAIL_OK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalises), cmocka_unit_test(test_refuses),  cmocka_unit_test(test_empty_and_nul),
        cmocka_unit_test(test_lengths),    cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
