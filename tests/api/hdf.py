"""hdf.py: helpers for the black-box API tests (tests/api).

What lives here: a private PostgreSQL 15 cluster (PgCluster), server processes with log watching
(ServerProc), a small HTTP client (Api), a raw-socket HTTP helper, problem+json assertions, a
Prometheus text parser and SQL helpers that create workspaces and keys. conftest.py turns these
into fixtures; tests import the assertion helpers directly (`from hdf import assert_problem`).

Nothing here starts anything at import time, so `pytest --collect-only` works without a server.
"""
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import requests
from requests.structures import CaseInsensitiveDict

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get('HDF_PG_BIN', '/usr/lib/postgresql/15/bin'))
SECRET_KEY = 'ab' * 32
PROBLEM_BASE = 'https://helpdeskflow.dev/problems/'
TOKEN_RE = re.compile(r'^hdf_[A-Za-z0-9]{40}$')
TOKEN_ANYWHERE_RE = re.compile(r'hdf_[A-Za-z0-9]{40}')
RFC3339_MS_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$')
GENERATED_REQUEST_ID_RE = re.compile(r'^[0-9a-f]{32}$')
SANE_REQUEST_ID_RE = re.compile(r'^[A-Za-z0-9._:+/=-]{1,128}$')
UNAUTHENTICATED_DETAIL = 'A valid API key is required.'
WWW_AUTHENTICATE = 'Bearer realm="helpdeskflow"'

# code -> problem type slug (spec "HTTP" section and server/src/common/errors.def).
PROBLEM_SLUGS = {
    'malformed_json': 'malformed-json',
    'validation_failed': 'validation',
    'api_key_in_query': 'api-key-in-query',
    'unauthenticated': 'unauthenticated',
    'forbidden': 'forbidden',
    'not_found': 'not-found',
    'method_not_allowed': 'method-not-allowed',
    'lock_timeout': 'lock-timeout',
    'automation_conflict': 'automation-conflict',
    'idempotency_in_flight': 'idempotency-in-flight',
    'conflict': 'conflict',
    'version_mismatch': 'version-mismatch',
    'body_too_large': 'body-too-large',
    'unsupported_media_type': 'unsupported-media-type',
    'idempotency_key_reused': 'idempotency-key-reused',
    'rate_limited': 'rate-limited',
    'internal': 'internal',
    'unavailable': 'unavailable',
}

# Every token any test created, and every server log file: test_zz_log_hygiene greps the logs.
SESSION_TOKENS = set()
LOG_FILES = []

SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer',
                     'SUMMARY: AddressSanitizer', 'SUMMARY: UndefinedBehaviorSanitizer',
                     'WARNING: ThreadSanitizer')


def binary_path():
    return os.environ.get('HDF_BIN') or str(ROOT / 'build' / 'helpdeskflow')


def project_version():
    """The VERSION in CMakeLists.txt's project(), which --version and hdf_build_info report."""
    text = (ROOT / 'CMakeLists.txt').read_text()
    m = re.search(r'project\s*\(\s*helpdeskflow\s+VERSION\s+([0-9.]+)', text)
    return m.group(1) if m else '0.1.0'


def free_port(host='127.0.0.1'):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(fn, timeout, interval=0.05, what='condition'):
    """Call fn() until it returns a truthy value; return it, or raise AssertionError at timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f'timed out after {timeout}s waiting for {what} (last: {last!r})')
        time.sleep(interval)


def sql_literal(value):
    if value is None:
        return 'NULL'
    return "'" + str(value).replace("'", "''") + "'"


def parse_time(s):
    """RFC 3339 with milliseconds and Z -> aware datetime (asserts the exact format)."""
    assert isinstance(s, str) and RFC3339_MS_RE.match(s), f'not an RFC 3339 UTC time with ms: {s!r}'
    return datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

class PsqlError(Exception):
    def __init__(self, sql, returncode, stderr):
        m = re.search(r'ERROR:\s+([0-9A-Z]{5}):', stderr)
        self.sqlstate = m.group(1) if m else None
        self.stderr = stderr
        super().__init__(f'psql exited {returncode} (SQLSTATE {self.sqlstate}): {stderr.strip()}\nSQL: {sql[:500]}')


class PgCluster:
    """A throw-away PostgreSQL 15 cluster on a free port, socket in its own temp dir."""

    NULL = '\x1e'
    SEP = '\x1f'

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='hdf-pg-')
        os.chmod(self.dir, 0o777)
        self.data = os.path.join(self.dir, 'data')
        self.logfile = os.path.join(self.dir, 'postgres.log')
        self.host = '127.0.0.1'
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.running = False

    def _pg(self, args, check=True, timeout=120):
        cmd = (['runuser', '-u', 'postgres', '--'] if self.as_root else []) + [str(a) for a in args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if check and r.returncode != 0:
            raise RuntimeError(f'{" ".join(cmd)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}\n{self.log_tail()}')
        return r

    def log_tail(self, n=40):
        try:
            return ''.join(Path(self.logfile).read_text(errors='replace').splitlines(True)[-n:])
        except OSError:
            return ''

    def init(self):
        self._pg([PG_BIN / 'initdb', '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8',
                  '--locale=C', '-D', self.data])
        self.start()
        self.psql('CREATE DATABASE hdf', db='postgres')
        return self

    def start(self):
        opts = (f'-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off '
                f'-c synchronous_commit=off -c full_page_writes=off -c max_connections=200')
        self._pg([PG_BIN / 'pg_ctl', '-D', self.data, '-l', self.logfile, '-w', '-t', '60', '-o', opts, 'start'])
        self.running = True

    def stop(self, mode='fast'):
        self._pg([PG_BIN / 'pg_ctl', '-D', self.data, '-w', '-t', '60', '-m', mode, 'stop'])
        self.running = False

    def destroy(self):
        if os.path.isdir(self.data):
            self._pg([PG_BIN / 'pg_ctl', '-D', self.data, '-w', '-m', 'immediate', 'stop'], check=False)
        self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db='hdf', user='postgres'):
        return f'postgresql://{user}@{self.host}:{self.port}/{db}'

    @property
    def dsn(self):
        return self.url()

    def psql(self, sql, db='hdf', user='postgres', header=False, timeout=60):
        """Run SQL (any number of statements) through psql; return all result rows as tuples of
        str (NULL -> None). header=True keeps column-name lines. Raises PsqlError on failure."""
        args = [str(PG_BIN / 'psql'), '-X', '-A', '-q', '-v', 'ON_ERROR_STOP=1', '-h', self.dir,
                '-p', str(self.port), '-U', user, '-d', db, '-F', self.SEP, '-P', 'null=' + self.NULL,
                '-P', 'footer=off']
        if not header:
            args.append('-t')
        r = subprocess.run(args, input='\\set VERBOSITY verbose\n' + sql + '\n', capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise PsqlError(sql, r.returncode, r.stderr)
        out = r.stdout
        if out.endswith('\n'):
            out = out[:-1]
        if out == '':
            return []
        return [tuple(None if f == self.NULL else f for f in line.split(self.SEP)) for line in out.split('\n')]

    def psql_background(self, sql, db='hdf'):
        """Start psql on `sql` without waiting (e.g. to hold a lock); returns the Popen."""
        return subprocess.Popen([str(PG_BIN / 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', self.dir,
                                 '-p', str(self.port), '-U', 'postgres', '-d', db, '-c', sql],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def scalar(self, sql, **kw):
        rows = self.psql(sql, **kw)
        assert len(rows) == 1 and len(rows[0]) == 1, f'expected one value from {sql!r}, got {rows!r}'
        return rows[0][0]

    def dump(self, db='hdf'):
        r = subprocess.run([str(PG_BIN / 'pg_dump'), '-h', self.dir, '-p', str(self.port), '-U', 'postgres',
                            '-d', db], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout


# ---------------------------------------------------------------------------------------------
# Workspaces and keys (through hdf_admin SQL functions)
# ---------------------------------------------------------------------------------------------

@dataclass
class Workspace:
    id: int
    slug: str
    name: str


class Key(NamedTuple):
    key_id: int
    token: str


def unique_slug(prefix='ws'):
    return f'{prefix}-{secrets.token_hex(6)}'


def create_workspace(pg, slug=None, name=None):
    slug = slug or unique_slug()
    name = name if name is not None else f'Workspace {slug}'
    rows = pg.psql(f'SELECT workspace_id, slug, name FROM hdf_admin.create_workspace({sql_literal(slug)}, '
                   f'{sql_literal(name)})')
    assert len(rows) == 1, rows
    return Workspace(int(rows[0][0]), rows[0][1], rows[0][2])


def cidr_array_sql(allowed_cidrs):
    if allowed_cidrs is None:
        return 'NULL'
    if isinstance(allowed_cidrs, str):  # '{10.0.0.0/8,127.0.0.1/32}'
        return f'{sql_literal(allowed_cidrs)}::cidr[]'
    return 'ARRAY[' + ','.join(sql_literal(c) for c in allowed_cidrs) + ']::cidr[]'


def expires_sql(expires_at=None, expires_in=None):
    if expires_in is not None:
        return f"now() + make_interval(secs => {float(expires_in)})"
    if expires_at is None:
        return 'NULL'
    if isinstance(expires_at, datetime):
        expires_at = expires_at.isoformat()
    return f'{sql_literal(expires_at)}::timestamptz'


def create_key(pg, workspace_slug, role, label=None, allowed_cidrs=None, expires_at=None, expires_in=None):
    """hdf_admin.create_api_key(...) -> Key(key_id, token). expires_in: seconds from the DB's now()."""
    label = label if label is not None else f'{role} key'
    rows = pg.psql(f'SELECT key_id, token FROM hdf_admin.create_api_key({sql_literal(workspace_slug)}, '
                   f'{sql_literal(role)}, {sql_literal(label)}, {cidr_array_sql(allowed_cidrs)}, '
                   f'{expires_sql(expires_at, expires_in)})')
    assert len(rows) == 1, rows
    key = Key(int(rows[0][0]), rows[0][1])
    SESSION_TOKENS.add(key.token)
    return key


def expire_key(pg, key_id):
    """Move a key's expires_at into the past (create_api_key refuses past expiry times)."""
    pg.psql(f"UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE id = {int(key_id)}")


def revoke_key(pg, key_id):
    return pg.scalar(f'SELECT hdf_admin.revoke_api_key({int(key_id)})') == 't'


# ---------------------------------------------------------------------------------------------
# Server processes and their logs
# ---------------------------------------------------------------------------------------------

class ErrorExpectations:
    """Which server log error lines the current test declared as expected."""

    def __init__(self):
        self.substrings = []
        self.allow_all = False

    def add(self, *substrings):
        if not substrings:
            self.allow_all = True
        self.substrings.extend(substrings)

    def allows(self, line):
        return self.allow_all or any(s in line for s in self.substrings)


class LogFollower:
    """Reads complete new lines from a growing file."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0

    def new_lines(self):
        try:
            with open(self.path, 'rb') as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b'\n')
        if end < 0:
            return []
        self.offset += end + 1
        return data[:end].decode('utf-8', errors='replace').split('\n')


def log_problems(lines, expectations=None):
    """Lines that make a test fail: sanitizer reports (always), "level":"error" lines and requests
    answered 500 (unless expected)."""
    problems = []
    for line in lines:
        if any(m in line for m in SANITIZER_MARKERS):
            problems.append(line)
            continue
        s = line.strip()
        if not s.startswith('{'):
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        bad = obj.get('level') == 'error' or (obj.get('msg') == 'request' and obj.get('status') == 500)
        if bad and not (expectations is not None and expectations.allows(line)):
            problems.append(line)
    return problems


def clean_env(overrides=None):
    """os.environ without the developer's own DATABASE_URL/HDF_*; sanitizer defaults; overrides
    applied (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not (k == 'DATABASE_URL' or k.startswith('HDF_'))}
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
    for k, v in (overrides or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def run_cli(args, env=None, timeout=60):
    """Run the binary with a clean environment plus `env`; returns CompletedProcess (text)."""
    exe = binary_path()
    if not os.access(exe, os.X_OK):
        raise AssertionError(f'{exe} is not an executable: build it first (cmake --build build) or set HDF_BIN')
    try:
        return subprocess.run([binary_path()] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=clean_env(env))
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f'helpdeskflow {" ".join(args)} did not exit within {timeout}s '
                             f'(stdout {e.stdout!r}, stderr {e.stderr!r})')


def create_migrated_db(pg, name):
    """A fresh database `name` (dropped first if it exists) with every migration applied."""
    pg.psql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)', db='postgres')
    pg.psql(f'CREATE DATABASE {name}', db='postgres')
    r = run_cli(['migrate'], env={'DATABASE_URL': pg.url(name)}, timeout=120)
    assert r.returncode == 0, f'helpdeskflow migrate on {name} exited {r.returncode}:\n{r.stdout}\n{r.stderr}'


class ServerProc:
    """One `helpdeskflow serve` process with stdout and stderr in files under logdir."""

    def __init__(self, name, logdir, env, args=('serve',)):
        self.name = name
        self.env = dict(env)
        self.args = list(args)
        listen = self.env.get('HDF_LISTEN', '127.0.0.1:8080')
        self.host, _, port = listen.rpartition(':')
        self.port = int(port) if port.isdigit() else None
        tls = bool(self.env.get('HDF_TLS_CERT'))
        self.scheme = 'https' if tls else 'http'
        self.url = f'{self.scheme}://{self.host}:{self.port}'
        self.stdout_path = Path(logdir) / f'{name}.stdout.log'
        self.stderr_path = Path(logdir) / f'{name}.stderr.log'
        self.followers = [LogFollower(self.stdout_path), LogFollower(self.stderr_path)]
        self.proc = None
        self.returncode = None
        LOG_FILES.extend([self.stdout_path, self.stderr_path])

    def start(self, wait='readyz', timeout=20):
        exe = binary_path()
        if not os.access(exe, os.X_OK):
            raise AssertionError(f'{exe} is not an executable: build it first (cmake --build build) or set HDF_BIN')
        out = open(self.stdout_path, 'ab')
        err = open(self.stderr_path, 'ab')
        try:
            self.proc = subprocess.Popen([exe] + self.args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=clean_env(self.env))
        finally:
            out.close()
            err.close()
        if wait:
            self.wait_ready(wait, timeout)
        return self

    def wait_ready(self, path='readyz', timeout=20):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'server {self.name} exited with {self.proc.returncode} during start-up\n'
                                     f'{self.log_tail()}')
            try:
                r = requests.get(f'{self.url}/{path}', timeout=2, verify=False)
                last = r.status_code
                if r.status_code == 200:
                    return
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError(f'server {self.name}: GET /{path} not 200 within {timeout}s (last: {last})\n'
                             f'{self.log_tail()}')

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signal and wait; returns the exit code (SIGKILLs and raises if it does not exit)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = self.proc.returncode
                raise AssertionError(f'server {self.name} did not exit within {timeout}s of signal {sig}; killed\n'
                                     f'{self.log_tail()}')
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def new_log_lines(self):
        lines = []
        for f in self.followers:
            lines.extend(f.new_lines())
        return lines

    def stdout_text(self):
        try:
            return self.stdout_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def log_text(self):
        return self.stdout_text() + self.stderr_text()

    def log_tail(self, n=60):
        out = self.stdout_text().splitlines()[-n:]
        err = self.stderr_text().splitlines()[-n:]
        return ('--- stdout (tail) ---\n' + '\n'.join(out) + '\n--- stderr (tail) ---\n' + '\n'.join(err))

    def log_records(self):
        """Parsed JSON lines of stdout."""
        recs = []
        for line in self.stdout_text().splitlines():
            try:
                recs.append(json.loads(line))
            except ValueError:
                pass
        return recs

    def find_log_record(self, pred, timeout=3.0):
        """Poll stdout until a JSON record satisfies pred; return it."""
        return wait_until(lambda: next((r for r in self.log_records() if isinstance(r, dict) and pred(r)), None),
                          timeout, what=f'a matching log record in {self.stdout_path}')

    def api(self):
        return Api(self.url, verify=False)


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

class Api:
    """requests with a base URL: api.get('/v1/me', token=tok, headers={...}, close=True)."""

    def __init__(self, base_url, verify=True):
        self.base = base_url.rstrip('/')
        self.session = requests.Session()
        self.session.verify = verify
        m = re.match(r'^https?://(\[[^\]]+\]|[^:/]+):(\d+)', self.base)
        self.host = m.group(1).strip('[]') if m else None
        self.port = int(m.group(2)) if m else None

    def url(self, path):
        return self.base + path

    def request(self, method, path, token=None, headers=None, close=False, timeout=15, **kw):
        h = {}
        if token is not None:
            h['Authorization'] = f'Bearer {token}'
        if close:
            h['Connection'] = 'close'
        if headers:
            h.update(headers)
        return self.session.request(method, self.url(path), headers=h, timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, **kw):
        return self.request('POST', path, **kw)

    def patch(self, path, **kw):
        return self.request('PATCH', path, **kw)

    def put(self, path, **kw):
        return self.request('PUT', path, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def head(self, path, **kw):
        return self.request('HEAD', path, **kw)

    def raw(self, data, **kw):
        return raw_http(self.host, self.port, data, **kw)


class RawResponse:
    """Looks enough like requests.Response for assert_problem."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = body
        self.text = body.decode('utf-8', errors='replace')

    def json(self):
        return json.loads(self.text)


def raw_http(host, port, data, timeout=10, read_eof=False):
    """Send raw bytes, parse one HTTP/1.x response. With read_eof, also check that the server
    closes the connection afterwards (RawResponse.closed)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect((host, port))
    try:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        out = RawResponse(resp.status, list(resp.getheaders()), body)
        if read_eof:
            sock.settimeout(min(timeout, 3))
            try:
                out.closed = sock.recv(1) == b''
            except socket.timeout:
                out.closed = False
            except OSError:  # reset
                out.closed = True
        return out
    finally:
        sock.close()


def method_set(allow_header):
    return {m.strip().upper() for m in (allow_header or '').split(',') if m.strip()}


def assert_problem(resp, status, code, detail=None):
    """resp is a well-formed RFC 9457 problem with this status and code; returns the body."""
    assert resp.status_code == status, (f'expected {status} {code}, got {resp.status_code}: '
                                        f'{resp.headers.get("Content-Type")} {resp.text[:600]}')
    ct = resp.headers.get('Content-Type', '')
    assert ct.split(';')[0].strip().lower() == 'application/problem+json', f'Content-Type {ct!r}: {resp.text[:300]}'
    body = resp.json()
    assert isinstance(body, dict), body
    for f in ('type', 'title', 'status', 'code', 'detail', 'request_id'):
        assert f in body, f'problem lacks {f!r}: {body}'
    assert body['code'] == code, f'code {body["code"]!r}, expected {code!r}: {body}'
    assert body['status'] == status and type(body['status']) is int, body
    assert body['type'] == PROBLEM_BASE + PROBLEM_SLUGS[code], body
    assert isinstance(body['title'], str) and body['title'], body
    assert isinstance(body['detail'], str), body
    rid = resp.headers.get('X-Request-Id')
    assert rid, f'no X-Request-Id header on a {status} response'
    assert body['request_id'] == rid, f'request_id {body["request_id"]!r} != X-Request-Id {rid!r}'
    if 'errors' in body:
        assert isinstance(body['errors'], list), body
        for e in body['errors']:
            assert isinstance(e, dict) and isinstance(e.get('field'), str) and isinstance(e.get('code'), str) \
                and isinstance(e.get('message'), str), f'bad errors[] entry {e!r}'
    if detail is not None:
        if isinstance(detail, re.Pattern):
            assert detail.search(body['detail']), f'detail {body["detail"]!r} does not match {detail.pattern!r}'
        else:
            assert detail in body['detail'], f'detail {body["detail"]!r} lacks {detail!r}'
    return body


def assert_field_error(body, field, code=None):
    """The problem's errors[] names `field` (with `code`, if given)."""
    errs = body.get('errors') or []
    hits = [e for e in errs if e.get('field') == field and (code is None or e.get('code') == code)]
    assert hits, f'errors[] has no entry for field {field!r}' + (f' with code {code!r}' if code else '') + f': {body}'
    return hits[0]


def assert_unauthenticated(resp):
    body = assert_problem(resp, 401, 'unauthenticated')
    assert body['detail'] == UNAUTHENTICATED_DETAIL, body
    assert resp.headers.get('WWW-Authenticate') == WWW_AUTHENTICATE, resp.headers
    return body


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Prometheus text format
# ---------------------------------------------------------------------------------------------

_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


class Metrics:
    def __init__(self, text):
        self.types = {}
        self.samples = []  # (name, labels dict, float)
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if line.startswith('#'):
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == 'TYPE':
                    self.types[parts[2]] = parts[3].strip()
                continue
            m = _SAMPLE_RE.match(line)
            assert m, f'metrics line {n} is not valid exposition format: {line!r}'
            labels = {}
            if m.group(3):
                rest = m.group(3)
                pos = 0
                while pos < len(rest):
                    lm = _LABEL_RE.match(rest, pos)
                    assert lm, f'metrics line {n}: bad labels {rest!r}'
                    labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace('\\n', '\n').replace('\\\\', '\\')
                    pos = lm.end()
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def find(self, name, **labels):
        return [(lab, v) for (n, lab, v) in self.samples
                if n == name and all(lab.get(k) == str(val) for k, val in labels.items())]

    def value(self, name, default=0.0, **labels):
        """Sum of the samples of `name` whose labels include `labels`."""
        hits = self.find(name, **labels)
        return sum(v for _, v in hits) if hits else default


def fetch_metrics(api):
    r = api.get('/metrics')
    assert r.status_code == 200, r.text[:300]
    return Metrics(r.text)
