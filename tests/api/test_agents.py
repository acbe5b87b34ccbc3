"""Admin resource /v1/agents: POST, GET (list with team_id / active filters, one), PATCH, DELETE;
email normalisation and validation, team memberships, roles, workspace isolation, duplicates."""
from urllib.parse import urljoin

import pytest

from hdf import assert_field_error, assert_problem, method_set, parse_time

AGENT_FIELDS = {'id', 'name', 'email', 'team_ids', 'active', 'created_at', 'updated_at'}


def create_team(api, token, name):
    r = api.post('/v1/teams', token=token, json={'name': name})
    assert r.status_code == 201, r.text
    return r.json()['id']


def create_agent(api, token, **body):
    body.setdefault('name', 'Ann Agent')
    body.setdefault('email', 'ann@example.com')
    r = api.post('/v1/agents', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def assert_agent(obj):
    assert set(obj) == AGENT_FIELDS, obj
    assert type(obj['id']) is int and type(obj['active']) is bool
    assert obj['team_ids'] == sorted(obj['team_ids']) and all(type(t) is int for t in obj['team_ids'])
    parse_time(obj['created_at'])
    parse_time(obj['updated_at'])


def test_create_get(api, admin_key):
    t1, t2 = create_team(api, admin_key.token, 'One'), create_team(api, admin_key.token, 'Two')
    r = api.post('/v1/agents', token=admin_key.token,
                 json={'name': 'Bob', 'email': '  Bob.Smith+Help@Example.COM ', 'team_ids': [t2, t1]})
    assert r.status_code == 201, r.text
    a = r.json()
    assert_agent(a)
    assert a['email'] == 'bob.smith+help@example.com'
    assert a['team_ids'] == [t1, t2] and a['active'] is True and a['name'] == 'Bob'
    assert r.headers['Location'] == f'/v1/agents/{a["id"]}'
    assert api.get(r.headers['Location'], token=admin_key.token).json() == a
    b = create_agent(api, admin_key.token, email='b@example.org', active=False)
    assert b['active'] is False and b['team_ids'] == []
    assert api.get('/v1/agents', token=admin_key.token).json() == {'data': [a, b], 'next_cursor': None}


@pytest.mark.parametrize('email', ['a@b.co', 'first.last@sub.example.com', "o'hara!#$%&*+/=?^_`{|}~-@x.io",
                                   'josé@exämple.com', 'x' * 64 + '@' + 'd' * 63 + '.com',
                                   'a@' + '.'.join(['d' * 63] * 3) + '.' + 'e' * 57])
def test_valid_emails(api, admin_key, email):
    a = create_agent(api, admin_key.token, email=email)
    assert a['email'] == email.lower() if email.isascii() else a['email'] == email


@pytest.mark.parametrize('email,code', [
    ('', 'too_short'), ('   ', 'too_short'), ('plain', 'invalid'), ('a@b', 'invalid'), ('a@@b.com', 'invalid'),
    ('a@b@c.com', 'invalid'), ('@b.com', 'invalid'), ('a@', 'invalid'), ('a b@c.com', 'invalid'),
    ('a@b .com', 'invalid'), ('.a@b.com', 'invalid'), ('a.@b.com', 'invalid'), ('a..b@c.com', 'invalid'),
    ('a@.b.com', 'invalid'), ('a@b.com.', 'invalid'), ('a@b..com', 'invalid'), ('a@-b.com', 'invalid'),
    ('a\t@b.com', 'invalid'), ('a\x01@b.com', 'invalid'), ('"a"@b.com', 'invalid'), ('a@[1.2.3.4]', 'invalid'),
    ('a\u00a0b@c.com', 'invalid'), ('a\u2028@b.com', 'invalid'), ('x' * 65 + '@b.com', 'invalid'),
    ('a@' + 'd' * 64 + '.com', 'invalid'), ('a@' + 'd' * 250 + '.com', 'too_long'),
])
def test_invalid_emails(api, pg, workspace, admin_key, email, code):
    r = api.post('/v1/agents', token=admin_key.token, json={'name': 'X', 'email': email})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'email', code)
    assert pg.scalar(f'SELECT count(*) FROM agents WHERE workspace_id = {workspace.id}') == '0'


@pytest.mark.parametrize('body,field,code', [
    ({'email': 'a@b.co'}, 'name', 'required'),
    ({'name': 'A'}, 'email', 'required'),
    ({'name': '', 'email': 'a@b.co'}, 'name', 'too_short'),
    ({'name': 'n' * 201, 'email': 'a@b.co'}, 'name', 'too_long'),
    ({'name': 1, 'email': 'a@b.co'}, 'name', 'invalid_type'),
    ({'name': 'A', 'email': ['a@b.co']}, 'email', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'active': 'yes'}, 'active', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'active': None}, 'active', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': 1}, 'team_ids', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': None}, 'team_ids', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': ['1']}, 'team_ids[0]', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': [1.5]}, 'team_ids[0]', 'invalid_type'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': [0]}, 'team_ids[0]', 'invalid'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': [5, -2]}, 'team_ids[1]', 'invalid'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': [7, 7]}, 'team_ids[1]', 'duplicate'),
    ({'name': 'A', 'email': 'a@b.co', 'team_ids': list(range(1, 102))}, 'team_ids', 'too_long'),
    ({'name': 'A', 'email': 'a@b.co', 'role': 'admin'}, 'role', 'unknown_field'),
    ({'name': 'A', 'email': 'a@b.co', 'id': 3}, 'id', 'unknown_field'),
])
def test_create_validation(api, pg, workspace, admin_key, body, field, code):
    r = api.post('/v1/agents', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert pg.scalar(f'SELECT count(*) FROM agents WHERE workspace_id = {workspace.id}') == '0'


def test_create_reports_every_field(api, admin_key):
    r = api.post('/v1/agents', token=admin_key.token, json={'name': '', 'email': 'nope', 'active': 1,
                                                             'team_ids': [1, 'x'], 'x': 1})
    body = assert_problem(r, 400, 'validation_failed')
    for field, code in (('name', 'too_short'), ('email', 'invalid'), ('active', 'invalid_type'),
                        ('team_ids[1]', 'invalid_type'), ('x', 'unknown_field')):
        assert_field_error(body, field, code)


def test_unknown_teams_not_found(api, pg, workspace, make_workspace, make_key, admin_key):
    mine = create_team(api, admin_key.token, 'Mine')
    other_ws = make_workspace()
    theirs = create_team(api, make_key(other_ws.slug, 'admin').token, 'Theirs')
    missing = theirs + 1000000
    r = api.post('/v1/agents', token=admin_key.token,
                 json={'name': 'A', 'email': 'a@b.co', 'team_ids': [mine, theirs, missing]})
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'team_ids[1]', 'not_found')
    assert_field_error(body, 'team_ids[2]', 'not_found')
    assert len(body['errors']) == 2
    assert pg.scalar(f'SELECT count(*) FROM agents WHERE workspace_id = {workspace.id}') == '0'
    a = create_agent(api, admin_key.token, team_ids=[mine])
    r = api.patch(f'/v1/agents/{a["id"]}', token=admin_key.token, json={'team_ids': [theirs], 'name': 'Changed'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'team_ids[0]', 'not_found')
    assert api.get(f'/v1/agents/{a["id"]}', token=admin_key.token).json() == a


def test_duplicate_email_409(api, make_workspace, make_key, admin_key):
    create_agent(api, admin_key.token, email='dup@example.com')
    for email in ('dup@example.com', ' DUP@Example.com'):
        r = api.post('/v1/agents', token=admin_key.token, json={'name': 'B', 'email': email})
        body = assert_problem(r, 409, 'conflict', detail='agent with this email already exists')
        assert_field_error(body, 'email', 'duplicate')
    other = create_agent(api, admin_key.token, email='other@example.com')
    r = api.patch(f'/v1/agents/{other["id"]}', token=admin_key.token, json={'email': 'Dup@example.com'})
    assert_field_error(assert_problem(r, 409, 'conflict'), 'email', 'duplicate')
    ws2 = make_workspace()
    create_agent(api, make_key(ws2.slug, 'admin').token, email='dup@example.com')


def test_patch(api, pg, admin_key):
    t1, t2, t3 = (create_team(api, admin_key.token, n) for n in ('P1', 'P2', 'P3'))
    a = create_agent(api, admin_key.token, team_ids=[t1, t2])
    r = api.patch(f'/v1/agents/{a["id"]}', token=admin_key.token, json={'team_ids': [t3, t2]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got['team_ids'] == [t2, t3] and got['name'] == a['name'] and got['email'] == a['email']
    assert parse_time(got['updated_at']) >= parse_time(a['updated_at'])
    assert api.get(f'/v1/agents/{a["id"]}', token=admin_key.token).json() == got
    r = api.patch(f'/v1/agents/{a["id"]}', token=admin_key.token,
                  json={'name': 'Renamed', 'email': 'NEW@Example.com', 'active': False, 'team_ids': []})
    got = r.json()
    assert (got['name'], got['email'], got['active'], got['team_ids']) == ('Renamed', 'new@example.com', False, [])
    assert api.get(f'/v1/agents/{a["id"]}', token=admin_key.token).json() == got
    assert pg.scalar(f'SELECT count(*) FROM agent_teams WHERE agent_id = {a["id"]}') == '0'


def test_noop_patch_writes_nothing(api, pg, admin_key):
    t1 = create_team(api, admin_key.token, 'N1')
    a = create_agent(api, admin_key.token, team_ids=[t1])
    xmin = pg.scalar(f'SELECT xmin FROM agents WHERE id = {a["id"]}')
    mxmin = pg.scalar(f'SELECT xmin FROM agent_teams WHERE agent_id = {a["id"]}')
    for body in ({}, {'name': a['name']}, {'email': ' ANN@example.com'}, {'active': True}, {'team_ids': [t1]}):
        r = api.patch(f'/v1/agents/{a["id"]}', token=admin_key.token, json=body)
        assert r.status_code == 200 and r.json() == a, (body, r.text)
    assert pg.scalar(f'SELECT xmin FROM agents WHERE id = {a["id"]}') == xmin
    assert pg.scalar(f'SELECT xmin FROM agent_teams WHERE agent_id = {a["id"]}') == mxmin


@pytest.mark.parametrize('body,field,code', [
    ({'name': ''}, 'name', 'too_short'),
    ({'name': None}, 'name', 'invalid_type'),
    ({'email': 'bad'}, 'email', 'invalid'),
    ({'email': None}, 'email', 'invalid_type'),
    ({'active': 'false'}, 'active', 'invalid_type'),
    ({'team_ids': [1, 1]}, 'team_ids[1]', 'duplicate'),
    ({'created_at': None}, 'created_at', 'unknown_field'),
])
def test_patch_validation(api, admin_key, body, field, code):
    a = create_agent(api, admin_key.token)
    r = api.patch(f'/v1/agents/{a["id"]}', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert api.get(f'/v1/agents/{a["id"]}', token=admin_key.token).json() == a


def test_delete(api, pg, admin_key):
    t = create_team(api, admin_key.token, 'D')
    a = create_agent(api, admin_key.token, team_ids=[t])
    r = api.delete(f'/v1/agents/{a["id"]}', token=admin_key.token)
    assert r.status_code == 204 and r.content == b''
    assert_problem(api.get(f'/v1/agents/{a["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.delete(f'/v1/agents/{a["id"]}', token=admin_key.token), 404, 'not_found')
    assert pg.scalar(f'SELECT count(*) FROM agent_teams WHERE agent_id = {a["id"]}') == '0'
    assert api.get(f'/v1/teams/{t}', token=admin_key.token).status_code == 200
    create_agent(api, admin_key.token)  # the email is free again


def test_filters_and_pagination(api, admin_key):
    t1, t2 = create_team(api, admin_key.token, 'F1'), create_team(api, admin_key.token, 'F2')
    agents = [create_agent(api, admin_key.token, email=f'f{i}@example.com', active=i % 2 == 0,
                           team_ids=[t1] if i < 4 else [t2]) for i in range(8)]

    def ids(params):
        seen, cursor = [], None
        for _ in range(20):
            p = dict(params, limit=2, **({'cursor': cursor} if cursor else {}))
            r = api.get('/v1/agents', token=admin_key.token, params=p)
            assert r.status_code == 200, r.text
            seen += [a['id'] for a in r.json()['data']]
            cursor = r.json()['next_cursor']
            if cursor is None:
                return seen
            link = urljoin(api.base + '/', r.links['next']['url'])
            assert 'team_id' not in params or f'team_id={params["team_id"]}' in link
        raise AssertionError('pagination does not end')
    assert ids({}) == [a['id'] for a in agents]
    assert ids({'team_id': t1}) == [a['id'] for a in agents[:4]]
    assert ids({'team_id': t2, 'active': 'true'}) == [agents[4]['id'], agents[6]['id']]
    assert ids({'active': 'false'}) == [a['id'] for a in agents if not a['active']]
    assert ids({'team_id': t2 + 1000000}) == []


@pytest.mark.parametrize('params,field,code', [
    ({'team_id': '0'}, 'team_id', 'invalid'), ({'team_id': 'x'}, 'team_id', 'invalid'),
    ({'active': 'yes'}, 'active', 'invalid'), ({'active': '1'}, 'active', 'invalid'),
    ({'limit': '101'}, 'limit', 'out_of_range'), ({'cursor': 'zz'}, 'cursor', 'invalid'),
    ({'email': 'a@b.co'}, 'email', 'unknown_parameter'),
])
def test_list_parameters(api, admin_key, params, field, code):
    r = api.get('/v1/agents', token=admin_key.token, params=params)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)


def test_list_reports_every_parameter(api, admin_key):
    r = api.get('/v1/agents', token=admin_key.token, params={'team_id': '-1', 'active': 'no', 'limit': '0'})
    body = assert_problem(r, 400, 'validation_failed')
    for f in ('team_id', 'active', 'limit'):
        assert_field_error(body, f)


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, pg, workspace, admin_key, make_key, role):
    a = create_agent(api, admin_key.token)
    token = make_key(workspace.slug, role).token
    assert_problem(api.get('/v1/agents', token=token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/agents/{a["id"]}', token=token), 403, 'forbidden')
    assert_problem(api.post('/v1/agents', token=token, json={'name': 'x', 'email': 'x@y.zz'}), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/agents/{a["id"]}', token=token, json={'active': False}), 403, 'forbidden')
    assert_problem(api.delete(f'/v1/agents/{a["id"]}', token=token), 403, 'forbidden')
    assert pg.scalar(f'SELECT count(*) FROM agents WHERE workspace_id = {workspace.id} AND active') == '1'


def test_cross_workspace_404(api, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    agent_b = create_agent(api, tb)
    assert_problem(api.get(f'/v1/agents/{agent_b["id"]}', token=ta), 404, 'not_found', detail='no agent with this id')
    assert_problem(api.patch(f'/v1/agents/{agent_b["id"]}', token=ta, json={'active': False}), 404, 'not_found')
    assert_problem(api.delete(f'/v1/agents/{agent_b["id"]}', token=ta), 404, 'not_found')
    assert api.get('/v1/agents', token=ta).json()['data'] == []
    assert api.get(f'/v1/agents/{agent_b["id"]}', token=tb).json() == agent_b


@pytest.mark.parametrize('bad_id', ['0', 'x', '-3', '99999999999999999999'])
def test_bad_id(api, admin_key, bad_id):
    for method, kw in (('GET', {}), ('PATCH', {'json': {'name': 'x'}}), ('DELETE', {})):
        r = api.request(method, f'/v1/agents/{bad_id}', token=admin_key.token, **kw)
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id', 'invalid')


def test_wrong_methods(api, admin_key):
    r = api.post('/v1/agents/1', token=admin_key.token, json={})
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET', 'PATCH', 'DELETE'}
