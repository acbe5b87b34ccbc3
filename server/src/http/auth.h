/*
 * auth.h: Bearer key authentication. A per-worker cache keeps each lookup (found or not) for at
 * most HDF_AUTH_CACHE_MS (<= 1 s), which bounds how long a revoked key keeps working on any process;
 * expiry and allowed_cidrs are checked on every request. Every failure answers the same 401.
 */
#ifndef HDF_AUTH_H
#define HDF_AUTH_H

struct hdf_req;
struct hdf_auth_cache;

struct hdf_auth_cache *auth_cache_create(void);
void auth_cache_destroy(struct hdf_auth_cache *c);

/* Authenticates r, then continues with the rate limit (ratelimit_admit) or answers 401/503. */
void auth_authenticate(struct hdf_req *r);

#endif
