/*
 * auth.c: key lookup, cache and checks (see auth.h).
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include "http/auth.h"
#include "http/request.h"
#include "http/respond.h"
#include "http/token.h"
#include "common/cidr.h"
#include "ratelimit/limiter.h"
#include "common/log.h"
#include "common/metrics.h"
#include "db/sqlstate.h"

#define AUTH_CACHE_SLOTS 1024 /* per worker; a collision only costs a lookup */
#define AUTH_MAX_CIDRS 64

struct cache_entry {
    unsigned char hash[HDF_TOKEN_HASH_LEN];
    uint64_t fetched_at; /* loop clock, ms; 0 = empty slot */
    int found, revoked;
    int64_t key_id, workspace_id, expires_ms; /* expires_ms: -1 = never */
    enum hdf_role role;
    char *label, *slug, *name, *expires_at;
    int ncidrs; /* -1 = any address */
    hdf_cidr_t cidrs[AUTH_MAX_CIDRS];
};

struct hdf_auth_cache {
    struct cache_entry slots[AUTH_CACHE_SLOTS];
};

static const char *const role_names[] = {"readonly", "agent", "admin"};

struct hdf_auth_cache *auth_cache_create(void)
{
    struct hdf_auth_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    return c;
}

static void entry_clear(struct cache_entry *e)
{
    free(e->label);
    free(e->slug);
    free(e->name);
    free(e->expires_at);
    memset(e, 0, sizeof(*e));
}

void auth_cache_destroy(struct hdf_auth_cache *c)
{
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
        entry_clear(&c->slots[i]);
    explicit_bzero(c, sizeof(*c));
    free(c);
}

static struct cache_entry *slot_for(struct hdf_auth_cache *c, const unsigned char *hash)
{
    uint32_t h;
    memcpy(&h, hash, sizeof(h));
    return &c->slots[h % AUTH_CACHE_SLOTS];
}

static void fail(struct hdf_req *r)
{
    metrics_inc(&hdf_metrics.auth_failures);
    respond_problem(r, HDF_E_UNAUTHENTICATED, "A valid API key is required.", NULL);
}

static socklen_t peer_of(struct hdf_req *r, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    return r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)ss);
}

/* Every check that can refuse a found key; the same 401 whichever fails. */
static void check_and_continue(struct hdf_req *r, const struct cache_entry *e)
{
    struct sockaddr_storage ss;
    if (!e->found || e->revoked || (e->expires_ms >= 0 && e->expires_ms <= time_now_ms())) {
        fail(r);
        return;
    }
    if (e->ncidrs >= 0 && (peer_of(r, &ss) == 0 || !cidr_any_contains(e->cidrs, e->ncidrs, (struct sockaddr *)&ss))) {
        fail(r);
        return;
    }
    r->authenticated = 1;
    r->auth = (struct hdf_auth){.key_id = e->key_id,
                                .workspace_id = e->workspace_id,
                                .role = e->role,
                                .role_name = role_names[e->role],
                                .label = request_strdup(r, e->label),
                                .workspace_slug = request_strdup(r, e->slug),
                                .workspace_name = request_strdup(r, e->name),
                                .expires_at = request_strdup(r, e->expires_at)};
    ratelimit_admit(r);
}

static int64_t col_int(PGresult *res, int col, int64_t if_null)
{
    if (PQgetisnull(res, 0, col))
        return if_null;
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static char *col_dup(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

/* Columns as in HDF_STMT_AUTH_LOOKUP. Returns -1 when the row is not understood. */
static int entry_fill(struct cache_entry *e, PGresult *res)
{
    if (PQntuples(res) == 0)
        return 0;
    const char *role = PQgetvalue(res, 0, 2);
    e->role = strcmp(role, "admin") == 0 ? HDF_ROLE_ADMIN : strcmp(role, "agent") == 0 ? HDF_ROLE_AGENT : HDF_ROLE_READONLY;
    e->found = 1;
    e->key_id = col_int(res, 0, 0);
    e->workspace_id = col_int(res, 1, 0);
    e->label = col_dup(res, 3);
    e->expires_ms = col_int(res, 5, -1);
    e->expires_at = col_dup(res, 6);
    e->revoked = PQgetvalue(res, 0, 7)[0] == 't';
    e->slug = col_dup(res, 8);
    e->name = col_dup(res, 9);
    e->ncidrs = -1;
    if (!PQgetisnull(res, 0, 4)) {
        e->ncidrs = cidr_parse_pg_array(PQgetvalue(res, 0, 4), e->cidrs, AUTH_MAX_CIDRS);
        if (e->ncidrs < 0)
            return -1;
    }
    return 0;
}

static void on_lookup(hdf_db_waiter_t *w, PGresult *res, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    if (err == HDF_OK)
        err = db_error_from_result(res);
    if (err != HDF_OK) {
        if (err == HDF_E_INTERNAL)
            db_log_error("auth_lookup", res);
        respond_problem(r, err, err == HDF_E_UNAVAILABLE ? "the database is unavailable; retry shortly" : NULL, NULL);
        return;
    }
    db_release(w);
    unsigned char hash[HDF_TOKEN_HASH_LEN];
    memcpy(hash, r->query_params[0], sizeof(hash));
    struct cache_entry *e = slot_for(r->worker->auth_cache, hash);
    entry_clear(e);
    memcpy(e->hash, hash, sizeof(hash));
    if (entry_fill(e, res) != 0) {
        entry_clear(e);
        log_line(HDF_LOG_ERROR, "unreadable allowed_cidrs on an API key", "\"key_id\":%lld", (long long)col_int(res, 0, 0));
        fail(r);
        return;
    }
    /* the answer is as of when the lookup was sent: its age counts from then, so a revocation
     * committed while it was in flight is still seen within HDF_AUTH_CACHE_MS */
    e->fetched_at = (uint64_t)r->handler_arg;
    if (e->fetched_at == 0)
        e->fetched_at = 1;
    check_and_continue(r, e);
}

static void on_lookup_conn(hdf_db_waiter_t *w, hdf_error_t err)
{
    struct hdf_req *r = H2O_STRUCT_FROM_MEMBER(struct hdf_req, db, w);
    if (err != HDF_OK) {
        respond_problem(r, err, "the database is unavailable; retry shortly", NULL);
        return;
    }
    db_query(w, HDF_STMT_AUTH_LOOKUP, (const char *const *)r->query_params, r->query_lengths, on_lookup);
}

/* The client address as text for the last_used_at stamp; IPv4-mapped IPv6 as IPv4. */
static char *peer_text(struct hdf_req *r)
{
    struct sockaddr_storage ss;
    char buf[INET6_ADDRSTRLEN] = "";
    if (peer_of(r, &ss) == 0)
        return NULL;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], buf, sizeof(buf));
        else
            inet_ntop(AF_INET6, a, buf, sizeof(buf));
    } else {
        return NULL;
    }
    return request_strdup(r, buf);
}

void auth_authenticate(struct hdf_req *r)
{
    h2o_req_t *req = r->req;
    const char *tok;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0 || token_from_authorization(req->headers.entries[i].value.base, req->headers.entries[i].value.len, &tok) != 0) {
        fail(r);
        return;
    }
    unsigned char *hash = h2o_mem_alloc_pool(&req->pool, HDF_TOKEN_HASH_LEN);
    token_hash(tok, HDF_TOKEN_LEN, hash);
    struct cache_entry *e = slot_for(r->worker->auth_cache, hash);
    uint64_t now = h2o_now(r->worker->loop);
    if (e->fetched_at != 0 && now - e->fetched_at < (uint64_t)r->worker->cfg->auth_cache_ms &&
        CRYPTO_memcmp(e->hash, hash, HDF_TOKEN_HASH_LEN) == 0) { /* constant time; libbsd 0.11.7 lacks timingsafe_bcmp */
        check_and_continue(r, e);
        return;
    }
    /* the lookup's parameters live in the request: they outlive this call if the pool is busy */
    r->query_params = h2o_mem_alloc_pool(&req->pool, sizeof(char *) * 2);
    r->query_lengths = h2o_mem_alloc_pool(&req->pool, sizeof(int) * 2);
    r->query_params[0] = (char *)hash;
    r->query_lengths[0] = HDF_TOKEN_HASH_LEN;
    r->query_params[1] = peer_text(r);
    r->query_lengths[1] = 0;
    r->handler_arg = (int64_t)now;
    db_pool_acquire(r->worker->db, &r->db, on_lookup_conn);
}
