"""Retention of the outbox and the webhook delivery log (HDF_EVENT_RETENTION_DAYS; issue 9;
docs/webhooks.md, Retention): old events leave the feed with their finished deliveries and attempts;
a failed delivery that was not redelivered keeps its event and attempts however old; pending ones
keep theirs; 0 keeps everything; the purge is bounded, walks past long runs of kept events, and
several servers share it.

Each test gets a database of its own (a copy of a migrated template), so that the walk over event
ids starts where the test wants it to, and neither the main server (default retention, 30 days)
nor other tests see these rows. Ages are made with SQL: events are moved 2 days into the past and
the servers run with a retention of 1 day. A server purges on its first housekeeping tick (as the
idempotency and rate-limit purges do), then every 5 s.
"""
import secrets
import time

import pytest

import hdf
from test_webhooks import PERMISSIVE, Receiver

TEMPLATE = 'hdf_retention_tpl'
OLD = "now() - interval '2 days'"


@pytest.fixture(scope='module')
def template(pg, migrated):
    hdf.create_migrated_db(pg, TEMPLATE)
    yield TEMPLATE
    pg.psql(f'DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)', db='postgres')


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class Db:
    """A test's own database and the servers started on it."""

    def __init__(self, pg, name, start_server):
        self.pg, self.name, self.start_server = pg, name, start_server
        self.ws = None

    def sql(self, q):
        return self.pg.psql(q, db=self.name)

    def count(self, q):
        return int(self.pg.scalar(q, db=self.name))

    def serve(self, days, args=('serve',), **env):
        return self.start_server(env={'DATABASE_URL': self.pg.url(self.name), 'HDF_EVENT_RETENTION_DAYS': str(days),
                                      **PERMISSIVE, **env}, args=args)

    def workspace(self):
        """(workspace id, admin token) of a new workspace."""
        slug = hdf.unique_slug('ret')
        ws = int(self.sql(f"SELECT workspace_id FROM hdf_admin.create_workspace('{slug}', 'Retention')")[0][0])
        token = self.sql(f"SELECT token FROM hdf_admin.create_api_key('{slug}', 'admin', 'admin')")[0][0]
        hdf.SESSION_TOKENS.add(token)
        self.ws = ws
        return ws, token

    def emit(self, n=1, etype='customer.created'):
        """n events written as the triggers write them (no subscription asks for them here); their ids."""
        self.sql(f"SELECT count(hdf_outbox_emit({self.ws}, '{etype}', jsonb_build_object('n', g))) "
                 f"FROM generate_series(1, {n}) g")
        return sorted(int(r[0]) for r in self.sql(f'SELECT id FROM outbox_events ORDER BY id DESC LIMIT {n}'))

    def deliver(self, event_ids, sub, status, attempts=1):
        """A delivery of each event to subscription `sub` in `status`, with `attempts` attempt rows."""
        ids = ','.join(str(i) for i in event_ids)
        self.sql("WITH d AS (INSERT INTO webhook_deliveries (workspace_id, event_id, subscription_id, status,"
                 f" attempts, next_attempt_at) SELECT {self.ws}, e, {sub}, '{status}', {attempts},"
                 f" CASE WHEN '{status}' IN ('pending', 'delivering') THEN now() + interval '1 day' END"
                 f" FROM unnest(ARRAY[{ids}]::bigint[]) e ORDER BY e RETURNING id, subscription_id)"
                 f" INSERT INTO webhook_attempts (delivery_id, subscription_id, attempt, url, status, duration_ms)"
                 f" SELECT d.id, d.subscription_id, a, 'https://example.com/hook', 500, 1"
                 f" FROM d, generate_series(1, {attempts}) a")

    def age(self, event_ids=None):
        where = '' if event_ids is None else f" WHERE id IN ({','.join(str(i) for i in event_ids)})"
        self.sql(f'SET session_replication_role = replica; UPDATE outbox_events SET occurred_at = {OLD}{where}')

    def events(self):
        return {int(r[0]) for r in self.sql('SELECT id FROM outbox_events')}

    def deliveries_of(self, event_ids):
        ids = ','.join(str(i) for i in event_ids)
        return self.count(f'SELECT count(*) FROM webhook_deliveries WHERE event_id IN ({ids})')

    def attempts_of(self, event_ids):
        ids = ','.join(str(i) for i in event_ids)
        return self.count('SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id '
                          f'WHERE d.event_id IN ({ids})')


@pytest.fixture
def dbname(pg, template):
    name = f'hdf_ret_{secrets.token_hex(4)}'
    pg.psql(f'CREATE DATABASE {name} TEMPLATE {template}', db='postgres')
    yield name
    pg.psql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)', db='postgres')


@pytest.fixture
def db(pg, dbname, start_server):
    # set up after dbname, so start_server stops the servers before the database is dropped
    return Db(pg, dbname, start_server)


def purge_lines(srv):
    return [r for r in srv.log_records() if isinstance(r, dict) and r.get('msg') == 'outbox purge']


def purged_total(srv):
    return hdf.fetch_metrics(srv.api()).value('hdf_outbox_purged_events_total')


def wait_for(fn, timeout=15, what='condition'):
    return hdf.wait_until(fn, timeout, interval=0.05, what=what)


# ---------------------------------------------------------------------------------------------
# What goes and what stays
# ---------------------------------------------------------------------------------------------

def test_which_events_go_and_which_stay(db, start_server):
    """Every case of the rule, on rows written as the server writes them; the purge runs when the
    server starts. Subscriptions 1 and 2 need not exist for this (deliveries have no foreign key)."""
    db.workspace()
    cases = {}
    for name in ('succeeded', 'none', 'redelivered', 'kept_failed', 'other_sub_later', 'refailed', 'pending',
                 'delivering', 'young'):
        cases[name] = db.emit()[0]
    db.deliver([cases['succeeded']], 1, 'succeeded')
    db.deliver([cases['succeeded']], 2, 'succeeded')
    db.deliver([cases['redelivered']], 1, 'failed', attempts=3)
    db.deliver([cases['redelivered']], 1, 'succeeded')
    db.deliver([cases['kept_failed']], 1, 'succeeded')
    db.deliver([cases['kept_failed']], 2, 'failed', attempts=3)
    db.deliver([cases['other_sub_later']], 1, 'failed', attempts=3)  # failed to 1, later delivered to 2:
    db.deliver([cases['other_sub_later']], 2, 'succeeded')           # 1's failure was never redelivered
    db.deliver([cases['refailed']], 1, 'failed', attempts=3)
    db.deliver([cases['refailed']], 1, 'failed', attempts=3)  # redelivered, and that failed too
    db.deliver([cases['pending']], 1, 'pending')
    db.deliver([cases['delivering']], 1, 'delivering')
    db.deliver([cases['young']], 1, 'succeeded')
    db.age([v for k, v in cases.items() if k != 'young'])
    attempts_before = {k: db.attempts_of([v]) for k, v in cases.items()}

    srv = db.serve(1)
    gone = [cases[k] for k in ('succeeded', 'none', 'redelivered')]
    wait_for(lambda: not db.events() & set(gone), what='old finished events purged')
    kept = {k: v for k, v in cases.items() if v not in gone}
    assert db.events() == set(kept.values())
    assert db.deliveries_of(gone) == 0 and db.attempts_of(gone) == 0
    for k, v in kept.items():
        assert db.attempts_of([v]) == attempts_before[k], k
    assert db.deliveries_of([kept['refailed']]) == 2 and db.deliveries_of([kept['kept_failed']]) == 2

    rec = purge_lines(srv)
    assert rec and rec[0]['events'] == 3 and rec[0]['deliveries'] == 4 and rec[0]['attempts'] == 6, rec
    assert purged_total(srv) == 3


def test_delivered_events_leave_the_feed_failed_ones_stay(db, receiver):
    """End to end: real deliveries to a local receiver; events past retention whose deliveries
    succeeded leave GET /v1/events with their deliveries and attempt log; a failed delivery, a
    pending one and a young event stay."""
    ws, token = db.workspace()
    srv = db.serve(1)
    api = srv.api()

    def subscribe(path, etype):
        r = api.post('/v1/webhooks', token=token, json={'url': receiver.url(path), 'events': [etype]})
        assert r.status_code == 201, r.text
        return r.json()
    ok, bad = subscribe('/ok', 'customer.created'), subscribe('/fail', 'customer.updated')

    def customer(email):
        r = api.post('/v1/customers', token=token, json={'email': email})
        assert r.status_code == 201, r.text
        return r.json()
    a, b = customer('a@example.com'), customer('b@example.com')
    customer('c@example.com')
    assert api.patch(f'/v1/customers/{a["id"]}', token=token, json={'name': 'Ada'}).status_code == 200  # -> /fail
    r = api.post('/v1/tickets', token=token, json={'subject': 'Help', 'customer': {'email': b['email']}})
    assert r.status_code == 201, r.text  # events nobody subscribed to
    wait_for(lambda: db.count("SELECT count(*) FROM webhook_deliveries WHERE status IN ('succeeded', 'failed')") == 4,
             what='every delivery finished')

    def feed():
        r = api.get('/v1/events?limit=100', token=token)
        assert r.status_code == 200, r.text
        return [e['id'] for e in r.json()['data']]

    def event_of(etype, email):
        return db.sql(f"SELECT event_id FROM outbox_events WHERE type = '{etype}' AND data->>'email' = '{email}'")[0][0]
    failed, pending = event_of('customer.updated', 'a@example.com'), event_of('customer.created', 'c@example.com')
    first_page = api.get('/v1/events?limit=1', token=token).json()  # a's creation, purged below
    # c's delivery waits for a retry tomorrow: pending
    db.sql("UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now() + interval '1 day' "
           f"FROM outbox_events e WHERE e.id = d.event_id AND e.event_id = '{pending}'")
    old = db.count('SELECT count(*) FROM outbox_events')  # counted before they age: a purge may follow at once
    assert old >= 5  # a, b, c created, a updated, the ticket's
    db.age()
    customer('young@example.com')
    young = event_of('customer.created', 'young@example.com')
    wait_for(lambda: db.count("SELECT count(*) FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id "
                              f"WHERE e.event_id = '{young}' AND d.status = 'succeeded'") == 1,
             what='the young event delivered')

    wait_for(lambda: feed() == [pending, failed, young], timeout=20, what='the purge (every 5 s)')
    # a reader whose cursor points at a purged event goes on from the next event left
    r = api.get(f'/v1/events?after={first_page["next_cursor"]}', token=token)
    assert r.status_code == 200 and [e['id'] for e in r.json()['data']] == [pending, failed, young], r.text
    log_ok = api.get(f'/v1/webhooks/{ok["id"]}/deliveries?limit=100', token=token).json()['data']
    assert [(x['event_id'], x['delivery_status']) for x in log_ok] == [(pending, 'pending'), (young, 'succeeded')]
    log_bad = api.get(f'/v1/webhooks/{bad["id"]}/deliveries?limit=100', token=token).json()['data']
    assert [(x['event_id'], x['attempt'], x['delivery_status']) for x in log_bad] == [(failed, n, 'failed')
                                                                                       for n in (1, 2, 3)]
    assert purged_total(srv) == old - 2


def test_redelivered_failure_is_purged_at_the_next_pass(db, receiver):
    """A failed delivery keeps its event until a later delivery to the same subscription exists
    and has finished; a redelivery that failed again keeps it too. Events kept on purpose are looked
    at again by the next pass over the outbox (a server start, or hourly)."""
    ws, token = db.workspace()
    srv = db.serve(1)
    api = srv.api()
    sub = api.post('/v1/webhooks', token=token, json={'url': receiver.url('/fail'), 'events': ['customer.created']})
    assert sub.status_code == 201, sub.text
    sub = sub.json()
    r = api.post('/v1/customers', token=token, json={'email': 'f@example.com'})
    assert r.status_code == 201, r.text
    eid = db.count('SELECT max(id) FROM outbox_events')
    evt = db.sql(f'SELECT event_id FROM outbox_events WHERE id = {eid}')[0][0]
    wait_for(lambda: db.deliveries_of([eid]) == 1 and db.sql(
        f'SELECT status FROM webhook_deliveries WHERE event_id = {eid}') == [('failed',)], what='failed')
    assert api.post(f'/v1/events/{evt}/redeliver', token=token).status_code == 202
    wait_for(lambda: [s for (s,) in db.sql(f'SELECT status FROM webhook_deliveries WHERE event_id = {eid} ORDER BY id')]
             == ['failed', 'failed'], what='the redelivery failed too')
    canary = db.emit(etype='customer.updated')[0]  # nobody subscribed: goes on the first run that sees it
    db.age()
    wait_for(lambda: canary not in db.events(), what='a purge run')
    assert eid in db.events() and db.deliveries_of([eid]) == 2 and db.attempts_of([eid]) == 6

    # fixed: redelivered and delivered. The running server's cursor is past it now...
    assert api.patch(f'/v1/webhooks/{sub["id"]}', token=token, json={'url': receiver.url('/ok')}).status_code == 200
    assert api.post(f'/v1/events/{evt}/redeliver', token=token).status_code == 202
    wait_for(lambda: db.sql(f'SELECT status FROM webhook_deliveries WHERE event_id = {eid} ORDER BY id DESC LIMIT 1')
             == [('succeeded',)], what='redelivered')
    # ...a new pass (a server starting here) takes it, with all three deliveries and their attempts
    db.serve(1, args=('serve', '--no-worker'))
    wait_for(lambda: eid not in db.events(), what='the redelivered event purged')
    assert db.deliveries_of([eid]) == 0 and db.attempts_of([eid]) == 0
    assert api.get('/v1/events?limit=100', token=token).json()['data'] == []
    assert api.post(f'/v1/events/{evt}/redeliver', token=token).status_code == 404


def test_zero_keeps_everything(db, start_server):
    db.workspace()
    ids = db.emit(5)
    db.deliver(ids, 1, 'succeeded')
    db.sql("SET session_replication_role = replica; UPDATE outbox_events SET occurred_at = now() - interval '100 years'")
    srv = db.serve(0)
    time.sleep(1.5)  # the first tick came and went: a purging server runs on it
    assert db.events() == set(ids) and db.deliveries_of(ids) == 5 and db.attempts_of(ids) == 5
    assert purge_lines(srv) == [] and purged_total(srv) == 0
    # the same rows with a retention: gone (so the assertions above can fail)
    db.serve(1)
    wait_for(lambda: db.events() == set(), what='purged with a retention')


@pytest.mark.parametrize('value', ['-1', 'abc', '36501', '1.5', '30d'])
def test_bad_retention_value_refuses_to_start(pg, value):
    env = {'DATABASE_URL': pg.url(), 'HDF_LISTEN': f'127.0.0.1:{hdf.free_port()}', 'HDF_THREADS': '1',
           'HDF_EVENT_RETENTION_DAYS': value}
    r = hdf.run_cli(['serve'], env=env, timeout=15)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert 'helpdeskflow: config: HDF_EVENT_RETENTION_DAYS: must be an integer from 0 to 36500' in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------
# Bounded work
# ---------------------------------------------------------------------------------------------

def test_a_long_run_of_kept_events_does_not_stall_the_purge(db, start_server):
    """1,500 old events kept for failed deliveries come first, then 1,200 old delivered ones: runs
    look at 1,000 events each and go on from where the last one stopped, at once while the window was
    full. Starting from the first event every time would never get past the kept ones."""
    db.workspace()
    kept = db.emit(1500)
    db.deliver(kept, 1, 'failed', attempts=3)
    gone = db.emit(1200)
    db.deliver(gone, 1, 'succeeded')
    db.age()
    young = db.emit(3)
    srv = db.serve(1)
    t0 = time.monotonic()
    wait_for(lambda: db.count(f'SELECT count(*) FROM outbox_events WHERE id >= {gone[0]}') == 3, timeout=15,
             what='the delivered events purged')
    elapsed = time.monotonic() - t0
    assert db.events() == set(kept) | set(young)
    assert db.attempts_of(kept) == 4500
    runs = purge_lines(srv)
    assert sum(r['events'] for r in runs) == 1200, runs
    # three runs (1000 kept | 500 kept + 500 | 700 + young): back to back, not 5 s apart
    assert elapsed < 4.5, f'{elapsed:.1f} s: the runs after a full window did not follow at once'


def test_two_servers_share_the_purge(db, start_server):
    db.workspace()
    ids = db.emit(3000)
    db.deliver(ids[::2], 1, 'succeeded', attempts=2)
    db.age()
    a, b = db.serve(1, args=('serve', '--no-worker')), db.serve(1, args=('serve', '--no-worker'))
    wait_for(lambda: db.events() == set(), timeout=20, what='all purged')
    assert db.count('SELECT count(*) FROM webhook_deliveries') == 0
    assert db.count('SELECT count(*) FROM webhook_attempts') == 0
    assert purged_total(a) + purged_total(b) == 3000
    for srv in (a, b):  # neither waited out a lock timeout nor hit an error: they skipped each other's events
        assert not [r for r in srv.log_records() if isinstance(r, dict) and r.get('level') in ('warn', 'error')]


def test_orphaned_delivery_is_removed(db, receiver):
    """A delivery whose event is gone (none should exist: redelivery locks its event against the
    purge) could never be claimed and would keep the workers asking; the purge removes it."""
    ws, token = db.workspace()
    srv = db.serve(1)
    api = srv.api()
    sub = api.post('/v1/webhooks', token=token, json={'url': receiver.url('/ok'), 'events': ['ticket.created']}).json()
    db.sql(f'INSERT INTO webhook_deliveries (workspace_id, event_id, subscription_id, next_attempt_at) '
           f"VALUES ({ws}, 999999999, {sub['id']}, now() - interval '1 minute')")
    wait_for(lambda: db.count('SELECT count(*) FROM webhook_deliveries') == 0, what='orphan removed')
    wait_for(lambda: any(r.get('orphan_deliveries') == 1 for r in purge_lines(srv)), what='logged')


# ---------------------------------------------------------------------------------------------
# Privileges
# ---------------------------------------------------------------------------------------------

def test_server_role_purges_only_through_the_function(db):
    db.workspace()
    kept, old, young = db.emit(3)
    db.deliver([kept], 1, 'failed', attempts=3)
    db.age([kept, old])
    with pytest.raises(hdf.PsqlError) as e:
        db.sql(f'SET ROLE hdf_server; DELETE FROM outbox_events WHERE id = {young}')
    assert 'permission denied' in str(e.value)
    # a temporary table of the caller's cannot stand in for the real one (pg_temp is searched last)
    row = db.sql('SET ROLE hdf_server; CREATE TEMP TABLE webhook_deliveries (LIKE public.webhook_deliveries); '
                 'SELECT next_after, more, events FROM hdf_outbox_purge(0, 1, 1000)')
    assert row == [(str(old), 'f', '1')]
    assert db.events() == {kept, young} and db.attempts_of([kept]) == 3
    with pytest.raises(hdf.PsqlError):
        db.sql('SET ROLE hdf_server; SELECT * FROM hdf_outbox_purge(0, 0, 1000)')  # 0 days is not a retention
    # NULL arguments (STRICT) purge nothing rather than every event
    for args in ('0, NULL, 1000', '0, 1, NULL', 'NULL, 1, 1000'):
        assert db.sql(f'SET ROLE hdf_server; SELECT events FROM hdf_outbox_purge({args})') == [(None,)]
    assert db.events() == {kept, young}
    with pytest.raises(hdf.PsqlError):
        db.sql('SET ROLE hdf_server; SELECT * FROM hdf_outbox_purge(0, 1, 100000)')  # batch capped at 10,000


def test_events_are_never_updated(db):
    db.workspace()
    (e,) = db.emit(1)
    for who in ('SET ROLE hdf_server; ', ''):  # the server's column grant (for row locks) and the owner alike
        with pytest.raises(hdf.PsqlError) as err:
            db.sql(f'{who}UPDATE outbox_events SET schema_version = 99 WHERE id = {e}')
        assert 'never updated' in str(err.value)
    assert db.sql(f'SELECT schema_version FROM outbox_events WHERE id = {e}') == [('1',)]


def test_redelivery_waits_for_a_purge_holding_its_event(db):
    """A purge that locked an event and deletes it: a redelivery of that event waits for it and then
    finds no event (404), instead of queueing a delivery for an event that is gone."""
    ws, token = db.workspace()
    srv = db.serve(0, args=('serve', '--no-worker'))
    r = srv.api().post('/v1/webhooks', token=token, json={'url': 'http://127.0.0.1:9/hook', 'events': ['customer.created']})
    assert r.status_code == 201, r.text
    (e,) = db.emit(1)  # queued for the subscription too
    eid = db.sql(f'SELECT event_id FROM outbox_events WHERE id = {e}')[0][0]
    queued = db.count(f'SELECT count(*) FROM webhook_deliveries WHERE event_id = {e}')
    purge = db.pg.psql_background(f'BEGIN; SELECT 1 FROM outbox_events WHERE id = {e} FOR UPDATE; SELECT pg_sleep(2); '
                                  f'DELETE FROM outbox_events WHERE id = {e}; COMMIT;', db=db.name)
    try:
        hdf.wait_until(lambda: db.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1, 5,
                       what='the purge holds the event')
        t0 = time.monotonic()
        r = srv.api().post(f'/v1/events/{eid}/redeliver', token=token)
        assert r.status_code == 404, r.text
        assert time.monotonic() - t0 > 0.5  # it waited for the purge's lock
        assert db.count(f'SELECT count(*) FROM webhook_deliveries WHERE event_id = {e}') == queued  # none added
    finally:
        purge.wait(10)
