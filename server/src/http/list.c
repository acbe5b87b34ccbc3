/*
 * list.c: shared parts of list endpoints (see list.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/list.h"
#include "http/respond.h"
#include "common/cursor.h"
#include "model/custom_field.h"

void list_read_page(struct hdf_req *r, const char *cursor_kind, const char *const *filters, struct hdf_list_page *page,
                    hdf_field_errors_t *fe)
{
    const char *allowed[HDF_QUERY_MAX_PARAMS + 3] = {"limit", "cursor"};
    size_t n = 2;
    for (; filters != NULL && filters[n - 2] != NULL && n < HDF_ARRAY_SIZE(allowed) - 1; n++)
        allowed[n] = filters[n - 2];
    allowed[n] = NULL;
    const char *unknown = query_first_unknown(&r->query, allowed);
    const char *l = query_get(&r->query, "limit"), *c = query_get(&r->query, "cursor");
    page->limit = HDF_LIST_LIMIT_DEFAULT;
    page->after = 0;
    if (unknown != NULL)
        field_errors_add(fe, unknown, "unknown_parameter", "%s is not a parameter of this list", unknown);
    if (l != NULL) {
        const char *errstr = NULL;
        page->limit = (int)strtonum(l, 1, HDF_LIST_LIMIT_MAX, &errstr);
        if (errstr != NULL)
            field_errors_add(fe, "limit", "out_of_range", "limit must be an integer from 1 to %d", HDF_LIST_LIMIT_MAX);
    }
    if (c != NULL && cursor_kind != NULL && cursor_decode_id(cursor_kind, c, &page->after) != 0)
        field_errors_add(fe, "cursor", "invalid", "cursor is not one this list returned");
    snprintf(page->workspace, sizeof(page->workspace), "%lld", (long long)r->auth.workspace_id);
    snprintf(page->after_text, sizeof(page->after_text), "%lld", (long long)page->after);
    snprintf(page->fetch_text, sizeof(page->fetch_text), "%d", page->limit + 1);
}

/* handler_arg holds the limit, handler_str the cursor kind. */
void list_respond_page(struct hdf_req *r, PGresult *res)
{
    int limit = (int)r->handler_arg;
    char next[HDF_CURSOR_MAX];
    int more = PQntuples(res) > limit;
    if (more)
        cursor_encode_id(r->handler_str, strtoll(PQgetvalue(res, limit - 1, 0), NULL, 10), next);
    respond_list(r, res, 1, limit, more ? next : NULL);
}

void list_query(struct hdf_req *r, const char *cursor_kind, const struct hdf_list_page *page, enum hdf_stmt stmt,
                const char *const *params)
{
    r->handler_arg = page->limit;
    r->handler_str = cursor_kind;
    request_query(r, stmt, params, NULL, list_respond_page);
}

/* n decimal digits at s, at most max. */
static int time_digits(const char *s, int n, int max)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm), a real calendar date. */
static int time_is_rfc3339(const char *s)
{
    size_t len = strlen(s);
    if (len < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || !custom_field_date_is_valid(s, 10) ||
        time_digits(s + 11, 2, 23) < 0 || time_digits(s + 14, 2, 59) < 0 || time_digits(s + 17, 2, 59) < 0)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        const char *f = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f || p - f > 9)
            return 0;
    }
    if (p[0] == 'Z' && p[1] == '\0')
        return 1;
    return (p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':' && time_digits(p + 1, 2, 23) >= 0 &&
           time_digits(p + 4, 2, 59) >= 0;
}

const char *list_read_time(struct hdf_req *r, const char *name, hdf_field_errors_t *fe)
{
    const char *v = query_get(&r->query, name);
    if (v != NULL && !time_is_rfc3339(v)) {
        field_errors_add(fe, name, "invalid", "%s must be an RFC 3339 date-time such as 2026-11-24T08:15:30.123Z", name);
        return NULL;
    }
    return v;
}
