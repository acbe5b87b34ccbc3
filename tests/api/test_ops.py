"""Operations endpoints: /healthz, /readyz, /metrics, and the per-request log line."""
import concurrent.futures
import secrets
import time

from hdf import (GENERATED_REQUEST_ID_RE, Api, RFC3339_MS_RE, assert_problem, fetch_metrics, method_set, parse_time,
                 project_version, run_cli, wait_until)

HISTOGRAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, float('inf')]


def schema_version(pg):
    return int(pg.scalar('SELECT max(version) FROM schema_migrations'))


def test_healthz(api):
    r = api.get('/healthz')
    assert r.status_code == 200
    assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
    assert r.json() == {'status': 'ok'}
    assert GENERATED_REQUEST_ID_RE.match(r.headers['X-Request-Id'])


def test_ops_endpoints_need_no_auth_and_ignore_bad_auth(api):
    for path in ('/healthz', '/readyz', '/metrics'):
        r = api.get(path, headers={'Authorization': 'Bearer nonsense'})
        assert r.status_code == 200, (path, r.status_code, r.text[:300])


def test_readyz(api, pg):
    r = api.get('/readyz')
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
    body = r.json()
    assert body == {'status': 'ready', 'schema_version': schema_version(pg)}
    assert type(body['schema_version']) is int and body['schema_version'] >= 1


def test_ops_wrong_method_405(api):
    for path in ('/healthz', '/readyz', '/metrics'):
        r = api.post(path, json={})
        body = assert_problem(r, 405, 'method_not_allowed')
        assert method_set(r.headers.get('Allow')) == {'GET'}, (path, r.headers.get('Allow'), body)


def test_readyz_reports_pending_migrations(pg, start_server, expect_server_errors):
    """A database whose newest migration is missing: /readyz says so (503), /healthz is fine, and
    once the migration is recorded again /readyz turns 200 without a restart."""
    expect_server_errors()  # the server may log the pending migrations as an error
    db = f'hdf_pending_{secrets.token_hex(4)}'
    pg.psql(f'CREATE DATABASE {db}', db='postgres')
    try:
        r = run_cli(['migrate'], env={'DATABASE_URL': pg.url(db)}, timeout=120)
        assert r.returncode == 0, r.stderr
        latest = int(pg.scalar('SELECT max(version) FROM schema_migrations', db=db))
        pg.psql(f'CREATE TABLE saved_migration AS SELECT * FROM schema_migrations WHERE version = {latest}; '
                f'DELETE FROM schema_migrations WHERE version = {latest}', db=db)
        below = int(pg.scalar('SELECT coalesce(max(version), 0) FROM schema_migrations', db=db))

        srv = start_server(env={'DATABASE_URL': pg.url(db)}, wait='healthz')
        api = srv.api()
        # Until its pool has connected the server says "database unreachable"; then it knows.
        # (A requests.Response is falsy when its status is >= 400: compare the text instead.)
        wait_until(lambda: 'migrations pending' in api.get('/readyz').text, 10,
                   what='/readyz to report pending migrations')
        r = api.get('/readyz')
        assert_problem(r, 503, 'unavailable',
                       detail=f'migrations pending (database at {below}, binary needs {latest})')
        assert r.headers.get('Retry-After') == '1', r.headers
        assert api.get('/healthz').status_code == 200

        pg.psql('INSERT INTO schema_migrations SELECT * FROM saved_migration', db=db)
        wait_until(lambda: api.get('/readyz').status_code == 200, 5, what='/readyz 200 after the migration is back')
        assert api.get('/readyz').json() == {'status': 'ready', 'schema_version': latest}
        assert srv.stop() == 0, srv.log_tail()
    finally:
        pg.psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)', db='postgres')


def test_metrics_format_and_families(api):
    r = api.get('/metrics')
    assert r.status_code == 200
    ct = r.headers['Content-Type'].replace(' ', '').lower()
    assert ct.startswith('text/plain') and 'version=0.0.4' in ct, ct
    m = fetch_metrics(api)
    expected = {
        'hdf_http_requests_total': 'counter',
        'hdf_http_request_duration_seconds': 'histogram',
        'hdf_http_in_flight': 'gauge',
        'hdf_db_pool_connections': 'gauge',
        'hdf_db_pool_connected': 'gauge',
        'hdf_db_pool_in_use': 'gauge',
        'hdf_db_pool_waiting': 'gauge',
        'hdf_db_pool_rejected_total': 'counter',
        'hdf_db_reconnects_total': 'counter',
        'hdf_auth_failures_total': 'counter',
        'hdf_build_info': 'gauge',
    }
    for name, typ in expected.items():
        assert m.types.get(name) == typ, f'# TYPE {name} {typ} missing (got {m.types.get(name)})'
        if typ == 'histogram':
            assert m.find(name + '_bucket') and m.find(name + '_sum') and m.find(name + '_count'), name
        else:
            assert m.find(name), f'no sample for {name}'
    # 2 threads x default 4 connections per thread.
    assert m.value('hdf_db_pool_connections') == 8
    assert 1 <= m.value('hdf_db_pool_connected') <= 8
    assert m.value('hdf_http_in_flight') >= 0
    assert m.value('hdf_db_pool_in_use') >= 0 and m.value('hdf_db_pool_waiting') >= 0
    info = m.find('hdf_build_info')
    assert len(info) == 1 and info[0][0].get('version') == project_version() and info[0][1] == 1, info


def test_metrics_count_requests_exactly(api):
    def healthz_count():
        return fetch_metrics(api).value('hdf_http_requests_total', route='/healthz', method='GET', status='200')
    before = healthz_count()
    for _ in range(3):
        assert api.get('/healthz').status_code == 200
    wait_until(lambda: healthz_count() >= before + 3, 2, what='/healthz counted 3 times')
    assert healthz_count() == before + 3


def test_metrics_route_labels_are_templates(api, workspace, admin_key):
    unknown = f'/nope-{secrets.token_hex(4)}'
    assert api.get(f'/v1/api-keys/{admin_key.key_id}', token=admin_key.token).status_code == 200
    assert api.get(unknown).status_code == 404
    assert api.get('/v1/me').status_code == 401

    def check():
        m = fetch_metrics(api)
        return (m.find('hdf_http_requests_total', route='/v1/api-keys/{id}', method='GET', status='200')
                and m.find('hdf_http_requests_total', route='unmatched', status='404')
                and m.find('hdf_http_requests_total', route='/v1/me', method='GET', status='401'))
    wait_until(check, 2, what='template route labels in /metrics')
    m = fetch_metrics(api)
    for name, labels, _ in m.samples:
        if 'route' in labels:
            assert unknown.strip('/') not in labels['route'], (name, labels)
            assert str(admin_key.key_id) not in labels['route'].split('/'), (name, labels)
            assert labels['route'] == 'unmatched' or labels['route'].startswith('/'), (name, labels)


def test_metrics_latency_histogram(api):
    api.get('/healthz')
    m = fetch_metrics(api)
    series = {}
    for name, labels, value in m.samples:
        if name == 'hdf_http_request_duration_seconds_bucket':
            key = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
            series.setdefault(key, {})[float(labels['le'])] = value
    assert series, 'no histogram buckets'
    for key, buckets in series.items():
        assert sorted(buckets) == HISTOGRAM_BUCKETS, (key, sorted(buckets))
        counts = [buckets[le] for le in HISTOGRAM_BUCKETS]
        assert counts == sorted(counts), f'buckets not cumulative for {key}: {counts}'
        labels = dict(key)
        count = m.find('hdf_http_request_duration_seconds_count', **labels)
        total = m.find('hdf_http_request_duration_seconds_sum', **labels)
        exact_count = [v for lab, v in count if set(lab) == set(labels)]
        exact_sum = [v for lab, v in total if set(lab) == set(labels)]
        assert exact_count == [buckets[float('inf')]], (key, exact_count, buckets)
        assert len(exact_sum) == 1 and exact_sum[0] >= 0, (key, exact_sum)
    assert sum(b[float('inf')] for b in series.values()) >= 1


def test_metrics_count_auth_failures(api):
    def failures():
        return fetch_metrics(api).value('hdf_auth_failures_total')
    before = failures()
    r = api.get('/v1/me', token='hdf_' + 'Z' * 40)
    assert r.status_code == 401
    wait_until(lambda: failures() >= before + 1, 2, what='hdf_auth_failures_total to increase')
    assert failures() == before + 1


def test_request_log_line(api, server, workspace, admin_key):
    rid = f'logcheck-{secrets.token_hex(6)}'
    t0 = time.time()
    r = api.get('/v1/me', token=admin_key.token, headers={'X-Request-Id': rid})
    assert r.status_code == 200
    rec = server.find_log_record(lambda rec: rec.get('request_id') == rid)
    assert RFC3339_MS_RE.match(rec['ts']), rec
    assert rec['level'] == 'info' and rec['msg'] == 'request', rec
    assert rec['method'] == 'GET' and rec['route'] == '/v1/me' and rec['status'] == 200, rec
    assert rec['key_id'] == admin_key.key_id, rec
    assert isinstance(rec['duration_ms'], (int, float)) and 0 <= rec['duration_ms'] < 10000, rec
    assert abs(parse_time(rec['ts']).timestamp() - t0) < 60, rec

    rid2 = f'logcheck-{secrets.token_hex(6)}'
    assert api.get(f'/v1/api-keys/{admin_key.key_id}', token=admin_key.token,
                   headers={'X-Request-Id': rid2}).status_code == 200
    rec = server.find_log_record(lambda rec: rec.get('request_id') == rid2)
    assert rec['route'] == '/v1/api-keys/{id}', rec

    rid3 = f'logcheck-{secrets.token_hex(6)}'
    assert api.get('/v1/me', headers={'X-Request-Id': rid3}).status_code == 401
    rec = server.find_log_record(lambda rec: rec.get('request_id') == rid3)
    assert rec['key_id'] is None and rec['status'] == 401, rec


def test_db_wait_queue_full_503(pg, start_server, workspace, make_key):
    """One connection, a wait queue of one: with the database stalled (api_keys locked), the first
    request holds the connection, the second waits, further ones get 503 + Retry-After at once;
    the first two complete when the database answers again."""
    srv = start_server(env={'HDF_THREADS': '1', 'HDF_DB_CONNS_PER_THREAD': '1', 'HDF_DB_QUEUE_MAX': '1'})
    api = srv.api()
    key = make_key(workspace.slug, 'agent')  # never used: every request must look it up
    locker = pg.psql_background('BEGIN; LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE; '
                                'SELECT pg_sleep(2); COMMIT;')
    try:
        wait_until(lambda: pg.scalar("SELECT count(*) FROM pg_locks WHERE relation = 'api_keys'::regclass "
                                     "AND mode = 'AccessExclusiveLock' AND granted") == '1',
                   5, what='the table lock')
        rejected_before = fetch_metrics(api).value('hdf_db_pool_rejected_total')
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(lambda: hdf_get(api, key))
            wait_until(lambda: fetch_metrics(api).value('hdf_db_pool_in_use') == 1, 2, what='in_use 1')
            second = pool.submit(lambda: hdf_get(api, key))
            wait_until(lambda: fetch_metrics(api).value('hdf_db_pool_waiting') == 1, 2, what='waiting 1')
            t0 = time.monotonic()
            for _ in range(2):
                r = hdf_get(api, key)
                assert_problem(r, 503, 'unavailable')
                retry = r.headers.get('Retry-After', '')
                assert retry.isdigit() and int(retry) >= 1, r.headers
            assert time.monotonic() - t0 < 1, 'a full queue must answer 503 at once'
            assert fetch_metrics(api).value('hdf_db_pool_rejected_total') == rejected_before + 2
            assert first.result(timeout=15).status_code == 200
            assert second.result(timeout=15).status_code == 200
    finally:
        locker.wait(timeout=15)
    assert api.get('/v1/me', token=key.token).status_code == 200


def hdf_get(api, key):
    return Api(api.base).get('/v1/me', token=key.token, timeout=15)
