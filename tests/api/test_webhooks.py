"""Webhooks (CONTRACT.md, Events and webhooks; issue 9): subscriptions, signed delivery to a local
receiver, retries and the attempt log, timeouts, redelivery, workers killed mid-delivery, two
workers, SSRF refusals, secret rotation and secrets at rest.

These tests run on a database of their own (hdf_wh), so that the main server's delivery worker
(which runs with the default, strict webhook settings) never claims their deliveries; each test
starts the servers and workers it needs with the settings it needs.
"""
import base64
import hashlib
import hmac
import http.server
import json
import re
import signal
import threading
import time

import pathlib

import pytest

import hdf

DB = 'hdf_wh'
EVENT_ID = re.compile(r'^evt_[0-9A-Za-z]{22}$')
PERMISSIVE = {'HDF_WEBHOOK_ALLOW_HTTP': '1', 'HDF_WEBHOOK_ALLOW_PRIVATE': '1', 'HDF_WEBHOOK_BACKOFF_MS': '50'}


# ---------------------------------------------------------------------------------------------
# The receiver
# ---------------------------------------------------------------------------------------------

class Receiver:
    """A local HTTP server recording every request; the path chooses the behaviour:
    /ok 200, /fail 500, /flaky 500 then 200, /hang sleeps 6 s, /slow sleeps 1.5 s then 200,
    /surrogate 200 with a body that is not valid UTF-8."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with rec.lock:
                    n = sum(1 for r in rec.requests if r['path'] == self.path)
                    rec.requests.append({'path': self.path, 'headers': dict(self.headers), 'body': body,
                                         'at': time.monotonic()})
                status = 200
                if self.path.startswith('/fail') or (self.path.startswith('/flaky') and n == 0):
                    status = 500
                elif self.path.startswith('/hang'):
                    time.sleep(6)
                elif self.path.startswith('/slow'):
                    time.sleep(1.5)
                out = b'{"ok":true}' if status == 200 else b'boom'
                if self.path.startswith('/surrogate'):  # a UTF-16 surrogate, an overlong and a NUL
                    out = b'ok \xed\xa0\x80 \xe0\x80\x80 \x00 end'
                try:
                    self.send_response(status)
                    self.send_header('Content-Length', str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, host='127.0.0.1'):
        return f'http://{host}:{self.port}{path}'

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r['path'] == path]

    def events(self, path=None):
        return [json.loads(r['body']) for r in self.received(path)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


# ---------------------------------------------------------------------------------------------
# A database of their own, servers and workers
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def whdb(pg, migrated):
    hdf.create_migrated_db(pg, DB)
    return pg


class Ctx:
    def __init__(self, pg, api, token, readonly):
        self.pg, self.api, self.token, self.readonly = pg, api, token, readonly

    def sql(self, q):
        return self.pg.psql(q, db=DB)

    def post(self, path, body=None, token=None):
        return self.api.post(path, token=token or self.token, json=body)

    def get(self, path, token=None):
        return self.api.get(path, token=token or self.token)

    def subscribe(self, url, events=('customer.created',), **kw):
        r = self.post('/v1/webhooks', {'url': url, 'events': list(events), **kw})
        assert r.status_code == 201, r.text
        return r.json()

    def customer(self, email=None):
        r = self.post('/v1/customers', {'email': email or f'c-{time.monotonic_ns()}@example.com'})
        assert r.status_code in (200, 201), r.text
        return r.json()

    def deliveries(self, sub_id):
        r = self.get(f'/v1/webhooks/{sub_id}/deliveries?limit=100')
        assert r.status_code == 200, r.text
        return r.json()['data']

    def delivery_states(self, sub_id):
        return [row[0] for row in self.sql(f'SELECT status FROM webhook_deliveries WHERE subscription_id = {sub_id} '
                                           'ORDER BY id')]


def workspace_in(pg):
    slug = hdf.unique_slug('wh')
    pg.psql(f"SELECT hdf_admin.create_workspace('{slug}', 'Webhooks')", db=DB)
    keys = {}
    for role in ('admin', 'readonly'):
        rows = pg.psql(f"SELECT key_id, token FROM hdf_admin.create_api_key('{slug}', '{role}', '{role}', NULL, NULL)",
                       db=DB)
        keys[role] = rows[0][1]
        hdf.SESSION_TOKENS.add(rows[0][1])
    return keys


@pytest.fixture
def wh(whdb, start_server):
    """An API server (with its delivery worker) on the webhook database, permissive settings."""
    def make(env=None, args=('serve',)):
        srv = start_server(env={'DATABASE_URL': whdb.url(DB), **PERMISSIVE, **(env or {})}, args=args)
        keys = workspace_in(whdb)
        return Ctx(whdb, srv.api(), keys['admin'], keys['readonly'])
    return make


@pytest.fixture
def worker(whdb, start_server):
    def make(env=None):
        return start_server(env={'DATABASE_URL': whdb.url(DB), **PERMISSIVE, **(env or {})}, args=('worker',),
                            wait=None)
    return make


# ---------------------------------------------------------------------------------------------
# Signatures, verified independently
# ---------------------------------------------------------------------------------------------

def key_of(secret):
    assert secret.startswith('whsec_')
    return base64.b64decode(secret[len('whsec_'):])


def hdf_signatures(req):
    parts = req['headers']['X-HDF-Signature'].split(',')
    t = [p[2:] for p in parts if p.startswith('t=')][0]
    return t, [p[3:] for p in parts if p.startswith('v1=')]


def verify(req, secret):
    """Both header forms verify with secret; returns the number of v1 values in each."""
    body, h = req['body'], req['headers']
    key = key_of(secret)
    t, v1s = hdf_signatures(req)
    assert abs(int(t) - time.time()) < 300
    mac = hmac.new(key, t.encode() + b'.' + body, hashlib.sha256).hexdigest()
    assert mac in v1s, 'X-HDF-Signature does not verify'
    assert h['webhook-timestamp'] == t and h['webhook-id'] == h['X-HDF-Event-Id']
    std = base64.b64encode(hmac.new(key, f'{h["webhook-id"]}.{t}.'.encode() + body, hashlib.sha256).digest()).decode()
    entries = h['webhook-signature'].split(' ')
    assert f'v1,{std}' in entries, 'webhook-signature does not verify'
    return len(v1s), len(entries)


SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / 'schemas' / 'events'


def check_schema(e):
    """The envelope and data carry what schemas/events/<type>.v1.json requires (and no other envelope
    member); types of the members are left to the full validators in CI."""
    schema = json.loads((SCHEMAS / f'{e["type"]}.v1.json').read_text())
    assert set(e) == set(schema['required'])
    data = schema['properties']['data']
    assert set(data['required']) <= set(e['data']), set(data['required']) - set(e['data'])
    assert set(e['data']) <= set(data['properties']), set(e['data']) - set(data['properties'])


def wait_for(fn, timeout=15, what='condition'):
    return hdf.wait_until(fn, timeout, interval=0.05, what=what)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_subscription_crud_and_validation(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'), events=['ticket.created', 'customer.updated'], description='CRM sync')
    assert s['secret'].startswith('whsec_') and len(key_of(s['secret'])) == 32
    assert s['events'] == ['ticket.created', 'customer.updated'] and s['enabled'] is True
    got = c.get(f'/v1/webhooks/{s["id"]}').json()
    assert 'secret' not in got and got['url'] == s['url']
    listed = c.get('/v1/webhooks').json()['data']
    assert [w['id'] for w in listed] == [s['id']] and 'secret' not in listed[0]
    r = c.api.patch(f'/v1/webhooks/{s["id"]}', token=c.token, json={'enabled': False, 'description': None})
    assert r.status_code == 200 and r.json()['enabled'] is False and r.json()['description'] is None
    for bad in ({'url': receiver.url('/ok'), 'events': ['ticket.exploded']},
                {'url': receiver.url('/ok'), 'events': []},
                {'url': 'ftp://example.com/x', 'events': ['ticket.created']},
                {'url': receiver.url('/ok')}):
        r = c.post('/v1/webhooks', bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()['code'] == 'validation_failed'
    assert c.get('/v1/webhooks', token=c.readonly).status_code == 403
    assert c.api.delete(f'/v1/webhooks/{s["id"]}', token=c.token).status_code == 204
    assert c.get(f'/v1/webhooks/{s["id"]}').status_code == 404


def test_every_event_type_arrives_once_signed(wh, receiver):
    c = wh()
    types = ['ticket.created', 'ticket.updated', 'message.created', 'customer.created', 'customer.updated',
             'customer.merged']
    s = c.subscribe(receiver.url('/ok'), events=types)
    a, b = c.customer(), c.customer()
    r = c.api.patch(f'/v1/customers/{a["id"]}', token=c.token, json={'name': 'Ada'})
    assert r.status_code == 200, r.text
    r = c.post('/v1/tickets', {'subject': 'Help', 'customer': {'email': a['email']}})
    assert r.status_code == 201, r.text
    tid = r.json()['id']
    assert c.api.patch(f'/v1/tickets/{tid}', token=c.token, json={'priority': 'high'}).status_code == 200
    assert c.post(f'/v1/tickets/{tid}/messages', {'body': 'On it'}).status_code == 201
    assert c.post(f'/v1/customers/{a["id"]}/merge', {'source_customer_id': b['id']}).status_code == 200

    def all_types():
        return set(types) <= {e['type'] for e in receiver.events('/ok')}
    wait_for(all_types, what='every event type delivered')
    wait_for(lambda: set(c.delivery_states(s['id'])) == {'succeeded'}, what='all deliveries succeeded')
    reqs = receiver.received('/ok')
    ids = [q['headers']['X-HDF-Event-Id'] for q in reqs]
    assert len(ids) == len(set(ids)), 'an event arrived twice'
    for q in reqs:
        e = json.loads(q['body'])
        assert list(e) == ['id', 'type', 'schema_version', 'occurred_at', 'workspace_id', 'data']
        assert EVENT_ID.match(e['id']) and e['schema_version'] == 1
        assert q['headers']['X-HDF-Event-Type'] == e['type'] and q['headers']['X-HDF-Event-Id'] == e['id']
        assert q['headers']['X-HDF-Delivery-Attempt'] == '1'
        assert q['headers']['Content-Type'] == 'application/json'
        assert 'changes' in e['data']
        check_schema(e)
        assert verify(q, s['secret']) == (1, 1)
    by_type = {}
    for e in receiver.events('/ok'):
        by_type.setdefault(e['type'], []).append(e)
    assert by_type['ticket.updated'][0]['data']['changes']['priority'] == {'from': 'normal', 'to': 'high'}
    assert by_type['ticket.created'][0]['data']['id'] == tid
    assert by_type['customer.merged'][0]['data']['id'] == b['id']
    # the feed has them all, oldest first
    feed = c.get('/v1/events?limit=100').json()['data']
    assert {e['id'] for e in feed} >= set(ids)


def test_retry_after_500_then_success(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/flaky'))
    c.customer()
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'], what='delivered on the retry')
    reqs = receiver.received('/flaky')
    assert [q['headers']['X-HDF-Delivery-Attempt'] for q in reqs] == ['1', '2']
    assert reqs[0]['body'] == reqs[1]['body']
    log = c.deliveries(s['id'])
    assert [(a['attempt'], a['status']) for a in log] == [(1, 500), (2, 200)]
    assert log[0]['response_body'] == 'boom' and log[0]['error'] == 'HTTP 500' and log[1]['error'] is None
    assert log[1]['delivery_status'] == 'succeeded' and log[0]['url'] == receiver.url('/flaky')


def test_always_failing_receiver_gets_exactly_three_attempts(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/fail'))
    c.customer()
    wait_for(lambda: c.delivery_states(s['id']) == ['failed'], what='delivery failed')
    time.sleep(0.5)
    assert len(receiver.received('/fail')) == 3
    log = c.deliveries(s['id'])
    assert [a['attempt'] for a in log] == [1, 2, 3] and all(a['status'] == 500 for a in log)
    assert all(a['delivery_status'] == 'failed' for a in log)


def test_hanging_receiver_is_cut_at_3_seconds(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/hang'))
    c.customer()
    wait_for(lambda: len(c.deliveries(s['id'])) >= 1, timeout=10, what='first attempt logged')
    a = c.deliveries(s['id'])[0]
    assert a['status'] is None and 'imeout' in a['error'], a
    assert 2900 <= a['duration_ms'] <= 4000, a


def test_redeliver_sends_again(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'))
    c.customer()
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'])
    eid = receiver.events('/ok')[0]['id']
    r = c.post(f'/v1/events/{eid}/redeliver')
    assert r.status_code == 202, r.text
    assert r.json()['event_id'] == eid and len(r.json()['deliveries']) == 1
    wait_for(lambda: len(receiver.received('/ok')) == 2, what='redelivered')
    assert receiver.events('/ok')[1]['id'] == eid
    assert c.post('/v1/events/evt_0000000000000000000000/redeliver').status_code == 404
    assert c.post('/v1/events/nope/redeliver').status_code == 400


def test_killed_worker_loses_nothing(wh, worker, receiver):
    c = wh(args=('serve', '--no-worker'))
    s = c.subscribe(receiver.url('/slow'))
    w1 = worker()
    c.customer()
    wait_for(lambda: len(receiver.received('/slow')) == 1, what='first attempt started')
    w1.proc.send_signal(signal.SIGKILL)
    w1.proc.wait(10)
    assert c.delivery_states(s['id']) == ['delivering']
    worker()
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'], timeout=25, what='taken over after the lease')
    reqs = receiver.received('/slow')
    assert len(reqs) == 2 and reqs[0]['body'] == reqs[1]['body']  # at least once: the same event again


def test_two_workers_never_send_an_attempt_twice(wh, worker, receiver):
    c = wh(args=('serve', '--no-worker'))
    s = c.subscribe(receiver.url('/ok'))
    worker()
    worker()
    for _ in range(40):
        c.customer()
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'] * 40, timeout=30, what='all delivered')
    sent = [(q['headers']['X-HDF-Event-Id'], q['headers']['X-HDF-Delivery-Attempt']) for q in receiver.received()]
    assert len(sent) == 40 and len(set(sent)) == 40


def test_ssrf_refused_unless_allowed(wh, receiver):
    c = wh(env={'HDF_WEBHOOK_ALLOW_PRIVATE': None})
    for url in (receiver.url('/ok'), f'http://[::1]:{receiver.port}/ok', 'http://169.254.169.254/latest',
                'http://0x7f.1/ok', 'http://10.0.0.1/'):
        r = c.post('/v1/webhooks', {'url': url, 'events': ['customer.created']})
        assert r.status_code == 400, (url, r.text)
    # a name is vetted where it matters: at connect time, against the address it resolved to
    s = c.subscribe(receiver.url('/ok', host='localhost'))
    c.customer()
    wait_for(lambda: len(c.deliveries(s['id'])) >= 1, what='attempt logged')
    a = c.deliveries(s['id'])[0]
    assert 'refused to connect to a loopback address' in a['error'], a
    assert receiver.received() == []


def test_https_only_unless_allowed(wh):
    c = wh(env={'HDF_WEBHOOK_ALLOW_HTTP': None})
    r = c.post('/v1/webhooks', {'url': 'http://example.com/hook', 'events': ['customer.created']})
    assert r.status_code == 400
    assert c.post('/v1/webhooks', {'url': 'https://example.com/hook', 'events': ['customer.created']}).status_code == 201


def test_secret_rotation_signs_with_both_during_overlap(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'))
    r = c.post(f'/v1/webhooks/{s["id"]}/rotate-secret')
    assert r.status_code == 200, r.text
    new = r.json()['secret']
    assert new != s['secret'] and r.json()['previous_secret_expires_at'] is not None
    c.customer()
    wait_for(lambda: len(receiver.received('/ok')) == 1)
    q = receiver.received('/ok')[0]
    assert verify(q, new) == (2, 2)
    assert verify(q, s['secret']) == (2, 2)
    _, v1s = hdf_signatures(q)
    t = hdf_signatures(q)[0]
    assert v1s[0] == hmac.new(key_of(new), t.encode() + b'.' + q['body'], hashlib.sha256).hexdigest()


def test_secrets_are_not_stored_in_clear(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'))
    stored = c.sql(f'SELECT secret_enc FROM webhook_subscriptions WHERE id = {s["id"]}')[0][0]
    assert stored.startswith('v1.') and s['secret'] not in stored
    assert s['secret'][6:] not in c.pg.dump(db=DB)


def test_sla_warning_and_breach_are_emitted_and_delivered(wh, receiver):
    c = wh()
    r = c.post('/v1/sla-policies', {'name': 'urgent', 'priority': 'urgent', 'first_response_minutes': 10,
                                    'resolution_minutes': 60})
    assert r.status_code == 201, r.text
    s = c.subscribe(receiver.url('/ok'), events=['sla.warning', 'sla.breached'])
    r = c.post('/v1/tickets', {'subject': 'Down', 'priority': 'urgent', 'customer': {'email': 'sla@example.com'}})
    assert r.status_code == 201, r.text
    tid = r.json()['id']
    timers = c.sql(f'SELECT target, stage FROM sla_timers WHERE ticket_id = {tid} ORDER BY 1, 2')
    assert timers == [('first_response', 'breached'), ('first_response', 'warning'), ('resolution', 'breached'),
                      ('resolution', 'warning')]
    # the first response is met before its timers fire: those two fire without an event
    assert c.post(f'/v1/tickets/{tid}/messages', {'body': 'Looking'}).status_code == 201
    c.sql(f"UPDATE sla_timers SET fire_at = now() - interval '1 second' WHERE ticket_id = {tid}")
    wait_for(lambda: len(receiver.received('/ok')) >= 2, what='sla events delivered')
    time.sleep(0.5)
    got = sorted((e['type'], e['data']['sla_target']) for e in receiver.events('/ok'))
    assert got == [('sla.breached', 'resolution'), ('sla.warning', 'resolution')]
    assert all(e['data']['id'] == tid for e in receiver.events('/ok'))
    for e in receiver.events('/ok'):
        check_schema(e)
    assert c.sql(f'SELECT count(*) FROM sla_timers WHERE ticket_id = {tid}') == [('0',)]
    assert verify(receiver.received('/ok')[0], s['secret']) == (1, 1)


# ---------------------------------------------------------------------------------------------
# Waking the workers (migrations/0009_outbox_wakeup.sql): writers NOTIFY only while one sleeps
# ---------------------------------------------------------------------------------------------

def sleeping_workers(c):
    """Workers registered in webhook_sleepers whose backend is alive."""
    return int(c.sql('SELECT count(*) FROM webhook_sleepers s JOIN pg_stat_activity a ON a.pid = s.backend_pid')[0][0])


def worker_counter(c, name):
    return hdf.fetch_metrics(c.api).value(name)


def test_idle_worker_sleeps_and_a_write_wakes_it(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'))
    wait_for(lambda: sleeping_workers(c) == 1, timeout=10, what='the idle worker registered as asleep')
    assert worker_counter(c, 'hdf_webhook_worker_sleeps_total') >= 1
    notified = worker_counter(c, 'hdf_webhook_worker_notified_total')
    c.customer()
    t0 = time.monotonic()
    wait_for(lambda: len(receiver.received('/ok')) == 1, timeout=5, what='delivered after a NOTIFY')
    assert time.monotonic() - t0 < 3  # not the 30 s safety net
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'])
    assert worker_counter(c, 'hdf_webhook_worker_notified_total') >= notified + 1
    # awake after the delivery, then asleep again once nothing more comes
    wait_for(lambda: sleeping_workers(c) == 1, timeout=10, what='asleep again')


def test_a_writer_that_missed_the_registration_is_still_delivered(wh, receiver):
    """A transaction that looked for sleepers while the worker was awake (so it sends no NOTIFY) and
    commits after the worker went to sleep: the worker waits for it and claims its delivery."""
    c = wh()
    c.subscribe(receiver.url('/ok'))
    ws = c.sql('SELECT workspace_id FROM webhook_subscriptions ORDER BY id DESC LIMIT 1')[0][0]
    for attempt in range(3):
        n = len(receiver.received('/ok'))
        c.customer()
        wait_for(lambda: len(receiver.received('/ok')) == n + 1, timeout=5, what='a delivery (the worker now awake)')
        late = c.pg.psql_background(f"BEGIN; INSERT INTO customers (workspace_id, email) VALUES ({ws}, "
                                    f"'late{attempt}@example.com'); SELECT pg_sleep(4); COMMIT;", db=DB)
        try:
            wait_for(lambda: c.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                                   "AND query LIKE '%late%'")[0][0] == '1', timeout=3, what='the writer inserted')
            if sleeping_workers(c) != 0:  # the worker slept before the writer looked: it notified; again
                late.kill()
                late.wait(10)
                continue
            wait_for(lambda: sleeping_workers(c) == 1, timeout=3.5, what='the worker registered while the writer is open')
            late.wait(10)
            committed = time.monotonic()
            assert late.returncode == 0, late.stderr.read()
            wait_for(lambda: len(receiver.received('/ok')) == n + 2, timeout=5, what='the late writer delivered')
            assert time.monotonic() - committed < 3  # found by the settle probes, not the 30 s safety net
            return
        finally:
            if late.poll() is None:
                late.kill()
    pytest.fail('the worker was asleep before the writer looked, three times')


def test_rows_of_dead_sleepers_are_removed(whdb, wh):
    whdb.psql('INSERT INTO webhook_sleepers (backend_pid) VALUES (2147483000) ON CONFLICT DO NOTHING', db=DB)
    c = wh()  # its worker goes to sleep about 0.6 s after it starts, and removes the row then
    wait_for(lambda: c.sql('SELECT count(*) FROM webhook_sleepers WHERE backend_pid = 2147483000')[0][0] == '0',
             timeout=10, what='the dead backend row removed by the next worker to sleep')
    assert sleeping_workers(c) == 1


def test_a_body_that_is_not_utf8_is_kept_with_question_marks(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/surrogate'))
    c.customer()
    wait_for(lambda: c.delivery_states(s['id']) == ['succeeded'], timeout=10, what='recorded as succeeded')
    att = c.deliveries(s['id'])
    assert len(att) == 1 and att[0]['status'] == 200 and att[0]['attempt'] == 1
    assert att[0]['response_body'] == 'ok ??? ??? ? end'
    assert len(receiver.received('/surrogate')) == 1  # not sent again after a lost record


def test_enabling_a_subscription_sends_its_pending_deliveries_at_once(wh, receiver):
    c = wh()
    s = c.subscribe(receiver.url('/ok'), enabled=False)
    c.customer()
    # a delivery queued before the subscription was disabled (a disabled one gets no new ones)
    c.sql(f"INSERT INTO webhook_deliveries (workspace_id, event_id, subscription_id, next_attempt_at) "
          f"SELECT e.workspace_id, e.id, {s['id']}, now() FROM outbox_events e "
          f"WHERE e.workspace_id = (SELECT workspace_id FROM webhook_subscriptions WHERE id = {s['id']}) "
          f"AND e.type = 'customer.created' ORDER BY e.id DESC LIMIT 1")
    assert c.delivery_states(s['id']) == ['pending']
    wait_for(lambda: sleeping_workers(c) == 1, timeout=10, what='the worker asleep')
    r = c.api.patch(f'/v1/webhooks/{s["id"]}', token=c.token, json={'enabled': True})
    assert r.status_code == 200 and r.json()['enabled'] is True
    t0 = time.monotonic()
    wait_for(lambda: len(receiver.received('/ok')) == 1, timeout=5, what='the pending delivery sent')
    assert time.monotonic() - t0 < 3  # woken, not the 30 s safety net
