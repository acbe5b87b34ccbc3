/*
 * query.c: query-string parsing (see query.h).
 */
#include <string.h>
#include <strings.h>
#include "http/query.h"
#include "common/util.h"

/* Decodes src[0..len) into dst (NUL-terminated); '+' is a space as in forms. */
static int decode(const char *src, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[o++] = src[i] == '+' ? ' ' : src[i];
        }
    }
    dst[o] = '\0';
    if (memchr(dst, '\0', o) != NULL || utf8_find_invalid(dst, o) >= 0)
        return -1;
    return 0;
}

int query_parse(const char *qs, size_t len, struct hdf_query *q, void *(*alloc)(void *ctx, size_t), void *ctx)
{
    q->n = 0;
    q->buf = alloc(ctx, len * 2 + 2);
    char *out = q->buf;
    const char *p = qs, *end = qs + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if (stop > p) {
            if (q->n == HDF_QUERY_MAX_PARAMS)
                return -1;
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *nend = eq != NULL ? eq : stop;
            struct hdf_query_param *qp = &q->params[q->n++];
            qp->name = out;
            if (decode(p, (size_t)(nend - p), out) != 0)
                return -1;
            out += strlen(out) + 1;
            qp->value = out;
            if (decode(eq != NULL ? eq + 1 : stop, eq != NULL ? (size_t)(stop - eq - 1) : 0, out) != 0)
                return -1;
            out += strlen(out) + 1;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    return 0;
}

const char *query_get(const struct hdf_query *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->params[i].name, name) == 0)
            return q->params[i].value;
    return NULL;
}

int query_has_credential(const struct hdf_query *q)
{
    static const char *const names[] = {"api_key", "apikey", "api-key", "token", "access_token"};
    for (size_t i = 0; i < q->n; i++)
        for (size_t k = 0; k < HDF_ARRAY_SIZE(names); k++)
            if (strcasecmp(q->params[i].name, names[k]) == 0)
                return 1;
    return 0;
}

const char *query_first_unknown(const struct hdf_query *q, const char *const *allowed)
{
    for (size_t i = 0; i < q->n; i++) {
        int known = 0;
        for (const char *const *a = allowed; *a != NULL && !known; a++)
            known = strcmp(*a, q->params[i].name) == 0;
        if (!known)
            return q->params[i].name;
    }
    return NULL;
}
