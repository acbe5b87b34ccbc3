"""POST /v1/tickets/{id}/messages (CONTRACT.md, Tickets) and X-Acting-Agent-Id on messages."""
import pytest

from hdf import assert_field_error, assert_problem, parse_time
from ticket_helpers import assert_message, count, create_agent, create_ticket


def post_message(api, token, tid, body, headers=None):
    return api.post(f'/v1/tickets/{tid}/messages', token=token, json=body, headers=headers)


def test_message_defaults_and_shape(api, pg, workspace, admin_key):
    t = create_ticket(api, admin_key.token)
    r = post_message(api, admin_key.token, t['id'], {'body': '<p>We are on it.</p>'})
    assert r.status_code == 201, r.text
    assert r.headers['Content-Type'].split(';')[0] == 'application/json'
    m = r.json()
    assert_message(m)
    assert m['ticket_id'] == t['id']
    assert m['author_type'] == 'agent' and m['internal'] is False and m['author_id'] is None
    assert m['body'] == '<p>We are on it.</p>'
    parse_time(m['created_at'])
    view = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()
    assert view['messages'] == [m]
    # a message is not a change of the ticket's fields: no version, no audit entry
    assert view['version'] == 1
    assert count(pg, f"SELECT count(*) FROM audit_log WHERE object_type = 'ticket' AND object_id = {t['id']}") == 1


def test_customer_message_is_the_tickets_customers(api, workspace, admin_key, make_key):
    agent_key = make_key(workspace.slug, 'agent').token
    t = create_ticket(api, admin_key.token, body='first')
    r = post_message(api, agent_key, t['id'], {'body': 'from the customer', 'author_type': 'customer'})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m['author_type'] == 'customer' and m['author_id'] == t['customer']['id'] and m['internal'] is False
    r = post_message(api, agent_key, t['id'], {'body': 'explicitly public', 'author_type': 'agent', 'internal': False})
    assert r.status_code == 201, r.text
    msgs = api.get(f'/v1/tickets/{t["id"]}', token=agent_key).json()['messages']
    assert [x['body'] for x in msgs] == ['first', 'from the customer', 'explicitly public']  # oldest first


def test_internal_notes_by_agents_only(api, workspace, admin_key, make_key):
    agent_key = make_key(workspace.slug, 'agent').token
    t = create_ticket(api, admin_key.token)
    r = post_message(api, agent_key, t['id'], {'body': 'note to self', 'internal': True})
    assert r.status_code == 201, r.text
    assert r.json()['internal'] is True and r.json()['author_type'] == 'agent'
    r = post_message(api, agent_key, t['id'], {'body': 'sneaky', 'author_type': 'customer', 'internal': True})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'internal')
    full = api.get(f'/v1/tickets/{t["id"]}?include_internal=true', token=admin_key.token).json()['messages']
    assert [x['body'] for x in full] == ['note to self']


def test_message_body_sanitized_and_limited_in_characters(api, admin_key):
    t = create_ticket(api, admin_key.token)
    r = post_message(api, admin_key.token, t['id'],
                     {'body': '<b>bold</b><script>x()</script><a href="javascript:y()">l</a><iframe src="https://e.x"></iframe>'})
    assert r.status_code == 201, r.text
    body = r.json()['body']
    assert '<b>bold</b>' in body and 'script' not in body and 'javascript' not in body and 'iframe' not in body
    r = post_message(api, admin_key.token, t['id'], {'body': 'é' * 50000})
    assert r.status_code == 201 and r.json()['body'] == 'é' * 50000, r.text[:300]
    r = post_message(api, admin_key.token, t['id'], {'body': 'é' * 50001})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'body', 'too_long')


@pytest.mark.parametrize('char', ['&', '\u00a0', '"'], ids=['amp', 'nbsp', 'quot'])
def test_message_body_at_the_limit_that_grows_when_escaped(api, admin_key, char):
    """50,000 characters are accepted whatever they are, even when the stored (escaped) body is longer."""
    t = create_ticket(api, admin_key.token)
    r = post_message(api, admin_key.token, t['id'], {'body': char * 50000})
    assert r.status_code == 201, r.text[:300]


@pytest.mark.parametrize('body,field,code', [
    ({}, 'body', 'required'),
    ({'body': None}, 'body', 'invalid_type'),
    ({'body': 5}, 'body', 'invalid_type'),
    ({'body': 'x', 'author_type': 'system'}, 'author_type', 'invalid'),
    ({'body': 'x', 'author_type': 1}, 'author_type', 'invalid_type'),
    ({'body': 'x', 'internal': 'yes'}, 'internal', 'invalid_type'),
    ({'body': 'x', 'author_id': 3}, 'author_id', 'unknown_field'),
    ({'body': 'x', 'ticket_id': 3}, 'ticket_id', 'unknown_field'),
])
def test_message_validation(api, pg, admin_key, body, field, code):
    t = create_ticket(api, admin_key.token)
    r = post_message(api, admin_key.token, t['id'], body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert count(pg, f'SELECT count(*) FROM messages WHERE ticket_id = {t["id"]}') == 0


def test_message_errors_at_once(api, admin_key):
    t = create_ticket(api, admin_key.token)
    r = post_message(api, admin_key.token, t['id'], {'author_type': 'bot', 'internal': 3, 'x': 1})
    got = assert_problem(r, 400, 'validation_failed')
    assert {('body', 'required'), ('author_type', 'invalid'), ('internal', 'invalid_type'),
            ('x', 'unknown_field')} <= {(e['field'], e['code']) for e in got['errors']}


def test_message_on_missing_or_foreign_ticket(api, pg, admin_key, make_workspace, make_key):
    t = create_ticket(api, admin_key.token)
    other = make_key(make_workspace().slug, 'admin').token
    assert_problem(post_message(api, other, t['id'], {'body': 'x'}), 404, 'not_found')
    assert_problem(post_message(api, admin_key.token, t['id'] + 10 ** 9, {'body': 'x'}), 404, 'not_found')
    for bad in ('0', 'abc', str(2 ** 63)):
        r = api.post(f'/v1/tickets/{bad}/messages', token=admin_key.token, json={'body': 'x'})
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id', 'invalid')
    assert count(pg, f'SELECT count(*) FROM messages WHERE ticket_id = {t["id"]}') == 0


def test_acting_agent_authors_the_message(api, workspace, admin_key, make_key):
    agent = create_agent(api, admin_key.token)
    agent_key = make_key(workspace.slug, 'agent').token
    t = create_ticket(api, admin_key.token)
    hdr = {'X-Acting-Agent-Id': str(agent['id'])}
    r = post_message(api, agent_key, t['id'], {'body': 'hello from Ada'}, headers=hdr)
    assert r.status_code == 201, r.text
    assert r.json()['author_type'] == 'agent' and r.json()['author_id'] == agent['id']
    r = post_message(api, agent_key, t['id'], {'body': 'note', 'internal': True}, headers=hdr)
    assert r.status_code == 201 and r.json()['author_id'] == agent['id'], r.text
    # a customer's message stays the customer's even when an agent relays it
    r = post_message(api, agent_key, t['id'], {'body': 'relayed', 'author_type': 'customer'}, headers=hdr)
    assert r.status_code == 201 and r.json()['author_id'] == t['customer']['id'], r.text


def test_acting_agent_must_be_an_active_agent_of_the_workspace(api, pg, workspace, admin_key, make_key,
                                                               make_workspace):
    t = create_ticket(api, admin_key.token)
    inactive = create_agent(api, admin_key.token, active=False)
    foreign = create_agent(api, make_key(make_workspace().slug, 'admin').token)
    for value in (str(inactive['id']), str(foreign['id']), str(2 ** 62), 'abc', '0', '-3', str(2 ** 63)):
        r = post_message(api, admin_key.token, t['id'], {'body': 'x'}, headers={'X-Acting-Agent-Id': value})
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'X-Acting-Agent-Id')
    assert count(pg, f'SELECT count(*) FROM messages WHERE ticket_id = {t["id"]}') == 0
