"""Customers (CONTRACT.md, Customers): upsert by normalised email (201/200, merge rules), GET,
list (email / tag / updated_since filters, cursor), PATCH (email change; to a taken email it
merges: test_customer_merge.py), validation of every field, custom fields against definitions,
external profiles unique per workspace, version and audit rows, no-op writes nothing, roles,
X-Acting-Agent-Id, workspace isolation, idempotency, concurrent upserts of one email."""
import json
import threading
import uuid

import pytest

from hdf import assert_field_error, assert_problem, parse_time

FIELDS = {'id', 'email', 'name', 'phone', 'tags', 'custom_fields', 'metadata', 'external_profiles', 'version',
          'created_at', 'updated_at'}


def upsert(api, token, expect=None, **body):
    r = api.post('/v1/customers', token=token, json=body)
    if expect is not None:
        assert r.status_code == expect, r.text
    return r


def assert_customer(c):
    assert set(c) == FIELDS, c
    assert type(c['id']) is int and type(c['version']) is int
    assert isinstance(c['tags'], list) and isinstance(c['custom_fields'], dict) and isinstance(c['metadata'], dict)
    for p in c['external_profiles']:
        assert list(p) == ['provider', 'external_id', 'url'], p
    parse_time(c['created_at'])
    parse_time(c['updated_at'])


def audit_rows(pg, customer_id):
    rows = pg.psql(f"SELECT version, actor_type, actor_id, source, request_id, changes::text FROM audit_log "
                   f"WHERE object_type = 'customer' AND object_id = {int(customer_id)} ORDER BY id")
    return [(int(v), at, int(ai) if ai else None, s, rid, json.loads(ch)) for v, at, ai, s, rid, ch in rows]


def xmin(pg, customer_id):
    return pg.scalar(f'SELECT xmin::text FROM customers WHERE id = {int(customer_id)}')


def define_field(api, token, key, type_, options=None):
    body = {'object': 'customer', 'key': key, 'type': type_}
    if options is not None:
        body['options'] = options
    r = api.post('/v1/custom-fields', token=token, json=body)
    assert r.status_code == 201, r.text


@pytest.fixture
def agent_key(workspace, make_key):
    return make_key(workspace.slug, 'agent')


@pytest.fixture
def readonly_key(workspace, make_key):
    return make_key(workspace.slug, 'readonly')


# ---- upsert -------------------------------------------------------------------------------

def test_create_then_get(api, admin_key, pg):
    r = upsert(api, admin_key.token, 201, email='  Jane.Doe@Example.COM ', name='Jane', phone='+1 (555) 010-2000',
               tags=['VIP', 'b2b', 'vip'], metadata={'plan': {'seats': 3}},
               external_profiles=[{'provider': 'stripe', 'external_id': 'cus_1', 'url': 'https://stripe.example/c/1'},
                                  {'provider': 'crm', 'external_id': '42'}])
    c = r.json()
    assert_customer(c)
    assert c['email'] == 'jane.doe@example.com' and c['name'] == 'Jane' and c['phone'] == '+1 (555) 010-2000'
    assert c['tags'] == ['vip', 'b2b'] and c['metadata'] == {'plan': {'seats': 3}} and c['version'] == 1
    assert c['external_profiles'] == [{'provider': 'crm', 'external_id': '42', 'url': None},
                                      {'provider': 'stripe', 'external_id': 'cus_1', 'url': 'https://stripe.example/c/1'}]
    assert r.headers['Location'] == f'/v1/customers/{c["id"]}'
    g = api.get(r.headers['Location'], token=admin_key.token)
    assert g.status_code == 200 and g.json() == c
    rows = audit_rows(pg, c['id'])
    assert len(rows) == 1
    version, actor_type, actor_id, source, rid, changes = rows[0]
    assert (version, actor_type, actor_id, source, rid) == (1, 'api_key', admin_key.key_id, 'api', r.headers['X-Request-Id'])
    assert changes['email'] == {'from': None, 'to': 'jane.doe@example.com'}
    assert changes['tags'] == {'from': None, 'to': ['vip', 'b2b']}
    assert set(changes) == {'email', 'name', 'phone', 'tags', 'custom_fields', 'metadata', 'external_profiles'}


def test_upsert_existing_merges(api, admin_key, pg):
    c = upsert(api, admin_key.token, 201, email='m@example.com', name='M', tags=['a'], metadata={'x': 1, 'y': 2},
               external_profiles=[{'provider': 'p', 'external_id': '1', 'url': 'http://a.example'}]).json()
    r = upsert(api, admin_key.token, 200, email='M@EXAMPLE.com', tags=['b', 'c'], metadata={'y': None, 'z': [1]},
               external_profiles=[{'provider': 'p', 'external_id': '1', 'url': 'https://b.example'},
                                  {'provider': 'q', 'external_id': '2'}])
    u = r.json()
    assert 'Location' not in r.headers
    assert u['id'] == c['id'] and u['version'] == 2 and u['name'] == 'M'
    assert u['tags'] == ['b', 'c'] and u['metadata'] == {'x': 1, 'z': [1]}
    assert u['external_profiles'] == [{'provider': 'p', 'external_id': '1', 'url': 'https://b.example'},
                                      {'provider': 'q', 'external_id': '2', 'url': None}]
    assert parse_time(u['updated_at']) >= parse_time(c['updated_at']) and u['created_at'] == c['created_at']
    rows = audit_rows(pg, c['id'])
    assert [r[0] for r in rows] == [1, 2]
    changes = rows[1][5]
    assert set(changes) == {'tags', 'metadata', 'external_profiles'}
    assert changes['tags'] == {'from': ['a'], 'to': ['b', 'c']}
    assert changes['metadata'] == {'from': {'x': 1, 'y': 2}, 'to': {'x': 1, 'z': [1]}}
    # name: null clears; a member not given is kept
    u2 = upsert(api, admin_key.token, 200, email='m@example.com', name=None).json()
    assert u2['name'] is None and u2['tags'] == ['b', 'c'] and u2['version'] == 3


def test_noop_upsert_writes_nothing(api, admin_key, pg):
    body = dict(email='noop@example.com', name='N', tags=['t'], metadata={'a': 1}, phone='123',
                external_profiles=[{'provider': 'p', 'external_id': 'noop'}])
    c = upsert(api, admin_key.token, 201, **body).json()
    before = xmin(pg, c['id'])
    again = upsert(api, admin_key.token, 200, **body).json()
    assert again == c
    assert upsert(api, admin_key.token, 200, email='NOOP@example.com').json() == c
    assert xmin(pg, c['id']) == before
    assert len(audit_rows(pg, c['id'])) == 1
    assert pg.scalar(f"SELECT count(*) FROM customer_external_profiles WHERE customer_id = {c['id']}") == '1'


def test_custom_fields(api, admin_key, pg):
    define_field(api, admin_key.token, 'plan', 'enum', ['free', 'pro'])
    define_field(api, admin_key.token, 'seats', 'number')
    define_field(api, admin_key.token, 'vip', 'boolean')
    define_field(api, admin_key.token, 'since', 'date')
    define_field(api, admin_key.token, 'note', 'text')
    c = upsert(api, admin_key.token, 201, email='cf@example.com',
               custom_fields={'plan': 'pro', 'seats': 3, 'vip': True, 'since': '2024-02-29', 'note': 'n'}).json()
    assert c['custom_fields'] == {'plan': 'pro', 'seats': 3, 'vip': True, 'since': '2024-02-29', 'note': 'n'}
    u = upsert(api, admin_key.token, 200, email='cf@example.com', custom_fields={'seats': 4, 'note': None}).json()
    assert u['custom_fields'] == {'plan': 'pro', 'seats': 4, 'vip': True, 'since': '2024-02-29'}
    assert audit_rows(pg, c['id'])[1][5] == {'custom_fields': {'from': c['custom_fields'], 'to': u['custom_fields']}}
    r = upsert(api, admin_key.token, email='cf@example.com',
               custom_fields={'plan': 'gold', 'seats': '4', 'vip': 1, 'since': '2023-02-29', 'note': 'x' * 1001,
                              'nope': 1})
    b = assert_problem(r, 400, 'validation_failed')
    assert_field_error(b, 'custom_fields.plan', 'invalid_option')
    assert_field_error(b, 'custom_fields.seats', 'invalid_type')
    assert_field_error(b, 'custom_fields.vip', 'invalid_type')
    assert_field_error(b, 'custom_fields.since', 'invalid')
    assert_field_error(b, 'custom_fields.note', 'too_long')
    assert_field_error(b, 'custom_fields.nope', 'unknown_field')
    assert len(b['errors']) == 6
    # ticket fields are not customer fields
    r = api.post('/v1/custom-fields', token=admin_key.token, json={'object': 'ticket', 'key': 'tf', 'type': 'text'})
    assert r.status_code == 201
    assert_field_error(assert_problem(upsert(api, admin_key.token, email='cf@example.com', custom_fields={'tf': 'x'}),
                                      400, 'validation_failed'), 'custom_fields.tf', 'unknown_field')


@pytest.mark.parametrize('body,field,code', [
    ({}, 'email', 'required'),
    ({'email': 5}, 'email', 'invalid_type'),
    ({'email': 'not-an-email'}, 'email', 'invalid'),
    ({'email': ' '}, 'email', 'too_short'),
    ({'email': 'a' * 250 + '@b.com'}, 'email', 'too_long'),
    ({'name': 'x' * 201}, 'name', 'too_long'),
    ({'name': ''}, 'name', 'too_short'),
    ({'name': 1}, 'name', 'invalid_type'),
    ({'phone': '555-CALL-NOW'}, 'phone', 'invalid'),
    ({'phone': '1' * 51}, 'phone', 'too_long'),
    ({'phone': []}, 'phone', 'invalid_type'),
    ({'tags': 'vip'}, 'tags', 'invalid_type'),
    ({'tags': ['ok', 'not ok']}, 'tags[1]', 'invalid'),
    ({'tags': [1]}, 'tags[0]', 'invalid_type'),
    ({'tags': [f't{i}' for i in range(51)]}, 'tags', 'too_many'),
    ({'metadata': []}, 'metadata', 'invalid_type'),
    ({'metadata': {'k': 'x' * 16400}}, 'metadata', 'too_long'),
    ({'custom_fields': []}, 'custom_fields', 'invalid_type'),
    ({'external_profiles': {}}, 'external_profiles', 'invalid_type'),
    ({'external_profiles': [{'provider': 'p', 'external_id': str(i)} for i in range(21)]}, 'external_profiles',
     'too_many'),
    ({'external_profiles': [1]}, 'external_profiles[0]', 'invalid_type'),
    ({'external_profiles': [{'external_id': '1'}]}, 'external_profiles[0].provider', 'required'),
    ({'external_profiles': [{'provider': 'p'}]}, 'external_profiles[0].external_id', 'required'),
    ({'external_profiles': [{'provider': '', 'external_id': '1'}]}, 'external_profiles[0].provider', 'too_short'),
    ({'external_profiles': [{'provider': 'p' * 51, 'external_id': '1'}]}, 'external_profiles[0].provider', 'too_long'),
    ({'external_profiles': [{'provider': 'p', 'external_id': 'e' * 201}]}, 'external_profiles[0].external_id',
     'too_long'),
    ({'external_profiles': [{'provider': 'p', 'external_id': '1', 'url': 'ftp://x.example'}]},
     'external_profiles[0].url', 'invalid'),
    ({'external_profiles': [{'provider': 'p', 'external_id': '1', 'url': 'https://' + 'x' * 2000}]},
     'external_profiles[0].url', 'too_long'),
    ({'external_profiles': [{'provider': 'p', 'external_id': '1', 'extra': 1}]}, 'external_profiles[0].extra',
     'unknown_field'),
    ({'external_profiles': [{'provider': 'p', 'external_id': '1'}, {'provider': 'p', 'external_id': '1'}]},
     'external_profiles[1]', 'duplicate'),
    ({'id': 5}, 'id', 'unknown_field'),
    ({'version': 9}, 'version', 'unknown_field'),
])
def test_validation(api, admin_key, body, field, code):
    body = dict(body)
    if field != 'email' and 'email' not in body:
        body['email'] = 'v@example.com'
    b = assert_problem(api.post('/v1/customers', token=admin_key.token, json=body), 400, 'validation_failed')
    assert_field_error(b, field, code)


def test_body_must_be_object(api, admin_key):
    assert_field_error(assert_problem(api.post('/v1/customers', token=admin_key.token, json=[1]), 400,
                                      'validation_failed'), 'body', 'invalid_type')
    assert_field_error(assert_problem(api.post('/v1/customers', token=admin_key.token), 400, 'validation_failed'),
                       'body', 'required')


def test_metadata_limit_after_merge(api, admin_key):
    upsert(api, admin_key.token, 201, email='big@example.com', metadata={'a': 'x' * 10000})
    b = assert_problem(upsert(api, admin_key.token, email='big@example.com', metadata={'b': 'y' * 10000}), 400,
                       'validation_failed')
    assert_field_error(b, 'metadata', 'too_long')


def test_external_profile_unique_per_workspace(api, admin_key, make_workspace, make_key, pg):
    a = upsert(api, admin_key.token, 201, email='a@example.com',
               external_profiles=[{'provider': 'stripe', 'external_id': 'cus_a'}]).json()
    r = upsert(api, admin_key.token, email='b@example.com',
               external_profiles=[{'provider': 'stripe', 'external_id': 'ok'},
                                  {'provider': 'stripe', 'external_id': 'cus_a'}])
    assert_field_error(assert_problem(r, 409, 'conflict'), 'external_profiles[1]', 'duplicate')
    assert pg.scalar(f"SELECT count(*) FROM customers WHERE email = 'b@example.com' AND workspace_id = "
                     f"(SELECT workspace_id FROM customers WHERE id = {a['id']})") == '0'
    # the same customer may repeat it; another workspace may use it
    upsert(api, admin_key.token, 200, email='a@example.com', external_profiles=[{'provider': 'stripe', 'external_id': 'cus_a'}])
    ws2 = make_workspace()
    k2 = make_key(ws2.slug, 'admin')
    upsert(api, k2.token, 201, email='a@example.com', external_profiles=[{'provider': 'stripe', 'external_id': 'cus_a'}])
    assert a['external_profiles'][0]['external_id'] == 'cus_a'


def test_concurrent_upserts_one_email(api, admin_key, pg):
    email = f'race-{uuid.uuid4().hex[:8]}@example.com'
    statuses, barrier = [], threading.Barrier(20)

    def go():
        barrier.wait()
        r = api.post('/v1/customers', token=admin_key.token, json={'email': email, 'name': 'Race', 'tags': ['x']})
        statuses.append((r.status_code, r.json().get('id')))

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(s for s, _ in statuses)
    assert codes == [200] * 19 + [201], statuses
    assert len({i for _, i in statuses}) == 1
    assert pg.scalar(f"SELECT count(*) FROM customers WHERE email = '{email}'") == '1'
    cid = statuses[0][1]
    assert len(audit_rows(pg, cid)) == 1
    assert pg.scalar(f'SELECT version FROM customers WHERE id = {cid}') == '1'


def test_idempotent_upsert(api, admin_key, pg):
    key = uuid.uuid4().hex
    h = {'Idempotency-Key': key}
    body = {'email': 'idem@example.com', 'name': 'I'}
    r1 = api.post('/v1/customers', token=admin_key.token, json=body, headers=h)
    assert r1.status_code == 201
    r2 = api.post('/v1/customers', token=admin_key.token, json=body, headers=h)
    assert r2.status_code == 201 and r2.headers.get('Idempotent-Replayed') == 'true'
    assert r2.json() == r1.json() and r2.headers['Location'] == r1.headers['Location']
    assert pg.scalar("SELECT count(*) FROM customers WHERE email = 'idem@example.com'") == '1'
    assert len(audit_rows(pg, r1.json()['id'])) == 1
    r3 = api.post('/v1/customers', token=admin_key.token, json={'email': 'idem@example.com', 'name': 'J'}, headers=h)
    assert_problem(r3, 422, 'idempotency_key_reused')
    # without the key the same body is an upsert: 200, nothing written
    assert upsert(api, admin_key.token, 200, **body).json()['version'] == 1


# ---- get and list -------------------------------------------------------------------------

def test_get_not_found_and_bad_id(api, admin_key):
    assert_problem(api.get('/v1/customers/999999999', token=admin_key.token), 404, 'not_found')
    assert_field_error(assert_problem(api.get('/v1/customers/abc', token=admin_key.token), 400, 'validation_failed'),
                       'id', 'invalid')


def test_merged_customer_answers_404_with_merged_into(api, admin_key, pg):
    a = upsert(api, admin_key.token, 201, email='keep@example.com').json()
    b = upsert(api, admin_key.token, 201, email='gone@example.com').json()
    pg.psql(f"UPDATE customers SET merged_into = {a['id']} WHERE id = {b['id']}")  # the merge endpoint's effect
    body = assert_problem(api.get(f'/v1/customers/{b["id"]}', token=admin_key.token), 404, 'not_found')
    assert body['merged_into'] == a['id']
    assert_problem(api.patch(f'/v1/customers/{b["id"]}', token=admin_key.token, json={'name': 'x'}), 404, 'not_found')
    ids = [c['id'] for c in api.get('/v1/customers', token=admin_key.token).json()['data']]
    assert a['id'] in ids and b['id'] not in ids


def test_list_filters_and_pagination(api, admin_key):
    made = [upsert(api, admin_key.token, 201, email=f'l{i}@example.com', tags=['even' if i % 2 == 0 else 'odd']).json()
            for i in range(5)]
    r = api.get('/v1/customers?limit=2', token=admin_key.token)
    page = r.json()
    assert [c['id'] for c in page['data']] == [made[0]['id'], made[1]['id']] and page['next_cursor']
    assert 'rel="next"' in r.headers['Link']
    seen = [c['id'] for c in page['data']]
    while page['next_cursor']:
        page = api.get(f'/v1/customers?limit=2&cursor={page["next_cursor"]}', token=admin_key.token).json()
        seen += [c['id'] for c in page['data']]
    assert seen == [c['id'] for c in made]
    r = api.get('/v1/customers?email=%20L3@Example.com', token=admin_key.token)
    assert r.json() == {'data': [made[3]], 'next_cursor': None}
    assert api.get('/v1/customers?email=nobody@example.com', token=admin_key.token).json()['data'] == []
    evens = api.get('/v1/customers?tag=EVEN', token=admin_key.token).json()['data']
    assert [c['id'] for c in evens] == [made[0]['id'], made[2]['id'], made[4]['id']]
    since = made[4]['updated_at']
    data = api.get(f'/v1/customers?updated_since={since}', token=admin_key.token).json()['data']
    assert made[4]['id'] in [c['id'] for c in data] and made[0]['id'] not in [c['id'] for c in data] or \
        made[0]['updated_at'] == since
    data = api.get('/v1/customers?updated_since=2000-01-01T00:00:00%2B02:00', token=admin_key.token).json()['data']
    assert len(data) == 5


@pytest.mark.parametrize('query,field', [
    ('email=nope', 'email'), ('tag=bad%20tag', 'tag'), ('updated_since=yesterday', 'updated_since'),
    ('updated_since=2024-02-30T00:00:00Z', 'updated_since'), ('limit=0', 'limit'), ('limit=101', 'limit'),
    ('cursor=garbage', 'cursor'), ('status=open', 'status'),
])
def test_list_bad_parameters(api, admin_key, query, field):
    b = assert_problem(api.get(f'/v1/customers?{query}', token=admin_key.token), 400, 'validation_failed')
    assert_field_error(b, field)


# ---- patch --------------------------------------------------------------------------------

def test_patch(api, agent_key, pg):
    c = upsert(api, agent_key.token, 201, email='p@example.com', name='P', tags=['a'], metadata={'k': 1},
               external_profiles=[{'provider': 'x', 'external_id': '1'}, {'provider': 'y', 'external_id': '2'}]).json()
    r = api.patch(f'/v1/customers/{c["id"]}', token=agent_key.token,
                  json={'email': ' New@Example.com', 'phone': '12 34', 'tags': [], 'metadata': {'k': None},
                        'external_profiles': [{'provider': 'y', 'external_id': '2', 'url': 'https://y.example'}]})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u['email'] == 'new@example.com' and u['phone'] == '12 34' and u['tags'] == [] and u['metadata'] == {}
    assert u['external_profiles'] == [{'provider': 'y', 'external_id': '2', 'url': 'https://y.example'}]
    assert u['version'] == 2 and u['name'] == 'P'
    rows = audit_rows(pg, c['id'])
    assert rows[1][0] == 2 and rows[1][5]['email'] == {'from': 'p@example.com', 'to': 'new@example.com'}
    assert set(rows[1][5]) == {'email', 'phone', 'tags', 'metadata', 'external_profiles'}
    # the old email is free again: an upsert creates a new customer
    assert upsert(api, agent_key.token, 201, email='p@example.com').json()['id'] != c['id']
    # no-op PATCH: nothing written
    before = xmin(pg, c['id'])
    assert api.patch(f'/v1/customers/{c["id"]}', token=agent_key.token, json={'name': 'P'}).json() == u
    assert api.patch(f'/v1/customers/{c["id"]}', token=agent_key.token, json={}).json() == u
    assert xmin(pg, c['id']) == before and len(audit_rows(pg, c['id'])) == 2


def test_patch_email_of_another_customer(api, admin_key, pg):
    """Merges: the PATCHed customer into the one that has the email (test_customer_merge.py)."""
    a = upsert(api, admin_key.token, 201, email='one@example.com').json()
    b = upsert(api, admin_key.token, 201, email='two@example.com').json()
    r = api.patch(f'/v1/customers/{a["id"]}', token=admin_key.token, json={'email': 'TWO@example.com'})
    assert r.status_code == 200, r.text
    assert r.json()['id'] == b['id'] and r.json()['version'] == 2
    assert_problem(api.get(f'/v1/customers/{a["id"]}', token=admin_key.token), 404, 'not_found')


def test_patch_validation_and_404(api, admin_key):
    c = upsert(api, admin_key.token, 201, email='pv@example.com').json()
    b = assert_problem(api.patch(f'/v1/customers/{c["id"]}', token=admin_key.token,
                                 json={'email': 'bad', 'tags': ['-'], 'merged_into': 1}), 400, 'validation_failed')
    assert_field_error(b, 'email', 'invalid')
    assert_field_error(b, 'tags[0]', 'invalid')
    assert_field_error(b, 'merged_into', 'unknown_field')
    assert_problem(api.patch('/v1/customers/987654321', token=admin_key.token, json={'name': 'x'}), 404, 'not_found')


# ---- roles, workspaces, acting agent ------------------------------------------------------

def test_roles(api, admin_key, readonly_key, agent_key):
    c = upsert(api, agent_key.token, 201, email='r@example.com').json()
    assert api.get(f'/v1/customers/{c["id"]}', token=readonly_key.token).status_code == 200
    assert api.get('/v1/customers', token=readonly_key.token).status_code == 200
    assert_problem(upsert(api, readonly_key.token, email='r2@example.com'), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/customers/{c["id"]}', token=readonly_key.token, json={'name': 'x'}), 403, 'forbidden')
    assert api.patch(f'/v1/customers/{c["id"]}', token=agent_key.token, json={'name': 'x'}).status_code == 200
    assert api.get('/v1/customers').status_code == 401
    r = api.delete(f'/v1/customers/{c["id"]}', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')


def test_cross_workspace(api, admin_key, make_workspace, make_key):
    c = upsert(api, admin_key.token, 201, email='iso@example.com').json()
    ws2 = make_workspace()
    k2 = make_key(ws2.slug, 'admin')
    assert_problem(api.get(f'/v1/customers/{c["id"]}', token=k2.token), 404, 'not_found')
    assert_problem(api.patch(f'/v1/customers/{c["id"]}', token=k2.token, json={'name': 'x'}), 404, 'not_found')
    assert api.get('/v1/customers?email=iso@example.com', token=k2.token).json()['data'] == []
    other = upsert(api, k2.token, 201, email='iso@example.com').json()
    assert other['id'] != c['id']


def test_acting_agent_is_audited(api, admin_key, readonly_key, pg):
    agent = api.post('/v1/agents', token=admin_key.token, json={'name': 'Ann', 'email': 'ann@example.com'}).json()
    r = api.post('/v1/customers', token=admin_key.token, json={'email': 'act@example.com'},
                 headers={'X-Acting-Agent-Id': str(agent['id'])})
    assert r.status_code == 201, r.text
    rows = audit_rows(pg, r.json()['id'])
    assert rows[0][1:4] == ('agent', agent['id'], 'agent')
    assert_problem(api.post('/v1/customers', token=admin_key.token, json={'email': 'act@example.com'},
                            headers={'X-Acting-Agent-Id': '99999999'}), 400, 'validation_failed')
    assert_problem(api.get('/v1/customers', token=readonly_key.token, headers={'X-Acting-Agent-Id': str(agent['id'])}),
                   403, 'forbidden')
