"""Admin resource /v1/teams: POST, GET (list, one), PATCH, DELETE; validation, pagination, roles,
workspace isolation, duplicate names."""
import json
from urllib.parse import urljoin

import pytest

from hdf import assert_field_error, assert_problem, method_set, parse_time

TEAM_FIELDS = {'id', 'name', 'description', 'created_at', 'updated_at'}


def create_team(api, token, **body):
    body.setdefault('name', 'Support')
    r = api.post('/v1/teams', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def assert_team(obj):
    assert set(obj) == TEAM_FIELDS, obj
    assert type(obj['id']) is int and obj['id'] > 0
    parse_time(obj['created_at'])
    parse_time(obj['updated_at'])


def test_create_get_list(api, pg, workspace, admin_key):
    r = api.post('/v1/teams', token=admin_key.token, json={'name': 'Billing', 'description': 'Invoices & refunds'})
    assert r.status_code == 201, r.text
    assert r.headers['Content-Type'].split(';')[0] == 'application/json'
    team = r.json()
    assert_team(team)
    assert team['name'] == 'Billing' and team['description'] == 'Invoices & refunds'
    assert r.headers['Location'] == f'/v1/teams/{team["id"]}'
    assert team['created_at'] == team['updated_at']
    assert api.get(r.headers['Location'], token=admin_key.token).json() == team
    plain = create_team(api, admin_key.token, name='Tier 2')
    assert plain['description'] is None
    body = api.get('/v1/teams', token=admin_key.token).json()
    assert body == {'data': [team, plain], 'next_cursor': None}
    assert pg.scalar(f'SELECT count(*) FROM teams WHERE workspace_id = {workspace.id}') == '2'


def test_boundary_lengths(api, admin_key):
    for name in ('x', 'n' * 100, 'é' * 100):
        t = create_team(api, admin_key.token, name=name, description='d' * 1000)
        assert t['name'] == name and len(t['description']) == 1000


@pytest.mark.parametrize('body,field,code', [
    ({}, 'name', 'required'),
    ({'name': ''}, 'name', 'too_short'),
    ({'name': 'n' * 101}, 'name', 'too_long'),
    ({'name': 'é' * 101}, 'name', 'too_long'),
    ({'name': 5}, 'name', 'invalid_type'),
    ({'name': None}, 'name', 'invalid_type'),
    ({'name': 'ok', 'description': 'd' * 1001}, 'description', 'too_long'),
    ({'name': 'ok', 'description': 7}, 'description', 'invalid_type'),
    ({'name': 'ok', 'id': 1}, 'id', 'unknown_field'),
    ({'name': 'ok', 'workspace_id': 1}, 'workspace_id', 'unknown_field'),
    ({'name': 'ok', 'created_at': '2020-01-01T00:00:00.000Z'}, 'created_at', 'unknown_field'),
])
def test_create_validation(api, pg, workspace, admin_key, body, field, code):
    r = api.post('/v1/teams', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert pg.scalar(f'SELECT count(*) FROM teams WHERE workspace_id = {workspace.id}') == '0'


def test_create_reports_every_field(api, admin_key):
    r = api.post('/v1/teams', token=admin_key.token, json={'name': '', 'description': 5, 'color': 'red'})
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'name', 'too_short')
    assert_field_error(body, 'description', 'invalid_type')
    assert_field_error(body, 'color', 'unknown_field')
    assert len(body['errors']) == 3 and body['detail'] == '3 fields are invalid'


@pytest.mark.parametrize('data,code', [(None, 'required'), (b'[]', 'invalid_type'), (b'"x"', 'invalid_type')])
def test_body_must_be_object(api, admin_key, data, code):
    r = api.post('/v1/teams', token=admin_key.token, data=data, headers={'Content-Type': 'application/json'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'body', code)


def test_duplicate_name_is_409(api, make_workspace, make_key, admin_key):
    create_team(api, admin_key.token, name='Support')
    for name in ('Support', 'SUPPORT', 'support'):
        r = api.post('/v1/teams', token=admin_key.token, json={'name': name})
        body = assert_problem(r, 409, 'conflict', detail='team with this name already exists')
        assert_field_error(body, 'name', 'duplicate')
    other = create_team(api, admin_key.token, name='Other')
    r = api.patch(f'/v1/teams/{other["id"]}', token=admin_key.token, json={'name': 'support'})
    assert_field_error(assert_problem(r, 409, 'conflict'), 'name', 'duplicate')
    # Another workspace may use the name.
    ws2 = make_workspace()
    create_team(api, make_key(ws2.slug, 'admin').token, name='Support')


def test_patch(api, admin_key):
    t = create_team(api, admin_key.token, name='Sales', description='old')
    r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json={'name': 'Sales EMEA'})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got['name'] == 'Sales EMEA' and got['description'] == 'old' and got['created_at'] == t['created_at']
    assert parse_time(got['updated_at']) >= parse_time(t['updated_at'])
    r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json={'description': None})
    assert r.status_code == 200 and r.json()['description'] is None and r.json()['name'] == 'Sales EMEA'
    r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json={'description': 'new', 'name': 'S'})
    assert r.json()['description'] == 'new' and r.json()['name'] == 'S'
    assert api.get(f'/v1/teams/{t["id"]}', token=admin_key.token).json() == r.json()
    # Renaming in case only is a change, and does not collide with itself.
    r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json={'name': 's'})
    assert r.status_code == 200 and r.json()['name'] == 's'


def test_noop_patch_writes_nothing(api, pg, admin_key):
    t = create_team(api, admin_key.token, name='Quiet', description='same')
    xmin = pg.scalar(f'SELECT xmin FROM teams WHERE id = {t["id"]}')
    for body in ({}, {'name': 'Quiet'}, {'description': 'same'}, {'name': 'Quiet', 'description': 'same'}):
        r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json=body)
        assert r.status_code == 200 and r.json() == t, r.text
    assert pg.scalar(f'SELECT xmin FROM teams WHERE id = {t["id"]}') == xmin


@pytest.mark.parametrize('body,field,code', [
    ({'name': ''}, 'name', 'too_short'),
    ({'name': None}, 'name', 'invalid_type'),
    ({'name': 'n' * 101}, 'name', 'too_long'),
    ({'description': 'd' * 1001}, 'description', 'too_long'),
    ({'description': []}, 'description', 'invalid_type'),
    ({'id': 5}, 'id', 'unknown_field'),
    ({'updated_at': None}, 'updated_at', 'unknown_field'),
])
def test_patch_validation(api, pg, admin_key, body, field, code):
    t = create_team(api, admin_key.token, name='Keep')
    r = api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert api.get(f'/v1/teams/{t["id"]}', token=admin_key.token).json() == t


def test_delete(api, pg, admin_key):
    t = create_team(api, admin_key.token, name='Gone')
    r = api.delete(f'/v1/teams/{t["id"]}', token=admin_key.token)
    assert r.status_code == 204 and r.content == b'', r.text
    assert 'Content-Type' not in r.headers and r.headers.get('X-Request-Id')
    assert_problem(api.get(f'/v1/teams/{t["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.delete(f'/v1/teams/{t["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.patch(f'/v1/teams/{t["id"]}', token=admin_key.token, json={'name': 'x'}), 404, 'not_found')
    # The name is free again.
    create_team(api, admin_key.token, name='Gone')


def test_delete_team_with_members(api, pg, admin_key):
    t = create_team(api, admin_key.token, name='Members')
    keep = create_team(api, admin_key.token, name='Keep')
    r = api.post('/v1/agents', token=admin_key.token,
                 json={'name': 'Ann', 'email': 'ann@example.com', 'team_ids': [t['id'], keep['id']]})
    assert r.status_code == 201, r.text
    agent = r.json()
    assert api.delete(f'/v1/teams/{t["id"]}', token=admin_key.token).status_code == 204
    assert api.get(f'/v1/agents/{agent["id"]}', token=admin_key.token).json()['team_ids'] == [keep['id']]
    assert pg.scalar(f'SELECT count(*) FROM agent_teams WHERE team_id = {t["id"]}') == '0'


def test_pagination(api, admin_key):
    ids = [create_team(api, admin_key.token, name=f'Team {i}')['id'] for i in range(7)]
    seen, cursor = [], None
    for _ in range(10):
        params = {'limit': 3} if cursor is None else {'limit': 3, 'cursor': cursor}
        r = api.get('/v1/teams', token=admin_key.token, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [t['id'] for t in body['data']]
        cursor = body['next_cursor']
        if cursor is None:
            assert 'next' not in r.links
            break
        link = urljoin(api.base + '/', r.links['next']['url'])
        via_link = api.session.get(link, headers={'Authorization': f'Bearer {admin_key.token}'}, timeout=15)
        assert via_link.json() == api.get('/v1/teams', token=admin_key.token,
                                          params={'limit': 3, 'cursor': cursor}).json()
    assert seen == ids
    assert len(api.get('/v1/teams', token=admin_key.token).json()['data']) == 7


@pytest.mark.parametrize('params,field,code', [
    ({'limit': '0'}, 'limit', 'out_of_range'),
    ({'limit': '101'}, 'limit', 'out_of_range'),
    ({'limit': 'x'}, 'limit', 'out_of_range'),
    ({'cursor': '!!!'}, 'cursor', 'invalid'),
    ({'active': 'true'}, 'active', 'unknown_parameter'),
])
def test_list_parameters(api, admin_key, params, field, code):
    r = api.get('/v1/teams', token=admin_key.token, params=params)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)


def test_cursor_of_another_list_refused(api, admin_key):
    for i in range(2):
        api.post('/v1/agents', token=admin_key.token, json={'name': f'A{i}', 'email': f'a{i}@example.com'})
    cursor = api.get('/v1/agents', token=admin_key.token, params={'limit': 1}).json()['next_cursor']
    assert cursor
    r = api.get('/v1/teams', token=admin_key.token, params={'cursor': cursor})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'cursor', 'invalid')


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, pg, workspace, admin_key, make_key, role):
    t = create_team(api, admin_key.token, name='Admins only')
    token = make_key(workspace.slug, role).token
    assert_problem(api.get('/v1/teams', token=token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/teams/{t["id"]}', token=token), 403, 'forbidden')
    assert_problem(api.post('/v1/teams', token=token, json={'name': 'x'}), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/teams/{t["id"]}', token=token, json={'name': 'x'}), 403, 'forbidden')
    assert_problem(api.delete(f'/v1/teams/{t["id"]}', token=token), 403, 'forbidden')
    assert pg.scalar(f'SELECT name FROM teams WHERE id = {t["id"]}') == 'Admins only'


def test_cross_workspace_404(api, pg, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    team_b = create_team(api, tb, name='B team')
    missing = int(pg.scalar('SELECT coalesce(max(id), 0) + 1000000 FROM teams'))
    for tid in (team_b['id'], missing):
        assert_problem(api.get(f'/v1/teams/{tid}', token=ta), 404, 'not_found', detail='no team with this id')
        assert_problem(api.patch(f'/v1/teams/{tid}', token=ta, json={'name': 'pwned'}), 404, 'not_found')
        assert_problem(api.delete(f'/v1/teams/{tid}', token=ta), 404, 'not_found')
    assert api.get('/v1/teams', token=ta).json()['data'] == []
    assert api.get(f'/v1/teams/{team_b["id"]}', token=tb).json() == team_b


@pytest.mark.parametrize('bad_id', ['0', '-1', 'abc', '9223372036854775808', '1.5'])
def test_bad_id(api, admin_key, bad_id):
    for method, kw in (('GET', {}), ('PATCH', {'json': {'name': 'x'}}), ('DELETE', {})):
        r = api.request(method, f'/v1/teams/{bad_id}', token=admin_key.token, **kw)
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id', 'invalid')


def test_wrong_methods(api, admin_key):
    r = api.put('/v1/teams/1', token=admin_key.token, json={})
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET', 'PATCH', 'DELETE'}
    r = api.delete('/v1/teams', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET', 'POST'}


def test_database_enforces_rules(pg, workspace):
    """The CHECK constraints hold for writers other than the API too."""
    from hdf import PsqlError
    for values in ("''", "repeat('x', 101)"):
        with pytest.raises(PsqlError) as e:
            pg.psql(f'INSERT INTO teams (workspace_id, name) VALUES ({workspace.id}, {values})')
        assert e.value.sqlstate == '23514'
    assert json.loads(pg.scalar("SELECT to_json(has_table_privilege('hdf_server', 'teams', 'TRUNCATE'))")) is False


def test_idempotent_create_replays_location(api, pg, workspace, admin_key):
    headers = {'Idempotency-Key': 'team-create-1'}
    r1 = api.post('/v1/teams', token=admin_key.token, json={'name': 'Once'}, headers=headers)
    r2 = api.post('/v1/teams', token=admin_key.token, json={'name': 'Once'}, headers=headers)
    assert r1.status_code == r2.status_code == 201, (r1.text, r2.text)
    assert r2.headers.get('Idempotent-Replayed') == 'true' and r2.json() == r1.json()
    assert r2.headers['Location'] == r1.headers['Location']
    assert pg.scalar(f"SELECT count(*) FROM teams WHERE workspace_id = {workspace.id} AND name = 'Once'") == '1'
