/*
 * webhook_interop.c: the C side of the Standard Webhooks cross-check (webhook_interop.js). Reads
 * one JSON object on stdin and writes one on stdout:
 *   {"generate": N}                          -> {"secrets": [N fresh whsec_ secrets]}
 *   {"sign": [{"secrets","id","t","body"}]}  -> {"sign": [{"hdf": X-HDF-Signature, "std": webhook-signature}]}
 *   {"verify": [{"secrets","id","t","sig","body","now"}]}       -> {"verify": ["ok" | reason, ...]}
 *   {"verify_hdf": [{"secrets","header","body","now"}]}         -> {"verify_hdf": [...]}
 * (keys may be combined). Bodies are strings; t and now are integers; tolerance is 300 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "webhook/signature.h"

static int keys_of(json_t *c, hdf_webhook_key_t *keys)
{
    json_t *arr = json_object_get(c, "secrets");
    int n = (int)json_array_size(arr);
    if (n < 1 || n > HDF_WEBHOOK_MAX_SIGNERS)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, (size_t)i));
        if (s == NULL || webhook_secret_parse(s, strlen(s), &keys[i], NULL) != 0)
            return -1;
    }
    return n;
}

static const char *str(json_t *c, const char *k)
{
    const char *s = json_string_value(json_object_get(c, k));
    return s != NULL ? s : "";
}

static json_t *do_sign(json_t *c)
{
    hdf_webhook_key_t keys[HDF_WEBHOOK_MAX_SIGNERS];
    int n = keys_of(c, keys);
    const char *body = str(c, "body");
    int64_t t = json_integer_value(json_object_get(c, "t"));
    char hdf[HDF_WEBHOOK_HDF_SIG_BUFSZ], std[HDF_WEBHOOK_STD_SIG_BUFSZ];
    if (n < 0 || webhook_sign_hdf(keys, n, t, body, strlen(body), hdf, sizeof(hdf)) < 0 ||
        webhook_sign_standard(keys, n, str(c, "id"), t, body, strlen(body), std, sizeof(std)) < 0)
        return json_null();
    return json_pack("{s:s, s:s}", "hdf", hdf, "std", std);
}

static json_t *do_verify(json_t *c, int hdf)
{
    hdf_webhook_key_t keys[HDF_WEBHOOK_MAX_SIGNERS];
    int n = keys_of(c, keys);
    if (n < 0)
        return json_string("bad secrets");
    const char *body = str(c, "body");
    int64_t now = json_integer_value(json_object_get(c, "now"));
    hdf_sig_result_t r;
    if (hdf) {
        const char *h = str(c, "header");
        r = webhook_verify_hdf(keys, n, h, strlen(h), body, strlen(body), now, HDF_WEBHOOK_TOLERANCE_S);
    } else {
        const char *id = str(c, "id"), *t = str(c, "t"), *sig = str(c, "sig");
        r = webhook_verify_standard(keys, n, id, strlen(id), t, strlen(t), sig, strlen(sig), body, strlen(body), now,
                                    HDF_WEBHOOK_TOLERANCE_S);
    }
    return json_string(r == HDF_SIG_OK ? "ok" : webhook_sig_result_str(r));
}

static json_t *map(json_t *arr, json_t *(*fn)(json_t *, int), int arg)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) json_array_append_new(out, fn(c, arg));
    return out;
}

static json_t *sign_adapter(json_t *c, int arg)
{
    (void)arg;
    return do_sign(c);
}

int main(void)
{
    json_error_t err;
    json_t *in = json_loadf(stdin, 0, &err);
    if (in == NULL) {
        fprintf(stderr, "webhook_interop: bad input: %s\n", err.text);
        return 2;
    }
    json_t *out = json_object();
    json_int_t gen = json_integer_value(json_object_get(in, "generate"));
    if (gen > 0) {
        json_t *secrets = json_array();
        for (json_int_t i = 0; i < gen && i < 1000; i++) {
            char s[HDF_WEBHOOK_SECRET_BUFSZ];
            webhook_secret_generate(s, NULL);
            json_array_append_new(secrets, json_string(s));
        }
        json_object_set_new(out, "secrets", secrets);
    }
    if (json_object_get(in, "sign") != NULL)
        json_object_set_new(out, "sign", map(json_object_get(in, "sign"), sign_adapter, 0));
    if (json_object_get(in, "verify") != NULL)
        json_object_set_new(out, "verify", map(json_object_get(in, "verify"), do_verify, 0));
    if (json_object_get(in, "verify_hdf") != NULL)
        json_object_set_new(out, "verify_hdf", map(json_object_get(in, "verify_hdf"), do_verify, 1));
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    json_decref(in);
    return 0;
}
