"""HTTP layer: routing errors, body limits, content types, JSON and UTF-8 checks, X-Request-Id,
bad input the server must survive."""
import http.client
import json
import re
import secrets
import socket
import time

import pytest

from hdf import (GENERATED_REQUEST_ID_RE, assert_field_error, assert_problem, assert_unauthenticated, method_set,
                 raw_http)

BYTE_OFFSET_RE = re.compile(r'\bat byte (\d+)\b')


@pytest.fixture
def target(workspace, admin_key):
    """(path of the admin's own key, admin token) for PATCH body tests."""
    return f'/v1/api-keys/{admin_key.key_id}', admin_key.token


def patch_raw(api, target, data, content_type='application/json', headers=None):
    path, token = target
    h = {'Content-Type': content_type} if content_type is not None else {}
    h.update(headers or {})
    return api.patch(path, token=token, data=data, headers=h)


# ---- routing ------------------------------------------------------------------------------

@pytest.mark.parametrize('path', ['/nope', '/v1', '/v1/', '/v1/nope', '/v1/api-keys/1/extra', '/v1/me/x',
                                  '/V1/me', '/healthz/x', '/%00'])
def test_unknown_path_404(api, path):
    r = api.get(path)
    assert_problem(r, 404, 'not_found')
    r = api.post(path, json={'a': 1}, headers={'Authorization': 'Bearer junk'})
    assert_problem(r, 404, 'not_found')


def test_405_lists_allowed_methods(api, admin_key):
    cases = [('DELETE', f'/v1/api-keys/{admin_key.key_id}', {'GET', 'PATCH'}),
             ('PUT', f'/v1/api-keys/{admin_key.key_id}', {'GET', 'PATCH'}),
             ('POST', '/v1/api-keys', {'GET'}),
             ('PATCH', '/v1/me', {'GET'}),
             ('DELETE', '/healthz', {'GET'}),
             ('OPTIONS', '/v1/me', {'GET'})]
    for method, path, allowed in cases:
        for token in (admin_key.token, None):  # routing comes before auth
            r = api.request(method, path, token=token)
            assert_problem(r, 405, 'method_not_allowed')
            assert method_set(r.headers.get('Allow')) == allowed, (method, path, r.headers.get('Allow'))


# ---- body size ----------------------------------------------------------------------------

def test_body_too_large_default_limit(api, admin_key):
    """Content-Length over the default 1 MiB: 413 before the body is even sent."""
    req = (f'PATCH /v1/api-keys/{admin_key.key_id} HTTP/1.1\r\nHost: t\r\n'
           f'Authorization: Bearer {admin_key.token}\r\nContent-Type: application/json\r\n'
           f'X-Request-Id: big-one-1\r\nContent-Length: {1024 * 1024 + 1}\r\n\r\n').encode()
    r = raw_http(api.host, api.port, req, timeout=10)
    assert_problem(r, 413, 'body_too_large')
    assert r.headers['X-Request-Id'] == 'big-one-1'


def test_body_limit_configurable(start_server, workspace, make_key):
    srv = start_server(env={'HDF_MAX_BODY_BYTES': '2048'})
    api = srv.api()
    key = make_key(workspace.slug, 'admin', label='small')
    path = f'/v1/api-keys/{key.key_id}'

    def body_of(size):
        b = json.dumps({'label': 'fits'}).encode()
        return b + b' ' * (size - len(b))

    r = api.patch(path, token=key.token, data=body_of(2048), headers={'Content-Type': 'application/json'})
    assert r.status_code == 200, r.text
    for size in (2049, 4000):
        r = api.patch(path, token=key.token, data=body_of(size),
                      headers={'Content-Type': 'application/json', 'X-Request-Id': f'too-big-{size}'})
        assert_problem(r, 413, 'body_too_large')
        assert r.headers['X-Request-Id'] == f'too-big-{size}'
    # Before auth, routing and content-type checks.
    assert_problem(api.patch(path, data=body_of(3000), headers={'Content-Type': 'text/plain'}), 413, 'body_too_large')
    assert_problem(api.post('/nope', data=body_of(3000)), 413, 'body_too_large')
    # Connection is closed after a 413 (HTTP/1.1).
    raw = (f'PATCH {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
           f'Content-Length: 3000\r\n\r\n').encode() + body_of(3000)
    r = raw_http(api.host, api.port, raw, read_eof=True)
    assert_problem(r, 413, 'body_too_large')
    assert r.closed, 'connection should be closed after 413'
    # Chunked bodies are limited too.
    chunk = b' ' * 1000
    raw = (f'PATCH {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key.token}\r\n'
           f'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n').encode()
    raw += b''.join(b'%x\r\n%s\r\n' % (len(chunk), chunk) for _ in range(4)) + b'0\r\n\r\n'
    assert_problem(raw_http(api.host, api.port, raw), 413, 'body_too_large')
    # The label never changed through any of the refused requests; the server still serves.
    assert api.get(path, token=key.token).json()['label'] == 'fits'


def test_chunked_body_accepted(api, target):
    path, token = target
    body = json.dumps({'label': 'chunked'}).encode()
    raw = (f'PATCH {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n'
           f'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n').encode()
    raw += b'%x\r\n%s\r\n' % (5, body[:5]) + b'%x\r\n%s\r\n' % (len(body) - 5, body[5:]) + b'0\r\n\r\n'
    r = raw_http(api.host, api.port, raw)
    assert r.status_code == 200, r.text
    assert r.json()['label'] == 'chunked'


# ---- content type -------------------------------------------------------------------------

@pytest.mark.parametrize('ctype', ['text/plain', None, 'application/x-www-form-urlencoded', 'application/jsonx',
                                   'application/json-patch+json', 'multipart/form-data; boundary=x', 'json'])
def test_415_unsupported_media_type(api, target, ctype):
    r = patch_raw(api, target, b'{"label":"x"}', content_type=ctype)
    assert_problem(r, 415, 'unsupported_media_type')


def test_415_before_json_parsing(api, target):
    assert_problem(patch_raw(api, target, b'{{{not json', content_type='text/plain'), 415, 'unsupported_media_type')


@pytest.mark.parametrize('ctype', ['application/json', 'application/json; charset=utf-8', 'Application/JSON',
                                   'application/json;charset=UTF-8', 'APPLICATION/JSON; CHARSET=utf-8'])
def test_json_content_types_accepted(api, target, ctype):
    r = patch_raw(api, target, b'{"label":"ct ok"}', content_type=ctype)
    assert r.status_code == 200, (ctype, r.text)


def test_get_with_non_json_body_415(api, admin_key):
    r = api.get('/v1/me', token=admin_key.token, data=b'hello', headers={'Content-Type': 'text/plain'})
    assert_problem(r, 415, 'unsupported_media_type')


# ---- JSON and UTF-8 -----------------------------------------------------------------------

@pytest.mark.parametrize('body', [
    b'{"label": }', b'{"label":"x"', b'{"label":"x"} trailing', b'{label:"x"}', b'{"label":"x",}',
    b'nul', b'{"label":"\\x"}', b"{'label':'x'}", b'{"label":"x"}}', b'{"label":NaN}',
    b'{"label":"a\nb"}',
])
def test_malformed_json(api, target, body):
    r = patch_raw(api, target, body)
    pb = assert_problem(r, 400, 'malformed_json')
    m = BYTE_OFFSET_RE.search(pb['detail'])
    assert m, f'detail lacks "at byte N": {pb["detail"]!r}'
    assert 0 <= int(m.group(1)) <= len(body), pb['detail']


@pytest.mark.parametrize('body,start,bad', [
    (b'{"label":"\xff"}', 10, 10),
    (b'{"label":"ok \xc0\xaf"}', 13, 13),          # overlong encoding
    (b'{"label":"\xed\xa0\x80"}', 10, 11),         # UTF-16 surrogate encoded in UTF-8
    (b'{"label":"abc\xe2\x82"}', 13, 15),          # truncated sequence
    (b'{"label":"\xf4\x90\x80\x80"}', 10, 11),     # above U+10FFFF
    (b'{"\xfe":1}', 2, 2),                         # in a key
    (b'{"label":"x"}\x80', 13, 13),                # after the value
])
def test_invalid_utf8(api, target, body, start, bad):
    r = patch_raw(api, target, body)
    pb = assert_problem(r, 400, 'malformed_json')
    m = re.search(r'invalid UTF-8 at byte (\d+)', pb['detail'])
    assert m, pb['detail']
    # Spec example: "invalid UTF-8 at byte 17". Accept the offset (0- or 1-based) of the start of
    # the bad sequence or of the byte where it went wrong.
    assert int(m.group(1)) in (start, start + 1, bad, bad + 1), pb['detail']


def test_escaped_lone_surrogate_rejected(api, target):
    r = patch_raw(api, target, b'{"label":"\\ud800"}')
    assert r.status_code == 400, r.text
    assert_problem(r, 400, r.json()['code'])


@pytest.mark.parametrize('body,field', [
    ('{"label":"a\\u0000b"}', 'label'),
    ('{"label":"\\u0000"}', 'label'),
])
def test_nul_in_string(api, target, body, field):
    r = patch_raw(api, target, body.encode())
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field)


def test_nul_in_key_or_raw_nul_is_400(api, target):
    for body in (b'{"label":"x","a\\u0000b":1}', b'{"label":"a\x00b"}', b'{"label":"x"}\x00'):
        r = patch_raw(api, target, body)
        assert r.status_code == 400, (body, r.text)
        code = r.json().get('code')
        assert code in ('malformed_json', 'validation_failed'), r.text
        assert_problem(r, 400, code)


def nested(depth):
    """A body whose total nesting depth (the outer object counts as 1) is `depth`."""
    inner = depth - 1
    return ('{"label":' + '[' * inner + ']' * inner + '}').encode()


def test_nesting_limit(api, target):
    # Depth 32 is allowed by the parser (then refused by validation: label is not a string).
    r = patch_raw(api, target, nested(32))
    assert_problem(r, 400, 'validation_failed')
    r = patch_raw(api, target, nested(33))
    assert_problem(r, 400, 'malformed_json')
    for depth in (1000, 200000):
        r = patch_raw(api, target, nested(depth))
        assert_problem(r, 400, 'malformed_json')
    r = patch_raw(api, target, b'[' * 300000)
    assert_problem(r, 400, 'malformed_json')
    assert api.get('/healthz').status_code == 200


@pytest.mark.parametrize('body', [b'[]', b'"label"', b'1', b'null', b'true', b'[{"label":"x"}]'])
def test_body_not_an_object(api, target, body):
    # Valid JSON that is not an object is a validation error, not malformed JSON (RFC 8259 allows
    # any value at the top level).
    assert_problem(patch_raw(api, target, body), 400, 'validation_failed')


def test_unknown_field_and_wrong_type(api, target):
    r = patch_raw(api, target, b'{"label":"x","extra":1}')
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'extra', 'unknown_field')
    r = patch_raw(api, target, b'{"label":12}')
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'label', 'invalid_type')
    r = patch_raw(api, target, b'{"label":null}')
    body = assert_problem(r, 400, 'validation_failed')
    assert any(e['field'] == 'label' for e in body['errors']), body


def test_patch_without_body_needs_no_content_type(api, target):
    # No 415: the body is missing, so this is a validation error (label, or the body itself).
    r = patch_raw(api, target, b'', content_type=None)
    body = assert_problem(r, 400, 'validation_failed')
    assert any(e['field'] in ('label', 'body') and e['code'] == 'required' for e in body['errors']), body


def test_big_but_allowed_body(api, target):
    body = json.dumps({'label': 'big'}).encode() + b' ' * (900 * 1024)
    r = patch_raw(api, target, body)
    assert r.status_code == 200, r.text


# ---- X-Request-Id -------------------------------------------------------------------------

@pytest.mark.parametrize('rid', ['abc', 'A-Z.a_z:0+9/=', 'x' * 128, '1', 'req:2026/11/24+a=b.c-d_e'])
def test_request_id_echoed(api, rid):
    r = api.get('/healthz', headers={'X-Request-Id': rid})
    assert r.headers['X-Request-Id'] == rid
    r = api.get('/v1/me', headers={'X-Request-Id': rid})
    assert r.headers['X-Request-Id'] == rid
    assert assert_unauthenticated(r)['request_id'] == rid


@pytest.mark.parametrize('rid', ['x' * 129, 'has space', 'semi;colon', 'quote"d', '<script>', 'caf\u00e9',
                                 'a,b', '', 'tab\there'])
def test_insane_request_id_replaced(api, rid):
    r = api.get('/v1/me', headers={'X-Request-Id': rid.encode('latin-1')})
    body = assert_unauthenticated(r)
    assert GENERATED_REQUEST_ID_RE.match(r.headers['X-Request-Id']), r.headers['X-Request-Id']
    assert body['request_id'] == r.headers['X-Request-Id']


def test_generated_request_ids_unique(api):
    ids = {api.get('/healthz').headers['X-Request-Id'] for _ in range(20)}
    assert len(ids) == 20 and all(GENERATED_REQUEST_ID_RE.match(i) for i in ids)


def test_request_id_on_every_kind_of_response(api, admin_key):
    responses = [
        api.get('/healthz'), api.get('/readyz'), api.get('/metrics'),
        api.get('/v1/me', token=admin_key.token),
        api.get('/nope'),
        api.delete('/v1/me'),
        api.get('/v1/me'),
        api.get('/v1/me', params={'api_key': 'x'}),
        api.patch(f'/v1/api-keys/{admin_key.key_id}', token=admin_key.token, data=b'{',
                  headers={'Content-Type': 'application/json'}),
    ]
    for r in responses:
        assert r.headers.get('X-Request-Id'), (r.request.method, r.url, r.status_code)


# ---- robustness ---------------------------------------------------------------------------

def test_oversized_header_does_not_hurt(api):
    for size in (200_000, 2_000_000):
        req = b'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ' + b'a' * size + b'\r\n\r\n'
        try:
            status = raw_http(api.host, api.port, req, timeout=10).status_code
        except (OSError, http.client.HTTPException):  # closing the connection is acceptable
            status = None
        assert status is None or status < 500, status
        if size >= 2_000_000:
            assert status is None or 400 <= status < 500, status
    assert api.get('/healthz').status_code == 200


def test_garbage_request_line(api):
    for junk in (b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + b'\x00' * 40, b'GET\r\n\r\n',
                 b'BREW /coffee HTCPCP/1.0\r\n\r\n'):
        try:
            raw_http(api.host, api.port, junk, timeout=5)
        except Exception:
            pass
    assert api.get('/healthz').status_code == 200


def test_idle_and_slow_clients_do_not_block_others(api):
    socks = []
    try:
        for i in range(20):
            s = socket.create_connection((api.host, api.port), timeout=5)
            if i % 2:
                s.sendall(b'GET /healthz HTTP/1.1\r\nHost: t\r\n')  # never finishes
            socks.append(s)
        t0 = time.monotonic()
        for _ in range(10):
            assert api.get('/healthz', close=True, timeout=5).status_code == 200
        assert time.monotonic() - t0 < 5
    finally:
        for s in socks:
            s.close()


def test_pipelined_requests(api):
    rid1, rid2 = secrets.token_hex(8), secrets.token_hex(8)
    data = (f'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: {rid1}\r\n\r\n'
            f'GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-Id: {rid2}\r\nConnection: close\r\n\r\n').encode()
    s = socket.create_connection((api.host, api.port), timeout=5)
    try:
        s.sendall(data)
        buf = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    text = buf.decode('utf-8', 'replace')
    assert text.count('HTTP/1.1 ') == 2, text
    assert text.index(rid1) < text.index(rid2)
    assert 'HTTP/1.1 200' in text and 'HTTP/1.1 404' in text
