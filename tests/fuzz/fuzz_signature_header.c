/*
 * fuzz_signature_header.c: libFuzzer target for webhook/signature.c. The first byte picks the
 * split of the rest into header, body and (for the Standard Webhooks form) id and timestamp.
 * Checks, beyond not crashing or reading out of bounds: the parsers accept only headers within
 * the length bound; a parsed X-HDF-Signature has one or two v1 and a timestamp that re-signing
 * reproduces; verification of fuzzed headers returns a defined result and is OK only when the
 * header carries the MAC of the body (checked by re-signing); a header we sign for the body
 * verifies, and fails once the body changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "webhook/signature.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

static void fuzz_hdf(const hdf_webhook_key_t *k, const char *h, size_t hlen, const char *body, size_t blen)
{
    hdf_sig_hdf_header_t ph;
    int rc = webhook_parse_hdf_header(h, hlen, &ph);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        CHECK(hlen <= HDF_WEBHOOK_SIG_HEADER_MAX && ph.nv1 >= 1 && ph.nv1 <= 2 && ph.t >= 0 && ph.t <= HDF_WEBHOOK_T_MAX);
    hdf_sig_result_t r = webhook_verify_hdf(k, 1, h, hlen, body, blen, rc == 0 ? ph.t : 0, HDF_WEBHOOK_TOLERANCE_S);
    CHECK(r >= HDF_SIG_OK && r <= HDF_SIG_NO_MATCH);
    CHECK(rc == 0 || r == HDF_SIG_MALFORMED);
    if (r == HDF_SIG_OK) { /* then one of its v1 is our MAC */
        char mine[HDF_WEBHOOK_HDF_SIG_BUFSZ];
        CHECK(webhook_sign_hdf(k, 1, ph.t, body, blen, mine, sizeof(mine)) > 0);
        hdf_sig_hdf_header_t pm;
        CHECK(webhook_parse_hdf_header(mine, strlen(mine), &pm) == 0);
        int found = 0;
        for (int i = 0; i < ph.nv1; i++)
            found |= memcmp(ph.v1[i], pm.v1[0], HDF_WEBHOOK_MAC_LEN) == 0;
        CHECK(found);
    }
}

static void fuzz_std(const hdf_webhook_key_t *k, const char *id, size_t idlen, const char *ts, size_t tslen, const char *sig,
                     size_t siglen, const char *body, size_t blen)
{
    hdf_sig_std_header_t ps;
    int rc = webhook_parse_std_header(sig, siglen, &ps);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        CHECK(siglen <= HDF_WEBHOOK_SIG_HEADER_MAX && ps.nv1 >= 0 && ps.nv1 <= HDF_WEBHOOK_STD_MAX_ENTRIES);
    int64_t t = 0;
    int trc = webhook_parse_timestamp(ts, tslen, &t);
    hdf_sig_result_t r = webhook_verify_standard(k, 1, id, idlen, ts, tslen, sig, siglen, body, blen, t, HDF_WEBHOOK_TOLERANCE_S);
    CHECK(r >= HDF_SIG_OK && r <= HDF_SIG_NO_MATCH);
    if (rc != 0 || trc != 0)
        CHECK(r == HDF_SIG_MALFORMED);
}

/* What we sign verifies, and stops verifying when the body changes. */
static void round_trip(const hdf_webhook_key_t *k, const char *body, size_t blen)
{
    char h[HDF_WEBHOOK_HDF_SIG_BUFSZ], s[HDF_WEBHOOK_STD_SIG_BUFSZ];
    CHECK(webhook_sign_hdf(k, 1, 1700000000, body, blen, h, sizeof(h)) > 0);
    CHECK(webhook_verify_hdf(k, 1, h, strlen(h), body, blen, 1700000000, 0) == HDF_SIG_OK);
    CHECK(webhook_sign_standard(k, 1, "evt_x", 1700000000, body, blen, s, sizeof(s)) > 0);
    CHECK(webhook_verify_standard(k, 1, "evt_x", 5, "1700000000", 10, s, strlen(s), body, blen, 1700000000, 0) == HDF_SIG_OK);
    if (blen > 0) {
        CHECK(webhook_verify_hdf(k, 1, h, strlen(h), body, blen - 1, 1700000000, 0) == HDF_SIG_NO_MATCH);
        CHECK(webhook_verify_standard(k, 1, "evt_x", 5, "1700000000", 10, s, strlen(s), body, blen - 1, 1700000000, 0) ==
              HDF_SIG_NO_MATCH);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hdf_webhook_key_t k;
    CHECK(webhook_secret_parse(secret, sizeof(secret) - 1, &k, NULL) == 0);
    if (size < 1)
        return 0;
    /* the input as text after the selector byte; fields separated by '\n' */
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    const char *f[4] = {s, s, s, s};
    size_t flen[4] = {0, 0, 0, 0};
    int nf = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n && nf < 4; i++) {
        if (i == n || (s[i] == '\n' && nf < 3)) {
            f[nf] = s + start;
            flen[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    /* webhook_secret_parse on arbitrary text too */
    hdf_webhook_key_t any;
    if (webhook_secret_parse(s, n, &any, NULL) == 0)
        CHECK(any.len >= HDF_WEBHOOK_KEY_MIN && any.len <= HDF_WEBHOOK_KEY_MAX);
    if (data[0] & 1) /* header \n body */
        fuzz_hdf(&k, f[0], flen[0], f[1], flen[1]);
    else /* id \n timestamp \n signature \n body */
        fuzz_std(&k, f[0], flen[0], f[1], flen[1], f[2], flen[2], f[3], flen[3]);
    round_trip(&k, s, n);
    return 0;
}
