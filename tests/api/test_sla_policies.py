"""Admin resource /v1/sla-policies (one policy per priority per workspace) and the SLA of tickets:
due times from the policy of the ticket's priority, recomputed when the priority changes (by a
PATCH or by an automation rule), breached computed on read, first response met by the first
public agent message, resolution by solved/closed."""
from datetime import timedelta

import pytest

from hdf import assert_field_error, assert_problem, parse_time
from ticket_helpers import NO_SLA, create_ticket

SLA_FIELDS = {'id', 'name', 'priority', 'first_response_minutes', 'resolution_minutes', 'created_at', 'updated_at'}


def create_policy(api, token, priority='urgent', frm=30, rm=240, name=None):
    r = api.post('/v1/sla-policies', token=token, json={'name': name or f'{priority} SLA', 'priority': priority,
                                                         'first_response_minutes': frm, 'resolution_minutes': rm})
    assert r.status_code == 201, r.text
    assert r.headers['Location'] == f'/v1/sla-policies/{r.json()["id"]}'
    return r.json()


def test_crud(api, admin_key):
    p = create_policy(api, admin_key.token, 'high', 60, 480)
    assert set(p) == SLA_FIELDS and p['priority'] == 'high' and p['first_response_minutes'] == 60
    assert api.get(f'/v1/sla-policies/{p["id"]}', token=admin_key.token).json() == p
    q = create_policy(api, admin_key.token, 'low', 600, 6000)
    page = api.get('/v1/sla-policies', token=admin_key.token, params={'limit': 1}).json()
    assert page['data'] == [p] and page['next_cursor']
    page2 = api.get('/v1/sla-policies', token=admin_key.token, params={'cursor': page['next_cursor']}).json()
    assert page2 == {'data': [q], 'next_cursor': None}
    r = api.patch(f'/v1/sla-policies/{p["id"]}', token=admin_key.token, json={'resolution_minutes': 500, 'name': 'Hi'})
    assert r.status_code == 200, r.text
    assert r.json()['resolution_minutes'] == 500 and r.json()['name'] == 'Hi' and r.json()['first_response_minutes'] == 60
    same = api.patch(f'/v1/sla-policies/{p["id"]}', token=admin_key.token, json={}).json()
    assert same == r.json()
    assert api.delete(f'/v1/sla-policies/{p["id"]}', token=admin_key.token).status_code == 204
    assert_problem(api.get(f'/v1/sla-policies/{p["id"]}', token=admin_key.token), 404, 'not_found')


def test_one_policy_per_priority(api, admin_key):
    create_policy(api, admin_key.token, 'normal')
    r = api.post('/v1/sla-policies', token=admin_key.token, json={'name': 'again', 'priority': 'normal',
                                                                   'first_response_minutes': 1, 'resolution_minutes': 2})
    assert_field_error(assert_problem(r, 409, 'conflict'), 'priority', 'duplicate')
    low = create_policy(api, admin_key.token, 'low')
    r = api.patch(f'/v1/sla-policies/{low["id"]}', token=admin_key.token, json={'priority': 'normal'})
    assert_field_error(assert_problem(r, 409, 'conflict'), 'priority', 'duplicate')


@pytest.mark.parametrize('body,field,code', [
    ({'priority': 'high', 'first_response_minutes': 1, 'resolution_minutes': 1}, 'name', 'required'),
    ({'name': 'x', 'first_response_minutes': 1, 'resolution_minutes': 1}, 'priority', 'required'),
    ({'name': 'x', 'priority': 'asap', 'first_response_minutes': 1, 'resolution_minutes': 1}, 'priority', 'invalid'),
    ({'name': 'x', 'priority': 'high', 'resolution_minutes': 1}, 'first_response_minutes', 'required'),
    ({'name': 'x', 'priority': 'high', 'first_response_minutes': 0, 'resolution_minutes': 1}, 'first_response_minutes', 'invalid'),
    ({'name': 'x', 'priority': 'high', 'first_response_minutes': '5', 'resolution_minutes': 1}, 'first_response_minutes',
     'invalid_type'),
    ({'name': 'x', 'priority': 'high', 'first_response_minutes': 1, 'resolution_minutes': 525601}, 'resolution_minutes',
     'invalid'),
    ({'name': 'x', 'priority': 'high', 'first_response_minutes': 1, 'resolution_minutes': 1, 'id': 3}, 'id', 'unknown_field'),
])
def test_validation(api, admin_key, body, field, code):
    assert_field_error(assert_problem(api.post('/v1/sla-policies', token=admin_key.token, json=body), 400,
                                      'validation_failed'), field, code)


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, workspace, admin_key, make_key, role):
    p = create_policy(api, admin_key.token)
    token = make_key(workspace.slug, role).token
    assert_problem(api.get('/v1/sla-policies', token=token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/sla-policies/{p["id"]}', token=token), 403, 'forbidden')
    assert_problem(api.post('/v1/sla-policies', token=token, json={}), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/sla-policies/{p["id"]}', token=token, json={}), 403, 'forbidden')
    assert_problem(api.delete(f'/v1/sla-policies/{p["id"]}', token=token), 403, 'forbidden')


def test_cross_workspace_404(api, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    pb = create_policy(api, tb)
    assert_problem(api.get(f'/v1/sla-policies/{pb["id"]}', token=ta), 404, 'not_found')
    assert_problem(api.patch(f'/v1/sla-policies/{pb["id"]}', token=ta, json={'name': 'x'}), 404, 'not_found')
    assert_problem(api.delete(f'/v1/sla-policies/{pb["id"]}', token=ta), 404, 'not_found')
    assert api.get('/v1/sla-policies', token=ta).json()['data'] == []
    # a ticket of workspace a with that priority has no policy: b's does not apply
    assert create_ticket(api, ta, priority='urgent')['sla'] == NO_SLA


def due(t, field):
    return parse_time(t['sla'][field]) - parse_time(t['created_at'])


def test_due_times_and_recomputation(api, pg, admin_key):
    urgent = create_policy(api, admin_key.token, 'urgent', 15, 120)
    low = create_policy(api, admin_key.token, 'low', 600, 6000)
    t = create_ticket(api, admin_key.token, priority='urgent')
    assert t['sla']['policy_id'] == urgent['id'] and t['sla']['breached'] is False
    assert due(t, 'first_response_due_at') == timedelta(minutes=15)
    assert due(t, 'resolution_due_at') == timedelta(minutes=120)
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['sla'] == t['sla']
    # priority change: recomputed from created_at with the new priority's policy
    r = api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'priority': 'low'})
    assert r.status_code == 200, r.text
    assert r.json()['sla']['policy_id'] == low['id'] and due(r.json(), 'resolution_due_at') == timedelta(minutes=6000)
    # a priority without a policy: no SLA; other changes leave it alone
    r = api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'priority': 'normal'})
    assert r.json()['sla'] == NO_SLA
    listed = api.get('/v1/tickets', token=admin_key.token, params={'priority': 'normal'}).json()['data']
    assert [x['sla'] for x in listed if x['id'] == t['id']] == [NO_SLA]
    # editing a policy does not move due times already given; deleting it keeps them too
    t2 = create_ticket(api, admin_key.token, priority='urgent')
    api.patch(f'/v1/sla-policies/{urgent["id"]}', token=admin_key.token, json={'first_response_minutes': 99})
    assert api.get(f'/v1/tickets/{t2["id"]}', token=admin_key.token).json()['sla'] == t2['sla']
    assert api.delete(f'/v1/sla-policies/{urgent["id"]}', token=admin_key.token).status_code == 204
    kept = api.get(f'/v1/tickets/{t2["id"]}', token=admin_key.token).json()['sla']
    assert kept['policy_id'] is None and kept['first_response_due_at'] == t2['sla']['first_response_due_at']


def test_breached(api, pg, admin_key):
    create_policy(api, admin_key.token, 'high', 1, 2)
    t = create_ticket(api, admin_key.token, priority='high')
    # move the ticket into the past instead of waiting
    pg.psql(f"UPDATE tickets SET first_response_due_at = now() - interval '1 minute' WHERE id = {t['id']}")
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['sla']['breached'] is True
    t2 = create_ticket(api, admin_key.token, priority='high')
    # a public agent message meets the first response target; an internal note does not
    api.post(f'/v1/tickets/{t2["id"]}/messages', token=admin_key.token, json={'body': 'note', 'internal': True})
    assert pg.scalar(f'SELECT first_response_at IS NULL FROM tickets WHERE id = {t2["id"]}') == 't'
    r = api.post(f'/v1/tickets/{t2["id"]}/messages', token=admin_key.token, json={'body': 'On it'})
    assert r.status_code == 201, r.text
    assert pg.scalar(f'SELECT first_response_at IS NOT NULL FROM tickets WHERE id = {t2["id"]}') == 't'
    pg.psql(f"UPDATE tickets SET first_response_due_at = now() + interval '1 minute',"
               f" resolution_due_at = now() - interval '1 minute' WHERE id = {t2['id']}")
    assert api.get(f'/v1/tickets/{t2["id"]}', token=admin_key.token).json()['sla']['breached'] is True
    # solved in time: not breached
    t3 = create_ticket(api, admin_key.token, priority='high')
    api.post(f'/v1/tickets/{t3["id"]}/messages', token=admin_key.token, json={'body': 'Hi'})
    r = api.patch(f'/v1/tickets/{t3["id"]}', token=admin_key.token, json={'status': 'solved'})
    assert r.json()['sla']['breached'] is False
    assert pg.scalar(f'SELECT resolved_at IS NOT NULL FROM tickets WHERE id = {t3["id"]}') == 't'


def test_solved_in_time_without_a_reply_is_not_breached(api, pg, admin_key):
    """Resolving a ticket before its first response is due meets that target too: the ticket
    must not turn breached once the due time passes."""
    create_policy(api, admin_key.token, 'high', 1, 2)
    t = create_ticket(api, admin_key.token, priority='high')
    assert api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'status': 'solved'}).status_code == 200
    assert pg.scalar(f'SELECT resolved_at IS NOT NULL FROM tickets WHERE id = {t["id"]}') == 't'
    # both due times are now past, and the resolution (10 minutes before them) met both
    pg.psql(f"UPDATE tickets SET resolved_at = resolved_at - interval '10 minutes', first_response_due_at = now() - interval"
            f" '1 minute', resolution_due_at = now() - interval '1 minute' WHERE id = {t['id']}")
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['sla']['breached'] is False
