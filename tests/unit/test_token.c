/*
 * test_token.c: tests http/token.c: the token format (hdf_ + 40 base62), extracting it from an
 * Authorization header (scheme case-insensitive, exactly one space, nothing around), and the
 * SHA-256 that is stored (known vectors).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "http/token.h"
#include "common/util.h"

#define GOOD "hdf_0123456789abcdefghijABCDEFGHIJ0123456789"

static void test_well_formed(void **state)
{
    (void)state;
    assert_int_equal(strlen(GOOD), HDF_TOKEN_LEN);
    assert_true(token_is_well_formed(GOOD, strlen(GOOD)));
    char t[HDF_TOKEN_LEN + 1];
    memcpy(t, "hdf_", 4);
    memset(t + 4, 'z', 40);
    t[44] = '\0';
    assert_true(token_is_well_formed(t, 44));
    memset(t + 4, '9', 40);
    assert_true(token_is_well_formed(t, 44));
}

static void test_not_well_formed(void **state)
{
    (void)state;
    char t[64];
    assert_false(token_is_well_formed(GOOD, 43));
    assert_false(token_is_well_formed("", 0));
    assert_false(token_is_well_formed("hdf_", 4));
    snprintf(t, sizeof(t), "%sA", GOOD);
    assert_false(token_is_well_formed(t, 45));
    /* wrong prefix */
    static const char *const prefixes[] = {"HDF_", "hdf-", "hdfx", "xdf_", "hd_f"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        memcpy(t, GOOD, 45);
        memcpy(t, prefixes[i], 4);
        assert_false(token_is_well_formed(t, 44));
    }
    /* a bad character anywhere in the body */
    static const char badc[] = {'_', '-', '+', '/', '=', ' ', '.', '\0', '\n', '\x80', '\xff', '~'};
    for (size_t i = 0; i < sizeof(badc); i++) {
        for (size_t pos = 4; pos < 44; pos += 13) {
            memcpy(t, GOOD, 45);
            t[pos] = badc[i];
            assert_false(token_is_well_formed(t, 44));
        }
        memcpy(t, GOOD, 45);
        t[43] = badc[i];
        assert_false(token_is_well_formed(t, 44));
    }
}

static void test_from_authorization(void **state)
{
    (void)state;
    static const char *const schemes[] = {"Bearer ", "bearer ", "BEARER ", "bEaReR "};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        char v[128];
        snprintf(v, sizeof(v), "%s%s", schemes[i], GOOD);
        const char *tok = NULL;
        assert_int_equal(token_from_authorization(v, strlen(v), &tok), 0);
        assert_ptr_equal(tok, v + 7);
        assert_memory_equal(tok, GOOD, HDF_TOKEN_LEN);
    }
}

static void test_from_authorization_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "Bearer",
                                      "Bearer ",
                                      "Bearer  " GOOD,
                                      "Bearer\t" GOOD,
                                      "Bearer " GOOD " ",
                                      " Bearer " GOOD,
                                      "Bearer:" GOOD,
                                      "Bearer=" GOOD,
                                      "Basic " GOOD,
                                      "Token " GOOD,
                                      "Bearerx " GOOD,
                                      GOOD,
                                      "Bearer hdf_short",
                                      "Bearer " GOOD GOOD,
                                      "Bearer HDF_0123456789abcdefghijABCDEFGHIJ0123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *tok = (const char *)1;
        if (token_from_authorization(bad[i], strlen(bad[i]), &tok) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_ptr_equal(tok, (const char *)1); /* untouched on failure */
    }
    /* only len bytes: a header cut short is refused */
    const char *v = "Bearer " GOOD;
    const char *tok;
    assert_int_equal(token_from_authorization(v, strlen(v) - 1, &tok), -1);
}

static void check_hash(const char *in, const char *hex)
{
    unsigned char h[HDF_TOKEN_HASH_LEN];
    char got[2 * HDF_TOKEN_HASH_LEN + 1];
    token_hash(in, strlen(in), h);
    hex_encode(h, sizeof(h), got);
    assert_string_equal(got, hex);
}

static void test_hash_vectors(void **state)
{
    (void)state;
    check_hash("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_hash("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_hash(GOOD, "af0305d376e9d14ccde9809ad346409a242a14828e08335745f06f2feabd8303");
    /* only len bytes are hashed */
    unsigned char a[HDF_TOKEN_HASH_LEN], b[HDF_TOKEN_HASH_LEN];
    token_hash("abcdef", 3, a);
    token_hash("abc", 3, b);
    assert_memory_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),        cmocka_unit_test(test_not_well_formed),
        cmocka_unit_test(test_from_authorization), cmocka_unit_test(test_from_authorization_refused),
        cmocka_unit_test(test_hash_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
