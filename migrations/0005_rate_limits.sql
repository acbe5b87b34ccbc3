-- 0005_rate_limits: the shared budget behind the per-key sliding windows (CONTRACT.md, Rate
-- limits; docs/architecture.md, Rate limits), and the hdf_admin functions that override limits
-- for a workspace or a key.
--
-- Each server process leases permits for a (key, category) in batches with hdf_rate_lease: one
-- row per key, category, window length and window-long bucket counts the permits granted in that
-- bucket, so a busy key costs one write per batch, never one per request. Unused permits are given
-- back (the same function, want = 0). Rows older than the previous bucket are purged by the server.

CREATE TABLE rate_limit_buckets (
    key_id    bigint NOT NULL,
    category  text NOT NULL,
    window_ms bigint NOT NULL CHECK (window_ms > 0),
    bucket    bigint NOT NULL, -- floor(epoch ms / window_ms), on the database's clock
    granted   bigint NOT NULL CHECK (granted >= 0),
    PRIMARY KEY (key_id, category, window_ms, bucket)
);

CREATE TABLE workspace_rate_limits (
    workspace_id   bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    category       text NOT NULL CHECK (category IN ('ticket_create', 'ticket_update', 'customer', 'read', 'admin')),
    limit_count    integer NOT NULL CHECK (limit_count BETWEEN 1 AND 1000000000),
    window_seconds integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, category)
);

CREATE TABLE key_rate_limits (
    key_id         bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    category       text NOT NULL CHECK (category IN ('ticket_create', 'ticket_update', 'customer', 'read', 'admin')),
    limit_count    integer NOT NULL CHECK (limit_count BETWEEN 1 AND 1000000000),
    window_seconds integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, category)
);

-- Gives back ret_n unused permits of an earlier lease (bucket ret_bucket of window ret_window_ms),
-- then leases up to want permits for (key, category) under the effective limit: the key's
-- override, else the workspace's, else the server's default (dflt_limit per dflt_window_ms).
-- The current bucket's row is locked, so concurrent leases from any process serialise on it and
-- together never grant more than the two-bucket estimate allows:
--     available = floor((limit * W - prev * (W - e)) / W) - curr      (server/src/ratelimit/window.h)
-- If the database clock stepped back behind a bucket that already has a row, that bucket is used
-- with e = 0: a clock step never grants a burst. Returns the effective limit and window, the
-- bucket and elapsed ms in it, the previous and current counts (after this grant) and the grant.
CREATE FUNCTION hdf_rate_lease(p_key bigint, p_workspace bigint, p_category text, dflt_limit bigint, dflt_window_ms bigint,
                               want bigint, ret_window_ms bigint, ret_bucket bigint, ret_n bigint)
RETURNS TABLE (limit_count bigint, window_ms bigint, bucket bigint, elapsed_ms bigint, prev_count bigint,
               curr_count bigint, granted bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    lim bigint := dflt_limit;
    w bigint := dflt_window_ms;
    now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    b bigint;
    e bigint;
    latest bigint;
    prev bigint;
    curr bigint;
    g bigint;
BEGIN
    IF ret_n > 0 THEN
        UPDATE rate_limit_buckets r SET granted = greatest(0, r.granted - ret_n)
        WHERE r.key_id = p_key AND r.category = p_category AND r.window_ms = ret_window_ms AND r.bucket = ret_bucket;
    END IF;
    SELECT o.limit_count, o.window_seconds * 1000::bigint INTO lim, w
    FROM (SELECT k.limit_count, k.window_seconds, 1 AS rank FROM key_rate_limits k
          WHERE k.key_id = p_key AND k.category = p_category
          UNION ALL
          SELECT s.limit_count, s.window_seconds, 2 FROM workspace_rate_limits s
          WHERE s.workspace_id = p_workspace AND s.category = p_category
          UNION ALL
          SELECT dflt_limit, dflt_window_ms / 1000, 3) o
    ORDER BY o.rank LIMIT 1;
    b := now_ms / w;
    e := now_ms - b * w;
    IF want <= 0 THEN
        RETURN QUERY SELECT lim, w, b, e, NULL::bigint, NULL::bigint, 0::bigint;
        RETURN;
    END IF;
    SELECT max(r.bucket) INTO latest FROM rate_limit_buckets r
    WHERE r.key_id = p_key AND r.category = p_category AND r.window_ms = w;
    IF latest > b THEN
        b := latest;
        e := 0;
    END IF;
    INSERT INTO rate_limit_buckets AS r (key_id, category, window_ms, bucket, granted)
    VALUES (p_key, p_category, w, b, 0) ON CONFLICT DO NOTHING;
    SELECT r.granted INTO curr FROM rate_limit_buckets r
    WHERE r.key_id = p_key AND r.category = p_category AND r.window_ms = w AND r.bucket = b FOR UPDATE;
    SELECT coalesce(max(r.granted), 0) INTO prev FROM rate_limit_buckets r
    WHERE r.key_id = p_key AND r.category = p_category AND r.window_ms = w AND r.bucket = b - 1;
    g := greatest(0, least(want, floor((lim * w - prev * (w - e))::numeric / w)::bigint - curr));
    IF g > 0 THEN
        UPDATE rate_limit_buckets r SET granted = r.granted + g
        WHERE r.key_id = p_key AND r.category = p_category AND r.window_ms = w AND r.bucket = b;
    END IF;
    RETURN QUERY SELECT lim, w, b, e, prev, curr + g, g;
END
$$;

-- Housekeeping: rows before the previous bucket no longer count (a batch at a time).
CREATE FUNCTION hdf_rate_purge() RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    WITH d AS (
        DELETE FROM rate_limit_buckets WHERE ctid = ANY (ARRAY(
            SELECT r.ctid FROM rate_limit_buckets r
            WHERE (r.bucket + 2) * r.window_ms <= floor(extract(epoch FROM clock_timestamp()) * 1000)
            LIMIT 10000))
        RETURNING 1)
    SELECT count(*) FROM d;
$$;

CREATE FUNCTION hdf_admin.check_rate_category(category text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public AS $$
BEGIN
    IF category IS NULL OR category NOT IN ('ticket_create', 'ticket_update', 'customer', 'read', 'admin') THEN
        RAISE EXCEPTION 'invalid rate-limit category %', category
            USING ERRCODE = '22023', HINT = 'category is one of ticket_create, ticket_update, customer, read, admin';
    END IF;
    RETURN category;
END
$$;

CREATE FUNCTION hdf_admin.workspace_id_of(workspace_slug text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
DECLARE
    ws_id bigint;
BEGIN
    SELECT w.id INTO ws_id FROM public.workspaces w WHERE w.slug = workspace_slug;
    IF ws_id IS NULL THEN
        RAISE EXCEPTION 'no workspace with slug %', workspace_slug USING ERRCODE = 'P0002';
    END IF;
    RETURN ws_id;
END
$$;

-- A workspace's own limit for one category (every key of the workspace gets its own window with
-- it); replaces an earlier one. Every server process applies it within 2 s.
CREATE FUNCTION hdf_admin.set_rate_limit(workspace_slug text, category text, "limit" integer, window_seconds integer)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, public AS $$
    INSERT INTO public.workspace_rate_limits AS o (workspace_id, category, limit_count, window_seconds)
    VALUES (hdf_admin.workspace_id_of(set_rate_limit.workspace_slug), hdf_admin.check_rate_category(set_rate_limit.category),
            set_rate_limit."limit", set_rate_limit.window_seconds)
    ON CONFLICT (workspace_id, category) DO UPDATE
    SET limit_count = EXCLUDED.limit_count, window_seconds = EXCLUDED.window_seconds, updated_at = now();
$$;

-- Back to the server's default for that category; true when there was an override.
CREATE FUNCTION hdf_admin.clear_rate_limit(workspace_slug text, category text)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, public AS $$
    WITH d AS (
        DELETE FROM public.workspace_rate_limits o
        WHERE o.workspace_id = hdf_admin.workspace_id_of(clear_rate_limit.workspace_slug)
          AND o.category = hdf_admin.check_rate_category(clear_rate_limit.category)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM d);
$$;

-- One key's own limit for one category: wins over the workspace's and the default.
CREATE FUNCTION hdf_admin.set_key_rate_limit(key_id bigint, category text, "limit" integer, window_seconds integer)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, public AS $$
    INSERT INTO public.key_rate_limits AS o (key_id, category, limit_count, window_seconds)
    VALUES (set_key_rate_limit.key_id, hdf_admin.check_rate_category(set_key_rate_limit.category),
            set_key_rate_limit."limit", set_key_rate_limit.window_seconds)
    ON CONFLICT (key_id, category) DO UPDATE
    SET limit_count = EXCLUDED.limit_count, window_seconds = EXCLUDED.window_seconds, updated_at = now();
$$;

CREATE FUNCTION hdf_admin.clear_key_rate_limit(key_id bigint, category text)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, public AS $$
    WITH d AS (
        DELETE FROM public.key_rate_limits o
        WHERE o.key_id = clear_key_rate_limit.key_id AND o.category = hdf_admin.check_rate_category(clear_key_rate_limit.category)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM d);
$$;

-- Every override of a workspace and of its keys (key_id NULL: the workspace's own).
CREATE FUNCTION hdf_admin.list_rate_limits(workspace_slug text)
RETURNS TABLE (key_id bigint, category text, "limit" integer, window_seconds integer, updated_at timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT NULL::bigint, o.category, o.limit_count, o.window_seconds, o.updated_at
    FROM public.workspace_rate_limits o WHERE o.workspace_id = hdf_admin.workspace_id_of(list_rate_limits.workspace_slug)
    UNION ALL
    SELECT o.key_id, o.category, o.limit_count, o.window_seconds, o.updated_at
    FROM public.key_rate_limits o JOIN public.api_keys k ON k.id = o.key_id
    WHERE k.workspace_id = hdf_admin.workspace_id_of(list_rate_limits.workspace_slug)
    ORDER BY 1 NULLS FIRST, 2;
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA hdf_admin FROM PUBLIC;

-- What the server may do: read overrides, keep the shared budget.
GRANT SELECT ON workspace_rate_limits, key_rate_limits TO hdf_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_buckets TO hdf_server;
