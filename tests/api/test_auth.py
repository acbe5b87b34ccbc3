"""Authentication: every 401 cause, identical 401 bodies, keys in the query string, revocation
and expiry within the auth cache window, allowed CIDRs, last_used_at."""
import secrets
import string
import time

import pytest

from hdf import (UNAUTHENTICATED_DETAIL, WWW_AUTHENTICATE, assert_problem, assert_unauthenticated, expire_key,
                 parse_time, revoke_key, wait_until)

B62 = string.ascii_letters + string.digits


def random_token():
    return 'hdf_' + ''.join(secrets.choice(B62) for _ in range(40))


def without_request_id(resp):
    body = resp.json()
    body.pop('request_id', None)
    return body


@pytest.fixture
def agent_key(workspace, make_key):
    return make_key(workspace.slug, 'agent')


def test_valid_key_works(api, agent_key):
    r = api.get('/v1/me', token=agent_key.token)
    assert r.status_code == 200, r.text
    assert r.json()['key_id'] == agent_key.key_id


def test_missing_authorization_header(api):
    assert_unauthenticated(api.get('/v1/me'))


@pytest.mark.parametrize('header_fmt', [
    'Basic {tok}', 'Token {tok}', '{tok}', 'Bearer', 'Bearer ', 'Bearer{tok}', 'Bearer  {tok}x',
    'Bearer {tok} extra', 'Bearer {tok},', 'Bearer "{tok}"',
])
def test_wrong_scheme_or_shape(api, agent_key, header_fmt):
    r = api.get('/v1/me', headers={'Authorization': header_fmt.format(tok=agent_key.token)})
    assert_unauthenticated(r)


@pytest.mark.parametrize('token', [
    'hdf_short',
    'hdf_' + 'a' * 39,
    'hdf_' + 'a' * 41,
    'hdf_' + 'a' * 39 + '-',
    'hdf_' + 'a' * 39 + '_',
    'HDF_' + 'a' * 40,
    'xyz_' + 'a' * 40,
    'hdf' + 'a' * 41,
    'a' * 44,
    'hdf_' + 'a' * 39 + '%C3%A9',
    'hdf_' + 'a' * 2000,
])
def test_malformed_token(api, token):
    assert_unauthenticated(api.get('/v1/me', token=token))


def test_well_formed_unknown_token(api):
    assert_unauthenticated(api.get('/v1/me', token=random_token()))


def test_valid_token_with_suffix_or_different_case(api, agent_key):
    assert_unauthenticated(api.get('/v1/me', token=agent_key.token + 'a'))
    swapped = agent_key.token[:4] + agent_key.token[4:].swapcase()
    if swapped != agent_key.token:
        assert_unauthenticated(api.get('/v1/me', token=swapped))


def test_revoked_key(api, pg, workspace, make_key):
    key = make_key(workspace.slug, 'agent')
    assert revoke_key(pg, key.key_id) is True
    assert_unauthenticated(api.get('/v1/me', token=key.token))


def test_revocation_effective_within_cache_window(api, pg, workspace, make_key):
    """Used right before revocation (so cached on both threads), refused within ~1.5 s."""
    key = make_key(workspace.slug, 'admin')
    for _ in range(8):  # new connections: spread over the server's threads
        assert api.get('/v1/me', token=key.token, close=True).status_code == 200
    t0 = time.monotonic()
    assert revoke_key(pg, key.key_id) is True
    time.sleep(max(0.0, t0 + 1.5 - time.monotonic()))
    for _ in range(8):
        assert_unauthenticated(api.get('/v1/me', token=key.token, close=True))
        assert_unauthenticated(api.get('/v1/api-keys', token=key.token, close=True))


def test_expired_key(api, pg, workspace, make_key):
    key = make_key(workspace.slug, 'agent', expires_in=3600)
    expire_key(pg, key.key_id)
    assert_unauthenticated(api.get('/v1/me', token=key.token))


def test_key_stops_working_when_it_expires(api, workspace, make_key):
    key = make_key(workspace.slug, 'agent', expires_in=2)
    created = time.monotonic()
    r = api.get('/v1/me', token=key.token, close=True)
    assert r.status_code == 200, r.text
    expires_at = parse_time(r.json()['expires_at'])
    assert 0 < expires_at.timestamp() - time.time() <= 2.5, r.json()
    time.sleep(max(0.0, created + 2 + 1.3 - time.monotonic()))
    for _ in range(8):
        assert_unauthenticated(api.get('/v1/me', token=key.token, close=True))


def test_allowed_cidrs(api, workspace, make_key):
    outside = make_key(workspace.slug, 'agent', allowed_cidrs='{10.0.0.0/8}')
    inside = make_key(workspace.slug, 'agent', allowed_cidrs='{127.0.0.0/8}')
    exact = make_key(workspace.slug, 'agent', allowed_cidrs=['10.0.0.0/8', '127.0.0.1/32'])
    v6_only = make_key(workspace.slug, 'agent', allowed_cidrs=['::1/128'])
    assert_unauthenticated(api.get('/v1/me', token=outside.token))
    assert api.get('/v1/me', token=inside.token).status_code == 200
    assert api.get('/v1/me', token=exact.token).status_code == 200
    assert_unauthenticated(api.get('/v1/me', token=v6_only.token))


def test_allowed_cidrs_ipv6(start_server, workspace, make_key):
    try:
        srv = start_server(host='::1')
    except AssertionError as e:
        if 'Address family' in str(e) or 'Cannot assign' in str(e):
            pytest.skip(f'no IPv6 loopback: {e}')
        raise
    api = srv.api()
    v6 = make_key(workspace.slug, 'agent', allowed_cidrs=['::1/128'])
    v4 = make_key(workspace.slug, 'agent', allowed_cidrs=['127.0.0.0/8'])
    open_key = make_key(workspace.slug, 'agent')
    assert api.get('/v1/me', token=v6.token).status_code == 200
    assert api.get('/v1/me', token=open_key.token).status_code == 200
    assert_unauthenticated(api.get('/v1/me', token=v4.token))


def test_all_401s_are_identical(api, pg, workspace, make_key):
    revoked = make_key(workspace.slug, 'agent')
    revoke_key(pg, revoked.key_id)
    expired = make_key(workspace.slug, 'agent', expires_in=3600)
    expire_key(pg, expired.key_id)
    outside = make_key(workspace.slug, 'agent', allowed_cidrs='{10.0.0.0/8}')
    responses = {
        'missing': api.get('/v1/me'),
        'scheme': api.get('/v1/me', headers={'Authorization': 'Basic dXNlcjpwYXNz'}),
        'malformed': api.get('/v1/me', token='hdf_nope'),
        'unknown': api.get('/v1/me', token=random_token()),
        'revoked': api.get('/v1/me', token=revoked.token),
        'expired': api.get('/v1/me', token=expired.token),
        'cidr': api.get('/v1/me', token=outside.token),
        'admin-route': api.get('/v1/api-keys', token=random_token()),
    }
    bodies = {}
    for cause, r in responses.items():
        assert_unauthenticated(r)
        bodies[cause] = without_request_id(r)
    reference = bodies['missing']
    assert reference['detail'] == UNAUTHENTICATED_DETAIL
    for cause, body in bodies.items():
        assert body == reference, f'401 body for {cause!r} differs: {body} vs {reference}'
        assert responses[cause].headers['WWW-Authenticate'] == WWW_AUTHENTICATE
    ids = {r.headers['X-Request-Id'] for r in responses.values()}
    assert len(ids) == len(responses), 'request ids must differ per request'


@pytest.mark.parametrize('param', ['api_key', 'token', 'access_token'])
def test_key_in_query_refused_even_with_valid_header(api, workspace, admin_key, param):
    tok = admin_key.token
    for path in ('/v1/me', '/v1/api-keys', f'/v1/api-keys/{admin_key.key_id}'):
        r = api.get(path, params={param: tok}, token=tok)
        assert_problem(r, 400, 'api_key_in_query')
        r = api.get(path, params={param: tok})
        assert_problem(r, 400, 'api_key_in_query')
    r = api.get('/v1/me', params={'x': '1', param: 'whatever'}, headers={'Authorization': 'Bearer junk'})
    assert_problem(r, 400, 'api_key_in_query')
    r = api.patch(f'/v1/api-keys/{admin_key.key_id}', params={param: tok}, token=tok, json={'label': 'x'})
    assert_problem(r, 400, 'api_key_in_query')


def test_key_in_query_after_routing(api, admin_key):
    assert_problem(api.get('/v1/nope', params={'api_key': admin_key.token}), 404, 'not_found')
    assert_problem(api.post('/v1/me', params={'token': admin_key.token}, token=admin_key.token),
                   405, 'method_not_allowed')


def test_auth_before_role_and_body_checks(api, admin_key):
    r = api.patch(f'/v1/api-keys/{admin_key.key_id}', data=b'not json', headers={'Content-Type': 'text/plain'})
    assert_unauthenticated(r)
    r = api.patch(f'/v1/api-keys/{admin_key.key_id}', token=random_token(), json={'bogus': 1})
    assert_unauthenticated(r)


def test_last_used_at_recorded(api, pg, workspace, make_key):
    key = make_key(workspace.slug, 'readonly')
    assert pg.scalar(f'SELECT last_used_at IS NULL FROM api_keys WHERE id = {key.key_id}') == 't'
    before = pg.scalar('SELECT now()')
    assert api.get('/v1/me', token=key.token).status_code == 200
    wait_until(lambda: pg.scalar(f'SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = {key.key_id}') == 't',
               7, interval=0.2, what='last_used_at to be set')
    assert pg.scalar(f"SELECT last_used_at >= '{before}'::timestamptz - interval '1 second' "
                     f"AND last_used_at <= now() FROM api_keys WHERE id = {key.key_id}") == 't'
