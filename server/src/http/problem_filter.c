/*
 * problem_filter.c: an h2o output filter (see problem_filter.h). It only touches responses with
 * status >= 400 and Content-Type text/plain: our handlers never produce those, h2o's own
 * h2o_send_error_* do. The body is replaced, so the ostream drops what h2o sends and sends ours.
 */
#include <string.h>
#include <sys/time.h>
#include "http/router.h"
#include "http/problem_filter.h"
#include "common/errors.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"

struct problem_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    int sent;
};

static void on_send(h2o_ostream_t *_self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    struct problem_ostream *self = (void *)_self;
    (void)bufs, (void)bufcnt;
    if (self->sent || !h2o_send_state_is_in_progress(state)) {
        h2o_iovec_t b = self->sent ? h2o_iovec_init(NULL, 0) : self->body;
        self->sent = 1;
        h2o_ostream_send_next(&self->super, req, b.base != NULL ? &b : NULL, b.base != NULL ? 1 : 0, state);
        return;
    }
    /* more of h2o's body to come: swallow it, keep ours for the final call */
    h2o_ostream_send_next(&self->super, req, NULL, 0, state);
}

static int is_h2o_error(h2o_req_t *req)
{
    if (req->res.status < 400)
        return 0;
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->res.headers.entries[i].value;
    return v.len >= 10 && memcmp(v.base, "text/plain", 10) == 0;
}

static void request_id_of(h2o_req_t *req, char *out)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i >= 0 && request_id_is_sane(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
        memcpy(out, req->headers.entries[i].value.base, req->headers.entries[i].value.len);
        out[req->headers.entries[i].value.len] = '\0';
    } else {
        request_id_generate(out);
    }
}

/* Counts and logs the response like respond.c does for ours, under the route the path matches. */
static void observe(h2o_req_t *req, const char *rid)
{
    struct hdf_route_match m;
    hdf_method_t method = router_method_from(req->input.method.base, req->input.method.len);
    size_t pathlen = req->input.path.len;
    const char *q = memchr(req->input.path.base, '?', pathlen);
    if (q != NULL)
        pathlen = (size_t)(q - req->input.path.base);
    if (router_match(req->input.path.base, pathlen, method, &m) != HDF_ROUTER_OK)
        m.route = HDF_ROUTE__COUNT;
    struct timeval now;
    gettimeofday(&now, NULL);
    double ms = (double)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1e3 +
                (double)(now.tv_usec - req->timestamps.request_begin_at.tv_usec) / 1e3;
    if (req->timestamps.request_begin_at.tv_sec == 0 || ms < 0)
        ms = 0;
    metrics_observe_request(m.route, req->res.status, (uint64_t)(ms * 1000), 0, 0);
    struct hdf_request_log line = {.request_id = rid,
                                   .method = router_method_name(method),
                                   .route = m.route < HDF_ROUTE__COUNT ? hdf_routes[m.route].tmpl : "unmatched",
                                   .status = req->res.status,
                                   .duration_ms = ms};
    log_request(&line);
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (!is_h2o_error(req)) {
        h2o_setup_next_ostream(req, slot);
        return;
    }
    char rid[HDF_REQUEST_ID_MAX + 1], detail[128];
    request_id_of(req, rid);
    hdf_error_t e = hdf_error_from_status(req->res.status);
    if (e == HDF_E_BODY_TOO_LARGE)
        snprintf(detail, sizeof(detail), "request bodies are limited to %zu bytes",
                 req->conn->ctx->globalconf->max_request_entity_size);
    else
        strlcpy(detail, hdf_error_title(e), sizeof(detail));
    json_t *p = problem_build(e, detail, rid, NULL);
    size_t len;
    char *s = json_dump_compact(p, &len);
    json_decref(p);
    struct problem_ostream *os = (void *)h2o_add_ostream(req, sizeof(*os), slot);
    os->super.do_send = on_send;
    os->body = h2o_strdup(&req->pool, s, len);
    os->sent = 0;
    free(s);
    req->res.content_length = len;
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/problem+json"), 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, "X-Request-Id",
                          h2o_strdup(&req->pool, rid, SIZE_MAX).base, strlen(rid));
    observe(req, rid);
    h2o_setup_next_ostream(req, &os->super.next);
}

void problem_filter_register(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof(*f));
    f->on_setup_ostream = on_setup_ostream;
}
