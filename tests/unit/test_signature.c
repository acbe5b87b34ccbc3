/*
 * test_signature.c: tests webhook/signature.c: the Standard Webhooks specification's published
 * test vector, an X-HDF-Signature vector computed with Python's hmac, secret generation and
 * parsing, two signers during a secret overlap, tampering, timestamp tolerance in both directions,
 * and the strict header parsers (every malformed form refused, unknown Standard Webhooks versions
 * skipped). The cross-check against the standardwebhooks npm package is tests/tools/webhook_cross_check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "webhook/signature.h"

/* From the Standard Webhooks specification and the test suites of its libraries. */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_T 1614265330
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* python3: hmac.new(base64.b64decode("MfKQ..."), b"1614265330." + body, sha256).hexdigest() */
#define HDF_V1_SW "e96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1cef"
/* the same with the key bytes 00 01 .. 1f */
#define SEQ_SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define HDF_V1_SEQ "4d315e1ba3a395ae4bccb6945393ff97b9f50eb786d0a15bfcda95b64b78b7ac"

static hdf_webhook_key_t key_of(const char *secret)
{
    hdf_webhook_key_t k;
    const char *why = NULL;
    assert_int_equal(webhook_secret_parse(secret, strlen(secret), &k, &why), 0);
    return k;
}

static hdf_sig_result_t verify_std(const hdf_webhook_key_t *keys, int n, const char *id, const char *ts, const char *sig,
                                   const char *body, int64_t now)
{
    return webhook_verify_standard(keys, n, id, strlen(id), ts, strlen(ts), sig, strlen(sig), body, strlen(body), now,
                                   HDF_WEBHOOK_TOLERANCE_S);
}

static hdf_sig_result_t verify_hdf(const hdf_webhook_key_t *keys, int n, const char *header, const char *body, int64_t now)
{
    return webhook_verify_hdf(keys, n, header, strlen(header), body, strlen(body), now, HDF_WEBHOOK_TOLERANCE_S);
}

static void test_standard_vector(void **state)
{
    (void)state;
    hdf_webhook_key_t k = key_of(SW_SECRET);
    assert_int_equal(k.len, 24);
    char sig[HDF_WEBHOOK_STD_SIG_BUFSZ];
    assert_int_equal(webhook_sign_standard(&k, 1, SW_ID, SW_T, SW_BODY, strlen(SW_BODY), sig, sizeof(sig)), (int)strlen(SW_SIG));
    assert_string_equal(sig, SW_SIG);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_OK);
}

static void test_hdf_vector(void **state)
{
    (void)state;
    hdf_webhook_key_t k[2] = {key_of(SEQ_SECRET), key_of(SW_SECRET)};
    char h[HDF_WEBHOOK_HDF_SIG_BUFSZ];
    assert_int_equal(webhook_sign_hdf(k, 1, SW_T, SW_BODY, strlen(SW_BODY), h, sizeof(h)), 12 + 68);
    assert_string_equal(h, "t=1614265330,v1=" HDF_V1_SEQ);
    assert_int_equal(webhook_sign_hdf(k, 2, SW_T, SW_BODY, strlen(SW_BODY), h, sizeof(h)), 12 + 2 * 68);
    assert_string_equal(h, "t=1614265330,v1=" HDF_V1_SEQ ",v1=" HDF_V1_SW);
    assert_int_equal(verify_hdf(&k[0], 1, h, SW_BODY, SW_T), HDF_SIG_OK);
    assert_int_equal(verify_hdf(&k[1], 1, h, SW_BODY, SW_T), HDF_SIG_OK);
}

static void test_secret_generate(void **state)
{
    (void)state;
    char s1[HDF_WEBHOOK_SECRET_BUFSZ], s2[HDF_WEBHOOK_SECRET_BUFSZ], again[HDF_WEBHOOK_SECRET_BUFSZ];
    hdf_webhook_key_t k1, k2, parsed;
    webhook_secret_generate(s1, &k1);
    webhook_secret_generate(s2, &k2);
    assert_int_equal(strlen(s1), 6 + 44);
    assert_memory_equal(s1, "whsec_", 6);
    assert_string_not_equal(s1, s2);
    assert_int_equal(k1.len, HDF_WEBHOOK_KEY_LEN);
    assert_int_equal(webhook_secret_parse(s1, strlen(s1), &parsed, NULL), 0);
    assert_int_equal(parsed.len, 32);
    assert_memory_equal(parsed.bytes, k1.bytes, 32);
    webhook_secret_format(&parsed, again);
    assert_string_equal(again, s1);
    webhook_secret_generate(s1, NULL); /* key is optional */
}

static void test_secret_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",                       /* no prefix */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",                 /* prefix is case-sensitive */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",                  /* length not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",                 /* not base64 */
        "whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw",                /* space */
        "whsec_AAECAwQFBgcICQoLDA0ODxA=",                         /* 16 bytes: too short */
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",     /* non-zero padding bits */
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",      /* padding missing */
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAAA", /* data after padding */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw_-",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdf_webhook_key_t k;
        const char *why = NULL;
        if (webhook_secret_parse(bad[i], strlen(bad[i]), &k, &why) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(why);
    }
    /* 65 bytes: one past the maximum */
    char big[6 + 92 + 1] = "whsec_";
    memset(big + 6, 'A', 88);
    memcpy(big + 6 + 88, "AA==", 5);
    hdf_webhook_key_t k;
    assert_int_equal(webhook_secret_parse(big, strlen(big), &k, NULL), -1);
    big[6 + 88] = '\0'; /* 66 bytes of zeros -> 88 chars = 66 bytes: also too long */
    assert_int_equal(webhook_secret_parse(big, strlen(big), &k, NULL), -1);
    big[6 + 84] = '\0'; /* 63 bytes */
    assert_int_equal(webhook_secret_parse(big, strlen(big), &k, NULL), 0);
    assert_int_equal(k.len, 63);
}

static void test_sign_refuses(void **state)
{
    (void)state;
    hdf_webhook_key_t k[3] = {key_of(SEQ_SECRET), key_of(SEQ_SECRET), key_of(SEQ_SECRET)};
    char h[HDF_WEBHOOK_HDF_SIG_BUFSZ];
    assert_int_equal(webhook_sign_hdf(k, 0, 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_hdf(k, 3, 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_hdf(k, 1, -1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_hdf(k, 1, HDF_WEBHOOK_T_MAX + 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_hdf(k, 1, 1, "x", 1, h, sizeof(h) - 1), -1);
    assert_int_equal(webhook_sign_standard(k, 1, "a.b", 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_standard(k, 1, "", 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_standard(k, 1, "id with space", 1, "x", 1, h, sizeof(h)), -1);
    k[0].len = 0;
    assert_int_equal(webhook_sign_standard(k, 1, "id", 1, "x", 1, h, sizeof(h)), -1);
    assert_int_equal(webhook_sign_hdf(k, 1, 0, "", 0, h, sizeof(h)), -1);
    k[0].len = 32;
    assert_true(webhook_sign_hdf(k, 1, 0, "", 0, h, sizeof(h)) > 0); /* t = 0 and an empty body are fine */
    assert_int_equal(verify_hdf(k, 1, h, "", 0), HDF_SIG_OK);
}

static void test_overlap_both_forms(void **state)
{
    (void)state;
    char cur[HDF_WEBHOOK_SECRET_BUFSZ], prev[HDF_WEBHOOK_SECRET_BUFSZ], other[HDF_WEBHOOK_SECRET_BUFSZ];
    hdf_webhook_key_t k[2], o;
    webhook_secret_generate(cur, &k[0]);
    webhook_secret_generate(prev, &k[1]);
    webhook_secret_generate(other, &o);
    const char *body = "{\"id\":\"evt_1\"}";
    int64_t t = 1700000000;
    char h[HDF_WEBHOOK_HDF_SIG_BUFSZ], s[HDF_WEBHOOK_STD_SIG_BUFSZ];
    assert_true(webhook_sign_hdf(k, 2, t, body, strlen(body), h, sizeof(h)) > 0);
    assert_true(webhook_sign_standard(k, 2, "evt_1", t, body, strlen(body), s, sizeof(s)) > 0);
    assert_non_null(strchr(s, ' '));
    for (int i = 0; i < 2; i++) { /* a receiver holding either secret accepts */
        assert_int_equal(verify_hdf(&k[i], 1, h, body, t), HDF_SIG_OK);
        assert_int_equal(verify_std(&k[i], 1, "evt_1", "1700000000", s, body, t), HDF_SIG_OK);
    }
    assert_int_equal(verify_hdf(&o, 1, h, body, t), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_std(&o, 1, "evt_1", "1700000000", s, body, t), HDF_SIG_NO_MATCH);
    hdf_webhook_key_t two[2] = {o, k[1]}; /* a receiver that itself holds two secrets */
    assert_int_equal(verify_hdf(two, 2, h, body, t), HDF_SIG_OK);
    assert_int_equal(verify_std(two, 2, "evt_1", "1700000000", s, body, t), HDF_SIG_OK);
    assert_int_equal(verify_hdf(two, 0, h, body, t), HDF_SIG_MALFORMED);
}

static void test_tamper(void **state)
{
    (void)state;
    hdf_webhook_key_t k = key_of(SW_SECRET);
    const char *hdr = "t=1614265330,v1=" HDF_V1_SW;
    assert_int_equal(verify_hdf(&k, 1, hdr, SW_BODY, SW_T), HDF_SIG_OK);
    assert_int_equal(verify_hdf(&k, 1, hdr, "{\"test\": 2432232315}", SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_hdf(&k, 1, hdr, "{\"test\": 2432232314} ", SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_hdf(&k, 1, "t=1614265331,v1=" HDF_V1_SW, SW_BODY, SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(
        verify_hdf(&k, 1, "t=1614265330,v1=f96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1cef", SW_BODY, SW_T),
        HDF_SIG_NO_MATCH);
    /* uppercase hex is the same bytes */
    assert_int_equal(
        verify_hdf(&k, 1, "t=1614265330,v1=E96203C6DE850E7DC1FDE7489EF6140B402D3A5A64FE250CD2EEF9830FAC1CEF", SW_BODY, SW_T),
        HDF_SIG_OK);
    /* the order of parts does not matter */
    assert_int_equal(verify_hdf(&k, 1, "v1=" HDF_V1_SW ",t=1614265330", SW_BODY, SW_T), HDF_SIG_OK);

    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG, "{\"test\": 2432232315}", SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_std(&k, 1, "msg_p5jXN8AQM9LWM0D4loKWxJeK", "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265331", SW_SIG, SW_BODY, SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SW_BODY, SW_T),
                     HDF_SIG_NO_MATCH);
    /* the signature of one form does not pass as the other */
    hdf_webhook_key_t seq = key_of(SEQ_SECRET);
    assert_int_equal(verify_hdf(&seq, 1, hdr, SW_BODY, SW_T), HDF_SIG_NO_MATCH);
    /* the body may hold any bytes, NUL included */
    const char bin[] = {'a', '\0', 'b'};
    char h[HDF_WEBHOOK_HDF_SIG_BUFSZ];
    assert_true(webhook_sign_hdf(&k, 1, 5, bin, sizeof(bin), h, sizeof(h)) > 0);
    assert_int_equal(webhook_verify_hdf(&k, 1, h, strlen(h), bin, sizeof(bin), 5, 0), HDF_SIG_OK);
    assert_int_equal(webhook_verify_hdf(&k, 1, h, strlen(h), bin, 1, 5, 0), HDF_SIG_NO_MATCH);
}

static void test_tolerance(void **state)
{
    (void)state;
    hdf_webhook_key_t k = key_of(SW_SECRET);
    const char *hdr = "t=1614265330,v1=" HDF_V1_SW;
    assert_int_equal(verify_hdf(&k, 1, hdr, SW_BODY, SW_T + 300), HDF_SIG_OK);
    assert_int_equal(verify_hdf(&k, 1, hdr, SW_BODY, SW_T + 301), HDF_SIG_TOO_OLD);
    assert_int_equal(verify_hdf(&k, 1, hdr, SW_BODY, SW_T - 300), HDF_SIG_OK);
    assert_int_equal(verify_hdf(&k, 1, hdr, SW_BODY, SW_T - 301), HDF_SIG_TOO_NEW);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG, SW_BODY, SW_T + 301), HDF_SIG_TOO_OLD);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG, SW_BODY, SW_T - 301), HDF_SIG_TOO_NEW);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG, SW_BODY, SW_T - 300), HDF_SIG_OK);
    /* a tampered body with an expired timestamp is reported as expired: the time is checked first */
    assert_int_equal(verify_hdf(&k, 1, hdr, "x", SW_T + 1000), HDF_SIG_TOO_OLD);
    /* tolerance 0: exact second only; negative: refused */
    assert_int_equal(webhook_verify_hdf(&k, 1, hdr, strlen(hdr), SW_BODY, strlen(SW_BODY), SW_T, 0), HDF_SIG_OK);
    assert_int_equal(webhook_verify_hdf(&k, 1, hdr, strlen(hdr), SW_BODY, strlen(SW_BODY), SW_T + 1, 0), HDF_SIG_TOO_OLD);
    assert_int_equal(webhook_verify_hdf(&k, 1, hdr, strlen(hdr), SW_BODY, strlen(SW_BODY), SW_T, -1), HDF_SIG_MALFORMED);
    /* extreme clocks do not overflow */
    assert_int_equal(webhook_verify_hdf(&k, 1, hdr, strlen(hdr), SW_BODY, strlen(SW_BODY), INT64_MAX / 2, 300), HDF_SIG_TOO_OLD);
    assert_int_equal(webhook_verify_hdf(&k, 1, hdr, strlen(hdr), SW_BODY, strlen(SW_BODY), INT64_MIN / 2, 300), HDF_SIG_TOO_NEW);
}

#define H64 "e96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1cef"

static void test_hdf_header_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "t=1",
        "v1=" H64,
        "t=1,t=1,v1=" H64,
        "t=1,t=2,v1=" H64,
        "t=01,v1=" H64,
        "t=-1,v1=" H64,
        "t=+1,v1=" H64,
        "t= 1,v1=" H64,
        "t=,v1=" H64,
        "t=1234567890123,v1=" H64,
        "t=1a,v1=" H64,
        "t=1,v1=" H64 "0",
        "t=1,v1=" H64 "00",
        "t=1,v1=e96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1ce",
        "t=1,v1=g96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1cef",
        "t=1,v1=",
        "t=1,v2=" H64,
        "t=1,v1=" H64 ",v0=" H64,
        "t=1,V1=" H64,
        "T=1,v1=" H64,
        "t=1, v1=" H64,
        " t=1,v1=" H64,
        "t=1,v1=" H64 " ",
        "t=1,,v1=" H64,
        "t=1,v1=" H64 ",",
        ",t=1,v1=" H64,
        "t=1,v1=" H64 ",v1=" H64 ",v1=" H64,
        "t=1;v1=" H64,
        "t=1,v1",
        "t=1,v1==" H64,
        "t=1,=x,v1=" H64,
        "t=1\0,v1=" H64,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdf_sig_hdf_header_t h;
        if (webhook_parse_hdf_header(bad[i], strlen(bad[i]), &h) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    hdf_sig_hdf_header_t h;
    const char nul[] = "t=1,v1=" H64 "\0";
    assert_int_equal(webhook_parse_hdf_header(nul, sizeof(nul) - 1, &h), -1); /* an embedded NUL */
    char longh[HDF_WEBHOOK_SIG_HEADER_MAX + 2];
    memset(longh, 'a', sizeof(longh) - 1);
    longh[sizeof(longh) - 1] = '\0';
    assert_int_equal(webhook_parse_hdf_header(longh, strlen(longh), &h), -1);
    assert_int_equal(webhook_parse_hdf_header("t=0,v1=" H64, 7 + 64, &h), 0);
    assert_int_equal(h.t, 0);
    assert_int_equal(webhook_parse_hdf_header("t=999999999999,v1=" H64 ",v1=" H64, 18 + 64 + 4 + 64, &h), 0);
    assert_int_equal(h.t, 999999999999LL);
    assert_int_equal(h.nv1, 2);
}

#define B44 "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_std_header_parse(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "v1",
        "v1,",
        ",abc",
        "v1," B44 " ",
        " v1," B44,
        "v1," B44 "  v1," B44,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",  /* unpadded */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", /* non-zero padding bits */
        "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* base64url */
        "v1,AAAA",                                         /* 3 bytes */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA", /* 33 bytes? no: 44 chars, no padding */
        "V1," B44,
        "v1a,not base64!",
        "version9x," B44,
        "v1;" B44,
        "v1," B44 ",x",
        "v1," B44 "\t",
        "v1," B44 " v1," B44 " v1," B44 " v1," B44 " v1," B44 " v1," B44 " v1," B44 " v1," B44 " v1," B44,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdf_sig_std_header_t h;
        if (webhook_parse_std_header(bad[i], strlen(bad[i]), &h) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    hdf_sig_std_header_t h;
    const char *ok = "v1a,c2lnbmF0dXJl v1," B44 " v2,AAAA";
    assert_int_equal(webhook_parse_std_header(ok, strlen(ok), &h), 0);
    assert_int_equal(h.nv1, 1);
    /* only other versions: well-formed, but nothing to match */
    hdf_webhook_key_t k = key_of(SW_SECRET);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", "v1a,c2lnbmF0dXJl", SW_BODY, SW_T), HDF_SIG_NO_MATCH);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", "v1a,c2lnbmF0dXJl " SW_SIG, SW_BODY, SW_T), HDF_SIG_OK);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330", SW_SIG " v1," B44, SW_BODY, SW_T), HDF_SIG_OK);
    /* ids and timestamps */
    assert_int_equal(verify_std(&k, 1, "", "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    assert_int_equal(verify_std(&k, 1, "msg.1", "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    assert_int_equal(verify_std(&k, 1, "msg 1", "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    assert_int_equal(verify_std(&k, 1, SW_ID, "01614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    assert_int_equal(verify_std(&k, 1, SW_ID, "1614265330.0", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    assert_int_equal(verify_std(&k, 1, SW_ID, "", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    char longid[HDF_WEBHOOK_ID_MAX + 2];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(verify_std(&k, 1, longid, "1614265330", SW_SIG, SW_BODY, SW_T), HDF_SIG_MALFORMED);
    longid[HDF_WEBHOOK_ID_MAX] = '\0';
    char s[HDF_WEBHOOK_STD_SIG_BUFSZ];
    assert_true(webhook_sign_standard(&k, 1, longid, SW_T, "b", 1, s, sizeof(s)) > 0);
    assert_int_equal(verify_std(&k, 1, longid, "1614265330", s, "b", SW_T), HDF_SIG_OK);
}

static void test_result_strings(void **state)
{
    (void)state;
    for (int r = HDF_SIG_OK; r <= HDF_SIG_NO_MATCH; r++)
        assert_string_not_equal(webhook_sig_result_str((hdf_sig_result_t)r), "unknown");
    assert_string_equal(webhook_sig_result_str((hdf_sig_result_t)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_vector),
        cmocka_unit_test(test_hdf_vector),
        cmocka_unit_test(test_secret_generate),
        cmocka_unit_test(test_secret_parse_invalid),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_overlap_both_forms),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_tolerance),
        cmocka_unit_test(test_hdf_header_malformed),
        cmocka_unit_test(test_std_header_parse),
        cmocka_unit_test(test_result_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
