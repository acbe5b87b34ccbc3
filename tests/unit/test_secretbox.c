/*
 * test_secretbox.c: tests webhook/secretbox.c: key parsing (length, hex, all-zero, lists for
 * HDF_SECRET_KEY_PREVIOUS), the key id, round trips, fresh nonces, the text form, wrong key,
 * tampering with every byte, the wrong context (a value moved to another row), rotation to a
 * previous key, and malformed sealed values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "webhook/secretbox.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define KEY_C "C0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FFEEC0FF"
#define CTX "webhook_subscriptions.secret:42"
#define SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static hdf_secretbox_key_t key(const char *hex)
{
    hdf_secretbox_key_t k;
    const char *why = NULL;
    assert_int_equal(secretbox_key_parse(hex, strlen(hex), &k, &why), 0);
    return k;
}

static int seal(const hdf_secretbox_key_t *k, const char *ctx, const char *pt, char *out)
{
    return secretbox_seal(k, ctx, strlen(ctx), pt, strlen(pt), out, HDF_SECRETBOX_SEALED_MAX);
}

static hdf_secretbox_result_t open_(const hdf_secretbox_key_t *keys, int n, const char *ctx, const char *sealed, char *out,
                                    int *idx)
{
    size_t len = 0;
    unsigned char buf[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    hdf_secretbox_result_t r =
        secretbox_open(keys, n, ctx, strlen(ctx), sealed, strlen(sealed), buf, HDF_SECRETBOX_MAX_PLAINTEXT, &len, idx);
    if (r == HDF_SB_OK) {
        memcpy(out, buf, len);
        out[len] = '\0';
    }
    return r;
}

static void test_key_parse(void **state)
{
    (void)state;
    hdf_secretbox_key_t k = key(KEY_A);
    assert_int_equal(k.key[0], 0);
    assert_int_equal(k.key[31], 0x1f);
    /* sha256(bytes 00..1f) = 630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd */
    assert_memory_equal(k.id, "\x63\x0d\xcd\x29", 4);
    hdf_secretbox_key_t upper = key(KEY_C), lower = key("c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff");
    assert_memory_equal(&upper, &lower, sizeof(upper));

    static const char *const bad[] = {
        "",
        "00",
        KEY_A "00",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
        " 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        if (secretbox_key_parse(bad[i], strlen(bad[i]), &k, &why) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(why);
    }
    const char *why = NULL;
    assert_int_equal(secretbox_key_parse("abc", 3, &k, &why), -1);
    assert_non_null(strstr(why, "64 hex"));
    assert_int_equal(secretbox_key_parse(bad[7], 64, &k, &why), -1);
    assert_non_null(strstr(why, "zeros"));
    assert_int_equal(secretbox_key_parse(bad[4], 64, &k, NULL), -1);
}

static void test_key_list(void **state)
{
    (void)state;
    hdf_secretbox_key_t ks[HDF_SECRETBOX_MAX_PREVIOUS];
    const char *why = NULL;
    const char *one = KEY_B;
    assert_int_equal(secretbox_keys_parse_list(one, strlen(one), ks, 4, &why), 1);
    const char *two = KEY_B "," KEY_C;
    assert_int_equal(secretbox_keys_parse_list(two, strlen(two), ks, 4, &why), 2);
    hdf_secretbox_key_t c = key(KEY_C);
    assert_memory_equal(ks[1].id, c.id, 4);
    static const char *const bad[] = {
        "",
        ",",
        KEY_B ",",
        "," KEY_B,
        KEY_B ",," KEY_C,
        KEY_B ", " KEY_C,
        KEY_B "," KEY_B,
        KEY_B "," KEY_C "," KEY_A "," KEY_A,
        KEY_A "," KEY_B "," KEY_C ",0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20,"
              "02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (secretbox_keys_parse_list(bad[i], strlen(bad[i]), ks, 4, &why) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(secretbox_keys_parse_list(two, strlen(two), ks, 1, &why), -1); /* caller's max */
}

static void test_round_trip(void **state)
{
    (void)state;
    hdf_secretbox_key_t k = key(KEY_A);
    char s1[HDF_SECRETBOX_SEALED_MAX], s2[HDF_SECRETBOX_SEALED_MAX], out[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    int n = seal(&k, CTX, SECRET, s1);
    assert_int_equal(n, (int)strlen(s1));
    assert_memory_equal(s1, "v1.630dcd29.", 12);
    assert_int_equal(n, 12 + 4 * ((12 + 50 + 16 + 2) / 3));
    assert_int_equal(seal(&k, CTX, SECRET, s2), n);
    assert_string_not_equal(s1, s2); /* fresh nonce every time */
    assert_memory_not_equal(s1 + 12, s2 + 12, 16);
    int idx = -1;
    assert_int_equal(open_(&k, 1, CTX, s1, out, &idx), HDF_SB_OK);
    assert_string_equal(out, SECRET);
    assert_int_equal(idx, 0);
    assert_int_equal(open_(&k, 1, CTX, s2, out, NULL), HDF_SB_OK);
    assert_string_equal(out, SECRET);
    /* an empty context is a context too */
    assert_true(seal(&k, "", "x", s1) > 0);
    assert_int_equal(open_(&k, 1, "", s1, out, NULL), HDF_SB_OK);
    assert_string_equal(out, "x");
    /* the largest plaintext */
    static char big[HDF_SECRETBOX_MAX_PLAINTEXT + 2], bigout[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    memset(big, 'z', HDF_SECRETBOX_MAX_PLAINTEXT);
    char sealed_big[HDF_SECRETBOX_SEALED_MAX];
    assert_int_equal(seal(&k, CTX, big, sealed_big), HDF_SECRETBOX_SEALED_MAX - 1);
    assert_int_equal(open_(&k, 1, CTX, sealed_big, bigout, NULL), HDF_SB_OK);
    assert_string_equal(bigout, big);
    big[HDF_SECRETBOX_MAX_PLAINTEXT] = 'z';
    assert_int_equal(seal(&k, CTX, big, sealed_big), -1);
}

static void test_seal_refuses(void **state)
{
    (void)state;
    hdf_secretbox_key_t k = key(KEY_A);
    char out[HDF_SECRETBOX_SEALED_MAX];
    assert_int_equal(secretbox_seal(&k, CTX, strlen(CTX), "", 0, out, sizeof(out)), -1);
    assert_int_equal(secretbox_seal(&k, CTX, strlen(CTX), SECRET, strlen(SECRET), out, 20), -1);
    static char ctx[HDF_SECRETBOX_MAX_CONTEXT + 1];
    memset(ctx, 'c', sizeof(ctx));
    assert_int_equal(secretbox_seal(&k, ctx, sizeof(ctx), "x", 1, out, sizeof(out)), -1);
    assert_true(secretbox_seal(&k, ctx, sizeof(ctx) - 1, "x", 1, out, sizeof(out)) > 0);
}

static void test_wrong_key_and_context(void **state)
{
    (void)state;
    hdf_secretbox_key_t a = key(KEY_A), b = key(KEY_B);
    char s[HDF_SECRETBOX_SEALED_MAX], out[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    seal(&a, CTX, SECRET, s);
    assert_int_equal(open_(&b, 1, CTX, s, out, NULL), HDF_SB_UNKNOWN_KEY);
    assert_int_equal(open_(&a, 1, "webhook_subscriptions.secret:43", s, out, NULL), HDF_SB_AUTH_FAILED);
    assert_int_equal(open_(&a, 1, "", s, out, NULL), HDF_SB_AUTH_FAILED);
    /* a different key that claims a's id (forged header) does not authenticate */
    hdf_secretbox_key_t forged = b;
    memcpy(forged.id, a.id, sizeof(a.id));
    assert_int_equal(open_(&forged, 1, CTX, s, out, NULL), HDF_SB_AUTH_FAILED);
    /* two keys sharing an id: the one that authenticates wins */
    hdf_secretbox_key_t both[2] = {forged, a};
    int idx = -1;
    assert_int_equal(open_(both, 2, CTX, s, out, &idx), HDF_SB_OK);
    assert_int_equal(idx, 1);
    /* a re-labelled key id is a different key (and different AAD) */
    char moved[HDF_SECRETBOX_SEALED_MAX];
    snprintf(moved, sizeof(moved), "%s", s);
    memcpy(moved + 3, "ffffffff", 8);
    hdf_secretbox_key_t relabel = a;
    memcpy(relabel.id, "\xff\xff\xff\xff", 4);
    assert_int_equal(open_(&relabel, 1, CTX, moved, out, NULL), HDF_SB_AUTH_FAILED);
}

static void test_tamper_every_byte(void **state)
{
    (void)state;
    hdf_secretbox_key_t a = key(KEY_A);
    char s[HDF_SECRETBOX_SEALED_MAX], t[HDF_SECRETBOX_SEALED_MAX], out[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    size_t n = (size_t)seal(&a, CTX, SECRET, s);
    for (size_t i = 12; i < n - 1; i++) { /* the last char carries padding bits only sometimes */
        snprintf(t, sizeof(t), "%s", s);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        hdf_secretbox_result_t r = open_(&a, 1, CTX, t, out, NULL);
        if (r != HDF_SB_AUTH_FAILED && r != HDF_SB_MALFORMED)
            fail_msg("byte %zu changed: %s", i, secretbox_result_str(r));
    }
    for (size_t i = 0; i < 12; i++) {
        snprintf(t, sizeof(t), "%s", s);
        t[i] = t[i] == 'v' ? 'w' : t[i] == '.' ? '_' : 'z';
        assert_int_not_equal(open_(&a, 1, CTX, t, out, NULL), HDF_SB_OK);
    }
}

static void test_rotation(void **state)
{
    (void)state;
    hdf_secretbox_key_t old = key(KEY_A), cur = key(KEY_B), older = key(KEY_C);
    char s_old[HDF_SECRETBOX_SEALED_MAX], s_cur[HDF_SECRETBOX_SEALED_MAX], out[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    seal(&old, CTX, SECRET, s_old);
    seal(&cur, CTX, "new secret", s_cur);
    /* after rotation: HDF_SECRET_KEY=B, HDF_SECRET_KEY_PREVIOUS=C,A */
    hdf_secretbox_key_t keys[3] = {cur, older, old};
    int idx = -1;
    assert_int_equal(open_(keys, 3, CTX, s_old, out, &idx), HDF_SB_OK);
    assert_string_equal(out, SECRET);
    assert_int_equal(idx, 2); /* stale: re-seal with keys[0] */
    char resealed[HDF_SECRETBOX_SEALED_MAX];
    seal(&keys[0], CTX, out, resealed);
    assert_int_equal(open_(keys, 1, CTX, resealed, out, &idx), HDF_SB_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(open_(keys, 3, CTX, s_cur, out, &idx), HDF_SB_OK);
    assert_int_equal(idx, 0);
    /* once the previous key is dropped, the old value no longer opens */
    assert_int_equal(open_(keys, 2, CTX, s_old, out, &idx), HDF_SB_UNKNOWN_KEY);
    assert_int_equal(open_(keys, 0, CTX, s_old, out, &idx), HDF_SB_MALFORMED);
}

static void test_malformed(void **state)
{
    (void)state;
    hdf_secretbox_key_t a = key(KEY_A);
    char out[HDF_SECRETBOX_MAX_PLAINTEXT + 1];
    static const char *const bad[] = {
        "",
        "v1",
        "v1.",
        "v1.630dcd29",
        "v1.630dcd29.",
        "v2.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "V1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.630DCD29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* the id is lowercase */
        "v1.630dcd2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.630dcd29xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* not a multiple of 4 */
        "v1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 28 bytes: no plaintext */
        "v1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
        "v1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "v1.630dcd29.AAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdf_secretbox_result_t r = open_(&a, 1, CTX, bad[i], out, NULL);
        if (r != HDF_SB_MALFORMED)
            fail_msg("\"%s\": %s", bad[i], secretbox_result_str(r));
    }
    /* 29 bytes decoded: one byte of plaintext, authenticates nothing */
    assert_int_equal(open_(&a, 1, CTX, "v1.630dcd29.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", out, NULL), HDF_SB_AUTH_FAILED);
    /* the output buffer bounds the plaintext; the context is bounded */
    char s[HDF_SECRETBOX_SEALED_MAX];
    seal(&a, CTX, SECRET, s);
    unsigned char small[8];
    size_t len;
    assert_int_equal(secretbox_open(&a, 1, CTX, strlen(CTX), s, strlen(s), small, sizeof(small), &len, NULL), HDF_SB_MALFORMED);
    static char ctx[HDF_SECRETBOX_MAX_CONTEXT + 1];
    assert_int_equal(secretbox_open(&a, 1, ctx, sizeof(ctx), s, strlen(s), (unsigned char *)out, sizeof(out), &len, NULL),
                     HDF_SB_MALFORMED);
    static char huge[HDF_SECRETBOX_SEALED_MAX + 8];
    memset(huge, 'A', sizeof(huge) - 1);
    memcpy(huge, "v1.630dcd29.", 12);
    assert_int_equal(open_(&a, 1, CTX, huge, out, NULL), HDF_SB_MALFORMED);
    for (int r = HDF_SB_OK; r <= HDF_SB_CRYPTO; r++)
        assert_string_not_equal(secretbox_result_str((hdf_secretbox_result_t)r), "unknown");
    assert_string_equal(secretbox_result_str((hdf_secretbox_result_t)77), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_key_list),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_seal_refuses),
        cmocka_unit_test(test_wrong_key_and_context),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
