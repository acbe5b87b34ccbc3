-- 0001_foundation: workspaces, API keys, the hdf_admin functions that manage them, and the
-- hdf_server role the API server runs as. Applied by `helpdeskflow migrate` in one transaction.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The role the server switches to after connecting (SET ROLE): only what serving needs.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hdf_server') THEN
        CREATE ROLE hdf_server NOLOGIN;
    END IF;
END
$$;

CREATE TABLE workspaces (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_hash      bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    role          text NOT NULL CHECK (role IN ('admin', 'agent', 'readonly')),
    label         text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 200),
    allowed_cidrs cidr[] CHECK (allowed_cidrs IS NULL OR cardinality(allowed_cidrs) BETWEEN 1 AND 64),
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id, id);

-- Administration happens in SQL, as whoever administers the database; the server cannot.
CREATE SCHEMA hdf_admin;
REVOKE ALL ON SCHEMA hdf_admin FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA hdf_admin REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE FUNCTION hdf_admin.check_slug(slug text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public AS $$
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z0-9][a-z0-9-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid workspace slug %', slug
            USING ERRCODE = '22023', HINT = 'use 1-63 characters of a-z, 0-9 and -, starting with a letter or digit';
    END IF;
    RETURN slug;
END
$$;

-- An SQL function: PL/pgSQL would refuse an input and an output both named slug.
CREATE FUNCTION hdf_admin.create_workspace(slug text, name text)
RETURNS TABLE (workspace_id bigint, slug text, name text)
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    INSERT INTO public.workspaces AS w (slug, name)
    VALUES (hdf_admin.check_slug(create_workspace.slug), create_workspace.name)
    RETURNING w.id, w.slug, w.name;
$$;

-- 40 base62 characters by rejection sampling over CSPRNG bytes: bytes >= 248 are discarded so
-- that every character is equally likely (248 = 4 * 62).
CREATE FUNCTION hdf_admin.random_base62(n integer)
RETURNS text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    out text := '';
    buf bytea;
    b integer;
BEGIN
    WHILE length(out) < n LOOP
        buf := gen_random_bytes(64);
        FOR i IN 0 .. 63 LOOP
            b := get_byte(buf, i);
            IF b < 248 AND length(out) < n THEN
                out := out || substr(alphabet, (b % 62) + 1, 1);
            END IF;
        END LOOP;
    END LOOP;
    RETURN out;
END
$$;

CREATE FUNCTION hdf_admin.create_api_key(workspace_slug text, role text, label text,
                                         allowed_cidrs cidr[] DEFAULT NULL, expires_at timestamptz DEFAULT NULL)
RETURNS TABLE (key_id bigint, token text)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    ws_id bigint;
    tok text;
BEGIN
    SELECT w.id INTO ws_id FROM public.workspaces w WHERE w.slug = create_api_key.workspace_slug;
    IF ws_id IS NULL THEN
        RAISE EXCEPTION 'no workspace with slug %', create_api_key.workspace_slug USING ERRCODE = 'P0002';
    END IF;
    IF create_api_key.role IS NULL OR create_api_key.role NOT IN ('admin', 'agent', 'readonly') THEN
        RAISE EXCEPTION 'invalid role %', create_api_key.role
            USING ERRCODE = '22023', HINT = 'role is one of admin, agent, readonly';
    END IF;
    IF create_api_key.expires_at IS NOT NULL AND create_api_key.expires_at <= now() THEN
        RAISE EXCEPTION 'expires_at is in the past' USING ERRCODE = '22023';
    END IF;
    tok := 'hdf_' || hdf_admin.random_base62(40);
    RETURN QUERY INSERT INTO public.api_keys AS k (workspace_id, key_hash, role, label, allowed_cidrs, expires_at)
        VALUES (ws_id, sha256(convert_to(tok, 'UTF8')), create_api_key.role, create_api_key.label,
                create_api_key.allowed_cidrs, create_api_key.expires_at)
        RETURNING k.id, tok;
END
$$;

CREATE FUNCTION hdf_admin.revoke_api_key(key_id bigint)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, public AS $$
    WITH r AS (
        UPDATE public.api_keys SET revoked_at = now()
        WHERE id = revoke_api_key.key_id AND revoked_at IS NULL
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM r);
$$;

CREATE FUNCTION hdf_admin.list_api_keys(workspace_slug text)
RETURNS TABLE (key_id bigint, label text, role text, allowed_cidrs cidr[], expires_at timestamptz,
               created_at timestamptz, last_used_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.label, k.role, k.allowed_cidrs, k.expires_at, k.created_at, k.last_used_at, k.revoked_at
    FROM public.api_keys k JOIN public.workspaces w ON w.id = k.workspace_id
    WHERE w.slug = list_api_keys.workspace_slug
    ORDER BY k.id;
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA hdf_admin FROM PUBLIC;

-- What the server may do: read keys and workspaces, stamp last_used_at, relabel keys.
GRANT USAGE ON SCHEMA public TO hdf_server;
GRANT SELECT ON workspaces, api_keys, schema_migrations TO hdf_server;
GRANT UPDATE (last_used_at, label) ON api_keys TO hdf_server;

-- Times in API output: RFC 3339, UTC, milliseconds (CONTRACT.md, Conventions). Inlined by the planner.
CREATE FUNCTION hdf_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
