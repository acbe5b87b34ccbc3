"""Admin API keys resource: GET /v1/api-keys, GET|PATCH /v1/api-keys/{id}."""
import base64
import hashlib
import json
from urllib.parse import urljoin

import pytest

from hdf import (SESSION_TOKENS, TOKEN_ANYWHERE_RE, assert_field_error, assert_problem, method_set, parse_time,
                 revoke_key, sql_literal, wait_until)

KEY_FIELDS = {'key_id', 'label', 'role', 'allowed_cidrs', 'expires_at', 'created_at', 'last_used_at', 'revoked_at'}


def db_keys(pg, workspace_id):
    """The workspace's keys as the database has them (times as epoch seconds), ordered by id."""
    text = pg.scalar(f"""
        SELECT coalesce(json_agg(json_build_object(
            'key_id', id, 'label', label, 'role', role::text, 'allowed_cidrs', allowed_cidrs::text[],
            'expires_at', extract(epoch FROM expires_at), 'created_at', extract(epoch FROM created_at),
            'revoked_at', extract(epoch FROM revoked_at)) ORDER BY id), '[]')
        FROM api_keys WHERE workspace_id = {int(workspace_id)}""")
    return json.loads(text)


def assert_time_matches(api_value, epoch):
    if epoch is None:
        assert api_value is None
    else:
        assert abs(parse_time(api_value).timestamp() - float(epoch)) <= 0.0011, (api_value, epoch)


def assert_key_object(obj, db=None):
    assert isinstance(obj, dict), obj
    assert KEY_FIELDS <= set(obj), f'key object lacks {KEY_FIELDS - set(obj)}: {obj}'
    for forbidden in ('token', 'key_hash', 'hash', 'secret'):
        assert forbidden not in obj, obj
    assert type(obj['key_id']) is int and obj['key_id'] > 0
    assert obj['role'] in ('admin', 'agent', 'readonly')
    assert isinstance(obj['label'], str)
    assert obj['allowed_cidrs'] is None or (isinstance(obj['allowed_cidrs'], list)
                                            and all(isinstance(c, str) for c in obj['allowed_cidrs'])), obj
    parse_time(obj['created_at'])
    for f in ('expires_at', 'last_used_at', 'revoked_at'):
        if obj[f] is not None:
            parse_time(obj[f])
    if db is not None:
        assert obj['key_id'] == db['key_id'] and obj['label'] == db['label'] and obj['role'] == db['role'], (obj, db)
        assert obj['allowed_cidrs'] == db['allowed_cidrs'], (obj, db)
        for f in ('expires_at', 'created_at', 'revoked_at'):
            assert_time_matches(obj[f], db[f])


def create_many_keys(pg, slug, n, role='agent'):
    rows = pg.psql(f"SELECT t.key_id, t.token FROM generate_series(1, {n}) g, "
                   f"LATERAL hdf_admin.create_api_key({sql_literal(slug)}, '{role}', 'bulk ' || g) t")
    SESSION_TOKENS.update(tok for _, tok in rows)
    return [int(k) for k, _ in rows]


@pytest.fixture
def keyset(pg, workspace, admin_key, make_key):
    """A workspace with an admin, an agent (CIDRs), a readonly (expiry) and a revoked key."""
    agent = make_key(workspace.slug, 'agent', label='agent key', allowed_cidrs=['10.0.0.0/8', '2001:db8::/32'])
    readonly = make_key(workspace.slug, 'readonly', label='readonly key', expires_at='2099-01-02T03:04:05.678Z')
    revoked = make_key(workspace.slug, 'agent', label='revoked key')
    assert revoke_key(pg, revoked.key_id)
    return {'admin': admin_key, 'agent': agent, 'readonly': readonly, 'revoked': revoked}


def test_list_keys(api, pg, workspace, keyset):
    r = api.get('/v1/api-keys', token=keyset['admin'].token)
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
    body = r.json()
    assert set(body) >= {'data', 'next_cursor'} and body['next_cursor'] is None, body
    assert 'next' not in r.links, r.headers.get('Link')
    db = db_keys(pg, workspace.id)
    assert [k['key_id'] for k in body['data']] == [k['key_id'] for k in db]
    for obj, row in zip(body['data'], db):
        assert_key_object(obj, row)
    by_id = {k['key_id']: k for k in body['data']}
    assert by_id[keyset['agent'].key_id]['allowed_cidrs'] == ['10.0.0.0/8', '2001:db8::/32']
    assert by_id[keyset['readonly'].key_id]['expires_at'] == '2099-01-02T03:04:05.678Z'
    assert by_id[keyset['revoked'].key_id]['revoked_at'] is not None
    assert by_id[keyset['admin'].key_id]['revoked_at'] is None
    assert by_id[keyset['admin'].key_id]['allowed_cidrs'] is None


def test_get_key(api, pg, workspace, keyset):
    db = {k['key_id']: k for k in db_keys(pg, workspace.id)}
    for name, key in keyset.items():
        r = api.get(f'/v1/api-keys/{key.key_id}', token=keyset['admin'].token)
        assert r.status_code == 200, (name, r.text)
        assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
        assert_key_object(r.json(), db[key.key_id])


def test_last_used_at_visible(api, pg, workspace, keyset):
    assert api.get('/v1/me', token=keyset['readonly'].token).status_code == 200

    def used():
        return api.get(f'/v1/api-keys/{keyset["readonly"].key_id}', token=keyset['admin'].token).json()['last_used_at']
    parse_time(wait_until(used, 7, interval=0.2, what='last_used_at in GET /v1/api-keys/{id}'))


def test_pagination_limit_1(api, pg, workspace, keyset):
    token = keyset['admin'].token
    expected = [k['key_id'] for k in db_keys(pg, workspace.id)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {'limit': 1} if cursor is None else {'limit': 1, 'cursor': cursor}
        r = api.get('/v1/api-keys', token=token, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body['data']) <= 1
        seen += [k['key_id'] for k in body['data']]
        pages += 1
        assert pages <= len(expected) + 1, f'pagination does not end: {seen}'
        cursor = body['next_cursor']
        if cursor is None:
            assert 'next' not in r.links, r.headers.get('Link')
            break
        assert isinstance(cursor, str) and cursor
        # The Link header leads to the same next page as the cursor does.
        assert 'next' in r.links, f'no Link rel="next" although next_cursor is set: {r.headers.get("Link")}'
        link = urljoin(api.base + '/', r.links['next']['url'])
        via_link = api.session.get(link, headers={'Authorization': f'Bearer {token}'}, timeout=15)
        via_cursor = api.get('/v1/api-keys', token=token, params={'limit': 1, 'cursor': cursor})
        assert via_link.status_code == 200 and via_link.json() == via_cursor.json(), (link, via_link.text)
    assert seen == expected


def test_default_and_max_limit(api, pg, workspace, admin_key):
    create_many_keys(pg, workspace.slug, 29)
    expected = [k['key_id'] for k in db_keys(pg, workspace.id)]
    assert len(expected) == 30
    r = api.get('/v1/api-keys', token=admin_key.token)
    body = r.json()
    assert [k['key_id'] for k in body['data']] == expected[:25]
    assert body['next_cursor'] is not None and 'next' in r.links
    rest = api.get('/v1/api-keys', token=admin_key.token, params={'cursor': body['next_cursor']}).json()
    assert [k['key_id'] for k in rest['data']] == expected[25:] and rest['next_cursor'] is None
    body = api.get('/v1/api-keys', token=admin_key.token, params={'limit': 100}).json()
    assert [k['key_id'] for k in body['data']] == expected and body['next_cursor'] is None
    body = api.get('/v1/api-keys', token=admin_key.token, params={'limit': 7}).json()
    assert [k['key_id'] for k in body['data']] == expected[:7]


@pytest.mark.parametrize('limit', ['0', '101', '-1', 'abc', '1.5', '1e1', '99999999999999999999', '5x'])
def test_bad_limit(api, admin_key, limit):
    r = api.get('/v1/api-keys', token=admin_key.token, params={'limit': limit})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'limit')


@pytest.mark.parametrize('cursor', ['!!!', 'not a cursor', '@@@@', '\u00e9\u00e9', '{"id":1}'])
def test_bad_cursor(api, admin_key, cursor):
    r = api.get('/v1/api-keys', token=admin_key.token, params={'cursor': cursor})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'cursor')


def test_unknown_query_param(api, admin_key):
    r = api.get('/v1/api-keys', token=admin_key.token, params={'sort': 'id'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'sort')
    r = api.get('/v1/api-keys', token=admin_key.token, params={'limit': '5', 'expand': 'x'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'expand')


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, workspace, admin_key, make_key, role):
    key = make_key(workspace.slug, role)
    assert_problem(api.get('/v1/api-keys', token=key.token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/api-keys/{key.key_id}', token=key.token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/api-keys/{admin_key.key_id}', token=key.token), 403, 'forbidden')
    r = api.patch(f'/v1/api-keys/{key.key_id}', token=key.token, json={'label': 'mine now'})
    assert_problem(r, 403, 'forbidden')
    # Role is checked before the body.
    r = api.patch(f'/v1/api-keys/{key.key_id}', token=key.token, data=b'x', headers={'Content-Type': 'text/plain'})
    assert_problem(r, 403, 'forbidden')


def test_readonly_patch_forbidden_and_nothing_changes(api, pg, workspace, admin_key, make_key):
    ro = make_key(workspace.slug, 'readonly', label='ro')
    r = api.patch(f'/v1/api-keys/{ro.key_id}', token=ro.token, json={'label': 'changed'})
    assert_problem(r, 403, 'forbidden')
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {ro.key_id}') == 'ro'


def test_cross_workspace_is_404(api, pg, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    admin_a = make_key(a.slug, 'admin')
    admin_b = make_key(b.slug, 'admin', label='b admin')
    other_b = make_key(b.slug, 'agent', label='b agent')
    for kid in (admin_b.key_id, other_b.key_id):
        assert_problem(api.get(f'/v1/api-keys/{kid}', token=admin_a.token), 404, 'not_found')
        assert_problem(api.patch(f'/v1/api-keys/{kid}', token=admin_a.token, json={'label': 'pwned'}),
                       404, 'not_found')
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {other_b.key_id}') == 'b agent'
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {admin_b.key_id}') == 'b admin'
    # A 404 for another workspace's id looks exactly like one for an id that does not exist.
    missing = int(pg.scalar('SELECT max(id) + 1000000 FROM api_keys'))
    r1 = api.get(f'/v1/api-keys/{other_b.key_id}', token=admin_a.token).json()
    r2 = api.get(f'/v1/api-keys/{missing}', token=admin_a.token).json()
    for body in (r1, r2):
        body.pop('request_id')
        body['detail'] = body['detail'].replace(str(other_b.key_id), 'N').replace(str(missing), 'N')
    assert r1 == r2
    # Lists never show another workspace's keys, on any page.
    for token, ws in ((admin_a.token, a), (admin_b.token, b)):
        ids, cursor = [], None
        for _ in range(10):
            params = {'limit': 1} if cursor is None else {'limit': 1, 'cursor': cursor}
            body = api.get('/v1/api-keys', token=token, params=params).json()
            ids += [k['key_id'] for k in body['data']]
            cursor = body['next_cursor']
            if cursor is None:
                break
        assert ids == [k['key_id'] for k in db_keys(pg, ws.id)]
    # A cursor from workspace B's list does not reveal B's keys to A.
    body_b = api.get('/v1/api-keys', token=admin_b.token, params={'limit': 1}).json()
    assert body_b['next_cursor']
    r = api.get('/v1/api-keys', token=admin_a.token, params={'limit': 1, 'cursor': body_b['next_cursor']})
    if r.status_code == 200:
        assert {k['key_id'] for k in r.json()['data']} <= {admin_a.key_id}
    else:
        assert_problem(r, 400, 'validation_failed')


@pytest.mark.parametrize('bad_id', ['0', '-1', 'abc', '99999999999999999999', '9223372036854775808', '1.5',
                                    '1e3', '0x10', '%20'])
def test_bad_id(api, admin_key, bad_id):
    r = api.get(f'/v1/api-keys/{bad_id}', token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id')
    r = api.patch(f'/v1/api-keys/{bad_id}', token=admin_key.token, json={'label': 'x'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id')


def test_large_unknown_id_is_404(api, admin_key):
    for kid in ('9223372036854775807', '123456789012'):
        assert_problem(api.get(f'/v1/api-keys/{kid}', token=admin_key.token), 404, 'not_found')
        assert_problem(api.patch(f'/v1/api-keys/{kid}', token=admin_key.token, json={'label': 'x'}),
                       404, 'not_found')


def test_patch_label(api, pg, workspace, keyset):
    admin = keyset['admin']
    target = keyset['agent']
    r = api.patch(f'/v1/api-keys/{target.key_id}', token=admin.token, json={'label': 'Renamed ✓'})
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].split(';')[0].strip() == 'application/json'
    db = {k['key_id']: k for k in db_keys(pg, workspace.id)}
    assert db[target.key_id]['label'] == 'Renamed ✓'
    assert_key_object(r.json(), db[target.key_id])
    got = api.get(f'/v1/api-keys/{target.key_id}', token=admin.token).json()
    assert got['label'] == 'Renamed ✓'
    # Charset parameter, boundary lengths in characters (not bytes), revoked keys too.
    for label in ('a' * 200, 'é' * 200, 'x'):
        r = api.patch(f'/v1/api-keys/{target.key_id}', token=admin.token, data=json.dumps({'label': label}),
                      headers={'Content-Type': 'application/json; charset=utf-8'})
        assert r.status_code == 200 and r.json()['label'] == label, r.text
    r = api.patch(f'/v1/api-keys/{keyset["revoked"].key_id}', token=admin.token, json={'label': 'old'})
    assert r.status_code == 200 and r.json()['label'] == 'old' and r.json()['revoked_at'] is not None


@pytest.mark.parametrize('body,field,code', [
    ({'label': 'a' * 201}, 'label', 'too_long'),
    ({'label': 'é' * 201}, 'label', 'too_long'),
    ({'label': ''}, 'label', 'too_short'),
    ({}, 'label', 'required'),
    ({'label': 5}, 'label', 'invalid_type'),
    ({'label': True}, 'label', 'invalid_type'),
    ({'label': ['x']}, 'label', 'invalid_type'),
    ({'label': {'text': 'x'}}, 'label', 'invalid_type'),
    ({'label': 'ok', 'role': 'admin'}, 'role', 'unknown_field'),
    ({'label': 'ok', 'workspace_id': 1}, 'workspace_id', 'unknown_field'),
    ({'label': 'ok', 'key_id': 1}, 'key_id', 'unknown_field'),
    ({'label': 'ok', 'revoked_at': None}, 'revoked_at', 'unknown_field'),
])
def test_patch_validation(api, pg, workspace, admin_key, make_key, body, field, code):
    target = make_key(workspace.slug, 'agent', label='before')
    r = api.patch(f'/v1/api-keys/{target.key_id}', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    row = pg.psql(f'SELECT label, role::text, revoked_at IS NULL FROM api_keys WHERE id = {target.key_id}')
    assert row == [('before', 'agent', 't')]


def test_patch_reports_every_invalid_field(api, workspace, admin_key):
    r = api.patch(f'/v1/api-keys/{admin_key.key_id}', token=admin_key.token, json={'label': 5, 'color': 'red'})
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'label', 'invalid_type')
    assert_field_error(body, 'color', 'unknown_field')


@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE'])
def test_wrong_methods(api, admin_key, method):
    r = api.request(method, f'/v1/api-keys/{admin_key.key_id}', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET', 'PATCH'}, r.headers.get('Allow')
    r = api.request(method, '/v1/api-keys', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET'}, r.headers.get('Allow')


def test_no_secrets_in_responses(api, pg, workspace, keyset):
    token = keyset['admin'].token
    tokens = [k.token for k in keyset.values()]
    texts = [api.get('/v1/api-keys', token=token, params={'limit': 100}).text]
    for k in keyset.values():
        texts.append(api.get(f'/v1/api-keys/{k.key_id}', token=token).text)
    texts.append(api.patch(f'/v1/api-keys/{keyset["agent"].key_id}', token=token, json={'label': 'z'}).text)
    texts.append(api.get('/v1/me', token=token).text)
    for text in texts:
        assert not TOKEN_ANYWHERE_RE.search(text), text
        for t in tokens:
            digest = hashlib.sha256(t.encode()).digest()
            for needle in (t, t[4:], digest.hex(), base64.b64encode(digest).decode(),
                           base64.urlsafe_b64encode(digest).decode().rstrip('=')):
                assert needle not in text, f'secret material in response: {text[:300]}'
        assert 'key_hash' not in text and '"token"' not in text
