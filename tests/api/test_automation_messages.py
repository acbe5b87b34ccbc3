"""message.created rules at POST /v1/tickets/{id}/messages (docs/automation.md): the message's
fields (text without markup, author type, internal) with the ticket's and customer's, effects on
the ticket audited per rule, notes after the message, a conflict answered 409 with nothing written
(an Idempotency-Key released), and a create's first message left to ticket.created rules."""
from hdf import assert_problem
from test_automations import audit, create_rule
from ticket_helpers import create_team, create_ticket, new_email


def post_message(api, token, tid, **body):
    return api.post(f'/v1/tickets/{tid}/messages', token=token, json=body)


def counts(pg, tid):
    return (pg.scalar(f'SELECT count(*) FROM messages WHERE ticket_id = {tid}'),
            pg.scalar(f"SELECT count(*) FROM audit_log WHERE object_type = 'ticket' AND object_id = {tid}"),
            pg.scalar(f'SELECT version FROM tickets WHERE id = {tid}'))


def test_message_rules_change_the_ticket(api, pg, admin_key):
    team = create_team(api, admin_key.token)
    r1 = create_rule(api, admin_key.token, name='angry customer', position=1, events=['message.created'],
                     conditions={'all': [{'field': 'message.body', 'op': 'contains', 'value': 'ANGRY'},
                                         {'field': 'message.author_type', 'op': 'eq', 'value': 'customer'},
                                         {'field': 'message.internal', 'op': 'eq', 'value': False}]},
                     actions=[{'type': 'set_priority', 'value': 'urgent'}, {'type': 'add_internal_note', 'value': 'Calm <down>'}])
    r2 = create_rule(api, admin_key.token, name='urgent to team', position=2, events=['message.created'],
                     conditions={'all': [{'field': 'priority', 'op': 'eq', 'value': 'urgent'}]},
                     actions=[{'type': 'assign_team', 'value': team['id']}])
    t = create_ticket(api, admin_key.token, subject='Order')
    # markup is not text: <b>angry</b> matches
    r = post_message(api, admin_key.token, t['id'], body='<p>I am <b>angry</b></p>', author_type='customer')
    assert r.status_code == 201, r.text
    msg = r.json()
    assert msg['author_type'] == 'customer' and msg['ticket_id'] == t['id'] and 'angry' in msg['body']
    now = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token, params={'include_internal': 'true'}).json()
    assert now['priority'] == 'urgent' and now['assignment']['team_id'] == team['id'] and now['version'] == 3
    entries = audit(api, admin_key.token, t['id'])
    assert [(e['version'], e['rule_id'], e['source']) for e in entries] == [
        (1, None, 'api'), (2, r1['id'], 'automation'), (3, r2['id'], 'automation')]
    assert entries[1]['changes'] == {'priority': {'from': 'normal', 'to': 'urgent'}}
    assert entries[1]['actor'] == {'type': 'automation', 'id': r1['id']}
    assert entries[2]['changes'] == {'team_id': {'from': None, 'to': team['id']}}
    # the note follows the message
    assert [(m['author_type'], m['internal']) for m in now['messages']] == [('customer', False), ('system', True)]
    assert now['messages'][0]['id'] == msg['id'] and now['messages'][1]['body'] == 'Calm &lt;down&gt;'
    assert now['messages'][1]['author_id'] == r1['id']
    # an agent's or internal message does not match r1; r2 matches but changes nothing: no entry
    assert post_message(api, admin_key.token, t['id'], body='angry', internal=True).status_code == 201
    assert post_message(api, admin_key.token, t['id'], body='angry').status_code == 201
    assert counts(pg, t['id']) == ('4', '3', '3')


def test_markup_is_not_text(api, admin_key):
    create_rule(api, admin_key.token, events=['message.created'],
                conditions={'all': [{'field': 'message.body', 'op': 'contains', 'value': 'secret'}]},
                actions=[{'type': 'add_tags', 'value': ['hit']}])
    t = create_ticket(api, admin_key.token)
    assert post_message(api, admin_key.token, t['id'], body='<p title="secret">plain</p>').status_code == 201
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['tags'] == []
    assert post_message(api, admin_key.token, t['id'], body='<p>a <i>secret</i></p>').status_code == 201
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['tags'] == ['hit']


def test_message_rules_not_matching_and_missing_ticket(api, admin_key):
    create_rule(api, admin_key.token, events=['message.created'],
                conditions={'all': [{'field': 'subject', 'op': 'eq', 'value': 'tagme'}]},
                actions=[{'type': 'add_tags', 'value': ['seen']}])
    plain = create_ticket(api, admin_key.token, subject='other')
    assert post_message(api, admin_key.token, plain['id'], body='hi').status_code == 201
    assert api.get(f'/v1/tickets/{plain["id"]}', token=admin_key.token).json()['version'] == 1
    assert_problem(post_message(api, admin_key.token, 999999999, body='hi'), 404, 'not_found')


def test_message_rules_apply_on_the_very_next_message(api, admin_key):
    t = create_ticket(api, admin_key.token, subject='tagme')
    assert post_message(api, admin_key.token, t['id'], body='one').status_code == 201
    rule = create_rule(api, admin_key.token, events=['message.created'], conditions=None,
                       actions=[{'type': 'add_tags', 'value': ['seen']}])
    for _ in range(3):  # every thread notices: the insert checks the rules version
        assert post_message(api, admin_key.token, t['id'], body='two').status_code == 201
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['tags'] == ['seen']
    api.delete(f'/v1/automations/{rule["id"]}', token=admin_key.token)
    assert post_message(api, admin_key.token, t['id'], body='three').status_code == 201
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 2


def test_message_rule_conflict_writes_nothing(api, pg, admin_key):
    a = create_rule(api, admin_key.token, name='a', position=1, events=['message.created'], conditions=None,
                    actions=[{'type': 'set_status', 'value': 'open'}])
    b = create_rule(api, admin_key.token, name='b', position=2, events=['message.created'], conditions=None,
                    actions=[{'type': 'set_status', 'value': 'pending'}, {'type': 'add_internal_note', 'value': 'x'}])
    t = create_ticket(api, admin_key.token)
    before = counts(pg, t['id'])
    body = assert_problem(post_message(api, admin_key.token, t['id'], body='hello'), 409, 'automation_conflict')
    assert body['rule_ids'] == [a['id'], b['id']] and 'status' in body['detail']
    assert counts(pg, t['id']) == before
    key = {'Idempotency-Key': 'msg-conflict-1'}
    r = api.post(f'/v1/tickets/{t["id"]}/messages', token=admin_key.token, headers=key, json={'body': 'hello'})
    assert_problem(r, 409, 'automation_conflict')
    assert counts(pg, t['id']) == before
    api.delete(f'/v1/automations/{b["id"]}', token=admin_key.token)
    r = api.post(f'/v1/tickets/{t["id"]}/messages', token=admin_key.token, headers=key, json={'body': 'hello'})
    assert r.status_code == 201, r.text
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['status'] == 'open'


def test_create_first_message_runs_ticket_created_rules_only(api, admin_key):
    create_rule(api, admin_key.token, name='on message', events=['message.created'], conditions=None,
                actions=[{'type': 'add_tags', 'value': ['from-message']}])
    create_rule(api, admin_key.token, name='on create', events=['ticket.created'],
                conditions={'all': [{'field': 'message.body', 'op': 'contains', 'value': 'help'}]},
                actions=[{'type': 'add_tags', 'value': ['from-create']}])
    r = api.post('/v1/tickets', token=admin_key.token,
                 json={'subject': 's', 'body': '<p>help</p>', 'customer': {'email': new_email()}})
    assert r.status_code == 201, r.text
    assert r.json()['tags'] == ['from-create']
    assert post_message(api, admin_key.token, r.json()['id'], body='more').status_code == 201
    tags = api.get(f'/v1/tickets/{r.json()["id"]}', token=admin_key.token).json()['tags']
    assert sorted(tags) == ['from-create', 'from-message']
