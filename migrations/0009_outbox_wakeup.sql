-- 0009_outbox_wakeup.sql: writers NOTIFY only while a delivery worker sleeps; the claim reads the
-- due deliveries in index order whatever the statistics say.
--
-- Why: a transaction that calls pg_notify takes, at commit, a lock that every notifying
-- transaction of the cluster shares (Postgres serializes their commits so that notifications
-- queue in commit order), held until the commit is durable. With one NOTIFY per change, the
-- ticket creates of every API connection queued on that lock: POST /v1/tickets lost 15-28 % of its
-- throughput as soon as one subscription existed (docs/benchmarks.md, "Webhook delivery").
--
-- Now a worker that goes to sleep registers its backend here; a writer that queued deliveries
-- sends NOTIFY only when some row exists. An awake worker finds new work by claiming again at short,
-- growing intervals while work keeps coming, and registers (sleeps) only after about a second
-- without any. The race (a writer that looked before the worker registered and commits after the
-- worker's last claim) is closed by the worker: after registering it takes a snapshot and claims
-- once more after every transaction in progress at that snapshot has ended (server/src/outbox/
-- delivery.c, "sleeping"). A worker killed while registered leaves its row behind: writers then
-- notify for nothing until another worker removes rows of backends that no longer exist.
CREATE TABLE webhook_sleepers (
    backend_pid integer PRIMARY KEY,
    since       timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION hdf_outbox_emit(ws bigint, etype text, payload jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    eid bigint;
    n integer;
BEGIN
    INSERT INTO outbox_events (event_id, workspace_id, type, data)
    VALUES (hdf_event_id(now()), ws, etype, payload) RETURNING id INTO eid;
    INSERT INTO webhook_deliveries (workspace_id, event_id, subscription_id, next_attempt_at)
    SELECT ws, eid, s.id, now() FROM webhook_subscriptions s
    WHERE s.workspace_id = ws AND s.enabled AND etype = ANY (s.events);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- a fresh snapshot (READ COMMITTED): sees a worker that registered before this statement
    IF n > 0 AND EXISTS (SELECT 1 FROM webhook_sleepers) THEN
        PERFORM pg_notify('hdf_outbox', '');
    END IF;
END
$$;

-- The deliveries a claim takes (server/src/db/statements.c, delivery_claim): the oldest due first,
-- read in the order of webhook_deliveries_due_idx. Its own function so that sorting is ruled out
-- for this query alone: after a burst of writes, before autovacuum has analyzed the table, the
-- planner takes a few dozen rows to be due and chose to read all of them (bitmap scan, hash join,
-- sort) on every claim: 38 ms per claim with 40,000 due, against 1 ms in index order. ROWS 64:
-- a claim asks for at most 64 (CLAIM_BATCH), which keeps the caller's joins on primary keys.
CREATE FUNCTION hdf_webhook_due(batch integer) RETURNS SETOF bigint
LANGUAGE plpgsql ROWS 64 SET enable_sort = off AS $$
BEGIN
    RETURN QUERY
        SELECT d.id FROM webhook_deliveries d
        WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= now()
          AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = d.subscription_id AND s.enabled)
        ORDER BY d.next_attempt_at LIMIT batch
        FOR UPDATE OF d SKIP LOCKED;
END
$$;

GRANT SELECT, INSERT, DELETE ON webhook_sleepers TO hdf_server;
