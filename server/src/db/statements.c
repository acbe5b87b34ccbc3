/*
 * statements.c: all SQL text. Values are always parameters ($n), never spliced in. Objects the API
 * returns are rendered to JSON by Postgres (json_build_object) so the server passes text through
 * instead of rebuilding it; times use hdf_ts() (RFC 3339 UTC, milliseconds).
 */
#include "db/statements.h"

/* Session settings, and the switch to the least-privileged role when this login may use it
 * (see docs/security.md). Before the first migration the role does not exist yet. */
const char hdf_session_setup_sql[] =
    "SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO', false), "
    "set_config('application_name', 'helpdeskflow', false), set_config('statement_timeout', '30s', false), "
    "CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hdf_server') THEN 'no-role' "
    "WHEN pg_has_role('hdf_server', 'MEMBER') THEN set_config('role', 'hdf_server', false) "
    "ELSE 'not-member' END";

/* The JSON of an API key as GET /v1/api-keys shows it, never the hash: row_to_json over a LATERAL
 * row keeps member order and compact output. */
#define API_KEY_LATERAL                                                                                                            \
    ", LATERAL (SELECT k.id AS key_id, k.label, k.role, k.allowed_cidrs::text[] AS allowed_cidrs,"                                 \
    " hdf_ts(k.expires_at) AS expires_at, hdf_ts(k.created_at) AS created_at, hdf_ts(k.last_used_at) AS last_used_at,"             \
    " hdf_ts(k.revoked_at) AS revoked_at) j"
#define API_KEY_JSON "row_to_json(j)::text"
#define API_KEY_JSON_FROM " FROM api_keys k" API_KEY_LATERAL

const struct hdf_statement hdf_statements[HDF_STMT__COUNT] = {
    /* $1 key hash (bytea), $2 client address or NULL. last_used_at is stamped at most every 5 s per
     * key, and only when the key is usable from that address, so a busy key costs no write per
     * request and a refused request never counts as a use. */
    [HDF_STMT_AUTH_LOOKUP] =
        {"auth_lookup",
         "WITH k AS ("
         " SELECT k.id, k.workspace_id, k.role, k.label, k.allowed_cidrs::text[]::text AS cidrs,"
         " (extract(epoch FROM k.expires_at) * 1000)::bigint AS expires_ms, hdf_ts(k.expires_at) AS expires_at,"
         " k.revoked_at IS NOT NULL AS revoked, w.slug, w.name, k.allowed_cidrs"
         " FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1),"
         " touch AS (UPDATE api_keys SET last_used_at = now() WHERE id = (SELECT id FROM k"
         " WHERE NOT revoked AND (expires_ms IS NULL OR expires_ms > extract(epoch FROM now()) * 1000)"
         " AND (allowed_cidrs IS NULL OR $2::inet <<= ANY (allowed_cidrs)))"
         " AND (last_used_at IS NULL OR last_used_at < now() - interval '5 seconds'))"
         " SELECT id, workspace_id, role, label, cidrs, expires_ms, expires_at, revoked, slug, name FROM k",
         2},
    [HDF_STMT_READY] = {"ready", "SELECT coalesce(max(version), 0) FROM schema_migrations", 0},
    /* $1 workspace, $2 after id, $3 limit (one more is fetched to know whether a next page exists) */
    [HDF_STMT_API_KEYS_LIST] = {"api_keys_list",
                                "SELECT k.id, " API_KEY_JSON API_KEY_JSON_FROM " WHERE k.workspace_id = $1 AND k.id > $2"
                                " ORDER BY k.id LIMIT $3",
                                3},
    [HDF_STMT_API_KEY_GET] = {"api_key_get", "SELECT " API_KEY_JSON API_KEY_JSON_FROM " WHERE k.workspace_id = $1 AND k.id = $2",
                              2},
    [HDF_STMT_API_KEY_UPDATE_LABEL] =
        {"api_key_update_label",
         "WITH k AS (UPDATE api_keys k SET label = $3 WHERE k.workspace_id = $1 AND k.id = $2 RETURNING k.*)"
         " SELECT " API_KEY_JSON " FROM k" API_KEY_LATERAL,
         3},
};
