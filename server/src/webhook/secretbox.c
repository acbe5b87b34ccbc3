/*
 * secretbox.c: AES-256-GCM sealing of webhook secrets at rest (see secretbox.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include "common/base64.h"
#include "common/util.h"
#include "webhook/secretbox.h"

#define SB_PREFIX "v1."
#define SB_HEADER_LEN (3 + 2 * HDF_SECRETBOX_KEY_ID_LEN + 1) /* "v1.xxxxxxxx." */

const char *secretbox_result_str(hdf_secretbox_result_t r)
{
    switch (r) {
    case HDF_SB_OK:
        return "ok";
    case HDF_SB_MALFORMED:
        return "not a sealed secret";
    case HDF_SB_UNKNOWN_KEY:
        return "sealed with a key that is not HDF_SECRET_KEY or in HDF_SECRET_KEY_PREVIOUS";
    case HDF_SB_AUTH_FAILED:
        return "the sealed secret does not authenticate (tampered, or moved from another row)";
    case HDF_SB_CRYPTO:
        return "OpenSSL failed";
    }
    return "unknown";
}

int secretbox_key_parse(const char *hex, size_t len, hdf_secretbox_key_t *out, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (len != 2 * HDF_SECRETBOX_KEY_LEN) {
        *why = "must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`";
        return -1;
    }
    if (hex_decode(hex, len, out->key, sizeof(out->key)) != HDF_SECRETBOX_KEY_LEN) {
        *why = "must hold hex digits only (0-9, a-f)";
        return -1;
    }
    unsigned char any = 0;
    for (size_t i = 0; i < sizeof(out->key); i++)
        any |= out->key[i];
    if (any == 0) {
        *why = "is all zeros: generate a real key with `openssl rand -hex 32`";
        return -1;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(out->key, sizeof(out->key), digest);
    memcpy(out->id, digest, sizeof(out->id));
    return 0;
}

int secretbox_keys_parse_list(const char *s, size_t len, hdf_secretbox_key_t *out, int max, const char **why)
{
    int n = 0;
    const char *p = s, *end = s + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        if (n >= max || n >= HDF_SECRETBOX_MAX_PREVIOUS) {
            *why = "lists too many keys (at most 4)";
            return -1;
        }
        if (secretbox_key_parse(p, (size_t)(stop - p), &out[n], why) != 0)
            return -1;
        for (int i = 0; i < n; i++)
            if (memcmp(out[i].id, out[n].id, HDF_SECRETBOX_KEY_ID_LEN) == 0) {
                *why = "lists the same key twice";
                return -1;
            }
        n++;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

/* "v1.<key id>." + context: binds the version, the key and the row into the tag. */
static size_t build_aad(const unsigned char id[HDF_SECRETBOX_KEY_ID_LEN], const char *context, size_t ctxlen, unsigned char *aad)
{
    char idhex[2 * HDF_SECRETBOX_KEY_ID_LEN + 1];
    hex_encode(id, HDF_SECRETBOX_KEY_ID_LEN, idhex);
    int n = snprintf((char *)aad, SB_HEADER_LEN + 1, SB_PREFIX "%s.", idhex);
    memcpy(aad + n, context, ctxlen);
    return (size_t)n + ctxlen;
}

/* One AES-256-GCM pass. enc: tag is written; !enc: tag is checked (returns 0 on a mismatch). */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const unsigned char *aad, size_t aadlen,
               const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL, n = 0, fin = 0;
    ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HDF_SECRETBOX_NONCE_LEN, NULL) == 1;
    ok = ok && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1;
    ok = ok && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1;
    ok = ok && EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HDF_SECRETBOX_TAG_LEN, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &fin) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HDF_SECRETBOX_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int secretbox_seal(const hdf_secretbox_key_t *key, const char *context, size_t ctxlen, const void *pt, size_t ptlen, char *out,
                   size_t outsz)
{
    size_t rawlen = HDF_SECRETBOX_NONCE_LEN + ptlen + HDF_SECRETBOX_TAG_LEN;
    if (ptlen == 0 || ptlen > HDF_SECRETBOX_MAX_PLAINTEXT || ctxlen > HDF_SECRETBOX_MAX_CONTEXT ||
        outsz < SB_HEADER_LEN + HDF_BASE64_LEN(rawlen) + 1)
        return -1;
    unsigned char raw[HDF_SECRETBOX_NONCE_LEN + HDF_SECRETBOX_MAX_PLAINTEXT + HDF_SECRETBOX_TAG_LEN];
    unsigned char aad[SB_HEADER_LEN + HDF_SECRETBOX_MAX_CONTEXT + 1];
    size_t aadlen = build_aad(key->id, context, ctxlen, aad);
    unsigned char *nonce = raw, *ct = raw + HDF_SECRETBOX_NONCE_LEN, *tag = ct + ptlen;
    if (RAND_bytes(nonce, HDF_SECRETBOX_NONCE_LEN) != 1 || !gcm(1, key->key, nonce, aad, aadlen, pt, ptlen, ct, tag))
        return -1;
    memcpy(out, aad, SB_HEADER_LEN); /* the AAD starts with the header */
    base64_encode(raw, rawlen, out + SB_HEADER_LEN);
    return (int)(SB_HEADER_LEN + HDF_BASE64_LEN(rawlen));
}

/* Splits "v1.<id>.<base64>" and decodes it; returns the raw length or -1. */
static int sealed_parse(const char *s, size_t len, unsigned char id[HDF_SECRETBOX_KEY_ID_LEN], unsigned char *raw, size_t rawsz)
{
    if (len < SB_HEADER_LEN || memcmp(s, SB_PREFIX, 3) != 0 || s[SB_HEADER_LEN - 1] != '.')
        return -1;
    for (size_t i = 3; i < SB_HEADER_LEN - 1; i++) /* the id is written in lowercase: one text form */
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    if (hex_decode(s + 3, 2 * HDF_SECRETBOX_KEY_ID_LEN, id, HDF_SECRETBOX_KEY_ID_LEN) != HDF_SECRETBOX_KEY_ID_LEN)
        return -1;
    int n = base64_decode(s + SB_HEADER_LEN, len - SB_HEADER_LEN, raw, rawsz);
    return n < HDF_SECRETBOX_NONCE_LEN + 1 + HDF_SECRETBOX_TAG_LEN ? -1 : n;
}

hdf_secretbox_result_t secretbox_open(const hdf_secretbox_key_t *keys, int nkeys, const char *context, size_t ctxlen,
                                      const char *sealed, size_t len, unsigned char *out, size_t outsz, size_t *outlen,
                                      int *key_index)
{
    unsigned char raw[HDF_SECRETBOX_NONCE_LEN + HDF_SECRETBOX_MAX_PLAINTEXT + HDF_SECRETBOX_TAG_LEN];
    unsigned char id[HDF_SECRETBOX_KEY_ID_LEN];
    if (len >= HDF_SECRETBOX_SEALED_MAX || ctxlen > HDF_SECRETBOX_MAX_CONTEXT || nkeys < 1)
        return HDF_SB_MALFORMED;
    int rawlen = sealed_parse(sealed, len, id, raw, sizeof(raw));
    if (rawlen < 0)
        return HDF_SB_MALFORMED;
    size_t ptlen = (size_t)rawlen - HDF_SECRETBOX_NONCE_LEN - HDF_SECRETBOX_TAG_LEN;
    if (ptlen > outsz)
        return HDF_SB_MALFORMED;
    unsigned char aad[SB_HEADER_LEN + HDF_SECRETBOX_MAX_CONTEXT + 1];
    size_t aadlen = build_aad(id, context, ctxlen, aad);
    unsigned char *nonce = raw, *ct = raw + HDF_SECRETBOX_NONCE_LEN, *tag = ct + ptlen;
    int k, known = 0;
    /* ids are 32 bits: two keys could share one, so every key with this id gets a try */
    for (k = 0; k < nkeys; k++) {
        if (memcmp(keys[k].id, id, HDF_SECRETBOX_KEY_ID_LEN) != 0)
            continue;
        known = 1;
        if (gcm(0, keys[k].key, nonce, aad, aadlen, ct, ptlen, out, tag))
            break;
        OPENSSL_cleanse(out, ptlen);
    }
    if (k == nkeys)
        return known ? HDF_SB_AUTH_FAILED : HDF_SB_UNKNOWN_KEY;
    *outlen = ptlen;
    if (key_index != NULL)
        *key_index = k;
    return HDF_SB_OK;
}
