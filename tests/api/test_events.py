"""GET /v1/events (CONTRACT.md, Events and webhooks): the durable feed written in the transaction of
each change, oldest first, cursor paginated, any role; and the outbox metrics. Runs on the main
server (no subscriptions: events are written, nothing is delivered)."""
import re

from hdf import assert_problem, parse_time

EVENT_ID = re.compile(r'^evt_[0-9A-Za-z]{22}$')
BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'


def id_time_ms(event_id):
    """The Unix milliseconds in an event id (webhook/event.h: 48 bits of ms, then 80 random)."""
    n = 0
    for ch in event_id[4:]:
        n = n * 62 + BASE62.index(ch)
    assert n < 2 ** 128
    return n >> 80


def feed(api, token, query=''):
    r = api.get(f'/v1/events{query}', token=token)
    assert r.status_code == 200, r.text
    return r.json()


def test_feed_paginates_oldest_first_with_type_filter(api, workspace, admin_key, make_key):
    ro = make_key(workspace.slug, 'readonly')
    for i in range(3):
        r = api.post('/v1/customers', token=admin_key.token, json={'email': f'feed{i}@example.com'})
        assert r.status_code in (200, 201), r.text
    cid = r.json()['id']
    assert api.patch(f'/v1/customers/{cid}', token=admin_key.token, json={'name': 'Zed'}).status_code == 200
    # an update that changes nothing writes no event
    assert api.patch(f'/v1/customers/{cid}', token=admin_key.token, json={'name': 'Zed'}).status_code == 200

    seen, cursor = [], None
    while True:
        page = feed(api, ro.token, '?limit=2' + (f'&after={cursor}' if cursor else ''))
        assert len(page['data']) <= 2
        seen += page['data']
        cursor = page['next_cursor']
        if cursor is None:
            break
    assert [e['type'] for e in seen] == ['customer.created'] * 3 + ['customer.updated']
    assert all(EVENT_ID.match(e['id']) and e['workspace_id'] == workspace.id and e['schema_version'] == 1 for e in seen)
    assert [e['id'] for e in seen] == sorted(e['id'] for e in seen)  # ids sort by creation
    for e in seen:  # the ids made in SQL have event.h's layout
        assert abs(id_time_ms(e['id']) - parse_time(e['occurred_at']).timestamp() * 1000) <= 1
    assert len({e['id'][-13:] for e in seen}) == len(seen)
    assert seen[3]['data']['changes'] == {'name': {'from': None, 'to': 'Zed'}}
    assert seen[0]['data']['changes']['email'] == {'from': None, 'to': 'feed0@example.com'}

    only = feed(api, ro.token, '?type=customer.updated')['data']
    assert [e['id'] for e in only] == [seen[3]['id']]


def test_feed_is_per_workspace_and_validated(api, admin_key, make_workspace, make_key):
    other = make_workspace()
    k = make_key(other.slug, 'agent')
    assert api.post('/v1/customers', token=admin_key.token, json={'email': 'mine@example.com'}).status_code in (200, 201)
    assert feed(api, k.token)['data'] == []
    assert_problem(api.get('/v1/events?type=ticket.exploded', token=k.token), 400, 'validation_failed')
    assert_problem(api.get('/v1/events?after=bogus', token=k.token), 400, 'validation_failed')
    assert_problem(api.get('/v1/events?colour=red', token=k.token), 400, 'validation_failed')


def test_ticket_events_written_in_the_same_transaction(api, pg, admin_key):
    r = api.post('/v1/tickets', token=admin_key.token, json={'subject': 'Help', 'customer': {'email': 'tx@example.com'}})
    assert r.status_code == 201, r.text
    t = r.json()
    events = feed(api, admin_key.token)['data']
    types = [e['type'] for e in events]
    assert types.count('ticket.created') == 1 and types.count('customer.created') == 1
    created = next(e for e in events if e['type'] == 'ticket.created')
    assert created['data']['id'] == t['id'] and created['data']['subject'] == 'Help'
    assert created['data']['changes']['subject'] == {'from': None, 'to': 'Help'}
    # a PATCH that changes nothing emits nothing; one that does emits ticket.updated
    assert api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'subject': 'Help'}).status_code == 200
    assert api.patch(f'/v1/tickets/{t["id"]}', token=admin_key.token, json={'status': 'open'}).status_code == 200
    upd = [e for e in feed(api, admin_key.token)['data'] if e['type'] == 'ticket.updated']
    assert len(upd) == 1 and upd[0]['data']['changes'] == {'status': {'from': 'new', 'to': 'open'}}


def test_metrics_have_outbox_families(api):
    text = api.get('/metrics').text
    for family in ('hdf_outbox_depth', 'hdf_outbox_oldest_age_seconds', 'hdf_webhook_attempts_total{outcome="failed"}',
                   'hdf_webhook_attempt_duration_seconds_bucket', 'hdf_webhook_in_flight', 'hdf_webhook_claims_total',
                   'hdf_webhook_worker_sleeps_total', 'hdf_webhook_worker_notified_total'):
        assert family in text, family
