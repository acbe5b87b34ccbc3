"""GET /v1/me: any role can see its own key and workspace."""
import concurrent.futures

import pytest

from hdf import TOKEN_ANYWHERE_RE, Api, assert_problem, method_set


@pytest.mark.parametrize('role', ['admin', 'agent', 'readonly'])
def test_me_each_role(api, workspace, make_key, role):
    key = make_key(workspace.slug, role, label=f'my {role} key')
    r = api.get('/v1/me', token=key.token)
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
    assert r.headers.get('X-Request-Id')
    body = r.json()
    assert body == {
        'key_id': key.key_id,
        'label': f'my {role} key',
        'role': role,
        'expires_at': None,
        'workspace': {'id': workspace.id, 'slug': workspace.slug, 'name': workspace.name},
    }
    assert type(body['key_id']) is int and type(body['workspace']['id']) is int
    assert not TOKEN_ANYWHERE_RE.search(r.text)


def test_me_expires_at_format(api, workspace, make_key):
    key = make_key(workspace.slug, 'agent', expires_at='2099-01-02T03:04:05.678+00')
    body = api.get('/v1/me', token=key.token).json()
    assert body['expires_at'] == '2099-01-02T03:04:05.678Z'
    key = make_key(workspace.slug, 'agent', expires_at='2099-06-30T23:59:59+02')
    assert api.get('/v1/me', token=key.token).json()['expires_at'] == '2099-06-30T21:59:59.000Z'


def test_me_unicode_names(api, make_workspace, make_key):
    ws = make_workspace(name='Zoë’s «Support» ✓ 支援')
    key = make_key(ws.slug, 'readonly', label='clé – 🔑 "quoted" \\ back')
    body = api.get('/v1/me', token=key.token).json()
    assert body['workspace']['name'] == 'Zoë’s «Support» ✓ 支援'
    assert body['label'] == 'clé – 🔑 "quoted" \\ back'


def test_me_with_allowed_cidrs(api, workspace, make_key):
    key = make_key(workspace.slug, 'agent', allowed_cidrs=['127.0.0.1/32'])
    assert api.get('/v1/me', token=key.token).status_code == 200


@pytest.mark.parametrize('method', ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'])
def test_me_wrong_method(api, workspace, make_key, method):
    key = make_key(workspace.slug, 'readonly')
    r = api.request(method, '/v1/me', token=key.token)
    assert r.status_code == 405
    assert method_set(r.headers.get('Allow')) == {'GET'}, r.headers.get('Allow')
    assert r.headers.get('X-Request-Id')
    if method != 'HEAD':
        assert_problem(r, 405, 'method_not_allowed')


def test_me_concurrent(api, make_workspace, make_key):
    keys = []
    for _ in range(3):
        ws = make_workspace()
        keys.append((ws, make_key(ws.slug, 'agent')))

    def call(i):
        ws, key = keys[i % len(keys)]
        r = Api(api.base).get('/v1/me', token=key.token, close=(i % 2 == 0))
        return ws, key, r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(60)))
    for ws, key, status, body in results:
        assert status == 200, body
        assert body['key_id'] == key.key_id and body['workspace']['slug'] == ws.slug, body
