/*
 * body.c: media-type check for request bodies (see body.h).
 */
#include <string.h>
#include <strings.h>
#include "http/body.h"

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static int charset_ok(const char *p, const char *end)
{
    /* parameters: ;name=value pairs; only charset is inspected */
    while (p < end) {
        p = skip_ws(p, end);
        if (p == end)
            return 1;
        if (*p != ';')
            return 0;
        p = skip_ws(p + 1, end);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi != NULL ? semi : end;
        if ((size_t)(stop - p) >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vlen = (size_t)(stop - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
                v++, vlen -= 2;
            if (!((vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) || (vlen == 4 && strncasecmp(v, "utf8", 4) == 0)))
                return 0;
        }
        p = stop;
    }
    return 1;
}

int body_content_type_is_json(const char *ct, size_t len)
{
    static const char json[] = "application/json";
    const char *end = ct + len, *p = skip_ws(ct, end);
    if ((size_t)(end - p) < sizeof(json) - 1 || strncasecmp(p, json, sizeof(json) - 1) != 0)
        return 0;
    return charset_ok(p + sizeof(json) - 1, end);
}
