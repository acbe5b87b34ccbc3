"""Helpers shared by the ticket API tests (test_tickets*.py): fixtures of the directory (teams,
agents, custom fields) made through the admin API, tickets, and small database probes."""
import secrets

from hdf import parse_time

TICKET_FIELDS = {'id', 'subject', 'status', 'priority', 'channel', 'customer', 'tags', 'custom_fields',
                 'assignment', 'sla', 'version', 'created_at', 'updated_at', 'messages'}
CUSTOMER_FIELDS = {'id', 'email', 'name', 'phone', 'tags', 'custom_fields'}
MESSAGE_FIELDS = {'id', 'ticket_id', 'author_type', 'author_id', 'internal', 'body', 'created_at'}
AUDIT_FIELDS = {'id', 'version', 'occurred_at', 'actor', 'source', 'request_id', 'changes', 'rule_id'}
NO_SLA = {'policy_id': None, 'first_response_due_at': None, 'resolution_due_at': None, 'breached': False}


def new_email(prefix='cust'):
    return f'{prefix}-{secrets.token_hex(5)}@example.com'


def ticket_body(**kw):
    body = {'subject': 'Printer on fire', 'customer': {'email': new_email()}}
    body.update(kw)
    return body


def create_ticket(api, token, headers=None, **kw):
    r = api.post('/v1/tickets', token=token, json=ticket_body(**kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def create_team(api, token, name=None):
    r = api.post('/v1/teams', token=token, json={'name': name or f'Team {secrets.token_hex(3)}'})
    assert r.status_code == 201, r.text
    return r.json()


def create_agent(api, token, active=True, team_ids=None):
    body = {'name': 'Ada Agent', 'email': new_email('agent'), 'active': active}
    if team_ids is not None:
        body['team_ids'] = team_ids
    r = api.post('/v1/agents', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def create_custom_field(api, token, obj, key, type_, options=None):
    body = {'object': obj, 'key': key, 'type': type_}
    if options is not None:
        body['options'] = options
    r = api.post('/v1/custom-fields', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def assert_ticket(t):
    """The composite view's shape (CONTRACT.md, Tickets)."""
    assert set(t) == TICKET_FIELDS, sorted(t)
    assert type(t['id']) is int and t['id'] > 0
    assert set(t['customer']) == CUSTOMER_FIELDS, t['customer']
    assert type(t['customer']['id']) is int
    assert set(t['assignment']) == {'team_id', 'assignee_id'}, t['assignment']
    assert t['sla'] == NO_SLA, t['sla']
    assert type(t['version']) is int and t['version'] >= 1
    assert isinstance(t['tags'], list) and isinstance(t['custom_fields'], dict)
    assert parse_time(t['created_at']) <= parse_time(t['updated_at'])
    assert isinstance(t['messages'], list)
    for m in t['messages']:
        assert_message(m)
        assert m['ticket_id'] == t['id']
    ids = [m['id'] for m in t['messages']]
    assert ids == sorted(ids), 'messages are not oldest first'


def assert_message(m):
    assert set(m) == MESSAGE_FIELDS, sorted(m)
    assert type(m['id']) is int and type(m['ticket_id']) is int
    assert m['author_type'] in ('customer', 'agent', 'system')
    assert m['author_id'] is None or type(m['author_id']) is int
    assert type(m['internal']) is bool
    assert isinstance(m['body'], str)
    parse_time(m['created_at'])


def audit_entries(api, token, ticket_id, limit=100):
    """Every audit entry of a ticket (follows the cursor)."""
    out, cursor = [], None
    while True:
        params = {'limit': limit}
        if cursor:
            params['cursor'] = cursor
        r = api.get(f'/v1/tickets/{ticket_id}/audit', token=token, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page['data']
        cursor = page['next_cursor']
        if cursor is None:
            return out


def ticket_row(pg, ticket_id):
    """(xmin, version) of the ticket's row."""
    rows = pg.psql(f'SELECT xmin::text, version FROM tickets WHERE id = {int(ticket_id)}')
    assert len(rows) == 1, rows
    return rows[0]


def count(pg, sql):
    return int(pg.scalar(sql))
