"""Process lifecycle: CLI, configuration errors, migrate, graceful shutdown, TLS + HTTP/2."""
import concurrent.futures
import http.client
import json
import secrets
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from hdf import free_port, project_version, run_cli

ENV_VARS = ['DATABASE_URL', 'HDF_LISTEN', 'HDF_THREADS', 'HDF_DB_CONNS_PER_THREAD', 'HDF_DB_QUEUE_MAX',
            'HDF_TLS_CERT', 'HDF_TLS_KEY', 'HDF_MAX_BODY_BYTES', 'HDF_LOCK_TIMEOUT_MS', 'HDF_SHUTDOWN_TIMEOUT_MS',
            'HDF_AUTH_CACHE_MS', 'HDF_LOG_LEVEL', 'HDF_SECRET_KEY']


# ---- CLI ----------------------------------------------------------------------------------

def test_version():
    r = run_cli(['--version'], timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f'helpdeskflow {project_version()}'


def test_help_lists_every_variable():
    r = run_cli(['--help'], timeout=10)  # no DATABASE_URL needed
    assert r.returncode == 0, r.stderr
    for cmd in ('serve', 'migrate', 'worker'):
        assert cmd in r.stdout, cmd
    for var in ENV_VARS:
        assert var in r.stdout, f'--help does not mention {var}'


@pytest.mark.parametrize('args', [['frobnicate'], ['--frobnicate']])
def test_unknown_command(args, pg):
    r = run_cli(args, env={'DATABASE_URL': pg.url(), 'HDF_LISTEN': f'127.0.0.1:{free_port()}'}, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert 'usage' in r.stderr.lower(), r.stderr


CONFIG_ERRORS = [
    ({'HDF_LISTEN': 'bogus'}, 'HDF_LISTEN'),
    ({'HDF_LISTEN': '127.0.0.1:99999'}, 'HDF_LISTEN'),
    ({'HDF_LISTEN': '127.0.0.1:'}, 'HDF_LISTEN'),
    ({'HDF_THREADS': '0'}, 'HDF_THREADS'),
    ({'HDF_THREADS': '257'}, 'HDF_THREADS'),
    ({'HDF_THREADS': 'two'}, 'HDF_THREADS'),
    ({'HDF_MAX_BODY_BYTES': 'abc'}, 'HDF_MAX_BODY_BYTES'),
    ({'HDF_MAX_BODY_BYTES': '1023'}, 'HDF_MAX_BODY_BYTES'),
    ({'DATABASE_URL': None}, 'DATABASE_URL'),
    ({'DATABASE_URL': ''}, 'DATABASE_URL'),
    ({'HDF_DB_CONNS_PER_THREAD': '0'}, 'HDF_DB_CONNS_PER_THREAD'),
    ({'HDF_DB_CONNS_PER_THREAD': '65'}, 'HDF_DB_CONNS_PER_THREAD'),
    ({'HDF_DB_QUEUE_MAX': '0'}, 'HDF_DB_QUEUE_MAX'),
    ({'HDF_LOCK_TIMEOUT_MS': 'soon'}, 'HDF_LOCK_TIMEOUT_MS'),
    ({'HDF_SHUTDOWN_TIMEOUT_MS': '-1'}, 'HDF_SHUTDOWN_TIMEOUT_MS'),
    ({'HDF_AUTH_CACHE_MS': '1001'}, 'HDF_AUTH_CACHE_MS'),
    ({'HDF_LOG_LEVEL': 'loud'}, 'HDF_LOG_LEVEL'),
    ({'HDF_TLS_CERT': '/etc/hostname'}, 'HDF_TLS_KEY'),
    ({'HDF_TLS_KEY': '/etc/hostname'}, 'HDF_TLS_CERT'),
    ({'HDF_TLS_CERT': '/nonexistent/cert.pem', 'HDF_TLS_KEY': '/nonexistent/key.pem'}, 'HDF_TLS_CERT'),
    ({'HDF_SECRET_KEY': 'zz' * 32}, 'HDF_SECRET_KEY'),
    ({'HDF_SECRET_KEY': 'ab' * 31}, 'HDF_SECRET_KEY'),
]


@pytest.mark.parametrize('overrides,var', CONFIG_ERRORS, ids=[f'{v}-{i}' for i, (_, v) in enumerate(CONFIG_ERRORS)])
def test_config_error(pg, overrides, var):
    env = {'DATABASE_URL': pg.url(), 'HDF_LISTEN': f'127.0.0.1:{free_port()}', 'HDF_THREADS': '1'}
    env.update(overrides)
    r = run_cli(['serve'], env=env, timeout=15)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert f'helpdeskflow: config: {var}' in r.stderr, r.stderr
    if var == 'HDF_SECRET_KEY':
        assert overrides[var] not in r.stderr + r.stdout, 'secret value echoed'


def test_migrate_config_error():
    r = run_cli(['migrate'], env={}, timeout=15)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert 'helpdeskflow: config: DATABASE_URL' in r.stderr, r.stderr


# ---- migrate ------------------------------------------------------------------------------

def test_migrate_twice_is_a_noop(pg, migrated):
    before = pg.psql('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version')
    latest = int(before[-1][0])
    r = run_cli(['migrate'], env={'DATABASE_URL': pg.url()}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f'migrations: up to date (version {latest})' in r.stdout + r.stderr, (r.stdout, r.stderr)
    after = pg.psql('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version')
    assert after == before
    assert all(row[1] and row[2] for row in after), after


def test_migrate_concurrently_on_fresh_database(pg, migrated):
    db = f'hdf_fresh_{secrets.token_hex(4)}'
    pg.psql(f'CREATE DATABASE {db}', db='postgres')
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: run_cli(['migrate'], env={'DATABASE_URL': pg.url(db)}, timeout=120),
                                    range(3)))
        for r in results:
            assert r.returncode == 0, (r.stdout, r.stderr)
        want = pg.psql('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
        got = pg.psql('SELECT version, name, checksum FROM schema_migrations ORDER BY version', db=db)
        assert got == want
        assert pg.scalar('SELECT count(*) = count(DISTINCT version) FROM schema_migrations', db=db) == 't'
    finally:
        pg.psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)', db='postgres')


def test_failed_migration_leaves_schema_as_it_was(pg, migrated):
    """A migration that fails rolls back whole: no half-made tables, no schema_migrations row,
    exit 1 naming the migration; once the obstacle is gone, migrate succeeds."""
    db = f'hdf_broken_{secrets.token_hex(4)}'
    pg.psql(f'CREATE DATABASE {db}', db='postgres')
    try:
        # An object 0001 also creates (api_keys) makes 0001 fail after its first statements ran.
        pg.psql('CREATE TABLE api_keys (x int)', db=db)
        r = run_cli(['migrate'], env={'DATABASE_URL': pg.url(db)}, timeout=60)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert '0001_foundation' in r.stderr and 'already exists' in r.stderr, r.stderr
        assert pg.scalar('SELECT count(*) FROM schema_migrations', db=db) == '0'
        assert pg.scalar("SELECT to_regclass('public.workspaces') IS NULL", db=db) == 't'
        assert pg.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'hdf_admin'", db=db) == '0'
        assert pg.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'api_keys'", db=db) == '1'
        pg.psql('DROP TABLE api_keys', db=db)
        r = run_cli(['migrate'], env={'DATABASE_URL': pg.url(db)}, timeout=60)
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert pg.scalar("SELECT to_regclass('public.workspaces') IS NOT NULL", db=db) == 't'
    finally:
        pg.psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)', db='postgres')


def test_migrate_unreachable_database_fails():
    r = run_cli(['migrate'], env={'DATABASE_URL': f'postgresql://postgres@127.0.0.1:{free_port()}/hdf'}, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip() or r.stdout.strip()


# ---- graceful shutdown --------------------------------------------------------------------

def connect_refused(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def shutdown_logged(srv):
    return any('shutdown' in json.dumps(rec).lower() or 'shutting down' in json.dumps(rec).lower()
               for rec in srv.log_records())


def test_sigterm_during_burst(start_server, workspace, make_key):
    srv = start_server(env={'HDF_SHUTDOWN_TIMEOUT_MS': '5000'})
    key = make_key(workspace.slug, 'agent')
    stop = threading.Event()
    results = []
    lock = threading.Lock()

    def worker():
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = requests.get(f'{srv.url}/v1/me', headers={'Authorization': f'Bearer {key.token}',
                                                             'Connection': 'close'}, timeout=10)
                out = ('response', r.status_code, t)
            except requests.Timeout as e:
                out = ('timeout', repr(e), t)
            except requests.ConnectionError as e:
                out = ('error', repr(e), t)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.5)
        t_sig = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(timeout=5 + 5)
        except subprocess.TimeoutExpired:
            pytest.fail(f'server did not exit within the shutdown timeout + 5 s\n{srv.log_tail()}')
        t_exit = time.monotonic()
    finally:
        stop.set()
        for th in threads:
            th.join(20)
    assert rc == 0, f'exit code {rc}\n{srv.log_tail()}'
    assert t_exit - t_sig < 5 + 2
    before = [r for r in results if r[2] < t_sig - 0.05]  # surely accepted before the signal
    assert len(before) >= 20, f'burst too small: {len(before)}'
    assert all(r[0] == 'response' and r[1] == 200 for r in before), [r for r in before if r[1] != 200][:5]
    bad = [r for r in results if r[0] == 'timeout' or (r[0] == 'response' and r[1] not in (200, 503))]
    assert not bad, f'requests hung or failed during shutdown: {bad[:5]}'
    assert shutdown_logged(srv), srv.log_tail()
    assert connect_refused(srv.host, srv.port), 'still accepting connections after exit'


def test_sigterm_finishes_request_in_progress(start_server, pg, workspace, make_key):
    """A request whose body is still arriving when SIGTERM comes is completed; new connections are
    refused meanwhile; then the process exits 0."""
    srv = start_server(env={'HDF_SHUTDOWN_TIMEOUT_MS': '5000'})
    key = make_key(workspace.slug, 'admin', label='before')
    body = json.dumps({'label': 'finished during shutdown'}).encode()
    head = (f'PATCH /v1/api-keys/{key.key_id} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key.token}\r\n'
            f'Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n').encode()
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    try:
        s.sendall(head + body[:10])
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert srv.alive(), 'exited with a request in progress'
        assert connect_refused(srv.host, srv.port), 'still accepting new connections after SIGTERM'
        s.sendall(body[10:])
        resp = http.client.HTTPResponse(s)
        resp.begin()
        text = resp.read().decode()
        assert resp.status == 200, text
        assert json.loads(text)['label'] == 'finished during shutdown'
    finally:
        s.close()
    assert srv.proc.wait(timeout=10) == 0, srv.log_tail()
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {key.key_id}') == 'finished during shutdown'
    assert shutdown_logged(srv)


def test_idle_keepalive_connection_does_not_delay_exit(start_server):
    srv = start_server(env={'HDF_SHUTDOWN_TIMEOUT_MS': '8000'})
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    try:
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n')
        resp = http.client.HTTPResponse(s)
        resp.begin()
        resp.read()
        assert resp.status == 200
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=15) == 0, srv.log_tail()
        assert time.monotonic() - t0 < 8, 'an idle keep-alive connection held shutdown until the timeout'
    finally:
        s.close()


def test_sigint_exits_cleanly(start_server):
    srv = start_server()
    assert srv.stop(signal.SIGINT, timeout=15) == 0, srv.log_tail()


def test_port_in_use_fails(pg):
    blocker = socket.socket()
    blocker.bind(('127.0.0.1', 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = run_cli(['serve'], env={'DATABASE_URL': pg.url(), 'HDF_LISTEN': f'127.0.0.1:{port}', 'HDF_THREADS': '1'},
                    timeout=15)
        assert r.returncode != 0, (r.stdout[-500:], r.stderr[-500:])
    finally:
        blocker.close()


# ---- TLS and HTTP/2 -----------------------------------------------------------------------

@pytest.fixture
def tls_files(tmp_path):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def curl(*args):
    r = subprocess.run(['curl', '-sk', '--max-time', '10'] + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


def test_tls_and_http2(start_server, tls_files, workspace, make_key):
    cert, key_file = tls_files
    srv = start_server(env={'HDF_TLS_CERT': cert, 'HDF_TLS_KEY': key_file})
    assert srv.url.startswith('https://')
    key = make_key(workspace.slug, 'readonly')
    r = requests.get(f'{srv.url}/healthz', verify=False, timeout=10)
    assert r.status_code == 200 and r.json() == {'status': 'ok'}
    r = requests.get(f'{srv.url}/v1/me', verify=False, timeout=10, headers={'Authorization': f'Bearer {key.token}'})
    assert r.status_code == 200 and r.json()['key_id'] == key.key_id
    r = requests.get(f'{srv.url}/v1/me', verify=False, timeout=10)
    assert r.status_code == 401 and r.headers['WWW-Authenticate'] == 'Bearer realm="helpdeskflow"'
    base = f'https://127.0.0.1:{srv.port}'
    assert curl('--http2', '-o', '/dev/null', '-w', '%{http_version}', f'{base}/healthz') == '2'
    assert curl('--http1.1', '-o', '/dev/null', '-w', '%{http_version}', f'{base}/healthz') == '1.1'


def h2(*args):
    """curl over HTTP/2 -> (status, lower-cased header text, body) or an error string."""
    r = subprocess.run(['curl', '-sk', '--max-time', '10', '--http2', '-D', '-'] + list(args),
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return f'curl exit {r.returncode} (92 = HTTP/2 stream error, e.g. an upper-case header name)'
    head, _, body = r.stdout.partition('\n\n')
    status = int(head.split()[1])
    assert head.startswith('HTTP/2 '), head
    return status, head.lower(), body


def test_http2_every_kind_of_response(start_server, tls_files, workspace, make_key):
    """HTTP/2 forbids upper-case header names: every response kind (with its own extra headers:
    WWW-Authenticate, Allow, Link, X-Request-Id) must come through intact."""
    cert, key_file = tls_files
    srv = start_server(env={'HDF_TLS_CERT': cert, 'HDF_TLS_KEY': key_file})
    base = f'https://127.0.0.1:{srv.port}'
    admin = make_key(workspace.slug, 'admin')
    make_key(workspace.slug, 'agent')
    auth = ('-H', f'Authorization: Bearer {admin.token}')
    cases = {
        'me 200': (auth + ('-H', 'X-Request-Id: h2-check', f'{base}/v1/me'), 200, ['x-request-id: h2-check']),
        'list 200 + Link': (auth + (f'{base}/v1/api-keys?limit=1',), 200, ['link: ']),
        '404': ((f'{base}/nope',), 404, ['content-type: application/problem+json', 'x-request-id: ']),
        '401': ((f'{base}/v1/me',), 401, ['www-authenticate: bearer realm="helpdeskflow"']),
        '405': (('-X', 'POST', f'{base}/v1/me'), 405, ['allow: get']),
        '400 query key': ((f'{base}/v1/me?api_key=x',), 400, ['application/problem+json']),
        '415': (auth + ('-X', 'PATCH', '-H', 'Content-Type: text/plain', '--data-binary', 'x',
                        f'{base}/v1/api-keys/{admin.key_id}'), 415, []),
        'PATCH 200': (auth + ('-X', 'PATCH', '-H', 'Content-Type: application/json', '--data-binary',
                              '{"label":"via h2"}', f'{base}/v1/api-keys/{admin.key_id}'), 200, ['"label":"via h2"']),
        'readyz': ((f'{base}/readyz',), 200, []),
        'metrics': ((f'{base}/metrics',), 200, ['hdf_http_requests_total']),
    }
    failures = []
    for name, (args, status, needles) in cases.items():
        got = h2(*args)
        if isinstance(got, str):
            failures.append(f'{name}: {got}')
            continue
        st, head, body = got
        if st != status:
            failures.append(f'{name}: status {st}, expected {status}: {body[:200]}')
        for n in needles:
            if n.lower() not in head and n not in body:
                failures.append(f'{name}: {n!r} missing in {head!r}')
    assert not failures, 'over HTTP/2:\n' + '\n'.join(failures)
