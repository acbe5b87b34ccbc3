-- 0010_outbox_retention: retention of the outbox and of the webhook delivery log
-- (HDF_EVENT_RETENTION_DAYS; docs/webhooks.md, Retention; docs/architecture.md, Outbox). Worker 0
-- of each API server calls hdf_outbox_purge on an idle connection every few seconds
-- (server/src/outbox/retention.c). No index is added to outbox_events or webhook_deliveries: the
-- purge walks the events' primary key (ids grow with time) and finds deliveries through
-- webhook_deliveries_event_idx, so the request path's inserts cost what they did.

-- Attempts by delivery. Without it, ON DELETE CASCADE from webhook_deliveries (this purge, and a
-- deleted subscription's deliveries) scans the whole attempt log once per deleted delivery. The
-- table is written once per delivery attempt, after an HTTP request, never on the request path.
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);

-- Deletes the events that HDF_EVENT_RETENTION_DAYS (keep_days) lets go, with their deliveries and
-- attempts, looking at no more than `batch` events: the next ones by id after after_id, up to the
-- first one still within retention (ids grow with time, so the rest are younger still). An event
-- goes only when none of its deliveries keeps it: a delivery keeps its event while it is pending or
-- being sent, and when it failed for good and was not redelivered (no later delivery of the event
-- to the same subscription): the contract keeps a failed delivery in the log until it is
-- redelivered, and redelivery needs the event. At most 10,000 deliveries (and their attempts, at
-- most 3 each) go per call; an event whose deliveries are not all gone yet stays for the next call.
--
-- Returns next_after, where the next call starts (the last event looked at that was past
-- retention, kept or not; the same start again while deliveries are left), and more: call again
-- soon. The caller keeps the cursor and starts again from 0 now and then, so that events kept for
-- a failed delivery are looked at again (they may have been redelivered since) without every call
-- reading them.
--
-- Concurrency: first the window's events are locked FOR UPDATE SKIP LOCKED (two servers purging
-- share the work, and an event that a redelivery holds FOR KEY SHARE is skipped: a redelivery that
-- comes after the lock waits for this transaction and then finds no event, 404). Then, in a new
-- statement with a new snapshot, what keeps each locked event is judged and the rest deleted: a
-- redelivery that committed before the lock is seen there and keeps its event. The deletes touch
-- only finished deliveries (succeeded, failed), which the delivery workers no longer lock or
-- update. The one lock it may wait for is a delivery row held by a subscription being deleted;
-- lock_timeout bounds that wait (the call then fails and is made again later).
--
-- Also deletes up to 100 deliveries queued for events that no longer exist (orphans): none should
-- exist (redelivery locks its event), so this is a safety net whose count the server logs. Only the
-- deliveries the workers would claim first are looked at (their claim's index and order).
--
-- SECURITY DEFINER: the server's role gets no DELETE on outbox_events (the durable feed); it may
-- only purge by these rules, with keep_days of at least 1. STRICT: a NULL argument purges nothing
-- (rather than every event). pg_temp comes last in its search_path, so a caller's temporary table
-- cannot stand in for one of these tables.
CREATE FUNCTION hdf_outbox_purge(after_id bigint, keep_days integer, batch integer, OUT next_after bigint, OUT more boolean,
                                 OUT events bigint, OUT deliveries bigint, OUT attempts bigint, OUT orphans bigint)
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET lock_timeout = '200ms'
SET TimeZone = 'UTC' AS $$
DECLARE
    max_deliveries constant integer := 10000;
    cutoff constant timestamptz := now() - make_interval(days => keep_days);
    walked bigint[] := '{}'; -- the events of the window (all past retention)
    locked bigint[];         -- those this call holds
    young boolean := false;  -- the window ended at an event still within retention
    r record;
BEGIN
    IF keep_days NOT BETWEEN 1 AND 36500 OR batch NOT BETWEEN 1 AND 10000 OR after_id < 0 THEN
        RAISE EXCEPTION 'hdf_outbox_purge: keep_days must be 1..36500, batch 1..10000, after_id >= 0 (got %, %, %)',
            keep_days, batch, after_id USING ERRCODE = '22023';
    END IF;

    -- The window: a range scan of the primary key, read a few rows at a time, that stops at the
    -- first event still within retention or after `batch` events (when the purge has caught up,
    -- that is after one row).
    FOR r IN SELECT id, occurred_at FROM outbox_events WHERE id > after_id ORDER BY id LIMIT batch LOOP
        IF r.occurred_at >= cutoff THEN
            young := true;
            EXIT;
        END IF;
        walked := array_append(walked, r.id);
    END LOOP;
    next_after := coalesce(walked[cardinality(walked)], after_id);
    more := NOT young AND cardinality(walked) = batch;

    locked := ARRAY(SELECT id FROM outbox_events WHERE id = ANY (walked) ORDER BY id FOR UPDATE SKIP LOCKED);

    -- (arrays, not joins: the planner cannot know these sets are small, and would hash whole tables)
    WITH c AS (
        SELECT e.id FROM unnest(locked) AS e(id)
        WHERE NOT EXISTS (
            SELECT 1 FROM webhook_deliveries d
            WHERE d.event_id = e.id
              AND (d.status IN ('pending', 'delivering')
                   OR d.status = 'failed' AND NOT EXISTS (SELECT 1 FROM webhook_deliveries l
                                                          WHERE l.event_id = d.event_id
                                                            AND l.subscription_id = d.subscription_id AND l.id > d.id)))),
    gd AS (DELETE FROM webhook_deliveries
           WHERE id = ANY (ARRAY(SELECT d.id FROM webhook_deliveries d WHERE d.event_id = ANY (ARRAY(SELECT id FROM c))
                                 LIMIT max_deliveries))
           RETURNING id),
    ga AS (DELETE FROM webhook_attempts WHERE delivery_id = ANY (ARRAY(SELECT id FROM gd)) RETURNING 1),
    -- an event goes with its last delivery (this statement's snapshot still shows the deleted ones)
    ge AS (DELETE FROM outbox_events e WHERE e.id = ANY (ARRAY(SELECT id FROM c))
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.id <> ALL (ARRAY(SELECT id FROM gd)))
           RETURNING 1)
    SELECT (SELECT count(*) FROM ge), (SELECT count(*) FROM gd), (SELECT count(*) FROM ga)
    INTO events, deliveries, attempts;
    IF deliveries = max_deliveries THEN -- some may be left: the same window again
        next_after := after_id;
        more := true;
    END IF;

    DELETE FROM webhook_deliveries WHERE id IN (
        SELECT x.id FROM webhook_deliveries x
        WHERE x.id IN (SELECT o.id
                       FROM (SELECT d.id, d.event_id FROM webhook_deliveries d
                             JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
                             WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= now()
                             ORDER BY d.next_attempt_at LIMIT 100) o
                       WHERE NOT EXISTS (SELECT 1 FROM outbox_events e WHERE e.id = o.event_id))
        FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS orphans = ROW_COUNT;
END
$$;

REVOKE EXECUTE ON FUNCTION hdf_outbox_purge(bigint, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hdf_outbox_purge(bigint, integer, integer) TO hdf_server;

-- POST /v1/events/{id}/redeliver locks the event FOR KEY SHARE while it queues new deliveries, so
-- that the purge cannot delete it under them. Postgres asks for UPDATE on some column to take a
-- row lock, so the server gets it on one column, and a trigger keeps events as they were written:
-- the feed is append-only (rows leave only through the purge above).
GRANT UPDATE (schema_version) ON outbox_events TO hdf_server;

CREATE FUNCTION hdf_outbox_events_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'outbox_events rows are never updated' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER outbox_events_immutable BEFORE UPDATE ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION hdf_outbox_events_immutable();
