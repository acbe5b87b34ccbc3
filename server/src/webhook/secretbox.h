/*
 * secretbox.h: encryption of webhook secrets at rest with HDF_SECRET_KEY (64 hex characters, 32
 * bytes), so that a database dump alone does not reveal them. AES-256-GCM with a random 96-bit
 * nonce; the sealed text is self-describing:
 *
 *   v1.<key id: 8 hex>.<base64 of nonce (12) | ciphertext | tag (16)>
 *
 * The key id is the first 4 bytes of SHA-256(key), so opening picks the right key out of the
 * current one and HDF_SECRET_KEY_PREVIOUS without trying each (and an operator can compute it:
 * `printf %s "$HDF_SECRET_KEY" | xxd -r -p | sha256sum | cut -c1-8`). The additional
 * authenticated data is "v1.<key id>." followed by a context the caller chooses, such as
 * "webhook_subscriptions.secret:42": a sealed value copied into another row does not open there.
 *
 * Rotation: set HDF_SECRET_KEY to a new key and HDF_SECRET_KEY_PREVIOUS to the old one (a comma-
 * separated list when several are still in use); values sealed with either open, secretbox_open
 * says which key opened one, and a re-encryption pass seals the stale ones with the current key;
 * afterwards HDF_SECRET_KEY_PREVIOUS can go.
 */
#ifndef HDF_WEBHOOK_SECRETBOX_H
#define HDF_WEBHOOK_SECRETBOX_H

#include <stddef.h>

#define HDF_SECRETBOX_KEY_LEN 32
#define HDF_SECRETBOX_KEY_ID_LEN 4
#define HDF_SECRETBOX_NONCE_LEN 12
#define HDF_SECRETBOX_TAG_LEN 16
/* Plaintexts are secrets: a few dozen bytes. The bound keeps every buffer small and fixed. */
#define HDF_SECRETBOX_MAX_PLAINTEXT 1024
#define HDF_SECRETBOX_MAX_CONTEXT 256
/* Keys HDF_SECRET_KEY_PREVIOUS may list. */
#define HDF_SECRETBOX_MAX_PREVIOUS 4
/* Longest sealed text, NUL included. */
#define HDF_SECRETBOX_SEALED_MAX                                                                                                   \
    (3 + 2 * HDF_SECRETBOX_KEY_ID_LEN + 1 +                                                                                        \
     ((HDF_SECRETBOX_NONCE_LEN + HDF_SECRETBOX_MAX_PLAINTEXT + HDF_SECRETBOX_TAG_LEN + 2) / 3) * 4 + 1)

typedef struct hdf_secretbox_key {
    unsigned char key[HDF_SECRETBOX_KEY_LEN];
    unsigned char id[HDF_SECRETBOX_KEY_ID_LEN];
} hdf_secretbox_key_t;

typedef enum hdf_secretbox_result {
    HDF_SB_OK = 0,
    HDF_SB_MALFORMED,   /* not a sealed value of a version we know, or an argument out of bounds */
    HDF_SB_UNKNOWN_KEY, /* sealed with a key that is neither current nor previous */
    HDF_SB_AUTH_FAILED, /* the key id matches but the tag does not: tampered, or the wrong context */
    HDF_SB_CRYPTO,      /* OpenSSL failed (out of memory) */
} hdf_secretbox_result_t;

const char *secretbox_result_str(hdf_secretbox_result_t r);

/* Parses a 64-hex-character key (either case, nothing around it) and derives its id. Refuses the
 * all-zero key, a placeholder rather than a key. Returns 0, or -1 with *why naming the problem. */
int secretbox_key_parse(const char *hex, size_t len, hdf_secretbox_key_t *out, const char **why);
/* Parses HDF_SECRET_KEY_PREVIOUS: keys separated by commas (1..HDF_SECRETBOX_MAX_PREVIOUS of
 * them, no empty entries, no two with one id). Returns the count, or -1 with *why. */
int secretbox_keys_parse_list(const char *s, size_t len, hdf_secretbox_key_t *out, int max, const char **why);

/* Seals pt (1..HDF_SECRETBOX_MAX_PLAINTEXT bytes) with key under context (0..MAX_CONTEXT bytes)
 * into out (outsz >= HDF_SECRETBOX_SEALED_MAX is always enough). Returns the text length or -1. */
int secretbox_seal(const hdf_secretbox_key_t *key, const char *context, size_t ctxlen, const void *pt, size_t ptlen, char *out,
                   size_t outsz);
/* Opens sealed (len bytes) with whichever of keys[0..nkeys) has its id (keys[0] the current key,
 * the rest previous ones) under context. On HDF_SB_OK writes the plaintext to out (outsz >=
 * HDF_SECRETBOX_MAX_PLAINTEXT is always enough), its length to *outlen and the index of the key
 * that opened it to *key_index (> 0: re-seal with keys[0]). out is wiped on failure. */
hdf_secretbox_result_t secretbox_open(const hdf_secretbox_key_t *keys, int nkeys, const char *context, size_t ctxlen,
                                      const char *sealed, size_t len, unsigned char *out, size_t outsz, size_t *outlen,
                                      int *key_index);

#endif
