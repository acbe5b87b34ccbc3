"""Rate limits (CONTRACT.md, Rate limits; docs/architecture.md): per key and category sliding
windows shared by every server process, RateLimit-* headers on every authenticated /v1 response,
429 rate_limited with Retry-After, workspace and key overrides in SQL, soft-throttle, /metrics.

The session server runs with generous limits (conftest.py); every test here starts its own
server(s) with small limits and uses fresh workspaces and keys. Windows are long (an hour) where
a test counts exactly, so a bucket boundary in the middle of a burst (which would let the
previous bucket's share start to decay) practically never falls inside a test, and short (2 s)
where a test waits for the window to have room again.
"""
import concurrent.futures
import socket
import time

import pytest

from hdf import Api, PsqlError, assert_problem, fetch_metrics, free_port, run_cli, wait_until
from ticket_helpers import create_ticket, ticket_body

CATEGORIES = ('ticket_create', 'ticket_update', 'customer', 'read', 'admin')


def limits_env(**limits):
    """HDF_RATE_LIMIT_* for a test server: every category generous unless given."""
    env = {f'HDF_RATE_LIMIT_{c.upper()}': '100000/60' for c in CATEGORIES}
    env.update({f'HDF_RATE_LIMIT_{c.upper()}': v for c, v in limits.items()})
    return env


def rl_headers(r):
    return (int(r.headers['RateLimit-Limit']), int(r.headers['RateLimit-Remaining']), int(r.headers['RateLimit-Reset']))


def assert_rate_limited(r, limit):
    assert_problem(r, 429, 'rate_limited')
    retry = r.headers.get('Retry-After', '')
    assert retry.isdigit() and int(retry) >= 1, r.headers
    lim, remaining, reset = rl_headers(r)
    assert (lim, remaining) == (limit, 0)
    assert reset == int(retry), 'RateLimit-Reset is the time until the window has room: Retry-After'
    return int(retry)


@pytest.fixture
def ws_key(make_workspace, make_key):
    """A fresh workspace and an admin key in it."""
    def make(role='admin'):
        ws = make_workspace()
        return ws, make_key(ws.slug, role)
    return make


# ---- headers and 429 ----------------------------------------------------------------------

def test_headers_count_down_then_429(start_server, ws_key):
    srv = start_server(limits_env(read='3/3600'))
    api = srv.api()
    _, key = ws_key()
    seen = [rl_headers(api.get('/v1/me', token=key.token)) for _ in range(3)]
    assert [s[:2] for s in seen] == [(3, 2), (3, 1), (3, 0)]
    assert seen[0][2] == 0 and seen[1][2] == 0, 'Reset is 0 while there is room'
    assert 1 <= seen[2][2] <= 3600 + 1200 + 1, seen
    r = api.get('/v1/me', token=key.token)
    retry = assert_rate_limited(r, 3)
    assert retry <= 4801
    assert 'read' in r.json()['detail']
    assert r.headers['Content-Type'].startswith('application/problem+json')


def test_headers_on_error_responses_after_authentication(start_server, ws_key, make_key):
    srv = start_server(limits_env(read='50/60', ticket_update='40/60', ticket_create='30/60'))
    api = srv.api()
    ws, key = ws_key()
    ro = make_key(ws.slug, 'readonly')
    cases = [
        (api.get('/v1/tickets/999999999', token=key.token), 404, 50),
        (api.patch('/v1/tickets/1', token=ro.token, json={'status': 'open'}), 403, 40),
        (api.post('/v1/tickets', token=key.token, json={'subject': ''}), 400, 30),
        (api.post('/v1/tickets', token=key.token, data='{', headers={'Content-Type': 'application/json'}), 400, 30),
    ]
    for r, status, limit in cases:
        assert r.status_code == status, r.text
        assert rl_headers(r)[0] == limit, (status, r.headers)
    # no key, no per-key window: a 401 carries no RateLimit-* headers (documented)
    r = api.get('/v1/me', token='hdf_' + 'Z' * 40)
    assert r.status_code == 401 and 'RateLimit-Limit' not in r.headers


def test_idempotent_replay_carries_current_headers(start_server, ws_key):
    srv = start_server(limits_env(ticket_create='5/3600'))
    api = srv.api()
    _, key = ws_key()
    body = ticket_body()
    first = api.post('/v1/tickets', token=key.token, json=body, headers={'Idempotency-Key': 'rl-replay-1'})
    assert first.status_code == 201, first.text
    again = api.post('/v1/tickets', token=key.token, json=body, headers={'Idempotency-Key': 'rl-replay-1'})
    assert again.status_code == 201 and again.headers.get('Idempotent-Replayed') == 'true'
    assert rl_headers(first)[:2] == (5, 4)
    assert rl_headers(again)[:2] == (5, 3), 'a replay counts, and shows the values of now'
    assert ',' not in again.headers['RateLimit-Remaining'], 'one value (requests joins repeated headers with ", ")'


def test_retry_after_is_honoured(start_server, ws_key):
    srv = start_server(limits_env(read='2/2'))
    api = srv.api()
    _, key = ws_key()
    for attempt in range(3):
        statuses = []
        r = None
        for _ in range(10):
            r = api.get('/v1/me', token=key.token)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429 and statuses.count(200) <= 2, statuses
        retry = assert_rate_limited(r, 2)
        assert retry <= 4, 'at most one window plus one bucket share'
        time.sleep(retry)
        ok = api.get('/v1/me', token=key.token)
        assert ok.status_code == 200, (attempt, retry, ok.text)


def test_off_disables_a_category(start_server, ws_key):
    srv = start_server(limits_env(read='off', admin='2/60'))
    api = srv.api()
    _, key = ws_key()
    for _ in range(5):
        r = api.get('/v1/me', token=key.token)
        assert r.status_code == 200 and 'RateLimit-Limit' not in r.headers
    assert rl_headers(api.get('/v1/teams', token=key.token))[0] == 2


@pytest.mark.parametrize('value', ['10', '10/0', '0/60', 'x/60', '10/86401', '-1/60', 'on', '10/60/1'])
def test_bad_limit_stops_startup(pg, value):
    env = {'DATABASE_URL': pg.url(), 'HDF_LISTEN': f'127.0.0.1:{free_port()}', 'HDF_THREADS': '1',
           'HDF_RATE_LIMIT_CUSTOMER': value}
    r = run_cli(['serve'], env=env, timeout=15)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert 'helpdeskflow: config: HDF_RATE_LIMIT_CUSTOMER' in r.stderr, r.stderr


# ---- categories ---------------------------------------------------------------------------

def test_categories_are_independent(start_server, ws_key, make_key):
    srv = start_server(limits_env(ticket_create='2/3600', ticket_update='4/3600', customer='5/3600',
                                  read='6/3600', admin='7/3600'))
    api = srv.api()
    ws, key = ws_key()
    t = create_ticket(api, key.token)
    create_ticket(api, key.token)
    r = api.post('/v1/tickets', token=key.token, json=ticket_body())
    assert_rate_limited(r, 2)
    # every other category still has its own, untouched window
    checks = [
        (api.patch(f'/v1/tickets/{t["id"]}', token=key.token, json={'priority': 'high'}), 4, 3),
        (api.post(f'/v1/tickets/{t["id"]}/messages', token=key.token, json={'body': 'hi'}), 4, 2),
        (api.get('/v1/customers', token=key.token), 5, 4),
        (api.get(f'/v1/customers/{t["customer"]["id"]}/tickets', token=key.token), 5, 3),
        (api.get(f'/v1/tickets/{t["id"]}', token=key.token), 6, 5),
        (api.get('/v1/me', token=key.token), 6, 4),
        (api.get('/v1/teams', token=key.token), 7, 6),
        (api.get('/v1/api-keys', token=key.token), 7, 5),
    ]
    for r, limit, remaining in checks:
        assert r.status_code in (200, 201), r.text
        assert rl_headers(r)[:2] == (limit, remaining), (r.request.method, r.request.url, r.headers)
    # and every key has its own windows
    other = make_key(ws.slug, 'agent')
    r = api.post('/v1/tickets', token=other.token, json=ticket_body())
    assert r.status_code == 201 and rl_headers(r)[:2] == (2, 1)


def test_rejected_request_does_no_other_work(start_server, ws_key, pg):
    srv = start_server(limits_env(ticket_create='1/3600'))
    api = srv.api()
    ws, key = ws_key()
    create_ticket(api, key.token)
    r = api.post('/v1/tickets', token=key.token, json=ticket_body(subject='never written'),
                 headers={'Idempotency-Key': 'rl-rejected-1'})
    assert_rate_limited(r, 1)
    assert pg.scalar(f'SELECT count(*) FROM tickets WHERE workspace_id = {ws.id}') == '1'
    assert pg.scalar(f"SELECT count(*) FROM tickets WHERE subject = 'never written'") == '0'
    assert pg.scalar(f"SELECT count(*) FROM idempotency_keys WHERE workspace_id = {ws.id}") == '0'
    # nor does it look at the body: a malformed body is refused for the rate, not for the JSON
    r = api.post('/v1/tickets', token=key.token, data='{', headers={'Content-Type': 'application/json'})
    assert_rate_limited(r, 1)


# ---- overrides ----------------------------------------------------------------------------

def exhaust(api, token, path='/v1/me', limit=None):
    for _ in range(1000):
        r = api.get(path, token=token)
        if r.status_code == 429:
            return r
    raise AssertionError('never limited')


def await_status(api, token, status, what, timeout=4):
    """GET /v1/me until it answers status; the response (a 4xx Response is falsy, hence the list)."""
    return wait_until(lambda: [r for r in [api.get('/v1/me', token=token)] if r.status_code == status], timeout,
                      interval=0.05, what=what)[0]


def test_workspace_and_key_overrides(start_server, ws_key, make_key, pg):
    srv = start_server(limits_env(read='2/60'))
    api = srv.api()
    ws, key = ws_key()
    other = make_key(ws.slug, 'agent')
    assert_rate_limited(exhaust(api, key.token), 2)

    pg.psql(f"SELECT hdf_admin.set_rate_limit('{ws.slug}', 'read', 10, 60)")
    t0 = time.monotonic()
    r = await_status(api, key.token, 200, 'the raised workspace limit')
    assert time.monotonic() - t0 < 2.5, 'effective within 2 s'
    assert rl_headers(r)[0] == 10
    assert rl_headers(api.get('/v1/me', token=other.token))[0] == 10, 'every key of the workspace'

    pg.psql(f"SELECT hdf_admin.set_key_rate_limit({other.key_id}, 'read', 4, 60)")
    wait_until(lambda: rl_headers(api.get('/v1/me', token=other.token))[0] == 4, 4, interval=0.1,
               what='the key override')
    assert rl_headers(api.get('/v1/me', token=key.token))[0] == 10, 'the key override is that key\'s only'
    rows = pg.psql(f"SELECT key_id, category, \"limit\", window_seconds FROM hdf_admin.list_rate_limits('{ws.slug}')")
    assert rows == [(None, 'read', '10', '60'), (str(other.key_id), 'read', '4', '60')]

    assert pg.scalar(f"SELECT hdf_admin.clear_key_rate_limit({other.key_id}, 'read')") == 't'
    assert pg.scalar(f"SELECT hdf_admin.clear_rate_limit('{ws.slug}', 'read')") == 't'
    assert pg.scalar(f"SELECT hdf_admin.clear_rate_limit('{ws.slug}', 'read')") == 'f'
    r = await_status(api, key.token, 429, 'the default limit again')
    assert_rate_limited(r, 2)


def test_override_validation(pg, make_workspace):
    ws = make_workspace()
    for sql, state in [
        (f"SELECT hdf_admin.set_rate_limit('{ws.slug}', 'writes', 10, 60)", '22023'),
        (f"SELECT hdf_admin.set_rate_limit('no-such-ws', 'read', 10, 60)", 'P0002'),
        (f"SELECT hdf_admin.set_rate_limit('{ws.slug}', 'read', 0, 60)", '23514'),
        (f"SELECT hdf_admin.set_rate_limit('{ws.slug}', 'read', 10, 0)", '23514'),
        (f"SELECT hdf_admin.set_key_rate_limit(-1, 'read', 10, 60)", '23503'),
    ]:
        with pytest.raises(PsqlError) as e:
            pg.psql(sql)
        assert e.value.sqlstate == state, (sql, e.value)
    with pytest.raises(PsqlError):  # the server's role cannot change limits
        pg.psql(f"SET ROLE hdf_server; SELECT hdf_admin.set_rate_limit('{ws.slug}', 'read', 10, 60)")


# ---- across processes ---------------------------------------------------------------------

def hammer(urls, token, n_per_worker, workers=8):
    def run(i):
        api = Api(urls[i % len(urls)])
        out = []
        for _ in range(n_per_worker):
            out.append(api.get('/v1/me', token=token).status_code)
        return out
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return [s for part in pool.map(run, range(workers)) for s in part]


@pytest.mark.parametrize('limit,n_per_worker', [(10, 6), (200, 40)])
def test_two_processes_share_the_limit(start_server, ws_key, limit, n_per_worker):
    """limit 10: leases of one permit; 200: batches of 10. Slack is 0 (docs/architecture.md)."""
    env = limits_env(read=f'{limit}/3600')
    a, b = start_server(env), start_server(env)
    _, key = ws_key()
    statuses = hammer([a.url, b.url], key.token, n_per_worker)
    admitted = statuses.count(200)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(429) > 0
    assert admitted <= limit, f'{admitted} admitted by two processes, limit {limit}'
    assert admitted >= limit // 2, f'only {admitted} of {limit} admitted'
    leases = fetch_metrics(a.api()).value('hdf_rate_limit_lease_statements_total') + \
        fetch_metrics(b.api()).value('hdf_rate_limit_lease_statements_total')
    if limit == 200:
        assert leases < len(statuses) / 2, f'{leases} lease statements for {len(statuses)} requests: batches expected'


def test_unused_permits_are_given_back(start_server, ws_key):
    """A process that leased a batch and went idle gives the rest back: the other can use them."""
    env = limits_env(read='40/3600')  # batches of 2
    a, b = start_server(env), start_server(env)
    _, key = ws_key()
    assert a.api().get('/v1/me', token=key.token).status_code == 200  # a leases 2, spends 1
    time.sleep(1.6)  # the lease ends (<= 1 s) and the sweep gives the unspent permit back
    api = b.api()  # one connection: one thread of b, which holds no permits at the end
    admitted = 0
    for _ in range(45):
        admitted += api.get('/v1/me', token=key.token).status_code == 200
    assert admitted == 39, admitted


# ---- soft-throttle ------------------------------------------------------------------------

def timed_get(api, token):
    t0 = time.monotonic()
    r = api.get('/v1/me', token=token)
    return r, time.monotonic() - t0


def test_soft_throttle_starts_ends_and_spares_others(start_server, ws_key):
    srv = start_server({**limits_env(read='2/60'), 'HDF_SOFT_THROTTLE_AFTER_S': '1',
                        'HDF_SOFT_THROTTLE_RECOVER_S': '2', 'HDF_SOFT_THROTTLE_DELAY_MS': '1000'})
    api = srv.api()
    loud_ws, loud = ws_key()
    _, quiet = ws_key()
    # over the limit continuously for more than 1 s
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        api.get('/v1/me', token=loud.token)
        time.sleep(0.05)
    r, took = timed_get(api, loud.token)
    assert r.status_code == 429 and took >= 0.9, f'a throttled request took {took:.3f}s'
    rec = srv.find_log_record(lambda x: x.get('msg') == 'soft-throttle started')
    assert rec['workspace_id'] == loud_ws.id
    m = fetch_metrics(api)
    assert m.value('hdf_rate_limit_throttled_workspaces') == 1
    assert m.value('hdf_rate_limit_throttled_requests_total') >= 1
    assert m.value('hdf_rate_limit_throttle_starts_total') == 1

    # another workspace is not slowed, even while the throttled one has requests waiting
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slow = [pool.submit(timed_get, Api(srv.url), loud.token) for _ in range(3)]
        time.sleep(0.1)
        r, took = timed_get(api, quiet.token)
        assert r.status_code == 200 and took < 0.8, f'another workspace waited {took:.3f}s'
        assert all(f.result()[1] >= 0.9 for f in slow)

    # a client that goes away while its request is delayed: the timer is cancelled with it
    for _ in range(3):
        with socket.create_connection((srv.host, srv.port)) as s:
            s.sendall(f'GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {loud.token}\r\n\r\n'.encode())
            time.sleep(0.05)
    time.sleep(1.2)
    assert srv.alive()

    # under its limits (no requests) for 2 s: the throttle ends
    srv.find_log_record(lambda x: x.get('msg') == 'soft-throttle ended', timeout=6)
    assert fetch_metrics(api).value('hdf_rate_limit_throttled_workspaces') == 0
    r, took = timed_get(api, loud.token)
    assert r.status_code == 429 and took < 0.8


# ---- metrics ------------------------------------------------------------------------------

def test_metrics_count_rejections_by_category(start_server, ws_key):
    srv = start_server(limits_env(customer='1/3600', admin='1/3600'))
    api = srv.api()
    _, key = ws_key()
    before = fetch_metrics(api)
    for _ in range(3):
        api.get('/v1/customers', token=key.token)
    api.get('/v1/teams', token=key.token)
    api.get('/v1/teams', token=key.token)
    after = fetch_metrics(api)
    name = 'hdf_rate_limit_rejections_total'
    assert after.value(name, category='customer') - before.value(name, category='customer') == 2
    assert after.value(name, category='admin') - before.value(name, category='admin') == 1
    assert after.value(name, category='read') == before.value(name, category='read') == 0
    assert after.types[name] == 'counter'
    assert after.value('hdf_rate_limit_lease_statements_total') >= 2
    assert after.value('hdf_http_requests_total', route='/v1/customers', method='GET', status='429') == 2


def test_over_limit_key_costs_few_lease_statements(start_server, ws_key):
    """A key that stays over its limit is asked about again at most every 250 ms per thread, not
    once per request (a review measured 836 lease statements for 349 admissions before)."""
    srv = start_server(limits_env(read='200/2'))  # W = 2 s: batches of 10
    _, key = ws_key()
    a = srv.api()
    for _ in range(400):  # fill the current bucket
        if a.get('/v1/me', token=key.token).status_code == 429:
            break
    before = fetch_metrics(a).value('hdf_rate_limit_lease_statements_total')
    stop = time.monotonic() + 4.0

    def run(_):
        api = Api(srv.url)
        out = []
        while time.monotonic() < stop:
            out.append(api.get('/v1/me', token=key.token).status_code)
        return out
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = [s for part in pool.map(run, range(4)) for s in part]
    leases = fetch_metrics(a).value('hdf_rate_limit_lease_statements_total') - before
    admitted, refused = statuses.count(200), statuses.count(429)
    assert admitted + refused == len(statuses) and refused > admitted, (admitted, refused)
    print(f'\nrequests={len(statuses)} admitted={admitted} lease statements={leases}')
    # per thread (2) and 250 ms: one refused lease and, with room opening, about two granting ones
    assert leases <= 2 * 4 * 4 * 3 + 8, f'{leases} lease statements for {admitted} admissions of {len(statuses)}'
