"""Fixtures for the black-box API tests.

Session: `pg` (private PostgreSQL 15 cluster), `migrated` (`helpdeskflow migrate` applied),
`server` (`helpdeskflow serve` on a free port, log kept), `api` (client for it).
Per test: `make_workspace`, `make_key`, `workspace`, `admin_key`, `start_server` (extra server
processes with custom env), `expect_server_errors`.

A test fails if, while it ran, a server logged a "level":"error" line (or answered 500) that the
test did not declare with `expect_server_errors(substring, ...)` (no arguments: any error), or
printed an ASan/UBSan/LSan report (never allowed). The main server must exit 0 on SIGTERM at the
end of the session with a clean log.
"""
import os
import signal
import sys

import pytest
import urllib3

sys.path.insert(0, os.path.dirname(__file__))
import hdf  # noqa: E402

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

MAIN = {'server': None}
RATE_LIMIT_CATEGORIES = ('TICKET_CREATE', 'TICKET_UPDATE', 'CUSTOMER', 'READ', 'ADMIN')
GENEROUS_RATE_LIMIT = '1000000/60'


def pytest_configure(config):
    config.addinivalue_line('filterwarnings', 'ignore::urllib3.exceptions.InsecureRequestWarning')


def pytest_collection_modifyitems(session, config, items):
    """The DB outage test stops Postgres: run it after everything else except the log checks."""
    def rank(item):
        name = os.path.basename(str(item.fspath))
        if name == 'test_db_outage.py':
            return 1
        if name.startswith('test_zz_'):
            return 2
        return 0
    items.sort(key=rank)  # stable: keeps file order within a rank


# --------------------------------------------------------------------------------------------
# Session fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope='session')
def pg():
    cluster = hdf.PgCluster()
    try:
        cluster.init()
    except Exception:
        cluster.destroy()
        raise
    yield cluster
    cluster.destroy()


@pytest.fixture(scope='session')
def migrated(pg):
    r = hdf.run_cli(['migrate'], env={'DATABASE_URL': pg.url()}, timeout=120)
    assert r.returncode == 0, f'helpdeskflow migrate exited {r.returncode}:\n{r.stdout}\n{r.stderr}'
    return r


@pytest.fixture(scope='session')
def logdir(tmp_path_factory):
    return tmp_path_factory.mktemp('hdf-logs')


def base_server_env(pg, port, host='127.0.0.1'):
    listen = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'
    return {
        'DATABASE_URL': pg.url(),
        'HDF_LISTEN': listen,
        'HDF_THREADS': '2',
        'HDF_SECRET_KEY': hdf.SECRET_KEY,
        'HDF_SHUTDOWN_TIMEOUT_MS': '5000',
        # Generous limits: many tests share a few keys. test_rate_limits.py starts its own servers.
        **{f'HDF_RATE_LIMIT_{c}': GENEROUS_RATE_LIMIT for c in RATE_LIMIT_CATEGORIES},
    }


@pytest.fixture(scope='session')
def server(pg, migrated, logdir):
    srv = hdf.ServerProc('main', logdir, base_server_env(pg, hdf.free_port()))
    srv.start(wait='readyz', timeout=20)
    MAIN['server'] = srv
    yield srv
    MAIN['server'] = None
    problems = []
    crashed = not srv.alive()
    if crashed:
        problems.append(f'the server died during the session (exit code {srv.proc.returncode})')
        rc = srv.proc.returncode
    else:
        try:
            rc = srv.stop(signal.SIGTERM, timeout=20)
        except AssertionError as e:
            problems.append(str(e))
            rc = None
    if rc not in (0, None) and not crashed:
        problems.append(f'the server exited {rc} after SIGTERM (expected 0)')
    problems += [f'log: {line}' for line in hdf.log_problems(srv.new_log_lines())]
    whole = srv.log_text()
    problems += [f'sanitizer report in the log: {m}' for m in hdf.SANITIZER_MARKERS if m in whole]
    leaked = [t[:8] + '…' for t in hdf.SESSION_TOKENS if t in whole]
    if leaked:
        problems.append(f'tokens appear in the server log: {leaked}')
    if problems:
        pytest.fail('main server: ' + '\n'.join(problems) + '\n' + srv.log_tail(), pytrace=False)


@pytest.fixture(scope='session')
def api(server):
    return hdf.Api(server.url)


# --------------------------------------------------------------------------------------------
# Per-test log check and expected errors
# --------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _server_log_guard(request):
    expectations = hdf.ErrorExpectations()
    request.node._hdf_expected = expectations
    yield
    srv = MAIN['server']
    if srv is None:
        return
    problems = hdf.log_problems(srv.new_log_lines(), expectations)
    if not srv.alive():
        pytest.fail(f'the main server died (exit code {srv.proc.returncode}) during this test\n{srv.log_tail()}',
                    pytrace=False)
    if problems:
        pytest.fail('the main server logged unexpected errors during this test '
                    '(declare them with expect_server_errors if intended):\n' + '\n'.join(problems),
                    pytrace=False)


@pytest.fixture
def expect_server_errors(request):
    """expect_server_errors('substring', ...) allows error log lines containing any of them during
    this test; expect_server_errors() allows any error line (never sanitizer reports)."""
    return request.node._hdf_expected.add


# --------------------------------------------------------------------------------------------
# Workspaces and keys
# --------------------------------------------------------------------------------------------

@pytest.fixture
def make_workspace(pg, migrated):
    def make(slug=None, name=None):
        return hdf.create_workspace(pg, slug, name)
    return make


@pytest.fixture
def make_key(pg, migrated):
    """make_key(workspace_slug, role, allowed_cidrs=None, expires_at=None, label=None,
    expires_in=None) -> Key(key_id, token)."""
    def make(workspace_slug, role, allowed_cidrs=None, expires_at=None, label=None, expires_in=None):
        return hdf.create_key(pg, workspace_slug, role, label=label, allowed_cidrs=allowed_cidrs,
                              expires_at=expires_at, expires_in=expires_in)
    return make


@pytest.fixture
def workspace(make_workspace):
    return make_workspace()


@pytest.fixture
def admin_key(workspace, make_key):
    return make_key(workspace.slug, 'admin', label='admin key')


# --------------------------------------------------------------------------------------------
# Extra server processes
# --------------------------------------------------------------------------------------------

@pytest.fixture
def start_server(request, pg, migrated, logdir):
    """start_server(env=None, wait='readyz'|'healthz'|None, host='127.0.0.1', args=('serve',))
    -> hdf.ServerProc, listening on a fresh port with the main server's settings plus `env`
    (a None value removes a variable). Stopped (SIGTERM) and its log checked after the test."""
    started = []

    def start(env=None, wait='readyz', host='127.0.0.1', args=('serve',), timeout=20):
        e = base_server_env(pg, hdf.free_port(host), host)
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        name = f'{request.node.name}-{len(started)}'.replace('/', '_').replace('[', '_').replace(']', '')
        srv = hdf.ServerProc(name[:100], logdir, e, args=args)
        started.append(srv)
        srv.start(wait=wait, timeout=timeout)
        return srv

    yield start
    problems = []
    for srv in started:
        if srv.alive():
            try:
                rc = srv.stop(signal.SIGTERM, timeout=20)
                if rc != 0:
                    problems.append(f'{srv.name}: exited {rc} after SIGTERM (expected 0)\n{srv.log_tail()}')
            except AssertionError as e:
                problems.append(str(e))
        for line in hdf.log_problems(srv.new_log_lines(), request.node._hdf_expected):
            problems.append(f'{srv.name}: log: {line}')
    if problems:
        pytest.fail('extra server(s): ' + '\n'.join(problems), pytrace=False)
