/*
 * signature.c: webhook secrets, signing and verification (see signature.h).
 */
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "webhook/signature.h"

const char *webhook_sig_result_str(hdf_sig_result_t r)
{
    switch (r) {
    case HDF_SIG_OK:
        return "ok";
    case HDF_SIG_MALFORMED:
        return "malformed signature headers";
    case HDF_SIG_TOO_OLD:
        return "timestamp too old";
    case HDF_SIG_TOO_NEW:
        return "timestamp too new";
    case HDF_SIG_NO_MATCH:
        return "no matching signature";
    }
    return "unknown";
}

/* ---- secrets ------------------------------------------------------------------------------ */

void webhook_secret_format(const hdf_webhook_key_t *key, char out[HDF_WEBHOOK_SECRET_BUFSZ])
{
    memcpy(out, HDF_WEBHOOK_SECRET_PREFIX, 6);
    base64_encode(key->bytes, key->len, out + 6);
}

void webhook_secret_generate(char out[HDF_WEBHOOK_SECRET_BUFSZ], hdf_webhook_key_t *key)
{
    hdf_webhook_key_t k;
    k.len = HDF_WEBHOOK_KEY_LEN;
    arc4random_buf(k.bytes, k.len);
    webhook_secret_format(&k, out);
    if (key != NULL)
        *key = k;
    OPENSSL_cleanse(&k, sizeof(k));
}

int webhook_secret_parse(const char *secret, size_t len, hdf_webhook_key_t *key, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (len < 6 || memcmp(secret, HDF_WEBHOOK_SECRET_PREFIX, 6) != 0) {
        *why = "a webhook secret starts with \"whsec_\"";
        return -1;
    }
    if (len - 6 > HDF_BASE64_LEN(HDF_WEBHOOK_KEY_MAX)) {
        *why = "a webhook secret's key is at most 64 bytes";
        return -1;
    }
    int n = base64_decode(secret + 6, len - 6, key->bytes, sizeof(key->bytes));
    if (n < 0) {
        *why = "a webhook secret's key is canonical base64 after \"whsec_\"";
        return -1;
    }
    if (n < HDF_WEBHOOK_KEY_MIN) {
        *why = "a webhook secret's key is at least 24 bytes";
        return -1;
    }
    key->len = (size_t)n;
    return 0;
}

/* ---- signing ------------------------------------------------------------------------------ */

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void on_hmac_once(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* HMAC-SHA256(key, prefix || body): prefix is "<t>." or "<id>.<t>.". */
static void mac_compute(const hdf_webhook_key_t *key, const char *prefix, size_t plen, const void *body, size_t blen,
                        unsigned char mac[HDF_WEBHOOK_MAC_LEN])
{
    pthread_once(&hmac_once, on_hmac_once);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = hmac_alg != NULL ? EVP_MAC_CTX_new(hmac_alg) : NULL;
    size_t maclen = 0;
    if (ctx == NULL || EVP_MAC_init(ctx, key->bytes, key->len, params) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)prefix, plen) != 1 || EVP_MAC_update(ctx, body, blen) != 1 ||
        EVP_MAC_final(ctx, mac, &maclen, HDF_WEBHOOK_MAC_LEN) != 1 || maclen != HDF_WEBHOOK_MAC_LEN) {
        /* out of memory or a crippled OpenSSL: a made-up MAC would be worse than stopping */
        abort();
    }
    EVP_MAC_CTX_free(ctx);
}

static int signers_valid(const hdf_webhook_key_t *keys, int nkeys, int64_t t)
{
    if (nkeys < 1 || nkeys > HDF_WEBHOOK_MAX_SIGNERS || t < 0 || t > HDF_WEBHOOK_T_MAX)
        return 0;
    for (int i = 0; i < nkeys; i++)
        if (keys[i].len == 0 || keys[i].len > HDF_WEBHOOK_KEY_MAX)
            return 0;
    return 1;
}

int webhook_sign_hdf(const hdf_webhook_key_t *keys, int nkeys, int64_t t, const void *body, size_t len, char *out, size_t outsz)
{
    if (!signers_valid(keys, nkeys, t) || outsz < HDF_WEBHOOK_HDF_SIG_BUFSZ)
        return -1;
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
    int o = snprintf(out, outsz, "t=%lld", (long long)t);
    for (int i = 0; i < nkeys; i++) {
        unsigned char mac[HDF_WEBHOOK_MAC_LEN];
        mac_compute(&keys[i], prefix, (size_t)plen, body, len, mac);
        memcpy(out + o, ",v1=", 4);
        hex_encode(mac, sizeof(mac), out + o + 4);
        o += 4 + 2 * HDF_WEBHOOK_MAC_LEN;
    }
    return o;
}

static int msg_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > HDF_WEBHOOK_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (id[i] <= 0x20 || id[i] >= 0x7f || id[i] == '.')
            return 0;
    return 1;
}

int webhook_sign_standard(const hdf_webhook_key_t *keys, int nkeys, const char *msg_id, int64_t t, const void *body, size_t len,
                          char *out, size_t outsz)
{
    size_t idlen = strlen(msg_id);
    if (!signers_valid(keys, nkeys, t) || !msg_id_valid(msg_id, idlen) || outsz < HDF_WEBHOOK_STD_SIG_BUFSZ)
        return -1;
    char prefix[HDF_WEBHOOK_ID_MAX + 32];
    int plen = snprintf(prefix, sizeof(prefix), "%s.%lld.", msg_id, (long long)t);
    int o = 0;
    for (int i = 0; i < nkeys; i++) {
        unsigned char mac[HDF_WEBHOOK_MAC_LEN];
        mac_compute(&keys[i], prefix, (size_t)plen, body, len, mac);
        if (i > 0)
            out[o++] = ' ';
        memcpy(out + o, "v1,", 3);
        base64_encode(mac, sizeof(mac), out + o + 3);
        o += 3 + (int)HDF_BASE64_LEN(HDF_WEBHOOK_MAC_LEN);
    }
    out[o] = '\0';
    return o;
}

/* ---- parsing ------------------------------------------------------------------------------ */

int webhook_parse_timestamp(const char *s, size_t len, int64_t *t)
{
    if (len == 0 || len > 12 || (s[0] == '0' && len > 1))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *t = v;
    return 0;
}

/* One "key=value" part of X-HDF-Signature. */
static int hdf_header_part(const char *p, size_t len, hdf_sig_hdf_header_t *out, int *have_t)
{
    const char *eq = memchr(p, '=', len);
    if (eq == NULL)
        return -1;
    size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
    const char *v = eq + 1;
    if (klen == 1 && p[0] == 't') {
        if (*have_t)
            return -1;
        *have_t = 1;
        return webhook_parse_timestamp(v, vlen, &out->t);
    }
    if (klen == 2 && p[0] == 'v' && p[1] == '1') {
        if (out->nv1 >= HDF_WEBHOOK_MAX_SIGNERS || vlen != 2 * HDF_WEBHOOK_MAC_LEN)
            return -1;
        if (hex_decode(v, vlen, out->v1[out->nv1], HDF_WEBHOOK_MAC_LEN) != HDF_WEBHOOK_MAC_LEN)
            return -1;
        out->nv1++;
        return 0;
    }
    return -1; /* we send t and v1 only: anything else means the header is not ours */
}

int webhook_parse_hdf_header(const char *h, size_t len, hdf_sig_hdf_header_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > HDF_WEBHOOK_SIG_HEADER_MAX)
        return -1;
    int have_t = 0;
    const char *p = h, *end = h + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        if (stop == p || hdf_header_part(p, (size_t)(stop - p), out, &have_t) != 0)
            return -1;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return have_t && out->nv1 > 0 ? 0 : -1;
}

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* One "<version>,<signature>" entry of webhook-signature. */
static int std_header_entry(const char *p, size_t len, hdf_sig_std_header_t *out)
{
    const char *comma = memchr(p, ',', len);
    if (comma == NULL || comma == p || comma - p > 8)
        return -1;
    size_t vlen = (size_t)(comma - p), slen = len - vlen - 1;
    const char *sig = comma + 1;
    for (size_t i = 0; i < vlen; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return -1;
    if (slen == 0)
        return -1;
    if (vlen == 2 && p[0] == 'v' && p[1] == '1') {
        unsigned char mac[HDF_WEBHOOK_MAC_LEN];
        if (base64_decode(sig, slen, mac, sizeof(mac)) != HDF_WEBHOOK_MAC_LEN)
            return -1;
        memcpy(out->v1[out->nv1++], mac, sizeof(mac));
        return 0;
    }
    for (size_t i = 0; i < slen; i++) /* another scheme: skipped, but it must look like one */
        if (!is_base64_char(sig[i]))
            return -1;
    return 0;
}

int webhook_parse_std_header(const char *h, size_t len, hdf_sig_std_header_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > HDF_WEBHOOK_SIG_HEADER_MAX)
        return -1;
    const char *p = h, *end = h + len;
    for (int n = 0;; n++) {
        const char *space = memchr(p, ' ', (size_t)(end - p));
        const char *stop = space != NULL ? space : end;
        if (n >= HDF_WEBHOOK_STD_MAX_ENTRIES || stop == p || std_header_entry(p, (size_t)(stop - p), out) != 0)
            return -1;
        if (space == NULL)
            break;
        p = space + 1;
    }
    return 0;
}

/* ---- verification ------------------------------------------------------------------------- */

static hdf_sig_result_t check_time(int64_t t, int64_t now, int64_t tolerance_s)
{
    if (tolerance_s < 0)
        return HDF_SIG_MALFORMED;
    if (now - t > tolerance_s) /* t <= HDF_WEBHOOK_T_MAX: no overflow for any sane now */
        return HDF_SIG_TOO_OLD;
    if (t - now > tolerance_s)
        return HDF_SIG_TOO_NEW;
    return HDF_SIG_OK;
}

/* Whether any of sigs[0..nsigs) is the MAC of prefix||body under any key. Every pair is compared,
 * in constant time, so the time taken says nothing about which one matched. */
static hdf_sig_result_t match_any(const hdf_webhook_key_t *keys, int nkeys, const char *prefix, size_t plen, const void *body,
                                  size_t blen, const unsigned char (*sigs)[HDF_WEBHOOK_MAC_LEN], int nsigs)
{
    int matched = 0;
    for (int k = 0; k < nkeys; k++) {
        if (keys[k].len == 0 || keys[k].len > HDF_WEBHOOK_KEY_MAX)
            return HDF_SIG_MALFORMED;
        unsigned char mac[HDF_WEBHOOK_MAC_LEN];
        mac_compute(&keys[k], prefix, plen, body, blen, mac);
        for (int i = 0; i < nsigs; i++)
            matched |= CRYPTO_memcmp(mac, sigs[i], HDF_WEBHOOK_MAC_LEN) == 0;
    }
    return matched ? HDF_SIG_OK : HDF_SIG_NO_MATCH;
}

hdf_sig_result_t webhook_verify_hdf(const hdf_webhook_key_t *keys, int nkeys, const char *header, size_t hlen, const void *body,
                                    size_t blen, int64_t now, int64_t tolerance_s)
{
    hdf_sig_hdf_header_t h;
    if (nkeys < 1 || webhook_parse_hdf_header(header, hlen, &h) != 0)
        return HDF_SIG_MALFORMED;
    hdf_sig_result_t r = check_time(h.t, now, tolerance_s);
    if (r != HDF_SIG_OK)
        return r;
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", (long long)h.t);
    return match_any(keys, nkeys, prefix, (size_t)plen, body, blen, (const unsigned char(*)[HDF_WEBHOOK_MAC_LEN])h.v1, h.nv1);
}

hdf_sig_result_t webhook_verify_standard(const hdf_webhook_key_t *keys, int nkeys, const char *msg_id, size_t idlen,
                                         const char *timestamp, size_t tslen, const char *signature, size_t siglen,
                                         const void *body, size_t blen, int64_t now, int64_t tolerance_s)
{
    int64_t t;
    hdf_sig_std_header_t h;
    if (nkeys < 1 || !msg_id_valid(msg_id, idlen) || webhook_parse_timestamp(timestamp, tslen, &t) != 0 ||
        webhook_parse_std_header(signature, siglen, &h) != 0)
        return HDF_SIG_MALFORMED;
    hdf_sig_result_t r = check_time(t, now, tolerance_s);
    if (r != HDF_SIG_OK)
        return r;
    char prefix[HDF_WEBHOOK_ID_MAX + 32];
    int plen = snprintf(prefix, sizeof(prefix), "%.*s.%lld.", (int)idlen, msg_id, (long long)t);
    return match_any(keys, nkeys, prefix, (size_t)plen, body, blen, (const unsigned char(*)[HDF_WEBHOOK_MAC_LEN])h.v1, h.nv1);
}
