"""Tickets (CONTRACT.md, Tickets): POST /v1/tickets, GET /v1/tickets/{id}, PATCH /v1/tickets/{id}.
Messages and the audit log have their own files (test_tickets_messages.py, test_tickets_audit.py)."""
import concurrent.futures
import secrets
import time

import pytest
import requests

from hdf import assert_field_error, assert_problem, parse_time, wait_until
from ticket_helpers import (assert_ticket, audit_entries, count, create_agent, create_custom_field, create_team,
                            create_ticket, new_email, ticket_body, ticket_row)


# ---------------------------------------------------------------------------------------------
# POST /v1/tickets
# ---------------------------------------------------------------------------------------------

def test_create_returns_the_composite_view(api, pg, workspace, admin_key):
    team = create_team(api, admin_key.token)
    agent = create_agent(api, admin_key.token, team_ids=[team['id']])
    create_custom_field(api, admin_key.token, 'ticket', 'order_ref', 'text')
    create_custom_field(api, admin_key.token, 'customer', 'tier', 'enum', ['gold', 'silver'])
    body = {'subject': 'Refund for order 42', 'priority': 'high', 'status': 'open', 'channel': 'email',
            'customer': {'email': 'Buyer@Example.com', 'name': 'Bea Buyer', 'tags': ['VIP'],
                         'custom_fields': {'tier': 'gold'}},
            'body': '<p>Please refund.</p>', 'tags': ['refund', 'billing'],
            'custom_fields': {'order_ref': 'A-42'}, 'team_id': team['id'], 'assignee_id': agent['id']}
    r = api.post('/v1/tickets', token=admin_key.token, json=body)
    assert r.status_code == 201, r.text
    assert r.headers['Content-Type'].split(';')[0] == 'application/json'
    t = r.json()
    assert_ticket(t)
    assert r.headers['Location'] == f'/v1/tickets/{t["id"]}'
    assert r.headers['ETag'] == '"1"'
    assert t['subject'] == 'Refund for order 42'
    assert (t['status'], t['priority'], t['channel']) == ('open', 'high', 'email')
    assert t['customer']['email'] == 'buyer@example.com'
    assert t['customer']['name'] == 'Bea Buyer' and t['customer']['phone'] is None
    assert t['customer']['tags'] == ['vip'] and t['customer']['custom_fields'] == {'tier': 'gold'}
    assert t['tags'] == ['refund', 'billing']
    assert t['custom_fields'] == {'order_ref': 'A-42'}
    assert t['assignment'] == {'team_id': team['id'], 'assignee_id': agent['id']}
    assert t['version'] == 1
    assert t['created_at'] == t['updated_at']
    assert len(t['messages']) == 1
    m = t['messages'][0]
    assert m['author_type'] == 'customer' and m['author_id'] == t['customer']['id'] and m['internal'] is False
    assert m['body'] == '<p>Please refund.</p>'
    # the stored ticket reads back identically
    g = api.get(r.headers['Location'], token=admin_key.token)
    assert g.status_code == 200, g.text
    assert g.json() == t
    assert g.headers['ETag'] == '"1"'
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 1


def test_create_defaults(api, admin_key):
    t = create_ticket(api, admin_key.token)
    assert_ticket(t)
    assert (t['status'], t['priority'], t['channel']) == ('new', 'normal', 'api')
    assert t['tags'] == [] and t['custom_fields'] == {} and t['messages'] == []
    assert t['assignment'] == {'team_id': None, 'assignee_id': None}
    assert t['customer']['name'] is None and t['customer']['tags'] == [] and t['customer']['custom_fields'] == {}


@pytest.mark.parametrize('field,values', [
    ('status', ['new', 'open', 'pending', 'on_hold', 'solved', 'closed']),
    ('priority', ['low', 'normal', 'high', 'urgent']),
    ('channel', ['api', 'email', 'web', 'chat']),
])
def test_create_accepts_every_enum_value(api, admin_key, field, values):
    for v in values:
        assert create_ticket(api, admin_key.token, **{field: v})[field] == v


def test_agent_key_creates_and_explicit_nulls(api, workspace, make_key):
    agent = make_key(workspace.slug, 'agent')
    t = create_ticket(api, agent.token, team_id=None, assignee_id=None)
    assert t['assignment'] == {'team_id': None, 'assignee_id': None}


def test_subject_and_name_limits_count_characters(api, admin_key):
    t = create_ticket(api, admin_key.token, subject='é' * 250, customer={'email': new_email(), 'name': 'ñ' * 200})
    assert t['subject'] == 'é' * 250 and t['customer']['name'] == 'ñ' * 200
    assert create_ticket(api, admin_key.token, subject='x')['subject'] == 'x'


def test_customer_found_by_normalised_email(api, pg, workspace, admin_key, make_workspace, make_key):
    local = f'mixed-{secrets.token_hex(4)}'
    t1 = create_ticket(api, admin_key.token, customer={'email': f'  {local.upper()}@Example.COM \t'})
    assert t1['customer']['email'] == f'{local}@example.com'
    t2 = create_ticket(api, admin_key.token, customer={'email': f'{local}@example.com'})
    t3 = create_ticket(api, admin_key.token, customer={'email': f'{local.capitalize()}@EXAMPLE.com'})
    assert t1['customer']['id'] == t2['customer']['id'] == t3['customer']['id']
    assert len({t1['id'], t2['id'], t3['id']}) == 3
    assert count(pg, f"SELECT count(*) FROM customers WHERE workspace_id = {workspace.id}") == 1
    # another workspace has its own customer for the same address
    other = make_workspace()
    t4 = create_ticket(api, make_key(other.slug, 'admin').token, customer={'email': f'{local}@example.com'})
    assert t4['customer']['id'] != t1['customer']['id']


def test_tags_lowercased_deduplicated_in_first_occurrence_order(api, admin_key):
    t = create_ticket(api, admin_key.token, tags=['Billing', 'urgent', 'BILLING', 'a:b-c_d', 'Urgent', '9lives'])
    assert t['tags'] == ['billing', 'urgent', 'a:b-c_d', '9lives']
    longest = 'a' + 'b' * 63
    fifty = [f't{i}' for i in range(50)]
    assert create_ticket(api, admin_key.token, tags=[longest])['tags'] == [longest]
    assert create_ticket(api, admin_key.token, tags=fifty)['tags'] == fifty


@pytest.mark.parametrize('tags,field,code', [
    ([f't{i}' for i in range(51)], 'tags', 'too_many'),
    (['-lead'], 'tags[0]', 'invalid'),
    (['_lead'], 'tags[0]', 'invalid'),
    (['ok', 'a' * 65], 'tags[1]', 'invalid'),
    (['with space'], 'tags[0]', 'invalid'),
    (['café'], 'tags[0]', 'invalid'),
    ([''], 'tags[0]', 'invalid'),
    (['a/b'], 'tags[0]', 'invalid'),
    ([5], 'tags[0]', 'invalid_type'),
    ('billing', 'tags', 'invalid_type'),
])
def test_bad_tags(api, admin_key, tags, field, code):
    r = api.post('/v1/tickets', token=admin_key.token, json=ticket_body(tags=tags))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)


def test_body_is_sanitized(api, admin_key):
    html = ('<p onclick="steal()">Hi <b>there</b><script>alert(1)</script>'
            '<a href="javascript:alert(2)">click</a> <a href="https://example.com/x">ok</a></p>')
    t = create_ticket(api, admin_key.token, body=html)
    stored = t['messages'][0]['body']
    assert '<b>there</b>' in stored
    assert 'script' not in stored and 'alert' not in stored and 'onclick' not in stored
    assert 'javascript' not in stored
    assert 'click' in stored  # the text stays
    assert 'href="https://example.com/x"' in stored and 'noopener' in stored


def test_body_limit_counts_characters_not_bytes(api, admin_key):
    t = create_ticket(api, admin_key.token, body='é' * 50000)  # 100,000 bytes
    assert t['messages'][0]['body'] == 'é' * 50000
    for too_long in ('é' * 50001, 'x' * 50001):
        r = api.post('/v1/tickets', token=admin_key.token, json=ticket_body(body=too_long))
        e = assert_field_error(assert_problem(r, 400, 'validation_failed'), 'body', 'too_long')
        assert '50000' in e['message'].replace(',', '')


@pytest.mark.parametrize('char', ['&', '<', '\u00a0', '"', '>'], ids=['amp', 'lt', 'nbsp', 'quot', 'gt'])
def test_body_at_the_limit_that_grows_when_escaped(api, admin_key, char):
    """50,000 characters are allowed whatever they are; escaping may make the stored body longer."""
    body = char * 50000
    r = api.post('/v1/tickets', token=admin_key.token, json=ticket_body(body=body))
    assert r.status_code == 201, r.text[:500]


@pytest.mark.parametrize('patch,field,code', [
    ({'subject': None}, 'subject', 'invalid_type'),
    ({'subject': ''}, 'subject', 'too_short'),
    ({'subject': 'x' * 251}, 'subject', 'too_long'),
    ({'subject': 'é' * 251}, 'subject', 'too_long'),
    ({'subject': 7}, 'subject', 'invalid_type'),
    ({'customer': 'a@b.co'}, 'customer', 'invalid_type'),
    ({'customer': {}}, 'customer.email', 'required'),
    ({'customer': {'email': 'not-an-email'}}, 'customer.email', 'invalid'),
    ({'customer': {'email': 5}}, 'customer.email', 'invalid_type'),
    ({'customer': {'email': 'a@example.com', 'name': 'n' * 201}}, 'customer.name', 'too_long'),
    ({'customer': {'email': 'a@example.com', 'tags': ['-x']}}, 'customer.tags[0]', 'invalid'),
    ({'customer': {'email': 'a@example.com', 'custom_fields': []}}, 'customer.custom_fields', 'invalid_type'),
    ({'customer': {'email': 'a@example.com', 'phone': '+1 555'}}, 'customer.phone', 'unknown_field'),
    ({'customer': {'email': 'a@example.com', 'id': 1}}, 'customer.id', 'unknown_field'),
    ({'body': 5}, 'body', 'invalid_type'),
    ({'priority': 'critical'}, 'priority', 'invalid'),
    ({'priority': 1}, 'priority', 'invalid_type'),
    ({'status': 'deleted'}, 'status', 'invalid'),
    ({'channel': 'fax'}, 'channel', 'invalid'),
    ({'team_id': 'x'}, 'team_id', 'invalid_type'),
    ({'team_id': 1.5}, 'team_id', 'invalid_type'),
    ({'team_id': 0}, 'team_id', 'invalid'),
    ({'assignee_id': -1}, 'assignee_id', 'invalid'),
    ({'custom_fields': []}, 'custom_fields', 'invalid_type'),
    ({'id': 1}, 'id', 'unknown_field'),
    ({'workspace_id': 1}, 'workspace_id', 'unknown_field'),
    ({'version': 3}, 'version', 'unknown_field'),
    ({'created_at': '2026-01-01T00:00:00.000Z'}, 'created_at', 'unknown_field'),
    ({'customer_id': 1}, 'customer_id', 'unknown_field'),
])
def test_create_validation(api, pg, workspace, admin_key, patch, field, code):
    body = ticket_body()
    body.update(patch)
    r = api.post('/v1/tickets', token=admin_key.token, json=body)
    err = assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert field in err['message']
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 0
    assert count(pg, f'SELECT count(*) FROM customers WHERE workspace_id = {workspace.id}') == 0


def test_missing_subject_and_customer(api, admin_key):
    body = assert_problem(api.post('/v1/tickets', token=admin_key.token, json={}), 400, 'validation_failed')
    assert_field_error(body, 'subject', 'required')
    assert_field_error(body, 'customer.email', 'required')


def test_every_invalid_field_reported_at_once(api, pg, workspace, admin_key):
    bad = {'subject': '', 'customer': {'email': 'nope', 'name': 5, 'extra': 1}, 'priority': 'x', 'status': 'y',
           'channel': 'z', 'tags': ['ok', '-bad'], 'body': 'x' * 50001, 'team_id': 'one', 'id': 9}
    body = assert_problem(api.post('/v1/tickets', token=admin_key.token, json=bad), 400, 'validation_failed')
    expected = {('subject', 'too_short'), ('customer.email', 'invalid'), ('customer.name', 'invalid_type'),
                ('customer.extra', 'unknown_field'), ('priority', 'invalid'), ('status', 'invalid'),
                ('channel', 'invalid'), ('tags[1]', 'invalid'), ('body', 'too_long'), ('team_id', 'invalid_type'),
                ('id', 'unknown_field')}
    got = {(e['field'], e['code']) for e in body['errors']}
    assert expected <= got, expected - got
    assert str(len(body['errors'])) in body['detail']
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 0


def test_malformed_json_and_wrong_content_type(api, admin_key):
    r = api.post('/v1/tickets', token=admin_key.token, data='{"subject": ',
                 headers={'Content-Type': 'application/json'})
    assert_problem(r, 400, 'malformed_json')
    r = api.post('/v1/tickets', token=admin_key.token, data='subject=x', headers={'Content-Type': 'text/plain'})
    assert_problem(r, 415, 'unsupported_media_type')
    r = api.post('/v1/tickets', token=admin_key.token, json=['not', 'an', 'object'])
    assert_problem(r, 400, 'validation_failed')


@pytest.fixture
def fields(api, admin_key):
    """Custom field definitions of the workspace: every ticket type, and one customer field."""
    for key, type_, options in [('order_ref', 'text', None), ('amount', 'number', None), ('vip', 'boolean', None),
                                ('due', 'date', None), ('plan', 'enum', ['free', 'pro'])]:
        create_custom_field(api, admin_key.token, 'ticket', key, type_, options)
    create_custom_field(api, admin_key.token, 'customer', 'tier', 'enum', ['gold', 'silver'])
    create_custom_field(api, admin_key.token, 'customer', 'since', 'date')


def test_custom_fields_valid_values(api, admin_key, fields):
    cf = {'order_ref': 'R-1', 'amount': 12.5, 'vip': True, 'due': '2028-02-29', 'plan': 'pro'}
    t = create_ticket(api, admin_key.token, custom_fields=cf,
                      customer={'email': new_email(), 'custom_fields': {'tier': 'silver', 'since': '2020-01-31'}})
    assert t['custom_fields'] == cf
    assert t['customer']['custom_fields'] == {'tier': 'silver', 'since': '2020-01-31'}
    assert create_ticket(api, admin_key.token, custom_fields={'amount': -3})['custom_fields'] == {'amount': -3}


@pytest.mark.parametrize('cf,customer_cf,field,code', [
    ({'nope': 1}, None, 'custom_fields.nope', 'unknown_field'),
    ({'tier': 'gold'}, None, 'custom_fields.tier', 'unknown_field'),  # a customer field, not a ticket one
    ({'amount': '12'}, None, 'custom_fields.amount', 'invalid_type'),
    ({'vip': 'yes'}, None, 'custom_fields.vip', 'invalid_type'),
    ({'order_ref': 5}, None, 'custom_fields.order_ref', 'invalid_type'),
    ({'plan': 'enterprise'}, None, 'custom_fields.plan', 'invalid_option'),
    ({'plan': 1}, None, 'custom_fields.plan', 'invalid_type'),
    ({'due': '2026-13-01'}, None, 'custom_fields.due', 'invalid'),
    ({'due': '2026-1-1'}, None, 'custom_fields.due', 'invalid'),
    ({'due': '2027-02-29'}, None, 'custom_fields.due', 'invalid'),
    ({'due': '2026-01-01T00:00:00Z'}, None, 'custom_fields.due', 'invalid'),
    (None, {'tier': 'bronze'}, 'customer.custom_fields.tier', 'invalid_option'),
    (None, {'plan': 'pro'}, 'customer.custom_fields.plan', 'unknown_field'),  # a ticket field
    (None, {'since': '31/01/2020'}, 'customer.custom_fields.since', 'invalid'),
])
def test_custom_fields_checked_against_definitions(api, pg, workspace, admin_key, fields, cf, customer_cf, field,
                                                   code):
    email = new_email()
    body = ticket_body(customer={'email': email})
    if cf is not None:
        body['custom_fields'] = cf
    if customer_cf is not None:
        body['customer']['custom_fields'] = customer_cf
    r = api.post('/v1/tickets', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 0
    assert count(pg, f"SELECT count(*) FROM customers WHERE email = '{email}'") == 0


def test_custom_field_errors_reported_together(api, admin_key, fields):
    body = ticket_body(custom_fields={'nope': 1, 'amount': 'x', 'plan': 'gold'},
                       customer={'email': new_email(), 'custom_fields': {'tier': 'bronze'}})
    got = assert_problem(api.post('/v1/tickets', token=admin_key.token, json=body), 400, 'validation_failed')
    for field, code in [('custom_fields.nope', 'unknown_field'), ('custom_fields.amount', 'invalid_type'),
                        ('custom_fields.plan', 'invalid_option'), ('customer.custom_fields.tier', 'invalid_option')]:
        assert_field_error(got, field, code)


def test_custom_fields_of_another_workspace_do_not_apply(api, admin_key, make_workspace, make_key):
    other = make_workspace()
    create_custom_field(api, make_key(other.slug, 'admin').token, 'ticket', 'region', 'text')
    r = api.post('/v1/tickets', token=admin_key.token, json=ticket_body(custom_fields={'region': 'emea'}))
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'custom_fields.region', 'unknown_field')


def test_team_and_assignee_must_be_this_workspaces(api, pg, workspace, admin_key, make_workspace, make_key):
    other = make_workspace()
    other_admin = make_key(other.slug, 'admin').token
    foreign_team = create_team(api, other_admin)
    foreign_agent = create_agent(api, other_admin)
    for team_id, assignee_id in [(foreign_team['id'], foreign_agent['id']), (2 ** 62, 2 ** 62)]:
        email = new_email()
        r = api.post('/v1/tickets', token=admin_key.token,
                     json=ticket_body(customer={'email': email}, team_id=team_id, assignee_id=assignee_id))
        body = assert_problem(r, 400, 'validation_failed')
        assert_field_error(body, 'team_id', 'not_found')
        assert_field_error(body, 'assignee_id', 'not_found')
        assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 0
        assert count(pg, f"SELECT count(*) FROM customers WHERE email = '{email}'") == 0
        assert count(pg, f"SELECT count(*) FROM audit_log WHERE workspace_id = {workspace.id}") == 0
    # only one of the two wrong
    team = create_team(api, admin_key.token)
    r = api.post('/v1/tickets', token=admin_key.token,
                 json=ticket_body(team_id=team['id'], assignee_id=foreign_agent['id']))
    body = assert_problem(r, 400, 'validation_failed')
    assert_field_error(body, 'assignee_id', 'not_found')
    assert [e['field'] for e in body['errors']] == ['assignee_id']
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 0


def test_huge_ids_in_the_body(api, admin_key):
    for raw in ('9223372036854775808', '1e400'):
        data = '{"subject": "s", "customer": {"email": "a@example.com"}, "team_id": %s}' % raw
        r = api.post('/v1/tickets', token=admin_key.token, data=data, headers={'Content-Type': 'application/json'})
        assert r.status_code == 400, r.text


# ---------------------------------------------------------------------------------------------
# GET /v1/tickets/{id}
# ---------------------------------------------------------------------------------------------

def test_get_is_scoped_to_the_workspace(api, admin_key, make_workspace, make_key):
    t = create_ticket(api, admin_key.token)
    other = make_workspace()
    other_key = make_key(other.slug, 'admin').token
    assert_problem(api.get(f'/v1/tickets/{t["id"]}', token=other_key), 404, 'not_found')
    assert_problem(api.get(f'/v1/tickets/{t["id"] + 10 ** 9}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.get(f'/v1/tickets/{2 ** 63 - 1}', token=admin_key.token), 404, 'not_found')


@pytest.mark.parametrize('bad', ['0', '-1', 'abc', str(2 ** 63), '1.5', '01x'])
def test_get_bad_ids(api, admin_key, bad):
    body = assert_problem(api.get(f'/v1/tickets/{bad}', token=admin_key.token), 400, 'validation_failed')
    assert_field_error(body, 'id', 'invalid')


def test_get_unknown_and_bad_query_parameters(api, admin_key):
    t = create_ticket(api, admin_key.token)
    r = api.get(f'/v1/tickets/{t["id"]}?include_internal=yes', token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'include_internal')
    r = api.get(f'/v1/tickets/{t["id"]}?expand=all', token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'expand')


def test_internal_notes_only_for_admins_who_ask(api, workspace, admin_key, make_key):
    agent = make_key(workspace.slug, 'agent').token
    readonly = make_key(workspace.slug, 'readonly').token
    t = create_ticket(api, admin_key.token, body='<p>first</p>')
    path = f'/v1/tickets/{t["id"]}'
    note = api.post(path + '/messages', token=agent, json={'body': 'internal note', 'internal': True})
    assert note.status_code == 201, note.text
    reply = api.post(path + '/messages', token=agent, json={'body': 'public reply'})
    assert reply.status_code == 201, reply.text
    public = [t['messages'][0]['id'], reply.json()['id']]
    for token in (admin_key.token, agent, readonly):
        r = api.get(path, token=token)
        assert r.status_code == 200, r.text
        assert [m['id'] for m in r.json()['messages']] == public
        r = api.get(path + '?include_internal=false', token=token)
        assert [m['id'] for m in r.json()['messages']] == public
    r = api.get(path + '?include_internal=true', token=admin_key.token)
    assert r.status_code == 200, r.text
    msgs = r.json()['messages']
    assert [m['id'] for m in msgs] == [public[0], note.json()['id'], public[1]]
    assert [m['internal'] for m in msgs] == [False, True, False]
    for token in (agent, readonly):
        assert_problem(api.get(path + '?include_internal=true', token=token), 403, 'forbidden')


def test_readonly_keys_read_but_do_not_write(api, pg, workspace, admin_key, make_key):
    readonly = make_key(workspace.slug, 'readonly').token
    t = create_ticket(api, admin_key.token)
    path = f'/v1/tickets/{t["id"]}'
    assert api.get(path, token=readonly).status_code == 200
    assert api.get(path + '/audit', token=readonly).status_code == 200
    assert_problem(api.post('/v1/tickets', token=readonly, json=ticket_body()), 403, 'forbidden')
    assert_problem(api.patch(path, token=readonly, json={'status': 'open'}), 403, 'forbidden')
    assert_problem(api.post(path + '/messages', token=readonly, json={'body': 'hi'}), 403, 'forbidden')
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 1
    assert api.get(path, token=readonly).json()['version'] == 1


def test_unauthenticated_and_wrong_methods(api, admin_key):
    t = create_ticket(api, admin_key.token)
    assert api.get(f'/v1/tickets/{t["id"]}').status_code == 401
    assert api.post('/v1/tickets', json=ticket_body()).status_code == 401
    assert api.patch(f'/v1/tickets/{t["id"]}', json={}).status_code == 401
    r = api.delete(f'/v1/tickets/{t["id"]}', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')
    assert {'GET', 'PATCH'} <= {m.strip() for m in r.headers['Allow'].split(',')}


# ---------------------------------------------------------------------------------------------
# PATCH /v1/tickets/{id}
# ---------------------------------------------------------------------------------------------

def patch(api, token, tid, body, headers=None):
    return api.patch(f'/v1/tickets/{tid}', token=token, json=body, headers=headers)


def test_patch_fields_bump_version_once_each(api, pg, workspace, admin_key, make_key):
    agent_key = make_key(workspace.slug, 'agent').token
    t = create_ticket(api, admin_key.token, tags=['a'])
    r = patch(api, agent_key, t['id'], {'subject': 'New subject', 'status': 'pending', 'priority': 'urgent'})
    assert r.status_code == 200, r.text
    u = r.json()
    assert_ticket(u)
    assert r.headers['ETag'] == '"2"'
    assert 'Location' not in r.headers
    assert (u['subject'], u['status'], u['priority'], u['version']) == ('New subject', 'pending', 'urgent', 2)
    assert u['channel'] == t['channel'] and u['tags'] == ['a'] and u['customer'] == t['customer']
    assert u['created_at'] == t['created_at'] and parse_time(u['updated_at']) >= parse_time(t['updated_at'])
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json() == u
    entries = audit_entries(api, admin_key.token, t['id'])
    assert [e['version'] for e in entries] == [1, 2]
    assert entries[1]['changes'] == {'subject': {'from': 'Printer on fire', 'to': 'New subject'},
                                     'status': {'from': 'new', 'to': 'pending'},
                                     'priority': {'from': 'normal', 'to': 'urgent'}}


def test_patch_if_match(api, pg, admin_key):
    t = create_ticket(api, admin_key.token)
    before = ticket_row(pg, t['id'])
    for stale in ('"2"', '"99"', 'W/"7"', '7'):
        r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={'If-Match': stale})
        body = assert_problem(r, 412, 'version_mismatch')
        assert '1' in body['detail']
    assert ticket_row(pg, t['id']) == before
    assert len(audit_entries(api, admin_key.token, t['id'])) == 1
    r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={'If-Match': '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers['ETag'] == '"2"' and r.json()['version'] == 2
    r = patch(api, admin_key.token, t['id'], {'status': 'pending'}, headers={'If-Match': r.headers['ETag']})
    assert r.status_code == 200, r.text
    assert r.headers['ETag'] == '"3"'
    r = patch(api, admin_key.token, t['id'], {'status': 'solved'}, headers={'If-Match': 'W/"3"'})
    assert r.status_code == 200 and r.headers['ETag'] == '"4"', r.text
    # an unreadable If-Match is a 400 naming the header
    r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={'If-Match': 'banana'})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'If-Match')
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 4


def test_patch_that_changes_nothing_writes_nothing(api, pg, admin_key):
    team = create_team(api, admin_key.token)
    create_custom_field(api, admin_key.token, 'ticket', 'plan', 'enum', ['free', 'pro'])
    t = create_ticket(api, admin_key.token, status='open', tags=['x', 'y'], team_id=team['id'],
                      custom_fields={'plan': 'pro'})
    before = ticket_row(pg, t['id'])
    for body in ({'status': 'open'}, {}, {'subject': t['subject'], 'priority': 'normal'}, {'tags': ['X', 'y']},
                 {'add_tags': ['x']}, {'remove_tags': ['nope']}, {'custom_fields': {'plan': 'pro'}},
                 {'custom_fields': {}}, {'team_id': team['id']}, {'assignee_id': None}):
        r = patch(api, admin_key.token, t['id'], body)
        assert r.status_code == 200, (body, r.text)
        assert r.headers['ETag'] == '"1"'
        assert r.json() == t, body
        assert ticket_row(pg, t['id']) == before, f'{body} wrote the ticket row'
    assert len(audit_entries(api, admin_key.token, t['id'])) == 1
    # a no-op with a matching If-Match is fine too
    r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={'If-Match': '"1"'})
    assert r.status_code == 200 and r.json()['version'] == 1


def test_patch_tags_replace_add_remove(api, admin_key):
    t = create_ticket(api, admin_key.token, tags=['a', 'b', 'c'])
    tid = t['id']
    r = patch(api, admin_key.token, tid, {'tags': ['Z', 'y', 'z']})
    assert r.status_code == 200 and r.json()['tags'] == ['z', 'y'], r.text
    r = patch(api, admin_key.token, tid, {'add_tags': ['new', 'Y', 'other']})
    assert r.json()['tags'] == ['z', 'y', 'new', 'other'], r.text
    r = patch(api, admin_key.token, tid, {'remove_tags': ['Z', 'missing']})
    assert r.json()['tags'] == ['y', 'new', 'other'], r.text
    r = patch(api, admin_key.token, tid, {'add_tags': ['q'], 'remove_tags': ['y', 'q']})
    assert r.json()['tags'] == ['new', 'other'], r.text
    r = patch(api, admin_key.token, tid, {'tags': ['k'], 'add_tags': ['l']})
    assert r.json()['tags'] == ['k', 'l'], r.text
    r = patch(api, admin_key.token, tid, {'tags': []})
    assert r.json()['tags'] == [] and r.json()['version'] == 7, r.text
    entries = audit_entries(api, admin_key.token, tid)
    assert entries[1]['changes'] == {'tags': {'from': ['a', 'b', 'c'], 'to': ['z', 'y']}}
    assert entries[-1]['changes'] == {'tags': {'from': ['k', 'l'], 'to': []}}


def test_patch_tags_limit_applies_after_adds(api, pg, admin_key):
    t = create_ticket(api, admin_key.token, tags=[f't{i}' for i in range(49)])
    r = patch(api, admin_key.token, t['id'], {'add_tags': ['x1', 'x2']})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'tags', 'too_many')
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 1
    r = patch(api, admin_key.token, t['id'], {'add_tags': ['x1', 't0']})
    assert r.status_code == 200 and len(r.json()['tags']) == 50, r.text
    r = patch(api, admin_key.token, t['id'], {'add_tags': ['x2'], 'remove_tags': ['t1']})
    assert r.status_code == 200 and len(r.json()['tags']) == 50, r.text


def test_patch_custom_fields_merge_and_null_deletes(api, admin_key):
    create_custom_field(api, admin_key.token, 'ticket', 'plan', 'enum', ['free', 'pro'])
    create_custom_field(api, admin_key.token, 'ticket', 'seats', 'number')
    create_custom_field(api, admin_key.token, 'ticket', 'note', 'text')
    t = create_ticket(api, admin_key.token, custom_fields={'plan': 'free', 'seats': 3})
    r = patch(api, admin_key.token, t['id'], {'custom_fields': {'seats': 5, 'note': 'hello'}})
    assert r.status_code == 200, r.text
    assert r.json()['custom_fields'] == {'plan': 'free', 'seats': 5, 'note': 'hello'}
    r = patch(api, admin_key.token, t['id'], {'custom_fields': {'plan': None, 'note': 'bye'}})
    assert r.status_code == 200, r.text
    assert r.json()['custom_fields'] == {'seats': 5, 'note': 'bye'} and r.json()['version'] == 3
    entries = audit_entries(api, admin_key.token, t['id'])
    assert entries[-1]['changes'] == {'custom_fields': {'from': {'plan': 'free', 'seats': 5, 'note': 'hello'},
                                                        'to': {'seats': 5, 'note': 'bye'}}}
    for cf, field, code in [({'plan': 'gold'}, 'custom_fields.plan', 'invalid_option'),
                            ({'seats': 'many'}, 'custom_fields.seats', 'invalid_type'),
                            ({'nope': 1}, 'custom_fields.nope', 'unknown_field')]:
        r = patch(api, admin_key.token, t['id'], {'custom_fields': cf})
        assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 3


def test_patch_team_and_assignee_set_and_unset(api, pg, admin_key, make_workspace, make_key):
    team = create_team(api, admin_key.token)
    agent = create_agent(api, admin_key.token)
    t = create_ticket(api, admin_key.token)
    r = patch(api, admin_key.token, t['id'], {'team_id': team['id'], 'assignee_id': agent['id']})
    assert r.status_code == 200, r.text
    assert r.json()['assignment'] == {'team_id': team['id'], 'assignee_id': agent['id']}
    r = patch(api, admin_key.token, t['id'], {'assignee_id': None})
    assert r.json()['assignment'] == {'team_id': team['id'], 'assignee_id': None}
    r = patch(api, admin_key.token, t['id'], {'team_id': None})
    assert r.json()['assignment'] == {'team_id': None, 'assignee_id': None} and r.json()['version'] == 4
    changes = [e['changes'] for e in audit_entries(api, admin_key.token, t['id'])[1:]]
    assert changes == [{'team_id': {'from': None, 'to': team['id']}, 'assignee_id': {'from': None, 'to': agent['id']}},
                       {'assignee_id': {'from': agent['id'], 'to': None}},
                       {'team_id': {'from': team['id'], 'to': None}}]
    # another workspace's team or agent, or none at all: 400 not_found, nothing written
    other = make_key(make_workspace().slug, 'admin').token
    foreign_team, foreign_agent = create_team(api, other), create_agent(api, other)
    before = ticket_row(pg, t['id'])
    for body in ({'team_id': foreign_team['id']}, {'assignee_id': foreign_agent['id']},
                 {'team_id': 2 ** 62, 'assignee_id': 2 ** 62}):
        r = patch(api, admin_key.token, t['id'], body)
        got = assert_problem(r, 400, 'validation_failed')
        for field in body:
            assert_field_error(got, field, 'not_found')
        assert ticket_row(pg, t['id']) == before
    assert len(audit_entries(api, admin_key.token, t['id'])) == 4


@pytest.mark.parametrize('body,field,code', [
    ({'subject': ''}, 'subject', 'too_short'),
    ({'subject': 'x' * 251}, 'subject', 'too_long'),
    ({'subject': None}, 'subject', 'invalid_type'),
    ({'status': 'gone'}, 'status', 'invalid'),
    ({'status': None}, 'status', 'invalid_type'),
    ({'priority': 'meh'}, 'priority', 'invalid'),
    ({'team_id': 'x'}, 'team_id', 'invalid_type'),
    ({'assignee_id': 0}, 'assignee_id', 'invalid'),
    ({'tags': 'a'}, 'tags', 'invalid_type'),
    ({'tags': ['-a']}, 'tags[0]', 'invalid'),
    ({'add_tags': ['ok', 'A B']}, 'add_tags[1]', 'invalid'),
    ({'remove_tags': [1]}, 'remove_tags[0]', 'invalid_type'),
    ({'tags': [f't{i}' for i in range(51)]}, 'tags', 'too_many'),
    ({'custom_fields': 'x'}, 'custom_fields', 'invalid_type'),
    ({'channel': 'email'}, 'channel', 'unknown_field'),
    ({'customer': {'email': 'x@example.com'}}, 'customer', 'unknown_field'),
    ({'version': 5}, 'version', 'unknown_field'),
    ({'id': 5}, 'id', 'unknown_field'),
    ({'body': 'hi'}, 'body', 'unknown_field'),
])
def test_patch_validation(api, pg, admin_key, body, field, code):
    t = create_ticket(api, admin_key.token)
    before = ticket_row(pg, t['id'])
    r = patch(api, admin_key.token, t['id'], body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert ticket_row(pg, t['id']) == before


def test_patch_several_errors_at_once(api, admin_key):
    t = create_ticket(api, admin_key.token)
    r = patch(api, admin_key.token, t['id'], {'status': 'x', 'priority': 'y', 'tags': ['-'], 'foo': 1})
    got = assert_problem(r, 400, 'validation_failed')
    assert {('status', 'invalid'), ('priority', 'invalid'), ('tags[0]', 'invalid'), ('foo', 'unknown_field')} <= \
        {(e['field'], e['code']) for e in got['errors']}


def test_patch_not_found_and_bad_ids(api, admin_key, make_workspace, make_key):
    t = create_ticket(api, admin_key.token)
    other = make_key(make_workspace().slug, 'admin').token
    assert_problem(patch(api, other, t['id'], {'status': 'open'}), 404, 'not_found')
    assert_problem(patch(api, admin_key.token, t['id'] + 10 ** 9, {'status': 'open'}), 404, 'not_found')
    for bad in ('0', '-1', 'abc', str(2 ** 63)):
        r = api.patch(f'/v1/tickets/{bad}', token=admin_key.token, json={'status': 'open'})
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id', 'invalid')
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 1


def wait_for_lock_holder(pg, ticket_id):
    """Until a backend other than ours waits in pg_sleep inside the transaction that locked the row."""
    def held():
        rows = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FOR UPDATE%pg_sleep%' "
                       "AND state = 'active' AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()")
        return rows[0][0] != '0'
    wait_until(held, 10, what=f'the row lock on ticket {ticket_id}')


def test_patch_lock_timeout(api, pg, admin_key):
    t = create_ticket(api, admin_key.token)
    before = ticket_row(pg, t['id'])
    holder = pg.psql_background(f'BEGIN; SELECT 1 FROM tickets WHERE id = {t["id"]} FOR UPDATE; '
                                f'SELECT pg_sleep(2); COMMIT')
    try:
        wait_for_lock_holder(pg, t['id'])
        started = time.monotonic()
        r = patch(api, admin_key.token, t['id'], {'status': 'open'})
        elapsed = time.monotonic() - started
        assert_problem(r, 409, 'lock_timeout')
        assert elapsed < 1.5, f'409 lock_timeout took {elapsed:.2f}s'
        assert holder.poll() is None, 'the lock holder finished before the PATCH was answered'
    finally:
        out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert ticket_row(pg, t['id']) == before
    assert len(audit_entries(api, admin_key.token, t['id'])) == 1
    # once the lock is gone the same PATCH goes through
    r = patch(api, admin_key.token, t['id'], {'status': 'open'})
    assert r.status_code == 200 and r.json()['version'] == 2, r.text


def test_concurrent_patches_lose_nothing(api, pg, workspace, admin_key, make_key):
    t = create_ticket(api, admin_key.token)
    keys = [make_key(workspace.slug, 'agent').token for _ in range(5)]  # spread over the per-key rate limit
    url = api.url(f'/v1/tickets/{t["id"]}')

    def add(i):
        session = requests.Session()
        try:
            for attempt in range(200):
                r = session.patch(url, json={'add_tags': [f'tag-{i}']}, timeout=30,
                                  headers={'Authorization': f'Bearer {keys[i % len(keys)]}'})
                if r.status_code == 409 and r.json().get('code') == 'lock_timeout':
                    time.sleep(0.01 + 0.002 * (attempt % 10))
                    continue
                return r.status_code, r.json(), attempt
            return None, None, 200
        finally:
            session.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(add, range(50)))
    assert all(status == 200 for status, _, _ in results), [(s, b) for s, b, _ in results if s != 200][:3]
    final = api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()
    assert sorted(final['tags']) == sorted(f'tag-{i}' for i in range(50))
    assert final['version'] == 51
    entries = audit_entries(api, admin_key.token, t['id'], limit=100)
    updates = entries[1:]
    assert len(updates) == 50
    assert [e['version'] for e in entries] == list(range(1, 52))
    for e in updates:  # each entry adds exactly one tag
        ch = e['changes']['tags']
        assert set(ch['to']) - set(ch['from']) and len(ch['to']) == len(ch['from']) + 1, e
    assert sorted(body['version'] for _, body, _ in results) == list(range(2, 52))


def test_concurrent_creates_for_one_new_email_make_one_customer(api, pg, workspace, admin_key):
    email = new_email('race')
    url = api.url('/v1/tickets')

    def create(i):
        with requests.Session() as s:
            return s.post(url, json=ticket_body(subject=f'race {i}', customer={'email': email.upper()}),
                          headers={'Authorization': f'Bearer {admin_key.token}'}, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(create, range(20)))
    assert all(r.status_code == 201 for r in results), [r.text for r in results if r.status_code != 201][:3]
    assert len({r.json()['customer']['id'] for r in results}) == 1
    assert count(pg, f"SELECT count(*) FROM customers WHERE workspace_id = {workspace.id} AND email = '{email}'") == 1
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 20


# ---------------------------------------------------------------------------------------------
# Idempotency-Key on tickets
# ---------------------------------------------------------------------------------------------

def test_idempotent_create(api, pg, workspace, admin_key):
    body = ticket_body(body='<p>once</p>')
    key = {'Idempotency-Key': f'create-{secrets.token_hex(6)}'}
    first = api.post('/v1/tickets', token=admin_key.token, json=body, headers=key)
    assert first.status_code == 201, first.text
    assert 'Idempotent-Replayed' not in first.headers
    second = api.post('/v1/tickets', token=admin_key.token, json=body, headers=key)
    assert second.status_code == 201, second.text
    assert second.headers.get('Idempotent-Replayed') == 'true'
    assert second.content == first.content
    assert second.headers['Location'] == first.headers['Location']
    assert second.headers['ETag'] == first.headers['ETag']
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 1
    assert count(pg, f'SELECT count(*) FROM messages WHERE workspace_id = {workspace.id}') == 1
    # the same key with another body
    other = dict(body, subject='something else')
    assert_problem(api.post('/v1/tickets', token=admin_key.token, json=other, headers=key), 422,
                   'idempotency_key_reused')
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 1


def test_idempotent_patch(api, pg, admin_key):
    t = create_ticket(api, admin_key.token)
    key = {'Idempotency-Key': f'patch-{secrets.token_hex(6)}'}
    first = patch(api, admin_key.token, t['id'], {'add_tags': ['once']}, headers=key)
    assert first.status_code == 200, first.text
    again = patch(api, admin_key.token, t['id'], {'add_tags': ['once']}, headers=key)
    assert again.status_code == 200 and again.headers.get('Idempotent-Replayed') == 'true'
    assert again.content == first.content and again.headers['ETag'] == '"2"'
    assert len(audit_entries(api, admin_key.token, t['id'])) == 2
    # a failed PATCH (412) gives its key back: the corrected request may use it
    key2 = {'Idempotency-Key': f'patch-{secrets.token_hex(6)}'}
    r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={**key2, 'If-Match': '"1"'})
    assert_problem(r, 412, 'version_mismatch')
    r = patch(api, admin_key.token, t['id'], {'status': 'open'}, headers={**key2, 'If-Match': '"1"'})
    assert_problem(r, 412, 'version_mismatch')
    assert 'Idempotent-Replayed' not in r.headers
    assert api.get(f'/v1/tickets/{t["id"]}', token=admin_key.token).json()['version'] == 2


def test_concurrent_idempotent_creates_write_once(api, pg, workspace, admin_key):
    body = ticket_body()
    key = f'burst-{secrets.token_hex(6)}'
    url = api.url('/v1/tickets')

    def create(_):
        with requests.Session() as s:
            return s.post(url, json=body, timeout=30,
                          headers={'Authorization': f'Bearer {admin_key.token}', 'Idempotency-Key': key})

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
        results = list(ex.map(create, range(10)))
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert_problem(r, 409, 'idempotency_in_flight')
    created = [r for r in results if r.status_code == 201]
    assert created and len({r.content for r in created}) == 1
    assert count(pg, f'SELECT count(*) FROM tickets WHERE workspace_id = {workspace.id}') == 1
