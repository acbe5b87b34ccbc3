/*
 * respond.c: the only way out for a response (see respond.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "http/respond.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/json_util.h"

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "OK";
    }
}

void respond_add_header(struct hdf_req *r, const char *name, const char *value)
{
    if (r->req == NULL)
        return;
    h2o_mem_pool_t *pool = &r->req->pool;
    size_t nlen = strlen(name);
    /* HTTP/2 requires lower-case names; HTTP/1 still prints name as given (orig_name) */
    char *lower = h2o_mem_alloc_pool(pool, nlen + 1);
    for (size_t i = 0; i <= nlen; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    h2o_iovec_t v = h2o_strdup(pool, value, SIZE_MAX);
    h2o_add_header_by_str(pool, &r->req->res.headers, lower, nlen, 1, h2o_strdup(pool, name, nlen).base, v.base, v.len);
}

/* Status, request id, metrics, log: what every response shares. Returns 0 when there is a
 * request to answer. */
static int start(struct hdf_req *r, int status, const char *content_type)
{
    db_release(&r->db);
    if (r->responded || r->req == NULL)
        return -1;
    r->responded = 1;
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    if (status != 204) /* No Content: no body, so no type either */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, "X-Request-Id", r->request_id,
                          strlen(r->request_id));
    ratelimit_add_headers(r); /* here, after idempotency stored its headers: a replay shows current values */
    int64_t dur_ns = time_mono_ns() - r->started_ns;
    metrics_observe_request(r->match.route, status, (uint64_t)(dur_ns / 1000), r->db.round_trips, r->db.statements);
    struct hdf_request_log line = {.request_id = r->request_id,
                                   .key_id = r->authenticated ? r->auth.key_id : 0,
                                   .method = router_method_name(r->method),
                                   .route = r->match.route < HDF_ROUTE__COUNT ? hdf_routes[r->match.route].tmpl : "unmatched",
                                   .status = status,
                                   .duration_ms = (double)dur_ns / 1e6};
    log_request(&line);
    return 0;
}

void respond_text(struct hdf_req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (idem_finish(r, status, content_type, body, len))
        return; /* it stores or releases the Idempotency-Key first, then comes back here */
    if (start(r, status, content_type) != 0)
        return;
    r->req->res.content_length = len;
    h2o_send_inline(r->req, body, len);
}

void respond_no_content(struct hdf_req *r)
{
    respond_text(r, 204, "application/json", "", 0);
}

void respond_json(struct hdf_req *r, int status, const char *json, size_t len)
{
    respond_text(r, status, "application/json", json, len);
}

void respond_json_obj(struct hdf_req *r, int status, json_t *j)
{
    size_t len;
    char *s = json_dump_compact(j, &len);
    json_decref(j);
    respond_json(r, status, s, len);
    free(s);
}

void respond_problem(struct hdf_req *r, hdf_error_t e, const char *detail, json_t *errors)
{
    json_t *p = problem_build(e, detail, r->request_id, errors);
    size_t len;
    char *s = json_dump_compact(p, &len);
    json_decref(p);
    int status = hdf_error_status(e);
    if (status == 401)
        respond_add_header(r, "WWW-Authenticate", "Bearer realm=\"helpdeskflow\"");
    else if (status == 503)
        respond_add_header(r, "Retry-After", "1");
    respond_text(r, status, "application/problem+json", s, len);
    free(s);
}

void respond_problem_member(struct hdf_req *r, hdf_error_t e, const char *detail, const char *member, json_t *value)
{
    json_t *p = problem_build(e, detail, r->request_id, NULL);
    json_object_set_new(p, member, value);
    size_t len;
    char *s = json_dump_compact(p, &len);
    json_decref(p);
    respond_text(r, hdf_error_status(e), "application/problem+json", s, len);
    free(s);
}

void respond_problem_fmt(struct hdf_req *r, hdf_error_t e, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    utf8_truncate(detail, sizeof(detail) - 1);
    respond_problem(r, e, detail, NULL);
}

void respond_field_errors(struct hdf_req *r, hdf_field_errors_t *fe)
{
    size_t n = field_errors_count(fe);
    char detail[64];
    snprintf(detail, sizeof(detail), n == 1 ? "%zu field is invalid" : "%zu fields are invalid", n);
    json_t *errors = fe->list;
    fe->list = NULL;
    respond_problem(r, HDF_E_VALIDATION_FAILED, detail, errors);
}

static void append(h2o_buffer_t **buf, const char *s, size_t len)
{
    h2o_iovec_t dst = h2o_buffer_reserve(buf, len);
    memcpy(dst.base, s, len);
    (*buf)->size += len;
}

static void append_urlencoded(h2o_buffer_t **buf, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            append(buf, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            append(buf, e, 3);
        }
    }
}

static void add_link_next(struct hdf_req *r, const char *next_cursor)
{
    h2o_buffer_t *buf;
    h2o_req_t *req = r->req;
    size_t pathlen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    h2o_buffer_init(&buf, &h2o_socket_buffer_prototype);
    append(&buf, "<", 1);
    append(&buf, req->path.base, pathlen);
    char sep = '?';
    for (size_t i = 0; i < r->query.n; i++) {
        if (strcmp(r->query.params[i].name, "cursor") == 0)
            continue;
        append(&buf, &sep, 1);
        append_urlencoded(&buf, r->query.params[i].name);
        append(&buf, "=", 1);
        append_urlencoded(&buf, r->query.params[i].value);
        sep = '&';
    }
    append(&buf, &sep, 1);
    append(&buf, "cursor=", 7);
    append_urlencoded(&buf, next_cursor);
    append(&buf, ">; rel=\"next\"", 13);
    h2o_iovec_t v = h2o_strdup(&req->pool, buf->bytes, buf->size);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("link"), 1, "Link", v.base, v.len);
    h2o_buffer_dispose(&buf);
}

void respond_list(struct hdf_req *r, PGresult *res, int json_col, int limit, const char *next_cursor)
{
    h2o_buffer_t *buf;
    int n = PQntuples(res);
    if (r->req == NULL)
        return;
    h2o_buffer_init(&buf, &h2o_socket_buffer_prototype);
    append(&buf, "{\"data\":[", 9);
    for (int i = 0; i < n && i < limit; i++) {
        if (i > 0)
            append(&buf, ",", 1);
        append(&buf, PQgetvalue(res, i, json_col), (size_t)PQgetlength(res, i, json_col));
    }
    append(&buf, "],\"next_cursor\":", 16);
    if (next_cursor != NULL) {
        /* cursors are base64url: nothing to escape */
        append(&buf, "\"", 1);
        append(&buf, next_cursor, strlen(next_cursor));
        append(&buf, "\"}", 2);
        add_link_next(r, next_cursor);
    } else {
        append(&buf, "null}", 5);
    }
    respond_json(r, 200, buf->bytes, buf->size);
    h2o_buffer_dispose(&buf);
}
