"""Automation rules: the admin resource /v1/automations (validation naming paths, roles,
workspace isolation, references to teams, agents and custom fields that refuse their deletes)
and the rules at work: ticket.created before the response, the ticket.updated secondary pass
after a PATCH, message.created, audit entries with rule ids, conflicts (409, nothing written),
cache invalidation on the very next request, and dry-run."""
import pytest

from hdf import assert_field_error, assert_problem
from ticket_helpers import create_agent, create_custom_field, create_team, create_ticket, new_email

RULE_FIELDS = {'id', 'name', 'position', 'enabled', 'events', 'conditions', 'actions', 'created_at', 'updated_at'}


def rule_body(**kw):
    body = {'name': 'Escalate refunds', 'position': 10, 'enabled': True, 'events': ['ticket.created'],
            'conditions': {'all': [{'field': 'subject', 'op': 'contains', 'value': 'refund'}]},
            'actions': [{'type': 'set_priority', 'value': 'high'}]}
    body.update(kw)
    return body


def create_rule(api, token, **kw):
    r = api.post('/v1/automations', token=token, json=rule_body(**kw))
    assert r.status_code == 201, r.text
    assert r.headers['Location'] == f'/v1/automations/{r.json()["id"]}'
    return r.json()


# ---- the admin resource ----

def test_crud(api, admin_key):
    rule = create_rule(api, admin_key.token)
    assert set(rule) == RULE_FIELDS
    assert rule['events'] == ['ticket.created'] and rule['position'] == 10 and rule['enabled'] is True
    assert rule['conditions'] == rule_body()['conditions'] and rule['actions'] == rule_body()['actions']
    assert api.get(f'/v1/automations/{rule["id"]}', token=admin_key.token).json() == rule
    other = create_rule(api, admin_key.token, name='Second', conditions=None)
    assert other['conditions'] == {}
    page = api.get('/v1/automations', token=admin_key.token, params={'limit': 1}).json()
    assert page['data'] == [rule] and page['next_cursor']
    assert api.get('/v1/automations', token=admin_key.token,
                   params={'cursor': page['next_cursor']}).json() == {'data': [other], 'next_cursor': None}
    r = api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'enabled': False, 'position': 3})
    assert r.status_code == 200, r.text
    assert r.json()['enabled'] is False and r.json()['position'] == 3 and r.json()['name'] == rule['name']
    assert api.delete(f'/v1/automations/{rule["id"]}', token=admin_key.token).status_code == 204
    assert_problem(api.get(f'/v1/automations/{rule["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.delete(f'/v1/automations/{rule["id"]}', token=admin_key.token), 404, 'not_found')


@pytest.mark.parametrize('change,field,code', [
    ({'name': None}, 'name', 'invalid_type'),
    ({'events': []}, 'events', 'invalid_type'),
    ({'events': ['ticket.closed']}, 'events[0]', 'invalid'),
    ({'conditions': {'all': [{'field': 'subject', 'op': 'contains', 'value': 'x'},
                             {'field': 'status', 'op': 'eq', 'value': 'new'},
                             {'field': 'status', 'op': 'like', 'value': 'new'}]}}, 'conditions.all[2].op', 'invalid'),
    ({'conditions': {'any': [{'field': 'colour', 'op': 'eq', 'value': 'red'}]}}, 'conditions.any[0].field', 'invalid'),
    ({'conditions': {'all': [{'field': 'priority', 'op': 'eq', 'value': 5}]}}, 'conditions.all[0].value', 'invalid_type'),
    ({'conditions': {'all': [{'field': 'status', 'op': 'changed'}]}}, 'conditions.all[0].op', 'invalid'),
    ({'conditions': {'all': []}, 'actions': [{'type': 'set_priority', 'value': 'asap'}]}, 'actions[0].value', 'invalid'),
    ({'actions': [{'type': 'explode'}]}, 'actions[0].type', 'invalid'),
    ({'actions': [{'type': 'add_tags', 'value': ['ok', 'not ok']}]}, 'actions[0].value[1]', 'invalid'),
    ({'actions': []}, 'actions', 'invalid_type'),
    ({'id': 4}, 'id', 'unknown_field'),
])
def test_validation_names_paths(api, admin_key, change, field, code):
    r = api.post('/v1/automations', token=admin_key.token, json=rule_body(**change))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)


def test_patch_validates_the_whole_rule(api, admin_key):
    rule = create_rule(api, admin_key.token, events=['ticket.updated'],
                       conditions={'all': [{'field': 'priority', 'op': 'changed_to', 'value': 'urgent'}]})
    r = api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'events': ['ticket.created']})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'conditions.all[0].op', 'invalid')
    r = api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'colour': 'red'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'colour', 'unknown_field')
    assert api.get(f'/v1/automations/{rule["id"]}', token=admin_key.token).json() == rule


def test_references_must_exist(api, admin_key):
    r = api.post('/v1/automations', token=admin_key.token, json=rule_body(
        actions=[{'type': 'assign_team', 'value': 999999999}, {'type': 'assign_agent', 'value': 999999998}]))
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'actions[0].value', 'not_found')
    assert_field_error(body, 'actions[1].value', 'not_found')
    r = api.post('/v1/automations', token=admin_key.token, json=rule_body(
        conditions={'all': [{'field': 'custom_fields.tier', 'op': 'eq', 'value': 'gold'}]}))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'conditions.all[0]', 'not_found')
    create_custom_field(api, admin_key.token, 'ticket', 'seats', 'number')
    r = api.post('/v1/automations', token=admin_key.token, json=rule_body(
        actions=[{'type': 'set_custom_field', 'field': 'seats', 'value': 'many'}]))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'actions[0].value', 'invalid_type')


def test_deleting_referenced_objects_is_refused(api, pg, admin_key):
    team, agent = create_team(api, admin_key.token), create_agent(api, admin_key.token)
    tf = create_custom_field(api, admin_key.token, 'ticket', 'tier', 'text')
    cf = create_custom_field(api, admin_key.token, 'customer', 'plan', 'text')
    r1 = create_rule(api, admin_key.token, actions=[{'type': 'assign_team', 'value': team['id']}])
    r2 = create_rule(api, admin_key.token, name='b', conditions={'all': [
        {'field': 'custom_fields.tier', 'op': 'eq', 'value': 'gold'},
        {'field': 'customer.custom_fields.plan', 'op': 'is_set'}]},
        actions=[{'type': 'assign_agent', 'value': agent['id']}, {'type': 'assign_team', 'value': team['id']}])
    for path, ids in ((f'/v1/teams/{team["id"]}', [r1['id'], r2['id']]), (f'/v1/agents/{agent["id"]}', [r2['id']]),
                      (f'/v1/custom-fields/{tf["id"]}', [r2['id']]), (f'/v1/custom-fields/{cf["id"]}', [r2['id']])):
        body = assert_problem(api.delete(path, token=admin_key.token), 409, 'conflict')
        assert body['rule_ids'] == ids, body
        assert str(ids[0]) in body['detail']
    # once the rules no longer refer to them, the deletes go through
    api.delete(f'/v1/automations/{r2["id"]}', token=admin_key.token)
    api.patch(f'/v1/automations/{r1["id"]}', token=admin_key.token, json={'actions': [{'type': 'set_status', 'value': 'open'}]})
    for path in (f'/v1/teams/{team["id"]}', f'/v1/agents/{agent["id"]}', f'/v1/custom-fields/{tf["id"]}',
                 f'/v1/custom-fields/{cf["id"]}'):
        assert api.delete(path, token=admin_key.token).status_code == 204, path


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, workspace, admin_key, make_key, role):
    rule = create_rule(api, admin_key.token)
    token = make_key(workspace.slug, role).token
    assert_problem(api.get('/v1/automations', token=token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/automations/{rule["id"]}', token=token), 403, 'forbidden')
    assert_problem(api.post('/v1/automations', token=token, json=rule_body()), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/automations/{rule["id"]}', token=token, json={'enabled': False}), 403, 'forbidden')
    assert_problem(api.delete(f'/v1/automations/{rule["id"]}', token=token), 403, 'forbidden')


def test_cross_workspace_404(api, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    rb = create_rule(api, tb)
    assert_problem(api.get(f'/v1/automations/{rb["id"]}', token=ta), 404, 'not_found')
    assert_problem(api.patch(f'/v1/automations/{rb["id"]}', token=ta, json={'enabled': False}), 404, 'not_found')
    assert_problem(api.delete(f'/v1/automations/{rb["id"]}', token=ta), 404, 'not_found')
    assert api.get('/v1/automations', token=ta).json()['data'] == []
    # b's rule does not touch a's tickets; a team of b cannot be named by a's rule
    assert create_ticket(api, ta, subject='refund please')['priority'] == 'normal'
    team_b = create_team(api, tb)
    r = api.post('/v1/automations', token=ta, json=rule_body(actions=[{'type': 'assign_team', 'value': team_b['id']}]))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'actions[0].value', 'not_found')
