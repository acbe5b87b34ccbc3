/*
 * statements.c: all SQL text. Values are always parameters ($n), never spliced in. Objects the API
 * returns are rendered to JSON by Postgres (json_build_object) so the server passes text through
 * instead of rebuilding it; times use hdf_ts() (RFC 3339 UTC, milliseconds).
 */
#include "db/statements.h"

/* Session settings, and the switch to the least-privileged role when this login may use it
 * (see docs/security.md). Before the first migration the role does not exist yet. READ COMMITTED
 * whatever the database's default: the statements are written for it (lock waits re-read the row;
 * the outbox trigger must see a worker that went to sleep after the transaction began). */
const char hdf_session_setup_sql[] =
    "SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO', false), "
    "set_config('application_name', 'helpdeskflow', false), set_config('statement_timeout', '30s', false), "
    "set_config('default_transaction_isolation', 'read committed', false), "
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

/* ---- directory (teams, agents, custom fields; handlers/admin_*.c) ---- */

/* Lists and single reads filter by workspace first, so another workspace's id is simply absent. */
#define TEAM_LATERAL                                                                                                               \
    ", LATERAL (SELECT t.id, t.name, t.description, hdf_ts(t.created_at) AS created_at, hdf_ts(t.updated_at) AS updated_at) j"
/* An agent's team_ids (sorted, [] when none) from agent_teams, or from teams_expr when the
 * statement writes the memberships itself (a statement does not see its own writes). */
#define AGENT_TEAM_IDS "coalesce((SELECT array_agg(m.team_id ORDER BY m.team_id) FROM agent_teams m WHERE m.agent_id = a.id), '{}')"
#define AGENT_LATERAL_WITH(teams_expr)                                                                                             \
    ", LATERAL (SELECT a.id, a.name, a.email, " teams_expr " AS team_ids, a.active, hdf_ts(a.created_at) AS created_at,"           \
    " hdf_ts(a.updated_at) AS updated_at) j"
#define AGENT_LATERAL AGENT_LATERAL_WITH(AGENT_TEAM_IDS)
/* team_ids as given ($n a JSON array of ids), with their positions, and the 0-based positions of
 * those that are not teams of workspace $1 ('{}' when all are) */
#define AGENT_REQ_TEAMS(n)                                                                                                         \
    "req AS (SELECT x.id::bigint AS id, x.ord FROM json_array_elements_text(" n "::json) WITH ORDINALITY x(id, ord)),"             \
    " missing AS (SELECT coalesce(array_agg(req.ord - 1 ORDER BY req.ord), '{}') AS idx FROM req"                                  \
    " WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.workspace_id = $1 AND t.id = req.id)),"
#define CUSTOM_FIELD_LATERAL                                                                                                       \
    ", LATERAL (SELECT f.id, f.object, f.key, f.type, f.options, hdf_ts(f.created_at) AS created_at,"                              \
    " hdf_ts(f.updated_at) AS updated_at) j"
/* $n (a JSON array of strings, or NULL) as text[], in the order given */
#define JSON_TEXT_ARRAY(n)                                                                                                         \
    "CASE WHEN " n "::json IS NULL THEN NULL ELSE ARRAY(SELECT x.o FROM json_array_elements_text(" n "::json)"                     \
    " WITH ORDINALITY x(o, ord) ORDER BY x.ord) END"
#define ROW_JSON "row_to_json(j)::text"

/* ---- webhooks (handlers/webhooks.c) ---- */
#define WEBHOOK_LATERAL                                                                                                            \
    ", LATERAL (SELECT w.id, w.url, w.events, w.description, w.enabled,"                                                           \
    " hdf_ts(CASE WHEN w.previous_until > now() THEN w.previous_until END) AS previous_secret_expires_at,"                         \
    " hdf_ts(w.created_at) AS created_at, hdf_ts(w.updated_at) AS updated_at) j"

/* ---- customers (handlers/customers.c) ---- */

/* A customer's external profiles, sorted, as JSON ([] when none). */
#define CUSTOMER_PROFILES_OF(id)                                                                                                   \
    "coalesce((SELECT json_agg(json_build_object('provider', e.provider, 'external_id', e.external_id, 'url', e.url)"              \
    " ORDER BY e.provider, e.external_id) FROM customer_external_profiles e WHERE e.customer_id = " id "), '[]')"
#define CUSTOMER_LATERAL_WITH(profiles)                                                                                            \
    ", LATERAL (SELECT c.id, c.email, c.name, c.phone, c.tags, c.custom_fields, c.metadata, " profiles " AS external_profiles,"    \
    " c.version, hdf_ts(c.created_at) AS created_at, hdf_ts(c.updated_at) AS updated_at) j"
#define CUSTOMER_LATERAL CUSTOMER_LATERAL_WITH(CUSTOMER_PROFILES_OF("c.id"))
/* a top-level merge of two jsonb objects in which a null value deletes the key */
#define JSONB_MERGE(a, b)                                                                                                          \
    "(SELECT coalesce(jsonb_object_agg(m.k, m.v), '{}') FROM jsonb_each(" a " || " b ") m(k, v) WHERE m.v <> 'null'::jsonb)"
/*
 * The write shared by the upsert and the PATCH. Before it, the statement defines `cur` (the
 * customer, locked FOR UPDATE; no row when there is none), `snap` (its version as this statement's
 * snapshot saw it) and `base` (cur's columns plus is_new, or a blank row when creating).
 * $3 is the change as a JSON object of validated, normalised members (only those given);
 * $4 actor type, $5 actor id, $6 source, $7 request id. Profiles: the given ones are added or
 * replace those with the same (provider, external_id); with replace_profiles the given list is the
 * whole new set. Nothing is written when: the change changes nothing; metadata would exceed 16 KiB
 * (as stored); a given profile belongs to another customer; the new email is another live
 * customer's; or the row changed after the snapshot (then, like a create that lost the race for
 * the email, the caller runs the statement again).
 * Returns one row: (outcome: created|updated|unchanged|refused|retry, positions of profiles taken
 * by others, metadata too large, id of the customer that has the new email, id, json).
 */
#define CUSTOMER_WRITE(replace_profiles)                                                                                           \
    " p AS (SELECT $3::jsonb AS p),"                                                                                               \
    " curprof AS (SELECT e.provider, e.external_id, e.url FROM customer_external_profiles e, cur WHERE e.customer_id = cur.id),"   \
    " reqprof AS (SELECT x.ord, x.v->>'provider' AS provider, x.v->>'external_id' AS external_id, x.v->>'url' AS url"              \
    " FROM p, jsonb_array_elements(coalesce(p.p->'external_profiles', '[]')) WITH ORDINALITY x(v, ord)),"                          \
    " newprof AS (SELECT c.provider, c.external_id, c.url FROM curprof c, p WHERE NOT (p.p ? 'external_profiles' AND"              \
    " (" replace_profiles " OR EXISTS (SELECT 1 FROM reqprof r WHERE r.provider = c.provider AND r.external_id = c.external_id)))" \
    " UNION ALL SELECT r.provider, r.external_id, r.url FROM reqprof r),"                                                          \
    " taken AS (SELECT coalesce(array_agg(r.ord - 1 ORDER BY r.ord), '{}') AS idx FROM reqprof r"                                  \
    " WHERE EXISTS (SELECT 1 FROM customer_external_profiles e WHERE e.workspace_id = $1 AND e.provider = r.provider"              \
    " AND e.external_id = r.external_id AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.id = e.customer_id))),"                        \
    " new AS (SELECT b.*, CASE WHEN p.p ? 'email' THEN p.p->>'email' ELSE b.email END AS n_email,"                                 \
    " CASE WHEN p.p ? 'name' THEN p.p->>'name' ELSE b.name END AS n_name,"                                                         \
    " CASE WHEN p.p ? 'phone' THEN p.p->>'phone' ELSE b.phone END AS n_phone,"                                                     \
    " CASE WHEN p.p ? 'tags' THEN ARRAY(SELECT t.v FROM jsonb_array_elements_text(p.p->'tags') WITH ORDINALITY t(v, o)"            \
    " ORDER BY t.o) ELSE b.tags END AS n_tags,"                                                                                    \
    " CASE WHEN p.p ? 'custom_fields' THEN " JSONB_MERGE(                                                                          \
        "b.custom_fields",                                                                                                         \
        "(p.p->'custom_fields')") " ELSE b.custom_fields"                                                                          \
                                  " END AS n_cf, CASE WHEN p.p ? 'metadata' THEN " JSONB_MERGE(                                    \
                                      "b.metadata",                                                                                \
                                      "(p.p->'metadata')") " ELSE b.metadata END AS n_md"                                          \
                                                           " FROM base b, p),"                                                     \
                                                           " profj AS (SELECT (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY "    \
                                                           "x.provider, x.external_id), '[]') FROM curprof x) AS o,"               \
                                                           " (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.provider, "         \
                                                           "x.external_id), '[]') FROM newprof x) AS n),"                          \
                                                           " chg AS (SELECT coalesce(jsonb_object_agg(v.f, "                       \
                                                           "jsonb_build_object('from', v.o, 'to', v.n)), '{}') AS changes"         \
                                                           " FROM new, profj, LATERAL (SELECT w.f, CASE WHEN new.is_new THEN "     \
                                                           "NULL ELSE w.o END AS o, w.n FROM (VALUES"                              \
                                                           " ('email', to_jsonb(new.email), to_jsonb(new.n_email)), ('name', "     \
                                                           "to_jsonb(new.name), to_jsonb(new.n_name)),"                            \
                                                           " ('phone', to_jsonb(new.phone), to_jsonb(new.n_phone)), ('tags', "     \
                                                           "to_jsonb(new.tags), to_jsonb(new.n_tags)),"                            \
                                                           " ('custom_fields', new.custom_fields, new.n_cf), ('metadata', "        \
                                                           "new.metadata, new.n_md),"                                              \
                                                           " ('external_profiles', profj.o, profj.n)) w(f, o, n)) v WHERE v.o IS " \
                                                           "DISTINCT FROM v.n),"                                                   \
                                                           " chk AS (SELECT octet_length(new.n_md::text) > 16384 AS too_large, "   \
                                                           "cardinality(taken.idx) > 0 AS is_taken,"                               \
                                                           " (SELECT min(c.id) FROM customers c WHERE c.workspace_id = $1 AND "    \
                                                           "c.email = new.n_email AND c.merged_into IS NULL"                       \
                                                           " AND c.id IS DISTINCT FROM new.id) AS email_owner,"                    \
                                                           " NOT new.is_new AND new.version IS DISTINCT FROM (SELECT s.version "   \
                                                           "FROM snap s) AS stale FROM new, taken),"                               \
                                                           " ok AS (SELECT NOT (too_large OR is_taken OR stale OR email_owner IS " \
                                                           "NOT NULL) AS ok FROM chk),"                                            \
                                                           " ins AS (INSERT INTO customers (workspace_id, email, name, phone, "    \
                                                           "tags, custom_fields, metadata)"                                        \
                                                           " SELECT $1, new.n_email, new.n_name, new.n_phone, new.n_tags, "        \
                                                           "new.n_cf, new.n_md FROM new, ok WHERE new.is_new AND ok.ok"            \
                                                           " ON CONFLICT (workspace_id, email) WHERE merged_into IS NULL DO "      \
                                                           "NOTHING RETURNING *),"                                                 \
                                                           " upd AS (UPDATE customers c SET email = new.n_email, name = "          \
                                                           "new.n_name, phone = new.n_phone, tags = new.n_tags,"                   \
                                                           " custom_fields = new.n_cf, metadata = new.n_md, version = c.version "  \
                                                           "+ 1, updated_at = now() FROM new, ok, chg"                             \
                                                           " WHERE c.id = new.id AND NOT new.is_new AND ok.ok AND chg.changes <> " \
                                                           "'{}' RETURNING c.*),"                                                  \
                                                           " tgt AS (SELECT * FROM ins UNION ALL SELECT * FROM upd),"              \
                                                           " pdel AS (DELETE FROM customer_external_profiles e USING tgt WHERE "   \
                                                           "e.customer_id = tgt.id"                                                \
                                                           " AND NOT EXISTS (SELECT 1 FROM newprof n WHERE n.provider = "          \
                                                           "e.provider AND n.external_id = e.external_id)),"                       \
                                                           " pupd AS (UPDATE customer_external_profiles e SET url = n.url FROM "   \
                                                           "tgt, newprof n WHERE e.customer_id = tgt.id"                           \
                                                           " AND n.provider = e.provider AND n.external_id = e.external_id AND "   \
                                                           "e.url IS DISTINCT FROM n.url),"                                        \
                                                           " pins AS (INSERT INTO customer_external_profiles (workspace_id, "      \
                                                           "customer_id, provider, external_id, url)"                              \
                                                           " SELECT $1, tgt.id, n.provider, n.external_id, n.url FROM tgt, "       \
                                                           "newprof n"                                                             \
                                                           " WHERE NOT EXISTS (SELECT 1 FROM curprof c WHERE c.provider = "        \
                                                           "n.provider AND c.external_id = n.external_id)),"                       \
                                                           " aud AS (INSERT INTO audit_log (workspace_id, object_type, "           \
                                                           "object_id, version, actor_type, actor_id, source, request_id,"         \
                                                           " changes) SELECT $1, 'customer', tgt.id, tgt.version, $4, $5, $6, "    \
                                                           "$7, chg.changes FROM tgt, chg),"                                       \
                                                           " res AS (SELECT * FROM tgt UNION ALL SELECT cur.* FROM cur, ok WHERE " \
                                                           "ok.ok AND NOT EXISTS (SELECT 1 FROM tgt))"                             \
                                                           " SELECT CASE WHEN chk.stale THEN 'retry' WHEN NOT ok.ok THEN "         \
                                                           "'refused' WHEN EXISTS (SELECT 1 FROM ins) THEN 'created'"              \
                                                           " WHEN EXISTS (SELECT 1 FROM upd) THEN 'updated' WHEN new.is_new THEN " \
                                                           "'retry' ELSE 'unchanged' END,"                                         \
                                                           " (SELECT idx FROM taken)::text, chk.too_large, chk.email_owner, "      \
                                                           "(SELECT c.id FROM res c),"                                             \
                                                           " (SELECT " ROW_JSON " FROM res c" CUSTOMER_LATERAL_WITH(               \
                                                               CUSTOMER_NEWPROF_JSON) ") FROM new, ok, chk"
#define CUSTOMER_NEWPROF_JSON                                                                                                      \
    "coalesce((SELECT json_agg(json_build_object('provider', n.provider, 'external_id', n.external_id, 'url', n.url)"              \
    " ORDER BY n.provider, n.external_id) FROM newprof n), '[]')"
#define CUSTOMER_BASE                                                                                                              \
    " base AS (SELECT cur.id, cur.email, cur.name, cur.phone, cur.tags, cur.custom_fields, cur.metadata, cur.version, false AS "   \
    "is_new FROM cur"
/* External profiles matching cond as jsonb, in the form CUSTOMER_WRITE's audit entries use. */
#define CUSTOMER_PROFILES_JSONB(cond)                                                                                              \
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('provider', e.provider, 'external_id', e.external_id, 'url', e.url)"            \
    " ORDER BY e.provider, e.external_id), '[]') FROM customer_external_profiles e WHERE " cond ")"
#define AUDIT_INSERT                                                                                                               \
    "INSERT INTO audit_log (workspace_id, object_type, object_id, version, actor_type, actor_id, source, request_id, changes)"

/* GET /v1/tickets in one of four orders. Keyset: the position is (sort column, id) after or before
 * ($2 microseconds since the epoch, $3 id; the interval arithmetic is split so no step goes
 * through floating point); on the first page ($2 NULL) it is -infinity or
 * infinity, so the condition is always a range on the (workspace_id, column, id) index and a page
 * deep in the list costs what the first does. Filters: $4 status, $5 priority, $6 tag,
 * $7 customer, $8 team, $9 assignee, $10 updated since; $11 limit + 1. Rows: (id, sort position
 * in microseconds, summary JSON). */
#define TICKETS_LIST(col, cmp, dir, edge, edge_id)                                                                                 \
    "SELECT t.id, (extract(epoch FROM t." col ") * 1000000)::bigint, hdf_ticket_summary_json(t, c)::text"                          \
    " FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.workspace_id = $1"                                           \
    " AND (t." col ", t.id) " cmp " (CASE WHEN $2::bigint IS NULL THEN '" edge "'::timestamptz"                                    \
    " ELSE 'epoch'::timestamptz + ($2::bigint / 1000000) * interval '1 second'"                                                    \
    " + ($2::bigint % 1000000) * interval '1 microsecond' END, coalesce($3::bigint, " edge_id "))"                                 \
    " AND ($4::text IS NULL OR t.status = $4) AND ($5::text IS NULL OR t.priority = $5)"                                           \
    " AND ($6::text IS NULL OR t.tags @> ARRAY[$6::text]) AND ($7::bigint IS NULL OR t.customer_id = $7)"                          \
    " AND ($8::bigint IS NULL OR t.team_id = $8) AND ($9::bigint IS NULL OR t.assignee_id = $9)"                                   \
    " AND ($10::timestamptz IS NULL OR t.updated_at >= $10) ORDER BY t." col " " dir ", t.id " dir " LIMIT $11"

/* ---- SLA policies and automation rules (handlers/admin_sla_policies.c, admin_automations.c) ---- */

#define SLA_LATERAL                                                                                                                \
    ", LATERAL (SELECT s.id, s.name, s.priority, s.first_response_minutes, s.resolution_minutes,"                                  \
    " hdf_ts(s.created_at) AS created_at, hdf_ts(s.updated_at) AS updated_at) j"
#define AUTOMATION_LATERAL                                                                                                         \
    ", LATERAL (SELECT a.id, a.name, a.position, a.enabled, a.events, a.conditions, a.actions,"                                    \
    " hdf_ts(a.created_at) AS created_at, hdf_ts(a.updated_at) AS updated_at) j"
/* A rule's definition as automation_rule_parse reads it. */
#define AUTOMATION_DEF_JSON                                                                                                        \
    "json_build_object('name', a.name, 'position', a.position, 'enabled', a.enabled, 'events', a.events,"                          \
    " 'conditions', a.conditions, 'actions', a.actions)"
/* the 0-based positions of the ids in $n (a JSON array) that are not rows of table in workspace $1 */
#define AUTOMATION_MISSING(cte, table, n)                                                                                          \
    cte " AS (SELECT coalesce(array_agg(x.ord - 1 ORDER BY x.ord), '{}') AS idx FROM json_array_elements_text(" n "::json)"        \
        " WITH ORDINALITY x(id, ord) WHERE NOT EXISTS (SELECT 1 FROM " table " t WHERE t.workspace_id = $1"                        \
        " AND t.id = x.id::bigint))"
#define JSON_DISTINCT_IDS(n) "ARRAY(SELECT DISTINCT x::bigint FROM json_array_elements_text(" n "::json) x)"
#define JSON_DISTINCT_TEXT(n) "ARRAY(SELECT DISTINCT x FROM json_array_elements_text(" n "::json) x)"
/* Refusals of deletes that rules refer to: the referring rule ids (sorted, '{}' when none). */
#define RULES_REFERRING(cond)                                                                                                      \
    "rules AS (SELECT coalesce(array_agg(r.id ORDER BY r.id), '{}') AS ids FROM automation_rules r WHERE r.workspace_id = $1"      \
    " AND " cond ")"

/* An audit entry of an automation rule's effect (actor automation/rule id, source automation). */
#define AUDIT_INSERT_RULE                                                                                                          \
    "INSERT INTO audit_log (workspace_id, object_type, object_id, version, actor_type, actor_id, source, request_id, changes,"     \
    " rule_id)"
/* The audit rows of automation effects ($effects: [{rule_id, changes}]) numbered after base. */
#define RULE_AUDIT_ROWS(id, base, reqid, effects, from)                                                                            \
    "SELECT $1, 'ticket', " id ", " base " + e.ord, 'automation', (e.v->>'rule_id')::bigint, 'automation', " reqid ","             \
    " e.v->'changes', (e.v->>'rule_id')::bigint FROM " from ", jsonb_array_elements(coalesce(" effects "::jsonb, '[]'))"           \
    " WITH ORDINALITY e(v, ord)"
/* A workspace's enabled rules with their version, from one snapshot (RULES_LOAD). */
#define RULES_LOAD_COLUMNS                                                                                                         \
    "hdf_rules_version($1), coalesce((SELECT json_agg(json_build_object('id', a.id, 'rule', " AUTOMATION_DEF_JSON ")"              \
    " ORDER BY a.position, a.id) FROM automation_rules a WHERE a.workspace_id = $1 AND a.enabled), '[]')::text"
/* Custom field definitions as a JSON array of {key, type, options}; the caller adds the object. */
#define FIELD_DEFS_JSON                                                                                                            \
    "coalesce(json_agg(json_build_object('key', f.key, 'type', f.type, 'options', f.options) ORDER BY f.key), '[]')::text"         \
    " FROM custom_fields f WHERE f.workspace_id = $1"
/* A ticket's customer as automation conditions read it (customer.*). */
#define CUSTOMER_RULE_JSON                                                                                                         \
    "json_build_object('email', c.email, 'name', c.name, 'tags', c.tags, 'custom_fields', c.custom_fields)::text"

/* GET /v1/tickets without filters, the common call: $1 ws, $2 position, $3 id (as above), $4
 * limit + 1. A prepared statement runs a generic plan once Postgres finds it no dearer than
 * custom ones; with filters as `$n IS NULL OR ...` and `LIMIT $n` the generic plan reads and sorts
 * the whole workspace (0.5 s at 100k tickets), so the filtered statement is planned per execution
 * (about a third of its cost). Without filters, an inner constant LIMIT (the largest page + 1)
 * makes the generic plan the index range scan, planned once; the outer LIMIT takes the page. */
#define TICKETS_LIST_ALL(col, cmp, dir, edge, edge_id)                                                                             \
    "SELECT t.id, (extract(epoch FROM t." col ") * 1000000)::bigint, hdf_ticket_summary_json(t, c)::text"                          \
    " FROM (SELECT * FROM tickets t WHERE t.workspace_id = $1"                                                                     \
    " AND (t." col ", t.id) " cmp " (CASE WHEN $2::bigint IS NULL THEN '" edge "'::timestamptz"                                    \
    " ELSE 'epoch'::timestamptz + ($2::bigint / 1000000) * interval '1 second'"                                                    \
    " + ($2::bigint % 1000000) * interval '1 microsecond' END, coalesce($3::bigint, " edge_id "))"                                 \
    " ORDER BY t." col " " dir ", t.id " dir " LIMIT 101) t"                                                                       \
    " JOIN customers c ON c.id = t.customer_id ORDER BY t." col " " dir ", t.id " dir " LIMIT $4"

const struct hdf_statement hdf_statements[HDF_STMT__COUNT] = {
    /* $1 key hash (bytea), $2 client address or NULL. last_used_at is stamped at most every 5 s per
     * key, and only when the key is usable from that address, so a busy key costs no write per
     * request and a refused request never counts as a use. A key row locked by someone else (an
     * admin revoking or relabelling it) is not stamped this time rather than waited for:
     * authentication never blocks on a row lock. */
    [HDF_STMT_AUTH_LOOKUP] =
        {"auth_lookup",
         "WITH k AS ("
         " SELECT k.id, k.workspace_id, k.role, k.label, k.allowed_cidrs::text[]::text AS cidrs,"
         " (extract(epoch FROM k.expires_at) * 1000)::bigint AS expires_ms, hdf_ts(k.expires_at) AS expires_at,"
         " k.revoked_at IS NOT NULL AS revoked, w.slug, w.name, k.allowed_cidrs"
         " FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1),"
         " touch AS (UPDATE api_keys SET last_used_at = now() WHERE id IN (SELECT a.id FROM api_keys a, k"
         " WHERE a.id = k.id AND NOT k.revoked"
         " AND (k.expires_ms IS NULL OR k.expires_ms > extract(epoch FROM now()) * 1000)"
         " AND (k.allowed_cidrs IS NULL OR $2::inet <<= ANY (k.allowed_cidrs))"
         " AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '5 seconds')"
         " FOR UPDATE OF a SKIP LOCKED))"
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
    /* ---- directory: teams, agents, custom fields (handlers/admin_*.c) ----
     * Lists: $1 workspace, $2 after id, $3 limit + 1, then filters; rows (id, json).
     * Get and delete: $1 workspace, $2 id. Create returns (id, json). An update that would change
     * nothing writes nothing and returns the object as it is. */
    [HDF_STMT_TEAMS_LIST] = {"teams_list",
                             "SELECT t.id, " ROW_JSON " FROM teams t" TEAM_LATERAL " WHERE t.workspace_id = $1 AND t.id > $2"
                             " ORDER BY t.id LIMIT $3",
                             3},
    [HDF_STMT_TEAM_GET] = {"team_get", "SELECT " ROW_JSON " FROM teams t" TEAM_LATERAL " WHERE t.workspace_id = $1 AND t.id = $2",
                           2},
    /* $2 name, $3 description or NULL */
    [HDF_STMT_TEAM_CREATE] = {"team_create",
                              "WITH t AS (INSERT INTO teams (workspace_id, name, description) VALUES ($1, $2, $3) RETURNING *)"
                              " SELECT t.id, " ROW_JSON " FROM t" TEAM_LATERAL,
                              3},
    /* $3 name or NULL (unchanged), $4 whether to set description, $5 description (NULL clears it) */
    [HDF_STMT_TEAM_UPDATE] = {"team_update",
                              "WITH cur AS (SELECT * FROM teams WHERE workspace_id = $1 AND id = $2),"
                              " u AS (UPDATE teams t SET name = coalesce($3, cur.name),"
                              " description = CASE WHEN $4::boolean THEN $5::text ELSE cur.description END, updated_at = now()"
                              " FROM cur WHERE t.id = cur.id AND (coalesce($3, cur.name) IS DISTINCT FROM cur.name"
                              " OR ($4::boolean AND $5::text IS DISTINCT FROM cur.description)) RETURNING t.*),"
                              " t AS (SELECT * FROM u UNION ALL SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM u))"
                              " SELECT " ROW_JSON " FROM t" TEAM_LATERAL,
                              5},
    /* Memberships go with the team (ON DELETE CASCADE). Tickets referring to the team will refuse
     * the delete with a foreign-key violation, answered 409 (db/sqlstate.c). */
    /* Deletes of what tickets refer to answer (deleted id or NULL, tickets referring, exists). A
     * ticket created meanwhile still stops the delete: its foreign key (23503, sqlstate.c). */
    [HDF_STMT_TEAM_DELETE] = {"team_delete",
                              "WITH refs AS (SELECT count(*) AS n FROM tickets WHERE workspace_id = $1 AND team_id = $2),"
                              " " RULES_REFERRING(
                                  "$2::bigint = ANY (r.team_ids)") ","
                                                                   " d AS (DELETE FROM teams WHERE workspace_id = $1 AND id = $2 "
                                                                   "AND (SELECT n FROM refs) = 0"
                                                                   " AND cardinality((SELECT ids FROM rules)) = 0 RETURNING id) "
                                                                   "SELECT (SELECT id FROM d), (SELECT n FROM refs),"
                                                                   " EXISTS (SELECT 1 FROM teams WHERE workspace_id = $1 AND id = "
                                                                   "$2), (SELECT ids FROM rules)::text",
                              2},
    /* $4 team_id or NULL, $5 active or NULL */
    [HDF_STMT_AGENTS_LIST] = {"agents_list",
                              "SELECT a.id, " ROW_JSON " FROM agents a" AGENT_LATERAL " WHERE a.workspace_id = $1 AND a.id > $2"
                              " AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM agent_teams m WHERE m.agent_id = a.id"
                              " AND m.team_id = $4)) AND ($5::boolean IS NULL OR a.active = $5) ORDER BY a.id LIMIT $3",
                              5},
    [HDF_STMT_AGENT_GET] = {"agent_get",
                            "SELECT " ROW_JSON " FROM agents a" AGENT_LATERAL " WHERE a.workspace_id = $1 AND a.id = $2", 2},
    /* $2 name, $3 email (normalised), $4 active, $5 team_ids (JSON array). Returns (missing team
     * positions, id, json); nothing is written when a team is missing. */
    [HDF_STMT_AGENT_CREATE] =
        {"agent_create",
         "WITH " AGENT_REQ_TEAMS(
             "$5") " a AS (INSERT INTO agents (workspace_id, name, email, active) SELECT $1, $2, $3, $4 FROM missing"
                   " WHERE cardinality(missing.idx) = 0 RETURNING *),"
                   " m AS (INSERT INTO agent_teams (agent_id, team_id) SELECT a.id, req.id FROM a, req)"
                   " SELECT missing.idx::text, x.id, x.json FROM missing LEFT JOIN (SELECT a.id, " ROW_JSON
                   " AS json FROM a" AGENT_LATERAL_WITH(
                       "coalesce((SELECT array_agg(req.id ORDER BY req.id) FROM req), '{}')") ") x ON true",
         5},
    /* $3 name, $4 email, $5 active, $6 team_ids (JSON array, the new set): each NULL when
     * unchanged. Returns (missing team positions, json or NULL when there is no such agent). */
    [HDF_STMT_AGENT_UPDATE] =
        {"agent_update",
         "WITH cur AS (SELECT a.*, " AGENT_TEAM_IDS " AS team_ids FROM agents a WHERE a.workspace_id = $1 AND a.id = $2),"
         " " AGENT_REQ_TEAMS(
             "$6") " want AS (SELECT cur.id, coalesce($3, cur.name) AS name, coalesce($4, cur.email) AS email,"
                   " coalesce($5::boolean, cur.active) AS active, CASE WHEN $6::json IS NULL THEN cur.team_ids"
                   " ELSE coalesce((SELECT array_agg(req.id ORDER BY req.id) FROM req), '{}') END AS team_ids"
                   " FROM cur, missing WHERE cardinality(missing.idx) = 0),"
                   " chg AS (SELECT want.* FROM want, cur WHERE (want.name, want.email, want.active, want.team_ids)"
                   " IS DISTINCT FROM (cur.name, cur.email, cur.active, cur.team_ids)),"
                   " u AS (UPDATE agents a SET name = chg.name, email = chg.email, active = chg.active, updated_at = now()"
                   " FROM chg WHERE a.id = chg.id RETURNING a.id, a.name, a.email, chg.team_ids, a.active, a.created_at, "
                   "a.updated_at),"
                   " del AS (DELETE FROM agent_teams m USING chg WHERE m.agent_id = chg.id AND m.team_id <> ALL (chg.team_ids)),"
                   " ins AS (INSERT INTO agent_teams (agent_id, team_id) SELECT chg.id, t.id FROM chg, unnest(chg.team_ids) t(id)"
                   " ON CONFLICT DO NOTHING),"
                   " res AS (SELECT * FROM u UNION ALL"
                   " SELECT id, name, email, team_ids, active, created_at, updated_at FROM cur WHERE NOT EXISTS (SELECT 1 FROM u))"
                   " SELECT (SELECT idx FROM missing)::text, (SELECT " ROW_JSON " FROM res a" AGENT_LATERAL_WITH("a.team_ids") ")",
         6},
    /* Memberships go with the agent. Tickets assigned to the agent will refuse the delete (409). */
    [HDF_STMT_AGENT_DELETE] = {"agent_delete",
                               "WITH refs AS (SELECT count(*) AS n FROM tickets WHERE workspace_id = $1 AND assignee_id = $2),"
                               " " RULES_REFERRING(
                                   "$2::bigint = ANY (r.agent_ids)") ","
                                                                     " d AS (DELETE FROM agents WHERE workspace_id = $1 AND id = "
                                                                     "$2 AND (SELECT n FROM refs) = 0"
                                                                     " AND cardinality((SELECT ids FROM rules)) = 0 RETURNING id) "
                                                                     "SELECT (SELECT id FROM d), (SELECT n FROM refs),"
                                                                     " EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1 AND id "
                                                                     "= $2), (SELECT ids FROM rules)::text",
                               2},
    /* $4 object or NULL */
    [HDF_STMT_CUSTOM_FIELDS_LIST] = {"custom_fields_list",
                                     "SELECT f.id, " ROW_JSON " FROM custom_fields f" CUSTOM_FIELD_LATERAL
                                     " WHERE f.workspace_id = $1 AND f.id > $2 AND ($4::text IS NULL OR f.object = $4)"
                                     " ORDER BY f.id LIMIT $3",
                                     4},
    [HDF_STMT_CUSTOM_FIELD_GET] = {"custom_field_get",
                                   "SELECT " ROW_JSON " FROM custom_fields f" CUSTOM_FIELD_LATERAL
                                   " WHERE f.workspace_id = $1 AND f.id = $2",
                                   2},
    /* $2 object, $3 key, $4 type, $5 options (JSON array of strings) or NULL */
    [HDF_STMT_CUSTOM_FIELD_CREATE] = {"custom_field_create",
                                      "WITH f AS (INSERT INTO custom_fields (workspace_id, object, key, type, options)"
                                      " VALUES ($1, $2, $3, $4, " JSON_TEXT_ARRAY("$5") ") RETURNING *)"
                                                                                        " SELECT f.id, " ROW_JSON
                                                                                        " FROM f" CUSTOM_FIELD_LATERAL,
                                      5},
    /* $3 options (JSON array) or NULL (unchanged). Only an enum's options change; returns (type, json)
     * so that the handler can refuse options for other types. */
    [HDF_STMT_CUSTOM_FIELD_UPDATE] =
        {"custom_field_update",
         "WITH cur AS (SELECT * FROM custom_fields WHERE workspace_id = $1 AND id = $2),"
         " new AS (SELECT " JSON_TEXT_ARRAY(
             "$3") " AS options WHERE $3::json IS NOT NULL),"
                   " u AS (UPDATE custom_fields f SET options = new.options, updated_at = now() FROM cur, new"
                   " WHERE f.id = cur.id AND cur.type = 'enum' AND cur.options IS DISTINCT FROM new.options RETURNING f.*),"
                   " f AS (SELECT * FROM u UNION ALL SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM u))"
                   " SELECT f.type, " ROW_JSON " FROM f" CUSTOM_FIELD_LATERAL,
         3},
    /* Values already stored in tickets' and customers' custom_fields stay; they are simply no
     * longer validated against a definition. Rules referring to the field refuse the delete; the
     * answer has the shape of the team and agent deletes' (no tickets ever refer to a field). */
    [HDF_STMT_CUSTOM_FIELD_DELETE] =
        {"custom_field_delete",
         "WITH f AS (SELECT * FROM custom_fields WHERE workspace_id = $1 AND id = $2),"
         " " RULES_REFERRING(
             "EXISTS (SELECT 1 FROM f WHERE (f.object = 'ticket' AND f.key = ANY (r.ticket_field_keys))"
             " OR (f.object = 'customer' AND f.key = ANY (r.customer_field_keys)))") ","
                                                                                     " d AS (DELETE FROM custom_fields c WHERE "
                                                                                     "c.workspace_id = $1 AND c.id = $2 AND "
                                                                                     "cardinality((SELECT ids FROM rules)) = 0"
                                                                                     " RETURNING c.id) SELECT (SELECT id FROM d), "
                                                                                     "0, EXISTS (SELECT 1 FROM f), (SELECT ids "
                                                                                     "FROM rules)::text",
         2},
    /* ---- end of directory ---- */
    /* ---- SLA policies and automation rules ----
     * Lists, gets and deletes as the directory's. */
    [HDF_STMT_SLA_POLICIES_LIST] = {"sla_policies_list",
                                    "SELECT s.id, " ROW_JSON " FROM sla_policies s" SLA_LATERAL
                                    " WHERE s.workspace_id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3",
                                    3},
    [HDF_STMT_SLA_POLICY_GET] = {"sla_policy_get",
                                 "SELECT " ROW_JSON " FROM sla_policies s" SLA_LATERAL " WHERE s.workspace_id = $1 AND s.id = $2",
                                 2},
    /* $2 name, $3 priority, $4 first_response_minutes, $5 resolution_minutes; a second policy for
     * a priority is a unique violation (409, db/sqlstate.c) */
    [HDF_STMT_SLA_POLICY_CREATE] = {"sla_policy_create",
                                    "WITH s AS (INSERT INTO sla_policies (workspace_id, name, priority, first_response_minutes,"
                                    " resolution_minutes) VALUES ($1, $2, $3, $4, $5) RETURNING *)"
                                    " SELECT s.id, " ROW_JSON " FROM s" SLA_LATERAL,
                                    5},
    /* $3..$6 as create's $2..$5, each NULL when unchanged. Tickets keep the due times they got. */
    [HDF_STMT_SLA_POLICY_UPDATE] =
        {"sla_policy_update",
         "WITH cur AS (SELECT * FROM sla_policies WHERE workspace_id = $1 AND id = $2),"
         " want AS (SELECT cur.id, coalesce($3, cur.name) AS name, coalesce($4, cur.priority) AS priority,"
         " coalesce($5::integer, cur.first_response_minutes) AS frm, coalesce($6::integer, cur.resolution_minutes) AS rm FROM cur),"
         " u AS (UPDATE sla_policies s SET name = w.name, priority = w.priority, first_response_minutes = w.frm,"
         " resolution_minutes = w.rm, updated_at = now() FROM want w, cur WHERE s.id = w.id"
         " AND (w.name, w.priority, w.frm, w.rm) IS DISTINCT FROM (cur.name, cur.priority, cur.first_response_minutes,"
         " cur.resolution_minutes) RETURNING s.*),"
         " s AS (SELECT * FROM u UNION ALL SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM u))"
         " SELECT " ROW_JSON " FROM s" SLA_LATERAL,
         6},
    /* Tickets measured against the policy keep their due times (ON DELETE SET NULL of policy_id). */
    [HDF_STMT_SLA_POLICY_DELETE] = {"sla_policy_delete",
                                    "DELETE FROM sla_policies WHERE workspace_id = $1 AND id = $2 RETURNING id", 2},
    [HDF_STMT_AUTOMATIONS_LIST] = {"automations_list",
                                   "SELECT a.id, " ROW_JSON " FROM automation_rules a" AUTOMATION_LATERAL
                                   " WHERE a.workspace_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
                                   3},
    [HDF_STMT_AUTOMATION_GET] = {"automation_get",
                                 "SELECT " ROW_JSON " FROM automation_rules a" AUTOMATION_LATERAL
                                 " WHERE a.workspace_id = $1 AND a.id = $2",
                                 2},
    /* (revision, definition) of a rule, for a PATCH to merge into and validate whole */
    [HDF_STMT_AUTOMATION_DEF] = {"automation_def",
                                 "SELECT a.revision, " AUTOMATION_DEF_JSON "::text FROM automation_rules a"
                                 " WHERE a.workspace_id = $1 AND a.id = $2",
                                 2},
    /* $2 name, $3 position, $4 enabled, $5 events, $6 conditions, $7 actions (JSON), $8 team ids,
     * $9 agent ids, $10 ticket field keys, $11 customer field keys (JSON arrays: what the rule
     * refers to). Returns (missing team positions, missing agent positions, id, json); nothing is
     * written when a team or agent is missing. */
    [HDF_STMT_AUTOMATION_CREATE] =
        {"automation_create",
         "WITH " AUTOMATION_MISSING("mt", "teams", "$8") ", " AUTOMATION_MISSING(
             "ma", "agents",
             "$9") ","
                   " a AS (INSERT INTO automation_rules (workspace_id, name, position, enabled, events, conditions, actions, "
                   "team_ids,"
                   " agent_ids, ticket_field_keys, customer_field_keys) SELECT $1, $2, $3, $4, " JSON_TEXT_ARRAY(
                       "$5") ", $6::jsonb,"
                             " $7::jsonb, " JSON_DISTINCT_IDS("$8") ", " JSON_DISTINCT_IDS("$9") ", " JSON_DISTINCT_TEXT(
                                 "$10") ", " JSON_DISTINCT_TEXT("$11") " FROM mt, ma WHERE cardinality(mt.idx) = 0 AND "
                                                                       "cardinality(ma.idx) = 0 RETURNING *)"
                                                                       " SELECT mt.idx::text, ma.idx::text, x.id, x.json FROM mt "
                                                                       "CROSS JOIN ma"
                                                                       " LEFT JOIN (SELECT a.id, " ROW_JSON
                                                                       " AS json FROM a" AUTOMATION_LATERAL ") x ON true",
         11},
    /* $2 id, $3 the revision the definition was read at, $4..$13 as create's $2..$11. Returns
     * (missing teams, missing agents, json: NULL when the rule changed or went meanwhile). */
    [HDF_STMT_AUTOMATION_UPDATE] =
        {"automation_update",
         "WITH " AUTOMATION_MISSING("mt", "teams", "$10") ", " AUTOMATION_MISSING(
             "ma", "agents",
             "$11") ","
                    " a AS (UPDATE automation_rules a SET name = $4, position = $5, enabled = $6, "
                    "events = " JSON_TEXT_ARRAY(
                        "$7") ","
                              " conditions = $8::jsonb, actions = $9::jsonb, team_ids "
                              "= " JSON_DISTINCT_IDS("$10") ", agent_ids = " JSON_DISTINCT_IDS(
                                  "$11") ", ticket_field_keys = " JSON_DISTINCT_TEXT("$12") ", customer_field_keys "
                                                                                            "= " JSON_DISTINCT_TEXT(
                                                                                                "$13") ", "
                                                                                                       "revis"
                                                                                                       "ion "
                                                                                                       "= "
                                                                                                       "a."
                                                                                                       "revis"
                                                                                                       "ion "
                                                                                                       "+ 1, "
                                                                                                       "updat"
                                                                                                       "ed_"
                                                                                                       "at = "
                                                                                                       "now()"
                                                                                                       " FROM"
                                                                                                       " mt, "
                                                                                                       "ma "
                                                                                                       "WHERE"
                                                                                                       " a."
                                                                                                       "works"
                                                                                                       "pace_"
                                                                                                       "id = "
                                                                                                       "$1"
                                                                                                       " AND "
                                                                                                       "a.id "
                                                                                                       "= $2 "
                                                                                                       "AND "
                                                                                                       "a."
                                                                                                       "revis"
                                                                                                       "ion "
                                                                                                       "= $3 "
                                                                                                       "AND "
                                                                                                       "cardi"
                                                                                                       "nalit"
                                                                                                       "y(mt."
                                                                                                       "idx) "
                                                                                                       "= 0 "
                                                                                                       "AND "
                                                                                                       "cardi"
                                                                                                       "nalit"
                                                                                                       "y(ma."
                                                                                                       "idx) "
                                                                                                       "= 0 "
                                                                                                       "RETUR"
                                                                                                       "NING "
                                                                                                       "a.*)"
                                                                                                       " SELE"
                                                                                                       "CT "
                                                                                                       "mt."
                                                                                                       "idx::"
                                                                                                       "text,"
                                                                                                       " ma."
                                                                                                       "idx::"
                                                                                                       "text,"
                                                                                                       " ("
                                                                                                       "SELEC"
                                                                                                       "T"
                                                                                                       " " ROW_JSON " FROM"
                                                                                                       " "
                                                                                                       "a" AUTOMATION_LATERAL ") "
                                                                                                       "FROM "
                                                                                                       "mt "
                                                                                                       "CROSS"
                                                                                                       " JOIN"
                                                                                                       " ma",
         13},
    [HDF_STMT_AUTOMATION_DELETE] = {"automation_delete",
                                    "DELETE FROM automation_rules WHERE workspace_id = $1 AND id = $2 RETURNING id", 2},
    /* $1 ws: (rules version, the enabled rules as [{id, rule}]) from one snapshot, so the rules
     * are exactly those of the version (automation/rules_cache.h) */
    [HDF_STMT_AUTOMATION_RULES_LOAD] = {"automation_rules_load", "SELECT " RULES_LOAD_COLUMNS, 1},
    /* POST /v1/automations/dry-run (handlers/automation_dry_run.c), reading only: $1 ws, $2 ticket
     * or NULL, $3 normalised email or NULL, $4 team or NULL, $5 agent or NULL. Answers (rules
     * version, rules as RULES_LOAD, the ticket's fields or NULL, its customer or else the live
     * customer of the email (automation form) or NULL, ticket and customer custom field
     * definitions as CUSTOM_FIELD_DEFS, team ok, agent ok). */
    [HDF_STMT_AUTOMATION_DRY_RUN_STATE] =
        {"automation_dry_run_state",
         "SELECT " RULES_LOAD_COLUMNS ", (SELECT hdf_ticket_fields(t)::text FROM tickets t WHERE t.workspace_id = $1"
         " AND t.id = $2), coalesce((SELECT " CUSTOMER_RULE_JSON " FROM tickets t JOIN customers c ON c.id = t.customer_id"
         " WHERE t.workspace_id = $1 AND t.id = $2), (SELECT " CUSTOMER_RULE_JSON " FROM customers c WHERE c.workspace_id = $1"
         " AND c.email = $3 AND c.merged_into IS NULL)), (SELECT " FIELD_DEFS_JSON
         " AND f.object = 'ticket'), (SELECT " FIELD_DEFS_JSON " AND f.object = 'customer'),"
         " ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM teams WHERE workspace_id = $1 AND id = $4)),"
         " ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1 AND id = $5))",
         5},
    /* ---- end of automation ---- */
    /* ---- customers (handlers/customers.c) ----
     * $1 workspace, $2 object (ticket|customer): one row, the object's custom field definitions as
     * a JSON array of {key, type, options} ([] when none), for custom_fields_check_values. */
    [HDF_STMT_CUSTOM_FIELD_DEFS] = {"custom_field_defs", "SELECT " FIELD_DEFS_JSON " AND f.object = $2", 2},
    /* $1 workspace, $2 normalised email: the live customer as automation conditions read it (no
     * row when none), for ticket.created rules that read stored customer fields */
    [HDF_STMT_CUSTOMER_RULE_BY_EMAIL] = {"customer_rule_by_email",
                                         "SELECT " CUSTOMER_RULE_JSON " FROM customers c WHERE c.workspace_id = $1"
                                         " AND c.email = $2 AND c.merged_into IS NULL",
                                         2},
    /* $1 workspace, $2 id: (merged_into, json or NULL when merged) */
    [HDF_STMT_CUSTOMER_GET] = {"customer_get",
                               "SELECT c.merged_into, CASE WHEN c.merged_into IS NULL THEN " ROW_JSON
                               " END FROM customers c" CUSTOMER_LATERAL " WHERE c.workspace_id = $1 AND c.id = $2",
                               2},
    /* $4 email (normalised) or NULL, $5 tag or NULL, $6 updated_since or NULL. Merged customers are
     * not listed. */
    [HDF_STMT_CUSTOMERS_LIST] = {"customers_list",
                                 "SELECT c.id, " ROW_JSON " FROM customers c" CUSTOMER_LATERAL
                                 " WHERE c.workspace_id = $1 AND c.id > $2 AND c.merged_into IS NULL"
                                 " AND ($4::text IS NULL OR c.email = $4) AND ($5::text IS NULL OR c.tags @> ARRAY[$5::text])"
                                 " AND ($6::timestamptz IS NULL OR c.updated_at >= $6) ORDER BY c.id LIMIT $3",
                                 6},
    /* $2 email (normalised); see CUSTOMER_WRITE. A create that loses the race for the email to a
     * concurrent one inserts nothing (ON CONFLICT on customers_workspace_email_key) and answers
     * retry: the next run sees the winner's row and merges into it. */
    [HDF_STMT_CUSTOMER_UPSERT] =
        {"customer_upsert",
         "WITH cur AS (SELECT c.* FROM customers c WHERE c.workspace_id = $1 AND c.email = $2 AND c.merged_into IS NULL FOR "
         "UPDATE),"
         " snap AS (SELECT c.version FROM customers c, cur WHERE c.id = cur.id)," CUSTOMER_BASE
         " UNION ALL SELECT NULL::bigint, $2::text, NULL::text, NULL::text, '{}'::text[], '{}'::jsonb, '{}'::jsonb, 0, true"
         " WHERE NOT EXISTS (SELECT 1 FROM cur))," CUSTOMER_WRITE("false"),
         7},
    /* $2 id; see CUSTOMER_WRITE. No row: no such (live) customer. */
    [HDF_STMT_CUSTOMER_UPDATE] =
        {"customer_update",
         "WITH cur AS (SELECT c.* FROM customers c WHERE c.workspace_id = $1 AND c.id = $2 AND c.merged_into IS NULL FOR UPDATE),"
         " snap AS (SELECT c.version FROM customers c, cur WHERE c.id = cur.id)," CUSTOMER_BASE ")," CUSTOMER_WRITE("true"),
         7},
    /* Merging (handlers/customer_merge.c), inside one transaction under SET LOCAL lock_timeout.
     * $1 workspace, $2 and $3 the two customers: both rows locked in id order (FOR UPDATE above
     * the sort), so two merges of one pair, in either direction, queue instead of deadlocking.
     * Rows (id, merged_into, email); a missing row is not the workspace's customer. */
    [HDF_STMT_CUSTOMER_MERGE_LOCK] = {"customer_merge_lock",
                                      "SELECT c.id, c.merged_into, c.email FROM customers c WHERE c.workspace_id = $1"
                                      " AND c.id IN ($2::bigint, $3::bigint) ORDER BY c.id FOR UPDATE",
                                      3},
    /* After CUSTOMER_MERGE_LOCK, in the same transaction (so this statement's snapshot already
     * sees everything committed before the locks were granted): $2 the survivor, $3 the source,
     * $4 actor type, $5 actor id, $6 source, $7 request id. The survivor's values win: name and
     * phone only fill a null, tags are the survivor's then the source's new ones, custom_fields
     * and metadata merge key by key. Tickets (one version and audit entry each) and external
     * profiles move to the survivor; the source gets merged_into (giving up its email: the
     * unique index skips merged rows). Nothing is written when the union has over 50 tags or
     * the merged metadata would exceed 16 KiB. Returns (ok, tag count, metadata bytes, tickets
     * moved, survivor json or NULL). */
    [HDF_STMT_CUSTOMER_MERGE] =
        {"customer_merge",
         "WITH s AS (SELECT c.* FROM customers c WHERE c.workspace_id = $1 AND c.id = $2),"
         " o AS (SELECT c.* FROM customers c WHERE c.workspace_id = $1 AND c.id = $3),"
         " n AS (SELECT coalesce(s.name, o.name) AS name, coalesce(s.phone, o.phone) AS phone,"
         " s.tags || ARRAY(SELECT t.v FROM unnest(o.tags) WITH ORDINALITY t(v, k) WHERE t.v <> ALL (s.tags) ORDER BY t.k)"
         " AS tags, o.custom_fields || s.custom_fields AS cf, o.metadata || s.metadata AS md FROM s, o),"
         " chk AS (SELECT cardinality(n.tags) AS ntags, octet_length(n.md::text) AS mdlen,"
         " cardinality(n.tags) <= 50 AND octet_length(n.md::text) <= 16384 AS ok FROM n),"
         " tk AS (UPDATE tickets t SET customer_id = $2, version = t.version + 1, updated_at = now() FROM chk"
         " WHERE chk.ok AND t.workspace_id = $1 AND t.customer_id = $3 RETURNING t.id, t.version),"
         " tka AS (" AUDIT_INSERT " SELECT $1, 'ticket', tk.id, tk.version, $4, $5, $6, $7,"
         " jsonb_build_object('customer_id', jsonb_build_object('from', $3::bigint, 'to', $2::bigint)) FROM tk),"
         " pr AS (UPDATE customer_external_profiles e SET customer_id = $2 FROM chk"
         " WHERE chk.ok AND e.workspace_id = $1 AND e.customer_id = $3),"
         " src AS (UPDATE customers c SET merged_into = $2, version = c.version + 1, updated_at = now() FROM chk"
         " WHERE chk.ok AND c.workspace_id = $1 AND c.id = $3 RETURNING c.id, c.version),"
         " sur AS (UPDATE customers c SET name = n.name, phone = n.phone, tags = n.tags, custom_fields = n.cf, metadata = n.md,"
         " version = c.version + 1, updated_at = now() FROM n, chk WHERE chk.ok AND c.workspace_id = $1 AND c.id = $2"
         " RETURNING c.*),"
         " chg AS (SELECT coalesce(jsonb_object_agg(v.f, jsonb_build_object('from', v.o, 'to', v.n)), '{}') AS changes"
         " FROM s, sur, LATERAL (VALUES ('name', to_jsonb(s.name), to_jsonb(sur.name)),"
         " ('phone', to_jsonb(s.phone), to_jsonb(sur.phone)), ('tags', to_jsonb(s.tags), to_jsonb(sur.tags)),"
         " ('custom_fields', s.custom_fields, sur.custom_fields), ('metadata', s.metadata, sur.metadata),"
         " ('external_profiles', " CUSTOMER_PROFILES_JSONB("e.customer_id = $2") ", " CUSTOMER_PROFILES_JSONB(
             "e.customer_id IN ($2, $3)") ")) v(f, o, n) WHERE v.o IS DISTINCT FROM v.n),"
                                          " sa AS (" AUDIT_INSERT " SELECT $1, 'customer', sur.id, sur.version, $4, $5, $6, $7,"
                                          " chg.changes || jsonb_build_object('merged_from', jsonb_build_object('from', NULL,"
                                          " 'to', $3::bigint)) FROM sur, chg),"
                                          " oa AS (" AUDIT_INSERT " SELECT $1, 'customer', src.id, src.version, $4, $5, $6, $7,"
                                          " jsonb_build_object('merged_into', jsonb_build_object('from', NULL, 'to', $2::bigint))"
                                          " FROM src)"
                                          " SELECT chk.ok, chk.ntags, chk.mdlen, (SELECT count(*) FROM tk),"
                                          " (SELECT " ROW_JSON " FROM sur c" CUSTOMER_LATERAL_WITH(
                                              CUSTOMER_PROFILES_OF("ANY (ARRAY[c.id, $3::bigint])")) ") FROM chk",
         7},
    /* ---- end of customers ---- */
    [HDF_STMT_BEGIN] = {"begin", "BEGIN", 0},
    [HDF_STMT_COMMIT] = {"commit", "COMMIT", 0},
    [HDF_STMT_ROLLBACK] = {"rollback", "ROLLBACK", 0},
    /* $1 workspace, $2 key, $3 request hash (bytea), $4 claim token; the first statement of the
     * request's transaction. A transaction-scoped advisory lock on the key says whether another
     * request holds it now ('busy': 409 in flight, without waiting); holding it, the statement
     * claims a new or expired key, or returns the existing (committed, so done) record. Under a
     * concurrent commit the last part may not see the row yet (statement snapshot): no row at all
     * means "ask again". */
    [HDF_STMT_IDEM_CLAIM] =
        {"idem_claim",
         "WITH lk AS (SELECT pg_try_advisory_xact_lock(hashtextextended($1::bigint::text || ':' || $2::text, 7254190358716102002)) "
         "AS ok),"
         " claim AS (INSERT INTO idempotency_keys AS k (workspace_id, idem_key, request_hash, claim_token, state, expires_at)"
         " SELECT $1, $2, $3, $4, 'in_flight', now() + interval '24 hours' FROM lk WHERE lk.ok"
         " ON CONFLICT (workspace_id, idem_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
         " claim_token = EXCLUDED.claim_token, state = 'in_flight', response_status = NULL,"
         " response_headers = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at"
         " WHERE k.expires_at <= now() RETURNING 1)"
         " SELECT 'claimed', NULL::boolean, NULL::text, NULL::integer, NULL::text, NULL::text FROM claim"
         " UNION ALL SELECT 'busy', NULL, NULL, NULL, NULL, NULL FROM lk WHERE NOT lk.ok"
         " UNION ALL SELECT 'existing', k.request_hash = $3, k.state, k.response_status,"
         " k.response_headers::text, k.response_body FROM idempotency_keys k, lk"
         " WHERE lk.ok AND k.workspace_id = $1 AND k.idem_key = $2 AND NOT EXISTS (SELECT 1 FROM claim)",
         4},
    [HDF_STMT_IDEM_COMPLETE] = {"idem_complete",
                                "UPDATE idempotency_keys SET state = 'done', response_status = $4, response_headers = $5::jsonb,"
                                " response_body = $6 WHERE workspace_id = $1 AND idem_key = $2 AND claim_token = $3"
                                " AND state = 'in_flight'",
                                6},
    [HDF_STMT_IDEM_PURGE] = {"idem_purge",
                             "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys"
                             " WHERE expires_at < now() LIMIT 1000))",
                             0},
    /* ---- tickets ---- */
    /* $1 ws, $2 agent: may this agent be named in X-Acting-Agent-Id? */
    [HDF_STMT_AGENT_IS_ACTIVE] = {"agent_is_active", "SELECT 1 FROM agents WHERE workspace_id = $1 AND id = $2 AND active", 2},
    /* $1 milliseconds: the row-lock wait of this transaction (HDF_LOCK_TIMEOUT_MS) */
    [HDF_STMT_LOCK_TIMEOUT] = {"lock_timeout", "SELECT set_config('lock_timeout', $1 || 'ms', true)", 1},
    /* One statement, so one round trip and atomic: the customer found by email or created (a
     * concurrent create of the same email waits on the unique index and then finds it), the
     * ticket, its first message, the audit entries, and the composite view. $1 ws, $2 email,
     * $3 customer name, $4 customer tags, $5 customer custom_fields, $6 subject, $7 status,
     * $8 priority, $9 channel, $10 team, $11 assignee, $12 tags, $13 custom_fields, $14 sanitized
     * body, $15 actor type, $16 actor id, $17 source, $18 request id. Automation (ticket.created
     * rules, evaluated in C before): $6..$13 are the final fields; $19 the request's fields (the
     * creation entry's, NULL when rules changed nothing), $20 the rules' effects [{rule_id,
     * changes}] (one audit entry each, versions 2, 3, ...; the ticket ends at the last), $21 their
     * internal notes [{rule_id, body}], $22 the rules version they were evaluated with. Nothing is
     * written when the team or assignee is not the workspace's, or when the rules version moved on
     * (the caller reloads the rules and sends it again). Answers (team ok, agent ok, id, view,
     * version, current rules version). */
    [HDF_STMT_TICKET_CREATE] =
        {"ticket_create",
         "WITH chk AS (SELECT ($10::bigint IS NULL OR EXISTS (SELECT 1 FROM teams WHERE workspace_id = $1 AND id = $10)) AS "
         "team_ok,"
         " ($11::bigint IS NULL OR EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1 AND id = $11)) AS agent_ok,"
         " hdf_rules_version($1) AS rules_version),"
         " cust AS (INSERT INTO customers AS c (workspace_id, email, name, tags, custom_fields)"
         " SELECT $1, $2, $3, coalesce($4::text[], '{}'), coalesce($5::jsonb, '{}') FROM chk WHERE team_ok AND agent_ok"
         " AND rules_version = $22"
         " ON CONFLICT (workspace_id, email) WHERE merged_into IS NULL DO UPDATE SET email = c.email RETURNING c.*),"
         " t AS (INSERT INTO tickets (workspace_id, customer_id, subject, status, priority, channel, team_id, assignee_id, tags,"
         " custom_fields, version) SELECT $1, cust.id, $6, $7, $8, $9, $10, $11, $12::text[], $13::jsonb,"
         " 1 + jsonb_array_length(coalesce($20::jsonb, '[]')) FROM cust RETURNING *),"
         " notes AS (INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, internal, body)"
         " SELECT $1, t.id, 'system', (n.v->>'rule_id')::bigint, true, n.v->>'body' FROM t,"
         " jsonb_array_elements(coalesce($21::jsonb, '[]')) WITH ORDINALITY n(v, ord) ORDER BY n.ord),"

         " m AS (INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, body)"
         " SELECT $1, t.id, 'customer', t.customer_id, $14 FROM t WHERE $14::text IS NOT NULL RETURNING *),"
         /* one INSERT, rows in version order, so audit ids follow versions */
         " ta AS (" AUDIT_INSERT_RULE " SELECT * FROM (SELECT $1::bigint, 'ticket', t.id, 1::bigint AS v, $15::text, $16::bigint,"
         " $17::text, $18::text, hdf_changes(NULL, coalesce($19::jsonb || jsonb_build_object('customer_id', t.customer_id),"
         " hdf_ticket_fields(ROW(t.*)::tickets))), NULL::bigint FROM t UNION ALL " RULE_AUDIT_ROWS(
             "t.id", "1", "$18", "$20",
             "t") ") x ORDER BY x.v),"
                  " ca AS (INSERT INTO audit_log (workspace_id, object_type, object_id, version, actor_type, actor_id, source, "
                  "request_id,"
                  " changes) SELECT $1, 'customer', cust.id, 1, $15, $16, $17, $18, jsonb_build_object('email', jsonb_build_object("
                  "'from', NULL, 'to', cust.email), 'name', jsonb_build_object('from', NULL, 'to', cust.name), 'tags', "
                  "jsonb_build_object("
                  "'from', NULL, 'to', to_jsonb(cust.tags)), 'custom_fields', jsonb_build_object('from', NULL, 'to', "
                  "cust.custom_fields))"
                  " FROM cust WHERE cust.created_at = now())"
                  " SELECT chk.team_ok, chk.agent_ok, t.id, hdf_ticket_json(ROW(t.*)::tickets, ROW(cust.*)::customers,"
                  " (SELECT json_agg(hdf_message_json(ROW(m.*)::messages)) FROM m))::text, t.version, chk.rules_version"
                  " FROM chk LEFT JOIN t ON true LEFT JOIN cust ON true",
         22},
    /* $1 ws, $2 ticket, $3 include internal notes */
    [HDF_STMT_TICKET_GET] = {"ticket_get",
                             "SELECT t.version, hdf_ticket_json(t, c, (SELECT json_agg(hdf_message_json(m) ORDER BY m.id)"
                             " FROM messages m WHERE m.ticket_id = t.id AND (NOT m.internal OR $3::boolean)))::text"
                             " FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.workspace_id = $1 AND t.id = $2",
                             3},
    /* $1 ws, $2 ticket: inside the PATCH transaction, after LOCK_TIMEOUT */
    /* Answers (version, fields, the rules version, the customer as automation conditions see it). */
    [HDF_STMT_TICKET_LOCK] = {"ticket_lock",
                              "SELECT t.version, hdf_ticket_fields(t)::text, hdf_rules_version($1), " CUSTOMER_RULE_JSON
                              " FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.workspace_id = $1 AND t.id = $2"
                              " FOR UPDATE OF t",
                              2},
    /* $1 ws, $2 ticket, $3 the new fields (hdf_ticket_fields form), $4 actor type, $5 actor id,
     * $6 source, $7 request id; $8 the fields after the user's change alone (NULL when ticket.updated
     * rules changed nothing), $9 the rules' effects [{rule_id, changes}] (one audit entry and
     * version each, after the user's), $10 their internal notes [{rule_id, body}]. One version and one audit entry for the whole
     * effective change; the caller only sends it when something changed. team/assignee must be the workspace's. Answers (team ok,
     * agent ok, version, composite view without internal notes). */
    [HDF_STMT_TICKET_UPDATE] =
        {"ticket_update",
         "WITH n AS (SELECT $3::jsonb AS f), chk AS (SELECT"
         " (n.f->>'team_id' IS NULL OR EXISTS (SELECT 1 FROM teams WHERE workspace_id = $1 AND id = (n.f->>'team_id')::bigint))"
         " AS team_ok, (n.f->>'assignee_id' IS NULL OR EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1"
         " AND id = (n.f->>'assignee_id')::bigint)) AS agent_ok FROM n),"
         " old AS (SELECT t.* FROM tickets t WHERE t.workspace_id = $1 AND t.id = $2),"
         " u AS (UPDATE tickets t SET subject = n.f->>'subject', status = n.f->>'status', priority = n.f->>'priority',"
         " team_id = (n.f->>'team_id')::bigint, assignee_id = (n.f->>'assignee_id')::bigint,"
         " tags = ARRAY(SELECT jsonb_array_elements_text(n.f->'tags')), custom_fields = n.f->'custom_fields',"
         " version = t.version + 1 + jsonb_array_length(coalesce($9::jsonb, '[]')), updated_at = now() FROM n, chk WHERE "
         "t.workspace_id = $1 AND t.id = $2 AND chk.team_ok"
         " AND chk.agent_ok RETURNING t.*),"
         " a AS (INSERT INTO audit_log (workspace_id, object_type, object_id, version, actor_type, actor_id, source, request_id,"
         " changes, rule_id) SELECT * FROM (SELECT $1::bigint, 'ticket', u.id, old.version + 1::bigint AS v, $4::text, $5::bigint,"
         " $6::text, $7::text, hdf_changes(hdf_ticket_fields(ROW(old.*)::tickets), coalesce($8::jsonb,"
         " hdf_ticket_fields(ROW(u.*)::tickets))), NULL::bigint FROM u, old UNION ALL " RULE_AUDIT_ROWS(
             "u.id", "old.version + 1", "$7", "$9",
             "u, old") ") x ORDER BY x.v),"
                       " notes AS (INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, internal, body)"
                       " SELECT $1, u.id, 'system', (n.v->>'rule_id')::bigint, true, n.v->>'body' FROM u,"
                       " jsonb_array_elements(coalesce($10::jsonb, '[]')) WITH ORDINALITY n(v, ord) ORDER BY n.ord)"
                       " SELECT chk.team_ok, chk.agent_ok, u.version, hdf_ticket_json(ROW(u.*)::tickets, c, (SELECT json_agg("
                       "hdf_message_json(m) ORDER BY m.id) FROM messages m WHERE m.ticket_id = u.id AND NOT m.internal))::text"
                       " FROM chk LEFT JOIN u ON true LEFT JOIN customers c ON c.id = u.customer_id",
         10},
    /* $1 ws, $2 ticket, $3 author type, $4 author id, $5 internal, $6 sanitized body, $7 the rules
     * version the caller found no message.created rules at. Writes only while that version is
     * current (else the caller reloads the rules and may take the rules path). Answers (current
     * rules version, message or NULL: no such ticket, or the version moved on). */
    [HDF_STMT_MESSAGE_CREATE] = {"message_create",
                                 "WITH v AS (SELECT hdf_rules_version($1) AS rv),"
                                 " t AS (UPDATE tickets SET updated_at = now() FROM v WHERE workspace_id = $1 AND id = $2"
                                 " AND v.rv = $7 RETURNING id, customer_id),"
                                 " m AS (INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, internal, body)"
                                 " SELECT $1, t.id, $3, CASE WHEN $3 = 'customer' THEN t.customer_id ELSE $4::bigint END, $5, $6"
                                 " FROM t RETURNING *)"
                                 " SELECT v.rv, (SELECT hdf_message_json(ROW(m.*)::messages)::text FROM m) FROM v",
                                 7},
    /* The message.created rules path, after TICKET_LOCK in the same transaction: $1..$6 as
     * MESSAGE_CREATE, $7 the ticket's fields after the rules (hdf_ticket_fields form), $8 the rules'
     * effects [{rule_id, changes}] (one audit entry and version each), $9 their internal notes
     * [{rule_id, body}] (after the message, in order), $10 request id. Answers the message. */
    [HDF_STMT_MESSAGE_CREATE_RULES] =
        {"message_create_rules",
         "WITH n AS (SELECT $7::jsonb AS f, jsonb_array_length(coalesce($8::jsonb, '[]')) AS k),"
         " u AS (UPDATE tickets t SET subject = n.f->>'subject', status = n.f->>'status', priority = n.f->>'priority',"
         " team_id = (n.f->>'team_id')::bigint, assignee_id = (n.f->>'assignee_id')::bigint,"
         " tags = ARRAY(SELECT jsonb_array_elements_text(n.f->'tags')), custom_fields = n.f->'custom_fields',"
         " version = t.version + n.k, updated_at = now() FROM n WHERE t.workspace_id = $1 AND t.id = $2"
         " RETURNING t.id, t.customer_id, t.version - n.k AS base),"
         " m AS (INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, internal, body)"
         " SELECT w, tid, at, aid, i, b FROM (SELECT $1::bigint AS w, u.id AS tid, $3::text AS at, CASE WHEN $3 = 'customer'"
         " THEN u.customer_id ELSE $4::bigint END AS aid, $5::boolean AS i, $6::text AS b, 0::bigint AS ord FROM u UNION ALL"
         " SELECT $1, u.id, 'system', (x.v->>'rule_id')::bigint, true, x.v->>'body', x.ord FROM u,"
         " jsonb_array_elements(coalesce($9::jsonb, '[]')) WITH ORDINALITY x(v, ord)) y ORDER BY y.ord RETURNING *),"
         " a AS (" AUDIT_INSERT_RULE
         " " RULE_AUDIT_ROWS("u.id", "u.base", "$10", "$8",
                             "u") ")"
                                  " SELECT hdf_message_json(ROW(m.*)::messages)::text FROM m WHERE m.author_type <> 'system'",
         10},
    /* A list statement (http/list.h): $1 ws, $2 after audit id, $3 limit + 1, $4 ticket. A ticket
     * always has its creation entry, so a first page without rows means no such ticket. */
    [HDF_STMT_TICKET_AUDIT] =
        {"ticket_audit",
         "SELECT a.id, row_to_json(e)::text FROM audit_log a, LATERAL (SELECT a.id, a.version,"
         " hdf_ts(a.occurred_at) AS occurred_at,"
         " (SELECT row_to_json(x) FROM (SELECT a.actor_type AS type, a.actor_id AS id) x) AS actor, a.source,"
         " a.request_id, a.changes, a.rule_id) e WHERE a.workspace_id = $1 AND a.object_type = 'ticket' AND a.object_id = $4"
         " AND a.id > $2 ORDER BY a.id LIMIT $3",
         4},
    [HDF_STMT_TICKETS_CREATED_ASC] = {"tickets_created_asc", TICKETS_LIST("created_at", ">", "ASC", "-infinity", "0"), 11},
    [HDF_STMT_TICKETS_CREATED_DESC] = {"tickets_created_desc",
                                       TICKETS_LIST("created_at", "<", "DESC", "infinity", "9223372036854775807"), 11},
    [HDF_STMT_TICKETS_UPDATED_ASC] = {"tickets_updated_asc", TICKETS_LIST("updated_at", ">", "ASC", "-infinity", "0"), 11},
    [HDF_STMT_TICKETS_UPDATED_DESC] = {"tickets_updated_desc",
                                       TICKETS_LIST("updated_at", "<", "DESC", "infinity", "9223372036854775807"), 11},
    [HDF_STMT_TICKETS_ALL_CREATED_ASC] = {"tickets_all_created_asc", TICKETS_LIST_ALL("created_at", ">", "ASC", "-infinity", "0"),
                                          4},
    [HDF_STMT_TICKETS_ALL_CREATED_DESC] = {"tickets_all_created_desc",
                                           TICKETS_LIST_ALL("created_at", "<", "DESC", "infinity", "9223372036854775807"), 4},
    [HDF_STMT_TICKETS_ALL_UPDATED_ASC] = {"tickets_all_updated_asc", TICKETS_LIST_ALL("updated_at", ">", "ASC", "-infinity", "0"),
                                          4},
    [HDF_STMT_TICKETS_ALL_UPDATED_DESC] = {"tickets_all_updated_desc",
                                           TICKETS_LIST_ALL("updated_at", "<", "DESC", "infinity", "9223372036854775807"), 4},
    /* ---- rate limits (ratelimit/limiter.c; the arithmetic is in migrations/0005_rate_limits.sql) ---- */
    /* $1 key, $2 workspace, $3 category, $4 default limit, $5 default window ms, $6 permits wanted,
     * $7 window ms, $8 bucket and $9 count of unused permits given back: one statement per batch */
    [HDF_STMT_RATE_LEASE] = {"rate_lease",
                             "SELECT limit_count, window_ms, bucket, elapsed_ms, prev_count, curr_count, granted"
                             " FROM hdf_rate_lease($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                             9},
    [HDF_STMT_RATE_PURGE] = {"rate_purge", "SELECT hdf_rate_purge()", 0},
    /* ---- webhooks and events (handlers/webhooks.c) ----
     * Subscriptions as JSON: never the secret (sealed in secret_enc; the handler adds the plain one
     * to the create and rotate answers only). */
    [HDF_STMT_WEBHOOK_NEXT_ID] = {"webhook_next_id", "SELECT nextval('webhook_subscriptions_id_seq')", 0},
    /* $2 id (from webhook_next_id), $3 url, $4 events (JSON array), $5 description, $6 enabled, $7 sealed secret */
    [HDF_STMT_WEBHOOK_CREATE] =
        {"webhook_create",
         "WITH w AS (INSERT INTO webhook_subscriptions (workspace_id, id, url, events, description, enabled,"
         " secret_enc) VALUES ($1, $2, $3, " JSON_TEXT_ARRAY("$4") ", $5, $6, $7) RETURNING *)"
                                                                   " SELECT w.id, " ROW_JSON " FROM w" WEBHOOK_LATERAL,
         7},
    [HDF_STMT_WEBHOOKS_LIST] = {"webhooks_list",
                                "SELECT w.id, " ROW_JSON " FROM webhook_subscriptions w" WEBHOOK_LATERAL
                                " WHERE w.workspace_id = $1 AND w.id > $2 ORDER BY w.id LIMIT $3",
                                3},
    [HDF_STMT_WEBHOOK_GET] = {"webhook_get",
                              "SELECT " ROW_JSON " FROM webhook_subscriptions w" WEBHOOK_LATERAL
                              " WHERE w.workspace_id = $1 AND w.id = $2",
                              2},
    /* $3 url, $4 events (JSON array), $7 enabled: NULL leaves them; $5 whether to set description to $6 */
    [HDF_STMT_WEBHOOK_UPDATE] = {"webhook_update",
                                 "WITH w AS (UPDATE webhook_subscriptions w SET url = coalesce($3, w.url),"
                                 " events = coalesce(" JSON_TEXT_ARRAY(
                                     "$4") ", w.events),"
                                           " description = CASE WHEN $5::boolean THEN $6::text ELSE w.description END,"
                                           " enabled = coalesce($7::boolean, w.enabled), updated_at = now()"
                                           " WHERE w.workspace_id = $1 AND w.id = $2 RETURNING w.*),"
                                           /* enabled: its pending deliveries are due (and sleeping workers woken) */
                                           " n AS (SELECT pg_notify('hdf_outbox', '') FROM w WHERE $7::boolean)"
                                           " SELECT " ROW_JSON " FROM w" WEBHOOK_LATERAL " WHERE (SELECT count(*) FROM n) >= 0",
                                 7},
    /* Its deliveries and their attempt log go with it (ON DELETE CASCADE). */
    [HDF_STMT_WEBHOOK_DELETE] = {"webhook_delete",
                                 "DELETE FROM webhook_subscriptions WHERE workspace_id = $1 AND id = $2 RETURNING id", 2},
    /* $3 the new sealed secret, $4 seconds the previous one keeps signing */
    [HDF_STMT_WEBHOOK_ROTATE] = {"webhook_rotate",
                                 "WITH w AS (UPDATE webhook_subscriptions w SET previous_secret_enc = w.secret_enc,"
                                 " previous_until = now() + make_interval(secs => $4::bigint), secret_enc = $3, updated_at = now()"
                                 " WHERE w.workspace_id = $1 AND w.id = $2 RETURNING w.*)"
                                 " SELECT " ROW_JSON " FROM w" WEBHOOK_LATERAL,
                                 4},
    /* The attempt log of subscription $4, oldest first: never the secret; the body as received
     * (first 4 KiB). Rows (id, json); none when the subscription is not the workspace's. */
    [HDF_STMT_WEBHOOK_ATTEMPTS] =
        {"webhook_attempts",
         "SELECT a.id, row_to_json(j)::text FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"
         " JOIN outbox_events e ON e.id = d.event_id,"
         " LATERAL (SELECT a.id, a.delivery_id, e.event_id, e.type AS event_type, a.attempt, a.url, a.status,"
         " a.response_body, a.error, a.duration_ms, hdf_ts(a.at) AS at, d.status AS delivery_status) j"
         " WHERE d.workspace_id = $1 AND a.subscription_id = $4 AND a.id > $2 ORDER BY a.id LIMIT $3",
         4},
    /* The feed, oldest first: $4 type or NULL. Rows (id, envelope JSON). */
    [HDF_STMT_EVENTS_LIST] = {"events_list",
                              "SELECT e.id, json_build_object('id', e.event_id, 'type', e.type, 'schema_version', e.schema_version,"
                              " 'occurred_at', hdf_ts(e.occurred_at), 'workspace_id', e.workspace_id, 'data', e.data)::text"
                              " FROM outbox_events e WHERE e.workspace_id = $1 AND e.id > $2"
                              " AND ($4::text IS NULL OR e.type = $4) ORDER BY e.id LIMIT $3",
                              4},
    /* New pending deliveries of event $2 to every enabled subscription that asks for its type or
     * had it delivered before; wakes the workers. The event is locked (FOR KEY SHARE) so that the
     * retention purge, which skips locked events, cannot delete it under the new deliveries. One row (event id, JSON array of the
     * deliveries) or none when the event is not the workspace's. */
    [HDF_STMT_EVENT_REDELIVER] =
        {"event_redeliver",
         "WITH e AS (SELECT id, event_id, type FROM outbox_events WHERE workspace_id = $1 AND event_id = $2 FOR KEY SHARE),"
         " ins AS (INSERT INTO webhook_deliveries (workspace_id, event_id, subscription_id, next_attempt_at)"
         " SELECT $1, e.id, s.id, now() FROM e JOIN webhook_subscriptions s ON s.workspace_id = $1 AND s.enabled"
         " AND (e.type = ANY (s.events) OR EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.event_id = e.id"
         " AND p.subscription_id = s.id)) RETURNING id, subscription_id),"
         " n AS (SELECT pg_notify('hdf_outbox', '') FROM (SELECT 1 FROM ins LIMIT 1) x)"
         " SELECT e.event_id, (SELECT coalesce(json_agg(json_build_object('id', ins.id, 'subscription_id', ins.subscription_id,"
         " 'status', 'pending') ORDER BY ins.id), '[]') FROM ins)::text, (SELECT count(*) FROM n) FROM e",
         2},
    /* ---- the delivery worker (outbox/delivery.c): prepared on its own connection ----
     * Claim: up to $1 (<= 64) due deliveries (pending, or delivering with an expired claim: a worker
     * died) of enabled subscriptions, oldest first, skipping rows another worker is claiming
     * (hdf_webhook_due, migrations/0009_outbox_wakeup.sql); each claim lasts $2 ms and
     * bumps claims, the fencing token that the completion must present. */
    [HDF_STMT_DELIVERY_CLAIM] =
        {"delivery_claim",
         "WITH c AS (SELECT id FROM hdf_webhook_due($1::integer) AS id)"
         " UPDATE webhook_deliveries d SET status = 'delivering', claims = d.claims + 1,"
         " claimed_until = clock_timestamp() + $2::bigint * interval '1 millisecond',"
         " next_attempt_at = clock_timestamp() + $2::bigint * interval '1 millisecond', updated_at = now()"
         " FROM c, outbox_events e, webhook_subscriptions s WHERE d.id = c.id AND e.id = d.event_id AND s.id = d.subscription_id"
         " RETURNING d.id, d.claims, d.attempts + 1, e.event_id, e.type, floor(extract(epoch FROM e.occurred_at) * 1000)::bigint,"
         " e.workspace_id, e.data::text, s.id, s.url, s.secret_enc,"
         " CASE WHEN s.previous_until > now() THEN s.previous_secret_enc END",
         2},
    /* Finished attempts, $1 a JSON array of {id, claims (the claim's token: a claim that expired
     * and was taken over writes nothing), outcome ok|retry|fail, delay (retry, ms), status (HTTP,
     * or null), error, body (first 4 KiB), duration (ms), url, attempt}: each delivery's next
     * state and its attempt log row. Rows: the ids of the deliveries recorded. */
    [HDF_STMT_DELIVERY_COMPLETE] =
        {"delivery_complete",
         "WITH a AS (SELECT * FROM json_to_recordset($1::json) AS a(id bigint, claims integer, outcome text, delay bigint,"
         " status integer, error text, body text, duration integer, url text, attempt integer)),"
         " d AS (UPDATE webhook_deliveries d SET attempts = a.attempt,"
         " status = CASE a.outcome WHEN 'ok' THEN 'succeeded' WHEN 'retry' THEN 'pending' ELSE 'failed' END,"
         " next_attempt_at = CASE WHEN a.outcome = 'retry' THEN now() + a.delay * interval '1 millisecond' END,"
         " claimed_until = NULL, last_status = a.status, last_error = a.error, updated_at = now()"
         " FROM a WHERE d.id = a.id AND d.claims = a.claims AND d.status = 'delivering'"
         " RETURNING d.id, d.subscription_id, d.claims)"
         " INSERT INTO webhook_attempts (delivery_id, subscription_id, attempt, url, status, response_body, error, duration_ms)"
         " SELECT d.id, d.subscription_id, a.attempt, a.url, a.status, a.body, a.error, a.duration FROM d"
         " JOIN a ON a.id = d.id AND a.claims = d.claims"
         " ORDER BY d.id RETURNING delivery_id",
         1},
    /* Milliseconds until the next delivery of an enabled subscription is due (negative: overdue);
     * no row when there is none. */
    [HDF_STMT_DELIVERY_NEXT_DUE] =
        {"delivery_next_due",
         "SELECT floor(extract(epoch FROM d.next_attempt_at - clock_timestamp()) * 1000)::bigint"
         " FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled"
         " WHERE d.status IN ('pending', 'delivering') ORDER BY d.next_attempt_at LIMIT 1",
         0},
    /* ---- a worker's sleep (migrations/0009_outbox_wakeup.sql): register so that writers NOTIFY,
     * removing rows of backends that are gone (a worker killed while asleep) ---- */
    [HDF_STMT_DELIVERY_SLEEP] = {"delivery_sleep",
                                 "WITH gone AS (DELETE FROM webhook_sleepers s WHERE s.backend_pid <> pg_backend_pid()"
                                 " AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = s.backend_pid))"
                                 " INSERT INTO webhook_sleepers (backend_pid) VALUES (pg_backend_pid()) ON CONFLICT DO NOTHING",
                                 0},
    /* Run right after the registration committed: a transaction id handed out after it, so above
     * that of every writer that can have looked for sleepers before the row existed (a writer
     * looks after its row change gave it an id). Uses up one id per sleep. */
    [HDF_STMT_DELIVERY_XID_BOUND] = {"delivery_xid_bound", "SELECT pg_current_xact_id()::text", 0},
    /* Whether every transaction below id $1 has ended (committed or not). */
    [HDF_STMT_DELIVERY_SETTLED] = {"delivery_settled", "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8", 1},
    [HDF_STMT_DELIVERY_WAKE] = {"delivery_wake", "DELETE FROM webhook_sleepers WHERE backend_pid = pg_backend_pid()", 0},
    /* /metrics: deliveries not yet done, and the age in seconds of the oldest */
    [HDF_STMT_OUTBOX_STATS] = {"outbox_stats",
                               "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
                               " FROM webhook_deliveries WHERE status IN ('pending', 'delivering')",
                               0},
    /* SLA notifications due now (at most $1; migrations/0008_webhooks.sql): the number of events written */
    [HDF_STMT_SLA_TICK] = {"sla_tick", "SELECT hdf_sla_tick($1::integer)", 1},
    /* ---- outbox retention (outbox/retention.c; migrations/0010_outbox_retention.sql) ----
     * $1 the cursor (last event id looked at), $2 HDF_EVENT_RETENTION_DAYS (> 0): one bounded run,
     * at most 1000 events looked at. One row: next cursor, whether to run again soon, and what
     * was deleted. */
    [HDF_STMT_OUTBOX_PURGE] = {"outbox_purge",
                               "SELECT next_after, more, events, deliveries, attempts, orphans"
                               " FROM hdf_outbox_purge($1::bigint, $2::integer, 1000)",
                               2},
};
