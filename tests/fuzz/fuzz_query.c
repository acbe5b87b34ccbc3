/*
 * fuzz_query.c: libFuzzer target for http/query.c. The input is a query string (exact-size heap
 * copy); query_parse gets a malloc allocator whose blocks are freed afterwards. Checks, beyond not
 * crashing: the result agrees with a small reference parser written here (same split, same
 * percent-decoding, same refusals), every decoded string lies inside the allocated buffer, and
 * query_get / query_has_credential / query_first_unknown agree with the parsed parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/query.h"
#include "common/util.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

struct alloc_log {
    void *blocks[4];
    size_t sizes[4], n;
};

static void *log_alloc(void *ctx, size_t size)
{
    struct alloc_log *a = ctx;
    CHECK(a->n < 4);
    a->sizes[a->n] = size;
    a->blocks[a->n] = malloc(size);
    CHECK(a->blocks[a->n] != NULL);
    return a->blocks[a->n++];
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reference decoding of one name or value: 1 ok (into out, *outlen), 0 refused. */
static int ref_decode(const char *s, size_t len, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (len - i < 3 || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
                return 0;
            out[o++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    *outlen = o;
    return memchr(out, '\0', o) == NULL && utf8_find_invalid(out, o) == -1;
}

static int is_credential(const char *name)
{
    static const char *const names[] = {"api_key", "apikey", "api-key", "token", "access_token"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcasecmp(name, names[k]) == 0)
            return 1;
    return 0;
}

static void check_in_buffer(const struct alloc_log *a, const char *s)
{
    const char *base = a->blocks[0];
    CHECK(s >= base && s + strlen(s) < base + a->sizes[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = malloc(size > 0 ? size : 1);
    memcpy(qs, data, size);
    struct alloc_log a = {{0}, {0}, 0};
    struct hdf_query q;
    int rc = query_parse(qs, size, &q, log_alloc, &a);
    CHECK(a.n == 1);

    /* the reference: split on '&', skip empties, split on the first '=', decode both halves */
    char *scratch = malloc(size + 1);
    int ref_ok = 1;
    size_t ref_n = 0;
    const char *p = qs, *end = qs + size;
    while (p < end && ref_ok) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if (stop > p) {
            if (ref_n == HDF_QUERY_MAX_PARAMS) {
                ref_ok = 0;
                break;
            }
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *nend = eq != NULL ? eq : stop;
            size_t nl, vl;
            if (!ref_decode(p, (size_t)(nend - p), scratch, &nl)) {
                ref_ok = 0;
                break;
            }
            if (rc == 0)
                CHECK(ref_n < q.n && strlen(q.params[ref_n].name) == nl && memcmp(q.params[ref_n].name, scratch, nl) == 0);
            const char *vs = eq != NULL ? eq + 1 : stop;
            if (!ref_decode(vs, (size_t)(stop - vs), scratch, &vl)) {
                ref_ok = 0;
                break;
            }
            if (rc == 0)
                CHECK(strlen(q.params[ref_n].value) == vl && memcmp(q.params[ref_n].value, scratch, vl) == 0);
            ref_n++;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    CHECK((rc == 0) == ref_ok);

    if (rc == 0) {
        CHECK(q.n == ref_n && q.n <= HDF_QUERY_MAX_PARAMS);
        int cred = 0;
        for (size_t i = 0; i < q.n; i++) {
            check_in_buffer(&a, q.params[i].name);
            check_in_buffer(&a, q.params[i].value);
            cred |= is_credential(q.params[i].name);
            /* query_get returns the first parameter of that name */
            const char *got = query_get(&q, q.params[i].name);
            size_t first = 0;
            while (strcmp(q.params[first].name, q.params[i].name) != 0)
                first++;
            CHECK(got == q.params[first].value);
        }
        CHECK(query_has_credential(&q) == cred);
        static const char *const allowed[] = {"limit", "cursor", NULL};
        const char *unk = query_first_unknown(&q, allowed);
        const char *want = NULL;
        for (size_t i = 0; i < q.n && want == NULL; i++)
            if (strcmp(q.params[i].name, "limit") != 0 && strcmp(q.params[i].name, "cursor") != 0)
                want = q.params[i].name;
        CHECK(unk == want);
    }
    free(scratch);
    for (size_t i = 0; i < a.n; i++)
        free(a.blocks[i]);
    free(qs);
    return 0;
}
