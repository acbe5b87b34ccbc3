"""POST /v1/automations/dry-run (docs/automation.md, Dry-run): what the committed rules would do to
a create, a PATCH or a message (matched, changes, notes, conflict, trace), the embedded body
validated like the real endpoint's, admin keys only, tickets of other workspaces 404, and nothing
written."""
import pytest

from hdf import assert_field_error, assert_problem
from test_automations import create_rule
from ticket_helpers import create_team, create_ticket, new_email

URL = '/v1/automations/dry-run'


def totals(pg, ws):
    return tuple(pg.scalar(f'SELECT count(*) FROM {t} WHERE workspace_id = {ws}')
                 for t in ('tickets', 'customers', 'audit_log', 'messages'))


def dry(api, token, body, status=200):
    r = api.post(URL, token=token, json=body)
    assert r.status_code == status, r.text
    return r.json()


def test_created(api, pg, workspace, admin_key):
    team = create_team(api, admin_key.token)
    r1 = create_rule(api, admin_key.token, position=1)
    r2 = create_rule(api, admin_key.token, name='route', position=2,
                     conditions={'all': [{'field': 'priority', 'op': 'eq', 'value': 'high'},
                                         {'field': 'message.body', 'op': 'contains', 'value': 'card'}]},
                     actions=[{'type': 'assign_team', 'value': team['id']}, {'type': 'add_internal_note', 'value': 'n'}])
    r3 = create_rule(api, admin_key.token, name='never', position=3,
                     conditions={'all': [{'field': 'subject', 'op': 'eq', 'value': 'nope'}]})
    before = totals(pg, workspace.id)
    out = dry(api, admin_key.token, {'event': 'ticket.created', 'ticket': {
        'subject': 'Refund', 'body': '<p>my <b>card</b></p>', 'customer': {'email': new_email()}}})
    assert out['matched'] == [{'rule_id': r1['id'], 'name': r1['name'], 'position': 1},
                              {'rule_id': r2['id'], 'name': 'route', 'position': 2}]
    assert out['changes'] == {'priority': {'from': 'normal', 'to': 'high'}, 'team_id': {'from': None, 'to': team['id']}}
    assert out['conflict'] is None
    assert [n['rule_id'] for n in out['notes']] == [r2['id']]
    assert [(t['rule_id'], t['matched']) for t in out['trace']] == [(r1['id'], True), (r2['id'], True), (r3['id'], False)]
    assert totals(pg, workspace.id) == before


def test_updated_and_conflict(api, pg, workspace, admin_key):
    a = create_rule(api, admin_key.token, name='a', events=['ticket.updated'], position=1,
                    conditions={'all': [{'field': 'status', 'op': 'changed_to', 'value': 'open'}]},
                    actions=[{'type': 'set_priority', 'value': 'high'}])
    t = create_ticket(api, admin_key.token)
    before = totals(pg, workspace.id)
    out = dry(api, admin_key.token, {'event': 'ticket.updated', 'ticket_id': t['id'], 'changes': {'status': 'open'}})
    assert [m['rule_id'] for m in out['matched']] == [a['id']]
    assert out['changes'] == {'priority': {'from': 'normal', 'to': 'high'}} and out['conflict'] is None
    # nothing changes: no rules run, as in a real PATCH
    out = dry(api, admin_key.token, {'event': 'ticket.updated', 'ticket_id': t['id'], 'changes': {'status': 'new'}})
    assert out['matched'] == [] and out['changes'] == {}
    b = create_rule(api, admin_key.token, name='b', events=['ticket.updated'], position=2,
                    conditions={'all': [{'field': 'status', 'op': 'changed'}]},
                    actions=[{'type': 'set_priority', 'value': 'low'}])
    out = dry(api, admin_key.token, {'event': 'ticket.updated', 'ticket_id': t['id'], 'changes': {'status': 'open'}})
    assert out['conflict']['rule_ids'] == [a['id'], b['id']] and out['conflict']['field'] == 'priority'
    assert out['changes'] == {}
    assert totals(pg, workspace.id) == before
    now = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()
    assert now['status'] == 'new' and now['version'] == 1


def test_message_created(api, admin_key):
    r = create_rule(api, admin_key.token, events=['message.created'],
                    conditions={'all': [{'field': 'message.author_type', 'op': 'eq', 'value': 'customer'}]},
                    actions=[{'type': 'add_tags', 'value': ['replied']}])
    t = create_ticket(api, admin_key.token)
    out = dry(api, admin_key.token, {'event': 'message.created', 'ticket_id': t['id'],
                                     'message': {'body': 'thanks', 'author_type': 'customer'}})
    assert [m['rule_id'] for m in out['matched']] == [r['id']] and out['changes'] == {'tags': {'from': [], 'to': ['replied']}}
    out = dry(api, admin_key.token, {'event': 'message.created', 'ticket_id': t['id'], 'message': {'body': 'hi'}})
    assert out['matched'] == []


def test_reflects_committed_rules(api, admin_key):
    body = {'event': 'ticket.created', 'ticket': {'subject': 'refund', 'customer': {'email': new_email()}}}
    assert dry(api, admin_key.token, body)['matched'] == []
    rule = create_rule(api, admin_key.token)
    assert [m['rule_id'] for m in dry(api, admin_key.token, body)['matched']] == [rule['id']]
    api.delete(f'/v1/automations/{rule["id"]}', token=admin_key.token)
    assert dry(api, admin_key.token, body)['matched'] == []


@pytest.mark.parametrize('body,field,code', [
    ({}, 'event', 'required'),
    ({'event': 'ticket.closed'}, 'event', 'invalid'),
    ({'event': 'ticket.created'}, 'ticket', 'required'),
    ({'event': 'ticket.created', 'ticket': {'customer': {'email': 'a@example.com'}}}, 'ticket.subject', 'required'),
    ({'event': 'ticket.created', 'ticket': {'subject': 's', 'priority': 'asap', 'customer': {'email': 'a@example.com'}}},
     'ticket.priority', 'invalid'),
    ({'event': 'ticket.created', 'ticket': {'subject': 's', 'customer': {'email': 'a@example.com'}}, 'extra': 1},
     'extra', 'unknown_field'),
    ({'event': 'ticket.updated', 'changes': {'status': 'open'}}, 'ticket_id', 'required'),
    ({'event': 'ticket.updated', 'ticket_id': 1, 'changes': {'status': 'gone'}}, 'changes.status', 'invalid'),
    ({'event': 'message.created', 'ticket_id': 1, 'message': {}}, 'message.body', 'required'),
])
def test_validation(api, admin_key, body, field, code):
    assert_field_error(assert_problem(api.post(URL, token=admin_key.token, json=body), 400, 'validation_failed'), field, code)


def test_validation_against_the_workspace(api, admin_key):
    r = api.post(URL, token=admin_key.token, json={'event': 'ticket.created', 'ticket': {
        'subject': 's', 'team_id': 999999999, 'custom_fields': {'nope': 1}, 'customer': {'email': new_email()}}})
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'ticket.team_id', 'not_found')
    assert {e['field'] for e in body['errors']} >= {'ticket.team_id'}
    assert any(e['field'].startswith('ticket.custom_fields') for e in body['errors'])


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_admin_only(api, workspace, make_key, role):
    r = api.post(URL, token=make_key(workspace.slug, role).token,
                 json={'event': 'ticket.created', 'ticket': {'subject': 's', 'customer': {'email': new_email()}}})
    assert_problem(r, 403, 'forbidden')


def test_other_workspaces_ticket_is_404(api, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    tkt = create_ticket(api, tb)
    for body in ({'event': 'ticket.updated', 'ticket_id': tkt['id'], 'changes': {'status': 'open'}},
                 {'event': 'message.created', 'ticket_id': tkt['id'], 'message': {'body': 'x'}}):
        assert_problem(api.post(URL, token=ta, json=body), 404, 'not_found')
    assert dry(api, tb, {'event': 'ticket.updated', 'ticket_id': tkt['id'], 'changes': {'status': 'open'}})['matched'] == []
