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


# ---- rules at work ----

def audit(api, token, tid):
    r = api.get(f'/v1/tickets/{tid}/audit', token=token)
    assert r.status_code == 200, r.text
    return r.json()['data']


def test_created_rules_change_the_ticket_before_the_response(api, pg, admin_key):
    team = create_team(api, admin_key.token)
    r1 = create_rule(api, admin_key.token, position=1)
    r2 = create_rule(
        api, admin_key.token, name='route high', position=2,
        conditions={'all': [{'field': 'priority', 'op': 'eq', 'value': 'high'},
                            {'field': 'message.body', 'op': 'contains', 'value': 'CARD'}]},
        actions=[{'type': 'assign_team', 'value': team['id']}, {'type': 'add_tags', 'value': ['Billing']},
                 {'type': 'add_internal_note', 'value': 'Routed <by> rule'}])
    t = create_ticket(api, admin_key.token, subject='Refund my order', body='<p>My <b>card</b> was charged twice</p>')
    assert t['priority'] == 'high' and t['assignment']['team_id'] == team['id'] and t['tags'] == ['billing']
    assert t['version'] == 3
    entries = audit(api, admin_key.token, t['id'])
    assert [(e['version'], e['rule_id'], e['source'], e['actor']['type']) for e in entries] == [
        (1, None, 'api', 'api_key'), (2, r1['id'], 'automation', 'automation'), (3, r2['id'], 'automation', 'automation')]
    assert entries[0]['changes']['priority'] == {'from': None, 'to': 'normal'}
    assert entries[1]['changes'] == {'priority': {'from': 'normal', 'to': 'high'}}
    assert entries[1]['actor']['id'] == r1['id']
    assert entries[2]['changes'] == {'team_id': {'from': None, 'to': team['id']}, 'tags': {'from': [], 'to': ['billing']}}
    full = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token, params={'include_internal': 'true'}).json()
    notes = [m for m in full['messages'] if m['internal']]
    assert [(n['author_type'], n['author_id'], n['body']) for n in notes] == [('system', r2['id'], 'Routed &lt;by&gt; rule')]
    # not matching: untouched, version 1
    plain = create_ticket(api, admin_key.token, subject='Hello')
    assert plain['priority'] == 'normal' and plain['version'] == 1


def test_rule_changes_apply_to_the_very_next_request(api, admin_key):
    assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'normal'
    rule = create_rule(api, admin_key.token)
    for _ in range(3):  # every server thread notices at once
        assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'high'
    api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'actions': [{'type': 'set_priority', 'value': 'urgent'}]})
    assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'urgent'
    api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'enabled': False})
    assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'normal'
    api.patch(f'/v1/automations/{rule["id"]}', token=admin_key.token, json={'enabled': True})
    assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'urgent'
    api.delete(f'/v1/automations/{rule["id"]}', token=admin_key.token)
    assert create_ticket(api, admin_key.token, subject='refund')['priority'] == 'normal'


def test_conflict_is_409_and_writes_nothing(api, pg, workspace, admin_key):
    a = create_rule(api, admin_key.token, name='a', position=1)
    b = create_rule(api, admin_key.token, name='b', position=2, actions=[{'type': 'set_priority', 'value': 'low'}])
    before = pg.scalar(f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}')
    email = new_email()
    r = api.post('/v1/tickets', token=admin_key.token, json={'subject': 'refund', 'customer': {'email': email}})
    body = assert_problem(r, 409, 'automation_conflict')
    assert body['rule_ids'] == [a['id'], b['id']] and 'priority' in body['detail']
    assert pg.scalar(f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == before
    assert pg.scalar(f"SELECT count(*) FROM customers WHERE email = '{email}'") == '0'
    # under an Idempotency-Key the key is released: the same request after fixing the rules works
    key = {'Idempotency-Key': 'conflict-1'}
    assert_problem(api.post('/v1/tickets', token=admin_key.token, headers=key,
                            json={'subject': 'refund', 'customer': {'email': email}}), 409, 'automation_conflict')
    api.delete(f'/v1/automations/{b["id"]}', token=admin_key.token)
    r = api.post('/v1/tickets', token=admin_key.token, headers=key, json={'subject': 'refund', 'customer': {'email': email}})
    assert r.status_code == 201 and r.json()['priority'] == 'high', r.text


def test_secondary_pass_after_patch(api, pg, admin_key):
    team = create_team(api, admin_key.token)
    up = create_rule(api, admin_key.token, name='urgent goes to team', events=['ticket.updated'],
                     conditions={'all': [{'field': 'priority', 'op': 'changed_to', 'value': 'urgent'}]},
                     actions=[{'type': 'assign_team', 'value': team['id']}, {'type': 'add_tags', 'value': ['escalated']}])
    t = create_ticket(api, admin_key.token, subject='Printer')
    r = api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'priority': 'urgent'})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v['priority'] == 'urgent' and v['assignment']['team_id'] == team['id'] and v['tags'] == ['escalated']
    assert v['version'] == 3 and r.headers['ETag'] == '"3"'
    entries = audit(api, admin_key.token, t['id'])
    assert [(e['version'], e['rule_id']) for e in entries] == [(1, None), (2, None), (3, up['id'])]
    assert entries[1]['changes'] == {'priority': {'from': 'normal', 'to': 'urgent'}}
    assert entries[2]['changes'] == {'team_id': {'from': None, 'to': team['id']}, 'tags': {'from': [], 'to': ['escalated']}}
    # a PATCH that changes nothing writes nothing and runs no rules
    r = api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'priority': 'urgent'})
    assert r.json()['version'] == 3 and len(audit(api, admin_key.token, t['id'])) == 3
    # another change that does not match: one entry only
    r = api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'subject': 'Printer 2'})
    assert r.json()['version'] == 4


def test_patch_conflict_rolls_back(api, pg, admin_key):
    create_rule(api, admin_key.token, name='x', events=['ticket.updated'],
                conditions={'all': [{'field': 'status', 'op': 'changed'}]}, actions=[{'type': 'set_priority', 'value': 'high'}])
    create_rule(api, admin_key.token, name='y', events=['ticket.updated'], position=20,
                conditions={'all': [{'field': 'status', 'op': 'changed'}]}, actions=[{'type': 'set_priority', 'value': 'low'}])
    t = create_ticket(api, admin_key.token)
    body = assert_problem(api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'status': 'open'}), 409,
                          'automation_conflict')
    assert len(body['rule_ids']) == 2
    now = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()
    assert now['status'] == 'new' and now['version'] == 1 and len(audit(api, admin_key.token, t['id'])) == 1


def test_sla_follows_priority_set_by_rules(api, admin_key):
    r = api.post('/v1/sla-policies', token=admin_key.token, json={'name': 'High', 'priority': 'high',
                                                                   'first_response_minutes': 60, 'resolution_minutes': 600})
    policy = r.json()
    create_rule(api, admin_key.token)
    t = create_ticket(api, admin_key.token, subject='refund now')
    assert t['priority'] == 'high' and t['sla']['policy_id'] == policy['id'] and t['sla']['first_response_due_at']


def test_first_message_fields_without_its_text(api, admin_key):
    """A create's first message is there for rules on message.author_type even when no rule reads
    message.body (its text is only extracted from the HTML for rules that read it)."""
    create_rule(api, admin_key.token, conditions={'all': [{'field': 'message.author_type', 'op': 'eq', 'value': 'customer'}]},
                actions=[{'type': 'add_tags', 'value': ['has-message']}])
    with_body = create_ticket(api, admin_key.token, subject='s', body='<p>hello</p>')
    without = create_ticket(api, admin_key.token, subject='s')
    assert with_body['tags'] == ['has-message'] and without['tags'] == []


# ---- integrity (review findings): stale caches, references held by keys, the cap ----

def rule_on(subject_word, **kw):
    body = rule_body(conditions={'all': [{'field': 'subject', 'op': 'contains', 'value': subject_word}]})
    body.update(kw)
    return body


def test_stale_rules_naming_a_deleted_team_do_not_block_creates(api, admin_key, start_server):
    """A thread whose cached rules assign a team that was deleted since (with its rule) reloads
    them instead of answering 400 team_id not_found for a team the caller never sent."""
    srv = start_server(env={'HDF_THREADS': '1'})
    a, tok = srv.api(), admin_key.token
    team = create_team(api, tok)
    rule = api.post('/v1/automations', token=tok, json=rule_on('zzz', actions=[{'type': 'assign_team', 'value': team['id']}]))
    assert rule.status_code == 201, rule.text
    t = create_ticket(a, tok, subject='zzz one')  # the thread caches the rule
    assert t['assignment']['team_id'] == team['id']
    assert api.delete(f'/v1/automations/{rule.json()["id"]}', token=tok).status_code == 204
    assert api.patch(f'/v1/tickets/{t["id"]}', token=tok, json={'team_id': None}).status_code == 200
    assert api.delete(f'/v1/teams/{team["id"]}', token=tok).status_code == 204
    codes = [a.post('/v1/tickets', token=tok, json={'subject': 'zzz two', 'customer': {'email': new_email()}}).status_code
             for _ in range(3)]
    assert codes == [201] * 3


def test_custom_field_a_rule_sets_cannot_be_deleted(api, admin_key):
    tok = admin_key.token
    cf = create_custom_field(api, tok, 'ticket', 'score', 'number')
    rule = api.post('/v1/automations', token=tok,
                    json=rule_on('zzz', actions=[{'type': 'set_custom_field', 'field': 'score', 'value': 5}])).json()
    r = api.delete(f'/v1/custom-fields/{cf["id"]}', token=tok)
    body = assert_problem(r, 409, 'conflict')
    assert rule['id'] in body.get('rule_ids', []) or str(rule['id']) in body['detail'], body


def test_rule_written_while_its_team_is_deleted(api, pg, admin_key):
    """The delete's check and a concurrent rule insert read different snapshots; the foreign key
    of automation_rule_teams refuses the delete once the rule commits."""
    import time
    tok = admin_key.token
    ws = api.get('/v1/me', token=tok).json()['workspace']['id']
    team = create_team(api, tok)
    p = pg.psql_background(
        f"BEGIN; INSERT INTO automation_rules (workspace_id, name, events, conditions, actions, team_ids) VALUES "
        f"({ws}, 'race', '{{ticket.created}}', '{{}}', '[{{\"type\":\"assign_team\",\"value\":{team['id']}}}]', "
        f"'{{{team['id']}}}'); SELECT pg_sleep(1.5); COMMIT;")
    time.sleep(0.5)
    r = api.delete(f'/v1/teams/{team["id"]}', token=tok)
    p.wait(10)
    assert_problem(r, 409, 'conflict')
    assert api.get(f'/v1/teams/{team["id"]}', token=tok).status_code == 200
    assert api.post('/v1/tickets', token=tok, json={'subject': 'any', 'customer': {'email': new_email()}}).status_code == 201


def test_at_most_200_rules_per_workspace(api, pg, admin_key):
    tok = admin_key.token
    ws = api.get('/v1/me', token=tok).json()['workspace']['id']
    pg.psql(f"INSERT INTO automation_rules (workspace_id, name, enabled, events, conditions, actions) "
            f"SELECT {ws}, 'r' || i, false, '{{ticket.created}}', '{{}}', '[{{\"type\":\"set_priority\",\"value\":\"high\"}}]' "
            f"FROM generate_series(1, 199) i")
    assert api.post('/v1/automations', token=tok, json=rule_on('zzz', enabled=False)).status_code == 201
    body = assert_problem(api.post('/v1/automations', token=tok, json=rule_on('zzz', enabled=False)), 409, 'conflict')
    assert '200' in body['detail']


def test_customer_email_values_compare_like_stored_emails(api, admin_key):
    create_rule(api, admin_key.token, conditions={'all': [{'field': 'customer.email', 'op': 'eq', 'value': 'VIP@Example.com'}]})
    r = api.post('/v1/tickets', token=admin_key.token, json={'subject': 's', 'customer': {'email': 'vip@example.com'}})
    assert r.status_code == 201 and r.json()['priority'] == 'high', r.text
