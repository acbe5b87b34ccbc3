"""schemas/openapi.yaml must describe exactly the routes the server has, and its error codes
must be the ones in server/src/common/errors.def.

The route table comes from the binary itself: `helpdeskflow routes` prints one line per route,
`METHOD /path/{param}`. No server or database is needed. The binary is $HDF_BIN, else
build/helpdeskflow (build it first: cmake -S . -B build && cmake --build build -j).
Needs PyYAML (Debian: python3-yaml).
"""
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / 'schemas' / 'openapi.yaml'
ERRORS_DEF = ROOT / 'server' / 'src' / 'common' / 'errors.def'
HTTP_METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')
OPS_PATHS = {'/healthz', '/readyz', '/metrics'}
PROBLEM_BASE = 'https://helpdeskflow.dev/problems/'


@pytest.fixture(scope='module')
def spec():
    with open(SPEC, encoding='utf-8') as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def routes_output():
    exe = os.environ.get('HDF_BIN') or str(ROOT / 'build' / 'helpdeskflow')
    assert os.access(exe, os.X_OK), f'{exe} is not an executable: build first or set HDF_BIN'
    # `routes` needs no database: run it without DATABASE_URL to prove it.
    env = {k: v for k, v in os.environ.items() if k != 'DATABASE_URL'}
    r = subprocess.run([exe, 'routes'], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, f'`{exe} routes` exited {r.returncode}: {r.stderr.strip()}'
    return r.stdout


def spec_operations(spec):
    ops = set()
    for path, item in spec['paths'].items():
        for method in HTTP_METHODS:
            if method in item:
                ops.add((method.upper(), path))
    return ops


def parse_routes(text):
    routes = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = re.fullmatch(r'([A-Z]+) (/[^\s]*)', line)
        assert m, f'`routes` line {n} is not "METHOD /path": {line!r}'
        routes.append((m.group(1), m.group(2)))
    return routes


def errors_def():
    """{code: (status, slug, title)} from the X(NAME, status, "slug", "title") rows."""
    rows = {}
    row = re.compile(r'^X\(\s*([A-Z0-9_]+)\s*,\s*(\d{3})\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)', re.M)
    for name, status, slug, title in row.findall(ERRORS_DEF.read_text(encoding='utf-8')):
        rows[name.lower()] = (int(status), slug, title)
    assert rows, f'no X(...) rows found in {ERRORS_DEF}'
    return rows


def test_routes_output_is_well_formed(routes_output):
    routes = parse_routes(routes_output)
    assert routes, '`routes` printed nothing'
    dupes = {r for r in routes if routes.count(r) > 1}
    assert not dupes, f'`routes` lists these more than once: {sorted(dupes)}'
    assert {('GET', p) for p in OPS_PATHS} <= set(routes), '`routes` must include /healthz, /readyz and /metrics'


def test_openapi_operations_match_routes(spec, routes_output):
    implemented = set(parse_routes(routes_output))
    documented = spec_operations(spec)
    undocumented = sorted(implemented - documented)
    unimplemented = sorted(documented - implemented)
    assert not undocumented and not unimplemented, (
        'schemas/openapi.yaml and `helpdeskflow routes` differ:\n'
        f'  implemented but not in the spec: {undocumented}\n'
        f'  in the spec but not implemented: {unimplemented}')


def test_operation_ids_unique_and_security(spec):
    assert spec['security'] == [{'bearerAuth': []}], 'bearer auth must be the global default'
    seen = {}
    for path, item in spec['paths'].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f'{method.upper()} {path}'
            assert op.get('operationId'), f'{where} has no operationId'
            assert op['operationId'] not in seen, f'{where} reuses operationId of {seen.get(op["operationId"])}'
            seen[op['operationId']] = where
            if path in OPS_PATHS:
                assert op.get('security') == [], f'{where} must say security: [] (no auth)'
            else:
                assert 'security' not in op, f'{where} must use the global bearer security'
                assert '401' in op['responses'], f'{where} must document 401'


def test_problem_codes_match_errors_def(spec):
    table = errors_def()
    enum = spec['components']['schemas']['ProblemCode']['enum']
    assert len(enum) == len(set(enum)), 'ProblemCode enum has duplicates'
    assert set(enum) == set(table), (
        f'ProblemCode enum vs errors.def: only in spec {sorted(set(enum) - set(table))}, '
        f'only in errors.def {sorted(set(table) - set(enum))}')


def iter_problem_examples(spec):
    """Every example of an application/problem+json body, wherever it is."""
    def media_examples(where, content):
        media = (content or {}).get('application/problem+json')
        if media:
            for name, ex in (media.get('examples') or {}).items():
                yield f'{where} example {name}', ex['value']

    for name, resp in spec['components']['responses'].items():
        yield from media_examples(f'components/responses/{name}', resp.get('content'))
    for path, item in spec['paths'].items():
        for method in HTTP_METHODS:
            for status, resp in (item.get(method) or {}).get('responses', {}).items():
                if '$ref' not in resp:
                    yield from media_examples(f'{method.upper()} {path} {status}', resp.get('content'))


def test_problem_examples_agree_with_errors_def(spec):
    table = errors_def()
    examples = list(iter_problem_examples(spec))
    assert examples, 'no problem+json examples found'
    for where, ex in examples:
        status, slug, title = table[ex['code']]
        assert ex['status'] == status, f'{where}: status {ex["status"]} but errors.def says {status}'
        assert ex['type'] == PROBLEM_BASE + slug, f'{where}: type {ex["type"]} but errors.def slug is {slug}'
        assert ex['title'] == title, f'{where}: title {ex["title"]!r} but errors.def says {title!r}'
        assert re.fullmatch(r'[A-Za-z0-9._:+/=-]{1,128}', ex['request_id']), f'{where}: bad request_id'


def test_every_response_has_request_id_header(spec):
    for name, resp in spec['components']['responses'].items():
        assert 'X-Request-Id' in resp.get('headers', {}), f'components/responses/{name} lacks X-Request-Id'
    for path, item in spec['paths'].items():
        for method in HTTP_METHODS:
            for status, resp in (item.get(method) or {}).get('responses', {}).items():
                if '$ref' not in resp:
                    assert 'X-Request-Id' in resp.get('headers', {}), \
                        f'{method.upper()} {path} {status} lacks the X-Request-Id header'
