"""GET /v1/tickets (CONTRACT.md, Tickets): filters, the four sorts, keyset pagination with opaque
cursors and a Link header, stability under concurrent inserts, and bad parameters. Every test
works in a fresh workspace, so it sees only its own tickets."""
import urllib.parse

import pytest

from hdf import assert_field_error, assert_problem
from ticket_helpers import create_agent, create_team, create_ticket

SUMMARY_FIELDS = {'id', 'subject', 'status', 'priority', 'channel', 'customer', 'tags', 'custom_fields',
                  'assignment', 'sla', 'version', 'created_at', 'updated_at'}


def all_pages(api, token, query='', limit=2):
    seen, cursor, pages = [], None, 0
    while True:
        q = f'limit={limit}' + (f'&{query}' if query else '') + (f'&cursor={cursor}' if cursor else '')
        r = api.get(f'/v1/tickets?{q}', token=token)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body['data']) <= limit
        seen += body['data']
        pages += 1
        cursor = body['next_cursor']
        if cursor is None:
            assert 'Link' not in r.headers
            return seen, pages
        link = r.headers['Link']
        assert link.endswith('>; rel="next"') and f'cursor={urllib.parse.quote(cursor)}' in link
        for part in query.split('&'):
            if part:
                assert part in link, (part, link)


@pytest.fixture
def tickets(api, admin_key):
    made = [create_ticket(api, admin_key.token, subject=f't{i}') for i in range(5)]
    return made


def test_default_order_is_newest_first_and_pages_cover_everything(api, admin_key, tickets):
    seen, pages = all_pages(api, admin_key.token)
    assert [t['id'] for t in seen] == [t['id'] for t in reversed(tickets)]
    assert pages == 3
    assert set(seen[0]) == SUMMARY_FIELDS  # a list item is the view without messages


@pytest.mark.parametrize('sort, key, reverse', [('created_at', 'created_at', False), ('-created_at', 'created_at', True),
                                                ('updated_at', 'updated_at', False), ('-updated_at', 'updated_at', True)])
def test_sorts(api, admin_key, tickets, sort, key, reverse):
    # make updated_at order differ from created_at order
    assert api.patch(f"/v1/tickets/{tickets[0]['id']}", token=admin_key.token, json={'status': 'open'}).status_code == 200
    seen, _ = all_pages(api, admin_key.token, f'sort={sort}')
    assert len(seen) == 5 and len({t['id'] for t in seen}) == 5
    pairs = [(t[key], t['id']) for t in seen]
    assert pairs == sorted(pairs, reverse=reverse)


def test_filters(api, admin_key, make_key, workspace):
    team, agent = create_team(api, admin_key.token), create_agent(api, admin_key.token)
    a = create_ticket(api, admin_key.token, tags=['vip'], priority='high', team_id=team['id'])
    b = create_ticket(api, admin_key.token, status='pending', assignee_id=agent['id'])
    c = create_ticket(api, admin_key.token, customer={'email': a['customer']['email']})

    def ids(query):
        r = api.get(f'/v1/tickets?{query}', token=admin_key.token)
        assert r.status_code == 200, r.text
        return sorted(t['id'] for t in r.json()['data'])
    assert ids('tag=vip') == [a['id']]
    assert ids('tag=VIP') == [a['id']]  # filters are lower-cased like tags
    assert ids('priority=high') == [a['id']]
    assert ids('status=pending') == [b['id']]
    assert ids(f"team_id={team['id']}") == [a['id']]
    assert ids(f"assignee_id={agent['id']}") == [b['id']]
    assert ids(f"customer_id={a['customer']['id']}") == sorted([a['id'], c['id']])
    assert ids('status=pending&priority=high') == []
    since = b['updated_at']
    assert ids('updated_since=' + urllib.parse.quote(since)) == sorted([b['id'], c['id']])
    readonly = make_key(workspace.slug, 'readonly')
    assert api.get('/v1/tickets', token=readonly.token).status_code == 200


def test_other_workspaces_never_show_and_cursors_do_not_cross(api, admin_key, tickets, make_workspace, make_key):
    other_ws = make_workspace()
    other = make_key(other_ws.slug, 'admin')
    create_ticket(api, other.token, subject='theirs')
    r = api.get('/v1/tickets?limit=2', token=admin_key.token)
    cursor = r.json()['next_cursor']
    mine = {t['id'] for t in tickets}
    assert {t['id'] for t in r.json()['data']} <= mine
    r = api.get(f'/v1/tickets?limit=2&cursor={cursor}', token=other.token)
    assert r.status_code == 200
    assert all(t['subject'] == 'theirs' for t in r.json()['data'])


def test_pagination_is_stable_under_concurrent_inserts(api, admin_key, tickets):
    first = api.get('/v1/tickets?limit=2&sort=created_at', token=admin_key.token).json()
    for _ in range(3):  # inserts land after the cursor in this order: never duplicated, never in the way
        create_ticket(api, admin_key.token, subject='late')
    seen, _ = all_pages(api, admin_key.token, 'sort=created_at')
    ids = [t['id'] for t in seen]
    assert len(ids) == len(set(ids)) == 8
    cursor = first['next_cursor']
    rest = []
    while cursor:
        page = api.get(f'/v1/tickets?limit=2&sort=created_at&cursor={cursor}', token=admin_key.token).json()
        rest += [t['id'] for t in page['data']]
        cursor = page['next_cursor']
    assert [t['id'] for t in first['data']] + rest == ids


@pytest.mark.parametrize('query, field', [
    ('limit=0', 'limit'), ('limit=101', 'limit'), ('limit=abc', 'limit'), ('limit=-1', 'limit'),
    ('cursor=garbage', 'cursor'), ('cursor=YWs6MQ', 'cursor'), ('status=bogus', 'status'), ('priority=now', 'priority'),
    ('tag=Bad%20Tag', 'tag'), ('customer_id=0', 'customer_id'), ('team_id=x', 'team_id'),
    ('assignee_id=99999999999999999999', 'assignee_id'), ('updated_since=yesterday', 'updated_since'),
    ('sort=subject', 'sort'), ('foo=1', 'foo')])
def test_bad_parameters(api, admin_key, query, field):
    r = api.get(f'/v1/tickets?{query}', token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field)


def test_cursor_of_another_sort_is_refused(api, admin_key, tickets):
    cursor = api.get('/v1/tickets?limit=2&sort=created_at', token=admin_key.token).json()['next_cursor']
    r = api.get(f'/v1/tickets?limit=2&sort=-updated_at&cursor={cursor}', token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'cursor')
