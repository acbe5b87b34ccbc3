/*
 * signature.h: webhook secrets and signatures. A secret is "whsec_" + base64 of the key bytes
 * (32 random bytes for the secrets we issue); the HMAC-SHA256 key is the decoded bytes, so stock
 * Standard Webhooks libraries accept our secrets as they are. Two header forms are produced and
 * verified:
 *
 *   X-HDF-Signature: t=<unix seconds>,v1=<hex HMAC(key, "<t>.<body>")>[,v1=<hex, previous key>]
 *   webhook-id: <id>   webhook-timestamp: <t>
 *   webhook-signature: v1,<base64 HMAC(key, "<id>.<t>.<body>")>[ v1,<base64, previous key>]
 *
 * During a secret rotation the current key signs first and the previous one second. Verification
 * parses the header strictly, compares in constant time (CRYPTO_memcmp) and checks the timestamp
 * against a tolerance. Pure: OpenSSL and libbsd only.
 */
#ifndef HDF_WEBHOOK_SIGNATURE_H
#define HDF_WEBHOOK_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>
#include "common/base64.h"

#define HDF_WEBHOOK_SECRET_PREFIX "whsec_"
/* Keys we issue are 32 bytes; Standard Webhooks secrets of 24..64 bytes are accepted when parsed. */
#define HDF_WEBHOOK_KEY_LEN 32
#define HDF_WEBHOOK_KEY_MIN 24
#define HDF_WEBHOOK_KEY_MAX 64
/* "whsec_" + base64 of a key of at most HDF_WEBHOOK_KEY_MAX bytes, and a NUL. */
#define HDF_WEBHOOK_SECRET_BUFSZ (6 + HDF_BASE64_LEN(HDF_WEBHOOK_KEY_MAX) + 1)
#define HDF_WEBHOOK_MAC_LEN 32
/* At most two keys sign one delivery: the current one and, during overlap, the previous one. */
#define HDF_WEBHOOK_MAX_SIGNERS 2
/* Longest header values the verifier reads; longer ones are refused unparsed. */
#define HDF_WEBHOOK_SIG_HEADER_MAX 1024
#define HDF_WEBHOOK_ID_MAX 256
/* Buffers for the headers webhook_sign_* writes (two signers, a 20-digit timestamp, NUL). */
#define HDF_WEBHOOK_HDF_SIG_BUFSZ 176
#define HDF_WEBHOOK_STD_SIG_BUFSZ 100
/* The tolerance receivers should use, and the one docs/webhooks.md recommends. */
#define HDF_WEBHOOK_TOLERANCE_S 300

typedef struct hdf_webhook_key {
    unsigned char bytes[HDF_WEBHOOK_KEY_MAX];
    size_t len;
} hdf_webhook_key_t;

typedef enum hdf_sig_result {
    HDF_SIG_OK = 0,
    HDF_SIG_MALFORMED, /* the header (or id, or timestamp) is not in the expected form */
    HDF_SIG_TOO_OLD,   /* timestamp further in the past than the tolerance */
    HDF_SIG_TOO_NEW,   /* timestamp further in the future than the tolerance */
    HDF_SIG_NO_MATCH,  /* well-formed, but no signature was made with any of the keys */
} hdf_sig_result_t;

const char *webhook_sig_result_str(hdf_sig_result_t r);

/* A fresh secret: 32 bytes from arc4random_buf. out gets "whsec_<44 base64 chars>"; key (may be
 * NULL) the same bytes, ready to sign with. */
void webhook_secret_generate(char out[HDF_WEBHOOK_SECRET_BUFSZ], hdf_webhook_key_t *key);
/* Parses "whsec_" + canonical base64 of 24..64 bytes. Returns 0, or -1 with *why (static text). */
int webhook_secret_parse(const char *secret, size_t len, hdf_webhook_key_t *key, const char **why);
/* The text form of a key: the inverse of webhook_secret_parse. */
void webhook_secret_format(const hdf_webhook_key_t *key, char out[HDF_WEBHOOK_SECRET_BUFSZ]);

/* X-HDF-Signature for body at unix time t, signed by keys[0..nkeys) (1 or 2, current first).
 * Returns the header length, or -1 when nkeys is out of range, t is outside 0..HDF_WEBHOOK_T_MAX,
 * a key is empty or out is too small. */
int webhook_sign_hdf(const hdf_webhook_key_t *keys, int nkeys, int64_t t, const void *body, size_t len, char *out, size_t outsz);
/* webhook-signature for message id msg_id at unix time t; the same rules. webhook-timestamp is t in
 * decimal, webhook-id is msg_id (we use the event id). */
int webhook_sign_standard(const hdf_webhook_key_t *keys, int nkeys, const char *msg_id, int64_t t, const void *body, size_t len,
                          char *out, size_t outsz);

/* Parsed X-HDF-Signature: exactly one t (decimal, no sign or leading zero, at most 12 digits) and
 * one or two v1 (64 hex digits each); no other part, no empty part, no whitespace. */
typedef struct hdf_sig_hdf_header {
    int64_t t;
    int nv1;
    unsigned char v1[HDF_WEBHOOK_MAX_SIGNERS][HDF_WEBHOOK_MAC_LEN];
} hdf_sig_hdf_header_t;
int webhook_parse_hdf_header(const char *h, size_t len, hdf_sig_hdf_header_t *out);

/* Parsed webhook-signature: up to HDF_WEBHOOK_STD_MAX_ENTRIES space-separated "<version>,<sig>".
 * v1 signatures must be canonical base64 of 32 bytes; other versions (v1a is the spec's ed25519
 * scheme) are skipped, as the specification asks, but must still look like "<[a-z0-9]{1,8}>,<base64>". */
#define HDF_WEBHOOK_STD_MAX_ENTRIES 8
typedef struct hdf_sig_std_header {
    int nv1;
    unsigned char v1[HDF_WEBHOOK_STD_MAX_ENTRIES][HDF_WEBHOOK_MAC_LEN];
} hdf_sig_std_header_t;
int webhook_parse_std_header(const char *h, size_t len, hdf_sig_std_header_t *out);
/* A timestamp header or t= value: 1..12 decimal digits, no leading zero (except "0"). Signing
 * refuses timestamps past HDF_WEBHOOK_T_MAX for the same reason. */
#define HDF_WEBHOOK_T_MAX INT64_C(999999999999)
int webhook_parse_timestamp(const char *s, size_t len, int64_t *t);

/* Verifies X-HDF-Signature against body: any v1 made with any of keys[0..nkeys) and
 * |now - t| <= tolerance_s (tolerance_s >= 0). */
hdf_sig_result_t webhook_verify_hdf(const hdf_webhook_key_t *keys, int nkeys, const char *header, size_t hlen, const void *body,
                                    size_t blen, int64_t now, int64_t tolerance_s);
/* Verifies the Standard Webhooks headers: msg_id is 1..256 printable ASCII characters other than
 * '.', so that "<id>.<t>.<body>" splits one way only. */
hdf_sig_result_t webhook_verify_standard(const hdf_webhook_key_t *keys, int nkeys, const char *msg_id, size_t idlen,
                                         const char *timestamp, size_t tslen, const char *signature, size_t siglen,
                                         const void *body, size_t blen, int64_t now, int64_t tolerance_s);

#endif
